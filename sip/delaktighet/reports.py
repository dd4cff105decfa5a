"""Delaktighet reports: what the persons said after their meetings, aggregated in the database and protected
by small-cell suppression before any figure leaves this module.

Scope (the access rule)
    A user sees results for plans whose lead organisation is one of the user's organisations. An answered
    invitation counts for the organisation stored on its response (who ran the plan when it was answered), an
    unanswered one for the plan's current lead organisation, so every answer is counted in exactly the scope
    its invitation is. `organisation` and `unit` must belong to the user's organisations, else `NotFound`.

What is counted
    Per group (gender and/or age band of the respondent, or everyone): invitations, answers (responses),
    response rate, the share of respondents whose own mean over the 1–6 items they answered is ≥ 4
    (Eskilstuna's measure, over respondents who answered at least one such item), and per counted item its
    number of answers, mean, share of answers ≥ 4 and distribution. Free-text items never appear. Yes/no/vet
    ej and single-choice items are counted by their stored value (no mean, no share). An unanswered invitation
    is grouped by the gender and age band its answer would have been stored with (see services._store).

Small cells (threshold `settings.DELAKTIGHET_MIN_CELL`, default 5, written `<5` below)
    1. Primary: a count of 1–4 is shown as "<5"; 0 is shown as 0 (Swedish practice: hide 1–4, show 0).
    2. Statistics follow their base: a response rate is hidden when its invitations or answers are hidden,
       a mean or share when the item's number of answers is hidden, and the respondent share when answers are
       hidden or fewer than 5 respondents answered a 1–6 item. A statistic without any base (0) is None.
    3. A group whose number of answers is hidden is hidden entirely: every figure of that group for every item
       is "<5", zeros included (a shown count of an item would otherwise bound the hidden group size).
    4. Complementary: every published sum is a *line* — its members add up to its total:
         invitations of the groups = total invitations; answers of the groups = total answers;
         per item, the groups' numbers of answers = the total's; per item and value, the groups' counts = the
         total's; per item and row (every group and the total), its distribution = its number of answers;
         per scale item and row with a shown share ≥ 4, the counts of 4–6 = share × n and those of 1–3 =
         n − share × n (the share reveals both partial sums).
       A line whose total is shown may not contain exactly one hidden figure (counting the total when it is a
       count itself), or that figure is the total minus the others. Whenever one does, the smallest shown
       non-zero member is hidden too (ties: the first in order); a partial line with no such member hides its
       share instead. This is repeated over all lines until none changes, so a figure hidden to protect one
       line is protected in its own lines as well.
    Every hidden figure, primary or complementary, is written the same way (f"<{threshold}"), so a reader
    cannot tell which of two hidden cells is the small one.

    Not covered (documented, not claimed): inference that is not a subtraction. A shown mean is a weighted sum
    of its distribution: in a row with exactly two hidden counts, n and the mean (two decimals) usually solve
    both (e.g. n 20, mean 4.35, shown 4: 6 and 6: 5, hidden 2 and 5 → 2c₂ + 5c₅ = 33, c₂ + c₅ = 9 → 4 and 5).
    Bounds from inequalities (an item's n ≤ the group's answers) and shares of 0 or 1 are not audited either.
    Shares are rounded to three decimals and means to two.

Cost
    Six or seven queries whatever the number of answers: memberships (cached per user object), version,
    items, the unit (only when given as an id), respondents, unanswered invitations and answers — the last
    three each a single grouped aggregate over one covering index (migration 0003_report_columns): what the
    report filters and groups by is stored on the response, the invitation and the answer when they are
    written (see models), so no aggregate joins another table. An answered invitation is counted from its
    response. Rows written without those columns (bulk_create, COPY) are counted from their joins as before,
    in the same statements; fill_report_columns() fills them. The assembly in Python works on the aggregated
    rows (at most items × groups × values), never on answers.

What a group means over time
    A response keeps the gender and age band of the respondent when it was answered (age at the meeting). An
    unanswered invitation is counted with what its answer would be stored with now: a corrected gender or
    birth year of the person, or a new lead organisation of the plan, moves it (receivers.py keeps the stored
    copies in step). So the figures are those of the state at answering time, and for the not yet answered,
    of the current records — the same as when everything was computed at query time.

Exports write the report's values as they are (already suppressed); nothing is recomputed from raw data.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from itertools import product

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractYear
from django.utils.translation import gettext as _

from organisations import access
from organisations.errors import NotFound
from organisations.models import Unit
from sip.delaktighet.models import (
    AgeBand,
    Answer,
    Invitation,
    InvitationStatus,
    Item,
    ItemKind,
    Purpose,
    Response,
    TemplateVersion,
)
from sip.delaktighet.services import YES_NO_UNKNOWN, current_version
from sip.models import Gender, ParticipantKind, SipUnit

GROUP_BY = ("gender", "age_band")
CATEGORIES = {"gender": tuple(Gender.values), "age_band": tuple(AgeBand.values)}
COUNTED_KINDS = (ItemKind.SCALE_1_6, ItemKind.YES_NO_UNKNOWN, ItemKind.SINGLE_CHOICE)
SCALE = tuple(range(1, 7))
LOW, HIGH = (1, 2, 3), (4, 5, 6)
MEAN_DIGITS, SHARE_DIGITS = 2, 3

_TOTAL = "__total__"  # row key of everyone; group keys are tuples, so it cannot clash
# A dimension stored under another name on Response and Invitation.
_STORED_FIELD = {"organisation": "lead_organisation_id"}


def min_cell() -> int:
    return int(getattr(settings, "DELAKTIGHET_MIN_CELL", 5))


def marker(threshold: int) -> str:
    return f"<{threshold}"


# --- suppression ------------------------------------------------------------------------------------------

class _Table:
    """Figures tied together by lines (members that add up to a total), with primary and complementary
    suppression applied until no shown line has exactly one hidden figure.

    Counts are registered with their value; statistics (rates, means, shares) are keys without a value that
    are hidden when a count they depend on is hidden. A line's total is either a count (itself protected and an
    unknown when hidden) or a statistic (the line is published only while that statistic is shown).
    """

    def __init__(self, threshold: int):
        self.threshold = threshold
        self.values: dict[Hashable, int] = {}
        self.hidden: set[Hashable] = set()
        self.lines: list[tuple[tuple[Hashable, ...], Hashable, bool]] = []
        self.dependents: dict[Hashable, list[Hashable]] = defaultdict(list)

    def count(self, key: Hashable, value: int) -> None:
        self.values[key] = int(value)

    def depends(self, statistic: Hashable, *on: Hashable) -> None:
        for key in on:
            self.dependents[key].append(statistic)

    def line(self, members: Iterable[Hashable], total: Hashable, *, total_is_count: bool = True) -> None:
        self.lines.append((tuple(members), total, total_is_count))

    def hide(self, key: Hashable) -> bool:
        if key in self.hidden:
            return False
        stack = [key]
        while stack:
            current = stack.pop()
            if current not in self.hidden:
                self.hidden.add(current)
                stack.extend(self.dependents.get(current, ()))
        return True

    def protect(self) -> set[Hashable]:
        for key, value in self.values.items():
            if 0 < value < self.threshold:
                self.hide(key)
        changed = True
        while changed:
            changed = False
            for members, total, total_is_count in self.lines:
                if total_is_count:
                    unknown = sum(1 for key in (*members, total) if key in self.hidden)
                elif total in self.hidden:
                    continue  # the statistic that publishes this sum is not shown
                else:
                    unknown = sum(1 for key in members if key in self.hidden)
                if unknown != 1:
                    continue
                candidates = [key for key in members if key not in self.hidden and self.values[key] > 0]
                if candidates:
                    changed |= self.hide(min(candidates, key=self.values.__getitem__))
                elif total not in self.hidden:
                    changed |= self.hide(total)
                # else the lone unknown is a total whose members are all shown zeros: it is 0, nothing hidden.
        return self.hidden

    def shown(self, key: Hashable) -> int | str:
        return marker(self.threshold) if key in self.hidden else self.values[key]


def suppress(cells: dict[str, int], total: int | None, threshold: int) -> dict[str, int | str]:
    """One line of counts: `cells` that add up to `total` (None when no total is shown beside them).

    Counts of 1 to threshold − 1 become f"<{threshold}", 0 stays 0. When a total is shown and exactly one
    figure of the line (the total included) is hidden, the smallest shown non-zero cell is hidden too, so no
    hidden cell equals the total minus the shown ones. Returns the cells (the caller hides the total itself
    when 0 < total < threshold).
    """
    table = _Table(threshold)
    for key, value in cells.items():
        table.count(("cell", key), value)
    if total is not None:
        table.count(_TOTAL, total)
        table.line([("cell", key) for key in cells], _TOTAL)
    table.protect()
    return {key: table.shown(("cell", key)) for key in cells}


# --- scope ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Scope:
    organisations: tuple[int, ...]
    version_id: int
    unit_id: int | None
    period_start: datetime.date | None
    period_end: datetime.date | None


def _pk(value) -> int | None:
    if value is None:
        return None
    pk = getattr(value, "pk", value)
    try:
        return int(pk)
    except (TypeError, ValueError):
        raise NotFound from None


def _version(version) -> TemplateVersion:
    if version is None:
        found = current_version(Purpose.PARTICIPATION)
    else:
        found = TemplateVersion.objects.published().filter(
            pk=_pk(version), template__purpose=Purpose.PARTICIPATION).first()
    if found is None:
        raise NotFound(_("Enkätversionen finns inte."))
    return found


def _group_by(group_by) -> tuple[str, ...]:
    if isinstance(group_by, str):
        group_by = (group_by,)
    wanted = set(group_by or ())
    unknown = wanted - set(GROUP_BY)
    if unknown:
        raise ValidationError({"group_by": [_("Okänd gruppering: %(names)s.") % {"names": ", ".join(
            sorted(map(str, unknown)))}]})
    return tuple(name for name in GROUP_BY if name in wanted)


def _sips_of_unit(unit_id: int):
    return SipUnit.objects.filter(unit_id=unit_id).values("sip_id")


def _response_q(scope: _Scope, prefix: str = "") -> Q:
    q = Q(**{f"{prefix}lead_organisation_id__in": scope.organisations, f"{prefix}version_id": scope.version_id})
    if scope.period_start:
        q &= Q(**{f"{prefix}meeting_held_on__gte": scope.period_start})
    if scope.period_end:
        q &= Q(**{f"{prefix}meeting_held_on__lte": scope.period_end})
    if scope.unit_id:
        q &= Q(**{f"{prefix}invitation__sip_id__in": _sips_of_unit(scope.unit_id)})
    return q


def _answer_q(scope: _Scope) -> Q:
    """Filled answers (models.Answer) in scope: the response's organisation and meeting date are stored on the
    answer. The version needs no condition: the report asks for its version's items, and an answer's item always
    belongs to its response's version (services._clean_answers)."""
    q = Q(lead_organisation_id__in=scope.organisations) & _stored_period_q(scope)
    if scope.unit_id:
        q &= Q(response__invitation__sip_id__in=_sips_of_unit(scope.unit_id))
    return q


