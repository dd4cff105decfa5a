"""The forum's pattern view: counts per category × direction × period, rates per 100 active SIPs, control charts
and signals per series, and recurring themes — each number with the drill-down parameters of the reports behind
it (``GET /api/v1/forums/{id}/reports/?…``).

How it is computed (9 queries with the caller's memberships, however many reports there are):

1. the forum (member check), 2. the taxonomy (one row per category), 3. one GROUP BY over the forum's reports in
the period — period × category × reporting organisation × counterpart organisation — driven by an index on the
forum (``deviation_forum_date`` on (forum, occurred_on), or the foreign key's own index where the planner prefers
it), 4. one GROUP BY for the themes (category × direction × agreement), 5.–6. the denominators: two UNION ALLs of
GROUP BYs over SIPs (how many became active and how many closed per period, for the forum and per pair),
7.–8. names of the organisations and agreements involved. Python then works on grouped rows only (never one row
per report): categories are mapped to their current root (a merged category counts under its successor), series
are zero-filled, and ``signals_spc`` runs per series (O(periods) each). The whole answer is then kept in the cache
until anything it shows changes (avvikelser/pattern_cache.py): a repeated request makes 4 queries, the member check
and the versions among them.

Counting rules (the drill-down applies the same ones, so every number equals the count of reports it opens):

* a report belongs to the forum by ``Deviation.forum``; drafts are not counted; retired organisations and retired
  or merged categories are counted like any other (merged ones under their successor's root);
* the period is widened to whole periods: ``period_start`` to the first day of its week (ISO, Monday), month or
  quarter, ``period_end`` to the last day of its period; a report counts in the period of its ``occurred_on``.

Denominator ("active SIPs"): a SIP is active in a period when it has been established (``established_on`` is set
and on or before the period's last day) and is not closed before the period began (``closed_on`` empty or on or
after its first day) — on any single day, exactly the SIPs in status upprättad or uppföljning that day. The
forum's denominator counts the active SIPs led by one of the forum's organisations; a direction's denominator
(A → B and B → A alike) counts the active SIPs led by A in which a unit of B takes part, or led by B with a unit of
A. Rates are reports per 100 such SIPs; a period whose denominator is 0 has no rate.

Signals: per series the chart as drawn (a c-chart over the whole series, or a u-chart when the series' direction
has a denominator in every period) with the textbook run rules per point, for display; and the series' flags from
``signals_spc.detect`` (the default method, docs/signals.md: expanding self-cleaning baseline, Poisson window
tests; a flagged period also carries ``outside`` when it lies beyond the 3-sigma limit). ``flagged`` means detect
flagged at least one period.
"""

from __future__ import annotations

import datetime
import time
from collections import defaultdict

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Count, DateField, Exists, F, Func, Max, Min, OuterRef, Q, Sum, Value
from django.db.models.functions import Greatest, TruncMonth, TruncQuarter, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from avvikelser import forum_queries, signals_spc
from avvikelser.models import Agreement, Forum
from organisations.models import Organisation

GRANULARITIES = ("week", "month", "quarter")
DEFAULT_GRANULARITY = "month"
# How far back the period reaches when no period_start is given (in periods): three years of months.
DEFAULT_PERIODS = {"week": 104, "month": 36, "quarter": 16}
MAX_PERIODS = 520
# The seasonal harmonic of signals_spc is tuned for months; weeks and quarters go without it.
SEASON_LENGTH = {"week": None, "month": 12, "quarter": None}
DEFAULT_TOP_THEMES = 20
MIN_THEME_COUNT = 2  # a theme recurs: at least two reports
DENOMINATOR_DEFINITION = (
    "Active SIPs: established (established_on on or before the period's last day) and not closed before the "
    "period began (closed_on empty or on or after its first day). The forum counts those led by one of its "
    "organisations; a direction A→B (and B→A) counts those led by A with a unit of B taking part, or led by B with "
    "a unit of A. Rates are reports per 100 active SIPs; no rate where the denominator is 0."
)
_TRUNC = {"week": TruncWeek, "month": TruncMonth, "quarter": TruncQuarter}


