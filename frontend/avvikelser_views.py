"""Samverkansavvikelser in HTML: 'Mina avvikelser', the counterpart's inbox 'Att besvara', a new report, the report
page with its workflow, answer, dialogue and history, and the live personal-data check of the free text.

Thin: reads go through avvikelser.queries (gated; `full_view` False is the forum's pseudonymised view — no SIP
link and no staff names anywhere on the page), writes through avvikelser.services. NotFound is the 404 page,
Forbidden a 403 page, a Conflict a message above the page, a stale version "someone else changed it", and a
ValidationError lands on the fields. Free text is never logged here, and the guard's findings are described by
kind and position, never echoed.
"""

from __future__ import annotations

import datetime
import html
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import transaction
from django.db.models import BooleanField, Case, ExpressionWrapper, F, IntegerField, Q, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.dateparse import parse_date
from django.utils.safestring import SafeData, SafeString
from django.utils.text import Truncator, capfirst
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from avvikelser import access as deviation_access
from avvikelser import guard, queries, services, workflow
from avvikelser.models import Agreement, Consequence, Deviation, State
from frontend import display
from frontend.avvikelser_forms import REPORT_TEXT_FIELDS, CommentForm, GuardForm, ReportForm, TransitionForm
from organisations import access
from organisations import queries as org_queries
from organisations.errors import Conflict, Forbidden, NotFound, PreconditionFailed, PreconditionRequired
from organisations.paging import LateRowPaginator
from sip import lifecycle
from sip import queries as sip_queries

PAGE_SIZE = 50
HISTORY_LIMIT = 200
TEXT_LIMIT = 160

STALE_MESSAGE = gettext_lazy(
    "Någon annan har ändrat avvikelsen medan du arbetade. Ladda om sidan för att se det som är sparat.")
MASKED_MESSAGE = gettext_lazy(
    "Uppgifterna som kan identifiera personen är ersatta med platshållare. Läs igenom texten innan du skickar.")
LEX_REMINDER = gettext_lazy(
    "Skada har uppstått: en anmälan enligt lex Sarah (socialtjänst) eller lex Maria (hälso- och sjukvård) kan "
    "behövas i din organisations eget avvikelsesystem. Den här rapporten ersätter inte en sådan anmälan.")

# The workflow's steps in process order, and how their buttons read.
TARGET_ORDER = (State.INKOMMEN, State.MOTTAGEN, State.BESVARAD, State.AVSLUTAD, State.ESKALERAD)
TRANSITION_LABELS = {
    State.INKOMMEN: gettext_lazy("Skicka till motparten"),
    State.MOTTAGEN: gettext_lazy("Bekräfta mottagandet"),
    State.BESVARAD: gettext_lazy("Skicka svaret"),
    State.AVSLUTAD: gettext_lazy("Avsluta avvikelsen"),
    State.ESKALERAD: gettext_lazy("Eskalera till forum"),
}
REOPEN_LABEL = gettext_lazy("Ändra svaret")
HISTORY_ACTIONS = {
    "create": gettext_lazy("Skapad"),
    "update": gettext_lazy("Ändrad"),
    "transition": gettext_lazy("Statusändring"),
    "comment": gettext_lazy("Kommentar"),
}
FIELD_LABELS = {
    "state": gettext_lazy("Status"),
    "category": gettext_lazy("Kategori"),
    "sip": gettext_lazy("SIP"),
    "analysis": gettext_lazy("Analys"),
    "measures": gettext_lazy("Åtgärder"),
}
MASK_ACTIONS = ("mask", "mask_send")
SEND_ACTIONS = ("send", "mask_send")


