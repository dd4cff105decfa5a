"""Listens to the plan: a held meeting invites the attending person and närstående (in a task)."""

from django.dispatch import receiver

from sip.signals import meeting_held


@receiver(meeting_held)
def invite_after_meeting(sender, meeting_id, actor_id, **kwargs):
    from sip.delaktighet.tasks import invite_after_meeting as task

    task.delay(meeting_id)
