"""The forum's work: meetings and their agenda, decisions (beslut), measures (åtgärder) and their effect.

The gate: only members of a forum (ForumMember, and staff with an active membership) know the forum and its
work exist — everyone else gets 404. Processledare and ordförande change meetings, agenda, decisions and
measures; other members (ledamöter) read them (403 on writes).

Every write takes the acting user first, checks the gate, runs in a transaction and records audit; versioned
objects (meeting, agenda item, decision, measure) need the version the change starts from (If-Match).

`propose_agenda` fills a meeting's agenda from what the forum should look at: measures due by the meeting,
new signals in the patterns (when `avvikelser.patterns` is installed), escalated reports not yet on any agenda
and open reports whose answer is overdue. `earlier_measures` is the agenda's standing section: the status of
measures decided before the meeting.

`before_after` compares a measure's category and pair in equal windows before and after the decision.
"""

from __future__ import annotations

import datetime
import importlib
import importlib.util
import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from avvikelser import guard
from avvikelser.models import (
    AgendaItem,
    AgendaKind,
    Category,
    Decision,
    Deviation,
    Forum,
    ForumMeeting,
    ForumMeetingStatus,
    ForumMember,
    ForumRole,
    Measure,
    MeasureStatus,
    State,
)
from organisations import access, audit
from organisations.errors import Conflict, Forbidden, PreconditionFailed, PreconditionRequired
from organisations.models import AuditAction, Membership, Organisation

logger = logging.getLogger(__name__)

EDITOR_ROLES = frozenset({ForumRole.PROCESSLEDARE, ForumRole.ORDFORANDE})
OPEN_MEASURE = (MeasureStatus.PLANNED, MeasureStatus.IN_PROGRESS)
OPEN_REPORT = (State.INKOMMEN, State.MOTTAGEN)
PATTERNS_MODULE = "avvikelser.patterns"
PATTERN_HISTORY = datetime.timedelta(days=730)  # what the pattern analysis gets to build its baseline from
FIRST_MEETING_LOOKBACK = datetime.timedelta(days=90)  # "new" signals for a forum's first meeting
BEFORE_AFTER_MAX_DAYS = 365
BEFORE_AFTER_ALPHA = 0.05
# "v1:<category-key>:<from-org>><to-org>:<agreement>", the agreement part an id, "other-<slug>", "none" or "*".
FINGERPRINT = re.compile(r"^v\d+:[-\w]+:\d+>\d+:[-\w*]+$", re.ASCII)

MEETING_FIELDS = ("starts_at", "location", "status", "minutes")
ITEM_FIELDS = ("kind", "title", "note", "deviation", "measure", "fingerprint")
DECISION_FIELDS = ("meeting", "text", "decided_on", "fingerprints", "deviations")
MEASURE_FIELDS = ("title", "owner_organisation", "responsible_user", "due_on", "status", "category",
                  "from_organisation", "to_organisation")


# --- the gate --------------------------------------------------------------------------------------------------

def member_role(user, forum_id) -> str | None:
    """The user's role in the forum, or None when they are not a member (or not staff at all)."""
    if not access.is_staff_member(user):
        return None
    return ForumMember.objects.filter(forum_id=forum_id, user_id=user.pk).values_list("role", flat=True).first()


def get_forum(user, forum_id) -> Forum:
    """The forum, for its members only (the gate in forum_queries); absent and foreign forums look the same
    (404). Carries the user's role for the write checks here."""
    from avvikelser import forum_queries

    forum = forum_queries.get_forum(user, forum_id)
    forum.member_role = member_role(user, forum.pk)
    return forum


def can_edit(user, forum: Forum) -> bool:
    role = getattr(forum, "member_role", None) or member_role(user, forum.pk)
    return role in EDITOR_ROLES


def require_editor(user, forum: Forum) -> None:
    """Members who are not processledare or ordförande read only (403 on writes)."""
    if not can_edit(user, forum):
        raise Forbidden(_("Bara processledare och ordförande ändrar forumets möten, beslut och åtgärder."),
                        code="not_forum_editor")


def _editable_forum(user, forum_id) -> Forum:
    forum = get_forum(user, forum_id)
    require_editor(user, forum)
    return forum


def _check_version(obj, expected_version) -> None:
    if expected_version is None:
        raise PreconditionRequired
    if int(expected_version) != obj.version:
        raise PreconditionFailed(obj)