def _stored_period_q(scope: _Scope) -> Q:
    """The period on the stored meeting date."""
    q = Q()
    if scope.period_start:
        q &= Q(meeting_held_on__gte=scope.period_start)
    if scope.period_end:
        q &= Q(meeting_held_on__lte=scope.period_end)
    return q


def _unanswered_q(scope: _Scope) -> Q:
    """Unanswered invitations whose report columns are filled (models.Invitation): the plan's current lead
    organisation and the meeting's date are stored on the invitation. An invitation is answered exactly when it
    has a response: services._store writes both in one transaction, and nothing else writes either."""
    q = ~Q(status=InvitationStatus.ANSWERED) & Q(lead_organisation_id__in=scope.organisations,
                                                version_id=scope.version_id) & _stored_period_q(scope)
    if scope.unit_id:
        q &= Q(sip_id__in=_sips_of_unit(scope.unit_id))
    return q


def _unfilled_q(scope: _Scope) -> Q:
    """Unanswered invitations whose report columns are not filled (bulk_create, COPY; normally none): the same
    scope, computed from the plan and the meeting."""
    q = Q(lead_organisation__isnull=True, response__isnull=True, version_id=scope.version_id,
          sip__lead_organisation_id__in=scope.organisations)
    if scope.period_start:
        q &= Q(meeting__held_at__date__gte=scope.period_start)
    if scope.period_end:
        q &= Q(meeting__held_at__date__lte=scope.period_end)
    if scope.unit_id:
        q &= Q(sip_id__in=_sips_of_unit(scope.unit_id))
    return q


