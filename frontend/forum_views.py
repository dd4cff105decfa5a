"""The forum (styrgrupp) in HTML: 'Mina forum', the dashboard (control charts per category, a heatmap of
organisation pairs, recurring themes), the drill-down to the pseudonymised reports behind every number, the
meetings with their agenda, and the decisions and measures with each measure's before/after comparison.

Thin: the forum comes through the gate (forum_services.get_forum — 404 for anyone outside it), the numbers from
avvikelser.patterns, the reports from forum_queries.drilldown_reports (pseudonymised: no staff names, no SIP),
and every write goes through forum_services, which decides who may change what (ledamöter read only: 403).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from avvikelser import forum_queries, forum_services, patterns, signals_spc
from avvikelser import queries as deviation_queries
from avvikelser.models import ForumMeetingStatus, ForumRole, MeasureStatus
from frontend import charts
from frontend.forum_forms import (
    AgendaItemEditForm,
    AgendaItemForm,
    DecisionForm,
    DrilldownForm,
    MeasureForm,
    MeetingEditForm,
    MeetingForm,
    PatternFilterForm,
    VersionOnlyForm,
)
from organisations import access
from organisations.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from organisations.models import User

PAGE_SIZE = 50
MEASURE_PAGE_SIZE = 25
TEXT_LIMIT = 160
HEAT_LEVELS = 5

STALE_MESSAGE = gettext_lazy("Någon annan har ändrat det här medan du arbetade. Ladda om sidan och försök igen.")
RULE_LABELS = {
    signals_spc.OUTSIDE: gettext_lazy("utanför styrgränsen"),
    signals_spc.RUN8: gettext_lazy("8 punkter i rad på samma sida om mittlinjen"),
    signals_spc.TREND6: gettext_lazy("6 punkter i rad som stiger eller sjunker"),
    signals_spc.POISSON: gettext_lazy("perioden ovanligt hög"),
    signals_spc.WINDOW2: gettext_lazy("de två senaste perioderna ovanligt höga"),
    signals_spc.WINDOW3: gettext_lazy("de tre senaste perioderna ovanligt höga"),
}
VERDICTS = {
    "minskat": gettext_lazy("Minskat"),
    "oförändrat": gettext_lazy("Ingen säker förändring"),
    "ökat": gettext_lazy("Ökat"),
}


def forum_view(view):
    """Signed-in users only; NotFound is the 404 page, Forbidden a 403 page with the reason."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404 from None
        except Forbidden as exc:
            return render(request, "forum/forbidden.html", {"message": exc.message}, status=403)

    return login_required(wrapper)


def _attempt(form, write):
    """Run a service write for a valid form: (None, result), or (status, None) with the error on the form."""
    try:
        return None, write()
    except (Forbidden, NotFound):
        raise  # the 403 and 404 pages of forum_view
    except ValidationError as exc:
        form.add_service_errors(exc)
        return 400, None
    except PreconditionFailed:
        form.add_error(None, str(STALE_MESSAGE))
        return 412, None
    except PreconditionRequired as exc:
        form.add_error(None, str(exc.message))
        return 428, None
    except (Conflict, DomainError) as exc:
        form.add_error(None, str(exc.message))
        return exc.status, None


def _write_or_message(request, write) -> bool:
    """A write from a button (remove, move, propose): the outcome as a message above the page."""
    try:
        write()
        return True
    except (Forbidden, NotFound):
        raise
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PreconditionFailed:
        messages.error(request, str(STALE_MESSAGE))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return False


def _context(request, forum, tab: str, **extra) -> dict:
    role = getattr(forum, "member_role", None)
    return {"forum": forum, "tab": tab, "can_edit": forum_services.can_edit(request.user, forum),
            "role_label": ForumRole(role).label if role in ForumRole.values else "", **extra}


def _drill_url(forum_id: int, params: dict) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{reverse('forum:reports', args=[forum_id])}?{query}"