def _check_text(values: Mapping[str, object]) -> None:
    """Forum texts are about the collaboration, never about a person: no personnummer, phone or e-mail."""
    errors = {}
    for name, text in values.items():
        if isinstance(text, str) and text:
            findings = guard.scan(text)
            if findings:
                errors[name] = guard.describe(findings)
    if errors:
        raise ValidationError(errors)


def _unknown(changes: Mapping, allowed: Iterable[str]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValidationError({name: _("Okänt fält.") for name in sorted(unknown)})


def reports_of(forum_id) -> QuerySet[Deviation]:
    """The forum's submitted reports (drafts are nobody's business but the reporter's)."""
    return Deviation.objects.filter(forum_id=forum_id).exclude(state=State.UTKAST)


# --- reads (every forum passed in comes from get_forum) ---------------------------------------------------------

def meetings_of(forum: Forum) -> QuerySet[ForumMeeting]:
    return (ForumMeeting.objects.filter(forum_id=forum.pk).annotate(item_count=Count("items"))
            .order_by("-starts_at", "-id"))


def items_of(meeting: ForumMeeting) -> QuerySet[AgendaItem]:
    return AgendaItem.objects.filter(meeting_id=meeting.pk).order_by("order", "id")


@dataclass(frozen=True)
class Agenda:
    """A meeting's agenda and its standing section: the status of measures decided before the meeting."""

    meeting: ForumMeeting
    items: list[AgendaItem]
    earlier_measures: list[Measure]


def agenda_of(meeting: ForumMeeting) -> Agenda:
    return Agenda(meeting=meeting, items=list(items_of(meeting)), earlier_measures=earlier_measures(meeting))


def decisions_of(forum: Forum) -> QuerySet[Decision]:
    return (Decision.objects.filter(forum_id=forum.pk).annotate(measure_count=Count("measures"))
            .prefetch_related(Prefetch("deviations", queryset=Deviation.objects.only("id").order_by("id")))
            .order_by("-decided_on", "-id"))


def _measures() -> QuerySet[Measure]:
    return Measure.objects.select_related("decision", "owner_organisation", "responsible_user", "category",
                                          "from_organisation", "to_organisation")


def measures_of(forum: Forum) -> QuerySet[Measure]:
    return _measures().filter(decision__forum_id=forum.pk).order_by("due_on", "id")


def filter_measures(queryset, *, status=None, decision=None, overdue=None, today=None):
    today = today or timezone.localdate()
    if status:
        queryset = queryset.filter(status__in=status if isinstance(status, list | tuple) else [status])
    if decision:
        queryset = queryset.filter(decision_id=decision)
    if overdue is True:
        queryset = queryset.filter(status__in=OPEN_MEASURE, due_on__lt=today)
    elif overdue is False:
        queryset = queryset.exclude(status__in=OPEN_MEASURE, due_on__lt=today)
    return queryset


def _meeting_day(meeting: ForumMeeting) -> datetime.date:
    return timezone.localdate(meeting.starts_at)


def _previous_meeting(meeting: ForumMeeting) -> ForumMeeting | None:
    return (ForumMeeting.objects.filter(forum_id=meeting.forum_id)
            .filter(Q(starts_at__lt=meeting.starts_at) | Q(starts_at=meeting.starts_at, pk__lt=meeting.pk))
            .order_by("-starts_at", "-id").first())


def earlier_measures(meeting: ForumMeeting) -> list[Measure]:
    """Measures decided before the meeting that are still open, or were closed since the previous meeting."""
    previous = _previous_meeting(meeting)
    still_relevant = Q()  # before the forum's first meeting: every earlier measure
    if previous is not None:
        still_relevant = Q(status__in=OPEN_MEASURE) | Q(status_changed_at__gte=previous.starts_at)
    return list(_measures().filter(decision__forum_id=meeting.forum_id, decision__decided_on__lt=_meeting_day(meeting))
                .filter(still_relevant).order_by("due_on", "id"))


def is_overdue(measure: Measure, today: datetime.date | None = None) -> bool:
    return measure.status in OPEN_MEASURE and measure.due_on < (today or timezone.localdate())


# --- meetings --------------------------------------------------------------------------------------------------

def create_meeting(actor, forum_id, *, starts_at, location: str = "", minutes: str = "",
                   status: str = ForumMeetingStatus.PLANNED) -> ForumMeeting:
    forum = _editable_forum(actor, forum_id)
    _check_text({"location": location, "minutes": minutes})
    with transaction.atomic():
        meeting = ForumMeeting(forum=forum, starts_at=starts_at, location=location, minutes=minutes, status=status)
        meeting.full_clean()
        meeting.save()
        audit.record(actor, AuditAction.CREATE, meeting)
    return meeting


def _locked_meeting(actor, meeting: ForumMeeting) -> ForumMeeting:
    _editable_forum(actor, meeting.forum_id)
    return ForumMeeting.objects.select_for_update().get(pk=meeting.pk)


def _require_planned(meeting: ForumMeeting) -> None:
    if meeting.status != ForumMeetingStatus.PLANNED:
        raise Conflict(_("Mötet är redan hållet; dagordningen ändras inte längre."), code="meeting_held")


def update_meeting(actor, meeting: ForumMeeting, expected_version, **changes) -> ForumMeeting:
    _unknown(changes, MEETING_FIELDS)
    _check_text({name: changes.get(name) for name in ("location", "minutes")})
    with transaction.atomic():
        meeting = _locked_meeting(actor, meeting)
        _check_version(meeting, expected_version)
        if meeting.status == ForumMeetingStatus.HELD and changes.get("status") == ForumMeetingStatus.PLANNED:
            raise Conflict(_("Ett hållet möte kan inte bli planerat igen."), code="meeting_held")
        for name, value in changes.items():
            setattr(meeting, name, value)
        meeting.full_clean()
        meeting.version += 1
        meeting.save()
        audit.record(actor, AuditAction.UPDATE, meeting, fields=changes.keys())
    return meeting


def delete_meeting(actor, meeting: ForumMeeting, expected_version) -> None:
    with transaction.atomic():
        meeting = _locked_meeting(actor, meeting)
        _check_version(meeting, expected_version)
        _require_planned(meeting)
        if meeting.decisions.exists():
            raise Conflict(_("Mötet har beslut och kan inte tas bort."), code="meeting_has_decisions")
        audit.record(actor, AuditAction.DELETE, meeting)
        meeting.delete()


# --- the agenda ------------------------------------------------------------------------------------------------

def _validate_item_links(meeting: ForumMeeting, values: Mapping) -> None:
    errors = {}
    deviation = values.get("deviation")
    if deviation is not None and not reports_of(meeting.forum_id).filter(pk=deviation.pk).exists():
        errors["deviation"] = _("Avvikelsen hör inte till forumet.")
    measure = values.get("measure")
    if measure is not None and measure.decision.forum_id != meeting.forum_id:
        errors["measure"] = _("Åtgärden hör inte till forumet.")
    fingerprint = values.get("fingerprint")
    if fingerprint and not FINGERPRINT.match(fingerprint):
        errors["fingerprint"] = _("Okänt format på mönstret.")
    if errors:
        raise ValidationError(errors)


def create_item(actor, meeting: ForumMeeting, *, title: str, kind: str = AgendaKind.OTHER, note: str = "",
                deviation: Deviation | None = None, measure: Measure | None = None,
                fingerprint: str = "") -> AgendaItem:
    values = {"deviation": deviation, "measure": measure, "fingerprint": fingerprint}
    _check_text({"title": title, "note": note})
    with transaction.atomic():
        meeting = _locked_meeting(actor, meeting)
        _require_planned(meeting)
        _validate_item_links(meeting, values)
        order = (meeting.items.aggregate(m=Max("order"))["m"] or 0) + 1
        item = AgendaItem(meeting=meeting, order=order, kind=kind, title=title, note=note, **values)
        item.full_clean()
        item.save()
        audit.record(actor, AuditAction.CREATE, item)
    return item


def update_item(actor, item: AgendaItem, expected_version, **changes) -> AgendaItem:
    _unknown(changes, ITEM_FIELDS)
    _check_text({name: changes.get(name) for name in ("title", "note")})
    with transaction.atomic():
        meeting = _locked_meeting(actor, item.meeting)
        item = AgendaItem.objects.select_for_update().get(pk=item.pk)
        _check_version(item, expected_version)
        _validate_item_links(meeting, changes)
        for name, value in changes.items():
            setattr(item, name, value)
        item.full_clean()
        item.version += 1
        item.save()
        audit.record(actor, AuditAction.UPDATE, item, fields=changes.keys())
    return item


def delete_item(actor, item: AgendaItem, expected_version) -> None:
    with transaction.atomic():
        meeting = _locked_meeting(actor, item.meeting)
        _require_planned(meeting)
        item = AgendaItem.objects.select_for_update().get(pk=item.pk)
        _check_version(item, expected_version)
        audit.record(actor, AuditAction.DELETE, item)
        item.delete()


def reorder_items(actor, meeting: ForumMeeting, expected_version, item_ids: list[int]) -> ForumMeeting:
    """Put the agenda in the given order; the list names every item once. Speaks the meeting's version."""
    with transaction.atomic():
        meeting = _locked_meeting(actor, meeting)
        _check_version(meeting, expected_version)
        _require_planned(meeting)
        items = {item.pk: item for item in meeting.items.all()}
        if len(item_ids) != len(set(item_ids)) or set(item_ids) != set(items):
            raise ValidationError({"items": _("Ange varje punkt på dagordningen exakt en gång.")})
        for order, pk in enumerate(item_ids, start=1):
            items[pk].order = order
        AgendaItem.objects.bulk_update(items.values(), ["order"])
        meeting.version += 1
        meeting.save(update_fields=["version", "updated_at"])
        audit.record(actor, AuditAction.UPDATE, meeting, fields=["agenda"])
    return meeting


@dataclass(frozen=True)
class AgendaProposal:
    added: list[AgendaItem]
    signals_available: bool


def _pair(deviation: Deviation) -> str:
    return f"{deviation.reporting_organisation.name} → {deviation.counterpart_organisation.name}"


def _clip(text: str, length: int = 300) -> str:
    return text if len(text) <= length else text[:length - 1] + "…"


def propose_agenda(actor, meeting: ForumMeeting, *, now: datetime.datetime | None = None) -> AgendaProposal:
    """Append to a planned meeting's agenda what the forum should look at, each thing once:

    1. follow-up of measures due by the meeting day or overdue (open ones);
    2. new signals in the forum's patterns since the previous meeting (skipped when pattern analysis is not
       installed, see `current_signals`);
    3. escalated reports not yet on any agenda of the forum;
    4. open reports whose answer is overdue.

    Titles name categories, organisations and report numbers, never the report's text or anyone's name.
    Things already on this meeting's agenda are not added again, so proposing twice adds nothing new.
    """
    now = now or timezone.now()
    with transaction.atomic():
        meeting = _locked_meeting(actor, meeting)
        _require_planned(meeting)
        forum = meeting.forum
        day = _meeting_day(meeting)
        existing = list(meeting.items.all())
        have_measures = {i.measure_id for i in existing if i.measure_id}
        have_deviations = {i.deviation_id for i in existing if i.deviation_id}
        have_fingerprints = {i.fingerprint for i in existing if i.kind == AgendaKind.SIGNAL and i.fingerprint}
        proposed: list[AgendaItem] = []

        def add(**values):
            proposed.append(AgendaItem(meeting=meeting, **values))

        measures = (Measure.objects.filter(decision__forum_id=forum.pk, status__in=OPEN_MEASURE, due_on__lte=day)
                    .exclude(pk__in=have_measures).select_related("owner_organisation").order_by("due_on", "id"))
        for measure in measures:
            late = _(" – försenad") if measure.due_on < timezone.localdate(now) else ""
            add(kind=AgendaKind.FOLLOW_UP, measure=measure, title=_clip(
                _("Uppföljning av åtgärd: %(title)s (%(owner)s, klar senast %(due)s%(late)s)") % {
                    "title": measure.title, "owner": measure.owner_organisation.name,
                    "due": measure.due_on.isoformat(), "late": late}))

        previous = _previous_meeting(meeting)
        until = min(day, timezone.localdate(now))
        since = timezone.localdate(previous.starts_at) if previous else until - FIRST_MEETING_LOOKBACK
        signals = current_signals(actor, forum, since=since, until=until)
        for signal in signals or ():
            if signal.fingerprint and signal.fingerprint in have_fingerprints:
                continue
            have_fingerprints.add(signal.fingerprint)
            add(kind=AgendaKind.SIGNAL, fingerprint=signal.fingerprint,
                title=_clip(_("Ny signal: %(label)s") % {"label": signal.title}))

        on_an_agenda = AgendaItem.objects.filter(deviation_id=OuterRef("pk"))
        reports = reports_of(forum.pk).select_related("category", "reporting_organisation",
                                                       "counterpart_organisation")
        for deviation in (reports.filter(state=State.ESKALERAD).exclude(Exists(on_an_agenda))
                          .order_by("escalated_at", "id")):
            add(kind=AgendaKind.ESCALATED, deviation=deviation, title=_clip(
                _("Eskalerad avvikelse %(id)s: %(category)s (%(pair)s)") % {
                    "id": deviation.pk, "category": deviation.category.name, "pair": _pair(deviation)}))
        for deviation in (reports.filter(state__in=OPEN_REPORT, answer_due_at__lt=now)
                          .exclude(pk__in=have_deviations).order_by("answer_due_at", "id")):
            add(kind=AgendaKind.FOLLOW_UP, deviation=deviation, title=_clip(
                _("Återkoppling försenad: avvikelse %(id)s, %(category)s (%(pair)s), skulle besvaras %(due)s") % {
                    "id": deviation.pk, "category": deviation.category.name, "pair": _pair(deviation),
                    "due": timezone.localdate(deviation.answer_due_at).isoformat()}))

        start = max((i.order for i in existing), default=0) + 1
        for order, item in enumerate(proposed, start=start):
            item.order = order
        AgendaItem.objects.bulk_create(proposed)
        if proposed:
            audit.record(actor, AuditAction.UPDATE, meeting, fields=["agenda"])
    return AgendaProposal(added=proposed, signals_available=signals is not None)


# --- signals from the pattern analysis (avvikelser.patterns, when installed) -----------------------------------

@dataclass(frozen=True)
class SignalRef:
    fingerprint: str
    title: str
    period_start: datetime.date | None


def patterns_function():
    """`avvikelser.patterns.forum_patterns`, or None while the pattern analysis is not installed."""
    if importlib.util.find_spec(PATTERNS_MODULE) is None:
        return None
    return getattr(importlib.import_module(PATTERNS_MODULE), "forum_patterns", None)


def current_signals(actor, forum: Forum, *, since: datetime.date, until: datetime.date,
                    granularity: str = "month") -> list[SignalRef] | None:
    """The signals in periods overlapping (since, until], one per series; None when pattern analysis is not
    available (not installed, or it failed — logged, so an agenda or digest is still produced).

    Reads the result of `forum_patterns(user, forum_id, period_start, period_end, granularity)` leniently: a
    mapping or object with `series` (or a plain list of series); each series has `fingerprint`, an optional
    `label`/`title`, and `signals`, each with its period as `period_start`/`period`/`start` (a date or an ISO
    "YYYY-MM-DD", "YYYY-MM", "YYYY-Www" or "YYYY-Qn" string) or an `index` into the result's `periods`.
    """
    try:
        function = patterns_function()
        if function is None:
            return None
        result = function(actor, forum.pk, period_start=until - PATTERN_HISTORY, period_end=until,
                          granularity=granularity)
        return _signals_in(result, since=since, until=until, granularity=granularity)
    except Exception:  # the agenda and the digest must not fail with the pattern analysis
        logger.exception("pattern analysis failed for forum %s", forum.pk)
        return None


def _field(obj, *names):
    for name in names:
        value = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
        if value is not None:
            return value
    return None


def _as_date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, Mapping) or (value is not None and not isinstance(value, str | int | float)):
        return _as_date(_field(value, "start", "period_start"))
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if match := re.fullmatch(r"(\d{4})-W(\d{2})", text):
            return datetime.date.fromisocalendar(int(match[1]), int(match[2]), 1)
        if match := re.fullmatch(r"(\d{4})-Q([1-4])", text):
            return datetime.date(int(match[1]), 3 * int(match[2]) - 2, 1)
        if match := re.fullmatch(r"(\d{4})-(\d{2})", text):
            return datetime.date(int(match[1]), int(match[2]), 1)
        return datetime.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _period_end(start: datetime.date, granularity: str) -> datetime.date:
    """The first day after the period starting on `start`."""
    if granularity == "week":
        return start + datetime.timedelta(days=7)
    if granularity == "day":
        return start + datetime.timedelta(days=1)
    return _add_months(start, {"quarter": 3, "year": 12}.get(granularity, 1))


