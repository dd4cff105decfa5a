"""The application shell in a real browser: login, start page, logout, language and keyboard access."""

import re
from io import StringIO

from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import expect

from organisations.models import Role
from tests.e2e.conftest import PASSWORD, login, navigation, visit
from tests.factories import OrganisationFactory, UnitFactory, UserFactory, member

LOGIN_URL = re.compile(r"/login/(\?.*)?$")


def test_anonymous_visitor_is_sent_to_the_swedish_login_page(page, live_server):
    visit(page, f"{live_server.url}/")

    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page).to_have_title(re.compile(r"^Logga in"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")
    expect(page.get_by_label("Användarnamn")).to_be_visible()
    expect(page.get_by_label("Lösenord")).to_be_visible()


def test_wrong_password_shows_a_swedish_error_and_stays_on_the_login_page(page, live_server):
    user = UserFactory()

    login(page, live_server, user, password="wrong-horse-battery")

    expect(page).to_have_url(LOGIN_URL)
    expect(page.get_by_role("alert")).to_have_text("Fel användarnamn eller lösenord. Försök igen.")
    expect(page.get_by_label("Användarnamn")).to_have_value(user.username)
    expect(page.get_by_role("button", name="Logga ut")).to_have_count(0)


def test_staff_user_sees_organisation_unit_and_role_then_logs_out(page, live_server):
    organisation = OrganisationFactory(name="Eskilstuna kommun (test)")
    unit = UnitFactory(organisation=organisation, name="Vuxenenheten missbruk")
    user = member(unit, Role.SOCIALSEKRETERARE, first_name="Amina", last_name="Yusuf")

    login(page, live_server, user, PASSWORD)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Välkommen, Amina Yusuf")
    row = page.get_by_role("row").filter(has_text="Vuxenenheten missbruk")
    expect(row.get_by_role("cell")).to_have_text(
        ["Eskilstuna kommun (test)", "Vuxenenheten missbruk", "Socialsekreterare"]
    )

    with navigation(page):
        page.get_by_role("button", name="Logga ut").click()

    expect(page).to_have_url(LOGIN_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")
    visit(page, f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))


def test_user_without_membership_is_told_there_is_no_active_assignment(page, live_server):
    user = UserFactory()

    login(page, live_server, user)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_text("Du har inget aktivt uppdrag")).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)


def test_language_switch_to_english_sets_html_lang(page, live_server):
    visit(page, f"{live_server.url}/login/")
    expect(page.locator("html")).to_have_attribute("lang", "sv")

    page.get_by_label("Språk").select_option("en")
    with navigation(page):
        page.get_by_role("button", name="Byt språk").click()

    # English translations may not exist yet: only the language attribute and a rendered page are asserted.
    expect(page).to_have_url(LOGIN_URL)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("#id_username")).to_be_visible()


def test_skip_link_is_the_first_focusable_element(page, live_server):
    login(page, live_server, member(UnitFactory()))

    page.keyboard.press("Tab")

    focused = page.locator(":focus")
    expect(focused).to_have_text("Hoppa till innehållet")
    expect(focused).to_be_visible()  # shown on focus, not left off-screen
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_demo_user_sees_the_demo_organisation(page, live_server):
    call_command("seed_demo", stdout=StringIO())

    login(page, live_server, "malmo.socsek", settings.DEMO_PASSWORD)

    expect(page).to_have_url(f"{live_server.url}/")
    row = page.get_by_role("row").filter(has_text="Vuxen/missbruk Innerstaden")
    expect(row.get_by_role("cell")).to_have_text(["Malmö stad", "Vuxen/missbruk Innerstaden", "Socialsekreterare"])
