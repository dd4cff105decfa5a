"""The SIP screens without a browser: forms post, the services decide, errors come back per field, and a stale
version becomes the merge view instead of a lost edit."""

import datetime
import re

import pytest
from django.utils import timezone

from organisations.models import Role
from sip import services
from sip.models import Action, Goal, Meeting, Person, Sip, SipStatus
from tests.factories import member
from tests.frontend.builders import build_plan
from tests.frontend.conftest import browser_for

pytestmark = pytest.mark.django_db


def sip_data(sip, **changes) -> dict:
    data = {"plan-reason": sip.reason, "plan-what_matters": sip.what_matters,
            "plan-own_contribution": sip.own_contribution,
            "plan-follow_up_on": sip.follow_up_on.isoformat() if sip.follow_up_on else "",
            "plan-coordinator": sip.coordinator_id or "", "plan-lead_organisation": sip.lead_organisation_id,
            "plan-version": sip.version}
    data.update({f"plan-{k}": v for k, v in changes.items()})
    return data


def goal_data(goal, **changes) -> dict:
    data = {"goal-kind": goal.kind, "goal-horizon": goal.horizon, "goal-text": goal.text,
            "goal-target_on": "", "goal-status": goal.status, "goal-evaluation": goal.evaluation,
            "goal-version": goal.version}
    data.update({f"goal-{k}": v for k, v in changes.items()})
    return data


def action_data(action, **changes) -> dict:
    data = {"action-title": action.title, "action-description": action.description,
            "action-goal": action.goal_id or "",
            "action-responsible_organisation": action.responsible_organisation_id or "",
            "action-responsible_unit": action.responsible_unit_id or "",
            "action-responsible_user": action.responsible_user_id or "",
            "action-responsible_other": action.responsible_other, "action-person_does": action.person_does,
            "action-starts_on": action.starts_on.isoformat() if action.starts_on else "",
            "action-ends_on": action.ends_on.isoformat() if action.ends_on else "",
            "action-status": action.status, "action-version": action.version}
    data.update({f"action-{k}": v for k, v in changes.items()})
    return data


# --- Creating a plan -------------------------------------------------------------------------------------

def test_a_plan_is_created_from_search_and_registration_without_personal_data_in_urls(world):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    client = browser_for(user)

    found = client.post("/sip/ny/", {"step": "search", "search-identifier": "811218-9876"})
    assert found.status_code == 200
    assert "Ingen person med det numret finns registrerad" in found.text
    assert 'value="811218-9876"' in found.text  # carried into the registration form, in the page only

    registered = client.post("/sip/ny/", {
        "step": "register", "person-identifier": "811218-9876", "person-identifier_kind": "",
        "person-first_name": "Ola", "person-last_name": "Svensson", "person-gender": "man",
        "person-preferred_channel": "sms", "person-phone": "0701234567",
    })
    assert registered.status_code == 302
    assert registered["Location"] == "/sip/ny/plan/"
    person = Person.objects.get(identifier="198112189876")
    assert client.session["sip_new_person_id"] == person.pk

    step2 = client.get("/sip/ny/plan/")
    assert "Ola Svensson" in step2.text

    created = client.post("/sip/ny/plan/", {
        "plan-initiating_unit": world.unit_a.pk, "plan-units": [world.unit_b.pk], "plan-lead_organisation": "",
        "plan-reason": "Behov av samordning", "plan-need_identified_on": timezone.localdate().isoformat(),
    })
    sip = Sip.objects.get(person=person)
    assert created.status_code == 302
    assert created["Location"] == f"/sip/{sip.pk}/"
    assert {p.unit_id for p in sip.participations.all()} == {world.unit_a.pk, world.unit_b.pk}
    assert "sip_new_person_id" not in client.session
    for response in (found, registered, created):
        assert "9876" not in response.get("Location", "")


def test_searching_finds_a_registered_person_and_bad_numbers_are_field_errors(world):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    client = browser_for(user)
    services.find_or_register_person(world.users_b[Role.BEHANDLARE], identifier="811218-9876", first_name="Ola",
                                     last_name="Svensson")

    found = client.post("/sip/ny/", {"step": "search", "search-identifier": "19811218-9876"})
    assert found.status_code == 302 and found["Location"] == "/sip/ny/plan/"

    bad = client.post("/sip/ny/", {"step": "search", "search-identifier": "12"})
    assert bad.status_code == 400
    assert 'aria-invalid="true"' in bad.text
    assert "Ogiltigt personnummer" in bad.text


