"""Delaktighet in HTML: the public answer page behind a link (no account, works without JavaScript), the plan's
invitations for its staff (paper sheet with a QR code, paper answers, shared answers), the participation report
with its chart over time, and rutinkollen.

Thin: reads go through sip.delaktighet.queries / services / reports, writes through services. The answer link's
token lives only in the path of the public page; it is never logged here, never shown as text and never sent
anywhere but back to the same path (and as `next` to Django's language switch, which returns to it).
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.throttling import BaseThrottle

from frontend.delaktighet_forms import QuestionnaireForm, ReportFilterForm, RoutineCheckForm, quarter_of
from frontend.views.common import attempt, sip_view
from organisations import access
from organisations import queries as org_queries
from organisations.errors import NotFound
from sip.delaktighet import queries, reports, services
from sip.delaktighet.models import AgeBand, InvitationStatus, ItemKind, Purpose
from sip.delaktighet.services import Gone
from sip.models import Gender

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PUBLIC_HEADERS = {
    "Cache-Control": "no-store",  # the page holds the person's unsent answers
    # The path is the secret: never send it to another site. ("no-referrer" would make the browser send
    # "Origin: null" with the language form, which Django's CSRF check rightly refuses.)
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex, nofollow",
}
CONTENT_LANGUAGE = "sv"  # questionnaire texts are stored in Swedish
TARGET_SHARE = 0.75  # Eskilstuna: three of four respondents with an own mean of at least 4
CHART_QUARTERS = 8
CHART_MAX_QUARTERS = 12
CHART_GENDERS = (Gender.KVINNA, Gender.MAN)
DASH = "–"


# --- rate limit ------------------------------------------------------------------------------------------

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _public_rate() -> tuple[int, int] | None:
    rate = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get("public")
    if not rate:
        return None
    number, period = rate.split("/")
    return int(number), _PERIODS[period.strip()[0]]


def throttle_wait(request) -> int | None:
    """DRF's "public" rate for this page: at most N requests per period and client (identified like DRF's
    throttles do), counted in the cache in fixed windows. Returns the seconds to wait, or None when allowed.
    The key is a hash of the client address; the token is not part of it."""
    rate = _public_rate()
    if rate is None:
        return None
    limit, seconds = rate
    ident = BaseThrottle().get_ident(request) or ""
    key = "delaktighet:public-rate:" + hashlib.sha256(ident.encode()).hexdigest()[:32]
    cache.add(key, 0, timeout=seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between add and incr
        cache.set(key, 1, timeout=seconds)
        count = 1
    return seconds if count > limit else None


# --- the public answer page ------------------------------------------------------------------------------

def _public(request, template: str, context: dict | None = None, *, status: int = 200,
            language_switch: bool = True) -> HttpResponse:
    response = render(request, template, {
        "language_next": request.path if language_switch else "",
        "content_lang": CONTENT_LANGUAGE,
        **(context or {}),
    }, status=status)
    for header, value in PUBLIC_HEADERS.items():
        response[header] = value
    return response


def _gone(request) -> HttpResponse:
    return _public(request, "delaktighet/public_gone.html", status=410)


def _thanks(request, *, declined: bool) -> HttpResponse:
    return _public(request, "delaktighet/public_thanks.html", {"declined": declined}, language_switch=False)


# The token in the path is the only key, so a forged cross-site post would need the secret itself; without a
# CSRF cookie the page also works for people whose browser refuses cookies.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def answer(request, token):
    wait = throttle_wait(request)
    if wait is not None:
        response = _public(request, "delaktighet/public_throttled.html", status=429)
        response["Retry-After"] = str(wait)
        return response
    try:
        invitation = services.resolve(token)
    except NotFound:
        return _public(request, "delaktighet/public_not_found.html", status=404)
    except Gone:
        return _gone(request)
    version = invitation.version
    items = version.items.order_by("order")
    status = 200
    if request.method == "POST":
        try:
            if "decline" in request.POST:
                services.decline(token)
                return _thanks(request, declined=True)
            form = QuestionnaireForm(items, request.POST)
            if form.is_valid():
                try:
                    services.submit(token, form.answers(), share_with_staff=form.share_with_staff)
                except ValidationError as exc:
                    form.add_service_errors(exc)
                else:
                    return _thanks(request, declined=False)
            status = 400
        except (Gone, NotFound):
            return _gone(request)
    else:
        form = QuestionnaireForm(items)
    return _public(request, "delaktighet/public_answer.html", {
        "version": version, "form": form, "questions": form.questions(),
    }, status=status)


# --- the plan's invitations (staff) ----------------------------------------------------------------------

def _is_open(invitation, now) -> bool:
    return invitation.status == InvitationStatus.SENT and invitation.expires_at > now


def _staff_gone(request, sip_id: int) -> HttpResponse:
    return render(request, "delaktighet/staff_gone.html", {"sip_id": sip_id}, status=410)


@sip_view
def invitations(request, sip_id):
    rows = services.invitations_of(request.user, sip_id).select_related("response")
    now = timezone.now()
    listed = []
    for invitation in rows:
        response = getattr(invitation, "response", None)
        listed.append({
            "invitation": invitation,
            "meeting_at": invitation.meeting.held_at or invitation.meeting.starts_at,
            "who": invitation.participant.get_kind_display(),
            "is_open": _is_open(invitation, now),
            "expired": invitation.status == InvitationStatus.SENT and invitation.expires_at <= now,
            "shared": bool(response and response.share_with_staff),
            "paper": bool(response and response.mode == "paper"),
        })
    return render(request, "delaktighet/invitations.html", {
        "sip_id": sip_id, "rows": listed, "plan_url": reverse("frontend:sip_detail", args=[sip_id]),
    })


def _answer_text(item, answer) -> str:
    if answer is None:
        return _("Inget svar")
    if item.kind == ItemKind.FREE_TEXT:
        return answer.value_text or _("Inget svar")
    if item.kind == ItemKind.SCALE_1_6:
        return _("%(value)s av 6") % {"value": answer.value_int}
    if item.kind == ItemKind.YES_NO_UNKNOWN:
        return {1: _("Ja"), 0: _("Nej"), 2: _("Vet inte")}.get(answer.value_int, str(answer.value_int))
    if item.kind == ItemKind.YES_PARTLY_NO:
        return {"yes": _("Ja"), "partly": _("Delvis"), "no": _("Nej")}.get(answer.value_text, answer.value_text)
    choices = item.choices or []
    index = answer.value_int
    return str(choices[index]) if index is not None and 0 <= index < len(choices) else str(index)


@sip_view
def shared_answers(request, sip_id, invitation_id):
    response = services.individual_answers(request.user, sip_id, invitation_id)
    by_item = {answer.item_id: answer for answer in response.answers.all()}
    rows = [{"item": item, "text": _answer_text(item, by_item.get(item.pk)), "answered": item.pk in by_item}
            for item in response.version.items.order_by("order")]
    return render(request, "delaktighet/shared_answers.html", {
        "sip_id": sip_id, "response": response, "rows": rows, "content_lang": CONTENT_LANGUAGE,
        "back_url": reverse("delaktighet:invitations", args=[sip_id]),
    })


def qr_svg(link: str) -> str:
    """The link as a QR code in inline SVG (segno, no image file); rendered into the response only."""
    import segno

    svg = segno.make(link, error="m").svg_inline(scale=4, border=4, dark="#000", light="#fff",
                                                 svgclass="qr-code", lineclass=None)
    label = escape(_("QR-kod till enkäten"))
    return mark_safe(svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1))  # noqa: S308 - segno's own SVG


@sip_view
@require_POST
def paper_sheet(request, sip_id, invitation_id):
    invitation = access.get_visible(services.invitations_of(request.user, sip_id), invitation_id)
    try:
        link = services.paper_link(request.user, sip_id, invitation_id)
    except Gone:
        return _staff_gone(request, sip_id)
    form = QuestionnaireForm(invitation.version.items.order_by("order"))
    response = render(request, "delaktighet/paper_sheet.html", {
        "sip_id": sip_id, "version": invitation.version, "questions": form.questions(), "qr": qr_svg(link),
        "content_lang": CONTENT_LANGUAGE, "back_url": reverse("delaktighet:invitations", args=[sip_id]),
    })
    response["Cache-Control"] = "no-store"  # the sheet carries a live answer link
    return response


@sip_view
def paper_answer(request, sip_id, invitation_id):
    user = request.user
    invitation = access.get_visible(services.invitations_of(user, sip_id), invitation_id)
    if not _is_open(invitation, timezone.now()):
        return _staff_gone(request, sip_id)
    form = QuestionnaireForm(
        invitation.version.items.order_by("order"), request.POST if request.method == "POST" else None,
        share_label=_("Personen har kryssat i att personalen får läsa svaren"),
        share_help=_("Kryssa bara i rutan om personen själv har kryssat i den på pappret."))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.register_paper_answer(user, sip_id, invitation.pk, form.answers(),
                                               share_with_staff=form.share_with_staff)
            except ValidationError as exc:
                form.add_service_errors(exc)
            except Gone:
                return _staff_gone(request, sip_id)
            else:
                messages.success(request, _("Svaren från pappersenkäten är registrerade."))
                return redirect("delaktighet:invitations", sip_id=sip_id)
        status = 400
    return render(request, "delaktighet/paper_answer.html", {
        "sip_id": sip_id, "invitation": invitation, "form": form, "questions": form.questions(),
        "content_lang": CONTENT_LANGUAGE, "back_url": reverse("delaktighet:invitations", args=[sip_id]),
    }, status=status)


# --- the report ------------------------------------------------------------------------------------------

def show(value, kind: str = "count") -> str:
    """A report figure as text: hidden figures exactly as the report gives them ("<5"), no base as a dash."""
    if isinstance(value, str):
        return value
    if value is None:
        return DASH
    if kind == "share":
        return f"{formats.number_format(round(value * 100, 1), decimal_pos=1, use_l10n=True)}\u00a0%"
    if kind == "mean":
        return formats.number_format(value, decimal_pos=2, use_l10n=True)
    return str(value)


def _measure(value) -> dict:
    """The Eskilstuna measure with its verdict in words (never colour alone)."""
    if isinstance(value, str):
        verdict, state = _("Visas inte: för få svar"), "hidden"
    elif value is None:
        verdict, state = _("Inga svar att räkna på"), "none"
    elif value >= TARGET_SHARE:
        verdict, state = _("Når målet"), "met"
    else:
        verdict, state = _("Under målet"), "below"
    return {"value": show(value, "share"), "verdict": verdict, "state": state}


def _group_title(key: dict) -> str:
    labels = {"gender": dict(Gender.choices), "age_band": dict(AgeBand.choices)}
    parts = [str(labels[name].get(value, value)) for name, value in key.items()]
    return ", ".join(parts) or _("Alla svarande")


def _block(title: str, anchor: str, block: dict) -> dict:
    items = []
    for item in block["items"]:
        distribution = item["distribution"]
        scale = set(distribution) == {str(value) for value in range(1, 7)}
        items.append({
            "text": item["text"], "n": show(item["n"]), "mean": show(item["mean"], "mean"),
            "share": show(item["share_ge4"], "share"), "scale": scale,
            "distribution": [show(distribution[str(value)]) for value in range(1, 7)] if scale else [],
            "other": ", ".join(f"{key}: {show(value)}" for key, value in distribution.items()) if not scale else "",
        })
    return {
        "title": title, "anchor": anchor,
        "invitations": show(block["invitations"]), "answers": show(block["answers"]),
        "response_rate": show(block["response_rate"], "share"),
        "measure": _measure(block["respondent_mean_share_ge4"]), "items": items,
    }


def _blocks(report: dict) -> list[dict]:
    out = []
    if report["filters"]["group_by"]:
        for index, group in enumerate(report["groups"], start=1):
            out.append(_block(_group_title(group["key"]), f"grupp-{index}", group))
    out.append(_block(_("Totalt"), "totalt", report["total"]))
    return out


def _add_quarters(day: datetime.date, count: int) -> datetime.date:
    months = day.year * 12 + day.month - 1 + count * 3
    return datetime.date(months // 12, months % 12 + 1, 1)


def _quarters(start: datetime.date | None, end: datetime.date | None) -> list[tuple[datetime.date, datetime.date]]:
    last = quarter_of(end or timezone.localdate())[0]
    first = quarter_of(start)[0] if start else _add_quarters(last, -(CHART_QUARTERS - 1))
    quarters = []
    current = first
    while current <= last:
        quarters.append(quarter_of(current))
        current = _add_quarters(current, 1)
    return quarters[-CHART_MAX_QUARTERS:]


def _quarter_label(start: datetime.date) -> str:
    return _("K%(quarter)s %(year)s") % {"quarter": (start.month - 1) // 3 + 1, "year": start.year}


@dataclass
class Series:
    key: str
    label: str
    points: list = field(default_factory=list)  # (x, y) or None per quarter
    segments: list = field(default_factory=list)  # "x,y x,y" for every run of shown points


@dataclass
class Chart:
    width: int = 640
    height: int = 300
    left: int = 56
    right: int = 16
    top: int = 16
    bottom: int = 48
    quarters: list = field(default_factory=list)  # (label, x)
    grid: list = field(default_factory=list)  # (label, y)
    target_y: float = 0
    series: list = field(default_factory=list)
    table: list = field(default_factory=list)  # (label, [shown value per series])

    @property
    def plot_bottom(self) -> int:
        return self.height - self.bottom

    @property
    def plot_right(self) -> int:
        return self.width - self.right


def _chart(user, arguments: dict) -> Chart:
    """The share of respondents with an own mean ≥ 4 per quarter for women and men: one report per quarter,
    so every point is suppressed exactly like the report itself. Hidden or missing points are gaps."""
    quarters = _quarters(arguments["period_start"], arguments["period_end"])
    chart = Chart()
    plot_width = chart.plot_right - chart.left
    plot_height = chart.plot_bottom - chart.top
    step = plot_width / max(len(quarters), 1)
    labels = dict(Gender.choices)
    chart.series = [Series(key=str(gender), label=str(labels[gender])) for gender in CHART_GENDERS]

    def y_of(share: float) -> float:
        return round(chart.top + (1 - share) * plot_height, 1)

    chart.grid = [(f"{percent}\u00a0%", y_of(percent / 100)) for percent in (0, 25, 50, 75, 100)]
    chart.target_y = y_of(TARGET_SHARE)
    for index, (start, end) in enumerate(quarters):
        x = round(chart.left + step * (index + 0.5), 1)
        label = _quarter_label(start)
        chart.quarters.append((label, x))
        report = reports.participation_report(user, organisation=arguments["organisation"], unit=arguments["unit"],
                                              period_start=start, period_end=end, group_by=("gender",))
        values = {group["key"].get("gender"): group["respondent_mean_share_ge4"] for group in report["groups"]}
        row = []
        for series in chart.series:
            value = values.get(series.key)
            row.append(show(value, "share"))
            series.points.append((x, y_of(value)) if isinstance(value, float | int) else None)
        chart.table.append((label, row))
    for series in chart.series:
        run = []
        for point in [*series.points, None]:
            if point is None:
                if len(run) > 1:
                    series.segments.append(" ".join(f"{x},{y}" for x, y in run))
                run = []
            else:
                run.append(point)
    return chart


def _report_form(request) -> ReportFilterForm:
    user = request.user
    mine = access.organisation_ids(user)
    return ReportFilterForm(
        request.GET, organisations=org_queries.organisations_for(user).filter(pk__in=mine),
        units=org_queries.units_for(user).filter(organisation_id__in=mine))


def _run_report(form: ReportFilterForm, user) -> dict | None:
    if not form.is_valid():
        return None
    try:
        return reports.participation_report(user, **form.report_arguments())
    except ValidationError as exc:
        form.add_service_errors(exc)
        return None


@sip_view
def report(request):
    form = _report_form(request)
    result = _run_report(form, request.user)
    context = {"form": form, "report": result}
    if result is not None:
        context.update({
            "blocks": _blocks(result),
            "chart": _chart(request.user, form.report_arguments()),
            "query": request.GET.urlencode(),
            "min_cell": result["min_cell"],
            "marker": reports.marker(result["min_cell"]),
            "target": show(TARGET_SHARE, "share"),
            "scale": range(1, 7),
            "content_lang": CONTENT_LANGUAGE,
        })
    return render(request, "delaktighet/report.html", context, status=200 if result is not None else 400)


def _export(request, output: str) -> HttpResponse:
    form = _report_form(request)
    result = _run_report(form, request.user)
    if result is None:
        return render(request, "delaktighet/report.html", {"form": form, "report": None}, status=400)
    if output == "csv":
        response = HttpResponse(reports.to_csv(result), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(reports.to_xlsx(result), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="delaktighet.{output}"'
    return response


@sip_view
def report_csv(request):
    return _export(request, "csv")


@sip_view
def report_xlsx(request):
    return _export(request, "xlsx")


# --- rutinkollen -----------------------------------------------------------------------------------------

ROUTINE_LABELS = {"yes": _("Ja"), "partly": _("Delvis"), "no": _("Nej")}
ROUTINE_PAGE_SIZE = 20


def _trend_table(rows: list[dict]) -> tuple[list[str], list[dict]]:
    """queries.routine_trend as periods × units: the share of "ja" in each cell."""
    units = sorted({(row["unit__name"], row["unit_id"]) for row in rows})
    periods: dict[tuple, dict] = {}
    for row in rows:
        cells = periods.setdefault((row["period_start"], row["period_end"]), {})
        cells[row["unit_id"]] = show(row["share_yes"], "share")
    table = [{"start": start, "end": end, "cells": [cells.get(unit_id, DASH) for _name, unit_id in units]}
             for (start, end), cells in sorted(periods.items())]
    return [name for name, _unit_id in units], table


@sip_view
def routine_list(request):
    user = request.user
    page = Paginator(queries.routine_checks_for(user), ROUTINE_PAGE_SIZE).get_page(request.GET.get("sida"))
    checks = [{"check": check, "answers": [(answer, ROUTINE_LABELS.get(answer.value, answer.value))
                                           for answer in check.answers.all()]} for check in page]
    unit_names, trend = _trend_table(queries.routine_trend(user))
    return render(request, "delaktighet/routine_list.html", {
        "page": page, "checks": checks, "unit_names": unit_names, "trend": trend,
        "can_record": bool(access.unit_ids(user)), "content_lang": CONTENT_LANGUAGE,
    })


@sip_view
def routine_new(request):
    user = request.user
    version = services.current_version(Purpose.ROUTINE_CHECK)
    units = org_queries.units_for(user).filter(pk__in=access.unit_ids(user))
    if version is None or not units.exists():
        return render(request, "delaktighet/routine_new.html", {"form": None, "version": version})
    items = version.items.order_by("order")
    form = RoutineCheckForm(request.POST if request.method == "POST" else None, units=units, items=items)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            status, form, _check = attempt(
                form, lambda: services.record_routine_check(user, **form.service_arguments()))
            if status is None:
                messages.success(request, _("Rutinkollen är sparad."))
                return redirect("delaktighet:routine_list")
        else:
            status = 400
    return render(request, "delaktighet/routine_new.html", {
        "form": form, "version": version, "content_lang": CONTENT_LANGUAGE,
    }, status=status)
