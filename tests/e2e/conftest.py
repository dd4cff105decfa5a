"""Browser tests: Playwright (sync API) drives Debian's chromium against pytest-django's live server.

Every page a test visits gets an axe-core run, and a violation with impact "serious" or "critical" fails
the test. Navigate with the helpers below, which check each page as soon as it has loaded:

    visit(page, url)                  # page.goto + axe
    with navigation(page):            # a click or submit that loads a new document, then axe
        page.get_by_role("button", name="Logga in").click()
    login(page, live_server, user)    # the Swedish login form, then axe on the page it lands on
    other = new_page()                # a second browser (own cookies) for a second user, tracked the same way

The `page` fixture counts every document the browser loads; at teardown it checks the page still open and
fails the test if an earlier page was loaded without an axe run (a navigation outside the helpers).
"""

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import override_settings
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import chromium_path

# Playwright's sync API runs an asyncio event loop in this thread, which trips Django's async-safety check
# for the ORM calls the tests make. pyproject's pytest `env` sets this; keep it working without pytest-env.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

HERE = Path(__file__).resolve().parent
SKIP_REASON = "Debian chromium not found: apt-get install chromium (.ci/run installs it)"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory
BLOCKING_IMPACTS = ("critical", "serious")
NAVIGATION_TIMEOUT_MS = 10_000


@pytest.hookimpl(tryfirst=True)  # before `-m` deselection sees the items
def pytest_collection_modifyitems(config, items):
    missing = chromium_path() is None
    for item in items:
        if HERE not in Path(item.path).resolve().parents:
            continue
        item.add_marker(pytest.mark.browser)
        if missing:
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    # The page fixture skips its teardown check when the test itself already failed.
    setattr(item, f"_e2e_report_{report.when}", report)
    return report


# --- Server and browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _plain_http():
    """The live server speaks plain HTTP, and DEBUG is off in tests: switch off the HTTPS-only settings.

    SecurityMiddleware reads SECURE_SSL_REDIRECT once, when the server thread builds its handler, so this has
    to be in place before the live server starts (hence the live_server override below).
    """
    with override_settings(
        SECURE_SSL_REDIRECT=False,
        SESSION_COOKIE_SECURE=False,
        CSRF_COOKIE_SECURE=False,
        SECURE_HSTS_SECONDS=0,
    ):
        yield


@pytest.fixture(scope="session")
def live_server(_plain_http, live_server):
    """pytest-django's live server, started with the plain-HTTP settings above."""
    return live_server


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        pytest.skip(SKIP_REASON)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# --- Accessibility --------------------------------------------------------------------------------------

_axe = Axe()


@dataclass
class _Tracker:
    """The documents a page loaded, and which of them axe has checked."""

    loaded: list[str] = field(default_factory=list)  # URL of every document loaded in the main frame
    checked: dict[float, str] = field(default_factory=dict)  # performance.timeOrigin → URL, one per document


_trackers: dict[Page, _Tracker] = {}


def _document_id(page: Page) -> float:
    # Every document gets its own time origin, so it tells a reload of the same URL from the page before it.
    return page.evaluate("performance.timeOrigin")


def axe_check(page: Page) -> None:
    """Run axe-core on the page as it is now; fail on any serious or critical violation."""
    page.wait_for_load_state("load")
    results = _axe.run(page)
    tracker = _trackers.get(page)
    if tracker is not None:
        tracker.checked[_document_id(page)] = page.url
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        lines = [f"axe-core: {len(blocking)} serious/critical violation(s) on {page.url}"]
        for violation in blocking:
            lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
            for node in violation["nodes"][:3]:
                lines.append(f"    {node['target']}")
            if len(violation["nodes"]) > 3:
                lines.append(f"    … and {len(violation['nodes']) - 3} more")
        pytest.fail("\n".join(lines), pytrace=False)


def visit(page: Page, url: str):
    """Open `url` (following redirects) and check the page it ends on."""
    response = page.goto(url, wait_until="load")
    axe_check(page)
    return response


@contextmanager
def navigation(page: Page) -> Iterator[None]:
    """Wrap an action that loads a new document; the new page is checked once it has loaded."""
    with page.expect_navigation(wait_until="load", timeout=NAVIGATION_TIMEOUT_MS):
        yield
    axe_check(page)


def login(page: Page, live_server, user, password: str = PASSWORD) -> None:
    """Sign in through the Swedish login form; `user` is a User or a username."""
    username = getattr(user, "username", user)
    visit(page, f"{live_server.url}/login/")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(password)
    with navigation(page):
        page.get_by_role("button", name="Logga in").click()


@contextmanager
def _tracked_page(browser: Browser, request, **context_options) -> Iterator[Page]:
    """A page in a browser context of its own (own cookies: its own signed-in user), with the axe tracking.

    The site's Content-Security-Policy is enforced (axe is injected through the DevTools protocol, which the
    policy does not block); `bypass_csp=True` switches it off where a test must see what escaping alone does.
    """
    context = browser.new_context(locale="sv-SE", **context_options)
    context.set_default_timeout(NAVIGATION_TIMEOUT_MS)
    page = context.new_page()
    tracker = _trackers[page] = _Tracker()
    page.on("load", lambda: tracker.loaded.append(page.url))
    try:
        yield page
        call = getattr(request.node, "_e2e_report_call", None)
        if call is not None and call.passed and not page.is_closed():
            _check_every_page_was_checked(page, tracker)
    finally:
        _trackers.pop(page, None)
        context.close()


@pytest.fixture
def page(browser: Browser, live_server, transactional_db, request) -> Iterator[Page]:
    with _tracked_page(browser, request) as page:
        yield page


@pytest.fixture
def page_without_csp(browser: Browser, live_server, transactional_db, request) -> Iterator[Page]:
    """A page whose browser ignores the Content-Security-Policy: for the XSS tests, so that escaping is what
    keeps a payload from running, not the policy behind it (tests/e2e/test_xss.py)."""
    with _tracked_page(browser, request, bypass_csp=True) as page:
        yield page


@pytest.fixture
def new_page(browser: Browser, live_server, transactional_db, request) -> Iterator[Callable[[], Page]]:
    """Open another browser (a separate context) for a second user: `other = new_page()`. Each page it opens
    gets the same every-page-checked-with-axe teardown as `page`."""
    with ExitStack() as stack:
        yield lambda: stack.enter_context(_tracked_page(browser, request))


def _check_every_page_was_checked(page: Page, tracker: _Tracker) -> None:
    page.wait_for_load_state("load")  # also lets any pending "load" event reach the handler
    if page.url != "about:blank" and _document_id(page) not in tracker.checked:
        axe_check(page)
    loaded = [url for url in tracker.loaded if url != "about:blank"]
    if len(tracker.checked) < len(loaded):
        pytest.fail(
            f"{len(loaded)} page(s) loaded but only {len(tracker.checked)} checked with axe; navigate with "
            f"visit()/navigation()/login() from tests/e2e/conftest.py.\nLoaded: {loaded}\n"
            f"Checked: {list(tracker.checked.values())}",
            pytrace=False,
        )