def _period_label(start: str, granularity: str) -> str:
    day = datetime.date.fromisoformat(start)
    if granularity == "week":
        year, week, _weekday = day.isocalendar()
        return _("v. %(week)s %(year)s") % {"week": week, "year": year}
    if granularity == "quarter":
        return _("kv. %(quarter)s %(year)s") % {"quarter": (day.month - 1) // 3 + 1, "year": day.year}
    return formats.date_format(day, "M Y")


def _number(value) -> str:
    if value is None:
        return "–"
    return formats.number_format(value, 0 if float(value).is_integer() else 1)


def _meeting_label(meeting) -> str:
    return formats.date_format(timezone.localtime(meeting.starts_at), "j F Y H:i")


# --- Mina forum -------------------------------------------------------------------------------------------------

@forum_view
def forum_list(request):
    forums = list(forum_queries.forums_for(request.user))
    for forum in forums:
        forum.role_label = ForumRole(forum.my_role).label if forum.my_role in ForumRole.values else ""
    return render(request, "forum/list.html", {"forums": forums})


# --- The dashboard ----------------------------------------------------------------------------------------------

def _series_chart(forum_id: int, series: dict, periods: list[dict], labels: list[str]) -> dict:
    chart = series["chart"]
    rates = chart["type"] == "u"
    values = [r if r is not None else 0.0 for r in series["rates"]] if rates else series["counts"]
    flagged = {s["index"] for s in series["signals"]}
    urls = [_drill_url(forum_id, {**series["drilldown"], **period["drilldown"]}) for period in periods]
    descriptions = []
    for i, count in enumerate(series["counts"]):
        text = _("%(period)s: %(count)s avvikelser") % {"period": labels[i], "count": count}
        if i in flagged:
            text += " – " + _("signal")
        descriptions.append(text)
    drawn = charts.control_chart(values, centre=chart["centre"], upper=chart["upper"], lower=chart["lower"],
                                 labels=labels, urls=urls, flagged=flagged, descriptions=descriptions)
    upper = chart["upper"] if isinstance(chart["upper"], list) else [chart["upper"]] * len(values)
    signals = []
    for signal in series["signals"]:
        rules = [str(RULE_LABELS.get(rule, rule)) for rule in signal["rules"]]
        signals.append({
            "period": labels[signal["index"]], "url": urls[signal["index"]],
            "count": series["counts"][signal["index"]], "expected": _number(signal["expected"]),
            "rules": ", ".join(rules)})
    rows = [{"period": labels[i], "count": series["counts"][i], "url": urls[i],
             "rate": _number(series["rates"][i]) if series["rates"] else None,
             "upper": _number(upper[i]), "flagged": i in flagged} for i in range(len(values))]
    return {"series": series, "chart": drawn, "signals": signals, "rows": rows, "rates": rates,
            "centre": _number(chart["centre"]) if not isinstance(chart["centre"], list) else "",
            "url": _drill_url(forum_id, series["drilldown"])}


def _heatmap(forum_id: int, result: dict, labels: list[str]) -> dict:
    periods = result["periods"]
    highest = max((c for d in result["directions"] for c in d["counts"]), default=0)
    rows = []
    for direction in result["directions"]:
        cells = [{"count": count, "level": charts.heat_level(count, highest, HEAT_LEVELS),
                  "url": _drill_url(forum_id, {**direction["drilldown"], **periods[i]["drilldown"]})}
                 for i, count in enumerate(direction["counts"])]
        rows.append({"direction": direction, "cells": cells, "url": _drill_url(forum_id, direction["drilldown"])})
    return {"labels": labels, "rows": rows, "levels": range(1, HEAT_LEVELS + 1)}


@forum_view
def dashboard(request, pk):
    forum = forum_services.get_forum(request.user, pk)
    form = PatternFilterForm(request.GET or None)
    status = 200
    if form.is_bound and not form.is_valid():
        status = 400
    params = form.params()
    try:
        result = patterns.patterns_for(forum, **params)
    except ValidationError as exc:
        form.add_service_errors(exc)
        status = 400
        params = {"granularity": patterns.DEFAULT_GRANULARITY, "period_start": None, "period_end": None}
        result = patterns.patterns_for(forum, **params)
    granularity = result["granularity"]
    labels = [_period_label(p["start"], granularity) for p in result["periods"]]
    series_by_category = defaultdict(list)
    for series in result["series"]:
        series_by_category[series["category"]["id"]].append(
            _series_chart(forum.pk, series, result["periods"], labels))
    categories = [{"category": row["category"], "total": row["total"],
                   "url": _drill_url(forum.pk, row["drilldown"]),
                   "charts": series_by_category.get(row["category"]["id"], []),
                   "flagged": any(c["series"]["flagged"] for c in series_by_category.get(row["category"]["id"], []))}
                  for row in result["categories"]]
    themes = [{**theme, "url": _drill_url(forum.pk, theme["drilldown"])} for theme in result["themes"]]
    next_meeting = (forum_services.meetings_of(forum).filter(status=ForumMeetingStatus.PLANNED,
                                                             starts_at__gte=timezone.now())
                    .order_by("starts_at", "id").first())
    overdue = forum_services.filter_measures(forum_services.measures_of(forum), overdue=True).count()
    return render(request, "forum/dashboard.html", _context(request, forum, "dashboard", **{
        "form": form, "result": result, "categories": categories, "heatmap": _heatmap(forum.pk, result, labels),
        "themes": themes, "total_url": _drill_url(forum.pk, result["drilldown"]),
        "period_label": _("%(start)s – %(end)s") % {
            "start": formats.date_format(datetime.date.fromisoformat(result["period"]["start"]), "j F Y"),
            "end": formats.date_format(datetime.date.fromisoformat(result["period"]["end"]), "j F Y")},
        "next_meeting": next_meeting, "overdue_measures": overdue,
    }), status=status)


# --- Drill-down -------------------------------------------------------------------------------------------------

def _requested_ints(request, *names) -> set[int]:
    out = set()
    for name in names:
        value = request.GET.get(name, "")
        if value.isdigit():
            out.add(int(value))
    return out


@forum_view
def reports(request, pk):
    """The pseudonymised reports behind a number: no staff names, no SIP link."""
    forum = forum_services.get_forum(request.user, pk)
    tax = forum_queries.taxonomy()
    requested_categories = _requested_ints(request, "category")
    categories = sorted((info for cid, info in tax.info.items()
                         if tax.roots.get(cid) == cid or cid in requested_categories),
                        key=lambda info: (info["name"], info["id"]))
    # Only the forum's organisations: an id from elsewhere fails validation instead of naming that organisation.
    organisations = list(forum.organisations.order_by("name", "id"))
    form = DrilldownForm(request.GET or None, categories=categories, organisations=organisations)
    status, page, rows = 200, None, []
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        filters = form.filters() if form.is_bound else {}
        try:
            queryset = forum_queries.drilldown_reports(forum, tax=tax, **filters)
            page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("sida"))
            rows = [{"deviation": d, "agreement": d.agreement.name if d.agreement else d.agreement_other,
                     "text": Truncator(d.what_happened).chars(TEXT_LIMIT)} for d in page.object_list]
        except ValidationError as exc:
            form.add_service_errors(exc)
            status = 400
    theme = form.cleaned_data.get("theme") if form.is_bound and form.is_valid() else ""
    return render(request, "forum/reports.html", _context(request, forum, "dashboard", **{
        "form": form, "page": page, "rows": rows, "theme": theme,
        "theme_label": forum_services.describe_fingerprint(theme) if theme and status == 200 else "",
    }), status=status)