def avvikelse_view(view):
    """Signed-in users only; NotFound is the 404 page, Forbidden a 403 page with the reason."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404 from None
        except Forbidden as exc:
            return render(request, "avvikelser/forbidden.html", {"message": exc.message}, status=403)

    return login_required(wrapper)


def _attempt(form, write):
    """Run a service write for a valid form: (None, result), or (status, None) with the error on the form."""
    try:
        return None, write()
    except ValidationError as exc:
        form.add_service_errors(exc)
        return 400, None
    except PreconditionFailed:
        form.add_error(None, str(STALE_MESSAGE))
        return 412, None
    except PreconditionRequired as exc:
        form.add_error(None, str(exc.message))
        return 428, None
    except Conflict as exc:
        form.add_error(None, str(exc.message))
        return 409, None


def get_report(user, pk) -> Deviation:
    """One report through the gate, annotated with `full_view`."""
    return access.get_visible(queries.deviations_for(user), pk)


def report_url(pk: int, section: str = "") -> str:
    url = reverse("avvikelser:detail", args=[pk])
    return f"{url}#{section}" if section else url


# --- Lists -----------------------------------------------------------------------------------------------------

def _with_overdue(queryset, now):
    """Each row knows whether it is overdue (queries.overdue_q, in the same query: no query per row)."""
    return queryset.annotate(is_overdue=ExpressionWrapper(queries.overdue_q(now), output_field=BooleanField()))


def deadlines(deviation, now) -> dict:
    """Which of the counterpart's deadlines have passed (queries.deadlines_passed), with the flags that say so."""
    passed = queries.deadlines_passed(deviation, now)
    flags = []
    if passed["acknowledge_late"]:
        flags.append(_("Mottagande försenat"))
    if passed["answer_late"]:
        flags.append(_("Återkoppling försenad"))
    return {**passed, "flags": flags, "overdue": passed["acknowledge_late"] or passed["answer_late"]}


def _row(deviation, now) -> dict:
    """What a list row shows; overdue comes from the query's annotation, no query per row."""
    return {**deadlines(deviation, now), "deviation": deviation, "overdue": deviation.is_overdue}


@avvikelse_view
def report_list(request):
    """'Mina avvikelser': the reports of the user's units, drafts first, then the newest sent."""
    user = request.user
    now = timezone.now()
    reports = (_with_overdue(queries.deviations_for(user), now)
               .filter(reporting_unit_id__in=access.unit_ids(user))
               .annotate(draft_last=Case(When(state=State.UTKAST, then=Value(0)), default=Value(1),
                                         output_field=IntegerField()))
               .order_by("draft_last", F("submitted_at").desc(nulls_first=True), "-created_at", "-id"))
    page = LateRowPaginator(reports, PAGE_SIZE).get_page(request.GET.get("sida"))
    return render(request, "avvikelser/list.html", {
        "page": page, "rows": [_row(d, now) for d in page.object_list], "total": page.paginator.count,
        "tab": "mine", "has_units": bool(access.unit_ids(user)),
    })


# The inbox reads of each report only what its row shows, as a named tuple (no model instances).
INBOX_COLUMNS = ("pk", "state", "occurred_on", "acknowledge_due_at", "acknowledged_at", "answer_due_at", "answered_at",
                 "category__name", "reporting_organisation__name")

# One row of the inbox's table, as the row template rendered it before issue #7 (tests/avvikelser/
# test_inbox_speed.py renders that template and compares): rendering ~15 template nodes per row for 50 rows cost
# more than the page's SQL. Every value put in is escaped here (InboxRows.row), or is one of our own messages.
INBOX_ROW = (
    '\n        <tr{overdue}>\n'
    '          <td><a href="{url}">{label}</a>\n'
    '            <span class="meta avv-block">{occurred}</span></td>\n'
    '          <td><span class="status status--{state}">{state_display}</span></td>\n'
    '          <td>{category}</td>\n'
    '          <td>{organisation}</td>\n'
    '          <td{acknowledge_late}>{acknowledgement}</td>\n'
    '          <td{answer_late}>{answer}</td>\n'
    '          <td>{flags}\n</td>\n'
    '        </tr>\n      ')
LATE = ' class="is-late"'
OVERDUE = ' class="is-overdue"'
# After a deadline still awaited, the former template left the line break of its `{% if %}` branch.
AWAITED = "\n            "
URL_MARK = 918273645


# Days as `|date:"j F Y"` shows them, per language: the same in every request (a month's name is its only text).
_DAYS: dict[tuple, str] = {}