# --- aggregation in the database -------------------------------------------------------------------------

def _live_groups(dims: tuple[str, ...]) -> tuple[dict, dict]:
    """Aliases and group expressions of a not-filled unanswered invitation, computed as services.report_columns
    stores them: the gender and age band its answer would be stored with (services._store: the person's own, a
    närstående's "vill_ej_uppge" and unknown age) and the plan's lead organisation."""
    is_person = Q(participant__kind=ParticipantKind.PERSON)
    aliases, expressions = {}, {}
    if "organisation" in dims:  # organisation_report(): the organisation the invitation counts for
        expressions["g_organisation"] = F("sip__lead_organisation_id")
    if "gender" in dims:
        expressions["g_gender"] = Case(When(is_person, then=F("sip__person__gender")),
                                       default=Value(Gender.VILL_EJ_UPPGE), output_field=CharField())
    if "age_band" in dims:
        aliases["r_age"] = (ExtractYear(Coalesce("meeting__held_at", "created_at"))
                            - F("sip__person__birth_year"))
        expressions["g_age_band"] = Case(
            When(~is_person | Q(sip__person__birth_year__isnull=True) | Q(sip__person__birth_year=0),
                 then=Value(AgeBand.UNKNOWN)),
            When(Q(r_age__lt=25), then=Value(AgeBand.UNDER_25)),
            When(Q(r_age__lt=45), then=Value(AgeBand.AGE_25_44)),
            When(Q(r_age__lt=65), then=Value(AgeBand.AGE_45_64)),
            default=Value(AgeBand.AGE_65_PLUS), output_field=CharField())
    return aliases, expressions


