"""The SIP API: consent-driven access, lifecycle, versions, history, persons."""

import datetime

import pytest
from django.utils import timezone

from organisations.models import AuditAction, AuditEntry, Role
from sip import services
from sip.models import Sip, SipChange
from tests.conftest import PLAN_PERSONNUMMER, client_for
from tests.factories import UnitFactory, member

pytestmark = pytest.mark.django_db


def fresh(user):
    return type(user).objects.get(pk=user.pk)


def api(user):
    return client_for(fresh(user))


def etag(response):
    return response["ETag"]


# --- access follows participation and consent ------------------------------------------------------------

def test_consent_opens_and_withdrawal_closes_access_at_once(world, plan):
    region_user = world.users_b[Role.BEHANDLARE]
    url = f"/api/v1/sips/{plan.sip.pk}/"
    assert api(region_user).get(url).status_code == 404
    assert api(region_user).get("/api/v1/sips/").json()["count"] == 0

    kommun = api(world.users_a[Role.SOCIALSEKRETERARE])
    consent = kommun.post(url + "consents/", {"organisation": world.org_b.pk, "method": "written",
                                              "scope": "Hela planen"}, format="json")
    assert consent.status_code == 201, consent.content
    assert api(region_user).get(url).status_code == 200
    assert api(region_user).get("/api/v1/sips/").json()["count"] == 1
    for tail in ("goals/", "actions/", "meetings/", "consents/", "history/", "timeline/"):
        assert api(region_user).get(url + tail).status_code == 200, tail

    withdrawn = kommun.post(url + f"consents/{consent.json()['id']}/withdraw/", format="json")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["active"] is False
    assert api(region_user).get("/api/v1/sips/").json()["count"] == 0
    for tail in ("", "goals/", f"goals/{plan.goal.pk}/", "actions/", "meetings/", "consents/", "history/",
                 "timeline/", "fhir/", f"meetings/{plan.meeting.pk}/calendar.ics"):
        assert api(region_user).get(url + tail).status_code == 404, tail


def test_unit_of_same_organisation_outside_the_plan_gets_404(world, plan):
    outsider = member(world.unit_a2, Role.SOCIALSEKRETERARE)
    assert api(outsider).get(f"/api/v1/sips/{plan.sip.pk}/").status_code == 404
    assert api(outsider).get(f"/api/v1/sips/{plan.sip.pk}/goals/").status_code == 404


def test_expired_consent_stops_access(world, plan):
    kommun = world.users_a[Role.SOCIALSEKRETERARE]
    consent = services.give_consent(kommun, plan.sip, organisation=world.org_b, method="oral",
                                    valid_until=timezone.localdate())
    region_user = world.users_b[Role.BEHANDLARE]
    assert api(region_user).get(f"/api/v1/sips/{plan.sip.pk}/").status_code == 200
    assert services.refresh_expired_consents(today=consent.valid_until + datetime.timedelta(days=1)) == 1
    assert api(region_user).get(f"/api/v1/sips/{plan.sip.pk}/").status_code == 404


# --- lifecycle -------------------------------------------------------------------------------------------

def transition(user, sip_id, version, **data):
    return api(user).post(f"/api/v1/sips/{sip_id}/transitions/", data, format="json", HTTP_IF_MATCH=f'"{version}"')


def test_lifecycle_rules(world, plan):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    response = transition(user, plan.sip.pk, 1, status="avslutad")
    assert response.status_code == 409
    assert "Initierad" in response.json()["detail"] and "Avslutad" in response.json()["detail"]

    response = transition(user, plan.sip.pk, 1, status="kallad")
    assert response.status_code == 200, response.content
    assert response.json()["call_sent_at"]
    response = transition(user, plan.sip.pk, 2, status="upprattad")
    assert response.status_code == 400
    assert "follow_up_on" in response.json()["errors"]
    follow_up = (timezone.localdate() + datetime.timedelta(days=90)).isoformat()
    response = transition(user, plan.sip.pk, 2, status="upprattad", follow_up_on=follow_up)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "upprattad"
    assert response.json()["established_on"] == timezone.localdate().isoformat()
    assert set(response.json()["allowed_transitions"]) == {"uppfoljning", "avslutad", "avbruten"}

    response = api(user).patch(f"/api/v1/sips/{plan.sip.pk}/", {"follow_up_on": None}, format="json",
                               HTTP_IF_MATCH=etag(response))
    assert response.status_code == 400
    assert "follow_up_on" in response.json()["errors"]