# --- Meetings ---------------------------------------------------------------------------------------------------

def _meeting(forum, meeting_pk):
    return access.get_visible(forum_services.meetings_of(forum), meeting_pk)


@forum_view
def meetings(request, pk):
    forum = forum_services.get_forum(request.user, pk)
    form, status = None, 200
    if request.method == "POST":
        forum_services.require_editor(request.user, forum)
        form = MeetingForm(request.POST, prefix="nytt")
        if form.is_valid():
            status, meeting = _attempt(form, lambda: forum_services.create_meeting(
                request.user, forum.pk, **form.cleaned_data))
            if status is None:
                messages.success(request, _("Mötet är skapat. Lägg till punkter på dagordningen."))
                return redirect("forum:meeting", pk=forum.pk, meeting_pk=meeting.pk)
        else:
            status = 400
    elif forum_services.can_edit(request.user, forum):
        form = MeetingForm(prefix="nytt")
    now = timezone.now()
    rows = list(forum_services.meetings_of(forum))
    return render(request, "forum/meetings.html", _context(request, forum, "meetings", **{
        "upcoming": [m for m in rows if m.starts_at >= now][::-1], "past": [m for m in rows if m.starts_at < now],
        "form": form,
    }), status=status)


def _render_meeting(request, forum, meeting, *, item_form=None, status=200):
    agenda = forum_services.agenda_of(meeting)
    today = timezone.localdate()
    earlier = [{"measure": m, "overdue": forum_services.is_overdue(m, today)} for m in agenda.earlier_measures]
    decisions = list(forum_services.decisions_of(forum).filter(meeting_id=meeting.pk))
    can_edit = forum_services.can_edit(request.user, forum)
    planned = meeting.status == ForumMeetingStatus.PLANNED
    return render(request, "forum/meeting.html", _context(request, forum, "meetings", **{
        "meeting": meeting, "items": agenda.items, "earlier": earlier, "decisions": decisions,
        "editing": can_edit and planned,
        "item_form": (item_form or AgendaItemForm(prefix="punkt")) if can_edit and planned else None,
    }), status=status)


