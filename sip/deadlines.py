"""Process deadlines: the call limit (regional or discharge), follow-ups and actions that are overdue."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from organisations.models import OrganisationKind
from sip.lifecycle import ESTABLISHED
from sip.models import Action, ActionStatus, Sip, SipStatus

OPEN_ACTION_STATUSES = (ActionStatus.PLANERAD, ActionStatus.PAGAR)


def _region_limits(sip: Sip) -> tuple[int, int]:
    """The limits of the region taking part in the plan, else the national defaults."""
    call, discharge = settings.SIP_CALL_LIMIT_DAYS, settings.SIP_DISCHARGE_CALL_LIMIT_DAYS
    regions = [p.unit.organisation for p in sip.participations.select_related("unit__organisation")
               if p.unit.organisation.kind == OrganisationKind.REGION]
    if sip.lead_organisation.kind == OrganisationKind.REGION:
        regions.insert(0, sip.lead_organisation)
    for region in regions:
        call = region.sip_call_limit_days or call
        discharge = region.discharge_call_limit_days or discharge
        break
    return call, discharge


def call_due_at(sip: Sip) -> datetime.datetime | None:
    call_limit, discharge_limit = _region_limits(sip)
    if sip.discharge_track:
        if sip.discharge_ready_at is None:
            return None
        return sip.discharge_ready_at + datetime.timedelta(days=discharge_limit)
    start = datetime.datetime.combine(sip.need_identified_on, datetime.time(23, 59),
                                      tzinfo=timezone.get_current_timezone())
    return start + datetime.timedelta(days=call_limit)


def overdue_action_exists(today=None) -> Exists:
    today = today or timezone.localdate()
    return Exists(Action.objects.filter(sip=OuterRef("pk"), status__in=OPEN_ACTION_STATUSES, ends_on__lt=today))


def call_overdue_q(now=None) -> Q:
    now = now or timezone.now()
    return Q(status=SipStatus.INITIERAD, call_sent_at__isnull=True, call_due_at__lt=now)


def follow_up_overdue_q(today=None) -> Q:
    today = today or timezone.localdate()
    return Q(status__in=ESTABLISHED, follow_up_on__lt=today)


def annotate_flags(queryset: QuerySet, today=None) -> QuerySet:
    return queryset.annotate(has_overdue_action=overdue_action_exists(today))


def overdue(queryset: QuerySet) -> QuerySet:
    return annotate_flags(queryset).filter(call_overdue_q() | follow_up_overdue_q() | Q(has_overdue_action=True))


def flags(sip: Sip, now=None) -> dict:
    """The deadline state of one plan, as shown in lists and on the plan page."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    call_overdue = bool(sip.status == SipStatus.INITIERAD and sip.call_sent_at is None
                        and sip.call_due_at and sip.call_due_at < now)
    call_late = bool(sip.call_sent_at and sip.call_due_at and sip.call_sent_at > sip.call_due_at)
    follow_up_late = follow_up_overdue(sip, today)
    has_overdue_action = getattr(sip, "has_overdue_action", None)
    if has_overdue_action is None:
        has_overdue_action = sip.actions.filter(status__in=OPEN_ACTION_STATUSES, ends_on__lt=today).exists()
    return {
        "call_due_at": sip.call_due_at,
        "call_overdue": call_overdue,
        "call_sent_late": call_late,
        "follow_up_overdue": follow_up_late,
        "has_overdue_action": bool(has_overdue_action),
        "overdue": call_overdue or follow_up_late or bool(has_overdue_action),
    }


def follow_up_overdue(sip: Sip, today=None) -> bool:
    today = today or timezone.localdate()
    return bool(sip.status in ESTABLISHED and sip.follow_up_on and sip.follow_up_on < today)


def action_overdue(action: Action, today=None) -> bool:
    today = today or timezone.localdate()
    return bool(action.status in OPEN_ACTION_STATUSES and action.ends_on and action.ends_on < today)
