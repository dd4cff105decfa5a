"""Every write on persons and plans.

Each function takes the acting user first, checks the gate (a plan outside the user's reach is NotFound),
runs in one transaction, locks the row it changes, checks the version the client started from, writes the
field history and the audit entry, and re-reads the plan through the gate before it returns.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from organisations import access, audit
from organisations.errors import Conflict, NotFound, PreconditionFailed, PreconditionRequired
from organisations.models import AuditAction, Organisation, Unit, User
from sip import deadlines, history, identifiers, lifecycle
from sip.access import get_sip, sync_grants, visible_persons
from sip.models import (
    Action,
    ChangeAction,
    ClosureReason,
    Consent,
    Goal,
    Meeting,
    MeetingStatus,
    Participant,
    ParticipantKind,
    Person,
    PersonLink,
    Sip,
    SipStatus,
    SipUnit,
)
from sip.signals import meeting_held

PERSON_FIELDS = ("first_name", "last_name", "gender", "protected_identity", "phone", "email", "address",
                 "postal_code", "city", "preferred_channel")
SIP_FIELDS = ("reason", "what_matters", "own_contribution", "lead_organisation", "coordinator",
              "need_identified_on", "discharge_track", "discharge_ready_at", "call_sent_at", "follow_up_on")
GOAL_FIELDS = ("kind", "horizon", "text", "target_on", "status", "evaluation")
ACTION_FIELDS = ("goal", "title", "description", "responsible_organisation", "responsible_unit",
                 "responsible_user", "responsible_other", "person_does", "starts_on", "ends_on", "status")
MEETING_FIELDS = ("kind", "starts_at", "ends_at", "location", "video_link", "minutes")


# --- helpers ---------------------------------------------------------------------------------------------

def _acting_unit(actor) -> Unit:
    from organisations import context

    request = context.current()
    membership = access.acting_membership(actor, unit_id=request.acting_unit_id if request else None)
    if membership is None:
        raise NotFound
    return membership.unit


def _check_version(obj, expected_version) -> None:
    if expected_version is None:
        raise PreconditionRequired
    if int(expected_version) != obj.version:
        raise PreconditionFailed(obj)



def _apply(obj, changes: dict, allowed: tuple[str, ...]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValidationError({name: _("Fältet kan inte ändras.") for name in sorted(unknown)})
    for name, value in changes.items():
        setattr(obj, name, value)


def _sip_for_write(actor, sip_id: int, *, allow_closed: bool = False) -> Sip:
    """Lock the plan row after checking the user may see (and so change) it. A closed plan is a record:
    only consent can still be withdrawn in it."""
    get_sip(actor, sip_id)
    sip = (Sip.objects.select_for_update(of=("self",)).select_related("initiating_unit", "lead_organisation")
           .get(pk=sip_id))
    if not allow_closed and sip.status not in lifecycle.OPEN:
        raise Conflict(_("Planen är avslutad eller avbruten och kan inte ändras."), code="plan_closed")
    return sip


def _reread(actor, sip_id: int) -> Sip:
    # The writer must still reach the plan after the write (e.g. not have written their own unit out).
    try:
        return get_sip(actor, sip_id)
    except NotFound:
        raise Conflict(_("Ändringen skulle ta bort din egen åtkomst till planen."), code="would_lose_access") from None


def _audit(actor, action, obj, sip: Sip, fields=()):
    audit.record(actor, action, obj, person_id=sip.person_id, organisation_id=None, fields=fields)


# --- persons ---------------------------------------------------------------------------------------------

def find_or_register_person(actor, *, identifier: str, identifier_kind: str | None = None, first_name: str,
                            last_name: str, **details) -> tuple[Person, bool]:
    """The person with this identifier: the existing record if there is one, never a duplicate."""
    try:
        kind, canonical = identifiers.normalise(identifier, identifier_kind)
    except ValidationError as exc:
        raise ValidationError({"identifier": exc.messages}) from None
    unit = _acting_unit(actor)
    with transaction.atomic():
        person = Person.objects.select_for_update().filter(identifier=canonical).first()
        created = person is None
        if created:
            person = Person(identifier_kind=kind, identifier=canonical, first_name=first_name, last_name=last_name,
                            birth_year=identifiers.birth_year(kind, canonical), registered_by_unit=unit)
            _apply(person, details, PERSON_FIELDS)
            person.full_clean()
            try:
                with transaction.atomic():
                    person.save()
            except IntegrityError:
                # Registered by someone else a moment ago: that record is the one.
                person = Person.objects.get(identifier=canonical)
                created = False
        PersonLink.objects.get_or_create(person=person, unit=unit, defaults={"created_by": actor})
        audit.record(actor, AuditAction.CREATE if created else AuditAction.READ, person, person_id=person.pk,
                     organisation_id=unit.organisation_id, fields=PERSON_FIELDS if created else ())
    return person, created


def lookup_person(actor, identifier: str) -> Person:
    """Find a person by personnummer, samordningsnummer or reserve number; links the acting unit."""
    import re

    if re.fullmatch(r"\s*(\d{6}|\d{8})[-+ ]?\d{4}\s*", identifier or ""):
        # Shaped like a personnummer: say so when the check digit or date is wrong, never "not found".
        try:
            identifiers.normalise(identifier)
        except ValidationError as exc:
            raise ValidationError({"identifier": exc.messages}) from None
    canonical = None
    for kind in (None, "reservnummer"):
        try:
            canonical = identifiers.normalise(identifier, kind)[1]
            break
        except ValidationError:
            continue
    if canonical is None:
        raise ValidationError({"identifier": _("Ogiltigt personnummer, samordningsnummer eller reservnummer.")})
    person = Person.objects.filter(identifier=canonical).first()
    if person is None:
        raise NotFound(_("Ingen person med det numret finns registrerad."))
    unit = _acting_unit(actor)
    with transaction.atomic():
        PersonLink.objects.get_or_create(person=person, unit=unit, defaults={"created_by": actor})
        audit.record(actor, AuditAction.READ, person, person_id=person.pk, organisation_id=unit.organisation_id,
                     fields=["identifier"])
    return person


def update_person(actor, person: Person, expected_version, **changes) -> Person:
    access.get_visible(visible_persons(actor), person.pk)
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        _check_version(person, expected_version)
        before = history.snapshot(person, PERSON_FIELDS)
        _apply(person, changes, PERSON_FIELDS)
        person.full_clean()
        person.version += 1
        person.save()
        changed = [k for k, v in history.snapshot(person, PERSON_FIELDS).items() if before[k] != v]
        audit.record(actor, AuditAction.UPDATE, person, person_id=person.pk, fields=changed)
    return person


# --- plans -----------------------------------------------------------------------------------------------

def _validate_sip(sip: Sip) -> None:
    errors = {}
    participating_orgs = set(sip.participations.values_list("unit__organisation_id", flat=True)) if sip.pk else set()
    if sip.pk and sip.lead_organisation_id not in participating_orgs:
        errors["lead_organisation"] = _("Huvudansvarig organisation måste ha en enhet med i planen.")
    if sip.coordinator_id and sip.pk and not sip.participations.filter(
            unit__memberships__user_id=sip.coordinator_id, unit__memberships__active=True).exists():
        errors["coordinator"] = _("SIP-samordnaren måste arbeta i en av planens enheter.")
    if sip.discharge_track and not sip.discharge_ready_at:
        errors["discharge_ready_at"] = _("Ange när patienten blev utskrivningsklar.")
    if sip.status in lifecycle.ESTABLISHED and not sip.follow_up_on:
        errors["follow_up_on"] = lifecycle.MESSAGES["follow_up_required"]
    if errors:
        raise ValidationError(errors)


def create_sip(actor, *, person: Person, initiating_unit: Unit, need_identified_on: datetime.date | None = None,
               lead_organisation: Organisation | None = None, units: list[Unit] = (), reason: str = "",
               coordinator: User | None = None, discharge_track: bool = False,
               discharge_ready_at: datetime.datetime | None = None) -> Sip:
    access.get_visible(visible_persons(actor), person.pk)
    if initiating_unit.pk not in access.unit_ids(actor):
        raise ValidationError({"initiating_unit": _("Du kan bara initiera en SIP från en enhet där du arbetar.")})
    with transaction.atomic():
        sip = Sip.objects.create(
            person=person, initiating_unit=initiating_unit,
            lead_organisation=lead_organisation or initiating_unit.organisation,
            need_identified_on=need_identified_on or timezone.localdate(), reason=reason, coordinator=coordinator,
            discharge_track=discharge_track, discharge_ready_at=discharge_ready_at, created_by=actor,
        )
        for unit in [initiating_unit, *[u for u in units if u.pk != initiating_unit.pk]]:
            SipUnit.objects.create(sip=sip, unit=unit, contact=actor if unit.pk == initiating_unit.pk else None)
        _validate_sip(sip)
        sip.call_due_at = deadlines.call_due_at(sip)
        sip.save(update_fields=["call_due_at"])
        sync_grants(sip)
        history.record(actor, sip.pk, sip, ChangeAction.CREATE,
                       after=history.snapshot(sip, ("status", "lead_organisation", "initiating_unit")))
        _audit(actor, AuditAction.CREATE, sip, sip, fields=["person", "initiating_unit", "lead_organisation"])
        return _reread(actor, sip.pk)


def update_sip(actor, sip: Sip, expected_version, **changes) -> Sip:
    with transaction.atomic():
        sip = _sip_for_write(actor, sip.pk)
        _check_version(sip, expected_version)
        before = history.snapshot(sip, SIP_FIELDS)
        _apply(sip, changes, SIP_FIELDS)
        if history.snapshot(sip, SIP_FIELDS) == before:
            return _reread(actor, sip.pk)  # nothing changed: no new version to merge against
        _validate_sip(sip)
        sip.call_due_at = deadlines.call_due_at(sip)
        sip.version += 1
        sip.save()
        changed = history.record(actor, sip.pk, sip, ChangeAction.UPDATE, before, history.snapshot(sip, SIP_FIELDS))
        _audit(actor, AuditAction.UPDATE, sip, sip, fields=changed)
        return _reread(actor, sip.pk)


def transition_sip(actor, sip: Sip, target: str, expected_version, *, follow_up_on=None, closure_reason: str = "",
                   closure_note: str = "") -> Sip:
    with transaction.atomic():
        sip = _sip_for_write(actor, sip.pk)
        _check_version(sip, expected_version)
        if target not in SipStatus.values or not lifecycle.allowed(sip.status, target):
            current = SipStatus(sip.status).label
            wanted = SipStatus(target).label if target in SipStatus.values else target
            raise Conflict(lifecycle.MESSAGES["not_allowed"] % {"current": current, "target": wanted},
                           code="transition_not_allowed")
        fields = ("status", "follow_up_on", "closure_reason", "closure_note", "call_sent_at", "established_on",
                  "closed_on")
        before = history.snapshot(sip, fields)
        today = timezone.localdate()
        if follow_up_on is not None:
            sip.follow_up_on = follow_up_on
        if target == SipStatus.KALLAD and sip.call_sent_at is None:
            sip.call_sent_at = timezone.now()
        if target == SipStatus.UPPRATTAD:
            if follow_up_on is None and sip.status == SipStatus.UPPFOLJNING:
                raise ValidationError({"follow_up_on": _("Ange nästa uppföljningsdatum.")})
            if not sip.follow_up_on:
                raise ValidationError({"follow_up_on": lifecycle.MESSAGES["follow_up_required"]})
            if sip.follow_up_on < today:
                raise ValidationError({"follow_up_on": _("Uppföljningsdatumet kan inte ligga bakåt i tiden.")})
            sip.established_on = sip.established_on or today
        if target == SipStatus.AVBRUTEN:
            if closure_reason not in ClosureReason.values:
                raise ValidationError({"closure_reason": lifecycle.MESSAGES["reason_required"]})
            sip.closure_reason, sip.closure_note = closure_reason, closure_note
        if target in (SipStatus.AVSLUTAD, SipStatus.AVBRUTEN):
            sip.closed_on = today
        sip.status = target
        sip.version += 1
        sip.save()
        history.record(actor, sip.pk, sip, ChangeAction.TRANSITION, before, history.snapshot(sip, fields))
        _audit(actor, AuditAction.UPDATE, sip, sip, fields=["status"])
        return _reread(actor, sip.pk)


def add_unit(actor, sip: Sip, unit: Unit, contact: User | None = None) -> SipUnit:
    with transaction.atomic():
        sip = _sip_for_write(actor, sip.pk)
        if not unit.active:
            raise ValidationError({"unit": _("Enheten är inte aktiv.")})
        if contact is not None and not contact.memberships.filter(unit=unit, active=True).exists():
            raise ValidationError({"contact": _("Kontaktpersonen måste arbeta i enheten.")})
        participation, created = SipUnit.objects.get_or_create(sip=sip, unit=unit, defaults={"contact": contact})
        if not created:
            raise Conflict(_("Enheten är redan med i planen."), code="unit_already_in_plan")
        sync_grants(sip)
        sip.call_due_at = deadlines.call_due_at(sip)
        sip.save(update_fields=["call_due_at", "updated_at"])
        history.record(actor, sip.pk, participation, ChangeAction.CREATE, after={"unit": unit.pk})
        _audit(actor, AuditAction.UPDATE, sip, sip, fields=["units"])
        _reread(actor, sip.pk)
        return participation


def remove_unit(actor, sip: Sip, participation: SipUnit) -> None:
    with transaction.atomic():
        sip = _sip_for_write(actor, sip.pk)
        others = sip.participations.exclude(pk=participation.pk)
        if not others.filter(unit__organisation_id=sip.lead_organisation_id).exists():
            raise Conflict(_("Huvudansvarig organisation måste ha minst en enhet kvar i planen."),
                           code="lead_needs_unit")
        history.record(actor, sip.pk, participation, ChangeAction.DELETE, before={"unit": participation.unit_id})
        participation.delete()
        sync_grants(sip)
        _audit(actor, AuditAction.UPDATE, sip, sip, fields=["units"])
        _reread(actor, sip.pk)


# --- consent ---------------------------------------------------------------------------------------------

def give_consent(actor, sip: Sip, *, organisation: Organisation, method: str, given_at=None, scope: str = "",
                 valid_until=None) -> Consent:
    with transaction.atomic():
        sip = _sip_for_write(actor, sip.pk)
        if valid_until is not None and valid_until < timezone.localdate():
            raise ValidationError({"valid_until": _("Giltighetstiden har redan passerat.")})
        consent = Consent(sip=sip, organisation=organisation, method=method, given_at=given_at or timezone.now(),
                          scope=scope, valid_until=valid_until, recorded_by=actor)
        consent.full_clean()
        consent.save()
        sync_grants(sip)
        history.record(actor, sip.pk, consent, ChangeAction.CREATE,
                       after=history.snapshot(consent, ("organisation", "method", "given_at", "valid_until")))
        _audit(actor, AuditAction.CREATE, consent, sip, fields=["organisation", "method", "valid_until"])
        return consent


def withdraw_consent(actor, sip: Sip, consent: Consent, withdrawn_at=None) -> Consent:
    """Cuts the organisation's access at once (in this transaction), unless another consent still holds."""
    with transaction.atomic():
        sip = _sip_for_write(actor, sip.pk, allow_closed=True)
        consent = Consent.objects.select_for_update().get(pk=consent.pk, sip=sip)
        if consent.withdrawn_at is not None:
            raise Conflict(_("Samtycket är redan återkallat."), code="consent_already_withdrawn")
        consent.withdrawn_at = withdrawn_at or timezone.now()
        consent.withdrawn_recorded_by = actor
        consent.save(update_fields=["withdrawn_at", "withdrawn_recorded_by"])
        sync_grants(sip)
        history.record(actor, sip.pk, consent, ChangeAction.UPDATE, {"withdrawn_at": None},
                       {"withdrawn_at": history.serialise(consent.withdrawn_at)})
        _audit(actor, AuditAction.UPDATE, consent, sip, fields=["withdrawn_at"])
        return consent