class InboxRows:
    """The inbox's rows, each as its HTML (INBOX_ROW): the same strings the row template's blocktranslate and date
    tags gave (same messages, same formats, the value escaped and the message not), made here once per page.
    Each message is translated, each dated text and each state's label made once per page, each day formatted once
    per process and language.
    `row(d)`: d is a row of INBOX_COLUMNS (a named tuple) or a Deviation."""

    def __init__(self, now):
        self.now, self.texts = now, {}
        self.zone, self.language = timezone.get_current_timezone(), get_language()
        self.due, self.acknowledged, self.answered = (
            _("senast %(date)s"), _("Mottagen %(date)s"), _("Besvarad %(date)s"))
        self.label, self.occurred = _("Avvikelse %(id)s"), _("hände %(date)s")
        self.acknowledge_flag, self.answer_flag = _("Mottagande försenat"), _("Återkoppling försenad")
        self.states = {value: _escape(str(label)) for value, label in State.choices}
        self.no_flags = f'<span class="visually-hidden">{_("Inga")}</span>'  # as {% translate %}: unescaped
        self.url = reverse("avvikelser:detail", args=[URL_MARK]).split(str(URL_MARK))
        # An id as `{{ id }}` shows it: localized (the same digits unless thousands are grouped).
        self.number = str if formats.localize(1234567) == "1234567" else formats.localize

    def day(self, value) -> str:
        """`|date:"j F Y"`, in local time for a time stamp."""
        if value in (None, ""):
            return ""
        if isinstance(value, datetime.datetime):
            value = value.astimezone(self.zone).date()  # timezone.localtime
        key = (self.language, value)
        text = _DAYS.get(key)
        if text is None:
            if len(_DAYS) > 10000:
                _DAYS.clear()
            text = _DAYS[key] = formats.date_format(value, "j F Y")
        return text

    def dated(self, message: str, value) -> str:
        if not value:
            return "–"
        day = self.day(value)
        text = self.texts.get((message, day))
        if text is None:
            text = self.texts[(message, day)] = _blocktranslated(message, day)
        return text

    def row(self, deviation) -> dict:
        """What the tests read of a row (deviation, overdue, flags, …) and its `html`."""
        state = deviation.state
        passed = queries.deadlines_passed(deviation, self.now)
        awaits_acknowledgement, awaits_answer = passed["awaits_acknowledgement"], passed["awaits_answer"]
        acknowledge_late, answer_late = passed["acknowledge_late"], passed["answer_late"]
        flags = [flag for late, flag in ((acknowledge_late, self.acknowledge_flag), (answer_late, self.answer_flag))
                 if late]  # the flags deadlines() gives, translated once per page
        if awaits_acknowledgement:
            acknowledgement = self.dated(self.due, deviation.acknowledge_due_at) + AWAITED
        else:
            acknowledgement = self.dated(self.acknowledged, deviation.acknowledged_at)
        if awaits_answer:
            answer = self.dated(self.due, deviation.answer_due_at) + AWAITED
        else:
            answer = self.dated(self.answered, deviation.answered_at)
        pk = deviation.pk
        if flags:
            shown = "".join(f'<li class="flag">{_escape(flag)}</li>' for flag in flags)
            shown_flags = f'<ul class="flags">{shown}</ul>'
        else:
            shown_flags = self.no_flags
        category, organisation = (
            (deviation.category__name, deviation.reporting_organisation__name) if isinstance(deviation, tuple)
            else (deviation.category.name, deviation.reporting_organisation.name))
        markup = INBOX_ROW.format(
            overdue=OVERDUE if acknowledge_late or answer_late else "",
            url=_escape(f"{self.url[0]}{pk}{self.url[1]}"),
            label=_blocktranslated(self.label, self.number(pk), "id"),
            occurred=self.dated(self.occurred, deviation.occurred_on) if deviation.occurred_on else
            _blocktranslated(self.occurred, ""),
            state=_escape(state),
            state_display=self.states.get(state) or _escape(state),
            category=_escape(category), organisation=_escape(organisation),
            acknowledge_late=LATE if acknowledge_late else "", acknowledgement=acknowledgement,
            answer_late=LATE if answer_late else "", answer=answer, flags=shown_flags)
        return {"deviation": deviation, "awaits_acknowledgement": awaits_acknowledgement,
                "awaits_answer": awaits_answer, "acknowledge_late": acknowledge_late, "answer_late": answer_late,
                "flags": flags, "overdue": acknowledge_late or answer_late, "html": SafeString(markup)}


def _blocktranslated(message: str, value, name: str = "date") -> str:
    """message % value as `{% blocktranslate with name=value %}` renders it: the value escaped, the message not."""
    # mark_safe without its lazy-argument check (a str; a hundred calls a page): our message, the value escaped.
    return SafeString(message % {name: _escape(value)})


def _escape(value) -> str:
    """django.utils.html.conditional_escape for a page's many plain values, without its lazy-string wrapper."""
    return value if isinstance(value, SafeData) else html.escape(str(value))