def test_a_lead_organisation_without_a_unit_in_the_plan_is_shown_on_its_field(world):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    client = browser_for(user)
    person, _ = services.find_or_register_person(user, identifier="811218-9876", first_name="Ola",
                                                 last_name="Svensson")
    session = client.session
    session["sip_new_person_id"] = person.pk
    session.save()

    response = client.post("/sip/ny/plan/", {
        "plan-initiating_unit": world.unit_a.pk, "plan-lead_organisation": world.org_b.pk,
        "plan-need_identified_on": timezone.localdate().isoformat(),
    })
    assert response.status_code == 400
    form = response.context["form"]
    assert "lead_organisation" in form.errors
    assert not Sip.objects.exists()


# --- The plan page ---------------------------------------------------------------------------------------

def test_the_plan_page_records_the_read(world, built):
    from organisations.models import AuditEntry

    user = world.users_a[Role.SOCIALSEKRETERARE]
    response = browser_for(user).get(f"/sip/{built.sip.pk}/")
    assert response.status_code == 200
    assert AuditEntry.objects.filter(actor=user, action="read", object_type="sip.sip",
                                     object_id=str(built.sip.pk)).exists()
    assert "Kim Andersson" in response.text
    assert re.search(r"hx-get=\"/sip/\d+/narvaro/\"", response.text)


def test_saving_the_plan_redirects_and_records_history(world, built):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    client = browser_for(user)
    response = client.post(f"/sip/{built.sip.pk}/andra/", sip_data(built.sip, what_matters="Mitt boende"))
    assert response.status_code == 302
    assert response["Location"] == f"/sip/{built.sip.pk}/#om-planen"
    page = client.get(f"/sip/{built.sip.pk}/")
    assert "Mitt boende" in page.text
    assert "Vad är viktigt för mig" in page.context["history"][0].field


def test_a_stale_save_of_the_plan_shows_both_versions_and_keeps_the_typed_text(world, built):
    amina = world.users_a[Role.SOCIALSEKRETERARE]
    colleague = world.users_a[Role.SAMORDNARE]
    stale = sip_data(built.sip, what_matters="Min version")
    services.update_sip(colleague, built.sip, built.sip.version, what_matters="Kollegans version",
                        reason="Ny bakgrund av kollegan")

    response = browser_for(amina).post(f"/sip/{built.sip.pk}/andra/", stale)

    assert response.status_code == 412
    form = response.context["sip_form"]
    assert form.merge.conflicts == {"what_matters"}
    assert form.merge.taken == {"reason"}  # Amina had not touched it: the colleague's text is filled in
    assert form["what_matters"].value() == "Min version"
    assert form["reason"].value() == "Ny bakgrund av kollegan"
    assert form["version"].value() == str(built.sip.version + 1)
    assert "Kollegans version" in response.text and "Min version" in response.text
    assert "Din version" in response.text and "Sparad version" in response.text
    assert colleague.get_full_name() in response.text

    again = browser_for(amina).post(f"/sip/{built.sip.pk}/andra/",
                                    sip_data(Sip.objects.get(pk=built.sip.pk), what_matters="Min version"))
    assert again.status_code == 302
    saved = Sip.objects.get(pk=built.sip.pk)
    assert saved.what_matters == "Min version"
    assert saved.reason == "Ny bakgrund av kollegan"


def test_a_stale_goal_edit_shows_the_merge_view(world, built):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    stale = goal_data(built.goal, text="Eget boende före sommaren")
    services.update_goal(world.users_a[Role.SAMORDNARE], built.sip, built.goal, built.goal.version,
                         text="Eget boende i Eskilstuna")

    response = browser_for(user).post(f"/sip/{built.sip.pk}/mal/{built.goal.pk}/", stale)

    assert response.status_code == 412
    assert response.context["form"].merge.conflicts == {"text"}
    assert response.context["form"]["text"].value() == "Eget boende före sommaren"
    assert "Eget boende i Eskilstuna" in response.text
    ok = browser_for(user).post(f"/sip/{built.sip.pk}/mal/{built.goal.pk}/",
                                goal_data(Goal.objects.get(pk=built.goal.pk), text="Eget boende före sommaren"))
    assert ok.status_code == 302
    assert Goal.objects.get(pk=built.goal.pk).text == "Eget boende före sommaren"


def test_a_stale_action_edit_shows_the_merge_view(world, built):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    stale = action_data(built.action, title="Boendestöd två gånger i veckan")
    services.update_action(world.users_a[Role.SAMORDNARE], built.sip, built.action, built.action.version,
                           title="Boendestöd varje dag", status="pagar")

    response = browser_for(user).post(f"/sip/{built.sip.pk}/insatser/{built.action.pk}/", stale)

    assert response.status_code == 412
    form = response.context["form"]
    assert form.merge.conflicts == {"title"}
    assert form.merge.taken == {"status"}
    assert form["title"].value() == "Boendestöd två gånger i veckan"
    assert "Boendestöd varje dag" in response.text
    assert form["status"].value() == "pagar"


