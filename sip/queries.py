"""Reads of persons and plans, narrowed by the gate, with what each screen and endpoint needs loaded."""

from __future__ import annotations

from django.db.models import DateField, DateTimeField, F, Prefetch, Q, QuerySet, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from organisations import access, audit
from organisations.prepared import Built, Prepared, PreparedRows
from sip import deadlines
from sip.access import visible_persons, visible_sips
from sip.models import Action, Consent, Goal, Meeting, Participant, Person, Sip, SipChange, SipUnit


def sips_for(user) -> QuerySet[Sip]:
    """The plans a user may see, with what a list row shows, in a constant number of queries."""
    return deadlines.annotate_flags(
        visible_sips(user).select_related(
            "person", "lead_organisation", "initiating_unit", "initiating_unit__organisation", "coordinator"
        )
    )


# The API shows a plan and its parts with every column of their own but only the names of what they reference.
# Reading the referenced rows' other columns (timestamps above all) cost more than the plans themselves: a list
# page loads 200 related objects (issue #7). Below: the related names each representation shows.
_USER_NAME = ("first_name", "last_name")
_PLAN_NAMES = {"person": _USER_NAME, "lead_organisation": ("name",), "initiating_unit": ("name",),
               "coordinator": _USER_NAME}


def _own_columns_and(model, names: dict[str, tuple[str, ...]]) -> list[str]:
    """`.only()` arguments: every concrete field of `model`, and of each related path only the named fields."""
    return [*(field.name for field in model._meta.concrete_fields),
            *(f"{path}__{name}" for path, fields in names.items() for name in fields)]


def _with_names(queryset: QuerySet, names: dict[str, tuple[str, ...]]) -> QuerySet:
    related = [path for path in names if not any(other.startswith(f"{path}__") for other in names)]
    return queryset.select_related(None).select_related(*related).only(*_own_columns_and(queryset.model, names))


def _list_rows(plans: QuerySet[Sip], today=None) -> QuerySet[Sip]:
    return _with_names(deadlines.annotate_flags(plans, today), _PLAN_NAMES)


# The list page's rows by their keys, compiled once (organisations/prepared.py): ~3 ms of Python per page.
_LIST_ROWS = PreparedRows(Sip, lambda today: _list_rows(Sip.objects.all(), today))


def sip_list_rows(user) -> QuerySet[Sip]:
    """sips_for() for the API's list: every column of the plan, only the names of what it references."""
    key = access.grant_key(user)
    if key is None:
        return _LIST_ROWS.attach(_list_rows(visible_sips(user)))
    return _GATED_LIST_ROWS(key, timezone.localdate())


# The gated list queryset built once per user, groups and day and cloned per request (organisations/prepared.py).
_GATED_LIST_ROWS = Built(lambda key, today: _LIST_ROWS.attach(
    _list_rows(access.granted_by_key(key, Sip.objects.all(), "view_sip"), today)))


# A plan's parts as its API representation shows them, each read by the plan's id (compiled once; the plan itself
# was read through the gate just before).
_PARTS = {
    "participations": Prepared(SipUnit, lambda sip_id: _with_names(SipUnit.objects.filter(sip_id=sip_id), {
        "unit": ("name", "organisation"), "unit__organisation": ("name",), "contact": _USER_NAME})),
    "consents": Prepared(Consent, lambda sip_id: _with_names(Consent.objects.filter(sip_id=sip_id), {
        "organisation": ("name",), "recorded_by": _USER_NAME})),
    "goals": Prepared(Goal, lambda sip_id: Goal.objects.filter(sip_id=sip_id).order_by("id")),
    "actions": Prepared(Action, lambda sip_id: _with_names(Action.objects.filter(sip_id=sip_id), {
        "responsible_organisation": ("name",), "responsible_unit": ("name",), "responsible_user": _USER_NAME})),
    "meetings": Prepared(Meeting, lambda sip_id: Meeting.objects.filter(sip_id=sip_id)),
}
_MEETING_PARTICIPANTS = Prepared(Participant, lambda sip_id: _with_names(
    Participant.objects.filter(meeting__sip_id=sip_id), {"user": _USER_NAME, "unit": ("name",)}))