class PeriodStart(Func):
    """The first day of a date's week, month or quarter, as a date.

    PostgreSQL: DATE_TRUNC over a plain timestamp, cast back to a date — no per-row time-zone conversion and no
    timestamp to parse per group (Django's Trunc of a DateField goes through timestamptz there). Elsewhere:
    Django's TruncWeek/TruncMonth/TruncQuarter."""

    output_field = DateField()

    def __init__(self, expression, granularity: str):
        if granularity not in _TRUNC:
            raise ValueError(granularity)
        self.granularity = granularity
        super().__init__(expression)

    def as_sql(self, compiler, connection, **extra):
        inner = self.get_source_expressions()[0]
        return compiler.compile(_TRUNC[self.granularity](inner, output_field=DateField()))

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"(DATE_TRUNC(%s, ({sql})::timestamp))::date", (self.granularity, *params)


# --- periods ------------------------------------------------------------------------------------------------------

def period_floor(day: datetime.date, granularity: str) -> datetime.date:
    if granularity == "week":
        return day - datetime.timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)


def period_after(start: datetime.date, granularity: str) -> datetime.date:
    """The first day of the next period."""
    if granularity == "week":
        return start + datetime.timedelta(days=7)
    months = 1 if granularity == "month" else 3
    month = start.month - 1 + months
    return datetime.date(start.year + month // 12, month % 12 + 1, 1)


def period_before(start: datetime.date, granularity: str, n: int) -> datetime.date:
    if granularity == "week":
        return start - datetime.timedelta(days=7 * n)
    months = n * (1 if granularity == "month" else 3)
    month = start.month - 1 - months
    return datetime.date(start.year + month // 12, month % 12 + 1, 1)


def resolve_period(period_start, period_end, granularity: str, today: datetime.date):
    """Validated, widened to whole periods: (first day, last day, the periods' first days)."""
    if granularity not in GRANULARITIES:
        raise ValidationError({"granularity": [_("Välj vecka, månad eller kvartal (week, month, quarter).")]})
    end = period_end or today
    if period_start is None:
        period_start = period_before(period_floor(end, granularity), granularity, DEFAULT_PERIODS[granularity] - 1)
    if end < period_start:
        raise ValidationError({"period_end": [_("Periodens slut ligger före dess början.")]})
    first = period_floor(period_start, granularity)
    starts = [first]
    while True:
        following = period_after(starts[-1], granularity)
        if following > end:
            break
        starts.append(following)
        if len(starts) > MAX_PERIODS:
            raise ValidationError({"period_start": [
                _("Perioden är för lång: högst %(n)s perioder.") % {"n": MAX_PERIODS}]})
    last = period_after(starts[-1], granularity) - datetime.timedelta(days=1)
    return first, last, starts


def _as_date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    return value


# --- the pattern view ---------------------------------------------------------------------------------------------

def forum_patterns(user, forum_id, *, period_start: datetime.date | None = None,
                   period_end: datetime.date | None = None, granularity: str = DEFAULT_GRANULARITY,
                   top: int = DEFAULT_TOP_THEMES, today: datetime.date | None = None) -> dict:
    """The forum's patterns for the period (see the module docstring). 404 for anyone but the forum's members;
    a ValidationError (400 with field errors) for a bad granularity or period."""
    forum = forum_queries.get_forum(user, forum_id)  # 404 before anything is said about the parameters
    return patterns_for(forum, period_start=period_start, period_end=period_end, granularity=granularity, top=top,
                        today=today)


def patterns_for(forum: Forum, *, period_start: datetime.date | None = None, period_end: datetime.date | None = None,
                 granularity: str = DEFAULT_GRANULARITY, top: int = DEFAULT_TOP_THEMES,
                 today: datetime.date | None = None) -> dict:
    """forum_patterns() for a forum whose membership the caller has already checked."""
    return pattern_answer(forum, period_start=period_start, period_end=period_end, granularity=granularity,
                          top=top, today=today).data


def pattern_answer(forum: Forum, *, period_start: datetime.date | None = None,
                   period_end: datetime.date | None = None, granularity: str = DEFAULT_GRANULARITY,
                   top: int = DEFAULT_TOP_THEMES, today: datetime.date | None = None):
    """patterns_for() as a pattern_cache.Answer (data and its JSON), from the cache while nothing it shows has
    changed (avvikelser/pattern_cache.py)."""
    from avvikelser import pattern_cache

    today = today or timezone.localdate()
    first, last, starts = resolve_period(period_start, period_end, granularity, today)
    return pattern_cache.kept(forum.pk, (first.isoformat(), last.isoformat(), granularity, top, today.isoformat()),
                              lambda: _patterns(forum, first, last, starts, granularity, top, today))


def _patterns(forum: Forum, first: datetime.date, last: datetime.date, starts: list[datetime.date],
              granularity: str, top: int, today: datetime.date) -> tuple[dict, float]:
    """The pattern view computed afresh, and when its denominators were counted (time.time())."""
    n = len(starts)
    index = {start: i for i, start in enumerate(starts)}
    ends = [period_after(s, granularity) - datetime.timedelta(days=1) for s in starts]
    tax = forum_queries.taxonomy()
    cells, theme_rows = _counts(forum, first, last, granularity)
    series_counts: dict[tuple[int, int, int], list[int]] = defaultdict(lambda: [0] * n)
    for bucket, category_id, source, target, count in cells:
        series_counts[(tax.roots.get(category_id, category_id), source, target)][index[_as_date(bucket)]] += count

    (forum_sips, pair_sips), counted_at = _active_sips(forum, first, last, granularity, index)

    organisation_ids = {o for (_c, s, t) in series_counts for o in (s, t)}
    organisations = _organisations(forum, organisation_ids)
    agreements = {row["id"]: row for row in Agreement.objects.filter(
        Q(forum_id=forum.pk) | Q(pk__in={r[3] for r in theme_rows if r[3]})).values("id", "name", "active")}

    def organisation(pk):
        return organisations.get(pk) or {"id": pk, "name": "", "active": False}

    window = {"period_start": first.isoformat(), "period_end": last.isoformat()}
    period_drilldowns = [{"period_start": s.isoformat(), "period_end": e.isoformat()}
                         for s, e in zip(starts, ends, strict=True)]
    season = SEASON_LENGTH[granularity]

    # Series: category root × direction.
    series = []
    for (root, source, target), counts in series_counts.items():
        pair = pair_sips.get(frozenset((source, target)))
        series.append(_series(tax.describe(root), organisation(source), organisation(target), counts, pair,
                              starts, season, window))
    series.sort(key=lambda s: (not s["flagged"], s["min_p_value"] if s["min_p_value"] is not None else 2.0,
                               -s["total"], s["category"]["name"], s["fingerprint"]))

    # Totals per category, per direction, per period.
    by_category: dict[int, list[int]] = defaultdict(lambda: [0] * n)
    by_direction: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0] * n)
    per_period = [0] * n
    for (root, source, target), counts in series_counts.items():
        for i, c in enumerate(counts):
            by_category[root][i] += c
            by_direction[(source, target)][i] += c
            per_period[i] += c
    categories = sorted(({"category": tax.describe(root), "total": sum(counts), "counts": counts,
                          "drilldown": {"category": root, **window}} for root, counts in by_category.items()),
                        key=lambda row: (-row["total"], row["category"]["name"]))
    directions = []
    for (source, target), counts in by_direction.items():
        pair = pair_sips.get(frozenset((source, target)))
        directions.append({
            "reporting_organisation": organisation(source), "counterpart_organisation": organisation(target),
            "total": sum(counts), "counts": counts, "active_sips": pair, "rates": _rates(counts, pair),
            "drilldown": {"reporting_organisation": source, "counterpart_organisation": target, **window}})
    directions.sort(key=lambda row: (-row["total"], row["reporting_organisation"]["name"],
                                     row["counterpart_organisation"]["name"]))
    forum_rates = _rates(per_period, forum_sips)
    periods = [{"start": s.isoformat(), "end": e.isoformat(), "complete": e < today, "count": per_period[i],
                "active_sips": forum_sips[i], "rate": forum_rates[i], "drilldown": period_drilldowns[i]}
               for i, (s, e) in enumerate(zip(starts, ends, strict=True))]

    themes = _themes(theme_rows, tax, organisation, agreements, window, top)
    return ({
        "forum": {"id": forum.pk, "name": forum.name},
        "granularity": granularity,
        "period": {"start": first.isoformat(), "end": last.isoformat()},
        "total": sum(per_period),
        "drilldown": window,
        "periods": periods,
        "categories": categories,
        "directions": directions,
        "series": series,
        "flagged_series": sum(1 for s in series if s["flagged"]),
        "themes": themes,
        "method": {
            "signals": "signals_spc.detect (default)",
            "min_baseline": signals_spc.DEFAULT_MIN_BASELINE,
            "season_length": season,
            "fingerprint_version": forum_queries.FINGERPRINT_VERSION,
            "denominator": DENOMINATOR_DEFINITION,
            "cell_drilldown": "series.drilldown + periods[i].drilldown",
        },
    }, counted_at)


