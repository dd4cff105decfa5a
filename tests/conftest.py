import os
import shutil
from dataclasses import dataclass, field

import pytest
from django.conf import settings as django_settings
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
def _fresh_cache():
    # Presence, pattern denominators and throttles live in the cache, keyed by ids the next test's database reuses.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    # A request with another language (a cookie, Accept-Language) leaves it active in the thread after the response,
    # as LocaleMiddleware does; the next test must start in the default language, as a new request would.
    from django.utils import translation

    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _no_denominator_cache(settings):
    # Tests change plans between two pattern views; the cache has its own test (tests/avvikelser).
    settings.PATTERN_DENOMINATOR_CACHE_SECONDS = 0


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


@dataclass
class Plan:
    """A plan initiated by organisation A (unit_a) with unit_b of organisation B taking part, and no
    consent for B yet: A's staff see it, B's staff do not."""

    sip: object
    person: object
    goal: object
    action: object
    meeting: object


PLAN_PERSONNUMMER = "811218-9876"


def make_plan(world: World) -> Plan:
    if getattr(world, "_plan", None) is not None:
        return world._plan
    import datetime

    from django.utils import timezone

    from sip import services as sip_services
    from sip.models import ParticipantKind

    actor = world.users_a[Role.SOCIALSEKRETERARE]
    person, _created = sip_services.find_or_register_person(
        actor, identifier=PLAN_PERSONNUMMER, first_name="Kim", last_name="Andersson", gender="kvinna")
    sip = sip_services.create_sip(actor, person=person, initiating_unit=world.unit_a, units=[world.unit_b])
    goal = sip_services.create_goal(actor, sip, text="Ett eget boende", kind="own")
    action = sip_services.create_action(actor, sip, title="Boendestöd", responsible_unit=world.unit_a, goal=goal,
                                        starts_on=timezone.localdate(),
                                        ends_on=timezone.localdate() + datetime.timedelta(days=30))
    start = timezone.now() + datetime.timedelta(days=3)
    meeting = sip_services.create_meeting(actor, sip, kind="sip", starts_at=start,
                                          ends_at=start + datetime.timedelta(hours=1), location="Rum 3",
                                          participants=[{"kind": ParticipantKind.PERSON},
                                                        {"kind": ParticipantKind.UNIT, "unit": world.unit_a}])
    world._plan = Plan(sip=sip, person=person, goal=goal, action=action, meeting=meeting)
    return world._plan


@pytest.fixture
def plan(world) -> Plan:
    return make_plan(world)


@pytest.fixture(autouse=True)
def _default_templates_after_flush(request):
    """Transactional tests flush every table between tests, data migrations included: put the default
    questionnaires and deviation categories back so each such test starts like a migrated database."""
    if not ({"transactional_db", "live_server"} & set(request.fixturenames)):
        yield
        return
    request.getfixturevalue("transactional_db")
    from importlib import import_module

    from django.apps import apps

    import_module("sip.delaktighet.migrations.0002_default_templates").forwards(apps, None)
    import_module("avvikelser.migrations.0002_default_categories").forwards(apps, None)
    yield
