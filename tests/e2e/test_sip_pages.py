"""The rest of the plan's pages in a browser, each checked with axe: error summaries that take focus, status
changes, editing a goal, the consent confirmation, the history page and the 404 for a plan one cannot see."""

import datetime

import pytest
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone
from playwright.sync_api import expect

from organisations.models import Role
from tests.e2e.conftest import login, navigation, visit
from tests.factories import OrganisationFactory, UnitFactory, member
from tests.frontend.builders import build_plan


@pytest.fixture
def setting():
    kommun = OrganisationFactory(name="Eskilstuna kommun (test)")
    social = UnitFactory(organisation=kommun, name="Vuxenenheten missbruk")
    user = member(social, Role.SOCIALSEKRETERARE, first_name="Amina", last_name="Yusuf")
    plan = build_plan(user, social, consent_for=[kommun], first_name="Kim", last_name="Andersson")
    return user, plan


def test_an_error_summary_takes_focus_and_leads_to_the_field(page, live_server, setting):
    user, plan = setting
    login(page, live_server, user)
    visit(page, f"{live_server.url}/sip/{plan.sip.pk}/")

    actions = page.locator("#insatser")
    actions.get_by_text("Lägg till insats").click()
    actions.get_by_label("Insats", exact=True).fill("Arbetsträning")
    with navigation(page):
        actions.get_by_role("button", name="Spara insatsen").click()

    summary = actions.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Ansvarig organisation: Ange vem som ansvarar för insatsen.")
    field = actions.get_by_label("Ansvarig organisation")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(actions.get_by_label("Insats", exact=True)).to_have_value("Arbetsträning")  # typed text kept
    summary.get_by_role("link").click()
    expect(field).to_be_focused()


def test_the_plan_moves_through_its_statuses(page, live_server, setting):
    user, plan = setting
    login(page, live_server, user)
    visit(page, f"{live_server.url}/sip/{plan.sip.pk}/")

    with navigation(page):
        page.get_by_role("button", name="Markera som kallad").click()
    expect(page.locator(".plan-header .status")).to_have_text("Kallad")

    with navigation(page):
        page.get_by_role("button", name="Upprätta planen").click()
    expect(page.locator(".error-summary")).to_contain_text("Ange uppföljningsdatum när planen upprättas.")
    follow_up = timezone.localdate() + datetime.timedelta(days=90)
    page.locator(".transition-form").get_by_label("Uppföljningsdatum").fill(follow_up.isoformat())
    with navigation(page):
        page.get_by_role("button", name="Upprätta planen").click()
    expect(page.locator(".plan-header .status")).to_have_text("Upprättad")
    expect(page.locator("#tidslinje .timeline-item--follow_up")).to_contain_text("Uppföljning")


def test_goal_edit_history_and_consent_confirmation_pages(page, live_server, setting):
    user, plan = setting
    login(page, live_server, user)
    visit(page, f"{live_server.url}/sip/{plan.sip.pk}/")

    with navigation(page):
        page.get_by_role("link", name="Ändra mål – Ett eget boende").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ändra mål")
    page.get_by_label("Mål", exact=True).fill("Ett eget boende i Eskilstuna")
    page.get_by_label("Status").select_option(label="Delvis uppnått")
    with navigation(page):
        page.get_by_role("button", name="Spara", exact=True).click()
    expect(page.get_by_text("Målet är sparat.")).to_be_visible()
    expect(page.locator("#mal .item")).to_contain_text(["Ett eget boende i Eskilstuna"])

    with navigation(page):
        page.get_by_role("link", name="Ändra insats – Boendestöd").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ändra insats")
    with navigation(page):
        page.get_by_role("link", name="Tillbaka till planen utan att spara").click()

    with navigation(page):
        page.get_by_role("link", name="Återkalla samtycket för Eskilstuna kommun (test)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Återkalla samtycke")
    expect(page.get_by_text("förlorar Eskilstuna kommun (test) genast åtkomst")).to_be_visible()
    with navigation(page):
        page.get_by_role("link", name="Nej, tillbaka till planen").click()

    visit(page, f"{live_server.url}/sip/{plan.sip.pk}/historik/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Historik")
    row = page.get_by_role("row").filter(has_text="Delvis uppnått")
    expect(row.get_by_role("cell")).to_contain_text(["Amina Yusuf", "Ändrade mål", "Status", "Pågår", "Delvis uppnått"])


def test_the_print_page_and_a_plan_one_cannot_see(page, live_server, setting):
    user, plan = setting
    login(page, live_server, user)
    try:
        get_template("sip/print.html")
    except TemplateDoesNotExist:
        pass
    else:
        visit(page, f"{live_server.url}/sip/{plan.sip.pk}/utskrift/")
        expect(page.locator("body")).to_contain_text("Kim Andersson")

    other_unit = UnitFactory(name="Socialpsykiatri")
    other_plan = build_plan(member(other_unit), other_unit, parts=False, first_name="Lo", last_name="Berg")
    response = visit(page, f"{live_server.url}/sip/{other_plan.sip.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Sidan finns inte")
    expect(page.locator("body")).not_to_contain_text("Lo Berg")