def _signals_in(result, *, since, until, granularity) -> list[SignalRef]:
    series_list = result if isinstance(result, list | tuple) else (_field(result, "series") or [])
    periods = [] if isinstance(result, list | tuple) else list(_field(result, "periods") or [])
    found = []
    for series in series_list:
        fingerprint = str(_field(series, "fingerprint") or "")
        for signal in _field(series, "signals") or ():
            start = _as_date(_field(signal, "period_start", "period", "start"))
            index = _field(signal, "index")
            if start is None and isinstance(index, int) and 0 <= index < len(periods):
                start = _as_date(periods[index])
            if start is not None and not (_period_end(start, granularity) > since and start <= until):
                continue
            label = _field(series, "label", "title", "name") or describe_fingerprint(fingerprint)
            found.append(SignalRef(fingerprint=fingerprint, title=str(label), period_start=start))
            break
    return found


def parse_fingerprint(fingerprint: str) -> dict | None:
    """"v1:<category-key>:<from-org>><to-org>:<agreement>" → its parts (forum_queries' one parser), or None."""
    from avvikelser import forum_queries

    try:
        parts = forum_queries.parse_fingerprint(fingerprint)
    except ValidationError:
        return None
    return {"category": parts["key"], "from_organisation": parts["reporting_organisation"],
            "to_organisation": parts["counterpart_organisation"], "agreement": parts["agreement"]}


