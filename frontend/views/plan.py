"""The plan page /sip/<id>/ and what hangs off it: 'Om planen', status changes, history, presence and exports.

Every form on the page posts to its own view; on success the view redirects back to the page (at the right
section), on an error it renders the page again with that form bound, its errors shown, and the HTTP status of
the error (400, 409, 412 with the merge view).
"""

from __future__ import annotations

from functools import cached_property

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from frontend import display, presence
from frontend.forms import (
    ActionForm,
    ConsentForm,
    GoalCreateForm,
    HoldMeetingForm,
    MeetingForm,
    SipForm,
    TransitionForm,
    UnitAddForm,
)
from frontend.views.common import attempt, sip_view
from organisations import access
from organisations import queries as org_queries
from sip import deadlines, identifiers, lifecycle, queries, services
from sip.models import ActionStatus, MeetingStatus, SipStatus

STALE_MESSAGE = gettext_lazy(
    "Någon annan har ändrat detta medan du arbetade. Sidan visar nu det som är sparat; gör om ändringen om den "
    "fortfarande behövs."
)
HISTORY_ON_PAGE = 50
HISTORY_PAGE_SIZE = 200

TRANSITION_LABELS = {
    SipStatus.KALLAD: gettext_lazy("Markera som kallad"),
    SipStatus.UPPRATTAD: gettext_lazy("Upprätta planen"),
    SipStatus.UPPFOLJNING: gettext_lazy("Påbörja uppföljning"),
    SipStatus.AVSLUTAD: gettext_lazy("Avsluta planen"),
    SipStatus.AVBRUTEN: gettext_lazy("Avbryt planen"),
}
# What a status change asks for on the page (the services check it).
TRANSITION_FIELDS = {SipStatus.UPPRATTAD: ("follow_up_on",), SipStatus.AVBRUTEN: ("closure_reason", "closure_note")}
FLAG_LABELS = (
    ("call_overdue", gettext_lazy("Kallelse försenad")),
    ("call_sent_late", gettext_lazy("Kallelsen gick ut för sent")),
    ("follow_up_overdue", gettext_lazy("Uppföljning försenad")),
    ("has_overdue_action", gettext_lazy("Försenad insats")),
)
TIMELINE_TYPES = {"action": gettext_lazy("Insats"), "meeting": gettext_lazy("Möte"),
                  "follow_up": gettext_lazy("Uppföljning")}
TIMELINE_STATUS = {"action": ActionStatus, "meeting": MeetingStatus, "follow_up": SipStatus}


def flag_labels(flags: dict, *, with_history: bool = True) -> list[str]:
    """The deadline flags as text; lists leave out the call sent late, which is history, not something to do."""
    return [str(label) for key, label in FLAG_LABELS
            if flags.get(key) and (with_history or key != "call_sent_late")]


def get_plan(user, pk):
    """One plan through the gate, without its parts (for writes and small endpoints)."""
    return access.get_visible(queries.sips_for(user), pk)


def plan_url(sip_id: int, section: str = "") -> str:
    url = reverse("frontend:sip_detail", args=[sip_id])
    return f"{url}#{section}" if section else url


class PlanForms:
    """The forms of the plan page with their choices, built the same way for showing and for posting."""

    def __init__(self, user, sip, participations=None):
        self.user, self.sip = user, sip
        self._participations = participations

    @cached_property
    def participations(self):
        if self._participations is not None:
            return list(self._participations)
        return list(queries.participations_of(self.sip))

    @cached_property
    def unit_ids(self) -> list[int]:
        return [p.unit_id for p in self.participations]

    @cached_property
    def identity_shown(self) -> bool:
        return queries.shows_identity(self.user, self.sip.person)

    @cached_property
    def person_label(self) -> str:
        return display.person_name(self.sip.person, self.identity_shown)

    def units(self, include=None):
        return org_queries.units_for(self.user).filter(Q(pk__in=self.unit_ids) | Q(pk=include))

    def staff(self, include=None):
        """Colleagues the user may see who work in one of the plan's units (and the current choice)."""
        in_plan = Q(memberships__unit_id__in=self.unit_ids, memberships__active=True)
        return (access.visible_users(self.user).filter(in_plan | Q(pk=include)).distinct()
                .order_by("first_name", "last_name", "id"))

    def organisations(self):
        return org_queries.organisations_for(self.user)

    def plan_organisations(self, include=None):
        org_ids = {p.unit.organisation_id for p in self.participations}
        return org_queries.organisations_for(self.user).filter(Q(pk__in=org_ids) | Q(pk=include))

    # --- the forms ---

    def sip_form(self, data=None):
        return SipForm(data, initial=SipForm.initial_for(self.sip), prefix="plan",
                       coordinators=self.staff(self.sip.coordinator_id),
                       organisations=self.plan_organisations(self.sip.lead_organisation_id))

    def transition_form(self, target: str, data=None):
        return TransitionForm(data, initial={"version": self.sip.version, "follow_up_on": self.sip.follow_up_on},
                              prefix=f"to-{target}")

    def goal_form(self, data=None):
        return GoalCreateForm(data, prefix="goal")

    def action_form(self, data=None, *, action=None):
        """The add form, or with `action` its edit form (whose current choices stay selectable)."""
        return ActionForm(
            data, initial=ActionForm.initial_for(action) if action else None, prefix="action",
            versioned=action is not None, goals=queries.goals_of(self.sip), organisations=self.organisations(),
            units=self.units(action.responsible_unit_id if action else None),
            staff=self.staff(action.responsible_user_id if action else None),
        )

    def meeting_form(self, data=None):
        return MeetingForm(data, prefix="meeting", units=self.units(), staff=self.staff(),
                           person_label=_("%(name)s (den enskilde)") % {"name": self.person_label})

    def hold_form(self, meeting, data=None):
        participants = [(p.pk, display.participant_label(p, self.person_label)) for p in meeting.participants.all()]
        return HoldMeetingForm(data, initial={"version": meeting.version}, prefix=f"hold-{meeting.pk}",
                               participants=participants)

    def unit_form(self, data=None):
        return UnitAddForm(data, prefix="unit", units=org_queries.units_for(self.user))

    def consent_form(self, data=None):
        return ConsentForm(data, prefix="consent", organisations=self.organisations())