def _stored_groups(dims: tuple[str, ...], prefix: str = "") -> dict:
    """Group expressions over the columns a response (or a filled invitation) stores."""
    return {f"g_{name}": F(f"{prefix}{_STORED_FIELD.get(name, name)}") for name in dims}


def _key(row: dict, dims: tuple[str, ...]) -> tuple:
    return tuple(row[f"g_{name}"] for name in dims)


def _own_mean_ge4(scale_ids: list[int]):
    """Per response: 1 when its own mean over the 1–6 items it answered is ≥ 4, 0 when below, NULL when it
    answered none. From the number and sum stored with the answers (sum ≥ 4 × number is the mean ≥ 4, exactly,
    in integers); for a response without them, from its answers (the CASE evaluates that subquery only then)."""
    if not scale_ids:
        return Value(None, output_field=IntegerField())
    computed = Subquery(
        Answer.objects.filter(response_id=OuterRef("pk"), item_id__in=scale_ids, value_int__isnull=False)
        .order_by().values("response_id").annotate(mean=Avg("value_int"))
        .annotate(flag=Case(When(mean__gte=4, then=Value(1)), default=Value(0), output_field=IntegerField()))
        .values("flag")[:1], output_field=IntegerField())
    return Case(When(scale_answers__isnull=True, then=computed),
                When(scale_answers=0, then=Value(None, output_field=IntegerField())),
                When(scale_sum__gte=F("scale_answers") * 4, then=Value(1)),
                default=Value(0), output_field=IntegerField())


@dataclass
class _Raw:
    invitations: dict[tuple, int]
    answers: dict[tuple, int]
    rated: dict[tuple, int]
    rated_ge4: dict[tuple, int]
    distribution: dict[tuple[int, tuple, int], int]  # (item id, group, value) → number of answers


def _add(counts: dict, key: tuple, n: int) -> None:
    counts[key] = counts.get(key, 0) + n