def test_cancelling_needs_a_reason(world, plan):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    response = transition(user, plan.sip.pk, 1, status="avbruten")
    assert response.status_code == 400
    assert "closure_reason" in response.json()["errors"]
    response = transition(user, plan.sip.pk, 1, status="avbruten", closure_reason="person_declined",
                          closure_note="Vill inte just nu")
    assert response.status_code == 200
    assert response.json()["closure_reason"] == "person_declined"
    assert response.json()["allowed_transitions"] == []


# --- versions --------------------------------------------------------------------------------------------

def test_writes_need_if_match_and_stale_versions_get_412_with_current_state(world, plan):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    url = f"/api/v1/sips/{plan.sip.pk}/goals/{plan.goal.pk}/"
    response = api(user).patch(url, {"text": "Nytt"}, format="json")
    assert response.status_code == 428
    assert response["Content-Type"].startswith("application/problem+json")

    got = api(user).get(url)
    assert got["ETag"] == '"1"'
    first = api(user).patch(url, {"text": "Eget boende i Malmö"}, format="json", HTTP_IF_MATCH=got["ETag"])
    assert first.status_code == 200 and first["ETag"] == '"2"'
    stale = api(user).patch(url, {"text": "Något annat"}, format="json", HTTP_IF_MATCH=got["ETag"])
    assert stale.status_code == 412
    body = stale.json()
    assert body["current"]["text"] == "Eget boende i Malmö"
    assert body["current"]["version"] == 2
    assert stale["ETag"] == '"2"'


def test_editing_different_parts_does_not_conflict(world, plan):
    a, b = world.users_a[Role.SOCIALSEKRETERARE], world.users_a[Role.SAMORDNARE]
    sip_url = f"/api/v1/sips/{plan.sip.pk}/"
    r1 = api(a).patch(sip_url + f"goals/{plan.goal.pk}/", {"text": "A:s text"}, format="json", HTTP_IF_MATCH='"1"')
    r2 = api(b).patch(sip_url + f"actions/{plan.action.pk}/", {"status": "pagar"}, format="json",
                      HTTP_IF_MATCH='"1"')
    r3 = api(b).patch(sip_url, {"what_matters": "B:s text"}, format="json", HTTP_IF_MATCH='"1"')
    assert (r1.status_code, r2.status_code, r3.status_code) == (200, 200, 200)
    detail = api(a).get(sip_url).json()
    assert detail["goals"][0]["text"] == "A:s text"
    assert detail["actions"][0]["status"] == "pagar"
    assert detail["what_matters"] == "B:s text"


def test_malformed_if_match_is_428(world, plan):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    response = api(user).patch(f"/api/v1/sips/{plan.sip.pk}/", {"reason": "x"}, format="json",
                               HTTP_IF_MATCH="version-one")
    assert response.status_code == 428


# --- history, timeline, audit ----------------------------------------------------------------------------

def test_history_records_who_changed_what(world, plan):
    user = world.users_a[Role.SAMORDNARE]
    api(user).patch(f"/api/v1/sips/{plan.sip.pk}/goals/{plan.goal.pk}/", {"text": "Egen lägenhet"},
                    format="json", HTTP_IF_MATCH='"1"')
    rows = api(user).get(f"/api/v1/sips/{plan.sip.pk}/history/").json()["results"]
    change = next(r for r in rows if r["object_type"] == "goal" and r["action"] == "update")
    assert (change["field"], change["old"], change["new"]) == ("text", "Ett eget boende", "Egen lägenhet")
    assert change["actor"] == user.pk and change["actor_name"]
    assert change["version"] == 2