def _counts(forum: Forum, first: datetime.date, last: datetime.date, granularity: str) -> tuple[list, list]:
    """Two GROUP BYs: period × category × direction (the cells), and category × direction × agreement with the
    first and last day (the themes).

    On PostgreSQL they read the rollup (avvikelser.models.ForumPatternCount, kept exact by triggers): a period
    window [first, last] of whole weeks, months or quarters is a union of whole fragments, so the sums equal the
    counts of the reports. Elsewhere they read the reports themselves."""
    from avvikelser import rollup
    from avvikelser.models import ForumPatternCount

    if rollup.enabled():
        rows = ForumPatternCount.objects.filter(forum_id=forum.pk, fragment_start__gte=first,
                                                fragment_start__lte=last).order_by()
        cells = list(rows.annotate(bucket=PeriodStart("fragment_start", granularity))
                     .values_list("bucket", "category_id", "reporting_organisation_id", "counterpart_organisation_id")
                     .annotate(count=Sum("n")))
        themes = [(category, source, target, agreement or None, other, count, first_day, last_day)
                  for category, source, target, agreement, other, count, first_day, last_day in
                  rows.values_list("category_id", "reporting_organisation_id", "counterpart_organisation_id",
                                   "agreement_id", "agreement_other")
                  .annotate(count=Sum("n"), first=Min("first_day"), last=Max("last_day"))]
        return cells, themes
    reports = forum_queries.reports_of(forum).filter(occurred_on__gte=first, occurred_on__lte=last)
    cells = list(reports.annotate(bucket=PeriodStart("occurred_on", granularity)).order_by()
                 .values_list("bucket", "category_id", "reporting_organisation_id", "counterpart_organisation_id")
                 .annotate(count=Count("*")))
    themes = list(reports.order_by()
                  .values_list("category_id", "reporting_organisation_id", "counterpart_organisation_id",
                               "agreement_id", "agreement_other")
                  .annotate(count=Count("*"), first=Min("occurred_on"), last=Max("occurred_on")))
    return cells, themes