@forum_view
def meeting(request, pk, meeting_pk):
    forum = forum_services.get_forum(request.user, pk)
    meeting = _meeting(forum, meeting_pk)
    if request.method == "POST":  # a new agenda item
        forum_services.require_editor(request.user, forum)
        form = AgendaItemForm(request.POST, prefix="punkt")
        status = 400
        if form.is_valid():
            status, _item = _attempt(form, lambda: forum_services.create_item(
                request.user, meeting, **form.cleaned_data))
            if status is None:
                messages.success(request, _("Punkten är tillagd på dagordningen."))
                return redirect("forum:meeting", pk=forum.pk, meeting_pk=meeting.pk)
        return _render_meeting(request, forum, meeting, item_form=form, status=status)
    return _render_meeting(request, forum, meeting)


@forum_view
def meeting_edit(request, pk, meeting_pk):
    forum = forum_services.get_forum(request.user, pk)
    meeting = _meeting(forum, meeting_pk)
    forum_services.require_editor(request.user, forum)
    status = 200
    if request.method == "POST":
        form = MeetingEditForm(request.POST)
        status = 400
        if form.is_valid():
            status, _saved = _attempt(form, lambda: forum_services.update_meeting(
                request.user, meeting, form.cleaned_data["version"], **form.changes()))
            if status is None:
                messages.success(request, _("Mötet är sparat."))
                return redirect("forum:meeting", pk=forum.pk, meeting_pk=meeting.pk)
    else:
        form = MeetingEditForm(initial={
            "version": meeting.version, "starts_at": timezone.localtime(meeting.starts_at),
            "location": meeting.location, "status": meeting.status, "minutes": meeting.minutes})
    return render(request, "forum/meeting_edit.html", _context(request, forum, "meetings", **{
        "meeting": meeting, "form": form}), status=status)


@forum_view
@require_POST
def meeting_propose(request, pk, meeting_pk):
    forum = forum_services.get_forum(request.user, pk)
    meeting = _meeting(forum, meeting_pk)
    outcome = {}

    def write():
        outcome["proposal"] = forum_services.propose_agenda(request.user, meeting)

    if _write_or_message(request, write):
        added = len(outcome["proposal"].added)
        messages.success(request, _("Föreslagna punkter tillagda: %(n)s.") % {"n": added} if added
                         else _("Inget nytt att föreslå: allt finns redan på dagordningen."))
    return redirect("forum:meeting", pk=forum.pk, meeting_pk=meeting.pk)


def _item(meeting, item_pk):
    return access.get_visible(forum_services.items_of(meeting), item_pk)


@forum_view
def item_edit(request, pk, meeting_pk, item_pk):
    forum = forum_services.get_forum(request.user, pk)
    meeting = _meeting(forum, meeting_pk)
    item = _item(meeting, item_pk)
    forum_services.require_editor(request.user, forum)
    status = 200
    if request.method == "POST":
        form = AgendaItemEditForm(request.POST)
        status = 400
        if form.is_valid():
            status, _saved = _attempt(form, lambda: forum_services.update_item(
                request.user, item, form.cleaned_data["version"], **form.changes()))
            if status is None:
                messages.success(request, _("Punkten är sparad."))
                return redirect("forum:meeting", pk=forum.pk, meeting_pk=meeting.pk)
    else:
        form = AgendaItemEditForm(initial={"version": item.version, "title": item.title, "kind": item.kind,
                                           "note": item.note})
    return render(request, "forum/item_edit.html", _context(request, forum, "meetings", **{
        "meeting": meeting, "item": item, "form": form}), status=status)


@forum_view
@require_POST
def item_delete(request, pk, meeting_pk, item_pk):
    forum = forum_services.get_forum(request.user, pk)
    meeting = _meeting(forum, meeting_pk)
    item = _item(meeting, item_pk)
    form = VersionOnlyForm(request.POST)
    version = form.cleaned_data["version"] if form.is_valid() else None
    if _write_or_message(request, lambda: forum_services.delete_item(request.user, item, version)):
        messages.success(request, _("Punkten är borttagen från dagordningen."))
    return redirect("forum:meeting", pk=forum.pk, meeting_pk=meeting.pk)


