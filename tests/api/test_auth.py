import pytest
from django.core.cache import cache

from organisations.models import AuditAction, AuditEntry, Role
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_throttle():
    cache.clear()
    yield
    cache.clear()


def test_token_login_and_use(world, client):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    response = client.post("/api/v1/auth/token/", {"username": user.username, "password": "correct-horse-battery"},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    assert len(token) >= 32
    me = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200
    body = me.json()
    assert body["username"] == user.username
    assert body["memberships"][0]["organisation_name"] == world.org_a.name
    assert body["memberships"][0]["unit_name"] == world.unit_a.name
    assert body["memberships"][0]["role_display"] == "Socialsekreterare"
    assert AuditEntry.objects.filter(actor=user, action=AuditAction.LOGIN).exists()


def test_tokens_are_stored_hashed(world, client):
    from knox.models import AuthToken

    user = world.users_a[Role.SOCIALSEKRETERARE]
    token = client.post("/api/v1/auth/token/", {"username": user.username, "password": "correct-horse-battery"},
                        content_type="application/json").json()["token"]
    stored = AuthToken.objects.get(user=user)
    assert token not in {stored.digest, stored.token_key}


def test_wrong_password_is_401_problem(world, client):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    response = client.post("/api/v1/auth/token/", {"username": user.username, "password": "fel"},
                           content_type="application/json")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")


def test_missing_fields_are_field_errors(client, db):
    response = client.post("/api/v1/auth/token/", {}, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"username", "password"}


def test_token_endpoint_is_rate_limited(world, client, settings):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    statuses = [
        client.post("/api/v1/auth/token/", {"username": user.username, "password": "fel"},
                    content_type="application/json").status_code
        for _ in range(12)
    ]
    assert statuses[-1] == 429
    assert 401 in statuses


def test_invalid_token_is_401(client, db):
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION="Token " + "a" * 64)
    assert response.status_code == 401


def test_session_auth_requires_csrf(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users_a[Role.ORG_ADMIN])
    response = client.post("/api/v1/units/", {"organisation": world.org_a.pk, "name": "Utan CSRF"},
                           content_type="application/json")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")
    assert client.get("/api/v1/me/").status_code == 200


def test_membership_of_deactivated_unit_gives_no_access(world):
    from organisations import services

    admin = world.users_a[Role.ORG_ADMIN]
    services.update_unit(admin, world.unit_a, active=False)
    response = client_for(world.users_a[Role.SOCIALSEKRETERARE].__class__.objects.get(
        pk=world.users_a[Role.SOCIALSEKRETERARE].pk)).get("/api/v1/units/")
    assert response.status_code == 403