def describe_fingerprint(fingerprint: str) -> str:
    """A readable name for a pattern: category and direction, or the fingerprint itself."""
    parts = parse_fingerprint(fingerprint)
    if parts is None:
        return fingerprint
    category = Category.objects.filter(key=parts["category"]).values_list("name", flat=True).first()
    names = dict(Organisation.objects.filter(pk__in=[parts["from_organisation"], parts["to_organisation"]])
                 .values_list("pk", "name"))
    pair = " → ".join(names.get(parts[k], "?") for k in ("from_organisation", "to_organisation"))
    return f"{category or parts['category']} ({pair})"


# --- decisions -------------------------------------------------------------------------------------------------

def _clean_fingerprints(fingerprints) -> list[str]:
    cleaned = []
    for value in fingerprints or ():
        if not isinstance(value, str) or not FINGERPRINT.match(value):
            raise ValidationError({"fingerprints": _("Okänt format på mönstret.")})
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


def _validate_decision(forum: Forum, values: Mapping) -> None:
    errors = {}
    meeting = values.get("meeting")
    if meeting is not None and meeting.forum_id != forum.pk:
        errors["meeting"] = _("Mötet hör till ett annat forum.")
    deviations = values.get("deviations")
    if deviations:
        ids = {d.pk for d in deviations}
        if reports_of(forum.pk).filter(pk__in=ids).count() != len(ids):
            errors["deviations"] = _("Bara forumets inskickade avvikelser kan kopplas till beslutet.")
    if "text" in values and not (values["text"] or "").strip():
        errors["text"] = _("Skriv beslutet.")
    if errors:
        raise ValidationError(errors)


