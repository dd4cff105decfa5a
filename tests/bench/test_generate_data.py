"""generate_data --scale small: counts, valid unique personnummer, grants equal to sync_grants, personas.

Runs on SQLite (executemany) and, with DATABASE_URL=postgres://…, through the COPY path."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.utils import timezone

from avvikelser.models import ContactPerson, Deviation, Forum, ForumMember
from bench.datagen import personas
from organisations.models import Membership, Organisation, Unit, User
from sip import access as sip_access
from sip import identifiers
from sip.delaktighet.models import Answer, Response
from sip.models import Consent, Goal, Meeting, Participant, Person, Sip, SipGroupObjectPermission, SipUnit
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_generate_small():
    """One generation (the expensive part), then every check on it."""
    out = io.StringIO()
    call_command("generate_data", scale="small", seed=7, stdout=out)
    check_counts_and_shapes(out.getvalue())
    check_personnummer_valid_and_unique()
    check_grants_equal_sync_grants()
    check_personas_see_what_they_should()


def _count(response):
    assert response.status_code == 200, response.content
    body = response.json()
    return body["count"] if isinstance(body, dict) and "count" in body else len(body)


def check_counts_and_shapes(small):
    assert "avvikelser_deviation" in small and "rows" in small
    assert Organisation.objects.filter(kind="region").count() == 1
    assert Organisation.objects.filter(kind="kommun").count() == 3
    assert Unit.objects.count() >= 40
    assert Person.objects.count() == 320
    assert Sip.objects.count() == 320
    assert SipUnit.objects.count() >= 2 * 320
    assert not Sip.objects.exclude(participations__isnull=False).exists()
    for model in (Consent, Goal, Meeting, Participant, Response, Answer, ForumMember, ContactPerson):
        assert model.objects.exists(), model.__name__
    assert Forum.objects.count() == 3
    assert 900 <= Deviation.objects.count() <= 1500
    # Units' groups hold exactly the users with an active membership.
    for membership in Membership.objects.select_related("unit")[:50]:
        assert membership.user.groups.filter(pk=membership.unit.group_id).exists()
    # Five years of deviations, up to recent weeks, in several states.
    span = Deviation.objects.order_by("occurred_on").values_list("occurred_on", flat=True)
    today = timezone.localdate()
    assert span.first() <= today - datetime.timedelta(days=4 * 365 + 300)
    assert span.last() >= today - datetime.timedelta(days=45)
    assert Deviation.objects.values("state").distinct().count() >= 4
    if connection.vendor == "postgresql":
        # Sequences moved past the loaded ids: ordinary inserts still work.
        assert Organisation.objects.create(name="Efter", kind="kommun", organisation_number="212000-1124").pk


def check_personnummer_valid_and_unique():
    identifiers_seen = list(Person.objects.values_list("identifier", flat=True))
    assert len(identifiers_seen) == len(set(identifiers_seen))
    for value in identifiers_seen:
        kind, canonical = identifiers.normalise(value)
        assert (kind, canonical) == ("personnummer", value)
        assert value[8:10] in ("98", "99")


def check_grants_equal_sync_grants():
    def snapshot():
        return set(SipGroupObjectPermission.objects.values_list("content_object_id", "group_id", "permission_id"))

    before = snapshot()
    assert before
    # Each grant row carries its plan's place in the list order (set-wise after a load that skips triggers).
    assert not SipGroupObjectPermission.objects.exclude(
        sip_updated_at=F("content_object__updated_at")).exists()
    for sip in Sip.objects.select_related("initiating_unit"):
        sip_access.sync_grants(sip)
    assert snapshot() == before


def check_personas_see_what_they_should():
    users = {u.username: u for u in User.objects.filter(username__in=personas.PERSONAS)}
    assert set(users) == set(personas.PERSONAS)
    assert users["bench_admin"].check_password(personas.PASSWORD)

    assert _count(client_for(users["bench_nobody"]).get("/api/v1/sips/")) == 0
    assert _count(client_for(users["bench_nobody"]).get("/api/v1/avvikelser/")) == 0
    assert _count(client_for(users["bench_socialsekreterare"]).get("/api/v1/sips/")) > 0
    assert _count(client_for(users["bench_behandlare"]).get("/api/v1/sips/")) > 0
    assert _count(client_for(users["bench_contact"]).get("/api/v1/avvikelser/")) > 0

    socsek = users["bench_socialsekreterare"]
    assert socsek.memberships.filter(role="socialsekreterare").count() == 2
    nobody_units = users["bench_nobody"].memberships.values("unit")
    assert not SipUnit.objects.filter(unit__in=nobody_units).exists()
    largest = max(Forum.objects.all(), key=lambda f: f.deviations.count())
    assert ForumMember.objects.filter(forum=largest, user=users["bench_forum"], role="processledare").exists()
    admin = users["bench_admin"].memberships.get()
    assert admin.role == "org_admin"
    contact = ContactPerson.objects.get(user=users["bench_contact"])
    assert contact.organisation.kind == "region"