def _inbox_rows(gated):
    return gated.values_list(*INBOX_COLUMNS, named=True)


@avvikelse_view
def inbox(request):
    """'Att besvara': open reports against the user's organisation (as its contact person) or unit, due first."""
    user = request.user
    now = timezone.now()
    # The rows read only the columns the page shows (not the reports' free text), joined with what it names.
    inbox = queries.inbox_for(user, rows=_inbox_rows)
    page = queries.BranchPaginator(inbox, PAGE_SIZE).get_page(request.GET.get("sida"))
    texts = InboxRows(now)
    return render(request, "avvikelser/inbox.html", {
        "page": page, "rows": [texts.row(d) for d in page.object_list],
        "total": page.paginator.count,
        "tab": "inbox",
    })


# --- The report form (new report and the draft's edit form) ------------------------------------------------------

def _own_units(user) -> list:
    units = {}
    for membership in access.memberships(user):
        units.setdefault(membership.unit_id, membership.unit)
    return list(units.values())


def _sip_choices(user, include=None) -> list[tuple]:
    """The open plans the user takes part in (and the draft's current link), labelled with the person's name:
    showing the names is a read of the plans, so it is logged like 'Mina SIP:ar' logs it."""
    sips = list(sip_queries.sips_for(user).filter(Q(status__in=lifecycle.OPEN) | Q(pk=include)).order_by("-id"))
    sip_queries.record_sip_list_read(user, sips)
    return [(sip, _("SIP %(id)s – %(name)s") % {"id": sip.pk, "name": display.person_name(sip.person, True)})
            for sip in sips]


def report_form(user, data=None, *, deviation: Deviation | None = None) -> ReportForm:
    """The report form with its choices narrowed to what the user may pick (plus a draft's current values)."""
    current = deviation or Deviation()
    org_ids = access.organisation_ids(user)
    organisations = org_queries.organisations_for(user).filter(
        Q(active=True) | Q(pk=current.counterpart_organisation_id))
    if len(org_ids) == 1:
        organisations = organisations.exclude(pk__in=org_ids)
    partners = queries.partner_organisation_ids(user)
    partner_units = org_queries.units_for(user).filter(
        Q(organisation_id__in=partners, active=True) | Q(pk=current.counterpart_unit_id))
    categories = queries.categories().filter(Q(retired_at__isnull=True) | Q(pk=current.category_id))
    agreements = queries.agreements_for(user, current.agreement_id)
    return ReportForm(
        data, initial=ReportForm.initial_for(deviation) if deviation else None, editing=deviation is not None,
        own_units=_own_units(user), organisations=organisations, partner_units=partner_units,
        categories=categories, agreements=agreements, sips=_sip_choices(user, current.sip_id))


def _invalid(form: ReportForm) -> ReportForm:
    """An invalid form also shows what the guard finds in its free text (the service only sees valid forms)."""
    texts = {name: form.data.get(form.add_prefix(name), "") for name in REPORT_TEXT_FIELDS
             if name not in form.errors}
    try:
        services.check_personal_data(texts, names=form.person_names())
    except ValidationError as exc:
        form.add_service_errors(exc)
    return form


def _masked(form: ReportForm) -> ReportForm:
    """The same form bound to the submitted data with the personal data in the free text masked."""
    form.is_valid()  # the linked plan decides whose names count
    masked = form.rebound(form.masked_data())
    masked.is_valid()
    return masked


@avvikelse_view
def new(request):
    """A new report: 'Spara utkast' keeps a draft, 'Skicka' creates it and sends it to the counterpart at once."""
    user = request.user
    if not access.unit_ids(user):
        return render(request, "avvikelser/new.html", {"no_unit": True}, status=403)
    form = report_form(user, request.POST or None)
    status, notice = 200, ""
    if request.method == "POST":
        action = request.POST.get("action", "draft")
        if action in MASK_ACTIONS:
            form = _masked(form)
            notice = str(MASKED_MESSAGE)
        if action == "mask":
            status = 200 if form.is_valid() else 400
        elif form.is_valid():
            send = action in SEND_ACTIONS

            def write():
                with transaction.atomic():  # 'Skicka' is one step: no half-sent draft is left behind
                    deviation = services.create_draft(user, reporting_unit=form.cleaned_data["reporting_unit"],
                                                      **form.values())
                    if send:
                        deviation = services.transition(user, deviation, State.INKOMMEN, deviation.version)
                return deviation

            status, deviation = _attempt(form, write)
            if status is None:
                messages.success(request, _("Avvikelsen är skickad till motparten.") if send
                                 else _("Utkastet är sparat. Det syns bara för din enhet tills du skickar det."))
                return redirect("avvikelser:detail", pk=deviation.pk)
        else:
            status, form = 400, _invalid(form)
    return render(request, "avvikelser/new.html", {
        "form": form, "notice": notice, "has_findings": form.is_bound and form.has_findings(),
        "lex_reminder": LEX_REMINDER,
    }, status=status)


