"""Login lockout (django-axes), password hashing, cookies, CSRF, Content-Security-Policy and security headers."""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from organisations.models import Role

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()  # DRF's throttle counts live in the cache
    yield
    cache.clear()


def form_login(client, username, password, ip="10.0.0.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def token_login(client, username, password, ip="10.0.0.1"):
    return client.post("/api/v1/auth/token/", json.dumps({"username": username, "password": password}),
                       content_type="application/json", REMOTE_ADDR=ip)


# --- lockout -----------------------------------------------------------------------------------------------


def test_login_form_locks_a_username_and_ip_after_five_failures(world):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    client = Client()
    for _ in range(4):
        response = form_login(client, user.username, "fel-lösenord")
        assert response.status_code == 200
        assert "Fel användarnamn eller lösenord" in response.content.decode()
    locked = form_login(client, user.username, "fel-lösenord")
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "För många misslyckade inloggningar. Försök igen om 15 minuter." in text
    assert locked["Retry-After"] == str(15 * 60)
    # Locked even with the right password now, and no session is made.
    right = form_login(client, user.username, PASSWORD)
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    # The lock is for this username from this address only.
    assert form_login(Client(), user.username, PASSWORD, ip="10.0.0.2").status_code == 302
    other = world.users_a[Role.BEHANDLARE]
    assert form_login(Client(), other.username, PASSWORD).status_code == 302


def test_token_endpoint_locks_with_a_problem_and_shares_the_count_with_the_form(world):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    client = Client()
    for _ in range(3):
        assert token_login(client, user.username, "fel").status_code == 401
    for _ in range(2):
        form_login(client, user.username, "fel")
    response = token_login(client, user.username, PASSWORD)
    assert response.status_code == 429
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["type"] == "urn:samverkan:problem:locked_out"
    assert "15 minuter" in body["detail"]
    assert response["Retry-After"] == str(15 * 60)
    assert "token" not in body


def test_a_made_up_forwarded_for_address_does_not_escape_the_lock(world):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    for n in range(5):
        Client().post("/login/", {"username": user.username, "password": "fel"}, REMOTE_ADDR="10.0.0.1",
                      HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    response = Client().post("/login/", {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1",
                             HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert response.status_code == 429


def test_lock_ends_after_the_cool_off(world):
    from axes.models import AccessAttempt

    user = world.users_a[Role.SOCIALSEKRETERARE]
    for _ in range(5):
        form_login(Client(), user.username, "fel")
    assert token_login(Client(), user.username, PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))
    assert token_login(Client(), user.username, PASSWORD).status_code == 200


def test_a_successful_login_resets_the_count(world):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    for _ in range(4):
        form_login(Client(), user.username, "fel")
    assert form_login(Client(), user.username, PASSWORD).status_code == 302
    for _ in range(4):
        form_login(Client(), user.username, "fel")
    assert form_login(Client(), user.username, PASSWORD).status_code == 302


def test_lockout_stores_and_logs_no_password(world, caplog):
    from axes.models import AccessAttempt

    user = world.users_a[Role.SOCIALSEKRETERARE]
    for _ in range(5):
        form_login(Client(), user.username, "hemligt-fel-lösen")
    stored = json.dumps(list(AccessAttempt.objects.values()), default=str)
    assert "hemligt-fel-lösen" not in stored and "hemligt-fel-lösen" not in caplog.text


# --- rate limits (DRF throttles) are tested in tests/api/test_auth.py and tests/delaktighet/test_public_api.py


# --- passwords, cookies, CSRF ------------------------------------------------------------------------------


def test_passwords_are_hashed_with_argon2(settings, world):
    from django.contrib.auth.hashers import check_password, make_password

    from config import settings as configured

    settings.PASSWORD_HASHERS = configured.PASSWORD_HASHERS
    encoded = make_password("ett långt lösenord")
    assert encoded.startswith("argon2$argon2id$")
    assert check_password("ett långt lösenord", encoded)
    user = world.users_a[Role.SOCIALSEKRETERARE]
    user.set_password("nytt-lösenord-123")
    user.save()
    user.refresh_from_db()
    assert user.password.startswith("argon2$") and "nytt-lösenord-123" not in user.password


def _production_settings(*names):
    code = ("import json, django; django.setup(); from django.conf import settings as s; "
            f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}, default=str))")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SESSION_", "CSRF_", "SECURE_"))}
    env.update({"DEBUG": "0", "SECRET_KEY": "x" * 64, "DJANGO_SETTINGS_MODULE": "config.settings"})
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_cookies_are_secure_http_only_and_same_site():
    values = _production_settings("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
                                  "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SAMESITE", "SECURE_HSTS_SECONDS",
                                  "SECURE_SSL_REDIRECT")
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] == "Lax" and values["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert values["SECURE_HSTS_SECONDS"] >= 31536000 and values["SECURE_SSL_REDIRECT"] is True


def test_session_cookie_is_http_only_on_login(world):
    client = Client()
    response = form_login(client, world.users_a[Role.SOCIALSEKRETERARE].username, PASSWORD)
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_forms_need_a_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    user = world.users_a[Role.SOCIALSEKRETERARE]
    assert client.post("/login/", {"username": user.username, "password": PASSWORD}).status_code == 403
    client.force_login(user)
    assert client.post("/logout/").status_code == 403
    page = client.get("/sip/")
    assert page.status_code == 200
    token = page.cookies.get("csrftoken") or client.cookies["csrftoken"]
    assert client.post("/logout/", {"csrfmiddlewaretoken": token.value}).status_code == 302


# --- Content-Security-Policy and other headers -------------------------------------------------------------


def _directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.parametrize("path", ["/login/", "/api/v1/me/", "/no-such-page/", "/healthz"])
def test_every_answer_has_the_policy_and_the_security_headers(client, path):
    response = client.get(path)
    csp = _directives(response["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"][0] == "'self'"
    assert csp["default-src"] == ["'self'"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]


def test_signed_in_pages_have_the_policy(world):
    client = Client()
    client.force_login(world.users_a[Role.SOCIALSEKRETERARE])
    for path in ("/", "/sip/", "/avvikelser/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]


def test_api_docs_work_under_the_policy(world):
    client = Client()
    client.force_login(world.users_a[Role.SOCIALSEKRETERARE])
    swagger = client.get("/api/v1/docs/")
    assert swagger.status_code == 200
    html = swagger.content.decode()
    assert "<style" not in html and not re.search(r"<script>\s*\S", html)
    assert "'unsafe-inline'" not in swagger["Content-Security-Policy"]
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
    redoc = client.get("/api/v1/redoc/")
    assert redoc.status_code == 200 and "fonts.googleapis.com" not in redoc.content.decode()
    csp = _directives(redoc["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"] and "'unsafe-inline'" in csp["style-src"]


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> block"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"\shx-on", re.I), "hx-on handler"),
]


def _pdf_templates() -> set[str]:
    """Templates handed to frontend.pdf.render_pdf: xhtml2pdf fetches nothing, so their CSS is inline (a page
    also shown in the browser, like sip/print.html, links its style sheet there instead; tested below)."""
    names = set()
    for source in ROOT.glob("*/**/*.py"):
        if ".venv" in source.parts or "tests" in source.parts:
            continue
        names.update(re.findall(r"render_pdf\(\s*[\"']([^\"']+\.html)", source.read_text(encoding="utf-8")))
    return names


def test_templates_have_no_inline_script_style_or_handlers():
    found = []
    allowed = {(name, "<style> block") for name in _pdf_templates()}
    assert ("sip/print.html", "<style> block") in allowed
    for template in sorted((ROOT / "frontend" / "templates").rglob("*.html")):
        name = template.relative_to(ROOT / "frontend" / "templates").as_posix()
        text = template.read_text(encoding="utf-8")
        text = re.sub(r"{#.*?#}|{% comment %}.*?{% endcomment %}", "", text, flags=re.S)
        for pattern, what in INLINE:
            if pattern.search(text) and (name, what) not in allowed:
                found.append(f"{name}: {what}")
    assert not found, found


def test_the_print_view_links_its_style_sheet(world, plan):
    client = Client()
    client.force_login(world.users_a[Role.SOCIALSEKRETERARE])
    html = client.get(f"/sip/{plan.sip.pk}/utskrift/").content.decode()
    assert "<style" not in html and "frontend/print.css" in html


def test_htmx_adds_no_indicator_styles():
    base = (ROOT / "frontend" / "templates" / "base.html").read_text(encoding="utf-8")
    config = json.loads(re.search(r"name=\"htmx-config\" content='([^']+)'", base).group(1))
    assert config["includeIndicatorStyles"] is False and config["allowEval"] is False
