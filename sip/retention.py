"""Gallring rules for plans and persons (registered in organisations.retention)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from organisations.retention import DELETE, Rule, cutoff, register

BATCH = 500  # plans per delete: bounded statements (and SQLite's parameter limit) however large the backlog


def closed_sips_due(now):
    from sip.models import Sip, SipStatus

    before = cutoff("SIP_CLOSED_YEARS", now)
    return Sip.objects.filter(
        Q(closed_on__lt=before.date()) | Q(closed_on__isnull=True, updated_at__lt=before),
        status__in=[SipStatus.AVSLUTAD, SipStatus.AVBRUTEN],
    )


def delete_sips(queryset) -> int:
    """A plan with everything under it. Questionnaire rows protect their meeting, so they go first; the
    deviations that named the plan keep their counts and lose the link (SET_NULL); the audit log stays."""
    from sip.delaktighet.models import Invitation, Response
    from sip.models import Sip

    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        Response.objects.filter(invitation__sip_id__in=batch).delete()
        Invitation.objects.filter(sip_id__in=batch).delete()
        Sip.objects.filter(pk__in=batch).delete()
    return len(ids)


def persons_without_plan_due(now):
    from sip.models import Person, PersonLink, Sip

    before = cutoff("PERSON_WITHOUT_PLAN_DAYS", now)
    recent_link = PersonLink.objects.filter(person=OuterRef("pk"), created_at__gte=before)
    return Person.objects.filter(created_at__lt=before).exclude(
        Exists(Sip.objects.filter(person=OuterRef("pk")))).exclude(Exists(recent_link))


def reminder_logs_due(now):
    from sip.models import ReminderLog

    return ReminderLog.objects.filter(day__lt=cutoff("REMINDER_LOG_DAYS", now).date())


register(Rule(
    key="sip.closed_plans",
    record_type="sip.sip",
    disposition=DELETE,
    period="SIP_CLOSED_YEARS",
    description=_("Avslutade och avbrutna SIP:ar med mål, insatser, möten, samtycken, historik och enkätsvar, "
                  "räknat från avslutsdatum."),
    legal_basis="SoL (2025:400) / SoLF: gallring av personakt; patientdatalagen (2008:355) 3 kap 17 §",
    due=closed_sips_due,
    apply=delete_sips,
    order=10,
))

register(Rule(
    key="sip.persons_without_plan",
    record_type="sip.person",
    disposition=DELETE,
    period="PERSON_WITHOUT_PLAN_DAYS",
    description=_("Personuppgifter om personer som inte (längre) har någon plan och som ingen enhet slagit upp "
                  "under perioden."),
    legal_basis="GDPR art. 5.1 e (lagringsminimering)",
    due=persons_without_plan_due,
    order=20,
))

register(Rule(
    key="sip.reminder_logs",
    record_type="sip.reminderlog",
    disposition=DELETE,
    period="REMINDER_LOG_DAYS",
    description=_("Bokföring av skickade påminnelser (idempotensnycklar)."),
    legal_basis="GDPR art. 5.1 e (lagringsminimering)",
    due=reminder_logs_due,
    order=80,
))
