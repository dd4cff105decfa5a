"""List endpoints cost the same number of queries however many rows there are (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from organisations import audit
from organisations.models import AuditAction, Role, User
from tests.conftest import client_for
from tests.factories import UnitFactory, member

pytestmark = pytest.mark.django_db


def grow(world, n):
    for i in range(n):
        unit = UnitFactory(organisation=world.org_a, parent=world.unit_a.parent, name=f"Växt {world.n}-{i}")
        user = member(unit, Role.BEHANDLARE)
        member(world.unit_a2, Role.SAMORDNARE, user=user)
        audit.record(world.users_a[Role.ORG_ADMIN], AuditAction.READ, user)
    world.n += 1


def count_queries(user, path):
    # A fresh user object each time, as a real request has: nothing cached from the previous call.
    client = client_for(User.objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.mark.parametrize("path", [
    "/api/v1/organisations/",
    "/api/v1/units/",
    "/api/v1/memberships/",
    "/api/v1/users/",
    "/api/v1/audit/",
    "/api/v1/me/",
])
def test_list_query_count_is_constant(world, path):
    world.n = 0
    admin = world.users_a[Role.ORG_ADMIN]
    grow(world, 3)
    small = count_queries(admin, path)
    grow(world, 12)
    large = count_queries(admin, path)
    assert large == small, f"{path}: {small} queries with few rows, {large} with many"
    assert small <= 10


@pytest.mark.parametrize("path", ["/api/v1/units/{unit}/", "/api/v1/users/{user}/", "/api/v1/memberships/{m}/"])
def test_detail_query_count_is_constant(world, path):
    world.n = 0
    admin = world.users_a[Role.ORG_ADMIN]
    target = world.users_a[Role.BEHANDLARE]
    url = path.format(unit=world.unit_a.pk, user=target.pk, m=target.memberships.get().pk)
    small = count_queries(admin, url)
    grow(world, 10)
    for _ in range(5):
        member(UnitFactory(organisation=world.org_a), Role.SAMORDNARE, user=target)
    large = count_queries(admin, url)
    assert large == small


# --- SIP ------------------------------------------------------------------------------------------------

def grow_plans(world, plan, n):
    import datetime

    from django.utils import timezone

    from sip import services as sip_services
    from sip.models import ParticipantKind

    actor = world.users_a[Role.SOCIALSEKRETERARE]
    for i in range(n):
        sip_services.create_goal(actor, plan.sip, text=f"Mål {i}")
        sip_services.create_action(actor, plan.sip, title=f"Insats {i}", responsible_unit=world.unit_a,
                                   responsible_user=actor, ends_on=timezone.localdate())
        start = timezone.now() + datetime.timedelta(days=i + 1)
        sip_services.create_meeting(actor, plan.sip, starts_at=start, ends_at=start + datetime.timedelta(hours=1),
                                    participants=[{"kind": ParticipantKind.PERSON},
                                                  {"kind": ParticipantKind.STAFF, "user": actor}])
        sip_services.give_consent(actor, plan.sip, organisation=world.org_a, method="oral")
        person, _ = sip_services.find_or_register_person(actor, identifier=f"RES-{world.n}-{i:04d}",
                                                         identifier_kind="reservnummer", first_name="A",
                                                         last_name="B")
        other = sip_services.create_sip(actor, person=person, initiating_unit=world.unit_a,
                                        units=[world.unit_b], coordinator=actor)
        sip_services.update_sip(actor, other, 1, reason=f"Anledning {i}")
    world.n += 1


SIP_PATHS = ["/api/v1/sips/", "/api/v1/sips/{sip}/", "/api/v1/sips/{sip}/goals/", "/api/v1/sips/{sip}/actions/",
             "/api/v1/sips/{sip}/meetings/", "/api/v1/sips/{sip}/consents/", "/api/v1/sips/{sip}/units/",
             "/api/v1/sips/{sip}/history/", "/api/v1/sips/{sip}/timeline/", "/api/v1/persons/",
             "/api/v1/persons/{person}/", "/api/v1/sips/{sip}/goals/{goal}/", "/api/v1/sips/{sip}/fhir/"]


@pytest.mark.parametrize("path", SIP_PATHS)
def test_sip_query_counts_are_constant(world, plan, path):
    world.n = 0
    user = world.users_a[Role.SOCIALSEKRETERARE]
    url = path.format(sip=plan.sip.pk, person=plan.person.pk, goal=plan.goal.pk)
    grow_plans(world, plan, 2)
    small = count_queries(user, url)
    grow_plans(world, plan, 6)
    large = count_queries(user, url)
    assert large == small, f"{url}: {small} queries with few rows, {large} with many"
    assert small <= 12, small
