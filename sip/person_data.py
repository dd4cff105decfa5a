"""The person's rights over their data: registerutdrag (GDPR art. 15) and radering (art. 17).

Who may act: an org_admin, for the organisations they administer (each huvudman is personuppgiftsansvarig for
its own processing, so each answers for what it holds). An organisation *holds* a person when one of its units
has the person in its records (PersonLink) or takes part, with access, in one of the person's plans.

What the extract contains is what the organisation may see through the access gate: the person record; the
plans its units take part in with the person's consent (sip.access grants), with goals, actions, meetings,
consents and change history; for a plan whose consent to the organisation was withdrawn or ran out, only the
plan's id and the organisation's own consent records (the access is cut: the plan itself is extracted by those
still taking part with consent); the person's own questionnaire answers that they chose to share with staff (an
unshared answer is counted, not shown — staff never read it); the access-log entries about the person written
by the organisation's staff; and deviations linked to those plans where the organisation reports or answers,
as metadata only (deviation reports are de-identified by rule: what happened, not who). Another organisation's
plans, logs and reports are extracted by that organisation. Other people's data (närstående, other persons)
is left out: participants are named only when they are the person.

Erasure removes the person record (and the units' links to it) when no rule keeps it: no plan of theirs
remains (an open plan, or a closed plan inside its retention period, blocks it) and no other organisation
holds the person. The access log stays: entries keep the person's id and hold no personal data.
"""

from __future__ import annotations

import re

from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from organisations import access, audit, retention
from organisations.errors import Conflict, Forbidden, NotFound
from organisations.models import AuditAction, AuditEntry, Organisation, Unit
from sip import identifiers
from sip.lifecycle import OPEN
from sip.models import (
    Action,
    Consent,
    Meeting,
    Participant,
    ParticipantKind,
    Person,
    PersonLink,
    Sip,
    SipChange,
    SipGroupObjectPermission,
    SipUnit,
)

FORMAT_VERSION = 1


class ErasureBlocked(Conflict):
    """The rules that keep the person record (erasure_blockers), each {"rule", "detail"[, "until"]}."""

    default_message = gettext_lazy("Personen kan inte raderas.")

    def __init__(self, blockers: list[dict]):
        super().__init__(" ".join(str(b["detail"]) for b in blockers), code="erasure_blocked")
        self.blockers = blockers

    def problem_members(self) -> dict:
        def member(blocker):
            kept = {"rule": blocker["rule"], "detail": str(blocker["detail"])}
            return {**kept, "until": blocker["until"]} if "until" in blocker else kept
        return {"blockers": [member(b) for b in self.blockers]}


def canonical_identifier(raw: str) -> str:
    """The stored form of a personnummer, samordningsnummer or reserve number; ValidationError if none."""
    if re.fullmatch(r"\s*(\d{6}|\d{8})[-+ ]?\d{4}\s*", raw or ""):
        try:
            return identifiers.normalise(raw)[1]
        except ValidationError as exc:
            raise ValidationError({"personnummer": exc.messages}) from None
    for kind in (None, "reservnummer"):
        try:
            return identifiers.normalise(raw, kind)[1]
        except ValidationError:
            continue
    raise ValidationError({"personnummer": _("Ogiltigt personnummer, samordningsnummer eller reservnummer.")})


def _organisations(user) -> set[int]:
    orgs = access.admin_organisation_ids(user)
    if not orgs:
        raise Forbidden(code="not_org_admin")
    return orgs


def _visible_sip_ids(person: Person, organisation_ids: set[int]) -> list[int]:
    """The person's plans that a unit of these organisations may see (the gate's grant rows)."""
    view = Permission.objects.get(content_type__app_label="sip", codename="view_sip")
    groups = Unit.objects.filter(organisation_id__in=organisation_ids).values("group_id")
    return sorted(set(SipGroupObjectPermission.objects.filter(
        content_object__person=person, permission=view, group_id__in=groups,
    ).values_list("content_object_id", flat=True)))


def _held_person(user, raw_identifier: str) -> tuple[Person, set[int], list[int]]:
    organisation_ids = _organisations(user)
    person = Person.objects.filter(identifier=canonical_identifier(raw_identifier)).first()
    if person is None:
        raise NotFound(_("Ingen person med det numret finns hos din organisation."))
    sip_ids = _visible_sip_ids(person, organisation_ids)
    linked = PersonLink.objects.filter(person=person, unit__organisation_id__in=organisation_ids).exists()
    if not linked and not sip_ids:
        raise NotFound(_("Ingen person med det numret finns hos din organisation."))
    return person, organisation_ids, sip_ids