def refresh_expired_consents(today=None) -> int:
    """Periodic: consents past their end date stop granting access."""
    today = today or timezone.localdate()
    sip_ids = set(Consent.objects.filter(withdrawn_at__isnull=True, valid_until__lt=today)
                  .values_list("sip_id", flat=True))
    for sip in Sip.objects.filter(pk__in=sip_ids).select_related("initiating_unit"):
        with transaction.atomic():
            sync_grants(sip, today)
    return len(sip_ids)


# --- goals, actions, meetings: versioned parts of a plan --------------------------------------------------

def _create_part(actor, sip: Sip, model, fields, values: dict, validate=None):
    with transaction.atomic():
        sip = _sip_for_write(actor, sip.pk)
        obj = model(sip=sip)
        _apply(obj, values, fields)
        if validate:
            validate(sip, obj)
        obj.full_clean()
        obj.save()
        history.record(actor, sip.pk, obj, ChangeAction.CREATE, after=history.snapshot(obj, fields))
        _audit(actor, AuditAction.CREATE, obj, sip, fields=values.keys())
        _touch(sip)
        return obj


def _update_part(actor, sip: Sip, obj, fields, expected_version, changes: dict, validate=None):
    with transaction.atomic():
        sip = _sip_for_write(actor, sip.pk)
        obj = type(obj).objects.select_for_update().get(pk=obj.pk, sip=sip)
        _check_version(obj, expected_version)
        before = history.snapshot(obj, fields)
        _apply(obj, changes, fields)
        if validate:
            validate(sip, obj)
        obj.full_clean()
        obj.version += 1
        obj.save()
        changed = history.record(actor, sip.pk, obj, ChangeAction.UPDATE, before, history.snapshot(obj, fields))
        _audit(actor, AuditAction.UPDATE, obj, sip, fields=changed)
        _touch(sip)
        return obj