def create_decision(actor, forum_id, *, text: str, decided_on: datetime.date, meeting: ForumMeeting | None = None,
                    fingerprints: Iterable[str] = (), deviations: Iterable[Deviation] = ()) -> Decision:
    forum = _editable_forum(actor, forum_id)
    deviations = list(deviations)
    values = {"text": text, "meeting": meeting, "deviations": deviations}
    _validate_decision(forum, values)
    _check_text({"text": text})
    with transaction.atomic():
        decision = Decision(forum=forum, meeting=meeting, text=text, decided_on=decided_on,
                            fingerprints=_clean_fingerprints(fingerprints))
        decision.full_clean()
        decision.save()
        decision.deviations.set(deviations)
        audit.record(actor, AuditAction.CREATE, decision)
    return decision


def update_decision(actor, decision: Decision, expected_version, **changes) -> Decision:
    _unknown(changes, DECISION_FIELDS)
    _check_text({"text": changes.get("text")})
    with transaction.atomic():
        forum = _editable_forum(actor, decision.forum_id)
        decision = Decision.objects.select_for_update().get(pk=decision.pk)
        _check_version(decision, expected_version)
        _validate_decision(forum, changes)
        deviations = changes.pop("deviations", None)
        if "fingerprints" in changes:
            changes["fingerprints"] = _clean_fingerprints(changes["fingerprints"])
        for name, value in changes.items():
            setattr(decision, name, value)
        decision.full_clean()
        decision.version += 1
        decision.save()
        if deviations is not None:
            decision.deviations.set(deviations)
        audit.record(actor, AuditAction.UPDATE, decision,
                     fields=[*changes.keys(), *(["deviations"] if deviations is not None else [])])
    return decision