def _acting_organisation(user, organisation_ids: set[int], person: Person) -> int:
    linked = set(PersonLink.objects.filter(person=person, unit__organisation_id__in=organisation_ids)
                 .values_list("unit__organisation_id", flat=True))
    return min(linked or organisation_ids)


# --- registerutdrag ---------------------------------------------------------------------------------------

def _date(value):
    return value.isoformat() if value else None


def _person(person: Person) -> dict:
    return {
        "id": person.pk,
        "identifier_kind": person.identifier_kind,
        "identifier": identifiers.display(person.identifier_kind, person.identifier),
        "first_name": person.first_name,
        "last_name": person.last_name,
        "gender": person.gender,
        "birth_year": person.birth_year,
        "protected_identity": person.protected_identity,
        "phone": person.phone,
        "email": person.email,
        "address": person.address,
        "postal_code": person.postal_code,
        "city": person.city,
        "preferred_channel": person.preferred_channel,
        "registered_by_unit": person.registered_by_unit.name,
        "registered_by_organisation": person.registered_by_unit.organisation.name,
        "created_at": _date(person.created_at),
        "updated_at": _date(person.updated_at),
    }


def _staff(user) -> str | None:
    return (user.get_full_name() or user.username) if user else None


def _participant(participant: Participant) -> dict:
    row = {"kind": participant.kind, "attended": participant.attended}
    if participant.kind == ParticipantKind.PERSON:
        row["name"] = participant.name
    elif participant.kind == ParticipantKind.STAFF:
        row["name"] = _staff(participant.user)
    elif participant.kind == ParticipantKind.UNIT and participant.unit:
        row["unit"] = participant.unit.name
    elif participant.kind == ParticipantKind.OTHER:
        row["organisation"] = participant.organisation_text
    return row


def _sip(sip: Sip) -> dict:
    return {
        "id": sip.pk,
        "status": sip.status,
        "lead_organisation": sip.lead_organisation.name,
        "initiating_unit": sip.initiating_unit.name,
        "coordinator": _staff(sip.coordinator),
        "reason": sip.reason,
        "what_matters": sip.what_matters,
        "own_contribution": sip.own_contribution,
        "closure_reason": sip.closure_reason,
        "closure_note": sip.closure_note,
        "need_identified_on": _date(sip.need_identified_on),
        "call_sent_at": _date(sip.call_sent_at),
        "established_on": _date(sip.established_on),
        "follow_up_on": _date(sip.follow_up_on),
        "closed_on": _date(sip.closed_on),
        "created_at": _date(sip.created_at),
        "units": [{"unit": p.unit.name, "organisation": p.unit.organisation.name, "contact": _staff(p.contact)}
                  for p in sip.participations.all()],
        "consents": [_consent(c) for c in sip.consents.all()],
        "goals": [{"id": g.pk, "kind": g.kind, "horizon": g.horizon, "text": g.text, "target_on": _date(g.target_on),
                   "status": g.status, "evaluation": g.evaluation} for g in sip.goals.all()],
        "actions": [{"id": a.pk, "title": a.title, "description": a.description,
                     "responsible_organisation": a.responsible_organisation.name if a.responsible_organisation
                     else None,
                     "responsible_unit": a.responsible_unit.name if a.responsible_unit else None,
                     "responsible_user": _staff(a.responsible_user), "responsible_other": a.responsible_other,
                     "person_does": a.person_does, "starts_on": _date(a.starts_on), "ends_on": _date(a.ends_on),
                     "status": a.status} for a in sip.actions.all()],
        "meetings": [{"id": m.pk, "kind": m.kind, "starts_at": _date(m.starts_at), "ends_at": _date(m.ends_at),
                      "location": m.location, "status": m.status, "minutes": m.minutes,
                      "participants": [_participant(p) for p in m.participants.all()]} for m in sip.meetings.all()],
        "history": [{"at": _date(c.at), "object_type": c.object_type, "object_id": c.object_id,
                     "action": c.action, "field": c.field, "old": c.old, "new": c.new} for c in sip.changes.all()],
    }


def _consent(c: Consent) -> dict:
    return {"organisation": c.organisation.name, "given_at": _date(c.given_at), "method": c.method, "scope": c.scope,
            "valid_until": _date(c.valid_until), "withdrawn_at": _date(c.withdrawn_at)}