def test_an_action_without_anyone_responsible_is_a_field_error_on_the_page(world, built):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    response = browser_for(user).post(f"/sip/{built.sip.pk}/insatser/", {"action-title": "Arbetsträning",
                                                                        "action-status": "planerad"})
    assert response.status_code == 400
    assert "responsible_organisation" in response.context["action_form"].errors
    assert "Ange vem som ansvarar för insatsen." in response.text
    assert Action.objects.filter(sip=built.sip).count() == 1


def test_status_changes_ask_for_what_they_need(world, built):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    client = browser_for(user)
    url = f"/sip/{built.sip.pk}/status/"

    assert client.post(url, {"target": "kallad", "to-kallad-version": 1}).status_code == 302
    missing = client.post(url, {"target": "upprattad", "to-upprattad-version": 2})
    assert missing.status_code == 400
    assert "follow_up_on" in missing.context["transitions"][0]["form"].errors
    follow_up = (timezone.localdate() + datetime.timedelta(days=90)).isoformat()
    done = client.post(url, {"target": "upprattad", "to-upprattad-version": 2, "to-upprattad-follow_up_on": follow_up})
    assert done.status_code == 302
    assert Sip.objects.get(pk=built.sip.pk).status == SipStatus.UPPRATTAD

    not_allowed = client.post(url, {"target": "kallad", "to-kallad-version": 3})
    assert not_allowed.status_code == 409
    assert "kan inte få status" in not_allowed.text


def test_holding_a_meeting_records_attendance(world, built):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    person_participant, _unit_participant = built.meeting.participants.order_by("id")
    prefix = f"hold-{built.meeting.pk}"
    response = browser_for(user).post(f"/sip/{built.sip.pk}/moten/{built.meeting.pk}/genomfort/", {
        f"{prefix}-version": built.meeting.version, f"{prefix}-attended_{person_participant.pk}": "on",
        f"{prefix}-minutes": "Bra möte.",
    })
    assert response.status_code == 302
    meeting = Meeting.objects.get(pk=built.meeting.pk)
    assert meeting.status == "held" and meeting.minutes == "Bra möte."
    assert [p.attended for p in meeting.participants.order_by("id")] == [True, False]


def test_adding_a_meeting_with_the_person_and_a_related_person(world, built):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    start = timezone.localtime() + datetime.timedelta(days=10)
    response = browser_for(user).post(f"/sip/{built.sip.pk}/moten/", {
        "meeting-kind": "follow_up", "meeting-starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "meeting-ends_at": (start + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "meeting-invite_person": "on", "meeting-invite_units": [world.unit_b.pk],
        "meeting-related_1_name": "Eva Andersson", "meeting-other_1_name": "Karin",
        "meeting-other_1_organisation": "Arbetsförmedlingen",
    })
    assert response.status_code == 302
    meeting = Meeting.objects.filter(sip=built.sip).latest("id")
    assert sorted(p.kind for p in meeting.participants.all()) == ["other", "person", "related", "unit"]


def test_withdrawing_consent_asks_first_and_cuts_access(world):
    amina = world.users_a[Role.SOCIALSEKRETERARE]
    nils = world.users_b[Role.BEHANDLARE]
    b = build_plan(amina, world.unit_a, units=[world.unit_b], consent_for=[world.org_a, world.org_b], parts=False)
    region_consent = b.consents[1]
    assert browser_for(nils).get(f"/sip/{b.sip.pk}/").status_code == 200

    confirm = browser_for(amina).get(f"/sip/{b.sip.pk}/samtycken/{region_consent.pk}/aterkalla/")
    assert confirm.status_code == 200 and "förlorar" in confirm.text
    done = browser_for(amina).post(f"/sip/{b.sip.pk}/samtycken/{region_consent.pk}/aterkalla/")
    assert done.status_code == 302
    assert browser_for(nils).get(f"/sip/{b.sip.pk}/").status_code == 404

    again = browser_for(amina).post(f"/sip/{b.sip.pk}/samtycken/{region_consent.pk}/aterkalla/")
    assert again.status_code == 409


def test_removing_the_last_unit_of_the_lead_organisation_is_refused_with_the_reason(world, built):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    own = built.sip.participations.get(unit=world.unit_a)
    response = browser_for(user).post(f"/sip/{built.sip.pk}/enheter/{own.pk}/ta-bort/")
    assert response.status_code == 409
    assert "Huvudansvarig organisation måste ha minst en enhet kvar i planen." in response.text


