"""HTML and JavaScript in free text is shown as text, never run: in a browser that ignores the
Content-Security-Policy (so escaping alone is tested), every page that shows staff- or person-written text
is opened and must show the payload literally, with no dialog and no script having set the flag.

And in a browser that enforces the policy, the main pages cause no policy violation at all.
"""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from avvikelser import forum_services
from avvikelser import services as deviation_services
from avvikelser.models import Category, ContactPerson, Forum, ForumMember, State
from organisations.models import Role
from sip import services as sip_services
from tests.e2e.conftest import login, visit

# Each payload tries another way out of the text: a script element, an event handler, a javascript: URL,
# breaking out of a double- or single-quoted attribute, an SVG and a template-looking string.
PAYLOADS = [
    "<script>window.__xss='script'</script>",
    "<img src=x onerror=\"window.__xss='img'\">",
    "<a href=\"javascript:window.__xss='href'\">länk</a>",
    "\"><svg onload=\"window.__xss='attr'\">",
    "' autofocus onfocus='window.__xss=1' x='",
    "{{ 7*7 }}</textarea><iframe srcdoc=\"<script>parent.__xss='frame'</script>\"></iframe>",
]
TEXT = " ".join(PAYLOADS)
SHORT = "<b onmouseover=\"window.__xss='name'\">Kim</b>"  # fits a name field

WATCH = """
window.__dialogs = [];
window.alert = window.confirm = window.prompt = (m) => { window.__dialogs.push(String(m)); };
"""



@pytest.fixture
def hostile(world, plan, settings, django_capture_on_commit_callbacks):
    """A plan, its parts, a deviation with a comment, forum work and a shared questionnaire answer, every
    free-text field holding the payloads."""
    from sip.delaktighet import services as delaktighet_services
    from tests.delaktighet.test_invitations import held_meeting, link_from, token_of

    settings.SMS_SENDER = "sip.delaktighet.senders.MemorySmsSender"
    actor = world.users_a[Role.SOCIALSEKRETERARE]
    held_meeting(world, plan, django_capture_on_commit_callbacks)
    invitation_token = token_of(link_from(mail.outbox[0].body))
    response = delaktighet_services.submit(invitation_token, {"till_oss": TEXT}, share_with_staff=True)
    plan.sip.refresh_from_db()
    plan.person.refresh_from_db()
    sip = sip_services.update_sip(actor, plan.sip, plan.sip.version, reason=TEXT, what_matters=TEXT,
                                  own_contribution=TEXT)
    sip_services.update_person(actor, plan.person, plan.person.version, first_name=SHORT)
    sip_services.create_goal(actor, sip, text=TEXT, kind="own")
    sip_services.create_action(actor, sip, title=PAYLOADS[1], description=TEXT, person_does=TEXT,
                               responsible_unit=world.unit_a, starts_on=timezone.localdate(),
                               ends_on=timezone.localdate() + datetime.timedelta(days=10))
    start = timezone.now() + datetime.timedelta(days=4)
    sip_services.create_meeting(actor, sip, kind="sip", starts_at=start, ends_at=start + datetime.timedelta(hours=1),
                                location=PAYLOADS[3][:150], participants=[])

    forum = Forum.objects.create(name="Styrgrupp A–B")
    forum.organisations.set([world.org_a, world.org_b])
    leader = world.users_a[Role.PROCESSLEDARE]
    ForumMember.objects.create(forum=forum, user=leader, role="processledare")
    ContactPerson.objects.create(organisation=world.org_b, user=world.users_b[Role.BEHANDLARE])
    deviation = deviation_services.create_draft(
        actor, reporting_unit=world.unit_a, counterpart_organisation=world.org_b, occurred_on=timezone.localdate(),
        category=Category.objects.get(key="sip"), what_happened=TEXT, immediate_action=TEXT, suggestion=TEXT)
    deviation = deviation_services.transition(actor, deviation, State.INKOMMEN, 1)
    deviation_services.comment(actor, deviation, TEXT)
    meeting = forum_services.create_meeting(leader, forum.pk, starts_at=timezone.now() + datetime.timedelta(days=7),
                                            location=PAYLOADS[0], minutes=TEXT)
    decision = forum_services.create_decision(leader, forum.pk, text=TEXT, decided_on=timezone.localdate())
    forum_services.create_measure(leader, decision, title=PAYLOADS[1], owner_organisation=world.org_b,
                                  due_on=timezone.localdate() + datetime.timedelta(days=30))
    return {"actor": actor, "leader": leader, "sip": sip, "deviation": deviation, "forum": forum,
            "meeting": meeting, "decision": decision, "invitation": response.invitation_id}


