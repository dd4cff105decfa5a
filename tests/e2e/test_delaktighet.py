"""Delaktighet in a real browser: a person answers from the link with JavaScript switched off, and the staff
pages (the plan's invitations, the printed sheet, a paper answer, the report, rutinkollen) pass axe.

axe-core is JavaScript and cannot run in a context with JavaScript disabled (its run never settles there), so
the no-JavaScript test checks every public page it shows in a second, ordinary context first: the same URL
(in Swedish and in English), the thank-you and decline pages reached by the same forms with another
invitation's link, and the pages for a used and an unknown link. The no-JavaScript context then does the
real work: switching language, choosing, taking a choice back, writing, sharing and sending.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from organisations.models import Role
from sip.delaktighet import services
from sip.delaktighet.models import Invitation, InvitationStatus, Response
from sip.delaktighet.senders import MemorySmsSender
from sip.models import ParticipantKind
from tests.delaktighet.test_invitations import held_meeting, link_from, token_of
from tests.delaktighet.test_reports import Row, add_answers
from tests.e2e.conftest import NAVIGATION_TIMEOUT_MS, login, navigation, visit


@pytest.fixture(autouse=True)
def _memory_sms(settings):
    # (The public page's rate limit counts in the cache, which tests/conftest.py empties around every test.)
    settings.SMS_SENDER = "sip.delaktighet.senders.MemorySmsSender"
    MemorySmsSender.outbox = []


@contextmanager
def page_without_javascript(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="sv-SE", java_script_enabled=False)
    context.set_default_timeout(NAVIGATION_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def submit(page: Page, button: str) -> None:
    """Click a submit button in the page without JavaScript and wait for the document it posts to."""
    with page.expect_navigation(wait_until="load", timeout=NAVIGATION_TIMEOUT_MS):
        page.get_by_role("button", name=button).click()


def question(page: Page, number: int):
    return page.get_by_role("group", name=re.compile(rf"^Fråga {number} av 10\b"))


def links(world, plan, django_capture_on_commit_callbacks) -> dict[str, str]:
    """Answer links after a held meeting: the person's (e-mail), a närstående's (SMS) and a second
    närstående's (a paper invitation, given a link here as a printed sheet would)."""
    held_meeting(world, plan, django_capture_on_commit_callbacks,
                 extra=({"kind": ParticipantKind.RELATED, "name": "Syster"},))
    paper = Invitation.objects.get(sip=plan.sip, channel="paper")
    return {
        "person": token_of(link_from(mail.outbox[0].body)),
        "related": token_of(link_from(MemorySmsSender.outbox[0][1])),
        "paper": token_of(services.issue_link(paper)),
    }


