"""OpenID Connect login against a real provider on loopback (tests/oidc/provider.mjs): the whole code flow over
HTTP between the live app and the provider, RP-initiated logout, refusal of accounts without a membership, and
id_tokens that are forged, tampered with, expired or meant for someone else.
"""

from __future__ import annotations

import base64
import html
import json
import re
import time
from urllib.parse import urljoin

import pytest
import requests
from django.core.exceptions import SuspiciousOperation

from organisations.models import Role
from tests.factories import UnitFactory, UserFactory, member

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD_AT_PROVIDER = "vad-som-helst"  # the development interaction takes any password


def _form(page: requests.Response) -> tuple[str, dict]:
    """The first form on a page: absolute action and its (hidden) inputs."""
    form = re.search(r"<form[^>]*action=\"([^\"]*)\"[^>]*>(.*?)</form>", page.text, re.S)
    assert form, page.text[:2000]
    fields = {name: html.unescape(value) for name, value in
              re.findall(r"<input[^>]*name=\"([^\"]+)\"[^>]*value=\"([^\"]*)\"", form.group(2))}
    return urljoin(page.url, html.unescape(form.group(1))), fields


def sign_in(session: requests.Session, live_server, login: str) -> requests.Response:
    """Start at the app's login page, sign in at the provider, consent, and land back in the app."""
    page = session.get(f"{live_server.url}/login/")
    assert "Logga in med SITHS eller BankID" in page.text
    page = session.get(f"{live_server.url}/oidc/authenticate/")
    assert page.url.startswith("http://127.0.0.1") and "/interaction/" in page.url, page.url
    action, fields = _form(page)
    page = session.post(action, data={**fields, "prompt": "login", "login": login, "password": PASSWORD_AT_PROVIDER})
    if "/interaction/" in page.url:  # the consent step
        action, fields = _form(page)
        page = session.post(action, data={**fields, "prompt": "consent"})
    return page


@pytest.fixture
def people(db):
    staff = member(UnitFactory(), Role.SOCIALSEKRETERARE, username="siths-staff", first_name="Sam",
                   last_name="Personal")
    nobody = UserFactory(username="siths-nobody", first_name="Ingen", last_name="Medlem")
    return staff, nobody


def test_login_through_the_provider_lands_on_the_start_page_as_the_mapped_user(oidc_settings, live_server, people):
    staff, _nobody = people
    session = requests.Session()
    page = sign_in(session, live_server, "siths-staff")
    assert page.status_code == 200
    assert page.url == f"{live_server.url}/"
    assert "Sam Personal" in page.text and "Logga ut" in page.text
    me = session.get(f"{live_server.url}/api/v1/me/")
    assert me.json()["username"] == staff.username


def test_logout_ends_the_app_session_and_the_provider_session(oidc_settings, live_server, people, oidc_provider):
    session = requests.Session()
    sign_in(session, live_server, "siths-staff")
    token = session.cookies.get("csrftoken")
    page = session.post(f"{live_server.url}/logout/", data={"csrfmiddlewaretoken": token},
                        headers={"Referer": f"{live_server.url}/"})
    # RP-initiated logout: the provider (named by client_id; the id_token, which names the person, is never put in
    # a URL) asks to confirm, then sends the browser back to the login page.
    assert page.url.startswith(oidc_provider.discovery["end_session_endpoint"]), page.url
    assert all("id_token_hint" not in r.url and "eyJ" not in r.url for r in [*page.history, page])
    assert any("client_id=samverkan" in r.headers.get("Location", "") for r in page.history)
    action, fields = _form(page)
    page = session.post(action, data={**fields, "logout": "yes"})
    assert page.url == f"{live_server.url}/login/"
    assert session.get(f"{live_server.url}/api/v1/me/").status_code in (401, 403)
    assert session.get(f"{live_server.url}/", allow_redirects=False).status_code == 302
    # The provider asks for a login again: its session is gone too.
    again = session.get(f"{live_server.url}/oidc/authenticate/")
    assert "/interaction/" in again.url and 'name="login"' in again.text


