"""Liveness and readiness probes for load balancers and orchestrators."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils.translation import gettext as _

from api.problems import RETRY_AFTER_SECONDS, problem_response


def healthz(request):
    """The process is alive; says nothing about its dependencies."""
    return JsonResponse({"status": "ok"})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True
    except Exception:
        connection.close_if_unusable_or_obsolete()
        return False


def _broker_ok() -> bool | None:
    if not settings.CELERY_BROKER_URL or settings.CELERY_BROKER_URL.startswith("memory://"):
        return None  # tasks run eagerly: there is no broker to reach
    from config.celery import app

    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


def readyz(request):
    """Ready to serve: the database and (when configured) the broker answer. 503 otherwise."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    failing = [name for name, ok in checks.items() if ok is False]
    if failing:
        return problem_response(
            503, _("Tjänsten är inte redo: %(parts)s svarar inte.") % {"parts": ", ".join(failing)},
            code="not_ready", checks=checks, headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return JsonResponse({"status": "ready", "checks": checks})