def test_a_person_answers_with_javascript_switched_off(page, browser, live_server, world, plan,
                                                      django_capture_on_commit_callbacks):
    tokens = links(world, plan, django_capture_on_commit_callbacks)
    url = f"{live_server.url}/d/{tokens['person']}/"

    # 1. axe, in an ordinary context, on the pages the person will see (the form in Swedish and in English).
    visit(page, url)
    with navigation(page):
        page.get_by_role("button", name="In English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    with navigation(page):
        page.get_by_role("button", name="På svenska").click()
    expect(page.locator("html")).to_have_attribute("lang", "sv")

    # 2. The person, with JavaScript switched off.
    with page_without_javascript(browser) as plain:
        response = plain.goto(url, wait_until="load")
        assert response.status == 200
        assert plain.locator("script").count() == 0
        expect(plain.get_by_role("heading", level=1)).to_have_text("Hur var mötet för dig?")
        expect(plain.get_by_text("Alla frågor går att hoppa över.")).to_be_visible()

        submit(plain, "In English")  # Django's language switch is a plain form too
        expect(plain.locator("html")).to_have_attribute("lang", "en")
        submit(plain, "På svenska")
        expect(plain.locator("html")).to_have_attribute("lang", "sv")

        question(plain, 1).get_by_role("radio", name="5", exact=True).check()
        question(plain, 2).get_by_role("radio", name=re.compile(r"^6 Stämmer helt")).check()
        question(plain, 3).get_by_role("radio", name="2", exact=True).check()
        question(plain, 3).get_by_role("radio", name="Hoppa över frågan").check()  # a choice taken back
        expect(question(plain, 1).get_by_role("radio", name=re.compile(r"^1 Stämmer inte alls"))).not_to_be_checked()
        plain.get_by_label("Skriv ditt svar (frivilligt)").fill("Jag kände mig lyssnad på.")
        share = plain.get_by_label("Personalen i min plan får läsa mina svar")
        expect(share).not_to_be_checked()
        share.check()
        submit(plain, "Skicka mina svar")

        expect(plain.get_by_role("heading", level=1)).to_have_text("Tack för dina svar!")
        assert plain.locator("script").count() == 0

    stored = Response.objects.get(invitation__participant__kind="person")
    assert stored.share_with_staff is True
    assert {a.item.code: (a.value_int, a.value_text) for a in stored.answers.select_related("item")} == {
        "information": (5, ""), "lyssnad": (6, ""), "till_oss": (None, "Jag kände mig lyssnad på.")}

    # 3. axe on the pages that answer a post, reached the same way with the other links.
    related = f"{live_server.url}/d/{tokens['related']}/"
    visit(page, related)
    question(page, 1).get_by_role("radio", name="4", exact=True).evaluate("radio => { radio.value = '9'; }")
    question(page, 1).get_by_role("radio", name="4", exact=True).check()
    question(page, 4).get_by_role("radio", name="3", exact=True).check()
    with navigation(page):
        page.get_by_role("button", name="Skicka mina svar").click()  # an invalid value: the error page
    expect(page.get_by_role("alert")).to_contain_text("Fråga 1: Välj ett av alternativen.")
    expect(question(page, 4).get_by_role("radio", name="3", exact=True)).to_be_checked()
    question(page, 1).get_by_role("radio", name="4", exact=True).check()
    with navigation(page):
        page.get_by_role("button", name="Skicka mina svar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tack för dina svar!")

    visit(page, f"{live_server.url}/d/{tokens['paper']}/")
    with navigation(page):
        page.get_by_role("button", name="Jag vill inte svara").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Du har tackat nej")
    assert Invitation.objects.get(sip=plan.sip, channel="paper").status == InvitationStatus.DECLINED

    used = visit(page, url)
    assert used.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("Länken går inte att använda längre")
    unknown = visit(page, f"{live_server.url}/d/en-lank-som-inte-finns/")
    assert unknown.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Vi hittar inte enkäten")


def test_staff_pages_pass_axe(page, live_server, world, plan, django_capture_on_commit_callbacks):
    held_meeting(world, plan, django_capture_on_commit_callbacks)
    add_answers(plan.sip, [Row(gender="kvinna", answers={"information": 5, "respekt": 6}) for _ in range(7)]
                + [Row(gender="man", answers={"information": 2}) for _ in range(2)]
                + [Row(gender="annat", answers={"information": 2}) for _ in range(5)])
    user = world.users_a[Role.SOCIALSEKRETERARE]
    login(page, live_server, user)

    # The plan's invitations, the printed sheet and a paper answer.
    visit(page, f"{live_server.url}/sip/{plan.sip.pk}/enkater/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Enkäter efter möten")
    person_row = page.get_by_role("row").filter(has_text="Den enskilde").filter(has_text="E-post")
    with navigation(page):
        person_row.get_by_role("button", name=re.compile("^Skriv ut enkät med QR-kod")).click()
    expect(page.get_by_role("img", name="QR-kod till enkäten")).to_be_visible()
    visit(page, f"{live_server.url}/sip/{plan.sip.pk}/enkater/")
    with navigation(page):
        person_row.get_by_role("link", name=re.compile("^Registrera svar från pappersenkät")).click()
    question(page, 8).get_by_role("radio", name=re.compile(r"^6 Stämmer helt")).check()
    page.get_by_label("Personen har kryssat i att personalen får läsa svaren").check()
    with navigation(page):
        page.get_by_role("button", name="Spara svaren").click()
    expect(page.get_by_text("Svaren från pappersenkäten är registrerade.")).to_be_visible()
    with navigation(page):
        page.get_by_role("link", name=re.compile("^Läs svaren")).click()
    expect(page.get_by_role("row").filter(has_text="Jag blev bemött med respekt.")).to_contain_text("6 av 6")

    # The report, grouped by gender, for the spring of 2025 (tests.delaktighet.test_reports.HELD).
    visit(page, f"{live_server.url}/rapporter/delaktighet/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Delaktighet")
    page.get_by_label("Möten från och med").fill("2025-01-01")
    page.get_by_label("Möten till och med").fill("2025-06-30")
    page.get_by_role("checkbox", name="Kön").check()
    with navigation(page):
        page.get_by_role("button", name="Visa rapport").click()
    men = page.locator("section").filter(has=page.get_by_role("heading", name="Man", exact=True))
    expect(men.locator("dd").first).to_have_text("<5")
    expect(page.get_by_role("img", name=re.compile("^Diagram: andel svarande"))).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV-fil").click()
    assert download.value.suggested_filename == "delaktighet.csv"

    # Rutinkollen.
    visit(page, f"{live_server.url}/rutinkollen/ny/")
    for group in page.get_by_role("group").all():
        group.get_by_role("radio", name="Ja").check()
    with navigation(page):
        page.get_by_role("button", name="Spara rutinkollen").click()
    expect(page.get_by_text("Rutinkollen är sparad.")).to_be_visible()
    expect(page.get_by_role("table").first).to_contain_text("100,0")