def _delete_part(actor, sip: Sip, obj, fields, expected_version) -> None:
    with transaction.atomic():
        sip = _sip_for_write(actor, sip.pk)
        obj = type(obj).objects.select_for_update().get(pk=obj.pk, sip=sip)
        _check_version(obj, expected_version)
        history.record(actor, sip.pk, obj, ChangeAction.DELETE, before=history.snapshot(obj, fields))
        _audit(actor, AuditAction.DELETE, obj, sip)
        obj.delete()
        _touch(sip)


def _touch(sip: Sip) -> None:
    # Parts have their own versions; the plan's updated_at still tells lists that something changed.
    Sip.objects.filter(pk=sip.pk).update(updated_at=timezone.now())


def create_goal(actor, sip: Sip, **values) -> Goal:
    return _create_part(actor, sip, Goal, GOAL_FIELDS, values)


def update_goal(actor, sip: Sip, goal: Goal, expected_version, **changes) -> Goal:
    return _update_part(actor, sip, goal, GOAL_FIELDS, expected_version, changes)


def delete_goal(actor, sip: Sip, goal: Goal, expected_version) -> None:
    _delete_part(actor, sip, goal, GOAL_FIELDS, expected_version)


def _validate_action(sip: Sip, action: Action) -> None:
    errors = {}
    if action.goal_id and action.goal.sip_id != sip.pk:
        errors["goal"] = _("Målet hör till en annan plan.")
    if action.responsible_unit_id:
        if action.responsible_organisation_id is None:
            action.responsible_organisation_id = action.responsible_unit.organisation_id
        elif action.responsible_unit.organisation_id != action.responsible_organisation_id:
            errors["responsible_unit"] = _("Enheten hör inte till den ansvariga organisationen.")
    if action.responsible_user_id:
        memberships = action.responsible_user.memberships.filter(active=True)
        if action.responsible_unit_id and not memberships.filter(unit_id=action.responsible_unit_id).exists():
            errors["responsible_user"] = _("Den ansvariga personen arbetar inte i den ansvariga enheten.")
        elif not memberships.filter(unit__sip_participations__sip=sip).exists():
            errors["responsible_user"] = _("Den ansvariga personen arbetar inte i någon av planens enheter.")
    if action.starts_on and action.ends_on and action.ends_on < action.starts_on:
        errors["ends_on"] = _("Insatsen kan inte sluta innan den börjar.")
    if not (action.responsible_organisation_id or action.responsible_other):
        errors["responsible_organisation"] = _("Ange vem som ansvarar för insatsen.")
    if errors:
        raise ValidationError(errors)