def _as_prefetched(obj, related_name: str, objects: list) -> None:
    """Leave `objects` where prefetch_related leaves them: `obj.<related_name>.all()` answers from them, and each
    knows its parent. For reading only: the cached queryset is not meant to be filtered further."""
    relation = obj._meta.get_field(related_name)
    for child in objects:
        relation.field.set_cached_value(child, obj)
    cached = relation.related_model._base_manager.none()
    cached._result_cache, cached._prefetch_done = objects, True
    obj.__dict__.setdefault("_prefetched_objects_cache", {})[relation.field.remote_field.cache_name] = cached


_PLAN_WITH_NAMES = access.VisibleByKey(Sip, "view_sip", rows=lambda gated: _with_names(gated, _PLAN_NAMES))


def sip_representation(user, pk) -> Sip:
    """One plan with what its API representation shows (sip_detail() loads every column, for the plan page): the
    plan through the gate, then each of its parts by the plan's id, as prefetch_related would leave them. The
    overdue-action flag is the list's rule (deadlines.overdue_action_exists) applied to the actions read."""
    sip = _PLAN_WITH_NAMES(user, pk)
    for name, read in _PARTS.items():
        _as_prefetched(sip, name, read(sip.pk))
    today = timezone.localdate()
    sip.has_overdue_action = any(deadlines.action_overdue(action, today) for action in sip.actions.all())
    participants: dict[int, list] = {meeting.pk: [] for meeting in sip.meetings.all()}
    for participant in _MEETING_PARTICIPANTS(sip.pk):
        participants[participant.meeting_id].append(participant)
    for meeting in sip.meetings.all():
        _as_prefetched(meeting, "participants", participants[meeting.pk])
    return sip


def filter_sips(queryset: QuerySet[Sip], *, status=None, unit=None, lead_organisation=None, overdue=None,
                person=None) -> QuerySet[Sip]:
    if status:
        queryset = queryset.filter(status__in=status if isinstance(status, list | tuple) else [status])
    if unit:
        queryset = queryset.filter(participations__unit_id=unit)
    if lead_organisation:
        queryset = queryset.filter(lead_organisation_id=lead_organisation)
    if person:
        queryset = queryset.filter(person_id=person)
    if overdue is True:
        queryset = queryset.filter(deadlines.call_overdue_q() | deadlines.follow_up_overdue_q()
                                   | Q(has_overdue_action=True))
    elif overdue is False:
        queryset = queryset.exclude(deadlines.call_overdue_q() | deadlines.follow_up_overdue_q()
                                    | Q(has_overdue_action=True))
    return queryset


def my_sips(user) -> QuerySet[Sip]:
    """'Mina SIP:ar': open plans of the user's units, overdue first, then by the next date (follow-up or
    call deadline), ordered in the database so a page costs the same however many plans there are."""
    from django.db.models import BooleanField, ExpressionWrapper, F
    from django.db.models.functions import Coalesce, TruncDate

    from sip.lifecycle import OPEN

    overdue = ExpressionWrapper(deadlines.call_overdue_q() | deadlines.follow_up_overdue_q()
                                | Q(has_overdue_action=True), output_field=BooleanField())
    return (sips_for(user).filter(status__in=OPEN)
            .annotate(is_overdue=overdue, next_date=Coalesce("follow_up_on", TruncDate("call_due_at")))
            .order_by("-is_overdue", F("next_date").asc(nulls_last=True), "id"))


def sip_detail(user, pk) -> Sip:
    """One plan with every part loaded: participants, consents, goals, actions, meetings."""
    queryset = sips_for(user).prefetch_related(
        Prefetch("participations", queryset=SipUnit.objects.select_related("unit", "unit__organisation", "contact")),
        Prefetch("consents", queryset=Consent.objects.select_related("organisation", "recorded_by")),
        Prefetch("goals", queryset=Goal.objects.order_by("id")),
        Prefetch("actions", queryset=Action.objects.select_related(
            "responsible_organisation", "responsible_unit", "responsible_user", "goal")),
        Prefetch("meetings", queryset=Meeting.objects.prefetch_related(
            Prefetch("participants", queryset=Participant.objects.select_related("user", "unit")))),
    )
    return access.get_visible(queryset, pk)


def record_sip_read(user, sip: Sip) -> None:
    audit.record_reads(user, [sip])  # the same entry as audit.record(), without an ORM insert


def record_sip_list_read(user, sips) -> None:
    audit.record_reads(user, sips)


def goals_of(sip: Sip) -> QuerySet[Goal]:
    return Goal.objects.filter(sip=sip).order_by("id")