# --- The report page -------------------------------------------------------------------------------------------

def _history_rows(user, changes, *, full: bool) -> list[dict]:
    """History as people read it: choice labels and names for ids; in the forum's view no actors and no SIP."""
    ids: dict[str, set] = {"category": set(), "counterpart_organisation": set(), "counterpart_unit": set(),
                           "agreement": set()}
    for change in changes:
        if change.field in ids:
            ids[change.field].update(v for v in (change.old, change.new) if isinstance(v, int))
    names: dict[str, dict] = {name: {} for name in ids}
    if ids["category"]:
        names["category"] = dict(queries.categories().filter(pk__in=ids["category"]).values_list("pk", "name"))
    if ids["counterpart_organisation"]:
        names["counterpart_organisation"] = dict(org_queries.organisations_for(user).filter(
            pk__in=ids["counterpart_organisation"]).values_list("pk", "name"))
    if ids["counterpart_unit"]:
        names["counterpart_unit"] = dict(org_queries.units_for(user).filter(
            pk__in=ids["counterpart_unit"]).values_list("pk", "name"))
    if ids["agreement"]:
        names["agreement"] = dict(Agreement.objects.filter(pk__in=ids["agreement"]).values_list("pk", "name"))

    def value(field, raw) -> str:
        if raw in (None, ""):
            return ""
        if field == "state":
            return str(State(raw).label) if raw in State.values else str(raw)
        if field == "consequence":
            return str(Consequence(raw).label) if raw in Consequence.values else str(raw)
        if field in names:
            return names[field].get(raw, str(raw))
        if field == "sip":
            return _("SIP %(id)s") % {"id": raw}
        if field == "occurred_on":
            day = parse_date(str(raw))
            return formats.date_format(day, "SHORT_DATE_FORMAT") if day else str(raw)
        return Truncator(str(raw)).chars(TEXT_LIMIT)

    rows = []
    for change in changes:
        if not full and change.field == "sip":
            continue  # the forum never learns which plan a report is linked to
        if change.action == "comment":
            field_label, old, new = "", "", ""
        else:
            field_label = _field_label(change.field)
            old, new = value(change.field, change.old), value(change.field, change.new)
        rows.append({
            "at": change.at, "action": HISTORY_ACTIONS.get(change.action, change.action), "field": field_label,
            "old": old, "new": new,
            "actor": (change.actor.get_full_name() or change.actor.username) if full and change.actor else "",
        })
    return rows


def _field_label(name: str) -> str:
    if not name:
        return ""
    if name in FIELD_LABELS:
        return str(FIELD_LABELS[name])
    try:
        return capfirst(str(Deviation._meta.get_field(name).verbose_name))
    except FieldDoesNotExist:  # a field that no longer exists keeps its stored name
        return name


def _transition_form(deviation, target: str, data=None) -> TransitionForm:
    return TransitionForm(data, initial={"version": deviation.version, "analysis": deviation.analysis,
                                         "measures": deviation.measures},
                          prefix=f"to-{target}", answer=target == State.BESVARAD)