@forum_view
@require_POST
def item_move(request, pk, meeting_pk, item_pk):
    """Move one item up or down: the whole order goes to reorder_items with the meeting's version."""
    forum = forum_services.get_forum(request.user, pk)
    meeting = _meeting(forum, meeting_pk)
    item = _item(meeting, item_pk)
    form = VersionOnlyForm(request.POST)
    version = form.cleaned_data["version"] if form.is_valid() else None
    ids = [i.pk for i in forum_services.items_of(meeting)]
    at = ids.index(item.pk)
    to = at - 1 if request.POST.get("direction") == "up" else at + 1
    if 0 <= to < len(ids):
        ids[at], ids[to] = ids[to], ids[at]
        if _write_or_message(request, lambda: forum_services.reorder_items(request.user, meeting, version, ids)):
            messages.success(request, _("Dagordningen är omordnad."))
    return redirect(f"{reverse('forum:meeting', args=[forum.pk, meeting.pk])}#punkt-{item.pk}")


# --- Decisions --------------------------------------------------------------------------------------------------

def _decision(forum, decision_pk):
    return access.get_visible(forum_services.decisions_of(forum), decision_pk)


def _meetings_for_choice(forum) -> list:
    rows = list(forum_services.meetings_of(forum))
    for row in rows:
        row.label = _meeting_label(row)
    return rows


def _before_after_rows(measures, today) -> list[dict]:
    measures = list(measures)
    return [{"measure": measure, "overdue": forum_services.is_overdue(measure, today),
             "effect": result, "verdict": VERDICTS.get(result.verdict, result.verdict)}
            for measure, result in zip(measures, forum_services.before_after_many(measures, today=today),
                                       strict=True)]


@forum_view
def decisions(request, pk):
    forum = forum_services.get_forum(request.user, pk)
    rows = list(forum_services.decisions_of(forum).select_related("meeting"))
    measures = defaultdict(list)
    today = timezone.localdate()
    for measure in forum_services.measures_of(forum):
        measures[measure.decision_id].append({"measure": measure,
                                              "overdue": forum_services.is_overdue(measure, today)})
    return render(request, "forum/decisions.html", _context(request, forum, "decisions", **{
        "rows": [{"decision": d, "measures": measures.get(d.pk, [])} for d in rows]}))


@forum_view
def decision_new(request, pk):
    forum = forum_services.get_forum(request.user, pk)
    forum_services.require_editor(request.user, forum)
    meetings = _meetings_for_choice(forum)
    status = 200
    if request.method == "POST":
        form = DecisionForm(request.POST, meetings=meetings, creating=True)
        status = 400
        if form.is_valid():
            status, decision = _attempt(form, lambda: forum_services.create_decision(
                request.user, forum.pk, **form.values()))
            if status is None:
                messages.success(request, _("Beslutet är sparat. Lägg till åtgärder som ska följas upp."))
                return redirect("forum:decision", pk=forum.pk, decision_pk=decision.pk)
    else:
        form = DecisionForm(meetings=meetings, creating=True, initial={
            "decided_on": timezone.localdate(), "fingerprints": request.GET.get("monster", "")[:300],
            "meeting": request.GET.get("mote") or None})
    return render(request, "forum/decision_form.html", _context(request, forum, "decisions", **{
        "form": form, "decision": None}), status=status)


@forum_view
def decision(request, pk, decision_pk):
    forum = forum_services.get_forum(request.user, pk)
    decision = _decision(forum, decision_pk)
    today = timezone.localdate()
    fingerprints = [{"fingerprint": fp, "label": forum_services.describe_fingerprint(fp),
                     "url": _drill_url(forum.pk, {"theme": fp})} for fp in decision.fingerprints]
    measures = _before_after_rows(forum_services.measures_of(forum).filter(decision_id=decision.pk), today)
    return render(request, "forum/decision.html", _context(request, forum, "decisions", **{
        "decision": decision, "fingerprints": fingerprints, "measures": measures,
        "meeting_label": _meeting_label(decision.meeting) if decision.meeting_id else ""}))