# --- measures --------------------------------------------------------------------------------------------------

def _validate_measure(forum: Forum, measure: Measure) -> None:
    errors = {}
    organisations = set(forum.organisations.values_list("pk", flat=True))
    if measure.owner_organisation_id not in organisations:
        errors["owner_organisation"] = _("Ansvarig organisation ska vara med i forumet.")
    pair = (measure.from_organisation_id, measure.to_organisation_id)
    if (pair[0] is None) != (pair[1] is None):
        errors["to_organisation" if pair[1] is None else "from_organisation"] = _(
            "Ange både rapporterande organisation och motpart, eller ingen av dem.")
    elif pair[0] is not None:
        if not set(pair) <= organisations:
            errors["from_organisation"] = _("Båda organisationerna ska vara med i forumet.")
        elif pair[0] == pair[1]:
            errors["to_organisation"] = _("Motparten ska vara en annan organisation.")
    if measure.responsible_user_id and not Membership.objects.filter(
            user_id=measure.responsible_user_id, active=True, unit__active=True,
            unit__organisation_id=measure.owner_organisation_id).exists():
        errors["responsible_user"] = _("Ansvarig person ska arbeta i den ansvariga organisationen.")
    if not (measure.title or "").strip():
        errors["title"] = _("Beskriv åtgärden.")
    if errors:
        raise ValidationError(errors)