def assert_inert(page: Page, expected: list[str]) -> None:
    """No payload ran, and each expected string is on the page as text."""
    assert page.evaluate("window.__xss") is None, f"a payload ran on {page.url}"
    assert page.evaluate("window.__dialogs") == [], f"a dialog opened on {page.url}"
    body = page.locator("body")
    for text in expected:
        expect(body).to_contain_text(text)
    # Nothing from the payloads became an element.
    assert page.locator("iframe, svg[onload], img[onerror], b[onmouseover], a[href^='javascript:']").count() == 0


def test_free_text_is_shown_escaped_everywhere(page_without_csp, live_server, world, hostile):
    page = page_without_csp
    page.context.add_init_script(WATCH)
    page.on("dialog", lambda dialog: pytest.fail(f"dialog opened: {dialog.message}"))
    base = live_server.url
    sip = hostile["sip"].pk

    login(page, live_server, hostile["actor"])
    pages = [
        (f"/sip/{sip}/", PAYLOADS),
        (f"/sip/{sip}/utskrift/", PAYLOADS),
        (f"/sip/{sip}/historik/", [PAYLOADS[0]]),
        ("/sip/", [SHORT]),
        (f"/sip/{sip}/enkater/{hostile['invitation']}/svar/", PAYLOADS),
        (f"/avvikelser/{hostile['deviation'].pk}/", PAYLOADS),
        ("/avvikelser/", []),
    ]
    for path, expected in pages:
        visit(page, base + path)
        assert_inert(page, expected)

    # Forum pages, as the forum's processledare.
    page.context.clear_cookies()
    login(page, live_server, hostile["leader"])
    forum = hostile["forum"].pk
    for path, expected in [
        (f"/forum/{forum}/moten/{hostile['meeting'].pk}/", [PAYLOADS[0]]),
        (f"/forum/{forum}/beslut/{hostile['decision'].pk}/", PAYLOADS),
        (f"/forum/{forum}/atgarder/", [PAYLOADS[1]]),
        (f"/forum/{forum}/avvikelser/", []),
    ]:
        visit(page, base + path)
        assert_inert(page, expected)


# --- the policy in force ---------------------------------------------------------------------------------

COLLECT = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def test_main_pages_cause_no_policy_violations(page, live_server, world, hostile):
    """Without bypass_csp: the policy is enforced, and nothing the site's own pages do is blocked."""
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.context.add_init_script(COLLECT)
    base = live_server.url
    sip = hostile["sip"].pk

    def check(path):
        visit(page, base + path)
        page.wait_for_timeout(150)  # violations are reported asynchronously
        assert page.evaluate("window.__csp") == [], (path, page.evaluate("window.__csp"))

    check("/login/")
    login(page, live_server, hostile["actor"])
    for path in ["/", "/sip/", f"/sip/{sip}/", f"/sip/{sip}/utskrift/", f"/sip/{sip}/historik/",
                 f"/sip/{sip}/enkater/", "/sip/ny/", f"/avvikelser/{hostile['deviation'].pk}/", "/avvikelser/",
                 "/avvikelser/ny/", "/rapporter/delaktighet/", "/rutinkollen/"]:
        check(path)
    # htmx and the page scripts at work: open the goal form and let presence polling run once.
    visit(page, f"{base}/sip/{sip}/")
    page.locator("#mal").get_by_text("Lägg till mål").click()
    page.wait_for_timeout(300)
    assert page.evaluate("window.__csp") == []
    page.context.clear_cookies()
    login(page, live_server, hostile["leader"])
    check(f"/forum/{hostile['forum'].pk}/")
    violations = [line for line in console if "Content Security Policy" in line]
    assert violations == [], violations
    # The API docs render with Swagger UI run under script-src 'self'. A context of its own: Swagger UI is
    # a third-party page, outside the axe checks of the site's own pages.
    docs_context = page.context.browser.new_context()
    try:
        docs_context.add_cookies(page.context.cookies())
        docs_context.add_init_script(COLLECT)
        # Not the schema itself: generating it is slow, and a request still running when the test ends
        # would reach the server after the test database is gone.
        docs_context.route("**/api/v1/schema/**", lambda route: route.fulfill(
            status=200, content_type="application/json", body='{"openapi": "3.0.3", "info": {"title": "x", '
                                                                 '"version": "1"}, "paths": {}}'))
        docs = docs_context.new_page()
        docs.goto(f"{base}/api/v1/docs/", wait_until="load")
        # The bundle and drf-spectacular's init script (a file of its own) both ran.
        # (Polled from here: wait_for_function evaluates a string in the page, which the policy forbids.)
        ready = "typeof SwaggerUIBundle === 'function' && typeof ui === 'object'"  # a top-level const
        for _ in range(100):
            if docs.evaluate(ready):
                break
            docs.wait_for_timeout(100)
        assert docs.evaluate(ready), "Swagger UI did not start under the policy"
        docs.wait_for_timeout(150)
        assert docs.evaluate("window.__csp") == []
    finally:
        docs_context.close()
