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