def _aggregate(scope: _Scope, dims: tuple[str, ...], items: list[dict]) -> _Raw:
    """Three queries whatever the number of answers (all grouped aggregates, from covering indexes):
    responses (answers, their own-mean flags, and the answered invitations: an answered invitation counts in the
    scope and group of its response, whose version is the invitation's: services._store), unanswered
    invitations, and the answer distribution."""
    raw = _Raw({}, {}, {}, {}, {})
    constant = {} if dims else {"g_all": Value(1, output_field=IntegerField())}

    # Grouping by the flag as well counts answers, respondents with a mean and those with a mean ≥ 4 in one pass.
    scale_ids = [item["id"] for item in items if item["kind"] == ItemKind.SCALE_1_6]
    responses = Response.objects.filter(_response_q(scope))
    for row in (responses.values(own_mean_ge4=_own_mean_ge4(scale_ids), **_stored_groups(dims))
                .annotate(n=Count("*")).order_by()):
        key = _key(row, dims)
        _add(raw.answers, key, row["n"])
        _add(raw.invitations, key, row["n"])
        if row["own_mean_ge4"] is not None:
            _add(raw.rated, key, row["n"])
            _add(raw.rated_ge4, key, row["n"] * row["own_mean_ge4"])

    # Unanswered invitations: the filled ones from the partial index invitation_open_report, and in the same
    # statement the not filled ones (normally none, found through invitation_unfilled) from their joins.
    aliases, live = _live_groups(dims)
    filled = (Invitation.objects.filter(_unanswered_q(scope)).values(**constant, **_stored_groups(dims))
              .annotate(n=Count("*")).order_by())
    unfilled = (Invitation.objects.filter(_unfilled_q(scope)).alias(**aliases).values(**constant, **live)
                .annotate(n=Count("*")).order_by())
    for row in filled.union(unfilled, all=True):
        _add(raw.invitations, _key(row, dims), row["n"])
    if not dims:
        raw.invitations.setdefault((), 0)

    # The distribution: the filled answers from the index answer_report alone, and in the same statement the not
    # filled ones (normally none, found through answer_unfilled) through their response.
    item_ids = [item["id"] for item in items]
    if item_ids:
        counted = Q(item_id__in=item_ids, value_int__isnull=False)
        filled = (Answer.objects.filter(_answer_q(scope), counted)
                  .values("item_id", "value_int", **_stored_groups(dims)).annotate(n=Count("*")).order_by())
        unfilled = (Answer.objects.filter(_response_q(scope, "response__"), counted, lead_organisation__isnull=True)
                    .values("item_id", "value_int", **_stored_groups(dims, "response__"))
                    .annotate(n=Count("*")).order_by())
        for row in filled.union(unfilled, all=True):
            _add(raw.distribution, (row["item_id"], _key(row, dims), row["value_int"]), row["n"])
    return raw


def fill_report_columns(using: str = "default") -> dict[str, int]:
    """Fill the stored report columns of rows written without them (bulk_create, COPY: bench/datagen), set-wise,
    exactly as services store them; returns the number of rows filled per table. The report is exact without
    this (it counts such rows from their joins), but only fast with it. Migration 0003 holds a frozen copy."""
    from django.db import connections
    from django.db.models import Sum
    from django.db.models.functions import TruncDate

    from sip.models import Meeting, Sip

    aliases, live = _live_groups(("gender", "age_band"))
    computed = Invitation.objects.using(using).filter(pk=OuterRef("pk")).alias(**aliases).annotate(**live)
    invitations = Invitation.objects.using(using).filter(lead_organisation__isnull=True).update(
        lead_organisation_id=Subquery(Sip.objects.using(using).filter(pk=OuterRef("sip_id"))
                                      .values("lead_organisation_id")[:1]),
        meeting_held_on=Subquery(Meeting.objects.using(using).filter(pk=OuterRef("meeting_id"))
                                 .annotate(day=TruncDate("held_at")).values("day")[:1]),
        gender=Subquery(computed.values("g_gender")[:1]),
        age_band=Subquery(computed.values("g_age_band")[:1]),
    )
    scale = (Answer.objects.using(using).filter(response_id=OuterRef("pk"), item__version_id=OuterRef("version_id"),
                                                 item__kind=ItemKind.SCALE_1_6, value_int__isnull=False)
             .order_by().values("response_id"))
    responses = Response.objects.using(using).filter(scale_answers__isnull=True).update(
        scale_answers=Coalesce(Subquery(scale.annotate(n=Count("pk")).values("n")[:1],
                                        output_field=IntegerField()), 0),
        scale_sum=Coalesce(Subquery(scale.annotate(s=Sum("value_int")).values("s")[:1],
                                    output_field=IntegerField()), 0),
    )
    with connections[using].cursor() as cursor:  # one UPDATE … FROM (PostgreSQL, and SQLite since 3.33)
        cursor.execute(
            "UPDATE delaktighet_answer SET lead_organisation_id = r.lead_organisation_id, "
            "meeting_held_on = r.meeting_held_on, gender = r.gender, age_band = r.age_band "
            "FROM delaktighet_response r "
            "WHERE r.id = delaktighet_answer.response_id AND delaktighet_answer.lead_organisation_id IS NULL")
        answers = cursor.rowcount
    return {"invitations": invitations, "responses": responses, "answers": answers}


