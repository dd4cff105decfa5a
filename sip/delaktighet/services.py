"""Invitations, answers and rutinkollen.

The public side (answering from a link) knows no user: it is reached by the token alone, which is looked
up by its hash. The staff side goes through the plan's gate like every other part of a plan.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from organisations import access, audit
from organisations.errors import DomainError, NotFound
from organisations.models import AuditAction, Role
from sip.access import get_sip
from sip.delaktighet import senders, tokens
from sip.delaktighet.models import (
    AgeBand,
    Answer,
    AnswerMode,
    Channel,
    Invitation,
    InvitationStatus,
    InvitationToken,
    ItemKind,
    Purpose,
    Response,
    RoutineAnswer,
    RoutineCheck,
    TemplateVersion,
)
from sip.models import Meeting, MeetingStatus, ParticipantKind

logger = logging.getLogger(__name__)

RESPONDENT_KINDS = (ParticipantKind.PERSON, ParticipantKind.RELATED)
SCALE_VALUES = range(1, 7)
YES_NO_UNKNOWN = {"yes": 1, "no": 0, "unknown": 2}


class Gone(DomainError):
    """The link was used, declined or has expired (410)."""

    status = 410
    default_message = _("Länken har redan använts eller har gått ut.")


def current_version(purpose: str = Purpose.PARTICIPATION) -> TemplateVersion:
    return (TemplateVersion.objects.published().filter(template__purpose=purpose)
            .select_related("template").order_by("-published_at", "-number").first())


def _channel_for(participant) -> str:
    if participant.kind == ParticipantKind.PERSON:
        person = participant.meeting.sip.person
        if person.preferred_channel == "email" and person.email:
            return Channel.EMAIL
        if person.preferred_channel == "sms" and person.phone:
            return Channel.SMS
        return Channel.PAPER
    if participant.email:
        return Channel.EMAIL
    if participant.phone:
        return Channel.SMS
    return Channel.PAPER


# --- invitations -----------------------------------------------------------------------------------------

def invite_attendees(meeting_id: int) -> list[Invitation]:
    """One invitation per attending person or närstående; running twice creates nothing more."""
    version = current_version()
    meeting = Meeting.objects.select_related("sip__person").get(pk=meeting_id)
    if meeting.status != MeetingStatus.HELD or version is None:
        return []
    created = []
    expires_at = timezone.now() + datetime.timedelta(days=settings.DELAKTIGHET_LINK_DAYS)
    for participant in meeting.participants.filter(kind__in=RESPONDENT_KINDS, attended=True):
        participant.meeting = meeting
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    meeting=meeting, participant=participant, sip=meeting.sip, version=version,
                    channel=_channel_for(participant), expires_at=expires_at,
                    **report_columns(participant.kind, meeting.sip, meeting.held_at))
        except IntegrityError:
            continue  # already invited
        created.append(invitation)
        if invitation.channel != Channel.PAPER:
            invitation_id = invitation.pk
            transaction.on_commit(lambda pk=invitation_id: _enqueue_delivery(pk))
    return created


def _enqueue_delivery(invitation_id: int, reminder: bool = False) -> None:
    from sip.delaktighet.tasks import deliver_invitation

    deliver_invitation.delay(invitation_id, reminder)


def _address(invitation: Invitation) -> str:
    participant = invitation.participant
    if participant.kind == ParticipantKind.PERSON:
        person = invitation.sip.person
        return person.email if invitation.channel == Channel.EMAIL else person.phone
    return participant.email if invitation.channel == Channel.EMAIL else participant.phone


def issue_link(invitation: Invitation) -> str:
    """A fresh link for the invitation; the raw token exists only in the returned string."""
    raw, digest = tokens.new_token()
    InvitationToken.objects.create(invitation=invitation, token_hash=digest)
    return f"{settings.SITE_URL}/d/{raw}/"


def deliver(invitation_id: int, reminder: bool = False) -> bool:
    """Send the link by the invitation's channel. Idempotent: a delivered invitation is not sent again,
    a reminder goes at most once, and never after an answer or a decline."""
    with transaction.atomic():
        invitation = (Invitation.objects.select_for_update(of=("self",))
                      .select_related("participant", "sip__person").get(pk=invitation_id))
        if invitation.channel == Channel.PAPER or invitation.status != InvitationStatus.SENT:
            return False
        if invitation.expires_at <= timezone.now():
            return False
        if (reminder and (invitation.delivered_at is None or invitation.reminder_sent_at is not None)) or (
                not reminder and invitation.delivered_at is not None):
            return False
        address = _address(invitation)
        if not address:
            return False
        link = issue_link(invitation)
        if invitation.channel == Channel.EMAIL:
            senders.send_email(address, link, reminder)
        else:
            senders.send_sms(address, link, reminder)
        if reminder:
            invitation.reminder_sent_at = timezone.now()
        else:
            invitation.delivered_at = timezone.now()
        invitation.save(update_fields=["reminder_sent_at", "delivered_at"])
        logger.info("delivered invitation %s (reminder=%s)", invitation.pk, reminder)
        return True


def due_reminders(now=None) -> list[int]:
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.DELAKTIGHET_REMINDER_DAYS)
    return list(Invitation.objects.filter(
        status=InvitationStatus.SENT, delivered_at__lte=cutoff, reminder_sent_at__isnull=True,
        expires_at__gt=now).exclude(channel=Channel.PAPER).values_list("pk", flat=True))


# --- the public answer ------------------------------------------------------------------------------------

def resolve(raw_token: str) -> Invitation:
    """The invitation a link belongs to. Unknown: NotFound (404). Used, declined or expired: Gone (410)."""
    if not raw_token or len(raw_token) > 100:
        raise NotFound
    token = (InvitationToken.objects.select_related("invitation__version__template")
             .filter(token_hash=tokens.hash_token(raw_token)).first())
    if token is None:
        raise NotFound
    invitation = token.invitation
    if invitation.status != InvitationStatus.SENT or invitation.expires_at <= timezone.now():
        raise Gone
    return invitation


def _age_band(person, on: datetime.date) -> str:
    return age_band_in(person.birth_year, on.year)


def age_band_in(birth_year: int | None, year: int) -> str:
    """The age band of someone born in `birth_year` in `year` (unknown without a birth year)."""
    if not birth_year:
        return AgeBand.UNKNOWN
    age = year - birth_year
    if age < 25:
        return AgeBand.UNDER_25
    if age < 45:
        return AgeBand.AGE_25_44
    if age < 65:
        return AgeBand.AGE_45_64
    return AgeBand.AGE_65_PLUS


def report_columns(participant_kind: str, sip, held_at: datetime.datetime | None) -> dict:
    """What an invitation stores for the report (see Invitation): the plan's lead organisation, the gender and
    age band its answer would be stored with (as _store does: the person's own, a närstående's "vill_ej_uppge"
    and unknown age) and the meeting's local date. A meeting without a time (never held through hold_meeting)
    gets no date and its age band from today's year, as the report computed it from the invitation's creation.
    """
    held_on = timezone.localdate(held_at) if held_at else None
    if participant_kind == ParticipantKind.PERSON:
        person = sip.person
        gender = person.gender
        age_band = age_band_in(person.birth_year, (held_on or timezone.localdate()).year)
    else:
        gender, age_band = "vill_ej_uppge", AgeBand.UNKNOWN
    return {"lead_organisation_id": sip.lead_organisation_id, "gender": gender, "age_band": age_band,
            "meeting_held_on": held_on}


def scale_totals(rows: list[tuple]) -> tuple[int, int]:
    """The number and the sum of the 1–6 answers among cleaned answer rows (stored on the response)."""
    values = [number for item, number, _text in rows if item.kind == ItemKind.SCALE_1_6 and number is not None]
    return len(values), sum(values)


def _clean_answers(version: TemplateVersion, raw: dict) -> list[tuple]:
    """Validated (item, int value, text) for every answered item; every item may be skipped."""
    items = {item.code: item for item in version.items.all()}
    errors, rows = {}, []
    for code, value in raw.items():
        item = items.get(code)
        if item is None:
            errors[code] = [_("Okänd fråga.")]
            continue
        if value in (None, ""):
            continue
        if item.kind == ItemKind.SCALE_1_6:
            try:
                number = int(value)
            except (TypeError, ValueError):
                number = None
            if number not in SCALE_VALUES:
                errors[code] = [_("Välj ett värde från 1 till 6.")]
                continue
            rows.append((item, number, ""))
        elif item.kind == ItemKind.YES_NO_UNKNOWN:
            if value not in YES_NO_UNKNOWN:
                errors[code] = [_("Välj ja, nej eller vet ej.")]
                continue
            rows.append((item, YES_NO_UNKNOWN[value], ""))
        elif item.kind == ItemKind.YES_PARTLY_NO:
            if value not in ("yes", "partly", "no"):
                errors[code] = [_("Välj ja, delvis eller nej.")]
                continue
            rows.append((item, ("yes", "partly", "no").index(value), value))
        elif item.kind == ItemKind.SINGLE_CHOICE:
            if value not in item.choices:
                errors[code] = [_("Välj ett av alternativen.")]
                continue
            rows.append((item, item.choices.index(value), ""))
        elif item.kind == ItemKind.FREE_TEXT:
            text = str(value).strip()
            if len(text) > 4000:
                errors[code] = [_("Svaret får vara högst 4000 tecken.")]
                continue
            rows.append((item, None, text))
    if errors:
        raise ValidationError(errors)
    return rows


def _store(invitation: Invitation, raw_answers: dict, *, share_with_staff: bool, mode: str,
           registered_by=None) -> Response:
    invitation = Invitation.objects.select_for_update(of=("self",)).select_related(
        "participant", "sip__person", "sip", "meeting").get(pk=invitation.pk)
    if invitation.status != InvitationStatus.SENT:
        raise Gone
    rows = _clean_answers(invitation.version, raw_answers)
    held_on = timezone.localdate(invitation.meeting.held_at or timezone.now())
    person = invitation.sip.person
    is_person = invitation.participant.kind == ParticipantKind.PERSON
    scale_answers, scale_sum = scale_totals(rows)
    response = Response.objects.create(
        invitation=invitation, version=invitation.version, mode=mode, registered_by=registered_by,
        share_with_staff=share_with_staff, respondent_kind=invitation.participant.kind,
        gender=person.gender if is_person else "vill_ej_uppge",
        age_band=_age_band(person, held_on) if is_person else AgeBand.UNKNOWN,
        lead_organisation_id=invitation.sip.lead_organisation_id, meeting_held_on=held_on,
        scale_answers=scale_answers, scale_sum=scale_sum)
    Answer.objects.bulk_create([Answer(response=response, item=item, value_int=number, value_text=text,
                                       lead_organisation_id=response.lead_organisation_id,
                                       meeting_held_on=held_on, gender=response.gender, age_band=response.age_band)
                                for item, number, text in rows])
    invitation.status = InvitationStatus.ANSWERED
    invitation.closed_at = timezone.now()
    invitation.save(update_fields=["status", "closed_at"])
    return response


def submit(raw_token: str, answers: dict, *, share_with_staff: bool = False) -> Response:
    """Store the person's answer once; a second submit or a reused link stores nothing (Gone)."""
    with transaction.atomic():
        invitation = resolve(raw_token)
        return _store(invitation, answers, share_with_staff=share_with_staff, mode=AnswerMode.SELF)