def render_plan(request, pk, *, status: int = 200, forms: dict | None = None, page_error: str = ""):
    """The plan page; `forms` replaces the page's own unbound forms (a form with errors, a merge view)."""
    user = request.user
    sip = queries.sip_detail(user, pk)
    queries.record_sip_read(user, sip)
    overrides = forms or {}
    plan_forms = PlanForms(user, sip, sip.participations.all())

    def form(key, build):
        return overrides[key] if key in overrides else build()

    today = timezone.localdate()
    transitions = []
    # Onward steps in process order; breaking the plan off last.
    for target in sorted(lifecycle.allowed_targets(sip.status), key=SipStatus.values.index):
        transition_form = form(f"to:{target}", lambda target=target: plan_forms.transition_form(target))
        label = TRANSITION_LABELS.get(target, target)
        if sip.status == SipStatus.UPPFOLJNING and target == SipStatus.UPPRATTAD:
            label = _("Fortsätt planen med nytt uppföljningsdatum")
        transitions.append({
            "target": target, "label": label, "form": transition_form,
            "fields": [transition_form[name] for name in TRANSITION_FIELDS.get(target, ())],
            "collapsible": target == SipStatus.AVBRUTEN,
        })
    actions = [
        {"action": action, "overdue": deadlines.action_overdue(action, today)} for action in sip.actions.all()
    ]
    meetings = []
    for meeting in sip.meetings.all():
        participants = [
            {"label": display.participant_label(p, plan_forms.person_label), "attendance": display.attendance_label(p)}
            for p in meeting.participants.all()
        ]
        hold = None
        if meeting.status == MeetingStatus.PLANNED:
            hold = form(f"hold:{meeting.pk}", lambda meeting=meeting: plan_forms.hold_form(meeting))
        meetings.append({"meeting": meeting, "participants": participants, "hold_form": hold,
                         "cancel_version": meeting.version})
    timeline = []
    for item in queries.timeline_of(sip):
        statuses = TIMELINE_STATUS.get(item["type"])
        status_label = statuses(item["status"]).label if statuses and item["status"] in statuses.values else ""
        timeline.append({**item, "type_label": TIMELINE_TYPES.get(item["type"], item["type"]),
                         "status_label": status_label})
    changes = list(queries.history_of(sip)[:HISTORY_ON_PAGE + 1])
    history = display.history_rows(changes[:HISTORY_ON_PAGE], organisations=org_queries.organisations_for(user),
                                   units=org_queries.units_for(user), users=access.visible_users(user))
    flags = deadlines.flags(sip)
    context = {
        "sip": sip,
        "person_label": plan_forms.person_label,
        "identity_shown": plan_forms.identity_shown,
        "identifier": identifiers.display(sip.person.identifier_kind, sip.person.identifier)
        if plan_forms.identity_shown else "",
        "identifier_kind": sip.person.get_identifier_kind_display(),
        "flags": flags,
        "flag_labels": flag_labels(flags),
        "transitions": transitions,
        "sip_form": form("sip_form", plan_forms.sip_form),
        "goals": list(sip.goals.all()),
        "goal_form": form("goal_form", plan_forms.goal_form),
        "actions": actions,
        "action_form": form("action_form", plan_forms.action_form),
        "timeline": timeline,
        "meetings": meetings,
        "meeting_form": form("meeting_form", plan_forms.meeting_form),
        "participations": plan_forms.participations,
        "unit_form": form("unit_form", plan_forms.unit_form),
        "consents": [{"consent": c, "state": display.consent_state(c, today)} for c in sip.consents.all()],
        "consent_form": form("consent_form", plan_forms.consent_form),
        "history": history,
        "history_has_more": len(changes) > HISTORY_ON_PAGE,
        "present": presence.touch(sip.pk, user),
        "presence_poll_seconds": presence.poll_seconds(),
        "page_error": page_error,
    }
    return render(request, "sip/detail.html", context, status=status)