def test_a_person_without_a_membership_is_refused_with_a_swedish_message(oidc_settings, live_server, people):
    session = requests.Session()
    page = sign_in(session, live_server, "siths-nobody")
    assert page.url.startswith(f"{live_server.url}/login/")
    assert "Du har inget aktivt uppdrag i Samverkan och kan inte logga in." in html.unescape(page.text)
    assert session.get(f"{live_server.url}/api/v1/me/").status_code in (401, 403)


# --- id_token checks against the real provider's JWKS ------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(claims: dict, key, *, kid: str, alg: str = "RS256") -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signing_input = f"{_b64(json.dumps({'alg': alg, 'kid': kid, 'typ': 'JWT'}).encode())}." \
                    f"{_b64(json.dumps(claims).encode())}"
    if alg == "none":
        return signing_input + "."
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


@pytest.fixture
def claims(oidc_provider):
    now = int(time.time())
    return {"iss": oidc_provider.issuer, "sub": "siths-staff", "aud": "samverkan", "iat": now, "exp": now + 300,
            "nonce": "n-0S6_WzA2Mj"}


def _verify(token, nonce="n-0S6_WzA2Mj"):
    from organisations.oidc import MembershipOIDCBackend

    return MembershipOIDCBackend().verify_token(token, nonce=nonce)


def test_a_token_signed_by_the_provider_is_accepted(oidc_settings, oidc_provider, claims):
    assert _verify(_jwt(claims, oidc_provider.private_key, kid=oidc_provider.kid))["sub"] == "siths-staff"


def test_forged_tampered_expired_and_misdirected_tokens_are_refused(oidc_settings, oidc_provider, claims):
    from cryptography.hazmat.primitives.asymmetric import rsa

    key, kid = oidc_provider.private_key, oidc_provider.kid
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    good = _jwt(claims, key, kid=kid)
    header, _payload, signature = good.split(".")
    tampered = f"{header}.{_b64(json.dumps({**claims, 'sub': 'siths-admin'}).encode())}.{signature}"
    now = int(time.time())
    refused = {
        "signed with another key": _jwt(claims, other_key, kid=kid),
        "tampered payload": tampered,
        "alg none": _jwt(claims, None, kid=kid, alg="none"),
        "expired": _jwt({**claims, "iat": now - 3600, "exp": now - 600}, key, kid=kid),
        "no expiry": _jwt({k: v for k, v in claims.items() if k != "exp"}, key, kid=kid),
        "other audience": _jwt({**claims, "aud": "another-app"}, key, kid=kid),
        "other issuer": _jwt({**claims, "iss": "http://127.0.0.1:1"}, key, kid=kid),
        "issued in the future": _jwt({**claims, "iat": now + 3600, "exp": now + 7200}, key, kid=kid),
    }
    for what, token in refused.items():
        with pytest.raises(SuspiciousOperation):
            _verify(token)
            pytest.fail(f"accepted: {what}")
    with pytest.raises(SuspiciousOperation):
        _verify(good, nonce="another-nonce")  # a replayed token from another login attempt


def test_a_real_id_token_from_the_flow_verifies_and_a_stale_copy_does_not(oidc_settings, live_server, people,
                                                                        oidc_provider, monkeypatch):
    from django.contrib.sessions.models import Session

    session = requests.Session()
    sign_in(session, live_server, "siths-staff")
    stored = Session.objects.get(session_key=session.cookies["sessionid"]).get_decoded()
    id_token = stored["oidc_id_token"]
    payload = json.loads(base64.urlsafe_b64decode(id_token.split(".")[1] + "=="))
    assert payload["iss"] == oidc_provider.issuer and payload["aud"] == "samverkan"
    assert _verify(id_token, nonce=payload["nonce"])["sub"] == "siths-staff"
    later = payload["exp"] + 120
    monkeypatch.setattr("organisations.oidc.time.time", lambda: later)
    with pytest.raises(SuspiciousOperation):
        _verify(id_token, nonce=payload["nonce"])