def _item_values(item: dict) -> tuple[int, ...]:
    if item["kind"] == ItemKind.SCALE_1_6:
        return SCALE
    if item["kind"] == ItemKind.YES_NO_UNKNOWN:
        return tuple(sorted(YES_NO_UNKNOWN.values()))
    return tuple(range(len(item["choices"] or ())))


def _groups(dims: tuple[str, ...], raw: _Raw) -> list[tuple]:
    """Every combination of the categories, in their order, then any other stored value found."""
    expected = list(product(*(CATEGORIES[name] for name in dims)))
    seen = set(raw.invitations) | set(raw.answers) | {group for _item, group, _value in raw.distribution}
    extra = sorted(seen - set(expected), key=lambda key: tuple(str(part) for part in key))
    return expected + extra


# --- assembly (pure: aggregated numbers in, protected report out) -----------------------------------------

def _assemble(dims: tuple[str, ...], groups: list[tuple], items: list[dict], raw: _Raw,
              threshold: int) -> tuple[list[dict], dict]:
    rows = [*groups, _TOTAL]

    def summed(source: dict, row) -> int:
        return sum(source.values()) if row == _TOTAL else source.get(row, 0)

    table = _Table(threshold)
    rated, rated_ge4 = {}, {}
    for row in rows:
        table.count(("inv", row), summed(raw.invitations, row))
        table.count(("ans", row), summed(raw.answers, row))
        rated[row], rated_ge4[row] = summed(raw.rated, row), summed(raw.rated_ge4, row)
        table.depends(("rate", row), ("inv", row), ("ans", row))
        table.depends(("resp", row), ("ans", row))
        if 0 < rated[row] < threshold:
            table.hide(("resp", row))  # fewer respondents answered a 1–6 item than the threshold
    table.line([("inv", group) for group in groups], ("inv", _TOTAL))
    table.line([("ans", group) for group in groups], ("ans", _TOTAL))

    for item in items:
        item_id, values = item["id"], _item_values(item)
        for row in rows:
            n = 0
            for value in values:
                count = (sum(raw.distribution.get((item_id, group, value), 0) for group in groups)
                         if row == _TOTAL else raw.distribution.get((item_id, row, value), 0))
                table.count(("d", item_id, row, value), count)
                n += count
            table.count(("n", item_id, row), n)
            cells = [("d", item_id, row, value) for value in values]
            table.depends(("n", item_id, row), ("ans", row))
            for cell in cells:
                table.depends(cell, ("ans", row))
            table.depends(("mean", item_id, row), ("n", item_id, row))
            table.depends(("share", item_id, row), ("n", item_id, row))
            table.line(cells, ("n", item_id, row))
            if item["kind"] == ItemKind.SCALE_1_6:
                share = ("share", item_id, row)
                table.line([("d", item_id, row, value) for value in LOW], share, total_is_count=False)
                table.line([("d", item_id, row, value) for value in HIGH], share, total_is_count=False)
        table.line([("n", item_id, group) for group in groups], ("n", item_id, _TOTAL))
        for value in values:
            table.line([("d", item_id, group, value) for group in groups], ("d", item_id, _TOTAL, value))

    table.protect()
    hidden, mark = table.hidden, marker(threshold)

    def statistic(key, base: int, compute):
        if key in hidden:
            return mark
        return None if base == 0 else compute()

    def block(row) -> dict:
        invitations, answers = table.values[("inv", row)], table.values[("ans", row)]
        result = {
            "invitations": table.shown(("inv", row)),
            "answers": table.shown(("ans", row)),
            "response_rate": statistic(("rate", row), invitations, lambda: round(answers / invitations,
                                                                                  SHARE_DIGITS)),
            "respondent_mean_share_ge4": statistic(("resp", row), rated[row], lambda: round(
                rated_ge4[row] / rated[row], SHARE_DIGITS)),
            "items": [],
        }
        for item in items:
            item_id, values = item["id"], _item_values(item)
            n = table.values[("n", item_id, row)]
            counts = {value: table.values[("d", item_id, row, value)] for value in values}
            scale = item["kind"] == ItemKind.SCALE_1_6
            result["items"].append({
                "code": item["code"],
                "text": item["text"],
                "n": table.shown(("n", item_id, row)),
                "mean": statistic(("mean", item_id, row), n, lambda c=counts, n=n: round(
                    sum(value * count for value, count in c.items()) / n, MEAN_DIGITS)) if scale else None,
                "share_ge4": statistic(("share", item_id, row), n, lambda c=counts, n=n: round(
                    sum(c[value] for value in HIGH) / n, SHARE_DIGITS)) if scale else None,
                "distribution": {str(value): table.shown(("d", item_id, row, value)) for value in values},
            })
        return result

    group_blocks = [{"key": dict(zip(dims, group, strict=True)), **block(group)} for group in groups]
    return group_blocks, block(_TOTAL)


