"""Project-wide guarantees: schema, migrations, deployment settings, translations."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, env=None):
    # The test run relaxes async safety for Playwright; a deployment never does.
    base = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
        env={**base, **(env or {})}, timeout=120, check=False,
    )


def test_openapi_schema_has_no_warnings(tmp_path):
    result = run_manage("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert result.returncode == 0, result.stderr
    generated = (tmp_path / "schema.yaml").read_text()
    assert "/api/v1/units/" in generated
    committed = (ROOT / "docs" / "openapi.yaml").read_text()
    assert generated == committed, "docs/openapi.yaml is stale: run `make schema` and commit it"


@pytest.mark.django_db
def test_no_missing_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_production_settings_pass_check_deploy():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING",
                        env={"DEBUG": "0", "SECRET_KEY": "x" * 64 + "-production-secret-key-for-check",
                             "ALLOWED_HOSTS": "samverkan.example.se", "SECURE_SSL_REDIRECT": "1",
                             "SESSION_COOKIE_SECURE": "1", "CSRF_COOKIE_SECURE": "1"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_missing_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DEBUG"] = "0"
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True,
                            text=True, env=env, timeout=60, check=False)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_argon2_is_the_password_hasher():
    from django.conf import settings

    # The test suite swaps in a fast hasher; the configured first hasher is what production uses.
    from config import settings as configured

    assert configured.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert settings.LANGUAGE_CODE == "sv"


@pytest.mark.django_db
def test_login_page_is_swedish_by_default_and_english_on_request(client):
    response = client.get("/login/")
    assert 'lang="sv"' in response.content.decode()
    assert "Logga in" in response.content.decode()
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert 'lang="en"' in response.content.decode()
    assert "Log in" in response.content.decode()


def test_env_helpers(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from config.env import env_bool, env_int, env_list

    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_INT", "7")
    monkeypatch.setenv("X_LIST", "a, b,,c")
    assert env_bool("X_BOOL") is True
    assert env_int("X_INT", 1) == 7
    assert env_list("X_LIST", []) == ["a", "b", "c"]
    monkeypatch.setenv("X_BOOL", "kanske")
    with pytest.raises(ImproperlyConfigured):
        env_bool("X_BOOL")