def _plans_without_access(person: Person, organisation_ids: set[int], sip_ids: list[int]) -> list[dict]:
    """The person's plans the organisations once had consent for but no longer see (withdrawn or run out): the
    plan's id and the organisations' own consent records, nothing of the plan itself — withdrawal cut the access,
    and what the plan holds is extracted by the organisations that still take part with consent. A plan an
    organisation never had consent for is not named at all."""
    consents = (Consent.objects.filter(sip__person=person, organisation_id__in=organisation_ids)
                .exclude(sip_id__in=sip_ids).select_related("organisation").order_by("sip_id", "id"))
    plans: dict[int, list[dict]] = {}
    for consent in consents:
        plans.setdefault(consent.sip_id, []).append(_consent(consent))
    return [{"sip": sip_id, "consents": rows} for sip_id, rows in plans.items()]


def _answers(sip_ids: list[int]) -> tuple[list[dict], int]:
    from sip.delaktighet.models import Answer, Response

    responses = (Response.objects.filter(invitation__sip_id__in=sip_ids,
                                         invitation__participant__kind=ParticipantKind.PERSON)
                 .select_related("invitation", "version")
                 .prefetch_related(Prefetch("answers", queryset=Answer.objects.select_related("item")
                                            .order_by("item__order")))
                 .order_by("submitted_at", "id"))
    shared, unshared = [], 0
    for response in responses:
        if not response.share_with_staff:
            unshared += 1
            continue
        shared.append({
            "sip": response.invitation.sip_id, "submitted_at": _date(response.submitted_at),
            "meeting_held_on": _date(response.meeting_held_on), "questionnaire": str(response.version.title),
            "answers": [{"question": a.item.text, "value": a.value_int if a.value_int is not None else a.value_text}
                        for a in response.answers.all()],
        })
    return shared, unshared


def _audit_entries(person: Person, organisation_ids: set[int]) -> list[dict]:
    entries = (AuditEntry.objects.filter(person_id=person.pk, organisation_id__in=organisation_ids)
               .select_related("actor", "unit", "organisation").order_by("at", "id"))
    return [{"at": _date(e.at), "action": e.action, "object_type": e.object_type, "object_id": e.object_id,
             "user": _staff(e.actor), "role": e.role, "unit": e.unit.name if e.unit else None,
             "organisation": e.organisation.name if e.organisation else None} for e in entries]


def _deviations(sip_ids: list[int], organisation_ids: set[int]) -> list[dict]:
    from avvikelser.models import Deviation, State

    deviations = (Deviation.objects.filter(sip_id__in=sip_ids)
                  .filter(Q(reporting_organisation_id__in=organisation_ids)
                          | Q(counterpart_organisation_id__in=organisation_ids))
                  .exclude(state=State.UTKAST)
                  .select_related("category", "reporting_organisation", "counterpart_organisation")
                  .order_by("occurred_on", "id"))
    # Metadata only: the report is about what happened between organisations, not about the person.
    return [{"id": d.pk, "sip": d.sip_id, "occurred_on": _date(d.occurred_on), "category": d.category.name,
             "reporting_organisation": d.reporting_organisation.name,
             "counterpart_organisation": d.counterpart_organisation.name, "state": d.state,
             "consequence": d.consequence} for d in deviations]


def registerutdrag(user, raw_identifier: str, *, output_format: str = "json") -> dict:
    """Everything the caller's organisations hold about one person, as a plain dict (JSON-ready). Audited."""
    person, organisation_ids, sip_ids = _held_person(user, raw_identifier)
    person = Person.objects.select_related("registered_by_unit", "registered_by_unit__organisation").get(pk=person.pk)
    sips = (Sip.objects.filter(pk__in=sip_ids)
            .select_related("lead_organisation", "initiating_unit", "coordinator")
            .prefetch_related(
                Prefetch("participations", queryset=SipUnit.objects.select_related("unit__organisation", "contact")
                         .order_by("id")),
                Prefetch("consents", queryset=Consent.objects.select_related("organisation").order_by("id")),
                "goals",
                Prefetch("actions", queryset=Action.objects.select_related(
                    "responsible_organisation", "responsible_unit", "responsible_user").order_by("starts_on", "id")),
                Prefetch("meetings", queryset=Meeting.objects.order_by("starts_at", "id").prefetch_related(
                    Prefetch("participants", queryset=Participant.objects.select_related("user", "unit")
                             .order_by("id")))),
                Prefetch("changes", queryset=SipChange.objects.order_by("at", "id")),
            ).order_by("id"))
    answers, unshared = _answers(sip_ids)
    acting = _acting_organisation(user, organisation_ids, person)
    with transaction.atomic():
        # The extract is itself logged first, so it lists its own making.
        audit.record(user, AuditAction.EXPORT, person, person_id=person.pk, organisation_id=acting,
                     fields=["registerutdrag", output_format])
        data = {
            "format_version": FORMAT_VERSION,
            "created_at": timezone.now().isoformat(),
            "organisations": sorted(Organisation.objects.filter(pk__in=organisation_ids)
                                    .values_list("name", flat=True)),
            "person": _person(person),
            "sips": [_sip(sip) for sip in sips],
            "plans_without_access": _plans_without_access(person, organisation_ids, sip_ids),
            "delaktighet_answers": answers,
            "delaktighet_answers_not_shared": unshared,
            "deviations": _deviations(sip_ids, organisation_ids),
            "access_log": _audit_entries(person, organisation_ids),
        }
    return data