@forum_view
def decision_edit(request, pk, decision_pk):
    forum = forum_services.get_forum(request.user, pk)
    decision = _decision(forum, decision_pk)
    forum_services.require_editor(request.user, forum)
    meetings = _meetings_for_choice(forum)
    status = 200
    if request.method == "POST":
        form = DecisionForm(request.POST, meetings=meetings)
        status = 400
        if form.is_valid():
            status, _saved = _attempt(form, lambda: forum_services.update_decision(
                request.user, decision, form.cleaned_data["version"], **form.values()))
            if status is None:
                messages.success(request, _("Beslutet är sparat."))
                return redirect("forum:decision", pk=forum.pk, decision_pk=decision.pk)
    else:
        form = DecisionForm(meetings=meetings, initial={
            "version": decision.version, "text": decision.text, "decided_on": decision.decided_on,
            "meeting": decision.meeting_id, "fingerprints": "\n".join(decision.fingerprints)})
    return render(request, "forum/decision_form.html", _context(request, forum, "decisions", **{
        "form": form, "decision": decision}), status=status)


# --- Measures ---------------------------------------------------------------------------------------------------

def _measure_form(forum, data=None, *, initial=None, creating=False) -> MeasureForm:
    organisations = list(forum.organisations.order_by("name", "id"))
    people = list(User.objects.filter(memberships__active=True, memberships__unit__active=True,
                                      memberships__unit__organisation__in=organisations)
                  .distinct().order_by("first_name", "last_name", "id"))
    categories = list(deviation_queries.categories().filter(successor__isnull=True, retired_at__isnull=True))
    return MeasureForm(data, initial=initial, organisations=organisations, people=people, categories=categories,
                       creating=creating)


@forum_view
def measures(request, pk):
    forum = forum_services.get_forum(request.user, pk)
    status_filter = request.GET.get("status", "")
    overdue = request.GET.get("forsenade") == "1"
    queryset = forum_services.filter_measures(
        forum_services.measures_of(forum), status=status_filter if status_filter in MeasureStatus.values else None,
        overdue=True if overdue else None)
    page = Paginator(queryset, MEASURE_PAGE_SIZE).get_page(request.GET.get("sida"))
    return render(request, "forum/measures.html", _context(request, forum, "measures", **{
        "page": page, "rows": _before_after_rows(page.object_list, timezone.localdate()),
        "statuses": MeasureStatus.choices, "status_filter": status_filter, "overdue": overdue}))


@forum_view
def measure_new(request, pk, decision_pk):
    forum = forum_services.get_forum(request.user, pk)
    decision = _decision(forum, decision_pk)
    forum_services.require_editor(request.user, forum)
    status = 200
    if request.method == "POST":
        form = _measure_form(forum, request.POST, creating=True)
        status = 400
        if form.is_valid():
            status, _measure = _attempt(form, lambda: forum_services.create_measure(
                request.user, decision, **form.values()))
            if status is None:
                messages.success(request, _("Åtgärden är sparad."))
                return redirect("forum:decision", pk=forum.pk, decision_pk=decision.pk)
    else:
        form = _measure_form(forum, creating=True, initial={
            "due_on": timezone.localdate() + datetime.timedelta(days=90)})
    return render(request, "forum/measure_form.html", _context(request, forum, "measures", **{
        "form": form, "decision": decision, "measure": None}), status=status)


@forum_view
def measure_edit(request, pk, measure_pk):
    forum = forum_services.get_forum(request.user, pk)
    measure = access.get_visible(forum_services.measures_of(forum), measure_pk)
    forum_services.require_editor(request.user, forum)
    status = 200
    if request.method == "POST":
        form = _measure_form(forum, request.POST)
        status = 400
        if form.is_valid():
            status, _saved = _attempt(form, lambda: forum_services.update_measure(
                request.user, measure, form.cleaned_data["version"], **form.values()))
            if status is None:
                messages.success(request, _("Åtgärden är sparad."))
                return redirect("forum:measures", pk=forum.pk)
    else:
        form = _measure_form(forum, initial={
            "version": measure.version, "title": measure.title, "owner_organisation": measure.owner_organisation_id,
            "responsible_user": measure.responsible_user_id, "due_on": measure.due_on, "status": measure.status,
            "category": measure.category_id, "from_organisation": measure.from_organisation_id,
            "to_organisation": measure.to_organisation_id})
    effect = _before_after_rows([measure], timezone.localdate())[0]
    return render(request, "forum/measure_form.html", _context(request, forum, "measures", **{
        "form": form, "decision": measure.decision, "measure": measure, "effect": effect}), status=status)
