"""Delivery of answer links; arguments are ids only — never tokens or personal data."""

from celery import shared_task


@shared_task(acks_late=True)
def deliver_invitation(invitation_id: int, reminder: bool = False) -> bool:
    from sip.delaktighet.services import deliver

    return deliver(invitation_id, reminder)


@shared_task(acks_late=True)
def send_invitation_reminders() -> int:
    from sip.delaktighet.services import deliver, due_reminders

    return sum(1 for pk in due_reminders() if deliver(pk, reminder=True))


@shared_task(acks_late=True)
def invite_after_meeting(meeting_id: int) -> int:
    from sip.delaktighet.services import invite_attendees

    return len(invite_attendees(meeting_id))