def decline(raw_token: str) -> None:
    with transaction.atomic():
        invitation = resolve(raw_token)
        updated = Invitation.objects.filter(pk=invitation.pk, status=InvitationStatus.SENT).update(
            status=InvitationStatus.DECLINED, closed_at=timezone.now())
        if not updated:
            raise Gone


# --- the staff side ---------------------------------------------------------------------------------------

def invitations_of(user, sip_id: int):
    sip = get_sip(user, sip_id)
    return (Invitation.objects.filter(sip=sip).select_related("participant", "meeting", "version__template")
            .order_by("-created_at", "-id"))


def register_paper_answer(actor, sip_id: int, invitation_id: int, answers: dict, *,
                          share_with_staff: bool = False) -> Response:
    """Staff type in a paper questionnaire on the person's behalf; marked as such."""
    invitation = access.get_visible(invitations_of(actor, sip_id), invitation_id)
    with transaction.atomic():
        if invitation.expires_at <= timezone.now():
            raise Gone
        response = _store(invitation, answers, share_with_staff=share_with_staff, mode=AnswerMode.PAPER,
                          registered_by=actor)
        audit.record(actor, AuditAction.CREATE, response, person_id=invitation.sip.person_id,
                     organisation_id=invitation.sip.lead_organisation_id, fields=["answers"])
    return response


