"""Every endpoint × role × (own organisation / other organisation / no membership / anonymous).

Objects outside a user's reach answer 404; visible objects the user may not change answer 403.
New endpoints add rows to CASES.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from organisations.models import AuditEntry, Role
from tests.conftest import World, client_for, make_plan
from tests.factories import UnitFactory

ROLES = list(Role.values)
ADMIN = Role.ORG_ADMIN


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: Callable[[World, str], str]
    expect: Callable[[str, str], int]  # (role, scope) -> status, for a staff member of organisation A
    data: Callable[[World, str], dict] | None = None
    unscoped: bool = False  # the same object whatever the scope (lists, /me/)
    headers: Callable[[World, str], dict] | None = None
    # "target": an org-A user acts on org A's or org B's object; "actor": the same object (org A's plan),
    # acted on by a user of org A (in the plan) or of org B (taking part, but no consent).
    varies: str = "target"


def org_of(w: World, scope: str):
    return w.org_a if scope == "own" else w.org_b


def unit_of(w: World, scope: str):
    return w.unit_a if scope == "own" else w.unit_b


def users_of(w: World, scope: str):
    return w.users_a if scope == "own" else w.users_b


def membership_of(w: World, scope: str):
    return users_of(w, scope)[Role.SOCIALSEKRETERARE].memberships.get()


def empty_unit(w: World, scope: str):
    return UnitFactory(organisation=org_of(w, scope), name=f"Tom enhet {scope}")


def audit_entry_of(w: World, scope: str):
    from organisations import audit
    from organisations.models import AuditAction

    actor = users_of(w, scope)[Role.SOCIALSEKRETERARE]
    return audit.record(actor, AuditAction.READ, actor)


def visible_to_staff(role, scope):
    return 200


def admin_of_own(ok):
    def expect(role, scope):
        if scope != "own":
            return 403
        return ok if role == ADMIN else 403
    return expect


def hidden_outside_own(ok_admin, ok_other=None):
    """Own organisation: admins get ok_admin, other roles ok_other (or 403). Other organisation: 404."""
    def expect(role, scope):
        if scope != "own":
            return 404
        if role == ADMIN:
            return ok_admin
        return ok_other if ok_other is not None else 403
    return expect


def audit_expect(role, scope):
    if role != ADMIN:
        return 403
    return 200 if scope == "own" else 404


CASES = [
    Case("me", "get", lambda w, s: "/api/v1/me/", visible_to_staff, unscoped=True),
    Case("organisations-list", "get", lambda w, s: "/api/v1/organisations/", visible_to_staff, unscoped=True),
    Case("organisations-detail", "get", lambda w, s: f"/api/v1/organisations/{org_of(w, s).pk}/", visible_to_staff),
    Case("organisations-create", "post", lambda w, s: "/api/v1/organisations/", lambda r, s: 405,
         data=lambda w, s: {"name": "X"}, unscoped=True),
    Case("units-list", "get", lambda w, s: "/api/v1/units/", visible_to_staff, unscoped=True),
    Case("units-detail", "get", lambda w, s: f"/api/v1/units/{unit_of(w, s).pk}/", visible_to_staff),
    Case("units-create", "post", lambda w, s: "/api/v1/units/", admin_of_own(201),
         data=lambda w, s: {"organisation": org_of(w, s).pk, "name": "Ny enhet", "kind": "enhet"}),
    Case("units-update", "patch", lambda w, s: f"/api/v1/units/{unit_of(w, s).pk}/", admin_of_own(200),
         data=lambda w, s: {"name": "Nytt namn"}),
    Case("units-delete", "delete", lambda w, s: f"/api/v1/units/{empty_unit(w, s).pk}/", admin_of_own(204)),
    Case("memberships-list", "get", lambda w, s: "/api/v1/memberships/", visible_to_staff, unscoped=True),
    Case("memberships-detail", "get", lambda w, s: f"/api/v1/memberships/{membership_of(w, s).pk}/",
         hidden_outside_own(200, 200)),
    Case("memberships-create", "post", lambda w, s: "/api/v1/memberships/", hidden_outside_own(201),
         data=lambda w, s: {"user": users_of(w, s)[Role.BEHANDLARE].pk, "unit": unit_of(w, s).pk,
                            "role": Role.SAMORDNARE}),
    Case("memberships-update", "patch", lambda w, s: f"/api/v1/memberships/{membership_of(w, s).pk}/",
         hidden_outside_own(200), data=lambda w, s: {"role": Role.SAMORDNARE}),
    Case("memberships-delete", "delete", lambda w, s: f"/api/v1/memberships/{membership_of(w, s).pk}/",
         hidden_outside_own(204)),
    Case("users-list", "get", lambda w, s: "/api/v1/users/", visible_to_staff, unscoped=True),
    Case("users-detail", "get", lambda w, s: f"/api/v1/users/{users_of(w, s)[Role.BEHANDLARE].pk}/",
         hidden_outside_own(200, 200)),
    Case("users-create", "post", lambda w, s: "/api/v1/users/", admin_of_own(201),
         data=lambda w, s: {"username": f"ny.{s}", "first_name": "Ny", "last_name": "Person",
                            "unit": unit_of(w, s).pk, "role": Role.BEHANDLARE}),
    Case("users-update", "patch", lambda w, s: f"/api/v1/users/{users_of(w, s)[Role.BEHANDLARE].pk}/",
         hidden_outside_own(200), data=lambda w, s: {"title": "Kurator"}),
    Case("users-delete", "delete", lambda w, s: f"/api/v1/users/{users_of(w, s)[Role.BEHANDLARE].pk}/",
         lambda r, s: 405),
    Case("audit-list", "get", lambda w, s: "/api/v1/audit/", lambda r, s: 200 if r == ADMIN else 403,
         unscoped=True),
    Case("audit-detail", "get", lambda w, s: f"/api/v1/audit/{audit_entry_of(w, s).pk}/", audit_expect),
    Case("audit-update", "patch", lambda w, s: f"/api/v1/audit/{audit_entry_of(w, s).pk}/",
         lambda r, s: 403 if r != ADMIN else 405, data=lambda w, s: {"action": "create"}),
    Case("audit-delete", "delete", lambda w, s: f"/api/v1/audit/{audit_entry_of(w, s).pk}/",
         lambda r, s: 403 if r != ADMIN else 405),
]

# --- SIP: organisation A initiated the plan; B takes part but has no consent yet, so B's staff get 404. -----

def P(w: World):
    return make_plan(w)


def sip_url(w: World, tail: str = "") -> str:
    return f"/api/v1/sips/{P(w).sip.pk}/{tail}"


def if_match(obj_of):
    return lambda w, s: {"HTTP_IF_MATCH": f'"{obj_of(w).version}"'}


def plan_member(ok):
    """Every role of a unit in the plan (with consent) may read and co-edit it; others get 404."""
    return lambda role, scope: ok if scope == "own" else 404


def for_anyone(ok):
    return lambda role, scope: ok


SIP_CASES = [
    Case("persons-list", "get", lambda w, s: "/api/v1/persons/", for_anyone(200), unscoped=True),
    Case("persons-detail", "get", lambda w, s: f"/api/v1/persons/{P(w).person.pk}/", plan_member(200)),
    Case("persons-update", "patch", lambda w, s: f"/api/v1/persons/{P(w).person.pk}/", plan_member(200),
         data=lambda w, s: {"preferred_channel": "sms"}, headers=if_match(lambda w: P(w).person)),
    Case("persons-create", "post", lambda w, s: "/api/v1/persons/", for_anyone(201), unscoped=True,
         data=lambda w, s: {"identifier": "850704-9867", "first_name": "Alex", "last_name": "Berg"}),
    Case("persons-lookup", "post", lambda w, s: "/api/v1/persons/lookup/", for_anyone(200), unscoped=True,
         data=lambda w, s: {"identifier": P(w).person.identifier}),
    Case("sips-list", "get", lambda w, s: "/api/v1/sips/", for_anyone(200), unscoped=True),
    Case("sips-detail", "get", lambda w, s: sip_url(w), plan_member(200)),
    Case("sips-create", "post", lambda w, s: "/api/v1/sips/", plan_member(201),
         data=lambda w, s: {"person": P(w).person.pk, "initiating_unit": (w.unit_a if s == "own" else w.unit_b).pk}),
    Case("sips-update", "patch", lambda w, s: sip_url(w), plan_member(200),
         data=lambda w, s: {"what_matters": "Att få bo kvar i Malmö"}, headers=if_match(lambda w: P(w).sip)),
    Case("sips-transitions", "post", lambda w, s: sip_url(w, "transitions/"), plan_member(200),
         data=lambda w, s: {"status": "kallad"}, headers=if_match(lambda w: P(w).sip)),
    Case("sips-timeline", "get", lambda w, s: sip_url(w, "timeline/"), plan_member(200)),
    Case("sips-history", "get", lambda w, s: sip_url(w, "history/"), plan_member(200)),
    Case("sips-fhir", "get", lambda w, s: sip_url(w, "fhir/"), plan_member(200)),
    Case("sip-goals-list", "get", lambda w, s: sip_url(w, "goals/"), plan_member(200)),
    Case("sip-goals-create", "post", lambda w, s: sip_url(w, "goals/"), plan_member(201),
         data=lambda w, s: {"text": "Arbeta deltid", "kind": "shared"}),
    Case("sip-goals-detail", "get", lambda w, s: sip_url(w, f"goals/{P(w).goal.pk}/"), plan_member(200)),
    Case("sip-goals-update", "patch", lambda w, s: sip_url(w, f"goals/{P(w).goal.pk}/"), plan_member(200),
         data=lambda w, s: {"status": "achieved"}, headers=if_match(lambda w: P(w).goal)),
    Case("sip-goals-delete", "delete", lambda w, s: sip_url(w, f"goals/{P(w).goal.pk}/"), plan_member(204),
         headers=if_match(lambda w: P(w).goal)),
    Case("sip-actions-list", "get", lambda w, s: sip_url(w, "actions/"), plan_member(200)),
    Case("sip-actions-create", "post", lambda w, s: sip_url(w, "actions/"), plan_member(201),
         data=lambda w, s: {"title": "Samtalsstöd", "responsible_other": "Arbetsförmedlingen"}),
    Case("sip-actions-detail", "get", lambda w, s: sip_url(w, f"actions/{P(w).action.pk}/"), plan_member(200)),
    Case("sip-actions-update", "patch", lambda w, s: sip_url(w, f"actions/{P(w).action.pk}/"), plan_member(200),
         data=lambda w, s: {"status": "pagar"}, headers=if_match(lambda w: P(w).action)),
    Case("sip-actions-delete", "delete", lambda w, s: sip_url(w, f"actions/{P(w).action.pk}/"), plan_member(204),
         headers=if_match(lambda w: P(w).action)),
    Case("sip-meetings-list", "get", lambda w, s: sip_url(w, "meetings/"), plan_member(200)),
    Case("sip-meetings-create", "post", lambda w, s: sip_url(w, "meetings/"), plan_member(201),
         data=lambda w, s: {"starts_at": "2030-01-10T09:00:00+01:00", "ends_at": "2030-01-10T10:00:00+01:00",
                            "participants": [{"kind": "person"}]}),
    Case("sip-meetings-detail", "get", lambda w, s: sip_url(w, f"meetings/{P(w).meeting.pk}/"), plan_member(200)),
    Case("sip-meetings-update", "patch", lambda w, s: sip_url(w, f"meetings/{P(w).meeting.pk}/"), plan_member(200),
         data=lambda w, s: {"location": "Rum 4"}, headers=if_match(lambda w: P(w).meeting)),
    Case("sip-meetings-delete", "delete", lambda w, s: sip_url(w, f"meetings/{P(w).meeting.pk}/"),
         plan_member(204), headers=if_match(lambda w: P(w).meeting)),
    Case("sip-meetings-hold", "post", lambda w, s: sip_url(w, f"meetings/{P(w).meeting.pk}/hold/"),
         plan_member(200), data=lambda w, s: {"attendance": []}, headers=if_match(lambda w: P(w).meeting)),
    Case("sip-meetings-cancel", "post", lambda w, s: sip_url(w, f"meetings/{P(w).meeting.pk}/cancel/"),
         plan_member(200), headers=if_match(lambda w: P(w).meeting)),
    Case("sip-meetings-calendar", "get", lambda w, s: sip_url(w, f"meetings/{P(w).meeting.pk}/calendar.ics"),
         plan_member(200)),
    Case("sip-consents-list", "get", lambda w, s: sip_url(w, "consents/"), plan_member(200)),
    Case("sip-consents-create", "post", lambda w, s: sip_url(w, "consents/"), plan_member(201),
         data=lambda w, s: {"organisation": w.org_b.pk, "method": "oral", "scope": "Hela planen"}),
    Case("sip-units-list", "get", lambda w, s: sip_url(w, "units/"), plan_member(200)),
    Case("sip-units-create", "post", lambda w, s: sip_url(w, "units/"), plan_member(201),
         data=lambda w, s: {"unit": w.unit_a2.pk}),
    Case("sip-units-delete", "delete",
         lambda w, s: sip_url(w, f"units/{P(w).sip.participations.get(unit=w.unit_b).pk}/"), plan_member(204)),
]


def invitation_of(w: World):
    """A held meeting of the plan with the person invited (paper channel: no delivery needed)."""
    if getattr(w, "_invitation", None) is None:
        from sip import services as sip_services
        from sip.delaktighet import services as delaktighet

        plan = P(w)
        actor = w.users_a[Role.SOCIALSEKRETERARE]
        person = plan.meeting.participants.get(kind="person")
        sip_services.hold_meeting(actor, plan.sip, plan.meeting, plan.meeting.version, attendance={person.pk: True})
        [w._invitation] = delaktighet.invite_attendees(plan.meeting.pk)
    return w._invitation


def routine_check_of(w: World, scope: str):
    from sip.delaktighet import services as delaktighet

    unit = w.unit_a if scope == "own" else w.unit_b
    users = w.users_a if scope == "own" else w.users_b
    return delaktighet.record_routine_check(users[Role.SAMORDNARE], unit=unit, period_start="2026-01-01",
                                            period_end="2026-06-30", answers={"erbjuder_sip": {"value": "yes"}})


def routine_create_expect(role, scope):
    if scope != "own":
        return 403
    return 403 if role == Role.STYRGRUPPSLEDAMOT else 201


DELAKTIGHET_SIP_CASES = [
    Case("sip-invitations-list", "get", lambda w, s: sip_url(w, "invitations/"), plan_member(200)),
    Case("sip-invitations-paper-answer", "post",
         lambda w, s: sip_url(w, f"invitations/{invitation_of(w).pk}/paper-answer/"), plan_member(201),
         data=lambda w, s: {"answers": {"respekt": 5}, "share_with_staff": True}),
    Case("sip-invitations-answers", "get", lambda w, s: sip_url(w, f"invitations/{invitation_of(w).pk}/answers/"),
         plan_member(404)),  # the person has not answered (or shared): nobody reads answers
]

DELAKTIGHET_CASES = [
    Case("delaktighet/templates-list", "get", lambda w, s: "/api/v1/delaktighet/templates/", for_anyone(200),
         unscoped=True),
    Case("delaktighet/templates-detail", "get", lambda w, s: "/api/v1/delaktighet/templates/1/", for_anyone(200),
         unscoped=True),
    Case("delaktighet/templates-fhir", "get", lambda w, s: "/api/v1/delaktighet/templates/1/fhir/",
         for_anyone(200), unscoped=True),
    Case("reports/delaktighet-get", "get", lambda w, s: f"/api/v1/reports/delaktighet/?organisation={org_of(w, s).pk}",
         lambda r, s: 200 if s == "own" else 404),
    Case("routine-checks-trend", "get", lambda w, s: "/api/v1/routine-checks/trend/", for_anyone(200), unscoped=True),
    Case("routine-checks-list", "get", lambda w, s: "/api/v1/routine-checks/", for_anyone(200), unscoped=True),
    Case("routine-checks-detail", "get", lambda w, s: f"/api/v1/routine-checks/{routine_check_of(w, s).pk}/",
         lambda r, s: 200 if s == "own" else 404),
    Case("routine-checks-create", "post", lambda w, s: "/api/v1/routine-checks/", routine_create_expect,
         data=lambda w, s: {"unit": (w.unit_a if s == "own" else w.unit_b).pk, "period_start": "2026-07-01",
                            "period_end": "2026-12-31", "answers": {"erbjuder_sip": {"value": "partly",
                                                                                     "comment": "Oftast"}}}),
]

# --- Avvikelser: org A's unit reports against org B; B's contact person (behandlare) answers. ---------------

def deviation_setup(w: World):
    if getattr(w, "_deviation", None) is None:
        import datetime

        from avvikelser import services as deviations
        from avvikelser.models import Category, ContactPerson, Forum

        forum = Forum.objects.create(name="Testforum")
        forum.organisations.set([w.org_a, w.org_b])
        ContactPerson.objects.create(organisation=w.org_b, user=w.users_b[Role.BEHANDLARE])
        values = {"counterpart_organisation": w.org_b, "occurred_on": datetime.date.today(),
                  "category": Category.objects.get(key="bemotande"), "what_happened": "Ingen återkoppling."}
        reporter = w.users_a[Role.SOCIALSEKRETERARE]
        submitted = deviations.create_draft(reporter, reporting_unit=w.unit_a, **values)
        w._deviation = deviations.transition(reporter, submitted, "inkommen", 1)
        w._draft = deviations.create_draft(reporter, reporting_unit=w.unit_a, **values)
    return w._deviation


def counterpart_sees(ok):
    return lambda role, scope: ok if scope == "own" or role == Role.BEHANDLARE else 404


def taxonomy_admin(ok):
    return lambda role, scope: ok if role in (Role.ORG_ADMIN, Role.PROCESSLEDARE) else 403


def dev_url(w, tail=""):
    return f"/api/v1/avvikelser/{deviation_setup(w).pk}/{tail}"


def category_pk(key):
    from avvikelser.models import Category

    return Category.objects.get(key=key).pk


DEVIATION_CASES = [
    Case("avvikelser-list", "get", lambda w, s: "/api/v1/avvikelser/", for_anyone(200), unscoped=True),
    Case("avvikelser-detail", "get", lambda w, s: dev_url(w), counterpart_sees(200)),
    Case("avvikelser-create", "post", lambda w, s: "/api/v1/avvikelser/", for_anyone(201),
         data=lambda w, s: {"reporting_unit": (w.unit_a if s == "own" else w.unit_b).pk,
                            "counterpart_organisation": (w.org_b if s == "own" else w.org_a).pk,
                            "occurred_on": "2026-01-05", "category": category_pk("sip"),
                            "what_happened": "Kallelsen kom aldrig fram."}),
    Case("avvikelser-update", "patch", lambda w, s: (deviation_setup(w), f"/api/v1/avvikelser/{w._draft.pk}/")[1],
         plan_member(200), data=lambda w, s: {"suggestion": "Gemensam rutin."},
         headers=lambda w, s: {"HTTP_IF_MATCH": '"1"'}),
    Case("avvikelser-transitions", "post", lambda w, s: dev_url(w, "transitions/"), counterpart_sees(200),
         data=lambda w, s: {"state": "eskalerad"}, headers=if_match(lambda w: deviation_setup(w))),
    Case("avvikelser-comments", "get", lambda w, s: dev_url(w, "comments/"), counterpart_sees(200)),
    Case("avvikelser-comments-post", "post", lambda w, s: dev_url(w, "comments/"), counterpart_sees(201),
         data=lambda w, s: {"text": "Vi tittar på rutinen."}),
    Case("avvikelser-history", "get", lambda w, s: dev_url(w, "history/"), counterpart_sees(200)),
    Case("avvikelse-categories-list", "get", lambda w, s: "/api/v1/avvikelse-categories/", for_anyone(200),
         unscoped=True),
    Case("avvikelse-categories-detail", "get",
         lambda w, s: f"/api/v1/avvikelse-categories/{category_pk('sip')}/", for_anyone(200), unscoped=True),
    Case("avvikelse-categories-create", "post", lambda w, s: "/api/v1/avvikelse-categories/", taxonomy_admin(201),
         data=lambda w, s: {"key": "nytt-omrade", "name": "Nytt område"}, unscoped=True),
    Case("avvikelse-categories-rename", "post",
         lambda w, s: f"/api/v1/avvikelse-categories/{category_pk('sip')}/rename/", taxonomy_admin(200),
         data=lambda w, s: {"name": "SIP-processen"}, unscoped=True),
    Case("avvikelse-categories-retire", "post",
         lambda w, s: f"/api/v1/avvikelse-categories/{category_pk('hjalpmedel')}/retire/", taxonomy_admin(200),
         unscoped=True),
    Case("avvikelse-categories-merge", "post",
         lambda w, s: f"/api/v1/avvikelse-categories/{category_pk('otydlig-malgrupp')}/merge/", taxonomy_admin(200),
         data=lambda w, s: {"target": category_pk("ansvarsfordelning")}, unscoped=True),
]

CASES += [Case(**{**c.__dict__, "varies": "actor"}) for c in SIP_CASES + DELAKTIGHET_SIP_CASES + DEVIATION_CASES]
CASES += DELAKTIGHET_CASES

from tests.api.matrix_forums import FORUM_CASES  # noqa: E402 - the forum rows live beside their own helpers

CASES += FORUM_CASES

from tests.api.matrix_forum_work import FORUM_WORK_CASES, route_name  # noqa: E402

CASES += FORUM_WORK_CASES

from tests.api.matrix_compilations import COMPILATION_CASES  # noqa: E402

CASES += COMPILATION_CASES

from tests.api.matrix_data_protection import DATA_PROTECTION_CASES  # noqa: E402

CASES += DATA_PROTECTION_CASES


# Users without a membership are signed in but are not staff: 403 everywhere but /me/.
NO_MEMBERSHIP = {"me": 200}


def _params():
    for case in CASES:
        scopes = ["own"] if case.unscoped else ["own", "other"]
        for scope in scopes:
            for role in ROLES:
                yield pytest.param(case, role, scope, id=f"{case.name}-{role}-{scope}")
        yield pytest.param(case, None, "none", id=f"{case.name}-no_membership")
        yield pytest.param(case, None, "anonymous", id=f"{case.name}-anonymous")


def _call(client, case: Case, world: World, scope: str):
    target_scope = "own" if scope in ("none", "anonymous") else scope
    path = case.path(world, target_scope)
    data = case.data(world, target_scope) if case.data else None
    headers = case.headers(world, target_scope) if case.headers else {}
    return getattr(client, case.method)(path, data=data, format="json", **headers)


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "role", "scope"), list(_params()))
def test_permission_matrix(world, case, role, scope):
    if scope == "anonymous":
        actor, expected = None, 401
    elif scope == "none":
        actor, expected = world.outsider, NO_MEMBERSHIP.get(case.name, 403)
    else:
        users = world.users_b if (case.varies == "actor" and scope == "other") else world.users_a
        actor, expected = users[role], case.expect(role, scope)
    audit_before = AuditEntry.objects.count()

    response = _call(client_for(actor), case, world, scope)

    assert response.status_code == expected, response.content
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    # Nobody can ever change or remove audit entries.
    assert AuditEntry.objects.count() >= audit_before


def test_matrix_covers_every_api_route():
    """A new endpoint without matrix rows fails here."""
    import re

    from api import urls

    covered = {case.name.rsplit("-", 1)[0] for case in CASES}
    registered = {route_name(re.sub(r"^sips/\(\?P<sip_pk>\[0-9\]\+\)/", "sip-", prefix))
                  for prefix, _viewset, _basename in urls.router.registry}
    # Outside the router: the caller's profile; token, schema and docs are public by design.
    registered |= {"me", "sip-meetings"}
    assert registered <= covered, f"endpoints without matrix rows: {registered - covered}"
