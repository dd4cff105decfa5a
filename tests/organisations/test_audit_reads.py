"""A page of reads writes one audit row per object, the same rows a single `record()` would (on PostgreSQL as one
INSERT of column arrays, elsewhere through bulk_create)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from organisations import access, audit
from organisations.models import AuditAction, AuditEntry, Role
from sip import services as sip_services

pytestmark = pytest.mark.django_db

COLUMNS = ["actor_id", "organisation_id", "unit_id", "role", "action", "object_type", "object_id", "person_id",
           "fields", "request_id", "ip_address"]


def _plans(world, n):
    actor = world.users_a[Role.SOCIALSEKRETERARE]
    plans = []
    for i in range(n):
        person, _ = sip_services.find_or_register_person(actor, identifier=f"RES-AR-{i:03d}",
                                                         identifier_kind="reservnummer", first_name="A",
                                                         last_name="B")
        plans.append(sip_services.create_sip(actor, person=person, initiating_unit=world.unit_a,
                                             units=[world.unit_b]))
    return plans


def test_a_page_of_reads_writes_what_single_records_write(world):
    plans = _plans(world, 4)
    reader = world.users_a[Role.SAMORDNARE]
    access.memberships(reader)  # loaded once per request, before any read is logged
    before = AuditEntry.objects.count()
    with CaptureQueriesContext(connection) as ctx:
        audit.record_reads(reader, plans)
    assert len(ctx.captured_queries) == 1
    page = list(AuditEntry.objects.order_by("-id")[:4].values(*COLUMNS))[::-1]
    assert AuditEntry.objects.count() == before + 4
    for plan in plans:
        audit.record(reader, AuditAction.READ, plan)
    single = list(AuditEntry.objects.order_by("-id")[:4].values(*COLUMNS))[::-1]
    assert page == single
    assert {row["object_id"] for row in page} == {str(p.pk) for p in plans}
    assert all(row["person_id"] for row in page) and all(row["organisation_id"] == world.org_a.pk for row in page)


def test_no_objects_no_query(world):
    with CaptureQueriesContext(connection) as ctx:
        audit.record_reads(world.users_a[Role.SAMORDNARE], [])
    assert not ctx.captured_queries