def _rates(counts: list[int], denominators: list[int] | None) -> list[float | None] | None:
    if denominators is None:
        return None
    return [round(100.0 * c / d, 4) if d else None for c, d in zip(counts, denominators, strict=True)]


def _rounded(value):
    if isinstance(value, list):
        return [round(v, 4) for v in value]
    return round(value, 4)


def _series(category: dict, source: dict, target: dict, counts: list[int], pair: list[int] | None,
            starts: list[datetime.date], season: int | None, window: dict) -> dict:
    rates = _rates(counts, pair)
    with_rates = pair is not None and all(d > 0 for d in pair)
    if with_rates:
        exposures = [d / 100.0 for d in pair]
        drawn = signals_spc.u_chart(counts, exposures)
        values = drawn["values"]
        chart = {"type": "u", "centre": _rounded(drawn["centre"]), "upper": _rounded(drawn["upper"]),
                 "lower": _rounded(drawn["lower"])}
        found = signals_spc.detect(counts, exposures=exposures, season_length=season)
    else:
        drawn = signals_spc.c_chart(counts)
        values = counts
        chart = {"type": "c", "centre": _rounded(drawn["centre"]), "upper": _rounded(drawn["upper"]),
                 "lower": _rounded(drawn["lower"])}
        found = signals_spc.detect(counts, season_length=season)
    fired = signals_spc.run_rules(values, drawn["centre"], drawn["upper"], drawn["lower"])
    chart["rules"] = [{"index": i, "period": starts[i].isoformat(), "rules": sorted(rules)}
                      for i, rules in enumerate(fired) if rules]
    signals = [{"index": s.index, "period": starts[s.index].isoformat(), "rules": sorted(s.rules),
                "value": _rounded(float(s.value)), "expected": _rounded(float(s.expected)), "p_value": s.p_value}
               for s in found]
    p_values = [s["p_value"] for s in signals if s["p_value"] is not None]
    return {
        "fingerprint": forum_queries.fingerprint(category["key"], source["id"], target["id"]),
        "label": _label(category, source, target),
        "category": category,
        "reporting_organisation": source,
        "counterpart_organisation": target,
        "total": sum(counts),
        "counts": counts,
        "active_sips": pair,
        "rates": rates,
        "chart": chart,
        "signals": signals,
        "flagged": bool(signals),
        "outside": any(signals_spc.OUTSIDE in s["rules"] for s in signals),
        "min_p_value": min(p_values) if p_values else None,
        "drilldown": {"category": category["id"], "reporting_organisation": source["id"],
                      "counterpart_organisation": target["id"], **window},
    }