# --- radering ---------------------------------------------------------------------------------------------

def erasure_blockers(person: Person, organisation_ids: set[int], now=None) -> list[dict]:
    """The rules that keep the person record, each as {"rule", "detail"} without personal data."""
    now = now or timezone.now()
    blockers = []
    sips = list(Sip.objects.filter(person=person).values_list("status", "closed_on", "updated_at"))
    if any(status in OPEN for status, _closed, _updated in sips):
        blockers.append({"rule": "active_plan",
                         "detail": _("Personen har en pågående SIP. Avsluta eller avbryt planen först.")})
    retained_until = []
    for status, closed_on, updated in sips:
        if status in OPEN:
            continue
        closed = closed_on or timezone.localtime(updated).date()
        retained_until.append(retention.years_before(closed, -retention.period("SIP_CLOSED_YEARS")))
    if retained_until:
        until = max(retained_until)
        if until >= now.date():
            blockers.append({"rule": "retention_obligation", "until": until.isoformat(),
                             "detail": _("En avslutad SIP ska bevaras till och med %(date)s (gallringsregel "
                                         "sip.closed_plans).") % {"date": until.isoformat()}})
        else:
            blockers.append({"rule": "pending_disposal",
                             "detail": _("En avslutad SIP har passerat sin bevarandetid och gallras vid nästa "
                                         "gallringskörning; radera därefter.")})
    others = PersonLink.objects.filter(person=person).exclude(unit__organisation_id__in=organisation_ids)
    if others.exists():
        blockers.append({"rule": "held_by_other_organisation",
                         "detail": _("Personen finns även hos en annan organisation, som själv ansvarar för "
                                     "sina uppgifter.")})
    return blockers


def erase_person(user, raw_identifier: str) -> dict:
    """Delete the person record when no rule keeps it; ErasureBlocked (409) naming the rules otherwise."""
    person, organisation_ids, _sip_ids = _held_person(user, raw_identifier)
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        blockers = erasure_blockers(person, organisation_ids)
        if blockers:
            raise ErasureBlocked(blockers)
        acting = _acting_organisation(user, organisation_ids, person)
        person_id = person.pk
        audit.record(user, AuditAction.DELETE, person, person_id=person_id, organisation_id=acting,
                     fields=["radering"])
        person.delete()
    return {"erased": True, "person_id": person_id}


def erasure_check(user, raw_identifier: str) -> dict:
    """What erase_person would answer now, changing nothing: the person's id and the rules that keep the record.
    The screens ask this first and erase only after a confirmation that carries the id, never the number."""
    person, organisation_ids, _sip_ids = _held_person(user, raw_identifier)
    # Finding out that the organisation holds the person is a read of personal data: audited like the others.
    audit.record(user, AuditAction.READ, person, person_id=person.pk,
                 organisation_id=_acting_organisation(user, organisation_ids, person), fields=["raderingskontroll"])
    return {"person_id": person.pk, "blockers": erasure_blockers(person, organisation_ids)}


def erase_person_id(user, person_id: int) -> dict:
    """erase_person for a person found earlier by erasure_check; the same gate and rules apply again."""
    identifier = Person.objects.filter(pk=person_id).values_list("identifier", flat=True).first()
    if identifier is None:
        raise NotFound(_("Ingen person med det numret finns hos din organisation."))
    return erase_person(user, identifier)
