"""The parts of a plan: goals, actions (insatser), meetings, participating units and consents."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from frontend import display
from frontend.forms import BaseForm, GoalForm, VersionedForm
from frontend.views.common import attempt, sip_view
from frontend.views.plan import STALE_MESSAGE, PlanForms, get_plan, plan_url, render_plan
from organisations import access
from organisations.errors import NotFound
from sip import queries, services


def _create(request, pk, *, section: str, form_key: str, build, write, done: str):
    """The add forms of the plan page: POST, then back to the page; errors show on the page itself."""
    if request.method != "POST":
        get_plan(request.user, pk)
        return redirect(plan_url(pk, section))
    user = request.user
    sip = get_plan(user, pk)
    form = build(PlanForms(user, sip), request.POST)
    if not form.is_valid():
        return render_plan(request, pk, status=400, forms={form_key: form})
    status, form, _result = attempt(form, lambda: write(user, sip, form))
    if status:
        return render_plan(request, pk, status=status, forms={form_key: form})
    messages.success(request, done)
    return redirect(plan_url(pk, section))


def _simple_write(request, pk, write, *, section: str, done: str):
    """A button on the plan page (cancel a meeting, remove a unit): conflicts show at the top of the page."""
    user = request.user
    sip = get_plan(user, pk)
    form = VersionedForm(request.POST)
    form.is_valid()
    status, form, _result = attempt(form, lambda: write(user, sip, form.cleaned_data.get("version")))
    if status == 412:
        return render_plan(request, pk, status=status, page_error=str(STALE_MESSAGE))
    if status:
        return render_plan(request, pk, status=status, page_error=" ".join(form.non_field_errors()))
    messages.success(request, done)
    return redirect(plan_url(pk, section))


# --- Goals -----------------------------------------------------------------------------------------------

@sip_view
def goal_create(request, pk):
    return _create(request, pk, section="mal", form_key="goal_form",
                   build=lambda forms, data: forms.goal_form(data),
                   write=lambda user, sip, form: services.create_goal(user, sip, **form.changes()),
                   done=_("Målet är tillagt."))


def _render_part(request, sip, *, title, form, obj, status=200, kind, delete_error=""):
    identity = queries.shows_identity(request.user, sip.person)
    return render(request, "sip/part_edit.html", {
        "sip": sip, "person_label": display.person_name(sip.person, identity), "title": title, "form": form,
        "obj": obj, "kind": kind, "delete_error": delete_error,
        "save_url": reverse(f"frontend:{kind}_edit", args=[sip.pk, obj.pk]),
        "delete_url": reverse(f"frontend:{kind}_delete", args=[sip.pk, obj.pk]),
        "back_url": plan_url(sip.pk, "mal" if kind == "goal" else "insatser"),
    }, status=status)


@sip_view
def goal_edit(request, pk, goal_pk):
    user = request.user
    sip = get_plan(user, pk)
    goal = access.get_visible(queries.goals_of(sip), goal_pk)
    title = _("Ändra mål")
    if request.method != "POST":
        queries.record_sip_read(user, sip)
        form = GoalForm(initial=GoalForm.initial_for(goal), prefix="goal")
        return _render_part(request, sip, title=title, form=form, obj=goal, kind="goal")
    form = GoalForm(request.POST, prefix="goal")
    if not form.is_valid():
        return _render_part(request, sip, title=title, form=form, obj=goal, kind="goal", status=400)
    status, form, _result = attempt(
        form, lambda: services.update_goal(user, sip, goal, form.cleaned_data["version"], **form.changes()), sip=sip)
    if status:
        return _render_part(request, sip, title=title, form=form, obj=goal, kind="goal", status=status)
    messages.success(request, _("Målet är sparat."))
    return redirect(plan_url(pk, "mal"))


def _delete(request, pk, obj_pk, *, kind):
    user = request.user
    sip = get_plan(user, pk)
    selector = queries.goals_of if kind == "goal" else queries.actions_of
    obj = access.get_visible(selector(sip), obj_pk)
    if request.method != "POST":
        return redirect(reverse(f"frontend:{kind}_edit", args=[pk, obj.pk]))
    form = VersionedForm(request.POST)
    form.is_valid()
    delete = services.delete_goal if kind == "goal" else services.delete_action
    status, form, _result = attempt(form, lambda: delete(user, sip, obj, form.cleaned_data.get("version")))
    if status:
        obj = access.get_visible(selector(sip), obj_pk)
        edit = build_edit_form(kind, user, sip, obj)
        message = str(STALE_MESSAGE) if status == 412 else " ".join(form.non_field_errors())
        return _render_part(request, sip, title=edit_title(kind), form=edit, obj=obj, kind=kind, status=status,
                            delete_error=message)
    messages.success(request, _("Målet är borttaget.") if kind == "goal" else _("Insatsen är borttagen."))
    return redirect(plan_url(pk, "mal" if kind == "goal" else "insatser"))


def build_edit_form(kind, user, sip, obj):
    if kind == "goal":
        return GoalForm(initial=GoalForm.initial_for(obj), prefix="goal")
    return PlanForms(user, sip).action_form(action=obj)


def edit_title(kind) -> str:
    return _("Ändra mål") if kind == "goal" else _("Ändra insats")


@sip_view
def goal_delete(request, pk, goal_pk):
    return _delete(request, pk, goal_pk, kind="goal")


# --- Actions ---------------------------------------------------------------------------------------------

@sip_view
def action_create(request, pk):
    return _create(request, pk, section="insatser", form_key="action_form",
                   build=lambda forms, data: forms.action_form(data),
                   write=lambda user, sip, form: services.create_action(user, sip, **form.changes()),
                   done=_("Insatsen är tillagd."))


@sip_view
def action_edit(request, pk, action_pk):
    user = request.user
    sip = get_plan(user, pk)
    action = access.get_visible(queries.actions_of(sip), action_pk)
    title = _("Ändra insats")
    plan_forms = PlanForms(user, sip)
    if request.method != "POST":
        queries.record_sip_read(user, sip)
        return _render_part(request, sip, title=title, form=plan_forms.action_form(action=action), obj=action,
                            kind="action")
    form = plan_forms.action_form(request.POST, action=action)
    if not form.is_valid():
        return _render_part(request, sip, title=title, form=form, obj=action, kind="action", status=400)
    status, form, _result = attempt(
        form, lambda: services.update_action(user, sip, action, form.cleaned_data["version"], **form.changes()),
        sip=sip)
    if status:
        return _render_part(request, sip, title=title, form=form, obj=action, kind="action", status=status)
    messages.success(request, _("Insatsen är sparad."))
    return redirect(plan_url(pk, "insatser"))


@sip_view
def action_delete(request, pk, action_pk):
    return _delete(request, pk, action_pk, kind="action")


# --- Meetings --------------------------------------------------------------------------------------------

@sip_view
def meeting_create(request, pk):
    def write(user, sip, form):
        values = form.values()
        return services.create_meeting(user, sip, **values)

    return _create(request, pk, section="moten", form_key="meeting_form",
                   build=lambda forms, data: forms.meeting_form(data), write=write,
                   done=_("Mötet är tillagt."))


@sip_view
def meeting_hold(request, pk, meeting_pk):
    """'Markera som genomfört': who attended, and the minutes."""
    user = request.user
    sip = get_plan(user, pk)
    meeting = access.get_visible(queries.meetings_of(sip), meeting_pk)
    if request.method != "POST":
        return redirect(plan_url(pk, f"mote-{meeting.pk}"))
    key = f"hold:{meeting.pk}"
    form = PlanForms(user, sip).hold_form(meeting, request.POST)
    if not form.is_valid():
        return render_plan(request, pk, status=400, forms={key: form})
    status, form, _result = attempt(form, lambda: services.hold_meeting(
        user, sip, meeting, form.cleaned_data["version"], attendance=form.attendance(),
        minutes=form.cleaned_data.get("minutes", "")), sip=sip)
    if status == 409:
        return render_plan(request, pk, status=status, page_error=" ".join(form.non_field_errors()))
    if status:
        return render_plan(request, pk, status=status, forms={key: form})
    messages.success(request, _("Mötet är markerat som genomfört."))
    return redirect(plan_url(pk, f"mote-{meeting.pk}"))


@sip_view
def meeting_cancel(request, pk, meeting_pk):
    user = request.user
    sip = get_plan(user, pk)
    meeting = access.get_visible(queries.meetings_of(sip), meeting_pk)
    if request.method != "POST":
        return redirect(plan_url(pk, f"mote-{meeting.pk}"))
    return _simple_write(request, pk, lambda user, sip, version: services.cancel_meeting(user, sip, meeting, version),
                         section="moten", done=_("Mötet är inställt."))


# --- Participating units ---------------------------------------------------------------------------------

@sip_view
def unit_add(request, pk):
    return _create(request, pk, section="enheter", form_key="unit_form",
                   build=lambda forms, data: forms.unit_form(data),
                   write=lambda user, sip, form: services.add_unit(user, sip, form.chosen_unit()),
                   done=_("Enheten är tillagd i planen."))


@sip_view
def unit_remove(request, pk, participation_pk):
    user = request.user
    sip = get_plan(user, pk)
    participation = access.get_visible(queries.participations_of(sip), participation_pk)
    if request.method != "POST":
        return redirect(plan_url(pk, "enheter"))
    return _simple_write(request, pk,
                         lambda user, sip, _version: services.remove_unit(user, sip, participation),
                         section="enheter", done=_("Enheten är borttagen ur planen."))


# --- Consent ---------------------------------------------------------------------------------------------

@sip_view
def consent_create(request, pk):
    return _create(request, pk, section="samtycke", form_key="consent_form",
                   build=lambda forms, data: forms.consent_form(data),
                   write=lambda user, sip, form: services.give_consent(user, sip, **form.values()),
                   done=_("Samtycket är registrerat."))


@sip_view
def consent_withdraw(request, pk, consent_pk):
    """A confirmation page (GET), then the withdrawal (POST); it cuts the organisation's access at once."""
    user = request.user
    sip = get_plan(user, pk)
    consent = access.get_visible(queries.consents_of(sip), consent_pk)
    identity = queries.shows_identity(user, sip.person)
    context = {"sip": sip, "consent": consent, "person_label": display.person_name(sip.person, identity),
               "error": ""}
    if request.method != "POST":
        return render(request, "sip/consent_withdraw.html", context)
    form = BaseForm(request.POST)
    status, form, _result = attempt(form, lambda: services.withdraw_consent(user, sip, consent))
    if status:
        context["error"] = " ".join(form.non_field_errors())
        return render(request, "sip/consent_withdraw.html", context, status=status)
    try:
        get_plan(user, pk)
    except NotFound:
        messages.success(request, _("Samtycket är återkallat. Du har inte längre tillgång till planen."))
        return redirect("frontend:sip_list")
    messages.success(request, _("Samtycket är återkallat."))
    return redirect(plan_url(pk, "samtycke"))
