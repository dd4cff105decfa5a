"""Every endpoint × role × (own organisation / other organisation / no membership / anonymous).

Objects outside a user's reach answer 404; visible objects the user may not change answer 403.
New endpoints add rows to CASES.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from organisations.models import AuditEntry, Role
from tests.conftest import World, client_for
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
    return getattr(client, case.method)(path, data=data, format="json")


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "role", "scope"), list(_params()))
def test_permission_matrix(world, case, role, scope):
    if scope == "anonymous":
        actor, expected = None, 401
    elif scope == "none":
        actor, expected = world.outsider, NO_MEMBERSHIP.get(case.name, 403)
    else:
        actor, expected = world.users_a[role], case.expect(role, scope)
    audit_before = AuditEntry.objects.count()

    response = _call(client_for(actor), case, world, scope)

    assert response.status_code == expected, response.content
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    # Nobody can ever change or remove audit entries.
    assert AuditEntry.objects.count() >= audit_before


def test_matrix_covers_every_api_route():
    """A new endpoint without matrix rows fails here."""
    from api import urls

    covered = {case.name.rsplit("-", 1)[0] for case in CASES}
    registered = {prefix for prefix, _viewset, _basename in urls.router.registry}
    # Outside the router: the caller's profile; token, schema and docs are public by design.
    registered |= {"me"}
    assert registered <= covered, f"endpoints without matrix rows: {registered - covered}"
