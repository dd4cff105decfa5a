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
