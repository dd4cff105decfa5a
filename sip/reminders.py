"""Daily reminders to the staff responsible for overdue calls, follow-ups and actions.

At most one reminder per item, recipient and day: a ReminderLog row is claimed (unique key), the e-mail
sent and the row marked sent in one transaction (`once.held`), so a second run the same day sends nothing
and a worker killed mid-send leaves no claim: the redelivered task sends it. A committed claim left unsent
(by an older version) is retried after `STALE_CLAIM` by the next run. Messages name no personal data;
they link to the plan.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from organisations import once
from sip import deadlines
from sip.models import Action, ReminderLog, Sip

logger = logging.getLogger(__name__)
STALE_CLAIM = once.STALE_CLAIM


@dataclass(frozen=True)
class Due:
    kind: str
    object_id: int
    sip_id: int
    recipient_id: int


def _recipient(sip: Sip) -> int | None:
    return sip.coordinator_id or sip.created_by_id


def due_items(now=None) -> list[Due]:
    now = now or timezone.now()
    today = timezone.localdate(now)
    items: list[Due] = []
    for sip in Sip.objects.filter(deadlines.call_overdue_q(now)).only("id", "coordinator_id", "created_by_id"):
        if (recipient := _recipient(sip)) is not None:
            items.append(Due("call_overdue", sip.pk, sip.pk, recipient))
    for sip in Sip.objects.filter(deadlines.follow_up_overdue_q(today)).only("id", "coordinator_id",
                                                                            "created_by_id"):
        if (recipient := _recipient(sip)) is not None:
            items.append(Due("follow_up_overdue", sip.pk, sip.pk, recipient))
    overdue_actions = (Action.objects.filter(status__in=deadlines.OPEN_ACTION_STATUSES, ends_on__lt=today,
                                             sip__status__in=("upprattad", "uppfoljning", "kallad", "initierad"))
                       .select_related("sip").only("id", "sip_id", "responsible_user_id", "sip__coordinator_id",
                                                   "sip__created_by_id"))
    for action in overdue_actions:
        recipient = action.responsible_user_id or _recipient(action.sip)
        if recipient is not None:
            items.append(Due("action_overdue", action.pk, action.sip_id, recipient))
    return items


MESSAGES = {
    "call_overdue": gettext_lazy("Kallelsen till en SIP har inte skickats inom tidsgränsen."),
    "follow_up_overdue": gettext_lazy("Uppföljningen av en SIP är försenad."),
    "action_overdue": gettext_lazy("En insats i en SIP har passerat sitt slutdatum utan att vara klar."),
}


def _send(item: Due, email: str) -> None:
    with override(settings.LANGUAGE_CODE):
        link = f"{settings.SITE_URL}/sip/{item.sip_id}/"
        body = "\n\n".join([
            str(MESSAGES[item.kind]),
            _("Öppna planen för att se vad som behöver göras: %(link)s") % {"link": link},
            _("Det här är en automatisk påminnelse från Samverkan. Du får högst en påminnelse per dag och ärende."),
        ])
        send_mail(_("Påminnelse från Samverkan"), body, settings.DEFAULT_FROM_EMAIL, [email])


def send_due_reminders(now=None) -> int:
    from organisations.models import User

    now = now or timezone.now()
    day = timezone.localdate(now)
    items = due_items(now)
    emails = dict(User.objects.filter(pk__in={i.recipient_id for i in items}, is_active=True)
                  .exclude(email="").values_list("pk", "email"))
    sent = 0
    for item in items:
        email = emails.get(item.recipient_id)
        if not email:
            continue
        with once.held(ReminderLog, kind=item.kind, object_id=item.object_id, recipient_id=item.recipient_id,
                       day=day) as log:
            if log is None:
                continue
            _send(item, email)  # marked sent when the block ends, in the claim's transaction
        sent += 1
    logger.info("sent %d SIP reminders", sent)
    return sent