def create_action(actor, sip: Sip, **values) -> Action:
    return _create_part(actor, sip, Action, ACTION_FIELDS, values, _validate_action)


def update_action(actor, sip: Sip, action: Action, expected_version, **changes) -> Action:
    return _update_part(actor, sip, action, ACTION_FIELDS, expected_version, changes, _validate_action)


def delete_action(actor, sip: Sip, action: Action, expected_version) -> None:
    _delete_part(actor, sip, action, ACTION_FIELDS, expected_version)


def _validate_meeting(sip: Sip, meeting: Meeting) -> None:
    if meeting.starts_at and meeting.ends_at and meeting.ends_at <= meeting.starts_at:
        raise ValidationError({"ends_at": _("Mötet måste sluta efter att det börjat.")})


def create_meeting(actor, sip: Sip, *, participants: list[dict] = (), **values) -> Meeting:
    with transaction.atomic():
        meeting = _create_part(actor, sip, Meeting, MEETING_FIELDS, values, _validate_meeting)
        Meeting.objects.filter(pk=meeting.pk).update(convened_by=actor)
        meeting.convened_by = actor
        _set_participants(sip, meeting, participants)
        return meeting


def update_meeting(actor, sip: Sip, meeting: Meeting, expected_version, *, participants=None, **changes) -> Meeting:
    with transaction.atomic():
        if meeting.status != MeetingStatus.PLANNED and set(changes) - {"minutes"}:
            raise Conflict(_("Ett genomfört eller inställt möte kan bara få ändrade minnesanteckningar."),
                           code="meeting_closed")
        meeting = _update_part(actor, sip, meeting, MEETING_FIELDS, expected_version, changes, _validate_meeting)
        if participants is not None:
            _set_participants(sip, meeting, participants)
        return meeting


