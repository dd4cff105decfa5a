import pytest

from organisations.models import Role
from tests.factories import UnitFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def test_orphan_permission_cleanup_runs():
    from organisations.tasks import clean_orphan_object_permissions

    assert clean_orphan_object_permissions.delay().get() == 0


def test_beat_schedule_names_real_tasks():
    from django.conf import settings

    from config.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]


def test_oidc_backend_refuses_users_without_membership(settings):
    from organisations.oidc import MembershipOIDCBackend

    settings.OIDC_OP_TOKEN_ENDPOINT = "http://127.0.0.1:1/token"
    settings.OIDC_OP_USER_ENDPOINT = "http://127.0.0.1:1/userinfo"
    settings.OIDC_RP_CLIENT_ID = "samverkan"
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    settings.OIDC_RP_SIGN_ALGO = "HS256"
    backend = MembershipOIDCBackend()
    staff = member(UnitFactory(), Role.BEHANDLARE, username="siths-123")
    nobody = UserFactory(username="siths-456")
    assert list(backend.filter_users_by_claims({"sub": "siths-123"})) == [staff]
    assert backend.create_user({"sub": "new"}) is None

    backend.get_userinfo = lambda access_token, id_token, payload: {"sub": payload["sub"]}
    backend.verify_claims = lambda claims: True
    assert backend.get_or_create_user("at", "it", {"sub": "siths-123"}) == staff
    assert backend.get_or_create_user("at", "it", {"sub": nobody.username}) is None
    assert backend.get_or_create_user("at", "it", {"sub": "unknown"}) is None
