"""The SIP screens start from the gate: nobody outside a plan learns that it exists, lists cost a fixed number
of queries, and the exports answer with the right file types."""

import importlib.util

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from organisations.models import Role, User
from tests.factories import member
from tests.frontend.builders import build_plan
from tests.frontend.conftest import browser_for

pytestmark = pytest.mark.django_db


def plan_urls(b) -> list[str]:
    s = b.sip.pk
    consent = b.consents[0].pk
    participation = b.sip.participations.first().pk
    return [
        f"/sip/{s}/", f"/sip/{s}/andra/", f"/sip/{s}/status/", f"/sip/{s}/historik/", f"/sip/{s}/narvaro/",
        f"/sip/{s}/utskrift/", f"/sip/{s}/utskrift.pdf",
        f"/sip/{s}/mal/", f"/sip/{s}/mal/{b.goal.pk}/", f"/sip/{s}/mal/{b.goal.pk}/ta-bort/",
        f"/sip/{s}/insatser/", f"/sip/{s}/insatser/{b.action.pk}/", f"/sip/{s}/insatser/{b.action.pk}/ta-bort/",
        f"/sip/{s}/moten/", f"/sip/{s}/moten/{b.meeting.pk}/genomfort/", f"/sip/{s}/moten/{b.meeting.pk}/stall-in/",
        f"/sip/{s}/moten/{b.meeting.pk}/kalender.ics",
        f"/sip/{s}/enheter/", f"/sip/{s}/enheter/{participation}/ta-bort/",
        f"/sip/{s}/samtycken/", f"/sip/{s}/samtycken/{consent}/aterkalla/",
    ]


def _page_exists(path: str) -> bool:
    # The exports come from parallel work; where a module is still missing only the gate is tested.
    if path.endswith(".pdf"):
        return importlib.util.find_spec("frontend.pdf") is not None
    if path.endswith(".ics"):
        return importlib.util.find_spec("sip.exports.ics") is not None
    return True


@pytest.mark.parametrize("who", ["other_unit_same_organisation", "unit_in_plan_without_consent", "no_membership"])
def test_a_user_outside_the_plan_gets_404_on_every_plan_page(world, built, who):
    user = {
        "other_unit_same_organisation": member(world.unit_a2, Role.SOCIALSEKRETERARE),
        "unit_in_plan_without_consent": world.users_b[Role.BEHANDLARE],
        "no_membership": world.outsider,
    }[who]
    client = browser_for(user)
    for path in plan_urls(built):
        assert client.get(path).status_code == 404, f"GET {path}"
        assert client.post(path, {"version": 1, "target": "kallad"}).status_code == 404, f"POST {path}"
    assert client.get(f"/sip/{built.sip.pk + 1000}/").status_code == 404


def test_a_member_of_the_plan_reaches_every_plan_page(world, built):
    client = browser_for(world.users_a[Role.SAMORDNARE])
    for path in plan_urls(built):
        if not _page_exists(path):
            continue
        response = client.get(path)
        assert response.status_code in (200, 302), f"GET {path}: {response.status_code}"


def test_anonymous_visitors_are_sent_to_login(built, client):
    response = client.get(f"/sip/{built.sip.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_list_shows_only_the_plans_the_user_may_see(world, built):
    other = build_plan(world.users_b[Role.BEHANDLARE], world.unit_b, first_name="Lo", last_name="Berg", parts=False)

    own = browser_for(world.users_a[Role.SOCIALSEKRETERARE]).get("/sip/")
    theirs = browser_for(world.users_b[Role.BEHANDLARE]).get("/sip/")
    nobody = browser_for(member(world.unit_a2, Role.SOCIALSEKRETERARE)).get("/sip/")

    assert own.status_code == theirs.status_code == nobody.status_code == 200
    assert [row["sip"].pk for row in own.context["rows"]] == [built.sip.pk]
    assert [row["sip"].pk for row in theirs.context["rows"]] == [other.sip.pk]
    assert nobody.context["rows"] == []
    assert "Kim Andersson" in own.text and "Lo Berg" not in own.text
    assert "Lo Berg" in theirs.text and "Kim Andersson" not in theirs.text


def test_protected_identity_shows_the_name_only_to_those_in_the_plan(world):
    actor = world.users_a[Role.SOCIALSEKRETERARE]
    b = build_plan(actor, world.unit_a, first_name="Hemlig", last_name="Person", protected=True, parts=False)
    response = browser_for(actor).get("/sip/")
    assert "Hemlig Person" in response.text  # in the plan: the name is shown
    assert b.person.identifier not in response.text


def _count(user, path) -> int:
    client = browser_for(User.objects.get(pk=user.pk))
    client.get("/")  # session and language settled outside the measurement
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_list_costs_the_same_number_of_queries_however_many_plans(world):
    actor = world.users_a[Role.SOCIALSEKRETERARE]
    for _ in range(2):
        build_plan(actor, world.unit_a, units=[world.unit_b], parts=True)
    small = _count(actor, "/sip/")
    for _ in range(6):
        build_plan(actor, world.unit_a, units=[world.unit_b], parts=True)
    large = _count(actor, "/sip/")
    assert large == small, f"{small} queries for 2 plans, {large} for 8"
    assert small <= 12


def test_the_list_puts_overdue_plans_first(world):
    import datetime

    from django.utils import timezone

    from sip import services

    actor = world.users_a[Role.SOCIALSEKRETERARE]
    on_time = build_plan(actor, world.unit_a, parts=False).sip
    late = build_plan(actor, world.unit_a, parts=False).sip
    services.update_sip(actor, late, late.version,
                        need_identified_on=timezone.localdate() - datetime.timedelta(days=60))

    response = browser_for(actor).get("/sip/")

    rows = response.context["rows"]
    assert [row["sip"].pk for row in rows] == [late.pk, on_time.pk]
    assert "Kallelse försenad" in rows[0]["flags"]
    assert rows[1]["flags"] == []


def test_the_pdf_is_a_pdf_attachment_named_by_the_plan_id(world, built):
    if importlib.util.find_spec("frontend.pdf") is None:
        pytest.skip("frontend.pdf is not there yet (parallel work)")
    response = browser_for(world.users_a[Role.SOCIALSEKRETERARE]).get(f"/sip/{built.sip.pk}/utskrift.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="sip-{built.sip.pk}.pdf"'
    assert response.content.startswith(b"%PDF")
    assert b"Andersson" not in response["Content-Disposition"].encode()


def test_the_print_page_renders_the_plan_for_the_person(world, built):
    response = browser_for(world.users_a[Role.SOCIALSEKRETERARE]).get(f"/sip/{built.sip.pk}/utskrift/")
    assert response.status_code == 200
    assert "Kim Andersson" in response.text


def test_the_calendar_file_is_text_calendar(world, built):
    if importlib.util.find_spec("sip.exports.ics") is None:
        pytest.skip("sip.exports.ics is not there yet (parallel work)")
    response = browser_for(world.users_a[Role.SOCIALSEKRETERARE]).get(
        f"/sip/{built.sip.pk}/moten/{built.meeting.pk}/kalender.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert b"BEGIN:VCALENDAR" in response.content
    assert "Andersson" not in response["Content-Disposition"]
