"""Samverkansavvikelser in a real browser: a report written and sent, acknowledged and answered by the
counterpart's contact person from the inbox, closed by the reporter; and the live feedback on personal data
in the free text with its Maskera button. Every page is checked with axe."""

from importlib import import_module

import pytest
from django.apps import apps
from playwright.sync_api import expect

from avvikelser.models import Agreement, ContactPerson, Deviation, Forum
from organisations.models import Role
from tests.e2e.conftest import axe_check, login, navigation, visit
from tests.factories import OrganisationFactory, UnitFactory, member

PERSONNUMMER = "811218-9876"


@pytest.fixture
def collaboration(transactional_db):
    """A kommun and a region in one forum, with the region's contact person for deviations."""
    # Transactional tests flush the tables the data migrations filled: put the categories back.
    import_module("avvikelser.migrations.0002_default_categories").forwards(apps, None)
    kommun = OrganisationFactory(name="Eskilstuna kommun (test)")
    region = OrganisationFactory(name="Region Sörmland (test)", kind="region")
    social = UnitFactory(organisation=kommun, name="Vuxenenheten missbruk")
    beroende = UnitFactory(organisation=region, name="Beroendecentrum")
    forum = Forum.objects.create(name="Styrgrupp Eskilstuna (test)")
    forum.organisations.set([kommun, region])
    Agreement.objects.create(forum=forum, name="Överenskommelse om SIP")
    reporter = member(social, Role.SOCIALSEKRETERARE, first_name="Amina", last_name="Yusuf")
    contact = member(beroende, Role.BEHANDLARE, first_name="Erik", last_name="Lind")
    ContactPerson.objects.create(organisation=region, user=contact)
    return {"kommun": kommun, "region": region, "reporter": reporter, "contact": contact}


def state_of(page):
    return page.locator(".avv-facts .status")


def test_a_deviation_is_reported_answered_and_closed(page, new_page, live_server, collaboration):
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    # The reporter writes the report and sends it.
    login(page, live_server, collaboration["reporter"])
    with navigation(page):
        page.get_by_role("link", name="Avvikelser", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mina avvikelser")
    with navigation(page):
        page.get_by_role("link", name="Ny avvikelse").click()
    page.get_by_label("Motpart", exact=True).select_option(label="Region Sörmland (test)")
    page.get_by_label("Motpartens enhet").select_option(label="Beroendecentrum")
    page.get_by_label("Kategori").select_option(label="SIP")
    page.get_by_label("Överenskommelse eller rutin som inte följdes").select_option(label="Överenskommelse om SIP")
    page.get_by_label("Vad hände?").fill("Kallelsen till SIP-mötet besvarades inte och ingen från beroendevården kom.")
    page.get_by_label("Omedelbar åtgärd").fill("Nytt möte bokades.")
    reminder = page.get_by_text("lex Sarah")
    expect(reminder).to_be_hidden()
    page.get_by_label("Skada", exact=True).check()
    expect(reminder).to_be_visible()
    axe_check(page)  # the form with the reminder shown
    page.get_by_label("Förslag på förbättring").fill("En gemensam funktionsbrevlåda för kallelser.")
    with navigation(page):
        page.get_by_role("button", name="Skicka", exact=True).click()

    deviation = Deviation.objects.get()
    expect(page).to_have_url(f"{live_server.url}/avvikelser/{deviation.pk}/")
    expect(page.get_by_text("Avvikelsen är skickad till motparten.")).to_be_visible()
    expect(state_of(page)).to_have_text("Inkommen")
    expect(page.locator(".avv-lex-static")).to_contain_text("lex Maria")

    # The counterpart's contact person finds it in the inbox, acknowledges and answers it.
    other = new_page()
    login(other, live_server, collaboration["contact"])
    with navigation(other):
        other.get_by_role("link", name="Avvikelser", exact=True).click()
    with navigation(other):
        other.get_by_role("link", name="Att besvara").click()
    row = other.get_by_role("row").filter(has_text=f"Avvikelse {deviation.pk}")
    expect(row).to_contain_text("Inkommen")
    expect(row).to_contain_text("Eskilstuna kommun (test)")
    expect(row).to_contain_text("SIP")
    with navigation(other):
        row.get_by_role("link", name=f"Avvikelse {deviation.pk}").click()
    expect(other.locator(".avv-facts")).to_contain_text("Amina Yusuf")
    with navigation(other):
        other.get_by_role("button", name="Bekräfta mottagandet").click()
    expect(state_of(other)).to_have_text("Mottagen")
    answer = other.locator("#svar")
    answer.get_by_label("Er analys").fill("Kallelsen gick till en brevlåda som ingen bevakade.")
    answer.get_by_label("Åtgärder", exact=True).fill("Kallelser går nu till den bevakade funktionsbrevlådan.")
    with navigation(other):
        answer.get_by_role("button", name="Skicka svaret").click()
    expect(state_of(other)).to_have_text("Besvarad")

    # The reporter reads the answer and closes the report.
    visit(page, f"{live_server.url}/avvikelser/{deviation.pk}/")
    expect(page.locator("#svar")).to_contain_text("bevakade funktionsbrevlådan")
    with navigation(page):
        page.get_by_role("button", name="Avsluta avvikelsen").click()
    expect(state_of(page)).to_have_text("Avslutad")
    expect(page.locator("#historik")).to_contain_text("Besvarad")
    assert Deviation.objects.get().state == "avslutad"

    with navigation(other):
        other.get_by_role("link", name="Att besvara").click()
    expect(other.get_by_text("Inget att besvara just nu.")).to_be_visible()
    assert not [url for url in requested if "9876" in url]


def test_live_feedback_finds_a_personnummer_and_maskera_replaces_it(page, live_server, collaboration):
    requested = []
    page.on("request", lambda request: requested.append(request))

    login(page, live_server, collaboration["reporter"])
    visit(page, f"{live_server.url}/avvikelser/ny/")
    field = page.get_by_label("Vad hände?")
    field.press_sequentially(f"Personen med {PERSONNUMMER} fick ingen kallelse.", delay=5)
    feedback = page.locator("#id_what_happened-guard")
    expect(feedback).to_contain_text("personnummer")
    expect(feedback).not_to_contain_text("9876")
    axe_check(page)  # the page with the findings shown

    feedback.get_by_role("button", name="Maskera").click()
    expect(field).to_have_value("Personen med [personnummer] fick ingen kallelse.")
    expect(feedback).to_contain_text("ersatta med platshållare")
    expect(feedback.get_by_role("button", name="Maskera")).to_have_count(0)
    axe_check(page)

    # The text travelled to the server in POST bodies only, never in a URL.
    checks = [r for r in requested if "/avvikelser/granska/" in r.url or "/avvikelser/maskera/" in r.url]
    assert checks and all(r.method == "POST" for r in checks)
    assert not [r.url for r in requested if "9876" in r.url]