# --- the report -------------------------------------------------------------------------------------------

def participation_report(user, *, organisation=None, unit=None, period_start: datetime.date | None = None,
                         period_end: datetime.date | None = None, version=None, group_by=()) -> dict:
    """The delaktighet report for the plans led by the user's organisations, small cells suppressed.

    Returns {"template_version", "filters", "min_cell", "groups": [...], "total": {...}}; see the module
    docstring for what each figure means and how it is protected.
    """
    dims = _group_by(group_by)
    if period_start and period_end and period_end < period_start:
        raise ValidationError({"period_end": [_("Perioden slutar innan den börjar.")]})
    mine = access.organisation_ids(user)
    organisation_id = _pk(organisation)
    if organisation_id is not None and organisation_id not in mine:
        raise NotFound(_("Organisationen finns inte."))
    unit_id = _pk(unit)
    if unit_id is not None:
        unit_organisation = (unit.organisation_id if isinstance(unit, Unit) else Unit.objects.filter(
            pk=unit_id).order_by().values_list("organisation_id", flat=True).first())
        if unit_organisation not in mine:
            raise NotFound(_("Enheten finns inte."))
    template_version = _version(version)
    items = list(Item.objects.filter(version=template_version, kind__in=COUNTED_KINDS).order_by("order")
                 .values("id", "code", "text", "kind", "choices"))
    scope = _Scope(
        organisations=tuple(sorted([organisation_id] if organisation_id is not None else mine)),
        version_id=template_version.pk, unit_id=unit_id, period_start=period_start, period_end=period_end)
    raw = _aggregate(scope, dims, items)
    threshold = min_cell()
    groups, total = _assemble(dims, _groups(dims, raw), items, raw, threshold)
    return {
        "template_version": template_version.pk,
        "filters": {
            "organisation": organisation_id,
            "unit": unit_id,
            "period_start": period_start.isoformat() if period_start else None,
            "period_end": period_end.isoformat() if period_end else None,
            "group_by": list(dims),
        },
        "min_cell": threshold,
        "groups": groups,
        "total": total,
    }