def render_report(request, pk, *, status: int = 200, forms: dict | None = None, page_error: str = "",
                  notice: str = ""):
    """The report page; `forms` replaces the page's own unbound forms (a form with its errors)."""
    user = request.user
    deviation = get_report(user, pk)
    full = deviation.full_view
    mine = deviation_access.sides(user, deviation)
    overrides = forms or {}
    editing = deviation.state == State.UTKAST and "reporter" in mine
    transitions, answer = [], None
    for target in sorted(workflow.targets_for(deviation.state, mine), key=TARGET_ORDER.index):
        if target == State.INKOMMEN and editing:
            continue  # the draft form's own 'Skicka' sends it
        form = overrides.get(f"to:{target}") or _transition_form(deviation, target)
        label = TRANSITION_LABELS[target]
        if target == State.MOTTAGEN and deviation.state == State.BESVARAD:
            label = REOPEN_LABEL
        item = {"target": target, "label": label, "form": form, "escalate": target == State.ESKALERAD}
        if target == State.BESVARAD:
            answer = item
        else:
            transitions.append(item)
    # A draft has no dialogue yet: it is the reporting unit's own until it is sent.
    may_comment = deviation.state != State.UTKAST and bool(mine & {"reporter", "counterpart", "processledare"})
    comments = [{"comment": c, "author": (c.author.get_full_name() or c.author.username) if full else ""}
                for c in queries.comments_of(deviation)]
    changes = list(queries.history_of(deviation)[:HISTORY_LIMIT + 1])
    sip_visible = bool(full and deviation.sip_id
                       and sip_queries.sips_for(user).filter(pk=deviation.sip_id).exists())
    context = {
        "deviation": deviation,
        "full": full,
        "sides": mine,
        "is_reporter": "reporter" in mine,
        "is_counterpart": "counterpart" in mine,
        "deadlines": deadlines(deviation, timezone.now()),
        "editing": editing,
        "edit_form": (overrides.get("edit") or report_form(user, deviation=deviation)) if editing else None,
        "has_findings": bool(editing and overrides.get("edit") is not None and overrides["edit"].has_findings()),
        "transitions": transitions,
        "answer": answer,
        "comments": comments,
        "comment_form": (overrides.get("comment") or CommentForm(prefix="kommentar")) if may_comment else None,
        "history": _history_rows(user, changes[:HISTORY_LIMIT], full=full),
        "history_has_more": len(changes) > HISTORY_LIMIT,
        "sip_visible": sip_visible,
        "lex_reminder": LEX_REMINDER,
        "page_error": page_error,
        "notice": notice,
    }
    return render(request, "avvikelser/detail.html", context, status=status)


@avvikelse_view
def detail(request, pk):
    return render_report(request, pk)


def _back(request, pk, section: str = ""):
    """GET on a URL that only takes POST: check the report is visible, then go to its page."""
    get_report(request.user, pk)
    return redirect(report_url(pk, section))


def _changes(deviation, values: dict) -> dict:
    """Only what the form changed, so the history and the audit name the fields that really changed."""
    changes = {}
    for name, value in values.items():
        field = Deviation._meta.get_field(name)
        if field.is_relation:
            if (value.pk if value is not None else None) != getattr(deviation, field.attname):
                changes[name] = value
        elif value != getattr(deviation, name):
            changes[name] = value
    return changes


@avvikelse_view
def edit(request, pk):
    """The draft saved with the version the reporter started from; 'Skicka' saves and sends it in one step."""
    if request.method != "POST":
        return _back(request, pk, "utkast")
    user = request.user
    deviation = get_report(user, pk)
    form = report_form(user, request.POST, deviation=deviation)
    action = request.POST.get("action", "draft")
    notice = ""
    if action in MASK_ACTIONS:
        form = _masked(form)
        notice = str(MASKED_MESSAGE)
    if action == "mask":
        return render_report(request, pk, status=200 if form.is_valid() else 400, forms={"edit": form},
                             notice=notice)
    if not form.is_valid():
        return render_report(request, pk, status=400, forms={"edit": _invalid(form)})
    send = action in SEND_ACTIONS
    changes = _changes(deviation, form.values())
    if not changes and not send and deviation.state == State.UTKAST:
        messages.info(request, _("Inga ändringar att spara."))
        return redirect(report_url(pk))

    def write():
        with transaction.atomic():  # save and send together, or not at all
            current, version = deviation, form.cleaned_data["version"]
            if changes or not send:
                current = services.update_draft(user, deviation, version, **changes)
                version = current.version
            if send:
                current = services.transition(user, current, State.INKOMMEN, version)
        return current

    status, _result = _attempt(form, write)
    if status == 412:
        # Keep what the reporter wrote, now based on the saved version: saving again is a deliberate choice.
        data = request.POST.copy()
        data["version"] = get_report(user, pk).version
        form = form.rebound(data)
        form.is_valid()
        form.add_error(None, str(STALE_MESSAGE))
        return render_report(request, pk, status=412, forms={"edit": form}, notice=notice)
    if status in (409, 428):
        return render_report(request, pk, status=status, page_error=" ".join(form.non_field_errors()))
    if status:
        return render_report(request, pk, status=status, forms={"edit": form}, notice=notice)
    messages.success(request, _("Avvikelsen är skickad till motparten.") if send else _("Utkastet är sparat."))
    return redirect(report_url(pk))


