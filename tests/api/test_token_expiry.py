"""API tokens: one query per authenticated request; expired tokens are refused and purged."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken

from organisations.models import Role
from organisations.tasks import purge_expired_tokens

pytestmark = pytest.mark.django_db


def test_token_auth_costs_one_query_however_many_tokens(world, client):
    from api.authentication import TokenAuthentication

    user = world.users_a[Role.BEHANDLARE]
    _instance, token = AuthToken.objects.create(user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            found, _auth = TokenAuthentication().authenticate_credentials(token.encode())
        assert found == user
        return len(ctx.captured_queries)

    alone = queries()
    for _ in range(5):
        AuthToken.objects.create(user)
    assert alone == queries() == 1


def test_expired_token_is_refused_and_deleted(world, client):
    user = world.users_a[Role.BEHANDLARE]
    instance, token = AuthToken.objects.create(user, expiry=datetime.timedelta(hours=1))
    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 401
    assert not AuthToken.objects.filter(pk=instance.pk).exists()


def test_purge_removes_only_expired_tokens(world):
    user = world.users_a[Role.BEHANDLARE]
    old, _ = AuthToken.objects.create(user)
    live, _ = AuthToken.objects.create(user)
    AuthToken.objects.filter(pk=old.pk).update(expiry=timezone.now() - datetime.timedelta(minutes=1))
    assert purge_expired_tokens() == 1
    assert list(AuthToken.objects.filter(user=user).values_list("pk", flat=True)) == [live.pk]