def test_timeline_is_in_date_order(world, plan):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    items = api(user).get(f"/api/v1/sips/{plan.sip.pk}/timeline/").json()
    dates = [i["date"] for i in items if i["date"]]
    assert dates == sorted(dates)
    assert {i["type"] for i in items} >= {"action", "meeting"}


def test_reads_of_a_plan_are_audited_with_the_person(world, plan):
    user = world.users_a[Role.BEHANDLARE]
    api(user).get(f"/api/v1/sips/{plan.sip.pk}/")
    assert AuditEntry.objects.filter(actor=user, action=AuditAction.READ, person_id=plan.person.pk).exists()
    admin = world.users_a[Role.ORG_ADMIN]
    rows = api(admin).get("/api/v1/audit/", {"person": plan.person.pk}).json()["results"]
    assert user.pk in {r["actor"] for r in rows}
    assert {r["person_id"] for r in rows} == {plan.person.pk}


def test_meeting_held_fires_hook_once_after_commit(world, plan, django_capture_on_commit_callbacks):
    from sip.signals import meeting_held

    received = []

    def listener(sender, meeting_id, actor_id, **kwargs):
        received.append(meeting_id)

    meeting_held.connect(listener)
    try:
        user = world.users_a[Role.SOCIALSEKRETERARE]
        person_participant = plan.meeting.participants.get(kind="person")
        with django_capture_on_commit_callbacks(execute=True):
            response = api(user).post(
                f"/api/v1/sips/{plan.sip.pk}/meetings/{plan.meeting.pk}/hold/",
                {"attendance": [{"participant": person_participant.pk, "attended": True}], "minutes": "Bra möte"},
                format="json", HTTP_IF_MATCH='"1"')
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "held"
        again = api(user).post(f"/api/v1/sips/{plan.sip.pk}/meetings/{plan.meeting.pk}/hold/",
                               {"attendance": []}, format="json", HTTP_IF_MATCH='"2"')
        assert again.status_code == 409
    finally:
        meeting_held.disconnect(listener)
    assert received == [plan.meeting.pk]