def _label(category: dict, source: dict, target: dict) -> str:
    return f"{category['name']} ({source['name']} → {target['name']})"


def _themes(rows, tax, organisation, agreements, window, top) -> list[dict]:
    merged: dict[tuple, list] = {}  # (root, from, to, part) → [count, first, last, agreement id, {text: count}]
    parts: dict[str, str] = {}  # free text → its normalised part, computed once per distinct text
    for category_id, source, target, agreement_id, other, count, first, last in rows:
        root = tax.roots.get(category_id, category_id)
        if agreement_id:
            part = str(agreement_id)
        else:
            part = parts.get(other)
            if part is None:
                part = parts[other] = forum_queries.agreement_part(None, other)
        theme = merged.get((root, source, target, part))
        if theme is None:
            theme = merged[(root, source, target, part)] = [0, first, last, agreement_id, None]
        theme[0] += count
        if first < theme[1]:
            theme[1] = first
        if last > theme[2]:
            theme[2] = last
        if not agreement_id and part != "none":
            texts = theme[4] = theme[4] or {}
            texts[other.strip()] = texts.get(other.strip(), 0) + count
    ranked = sorted(((-t[0], forum_queries.fingerprint(tax.describe(key[0])["key"], key[1], key[2], key[3]), key)
                     for key, t in merged.items() if t[0] >= MIN_THEME_COUNT))
    out = []
    for _count, fp, key in ranked[:top]:
        root, source_id, target_id, _part = key
        count, first, last, agreement_id, texts = merged[key]
        category = tax.describe(root)
        source, target = organisation(source_id), organisation(target_id)
        text = max(texts.items(), key=lambda item: (item[1], item[0]))[0] if texts else None
        agreement = agreements.get(agreement_id) if agreement_id else None
        name = agreement["name"] if agreement else text
        out.append({
            "fingerprint": fp,
            "label": _label(category, source, target) + (f": {name}" if name else ""),
            "category": category,
            "reporting_organisation": source,
            "counterpart_organisation": target,
            "agreement": ({"id": agreement["id"], "name": agreement["name"]} if agreement else
                          ({"id": agreement_id, "name": ""} if agreement_id else None)),
            "agreement_other": text,
            "count": count,
            "first_occurred_on": _as_date(first).isoformat(),
            "last_occurred_on": _as_date(last).isoformat(),
            "series_fingerprint": forum_queries.fingerprint(category["key"], source_id, target_id),
            "drilldown": {"theme": fp, **window},
        })
    return out