def organisation_report(organisation_ids: Iterable[int], *, period_start: datetime.date | None = None,
                        period_end: datetime.date | None = None, version=None) -> dict:
    """The delaktighet report of the given organisations, one group per organisation (in the order given) and
    their total, protected exactly like participation_report (primary and complementary suppression across the
    organisations and the total, so no hidden figure is the total minus the others).

    No access check here: for callers that have already decided the reader may see these organisations'
    aggregated results — the forum compilation (avvikelser.compilation) for the forum's member organisations.
    Returns {"template_version", "filters", "min_cell", "groups": [{"key": {"organisation": id}, ...}], "total"}.
    """
    ids = list(dict.fromkeys(int(pk) for pk in organisation_ids))
    if period_start and period_end and period_end < period_start:
        raise ValidationError({"period_end": [_("Perioden slutar innan den börjar.")]})
    template_version = _version(version)
    items = list(Item.objects.filter(version=template_version, kind__in=COUNTED_KINDS).order_by("order")
                 .values("id", "code", "text", "kind", "choices"))
    scope = _Scope(organisations=tuple(sorted(ids)), version_id=template_version.pk, unit_id=None,
                   period_start=period_start, period_end=period_end)
    dims = ("organisation",)
    raw = _aggregate(scope, dims, items)
    threshold = min_cell()
    groups, total = _assemble(dims, [(pk,) for pk in ids], items, raw, threshold)
    return {
        "template_version": template_version.pk,
        "filters": {"organisations": ids, "period_start": period_start.isoformat() if period_start else None,
                    "period_end": period_end.isoformat() if period_end else None, "group_by": ["organisation"]},
        "min_cell": threshold,
        "groups": groups,
        "total": total,
    }


# --- exports ----------------------------------------------------------------------------------------------

def _labels() -> dict[str, dict[str, str]]:
    return {"gender": {value: str(label) for value, label in Gender.choices},
            "age_band": {value: str(label) for value, label in AgeBand.choices}}


def _dimension_titles() -> dict[str, str]:
    return {"gender": _("Kön"), "age_band": _("Åldersgrupp")}


def participation_report_rows(report: dict) -> list[list]:
    """The report as a table: a header, then per group (and last the total) one summary row followed by one
    row per item. Values are the report's own, already suppressed; None stays None (an empty cell).
    Without grouping the only group equals the total, so only the total is written."""
    dims = list(report["filters"]["group_by"])
    labels, titles = _labels(), _dimension_titles()
    value_keys: list[str] = []
    for item in report["total"]["items"]:
        value_keys.extend(key for key in item["distribution"] if key not in value_keys)
    header = [*([titles[name] for name in dims] or [_("Grupp")]), _("Frågekod"), _("Fråga"), _("Inbjudna"),
              _("Svarande"), _("Svarsfrekvens"), _("Andel svarande med eget medelvärde ≥ 4"), _("Antal svar"),
              _("Medelvärde"), _("Andel svar ≥ 4"), *value_keys]
    rows = [header]
    blocks = [(group["key"], group) for group in report["groups"]] if dims else []
    blocks.append((None, report["total"]))
    for key, block in blocks:
        if key is None:
            lead = [_("Totalt")] * max(len(dims), 1)
        else:
            lead = [labels[name].get(key[name], key[name]) for name in dims]
        rows.append([*lead, None, None, block["invitations"], block["answers"], block["response_rate"],
                     block["respondent_mean_share_ge4"], None, None, None, *([None] * len(value_keys))])
        for item in block["items"]:
            rows.append([*lead, item["code"], item["text"], None, None, None, None, item["n"], item["mean"],
                         item["share_ge4"], *(item["distribution"].get(value) for value in value_keys)])
    return rows


def _csv_safe(value):
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # never let a spreadsheet read a cell as a formula
    return value


def to_csv(report: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in participation_report_rows(report):
        writer.writerow([_csv_safe(value) for value in row])
    return buffer.getvalue()


def to_xlsx(report: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Delaktighet")
    for row in participation_report_rows(report):
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text stays text, even if it starts with "="
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"

    about = workbook.create_sheet(_("Om rapporten"))
    filters = report["filters"]
    for label, value in (
        (_("Enkätversion"), report["template_version"]),
        (_("Organisation"), filters["organisation"]),
        (_("Enhet"), filters["unit"]),
        (_("Period från"), filters["period_start"]),
        (_("Period till"), filters["period_end"]),
        (_("Gruppering"), ", ".join(filters["group_by"]) or None),
        (_("Minsta redovisade antal"), report["min_cell"]),
        (_("Förklaring"), _("%(mark)s: värdet döljs eftersom det bygger på färre än %(n)s svar, eller för att "
                            "ett dolt värde annars skulle kunna räknas fram.") % {
            "mark": marker(report["min_cell"]), "n": report["min_cell"]}),
    ):
        about.append([label, value])
        for cell in about[about.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


__all__ = [
    "fill_report_columns", "organisation_report", "participation_report", "participation_report_rows", "suppress",
    "to_csv", "to_xlsx",
]
