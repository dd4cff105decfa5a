"""Reminders to the counterpart before its deadlines and escalation to the forum's processledare after them.

Exactly one notice per deviation and step: the Notice row (unique) is claimed, the e-mail sent and the row
marked sent in one transaction (`once.held`); a worker killed mid-send leaves no claim, so the redelivered task
sends it. A committed claim left unsent is taken over after STALE_CLAIM. E-mails carry a
link and the deadline, never the report's text or anyone's name.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from avvikelser.models import ContactPerson, Deviation, ForumMember, ForumRole, Notice, State
from organisations import once

logger = logging.getLogger(__name__)
STALE_CLAIM = once.STALE_CLAIM
ANSWER_REMINDER_BEFORE = datetime.timedelta(days=7)
ACK_REMINDER_BEFORE = datetime.timedelta(days=1)

STEPS = {
    "ack_reminder": gettext_lazy("En samverkansavvikelse mot er organisation behöver tas emot senast %(due)s."),
    "answer_reminder": gettext_lazy("En samverkansavvikelse mot er organisation behöver besvaras senast %(due)s."),
    "ack_escalation": gettext_lazy("En samverkansavvikelse har inte tagits emot inom tidsgränsen (%(due)s)."),
    "answer_escalation": gettext_lazy("En samverkansavvikelse har inte besvarats inom tidsgränsen (%(due)s)."),
}


def due_steps(now=None) -> list[tuple[Deviation, str]]:
    now = now or timezone.now()
    found = []
    queryset = Deviation.objects.filter(state__in=[State.INKOMMEN, State.MOTTAGEN]).select_related("forum")
    ack = queryset.filter(state=State.INKOMMEN, acknowledge_due_at__isnull=False)
    for deviation in ack.filter(acknowledge_due_at__lte=now + ACK_REMINDER_BEFORE, acknowledge_due_at__gt=now):
        found.append((deviation, "ack_reminder"))
    for deviation in ack.filter(acknowledge_due_at__lte=now):
        found.append((deviation, "ack_escalation"))
    answer = queryset.filter(answer_due_at__isnull=False)
    for deviation in answer.filter(answer_due_at__lte=now + ANSWER_REMINDER_BEFORE, answer_due_at__gt=now):
        found.append((deviation, "answer_reminder"))
    for deviation in answer.filter(answer_due_at__lte=now):
        found.append((deviation, "answer_escalation"))
    return found


def recipients(deviation: Deviation, step: str) -> list[str]:
    if step.endswith("escalation"):
        users = ForumMember.objects.filter(forum_id=deviation.forum_id, role=ForumRole.PROCESSLEDARE)
        emails = users.values_list("user__email", flat=True)
    else:
        # Like the deviation gate: a designated contact who no longer works there gets no notice.
        organisation_id = deviation.counterpart_organisation_id
        emails = ContactPerson.objects.filter(
            organisation_id=organisation_id,
            user__is_active=True,
            user__memberships__active=True,
            user__memberships__unit__active=True,
            user__memberships__unit__organisation_id=organisation_id,
            user__memberships__unit__organisation__active=True,
        ).values_list("user__email", flat=True)
    return sorted({e for e in emails if e})


def send_due_notices(now=None) -> int:
    sent = 0
    for deviation, step in due_steps(now):
        emails = recipients(deviation, step)
        if not emails:
            continue
        with once.held(Notice, deviation=deviation, step=step) as notice:
            if notice is None:
                continue
            due = deviation.acknowledge_due_at if step.startswith("ack") else deviation.answer_due_at
            with override(settings.LANGUAGE_CODE):
                body = "\n\n".join([
                    str(STEPS[step]) % {"due": timezone.localtime(due).strftime("%Y-%m-%d")},
                    _("Öppna avvikelsen: %(link)s") % {"link": f"{settings.SITE_URL}/avvikelser/{deviation.pk}/"},
                ])
                send_mail(_("Samverkansavvikelse att hantera"), body, settings.DEFAULT_FROM_EMAIL, emails)
        sent += 1
    logger.info("sent %d deviation notices", sent)
    return sent