def _active_sips(forum: Forum, first: datetime.date, last: datetime.date, granularity: str,
                 index: dict[datetime.date, int]) -> tuple[tuple[list[int], dict[frozenset, list[int]]], float]:
    """_count_active_sips(), kept for PATTERN_DENOMINATOR_CACHE_SECONDS (default 10 minutes) per forum and window,
    and when they were counted (time.time(): the cached pattern view lives no longer than its denominators).

    The denominators are the forum's own aggregate (no person, nothing that depends on who asks: the caller's
    forum membership is checked before), they move slowly, and counting them is most of the view's time at
    national scale (the plans of the forum's organisations joined with their units). A plan established or
    closed within the last minutes may therefore be missing from a rate until the entry expires; the report
    counts themselves are kept only while they are unchanged (avvikelser/pattern_cache.py).
    """
    seconds = settings.PATTERN_DENOMINATOR_CACHE_SECONDS
    if seconds <= 0:
        return _count_active_sips(forum, first, last, granularity, index), time.time()
    key = f"avvikelser:patterns:active-sips:v2:{forum.pk}:{first.isoformat()}:{last.isoformat()}:{granularity}"
    found = cache.get(key)
    if found is None:
        found = (_count_active_sips(forum, first, last, granularity, index), time.time())
        cache.set(key, found, seconds)
    return found


def _count_active_sips(forum: Forum, first: datetime.date, last: datetime.date, granularity: str,
                       index: dict[datetime.date, int]) -> tuple[list[int], dict[frozenset, list[int]]]:
    """Active SIPs per period: for the forum, and per unordered pair of organisations.

    Two queries, each one GROUP BY over the SIPs active in the window by the period they became active in (the
    later of established_on and the first period) and the period they closed in; a running sum over those few
    rows gives the count per period."""
    from sip.models import Sip

    n = len(index)
    members = Forum.organisations.through.objects.filter(forum_id=forum.pk).values("organisation_id")
    active = (Sip.objects.filter(established_on__isnull=False, established_on__lte=last,
                                 lead_organisation_id__in=members)
              .filter(Q(closed_on__isnull=True) | (Q(closed_on__gte=first) & Q(closed_on__gte=F("established_on"))))
              .annotate(began=PeriodStart(Greatest("established_on", Value(first, output_field=DateField())),
                                          granularity),
                        ended=PeriodStart("closed_on", granularity))
              .order_by())
    # One pass per query: each SIP's (began, ended) buckets. A SIP closed after the window has an `ended` bucket
    # outside it, which _add ignores, so no second scan of the closing SIPs is needed.
    forum_delta = [0] * (n + 1)
    for bucket, ended, count in active.values_list("began", "ended").annotate(count=Count("id")):
        _add(forum_delta, index, 1, bucket, count)
        if ended is not None:
            _add(forum_delta, index, -1, ended, count)

    # A plan's own lead organisation taking part is no pair: those rows (about half) are left out in the database.
    columns = ("lead_organisation_id", "participant", "began", "ended")
    pair_rows = (active.filter(participations__unit__organisation_id__in=members)
                 .annotate(participant=F("participations__unit__organisation_id"))
                 .exclude(participant=F("lead_organisation_id"))
                 .values_list(*columns).annotate(count=Count("id", distinct=True)))
    pair_delta: dict[frozenset, list[int]] = {}
    for lead, participant, bucket, ended, count in pair_rows:
        if lead != participant:
            delta = pair_delta.setdefault(frozenset((lead, participant)), [0] * (n + 1))
            _add(delta, index, 1, bucket, count)
            if ended is not None:
                _add(delta, index, -1, ended, count)
    return _running(forum_delta, n), {pair: _running(delta, n) for pair, delta in pair_delta.items()}


def _add(delta: list[int], index: dict, sign: int, bucket, count: int) -> None:
    """+count from the period a SIP became active in; -count from the period after the one it closed in."""
    i = index.get(_as_date(bucket))
    if i is not None:
        delta[i + (0 if sign > 0 else 1)] += sign * count


def _running(delta: list[int], n: int) -> list[int]:
    out, running = [], 0
    for i in range(n):
        running += delta[i]
        out.append(running)
    return out


def _organisations(forum: Forum, ids: set[int]) -> dict[int, dict]:
    """The organisations seen in the counts and the forum's own, retired ones included."""
    in_forum = Forum.organisations.through.objects.filter(forum_id=forum.pk, organisation_id=OuterRef("pk"))
    rows = Organisation.objects.filter(Q(pk__in=ids) | Q(Exists(in_forum))).values("id", "name", "active")
    return {row["id"]: row for row in rows}