def paper_link(actor, sip_id: int, invitation_id: int) -> str:
    """A fresh link for a printed sheet with a QR code."""
    invitation = access.get_visible(invitations_of(actor, sip_id), invitation_id)
    if invitation.status != InvitationStatus.SENT or invitation.expires_at <= timezone.now():
        raise Gone
    with transaction.atomic():
        link = issue_link(invitation)
        audit.record(actor, AuditAction.EXPORT, invitation, person_id=invitation.sip.person_id,
                     organisation_id=invitation.sip.lead_organisation_id, fields=["link"])
    return link


def individual_answers(actor, sip_id: int, invitation_id: int) -> Response:
    """The person's own answers, only when they chose to share them with the staff of the plan."""
    invitation = access.get_visible(invitations_of(actor, sip_id), invitation_id)
    response = Response.objects.filter(invitation=invitation, share_with_staff=True).prefetch_related(
        "answers__item").first()
    if response is None:
        raise NotFound(_("Personen har inte valt att dela sina svar med personalen."))
    audit.record(actor, AuditAction.READ, response, person_id=invitation.sip.person_id,
                 organisation_id=invitation.sip.lead_organisation_id)
    return response


# --- rutinkollen ------------------------------------------------------------------------------------------

ROUTINE_VALUES = ("yes", "partly", "no")


