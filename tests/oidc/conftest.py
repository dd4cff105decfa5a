"""A real OpenID provider (node-oidc-provider, tests/oidc/provider.mjs) on a free loopback port, and the app's
OIDC settings pointing at it. `npm ci` runs once and is cached in tests/oidc/node_modules (git-ignored).

Skips with a reason when node or npm is missing; CI has both (.ci/run), and there nothing may skip.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from django.test import override_settings

HERE = Path(__file__).resolve().parent
CLIENT_ID = "samverkan"
CLIENT_SECRET = "samverkan-test-secret-0123456789abcdef"
SKIP_REASON = "needs node (>= 20) and npm for the OpenID provider in tests/oidc: apt-get install nodejs npm"


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class Provider:
    issuer: str
    discovery: dict
    private_key: object  # cryptography RSA key the provider signs with
    kid: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def _plain_http():
    with override_settings(SECURE_SSL_REDIRECT=False, SESSION_COOKIE_SECURE=False, CSRF_COOKIE_SECURE=False,
                           SECURE_HSTS_SECONDS=0):
        yield


@pytest.fixture(scope="session")
def live_server(_plain_http, live_server):
    return live_server


@pytest.fixture(scope="session")
def oidc_provider(live_server, tmp_path_factory):
    from cryptography.hazmat.primitives.asymmetric import rsa

    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip(SKIP_REASON)
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True,
                       timeout=300)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.private_numbers()
    kid = "samverkan-test-key"
    jwk = {"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": _b64(numbers.public_numbers.n),
           "e": _b64(numbers.public_numbers.e), "d": _b64(numbers.d), "p": _b64(numbers.p), "q": _b64(numbers.q),
           "dp": _b64(numbers.dmp1), "dq": _b64(numbers.dmq1), "qi": _b64(numbers.iqmp)}
    jwks_file = tmp_path_factory.mktemp("oidc") / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [jwk]}))
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [node, "provider.mjs", str(port), f"{live_server.url}/oidc/callback/", f"{live_server.url}/login/"],
        cwd=HERE, env={**os.environ, "PROVIDER_JWKS_FILE": str(jwks_file)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        discovery = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                discovery = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2).json()
                break
            except requests.RequestException:
                time.sleep(0.2)
        if discovery is None:
            process.kill()
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"the OpenID provider did not start:\n{output}")
        yield Provider(issuer=issuer, discovery=discovery, private_key=key, kid=kid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def oidc_settings(settings, oidc_provider, live_server):
    """The app configured as in production with OIDC_ENABLED (config/settings.py), against the provider."""
    d = oidc_provider.discovery
    settings.OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = d["authorization_endpoint"]
    settings.OIDC_OP_TOKEN_ENDPOINT = d["token_endpoint"]
    settings.OIDC_OP_USER_ENDPOINT = d["userinfo_endpoint"]
    settings.OIDC_OP_JWKS_ENDPOINT = d["jwks_uri"]
    settings.OIDC_OP_LOGOUT_ENDPOINT = d["end_session_endpoint"]
    settings.OIDC_OP_ISSUER = d["issuer"]
    settings.OIDC_STORE_ID_TOKEN = True
    settings.LOGIN_REDIRECT_URL_FAILURE = "/login/"
    settings.AUTHENTICATION_BACKENDS = ["organisations.oidc.MembershipOIDCBackend", *settings.AUTHENTICATION_BACKENDS]
    settings.ROOT_URLCONF = "tests.oidc.urls"
    return settings