@sip_view
def detail(request, pk):
    return render_plan(request, pk)


def _back_to_plan(request, pk, section: str = ""):
    """GET on a URL that only takes POST: check the plan is visible, then go to the page."""
    get_plan(request.user, pk)
    return redirect(plan_url(pk, section))


@sip_view
def update(request, pk):
    """'Om planen' saved with the version the user started from; a stale version shows the merge view."""
    if request.method != "POST":
        return _back_to_plan(request, pk, "om-planen")
    user = request.user
    sip = get_plan(user, pk)
    form = PlanForms(user, sip).sip_form(request.POST)
    if not form.is_valid():
        return render_plan(request, pk, status=400, forms={"sip_form": form})
    status, form, _result = attempt(
        form, lambda: services.update_sip(user, sip, form.cleaned_data["version"], **form.changes()), sip=sip)
    if status:
        return render_plan(request, pk, status=status, forms={"sip_form": form})
    messages.success(request, _("Planen är sparad."))
    return redirect(plan_url(pk, "om-planen"))


@sip_view
def transition(request, pk):
    if request.method != "POST":
        return _back_to_plan(request, pk)
    user = request.user
    sip = get_plan(user, pk)
    target = request.POST.get("target", "")
    if target not in SipStatus.values:
        return render_plan(request, pk, status=400, page_error=_("Okänd status."))
    form = PlanForms(user, sip).transition_form(target, request.POST)
    key = f"to:{target}"
    if not form.is_valid():
        return render_plan(request, pk, status=400, forms={key: form})
    data = form.cleaned_data
    status, form, _result = attempt(form, lambda: services.transition_sip(
        user, sip, target, data["version"], follow_up_on=data.get("follow_up_on"),
        closure_reason=data.get("closure_reason", ""), closure_note=data.get("closure_note", "")))
    if status == 412:
        return render_plan(request, pk, status=status, page_error=str(STALE_MESSAGE))
    if status in (409, 428):
        # The plan moved on meanwhile or the request was incomplete: the page shows the state as saved now.
        return render_plan(request, pk, status=status, page_error=" ".join(form.non_field_errors()))
    if status:
        return render_plan(request, pk, status=status, forms={key: form})
    messages.success(request, _("Planen har nu status %(status)s.") % {"status": SipStatus(target).label})
    return redirect(plan_url(pk))


@sip_view
def history(request, pk):
    """All of the plan's history, newest first, a page at a time."""
    user = request.user
    sip = get_plan(user, pk)
    queries.record_sip_read(user, sip)
    page = Paginator(queries.history_of(sip), HISTORY_PAGE_SIZE).get_page(request.GET.get("sida"))
    rows = display.history_rows(page.object_list, organisations=org_queries.organisations_for(user),
                                units=org_queries.units_for(user), users=access.visible_users(user))
    identity = queries.shows_identity(user, sip.person)
    return render(request, "sip/history.html", {
        "sip": sip, "person_label": display.person_name(sip.person, identity), "page": page, "history": rows,
    })


@sip_view
def _presence(request, pk):
    sip = get_plan(request.user, pk)
    return render(request, "sip/_presence.html", {"present": presence.touch(sip.pk, request.user)})


def presence_fragment(request, pk):
    """HTMX poll: record the user as present and list the others who have the plan open.

    After the session ends a poll answers 401 instead of the login page, so HTMX leaves the list alone
    (it swaps only successful answers) rather than putting a login form inside the plan page.
    """
    if not request.user.is_authenticated and request.htmx:
        return HttpResponse(status=401)
    return _presence(request, pk)


# --- Exports ---------------------------------------------------------------------------------------------

def _print_context(request, pk) -> dict:
    sip = queries.sip_detail(request.user, pk)
    queries.record_sip_read(request.user, sip)
    return {"sip": sip, "today": timezone.localdate()}


@sip_view
def print_view(request, pk):
    """The plan in plain language for the person (template by the exports work)."""
    return render(request, "sip/print.html", _print_context(request, pk))


@sip_view
def print_pdf(request, pk):
    from django.contrib.staticfiles import finders

    from frontend.pdf import render_pdf

    context = _print_context(request, pk)
    # xhtml2pdf fetches nothing (frontend.pdf): the print style sheet goes into the document itself.
    with open(finders.find("frontend/print.css"), encoding="utf-8") as css:
        context["inline_css"] = css.read()
    response = HttpResponse(render_pdf("sip/print.html", context), content_type="application/pdf")
    # The plan's id only: never the person's name in a file name.
    response["Content-Disposition"] = f'attachment; filename="sip-{int(pk)}.pdf"'
    return response


@sip_view
def meeting_ics(request, pk, meeting_pk):
    from sip.exports.ics import meeting_ics as build_ics

    user = request.user
    sip = get_plan(user, pk)
    meeting = access.get_visible(queries.meetings_of(sip), meeting_pk)
    queries.record_sip_read(user, sip)
    response = HttpResponse(build_ics(meeting, site_url=settings.SITE_URL), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mote-{int(meeting.pk)}.ics"'
    return response