def create_measure(actor, decision: Decision, *, title: str, owner_organisation: Organisation,
                   due_on: datetime.date, responsible_user=None, status: str = MeasureStatus.PLANNED,
                   category: Category | None = None, from_organisation: Organisation | None = None,
                   to_organisation: Organisation | None = None) -> Measure:
    forum = _editable_forum(actor, decision.forum_id)
    _check_text({"title": title})
    with transaction.atomic():
        measure = Measure(decision=decision, title=title, owner_organisation=owner_organisation, due_on=due_on,
                          responsible_user=responsible_user, status=status, category=category,
                          from_organisation=from_organisation, to_organisation=to_organisation)
        if status != MeasureStatus.PLANNED:
            measure.status_changed_at = timezone.now()
        _validate_measure(forum, measure)
        measure.full_clean()
        measure.save()
        audit.record(actor, AuditAction.CREATE, measure)
    return measure


def update_measure(actor, measure: Measure, expected_version, **changes) -> Measure:
    """Change a measure, its status included (planned → in progress → done, or cancelled)."""
    _unknown(changes, MEASURE_FIELDS)
    _check_text({"title": changes.get("title")})
    with transaction.atomic():
        forum = _editable_forum(actor, measure.decision.forum_id)
        measure = Measure.objects.select_for_update().get(pk=measure.pk)
        _check_version(measure, expected_version)
        old_status = measure.status
        for name, value in changes.items():
            setattr(measure, name, value)
        if measure.status != old_status:
            measure.status_changed_at = timezone.now()
        _validate_measure(forum, measure)
        measure.full_clean()
        measure.version += 1
        measure.save()
        audit.record(actor, AuditAction.UPDATE, measure, fields=changes.keys())
    return measure


# --- before and after ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    start: datetime.date
    end: datetime.date  # inclusive
    count: int


@dataclass(frozen=True)
class BeforeAfter:
    measure_id: int
    decided_on: datetime.date
    window_days: int
    before: Window
    after: Window
    rate_before: float  # deviations per 30 days
    rate_after: float
    rate_change: float | None  # (after − before) / before; None when nothing happened before
    p_value: float
    alpha: float
    verdict: str  # "minskat", "oförändrat" or "ökat"
    too_early: bool
    category_ids: list[int]
    from_organisation_id: int | None
    to_organisation_id: int | None


def two_sided_rate_p(before: int, after: int, share_after: float = 0.5) -> float:
    """Exact conditional test of two Poisson rates: given n = before + after, `after` ~ Binomial(n, share_after)
    when the rate did not change (share_after = the after window's share of the time: ½ for equal windows).
    Two-sided p = 2 × the smaller tail, at most 1."""
    from avvikelser.signals_spc import binomial_upper_tail

    n = before + after
    if n == 0:
        return 1.0
    upper = binomial_upper_tail(after, n, share_after)  # P(X ≥ after)
    lower = binomial_upper_tail(n - after, n, 1.0 - share_after)  # P(X ≤ after) = P(n − X ≥ n − after)
    return min(1.0, 2.0 * min(upper, lower))