def actions_of(sip: Sip) -> QuerySet[Action]:
    return Action.objects.filter(sip=sip).select_related(
        "responsible_organisation", "responsible_unit", "responsible_user", "goal").order_by("starts_on", "id")


def meetings_of(sip: Sip) -> QuerySet[Meeting]:
    return Meeting.objects.filter(sip=sip).prefetch_related(
        Prefetch("participants", queryset=Participant.objects.select_related("user", "unit"))
    ).order_by("starts_at", "id")


def consents_of(sip: Sip) -> QuerySet[Consent]:
    return Consent.objects.filter(sip=sip).select_related("organisation", "recorded_by").order_by("id")


def participations_of(sip: Sip) -> QuerySet[SipUnit]:
    return SipUnit.objects.filter(sip=sip).select_related("unit", "unit__organisation", "contact").order_by("id")


def history_of(sip: Sip) -> QuerySet[SipChange]:
    return SipChange.objects.filter(sip=sip).select_related("actor").order_by("-at", "-id")


# The timeline's columns, one annotation each (an annotation may not take a field's name: hence the underscores).
_TIMELINE_COLUMNS = ("item", "key", "starts_on_", "ends_on_", "starts_at_", "ends_at_", "label", "state")


def _timeline_rows(action_sip_id: int, meeting_sip_id: int):
    """The plan's actions and meetings in one statement (UNION ALL), only the columns the timeline shows, in the
    same order in both parts so that they line up."""
    no_day, no_time = Value(None, output_field=DateField()), Value(None, output_field=DateTimeField())
    actions = Action.objects.filter(sip_id=action_sip_id).annotate(
        item=Value("action"), key=F("id"), starts_on_=F("starts_on"), ends_on_=F("ends_on"), starts_at_=no_time,
        ends_at_=no_time, label=F("title"), state=F("status"))
    meetings = Meeting.objects.filter(sip_id=meeting_sip_id).annotate(
        item=Value("meeting"), key=F("id"), starts_on_=no_day, ends_on_=no_day, starts_at_=F("starts_at"),
        ends_at_=F("ends_at"), label=F("kind"), state=F("status"))
    return (actions.order_by().values_list(*_TIMELINE_COLUMNS, named=True)
            .union(meetings.order_by().values_list(*_TIMELINE_COLUMNS, named=True), all=True))


# Compiled once (organisations/prepared.py): read on every timeline request.
_TIMELINE_ROWS = Prepared(Action, _timeline_rows)


def timeline_of(sip: Sip) -> list[dict]:
    """Actions and meetings merged in date order: what happens when. Only the columns the timeline shows."""
    today = timezone.localdate()
    kinds = None
    items = []
    for row in _TIMELINE_ROWS(sip.pk, sip.pk):
        if row.item == "action":
            items.append({
                "type": "action", "id": row.key, "date": row.starts_on_ or row.ends_on_, "end": row.ends_on_,
                "title": row.label, "status": row.state,
                "overdue": deadlines.action_overdue(Action(status=row.state, ends_on=row.ends_on_), today),
            })
        else:
            if kinds is None:  # the labels in the request's language, as get_kind_display() gives them
                kinds = {value: str(label) for value, label in Meeting._meta.get_field("kind").flatchoices}
            items.append({
                "type": "meeting", "id": row.key, "date": timezone.localtime(row.starts_at_).date(),
                "end": timezone.localtime(row.ends_at_).date(), "title": kinds.get(row.label, row.label),
                "status": row.state, "overdue": False,
            })
    if sip.follow_up_on:
        items.append({"type": "follow_up", "id": sip.pk, "date": sip.follow_up_on, "end": None,
                      "title": _("Uppföljning"), "status": sip.status,
                      "overdue": deadlines.follow_up_overdue(sip, today)})
    return sorted(items, key=lambda item: (item["date"] is None, item["date"] or today, item["type"], item["id"]))


def persons_for(user) -> QuerySet[Person]:
    return visible_persons(user).select_related("registered_by_unit").order_by("id")


def consent_active(consent: Consent, today=None) -> bool:
    from sip.access import consent_is_active

    return consent_is_active(consent, today)


def shows_identity(user, person: Person) -> bool:
    """Protected identity: only those taking part in one of the person's plans see the name."""
    from sip.access import in_plan_with

    return not person.protected_identity or in_plan_with(user, person)