@avvikelse_view
def transition(request, pk):
    if request.method != "POST":
        return _back(request, pk)
    user = request.user
    deviation = get_report(user, pk)
    target = request.POST.get("target", "")
    if target not in State.values:
        return render_report(request, pk, status=400, page_error=_("Okänd status."))
    key = f"to:{target}"
    form = _transition_form(deviation, target, request.POST)
    if not form.is_valid():
        return render_report(request, pk, status=400, forms={key: form})
    status, _result = _attempt(form, lambda: services.transition(user, deviation, target,
                                                                 form.cleaned_data["version"], **form.answer()))
    if status == 412:
        fresh = get_report(user, pk)
        if target == State.BESVARAD:  # keep the answer being written, based on the saved version
            data = request.POST.copy()
            data[form.add_prefix("version")] = fresh.version
            kept = form.rebound(data)
            kept.is_valid()
            return render_report(request, pk, status=412, forms={key: kept}, page_error=str(STALE_MESSAGE))
        return render_report(request, pk, status=412, page_error=str(STALE_MESSAGE))
    if status in (409, 428):
        return render_report(request, pk, status=status, page_error=" ".join(form.non_field_errors()))
    if status:
        return render_report(request, pk, status=status, forms={key: form})
    messages.success(request, _("Avvikelsen har nu status %(status)s.") % {"status": State(target).label})
    return redirect(report_url(pk))


@avvikelse_view
def comment(request, pk):
    """A comment in the dialogue between the reporter, the counterpart and the forum's processledare."""
    if request.method != "POST":
        return _back(request, pk, "dialog")
    user = request.user
    deviation = get_report(user, pk)
    form = CommentForm(request.POST, prefix="kommentar")
    if not form.is_valid():
        # Who may comment is the service's call: a side without the right gets its 403, not a form error.
        deviation_access.require_side(user, deviation, {"reporter", "counterpart", "processledare"})
        return render_report(request, pk, status=400, forms={"comment": form})
    status, _result = _attempt(form, lambda: services.comment(user, deviation, form.cleaned_data["text"]))
    if status:
        return render_report(request, pk, status=status, forms={"comment": form})
    messages.success(request, _("Kommentaren är sparad."))
    return redirect(report_url(pk, "dialog"))


# --- The live personal-data check ------------------------------------------------------------------------------

def _guard_input(request) -> tuple[str, list[str]]:
    """The text to check and the names to look for: the person of a plan the user takes part in, or of the
    report's plan when the user sees the report in full. The forum's pseudonymised view gets no names, so the
    check can never be used to guess who a report is about."""
    if not access.is_staff_member(request.user):
        raise NotFound
    form = GuardForm(request.POST)
    if not form.is_valid():
        raise ValidationError(_("Texten är för lång."))
    user, data = request.user, form.cleaned_data
    sip = None
    if data.get("sip"):
        sip = sip_queries.sips_for(user).filter(pk=data["sip"]).first()
    elif data.get("avvikelse"):
        deviation = queries.deviations_for(user).filter(pk=data["avvikelse"]).select_related("sip__person").first()
        if deviation is not None and deviation.full_view:
            sip = deviation.sip
    names = [sip.person.first_name, sip.person.last_name] if sip is not None else []
    return data["text"] or "", names


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def guard_endpoint(view):
    @wraps(view)
    def wrapper(request):
        try:
            text, names = _guard_input(request)
        except NotFound:
            raise Http404 from None
        except ValidationError as exc:
            return _private(HttpResponse(" ".join(exc.messages), status=400, content_type="text/plain"))
        return _private(view(request, text, names))

    return login_required(require_POST(wrapper))


@guard_endpoint
def check(request, text, names):
    """POST text → an HTML fragment listing what was found, by kind and position (never the found text)."""
    findings = guard.scan(text, names=names)
    return render(request, "avvikelser/_guard_findings.html", {"findings": guard.describe(findings)})


@guard_endpoint
def mask(request, text, names):
    """POST text → the same text with every finding replaced by its placeholder."""
    return HttpResponse(guard.mask(text, guard.scan(text, names=names)), content_type="text/plain; charset=utf-8")