# --- persons ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("number", ["811218-9876", "8112189876", "19811218-9876", "198112189876"])
def test_lookup_finds_the_same_person_in_any_format(world, plan, number):
    user = world.users_b[Role.BEHANDLARE]
    response = api(user).post("/api/v1/persons/lookup/", {"identifier": number}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["id"] == plan.person.pk


def test_registering_a_known_number_returns_the_existing_person(world, plan):
    user = world.users_b[Role.BEHANDLARE]
    response = api(user).post("/api/v1/persons/", {"identifier": "19811218-9876", "first_name": "Annan",
                                                   "last_name": "Person"}, format="json")
    assert response.status_code == 200
    assert response.json()["id"] == plan.person.pk
    assert response.json()["first_name"] == "Kim"


def test_samordningsnummer_and_reserve_numbers(world):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    response = api(user).post("/api/v1/persons/", {"identifier": "701063-2391", "first_name": "A",
                                                   "last_name": "B"}, format="json")
    assert response.status_code == 201
    assert response.json()["identifier_kind"] == "samordningsnummer"
    response = api(user).post("/api/v1/persons/", {"identifier": "rsk-2024-0001", "identifier_kind": "reservnummer",
                                                   "first_name": "C", "last_name": "D"}, format="json")
    assert response.status_code == 201
    assert response.json()["identifier"] == "RSK-2024-0001"


def test_invalid_personnummer_and_bad_input_are_field_errors(world):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    response = api(user).post("/api/v1/persons/", {"identifier": "811218-9875", "first_name": "A",
                                                   "last_name": "B"}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert "identifier" in response.json()["errors"]
    assert "9875" not in response.content.decode(), "the number itself is never echoed"
    response = api(user).post("/api/v1/persons/", {"identifier": 811218, "first_name": ["x"], "nickname": "K"},
                              format="json")
    errors = response.json()["errors"]
    assert response.status_code == 400
    assert {"first_name", "last_name", "nickname"} <= set(errors)
    response = api(user).post("/api/v1/sips/", {"person": "abc", "initiating_unit": None, "colour": 1},
                              format="json")
    assert response.status_code == 400
    assert {"person", "initiating_unit", "colour"} <= set(response.json()["errors"])


def test_protected_identity_hides_address_always_and_name_outside_the_plan(world, plan):
    kommun = world.users_a[Role.SOCIALSEKRETERARE]
    services.update_person(kommun, plan.person, 1, protected_identity=True, address="Hemliga gatan 1",
                           city="Malmö")
    inside = api(kommun).get(f"/api/v1/persons/{plan.person.pk}/").json()
    assert inside["first_name"] == "Kim" and inside["address"] == "" and inside["city"] == ""
    region_user = world.users_b[Role.BEHANDLARE]
    looked_up = api(region_user).post("/api/v1/persons/lookup/", {"identifier": PLAN_PERSONNUMMER},
                                      format="json").json()
    assert looked_up["first_name"] == "Skyddad identitet"
    assert looked_up["last_name"] == "" and looked_up["address"] == ""


def test_sip_filters(world, plan):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    client = api(user)
    assert client.get("/api/v1/sips/", {"status": "initierad"}).json()["count"] == 1
    assert client.get("/api/v1/sips/", {"status": "avslutad"}).json()["count"] == 0
    assert client.get("/api/v1/sips/", {"unit": world.unit_b.pk}).json()["count"] == 1
    assert client.get("/api/v1/sips/", {"lead_organisation": world.org_b.pk}).json()["count"] == 0
    assert client.get("/api/v1/sips/", {"overdue": "true"}).json()["count"] == 0
    Sip.objects.filter(pk=plan.sip.pk).update(call_due_at=timezone.now() - datetime.timedelta(days=1))
    assert client.get("/api/v1/sips/", {"overdue": "true"}).json()["count"] == 1
    row = client.get("/api/v1/sips/").json()["results"][0]
    assert row["flags"]["call_overdue"] is True


def test_call_limits_follow_the_region(world, settings):
    from sip.deadlines import call_due_at

    world.org_b.discharge_call_limit_days = 2
    world.org_b.save()
    user = world.users_a[Role.SOCIALSEKRETERARE]
    person, _ = services.find_or_register_person(user, identifier="850704-9867", first_name="A", last_name="B")
    ready = timezone.now()
    sip = services.create_sip(user, person=person, initiating_unit=world.unit_a, units=[world.unit_b],
                              discharge_track=True, discharge_ready_at=ready)
    assert sip.call_due_at == ready + datetime.timedelta(days=2)
    sip.discharge_track = False
    due = call_due_at(sip)
    assert due.date() == sip.need_identified_on + datetime.timedelta(days=settings.SIP_CALL_LIMIT_DAYS)


def test_history_rows_are_written_for_every_part(world, plan):
    kinds = set(SipChange.objects.filter(sip=plan.sip).values_list("object_type", flat=True))
    assert {"sip", "goal", "action", "meeting"} <= kinds


def test_a_unit_from_another_plan_cannot_be_made_responsible_wrongly(world, plan):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    other_unit = UnitFactory(organisation=world.org_b)
    response = api(user).post(f"/api/v1/sips/{plan.sip.pk}/actions/", {
        "title": "Fel", "responsible_organisation": world.org_a.pk, "responsible_unit": other_unit.pk},
        format="json")
    assert response.status_code == 400
    assert "responsible_unit" in response.json()["errors"]
