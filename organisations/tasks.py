"""Periodic housekeeping for permissions."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def clean_orphan_object_permissions() -> int:
    """Remove generic-table grants whose object is gone (direct-FK grants cascade with their object)."""
    from guardian.utils import clean_orphan_obj_perms

    removed = clean_orphan_obj_perms()
    logger.info("removed %d orphaned object permissions", removed)
    return removed


@shared_task(acks_late=True)
def apply_retention() -> dict:
    """Gallring: apply every retention rule (organisations/retention.py); counts per rule, no personal data."""
    from organisations import retention

    return {row["rule"]: row["count"] for row in retention.run()}


@shared_task(acks_late=True)
def purge_expired_tokens() -> int:
    """Delete expired API tokens (the request path only checks the presented token; see api/authentication.py)."""
    from django.utils import timezone
    from knox.models import AuthToken

    removed, _ = AuthToken.objects.filter(expiry__lt=timezone.now()).delete()
    logger.info("removed %d expired API tokens", removed)
    return removed
