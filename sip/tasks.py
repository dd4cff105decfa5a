"""Celery tasks for plans: thin wrappers over the domain, ids only, safe to run twice."""

from celery import shared_task


@shared_task(acks_late=True)
def send_sip_reminders() -> int:
    from sip.reminders import send_due_reminders

    return send_due_reminders()


@shared_task(acks_late=True)
def refresh_expired_consents() -> int:
    from sip.services import refresh_expired_consents as refresh

    return refresh()
