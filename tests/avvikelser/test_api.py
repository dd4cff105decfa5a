import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from avvikelser import services
from avvikelser.models import Category, ContactPerson, Deviation, Forum, ForumMember
from organisations.models import Role, User
from tests.conftest import client_for
from tests.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def forum(world):
    forum = Forum.objects.create(name="Styrgrupp Malmö")
    forum.organisations.set([world.org_a, world.org_b])
    ContactPerson.objects.create(organisation=world.org_b, user=world.users_b[Role.BEHANDLARE])
    return forum


def api(user):
    return client_for(User.objects.get(pk=user.pk))


def report(world, plan=None, **extra):
    data = {"reporting_unit": world.unit_a.pk, "counterpart_organisation": world.org_b.pk,
            "occurred_on": datetime.date.today().isoformat(), "category": Category.objects.get(key="sip").pk,
            "what_happened": "Kallelsen besvarades inte.", **extra}
    if plan is not None:
        data["sip"] = plan.sip.pk
    response = api(world.users_a[Role.SOCIALSEKRETERARE]).post("/api/v1/avvikelser/", data, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def submit(world, body):
    return api(world.users_a[Role.SOCIALSEKRETERARE]).post(
        f"/api/v1/avvikelser/{body['id']}/transitions/", {"state": "inkommen"}, format="json",
        HTTP_IF_MATCH=f'"{body["version"]}"').json()


@pytest.mark.parametrize("number", ["811218-9876", "19811218-9876", "8112189876", "198112189876", "811218 9876"])
def test_personnummer_in_any_format_is_rejected_with_a_field_error(world, forum, number):
    response = api(world.users_a[Role.SOCIALSEKRETERARE]).post("/api/v1/avvikelser/", {
        "reporting_unit": world.unit_a.pk, "counterpart_organisation": world.org_b.pk, "occurred_on": "2026-01-02",
        "category": Category.objects.get(key="sip").pk, "what_happened": f"Gäller {number} som inte fick tid."},
        format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]["what_happened"]
    assert "personnummer" in errors[0]
    assert number not in response.content.decode()


def test_invalid_check_digit_is_not_a_personnummer(world, forum):
    report(world, what_happened="Diarienummer 811218-9875 saknades.")


def test_forum_member_sees_pseudonymised_report_without_sip_or_staff_names(world, forum, plan):
    from sip import services as sip_services

    sip_services.give_consent(world.users_a[Role.SOCIALSEKRETERARE], plan.sip, organisation=world.org_b,
                              method="oral")
    body = submit(world, report(world, plan=plan))
    leader = member(world.unit_a2, Role.PROCESSLEDARE)
    ForumMember.objects.create(forum=forum, user=leader, role="processledare")
    api(world.users_b[Role.BEHANDLARE]).post(f"/api/v1/avvikelser/{body['id']}/comments/",
                                             {"text": "Vi tar det i nästa möte."}, format="json")
    seen = api(leader).get(f"/api/v1/avvikelser/{body['id']}/").json()
    assert seen["view"] == "pseudonymised"
    assert "sip" not in seen and "reporter" not in seen and "reporter_name" not in seen
    text = str(seen) + str(api(leader).get(f"/api/v1/avvikelser/{body['id']}/comments/").json()) + str(
        api(leader).get(f"/api/v1/avvikelser/{body['id']}/history/").json())
    for name in (world.users_a[Role.SOCIALSEKRETERARE].get_full_name(), world.users_b[Role.BEHANDLARE].get_full_name()):
        assert name not in text
    full = api(world.users_a[Role.SOCIALSEKRETERARE]).get(f"/api/v1/avvikelser/{body['id']}/").json()
    assert full["view"] == "full" and full["sip"] == plan.sip.pk


def test_only_the_counterpart_acknowledges_and_disallowed_moves_are_409(world, forum):
    body = submit(world, report(world))
    reporter = api(world.users_a[Role.SOCIALSEKRETERARE])
    url = f"/api/v1/avvikelser/{body['id']}/transitions/"
    assert reporter.post(url, {"state": "mottagen"}, format="json", HTTP_IF_MATCH='"2"').status_code == 403
    assert reporter.post(url, {"state": "besvarad"}, format="json", HTTP_IF_MATCH='"2"').status_code == 409
    contact = api(world.users_b[Role.BEHANDLARE])
    acknowledged = contact.post(url, {"state": "mottagen"}, format="json", HTTP_IF_MATCH='"2"')
    assert acknowledged.status_code == 200 and acknowledged.json()["acknowledged_at"]


def test_skada_reminds_of_lex_sarah_and_maria(world, forum):
    body = report(world, consequence="skada")
    assert "lex Sarah" in body["lex_reminder"]


def test_list_query_count_is_constant(world, forum):
    contact = world.users_b[Role.BEHANDLARE]
    reporter = world.users_a[Role.SOCIALSEKRETERARE]

    def grow(n):
        for _ in range(n):
            body = submit(world, report(world))
            d = Deviation.objects.get(pk=body["id"])
            services.comment(contact, d, "Vi undersöker.")
            services.transition(contact, d, "mottagen", d.version)

    def count(user):
        with CaptureQueriesContext(connection) as ctx:
            response = api(user).get("/api/v1/avvikelser/")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    grow(2)
    small = (count(reporter), count(contact))
    grow(6)
    assert (count(reporter), count(contact)) == small
    assert max(small) <= 10


@pytest.mark.parametrize("tail", ["", "comments/", "history/"])
def test_detail_comments_and_history_query_counts_are_constant(world, forum, tail):
    contact = world.users_b[Role.BEHANDLARE]
    body = submit(world, report(world))
    deviation = Deviation.objects.get(pk=body["id"])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = api(contact).get(f"/api/v1/avvikelser/{deviation.pk}/{tail}")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    services.comment(contact, deviation, "Första.")
    small = count()
    for i in range(6):
        services.comment(contact, deviation, f"Kommentar {i}.")
    assert count() == small
    assert small <= 10
