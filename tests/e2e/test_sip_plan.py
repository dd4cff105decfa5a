"""The SIP screens in a real browser: a plan from a person search, an action, a meeting held with attendance,
and two users editing the same plan at once (presence and the merge view)."""

import datetime
import re

from django.utils import timezone
from playwright.sync_api import expect

from organisations.models import Role
from sip.models import Person, Sip
from tests.e2e.conftest import login, navigation, visit
from tests.factories import OrganisationFactory, UnitFactory, member
from tests.frontend.builders import build_plan

NEW_PERSONNUMMER = "811218-9876"



def two_organisations():
    kommun = OrganisationFactory(name="Eskilstuna kommun (test)")
    region = OrganisationFactory(name="Region Sörmland (test)", kind="region")
    social = UnitFactory(organisation=kommun, name="Vuxenenheten missbruk")
    beroende = UnitFactory(organisation=region, name="Beroendecentrum")
    return kommun, region, social, beroende


def test_a_plan_is_created_from_a_person_search(page, live_server):
    _kommun, _region, social, _beroende = two_organisations()
    user = member(social, Role.SOCIALSEKRETERARE, first_name="Amina", last_name="Yusuf")
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    login(page, live_server, user)
    with navigation(page):
        page.get_by_role("link", name="Mina SIP:ar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mina SIP:ar")
    with navigation(page):
        page.get_by_role("link", name="Ny SIP").click()

    page.get_by_label("Personnummer, samordningsnummer eller reservnummer").fill(NEW_PERSONNUMMER)
    with navigation(page):
        page.get_by_role("button", name="Sök").click()
    expect(page.get_by_text("Ingen person med det numret finns registrerad")).to_be_visible()

    register = page.locator("section").filter(has=page.get_by_role("heading", name="Registrera ny person"))
    expect(register.get_by_label("Personnummer, samordningsnummer eller reservnummer")).to_have_value(
        NEW_PERSONNUMMER)
    register.get_by_label("Förnamn").fill("Ola")
    register.get_by_label("Efternamn").fill("Svensson")
    register.get_by_label("Kön").select_option(label="Man")
    register.get_by_label("Föredragen kontaktväg").select_option(label="SMS")
    register.get_by_label("Mobiltelefon").fill("070-123 45 67")
    with navigation(page):
        register.get_by_role("button", name="Registrera och fortsätt").click()

    expect(page).to_have_url(f"{live_server.url}/sip/ny/plan/")
    expect(page.get_by_text("Personen är registrerad.")).to_be_visible()
    expect(page.locator(".person-summary")).to_contain_text("Ola Svensson")
    expect(page.get_by_label("Initierande enhet")).to_have_value(str(social.pk))
    page.get_by_label("Andra deltagande enheter").select_option(label="Beroendecentrum")
    page.get_by_label("Anledning och bakgrund").fill("Behöver stöd från socialtjänst och beroendevård.")
    with navigation(page):
        page.get_by_role("button", name="Skapa SIP").click()

    sip = Sip.objects.get(person__identifier="198112189876")
    expect(page).to_have_url(f"{live_server.url}/sip/{sip.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("SIP för Ola Svensson")
    expect(page.locator(".plan-header .status")).to_have_text("Initierad")
    units = page.locator("#enheter")
    expect(units.get_by_role("row").filter(has_text="Beroendecentrum")).to_have_count(1)
    expect(units.get_by_role("row").filter(has_text="Vuxenenheten missbruk")).to_have_count(1)
    assert Person.objects.get(identifier="198112189876").preferred_channel == "sms"
    # The personnummer travelled in POST bodies only, never in a URL.
    assert not [url for url in requested if "9876" in url or "811218" in url]

    with navigation(page):
        page.get_by_role("link", name="Mina SIP:ar").first.click()
    row = page.get_by_role("row").filter(has_text="Ola Svensson")
    expect(row.get_by_role("cell").nth(1)).to_have_text("Initierad")
    expect(row.get_by_role("cell").nth(2)).to_have_text("Eskilstuna kommun (test)")


def test_an_action_is_added_and_a_meeting_held_with_attendance(page, live_server):
    kommun, _region, social, _beroende = two_organisations()
    user = member(social, Role.SOCIALSEKRETERARE, first_name="Amina", last_name="Yusuf")
    plan = build_plan(user, social, parts=False, first_name="Kim", last_name="Andersson")
    today = timezone.localdate()

    login(page, live_server, user)
    visit(page, f"{live_server.url}/sip/{plan.sip.pk}/")

    actions = page.locator("#insatser")
    actions.get_by_text("Lägg till insats").click()
    actions.get_by_label("Insats", exact=True).fill("Öppenvård beroende")
    actions.get_by_label("Ansvarig organisation").select_option(label=kommun.name)
    actions.get_by_label("Startdatum").fill(today.isoformat())
    actions.get_by_label("Slutdatum").fill((today + datetime.timedelta(days=60)).isoformat())
    with navigation(page):
        actions.get_by_role("button", name="Spara insatsen").click()

    expect(page.get_by_text("Insatsen är tillagd.")).to_be_visible()
    expect(actions.locator(".item-title")).to_contain_text(["Öppenvård beroende"])
    expect(page.locator("#tidslinje .timeline-item")).to_contain_text(["Öppenvård beroende"])

    meetings = page.locator("#moten")
    meetings.get_by_text("Lägg till möte").click()
    day = (today + datetime.timedelta(days=7)).isoformat()
    meetings.get_by_label("Börjar").fill(f"{day}T10:00")
    meetings.get_by_label("Slutar").fill(f"{day}T11:00")
    meetings.get_by_label("Plats").fill("Vuxenenheten, rum 2")
    expect(meetings.get_by_label("Kim Andersson (den enskilde)")).to_be_checked()
    meetings.get_by_label("Närstående 1, namn").fill("Eva Andersson")
    with navigation(page):
        meetings.get_by_role("button", name="Spara mötet").click()

    expect(page.get_by_text("Mötet är tillagt.")).to_be_visible()
    meeting = page.locator("#moten article")
    expect(meeting).to_have_count(1)
    expect(meeting.locator(".participants li")).to_have_text(
        ["Kim Andersson (den enskilde)", "Eva Andersson (närstående)"])
    expect(meeting.get_by_role("link", name=re.compile("Kalenderfil"))).to_have_attribute(
        "href", re.compile(r"/sip/\d+/moten/\d+/kalender\.ics$"))

    meeting.get_by_text("Markera som genomfört").click()
    meeting.get_by_role("group", name="Vilka närvarade?").get_by_label("Kim Andersson (den enskilde)").check()
    meeting.get_by_label("Minnesanteckningar").fill("Planen gicks igenom. Kim vill börja i öppenvården.")
    with navigation(page):
        meeting.get_by_role("button", name="Spara närvaro och markera mötet som genomfört").click()

    expect(page.get_by_text("Mötet är markerat som genomfört.")).to_be_visible()
    meeting = page.locator("#moten article")
    expect(meeting.locator(".status")).to_have_text("Genomfört")
    expect(meeting.locator(".participants li")).to_have_text(
        ["Kim Andersson (den enskilde) – närvarade", "Eva Andersson (närstående) – närvarade inte"])
    expect(meeting).to_contain_text("Kim vill börja i öppenvården.")
    expect(meeting.get_by_text("Markera som genomfört")).to_have_count(0)


def test_two_users_edit_the_same_plan_and_merge(page, new_page, live_server, settings):
    settings.SIP_PRESENCE_POLL_SECONDS = 1  # the live server reads it per request: poll fast in the test
    kommun, region, social, beroende = two_organisations()
    amina = member(social, Role.SOCIALSEKRETERARE, first_name="Amina", last_name="Yusuf")
    nils = member(beroende, Role.BEHANDLARE, first_name="Nils", last_name="Forsberg")
    plan = build_plan(amina, social, units=[beroende], consent_for=[kommun, region], parts=False)
    url = f"{live_server.url}/sip/{plan.sip.pk}/"

    login(page, live_server, amina)
    visit(page, url)
    other = new_page()
    login(other, live_server, nils)
    visit(other, url)

    # Presence: Nils sees Amina at once; Amina's page picks Nils up at its next poll (HTMX).
    expect(other.locator("#presence-list")).to_contain_text("Amina Yusuf")
    expect(other.locator("#presence-list")).not_to_contain_text("Nils Forsberg")
    expect(page.locator("#presence-list")).to_contain_text("Nils Forsberg", timeout=5_000)

    mine = "Att få bo kvar i min lägenhet."
    theirs = "Att träffa mina barn varje vecka."
    page.get_by_label("Vad är viktigt för mig").fill(mine)
    with navigation(page):
        page.get_by_role("button", name="Spara planen").click()
    expect(page.get_by_text("Planen är sparad.")).to_be_visible()

    # Nils still has the old version open and saves his own text.
    other.get_by_label("Vad är viktigt för mig").fill(theirs)
    with navigation(other):
        other.get_by_role("button", name="Spara planen").click()

    notice = other.locator(".merge-notice")
    expect(notice).to_contain_text("Någon annan har sparat ändringar medan du arbetade.")
    expect(notice).to_contain_text("Senast ändrat av Amina Yusuf")
    expect(other.get_by_role("group", name="Din version")).to_be_visible()
    expect(other.get_by_role("group", name="Sparad version")).to_contain_text(mine)
    expect(other.get_by_label("Vad är viktigt för mig")).to_have_value(theirs)  # nothing typed is lost
    expect(other.locator("[data-saved-for=what_matters]")).to_have_text(mine)

    merged = f"{theirs} {mine}"
    other.get_by_label("Vad är viktigt för mig").fill(merged)
    with navigation(other):
        other.get_by_role("button", name="Spara planen").click()
    expect(other.get_by_text("Planen är sparad.")).to_be_visible()
    expect(other.get_by_label("Vad är viktigt för mig")).to_have_value(merged)
    expect(other.locator(".merge-notice")).to_have_count(0)

    visit(page, url)
    expect(page.get_by_label("Vad är viktigt för mig")).to_have_value(merged)
    expect(page.locator("#presence-list")).to_contain_text("Nils Forsberg")
    history = page.locator("#historik")
    expect(history.get_by_role("row").filter(has_text="Nils Forsberg").filter(has_text="Vad är viktigt för mig")
           ).to_have_count(1)