def delete_meeting(actor, sip: Sip, meeting: Meeting, expected_version) -> None:
    if meeting.status == MeetingStatus.HELD:
        raise Conflict(_("Ett genomfört möte kan inte tas bort."), code="meeting_held")
    _delete_part(actor, sip, meeting, MEETING_FIELDS, expected_version)


def _set_participants(sip: Sip, meeting: Meeting, participants: list[dict]) -> None:
    meeting.participants.all().delete()
    rows = []
    for index, data in enumerate(participants):
        row = Participant(meeting=meeting, **data)
        errors = {}
        if row.kind in (ParticipantKind.STAFF,) and not row.user_id:
            errors["user"] = _("Ange vem i personalen som bjuds in.")
        if row.kind == ParticipantKind.UNIT and not row.unit_id:
            errors["unit"] = _("Ange vilken enhet som bjuds in.")
        if row.kind in (ParticipantKind.RELATED, ParticipantKind.OTHER) and not row.name:
            errors["name"] = _("Ange namn.")
        if errors:
            raise ValidationError({f"participants.{index}.{k}": v for k, v in errors.items()})
        rows.append(row)
    Participant.objects.bulk_create(rows)


def hold_meeting(actor, sip: Sip, meeting: Meeting, expected_version, *, attendance: dict[int, bool],
                 minutes: str | None = None) -> Meeting:
    """Mark the meeting held with who attended; fires `meeting_held` once the transaction commits."""
    with transaction.atomic():
        sip = _sip_for_write(actor, sip.pk)
        meeting = Meeting.objects.select_for_update().get(pk=meeting.pk, sip=sip)
        _check_version(meeting, expected_version)
        if meeting.status != MeetingStatus.PLANNED:
            raise Conflict(_("Mötet är redan markerat som genomfört eller inställt."), code="meeting_closed")
        before = history.snapshot(meeting, ("status", "held_at", "minutes"))
        participants = {p.pk: p for p in meeting.participants.all()}
        unknown = set(attendance) - set(participants)
        if unknown:
            raise ValidationError({"attendance": _("Okänd deltagare: %(ids)s") % {
                "ids": ", ".join(str(i) for i in sorted(unknown))}})
        for pk, attended in attendance.items():
            participants[pk].attended = bool(attended)
        Participant.objects.bulk_update(participants.values(), ["attended"])
        meeting.status = MeetingStatus.HELD
        meeting.held_at = timezone.now()
        if minutes is not None:
            meeting.minutes = minutes
        meeting.version += 1
        meeting.save()
        history.record(actor, sip.pk, meeting, ChangeAction.UPDATE, before,
                       history.snapshot(meeting, ("status", "held_at", "minutes")))
        _audit(actor, AuditAction.UPDATE, meeting, sip, fields=["status", "attendance"])
        meeting_id, actor_id = meeting.pk, actor.pk
        transaction.on_commit(lambda: meeting_held.send(sender=Meeting, meeting_id=meeting_id, actor_id=actor_id))
        return meeting


def cancel_meeting(actor, sip: Sip, meeting: Meeting, expected_version) -> Meeting:
    with transaction.atomic():
        sip = _sip_for_write(actor, sip.pk)
        meeting = Meeting.objects.select_for_update().get(pk=meeting.pk, sip=sip)
        _check_version(meeting, expected_version)
        if meeting.status != MeetingStatus.PLANNED:
            raise Conflict(_("Mötet är redan markerat som genomfört eller inställt."), code="meeting_closed")
        meeting.status = MeetingStatus.CANCELLED
        meeting.version += 1
        meeting.save()
        history.record(actor, sip.pk, meeting, ChangeAction.UPDATE, {"status": MeetingStatus.PLANNED},
                       {"status": MeetingStatus.CANCELLED})
        _audit(actor, AuditAction.UPDATE, meeting, sip, fields=["status"])
        return meeting