def before_after(measure: Measure, *, window_days: int | None = None,
                 today: datetime.date | None = None) -> BeforeAfter:
    """Did the measure's pattern change? Deviations of the measure's category (with everything merged into the
    same category) and pair (reporting → counterpart organisation; all pairs when none is set) in the forum,
    by the day they occurred, in two windows of equal length on either side of the decision date D:

        before = [D − w, D − 1],   after = [D, D + w − 1],   w = min(window_days or 365, days from D to today)

    The after window ends yesterday at the latest, so both windows hold only whole days.

    The test: under "no change" the deviations are a Poisson process with the same rate in both windows, so
    given the total n = before + after, the after count is Binomial(n, ½). The two-sided p-value is twice the
    smaller binomial tail (exact, pure Python). Verdict at α = 0.05: "minskat" (fewer after) or "ökat" (more
    after) when p < α, else "oförändrat" — which means "no change we can tell from these counts", not proof
    of no effect. With fewer than about 6 deviations in all, no difference can reach p < 0.05.

    Read it with care: reports of the after window still come in for weeks (answer and reporting lag), which
    pulls the after count down for recent decisions; forums often decide after a peak, so part of a drop may be
    regression to the mean; and a change in how much everyone reports (a reporting campaign) moves both
    windows' pattern the same way. `too_early` is set while the after window is under 30 days.
    """
    return before_after_many([measure], window_days=window_days, today=today)[0]


def before_after_many(measures, *, window_days: int | None = None,
                      today: datetime.date | None = None) -> list[BeforeAfter]:
    """`before_after` for a page of measures: the taxonomy read once and the counts of all measures of a forum in
    one aggregate query, however many measures there are."""
    from avvikelser.services import category_roots

    today = today or timezone.localdate()
    measures = list(measures)
    roots = category_roots() if any(m.category_id for m in measures) else {}
    plans, aggregates = [], {}
    for index, measure in enumerate(measures):
        decided = measure.decision.decided_on
        available = max(0, (today - decided).days)
        window = min(available, window_days or BEFORE_AFTER_MAX_DAYS, BEFORE_AFTER_MAX_DAYS)
        before = (decided - datetime.timedelta(days=window), decided - datetime.timedelta(days=1))
        after = (decided, decided + datetime.timedelta(days=window - 1))
        scope, categories = Q(), []
        if measure.category_id:
            root = roots.get(measure.category_id, measure.category_id)
            categories = sorted({pk for pk, r in roots.items() if r == root} | {measure.category_id})
            scope &= Q(category_id__in=categories)
        if measure.from_organisation_id and measure.to_organisation_id:
            scope &= Q(reporting_organisation_id=measure.from_organisation_id,
                       counterpart_organisation_id=measure.to_organisation_id)
        if window > 0:
            aggregates.setdefault(measure.decision.forum_id, {}).update({
                f"b{index}": Count("id", filter=scope & Q(occurred_on__gte=before[0], occurred_on__lte=before[1])),
                f"a{index}": Count("id", filter=scope & Q(occurred_on__gte=after[0], occurred_on__lte=after[1])),
            })
        plans.append((measure, decided, window, before, after, categories))
    counts = {}
    for forum_id, expressions in aggregates.items():
        counts.update(reports_of(forum_id).aggregate(**expressions))
    results = []
    for index, (measure, decided, window, before, after, categories) in enumerate(plans):
        n_before, n_after = counts.get(f"b{index}", 0), counts.get(f"a{index}", 0)
        p_value = two_sided_rate_p(n_before, n_after)
        verdict = "oförändrat"
        if p_value < BEFORE_AFTER_ALPHA:
            verdict = "minskat" if n_after < n_before else "ökat"
        per_30 = 30.0 / window if window else 0.0
        results.append(BeforeAfter(
            measure_id=measure.pk, decided_on=decided, window_days=window,
            before=Window(before[0], before[1], n_before), after=Window(after[0], after[1], n_after),
            rate_before=round(n_before * per_30, 3), rate_after=round(n_after * per_30, 3),
            rate_change=round((n_after - n_before) / n_before, 4) if n_before else None,
            p_value=p_value if math.isfinite(p_value) else 1.0, alpha=BEFORE_AFTER_ALPHA, verdict=verdict,
            too_early=window < 30, category_ids=categories,
            from_organisation_id=measure.from_organisation_id, to_organisation_id=measure.to_organisation_id))
    return results
