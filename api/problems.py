"""RFC 9457 problem details for every API error: `type`, `title`, `status`, `detail`, `errors` per field."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, DataError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from config.logfilters import log_exception_without_message
from organisations.errors import DomainError

logger = logging.getLogger("samverkan.api")

PROBLEM_CONTENT_TYPE = "application/problem+json"
RETRY_AFTER_SECONDS = 5
# serialization_failure, deadlock_detected: a transaction PostgreSQL rolled back, safe to send again.
WRITE_CONFLICT_STATES = frozenset({"40001", "40P01"})

_TITLES = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    406: "Not Acceptable", 409: "Conflict", 410: "Gone", 412: "Precondition Failed", 413: "Content Too Large",
    415: "Unsupported Media Type", 428: "Precondition Required", 429: "Too Many Requests",
    500: "Internal Server Error", 503: "Service Unavailable",
}


def _log_without_message(what: str, exc: BaseException) -> None:
    log_exception_without_message(logger, what, exc)


def problem_type(code: str) -> str:
    return f"urn:samverkan:problem:{code}"


def problem_body(status: int, detail: str, *, code: str | None = None, errors: dict | None = None,
                 instance: str | None = None, **extra) -> dict:
    body = {
        "type": problem_type(code) if code else "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": str(detail),
    }
    if errors:
        body["errors"] = errors
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


def problem_response(status: int, detail: str, **kwargs) -> JsonResponse:
    """A plain Django response, for places outside DRF (URL not found, /readyz, handler500)."""
    headers = kwargs.pop("headers", None)
    return JsonResponse(problem_body(status, detail, **kwargs), status=status,
                        content_type=PROBLEM_CONTENT_TYPE, headers=headers,
                        json_dumps_params={"ensure_ascii": False})


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure as {"field.sub.0": ["message", ...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "non_field_errors" if key in ("non_field_errors", "__all__") and not prefix else (
                f"{prefix}.{key}" if prefix else str(key))
            for field, messages in flatten_errors(value, name).items():
                out.setdefault(field, []).extend(messages)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out.setdefault(prefix or "non_field_errors", []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                for field, messages in flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)).items():
                    out.setdefault(field, []).extend(messages)
    else:
        out.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return out


def _drf_code(exc: drf.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def exception_handler(exc, context):
    request = context.get("request")
    instance = request.path if request is not None else None
    headers: dict[str, str] = {}

    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = drf.ValidationError(errors)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()

    if isinstance(exc, drf.ValidationError):
        status, code = 400, "validation_error"
        errors = flatten_errors(exc.detail)
        detail = _("Uppgifterna är ogiltiga. Se felen per fält.")
        body = problem_body(status, detail, code=code, errors=errors, instance=instance)
    elif isinstance(exc, DomainError):
        body = problem_body(exc.status, exc.message, code=exc.code, instance=instance, **exc.problem_members())
        status = exc.status
        current = getattr(exc, "current", None)
        view = context.get("view")
        if current is not None and view is not None:
            # 412: the state as it is now, so the client can merge instead of losing its edit.
            body["current"] = view.get_serializer(current).data
            if getattr(current, "version", None) is not None:
                headers["ETag"] = f'"{current.version}"'
    elif isinstance(exc, drf.APIException):
        status = exc.status_code
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        detail = exc.detail if isinstance(exc.detail, str) else _("Begäran kunde inte utföras.")
        body = problem_body(status, detail, code=_drf_code(exc), instance=instance)
    elif isinstance(exc, RequestDataTooBig):
        status = 413
        body = problem_body(status, _("Begäran är för stor."), code="too_large", instance=instance)
    elif isinstance(exc, SuspiciousOperation | DataError | OverflowError):
        # DataError: SQLSTATE class 22, a value the database cannot take (out of range, NUL, bad encoding);
        # OverflowError: an integer too large for the driver. Both come from the input, never from the server.
        status = 400
        body = problem_body(status, _("Begäran kunde inte tolkas."), code="bad_request", instance=instance)
    elif isinstance(exc, OperationalError) and getattr(exc.__cause__, "sqlstate", None) in WRITE_CONFLICT_STATES:
        # A deadlock or serialization failure: PostgreSQL rolled this transaction back, nothing was written, and
        # the same request sent again normally goes through (docs/operations.md, "Databasavbrott").
        logger.warning("write conflict: sqlstate %s", exc.__cause__.sqlstate)
        status = 409
        headers["Retry-After"] = "1"
        body = problem_body(status, _("Någon annan ändrade samtidigt. Försök igen."), code="write_conflict",
                            instance=instance)
    elif isinstance(exc, OperationalError | InterfaceError):
        # The database is away (restart, network): tell the client to retry instead of failing hard.
        logger.warning("database unavailable: %s", type(exc).__name__)
        status = 503
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        body = problem_body(status, _("Tjänsten är tillfälligt otillgänglig. Försök igen om en stund."),
                            code="unavailable", instance=instance)
    elif isinstance(exc, DatabaseError):
        _log_without_message("database error", exc)
        status = 500
        body = problem_body(status, _("Ett oväntat fel inträffade."), code="server_error", instance=instance)
    else:
        _log_without_message("unhandled API error", exc)
        status = 500
        body = problem_body(status, _("Ett oväntat fel inträffade."), code="server_error", instance=instance)

    set_rollback()
    response = Response(body, status=status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    return response


@csrf_exempt  # changes nothing; without it a POST to an unknown API path got the HTML CSRF page
def api_not_found(request, *args, **kwargs):
    return problem_response(404, _("Resursen finns inte."), code="not_found", instance=request.path)


def handler404(request, exception=None):
    if request.path.startswith("/api/"):
        return api_not_found(request)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception, template_name="404.html")


def handler500(request):
    if request.path.startswith("/api/"):
        return problem_response(500, _("Ett oväntat fel inträffade."), code="server_error")
    from django.views.defaults import server_error

    return server_error(request, template_name="500.html")