def test_presence_lists_the_others_with_the_plan_open(world):
    amina = world.users_a[Role.SOCIALSEKRETERARE]
    nils = world.users_b[Role.BEHANDLARE]
    b = build_plan(amina, world.unit_a, units=[world.unit_b], consent_for=[world.org_a, world.org_b], parts=False)
    url = f"/sip/{b.sip.pk}/narvaro/"

    first = browser_for(amina).get(url)
    second = browser_for(nils).get(url)
    third = browser_for(amina).get(url)

    assert "Ingen annan" in first.text
    assert amina.get_full_name() in second.text and nils.get_full_name() not in second.text
    assert nils.get_full_name() in third.text
    assert "<html" not in second.text  # a fragment for HTMX, not a page


def test_presence_forgets_users_after_the_expiry(world, settings, monkeypatch):
    import time

    amina = world.users_a[Role.SOCIALSEKRETERARE]
    colleague = member(world.unit_a, Role.SAMORDNARE, first_name="Eva", last_name="Berg")
    b = build_plan(amina, world.unit_a, parts=False)
    url = f"/sip/{b.sip.pk}/narvaro/"
    browser_for(colleague).get(url)
    later = time.time() + settings.SIP_PRESENCE_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert "Eva Berg" not in browser_for(amina).get(url).text


def test_the_full_history_is_a_page_of_its_own(world, built):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    sip = built.sip
    for i in range(30):
        sip = services.update_sip(user, sip, sip.version, what_matters=f"Text {i}", reason=f"Bakgrund {i}")
    client = browser_for(user)
    page = client.get(f"/sip/{sip.pk}/")
    assert len(page.context["history"]) == 50
    assert page.context["history_has_more"]
    assert f'href="/sip/{sip.pk}/historik/"' in page.text
    full = client.get(f"/sip/{sip.pk}/historik/")
    assert full.status_code == 200
    assert len(full.context["history"]) > 50


def test_a_stale_status_change_says_what_happened_and_shows_the_plan_as_saved(world, built):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    services.update_sip(world.users_a[Role.SAMORDNARE], built.sip, built.sip.version, reason="Ändrad")
    response = browser_for(user).post(f"/sip/{built.sip.pk}/status/",
                                      {"target": "kallad", "to-kallad-version": built.sip.version})
    assert response.status_code == 412
    assert "Någon annan har ändrat detta medan du arbetade." in response.text
    assert Sip.objects.get(pk=built.sip.pk).status == SipStatus.INITIERAD


def test_a_stale_meeting_hold_keeps_the_minutes_and_attendance(world, built):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    services.update_meeting(world.users_a[Role.SAMORDNARE], built.sip, built.meeting, built.meeting.version,
                            location="Rum 5")
    first = built.meeting.participants.order_by("id").first()
    prefix = f"hold-{built.meeting.pk}"
    response = browser_for(user).post(f"/sip/{built.sip.pk}/moten/{built.meeting.pk}/genomfort/", {
        f"{prefix}-version": built.meeting.version, f"{prefix}-attended_{first.pk}": "on",
        f"{prefix}-minutes": "Mina anteckningar",
    })
    assert response.status_code == 412
    form = next(m["hold_form"] for m in response.context["meetings"] if m["meeting"].pk == built.meeting.pk)
    assert form["minutes"].value() == "Mina anteckningar"
    assert form[f"attended_{first.pk}"].value() is True
    assert form["version"].value() == str(built.meeting.version + 1)
    assert Meeting.objects.get(pk=built.meeting.pk).status == "planned"


def test_deleting_a_goal_needs_the_current_version(world, built):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    client = browser_for(user)
    url = f"/sip/{built.sip.pk}/mal/{built.goal.pk}/ta-bort/"
    services.update_goal(world.users_a[Role.SAMORDNARE], built.sip, built.goal, built.goal.version, text="Nytt")

    stale = client.post(url, {"version": built.goal.version})
    assert stale.status_code == 412
    assert "Någon annan har ändrat detta" in stale.text
    assert Goal.objects.filter(pk=built.goal.pk).exists()

    done = client.post(url, {"version": built.goal.version + 1})
    assert done.status_code == 302
    assert not Goal.objects.filter(pk=built.goal.pk).exists()


def test_a_signed_in_user_without_a_unit_cannot_start_a_plan(world):
    response = browser_for(world.outsider).get("/sip/ny/")
    assert response.status_code == 403
    assert "aktivt uppdrag" in response.text
    assert browser_for(world.outsider).get("/sip/ny/plan/").status_code == 302


def test_an_expired_session_poll_does_not_swap_in_the_login_page(built, client):
    response = client.get(f"/sip/{built.sip.pk}/narvaro/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.content == b""