def record_routine_check(actor, *, unit, period_start, period_end, answers: dict[str, dict]) -> RoutineCheck:
    """A unit's self-assessment; done by staff of that unit (samordnare, processledare or org_admin)."""
    from organisations.errors import Forbidden

    allowed_roles = {Role.SAMORDNARE, Role.PROCESSLEDARE, Role.ORG_ADMIN, Role.SOCIALSEKRETERARE,
                     Role.BEHANDLARE}
    if not any(m.unit_id == unit.pk and m.role in allowed_roles for m in access.memberships(actor)):
        raise Forbidden(_("Bara personal i enheten kan fylla i enhetens rutinkoll."))
    version = current_version(Purpose.ROUTINE_CHECK)
    items = {item.code: item for item in version.items.all()}
    errors = {}
    for code, answer in answers.items():
        if code not in items:
            errors[code] = [_("Okänd fråga.")]
        elif (answer or {}).get("value") not in ROUTINE_VALUES:
            errors[code] = [_("Välj ja, delvis eller nej.")]
    if period_end < period_start:
        errors["period_end"] = [_("Perioden slutar innan den börjar.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        try:
            with transaction.atomic():
                check = RoutineCheck.objects.create(unit=unit, version=version, period_start=period_start,
                                                    period_end=period_end, completed_by=actor)
        except IntegrityError:
            raise ValidationError({"period_start": _("Enheten har redan gjort rutinkollen för perioden.")}) from None
        RoutineAnswer.objects.bulk_create([
            RoutineAnswer(routine_check=check, item=items[code], value=answer["value"],
                          comment=(answer.get("comment") or "")[:2000])
            for code, answer in answers.items()
        ])
        audit.record(actor, AuditAction.CREATE, check, organisation_id=unit.organisation_id)
    return check
