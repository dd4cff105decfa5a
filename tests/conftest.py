import os
import shutil
from dataclasses import dataclass, field

import pytest
from rest_framework.test import APIClient

from organisations.models import Organisation, Role, Unit, User
from tests.factories import OrganisationFactory, UnitFactory, UserFactory, member


@pytest.fixture(autouse=True)
def _eager_tasks(settings):
    # Unit and API tests run tasks inline; broker tests configure their own worker.
    from config.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Where CI provides PostgreSQL, a broker and chromium, a skipped test is a failure."""
    if not os.environ.get("SAMVERKAN_FORBID_SKIPS"):
        return
    skipped = terminalreporter.stats.get("skipped", [])
    if skipped:
        terminalreporter.write_line(f"SAMVERKAN_FORBID_SKIPS: {len(skipped)} test(s) skipped in CI", red=True)
        config._samverkan_skips = len(skipped)


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("SAMVERKAN_FORBID_SKIPS") and session.config.pluginmanager.get_plugin("terminalreporter"):
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter.stats.get("skipped") and exitstatus == 0:
            session.exitstatus = 1


@pytest.fixture(autouse=True)
def _plain_static(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Argon2 is the production hasher (tested in test_settings); tests hash hundreds of passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api_client():
    return APIClient()


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@dataclass
class World:
    """Two organisations (A: a kommun, B: a region), each with a unit tree and a user per role."""

    org_a: Organisation
    org_b: Organisation
    unit_a: Unit
    unit_a2: Unit
    unit_b: Unit
    users_a: dict[str, User] = field(default_factory=dict)
    users_b: dict[str, User] = field(default_factory=dict)
    outsider: User | None = None  # signed in, no membership anywhere


@pytest.fixture
def world(db) -> World:
    org_a = OrganisationFactory(name="Malmö stad (test)")
    org_b = OrganisationFactory(name="Region Sörmland (test)", kind="region")
    top_a = UnitFactory(organisation=org_a, name="Socialförvaltningen", kind="forvaltning")
    unit_a = UnitFactory(organisation=org_a, name="Vuxen/missbruk", parent=top_a)
    unit_a2 = UnitFactory(organisation=org_a, name="Socialpsykiatri", parent=top_a)
    unit_b = UnitFactory(organisation=org_b, name="Beroendecentrum")
    w = World(org_a=org_a, org_b=org_b, unit_a=unit_a, unit_a2=unit_a2, unit_b=unit_b)
    for role in Role.values:
        w.users_a[role] = member(unit_a, role, username=f"a_{role}")
        w.users_b[role] = member(unit_b, role, username=f"b_{role}")
    w.outsider = UserFactory(username="outsider")
    return w


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def requires_postgres():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://… (.ci/run does)")
