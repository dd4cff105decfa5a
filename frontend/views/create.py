"""A new plan in two steps: find (or register) the person, then the plan itself.

The person's identifier only ever travels in POST bodies; between the steps the session carries the person's id.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from frontend import display
from frontend.forms import PersonRegisterForm, PersonSearchForm, SipCreateForm
from frontend.views.common import attempt, sip_view
from organisations import access
from organisations import queries as org_queries
from organisations.errors import NotFound
from sip import identifiers, lifecycle, queries, services

SESSION_KEY = "sip_new_person_id"


def _own_units(user) -> list:
    units = {}
    for membership in org_queries.own_memberships(user):
        units.setdefault(membership.unit_id, membership.unit)
    return list(units.values())


def _to_plan_step(request, person, created: bool):
    request.session[SESSION_KEY] = person.pk
    if created:
        messages.success(request, _("Personen är registrerad."))
    return redirect("frontend:sip_new_plan")


@sip_view
def new(request):
    """Step 1: search by personnummer, samordningsnummer or reservnummer; register the person if not found."""
    user = request.user
    if not _own_units(user):
        return render(request, "sip/new.html", {"no_unit": True}, status=403)
    search_form = PersonSearchForm(prefix="search")
    register_form = None
    not_found = False
    status = 200
    if request.method == "POST" and request.POST.get("step") == "register":
        register_form = PersonRegisterForm(request.POST, prefix="person")
        if register_form.is_valid():
            details = register_form.person_details()
            status, register_form, result = attempt(
                register_form, lambda: services.find_or_register_person(user, **details))
            if status is None:
                person, created = result
                return _to_plan_step(request, person, created)
        else:
            status = 400
    elif request.method == "POST":
        search_form = PersonSearchForm(request.POST, prefix="search")
        if search_form.is_valid():
            identifier = search_form.cleaned_data["identifier"]
            try:
                person = services.lookup_person(user, identifier)
            except ValidationError as exc:
                search_form.add_service_errors(exc)
                status = 400
            except NotFound:
                not_found = True
                register_form = PersonRegisterForm(initial={"identifier": identifier}, prefix="person")
            else:
                return _to_plan_step(request, person, False)
        else:
            status = 400
    return render(request, "sip/new.html", {
        "search_form": search_form, "register_form": register_form, "not_found": not_found,
    }, status=status)


@sip_view
def new_plan(request):
    """Step 2: the plan for the person chosen in step 1."""
    user = request.user
    person_id = request.session.get(SESSION_KEY)
    if not person_id:
        return redirect("frontend:sip_new")
    try:
        person = access.get_visible(queries.persons_for(user), person_id)
    except NotFound:
        request.session.pop(SESSION_KEY, None)
        return redirect("frontend:sip_new")
    form = SipCreateForm(request.POST or None, prefix="plan", own_units=_own_units(user),
                         units=org_queries.units_for(user), organisations=org_queries.organisations_for(user))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            values = form.values()
            status, form, sip = attempt(form, lambda: services.create_sip(user, person=person, **values))
            if status is None:
                request.session.pop(SESSION_KEY, None)
                messages.success(request, _("Planen är skapad."))
                return redirect("frontend:sip_detail", pk=sip.pk)
        else:
            status = 400
    identity = queries.shows_identity(user, person)
    open_plans = queries.filter_sips(queries.sips_for(user), person=person.pk, status=list(lifecycle.OPEN))
    return render(request, "sip/new_plan.html", {
        "form": form, "person": person, "person_label": display.person_name(person, identity),
        "identifier": identifiers.display(person.identifier_kind, person.identifier) if identity else "",
        "open_plans": list(open_plans),
    }, status=status)
