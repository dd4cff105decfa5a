"""The public answer endpoint: no account, token only, one answer, 410 when used or expired."""

import datetime
import logging

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from organisations.models import Role
from sip.delaktighet.models import Invitation, Response
from tests.conftest import client_for
from tests.delaktighet.test_invitations import held_meeting, link_from, token_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.SMS_SENDER = "sip.delaktighet.senders.MemorySmsSender"
    cache.clear()


@pytest.fixture
def token(world, plan, django_capture_on_commit_callbacks):
    held_meeting(world, plan, django_capture_on_commit_callbacks)
    return token_of(link_from(mail.outbox[0].body))


def test_get_then_answer_once(client, token):
    url = f"/api/v1/public/delaktighet/{token}/"
    body = client.get(url).json()
    assert body["title"] and len(body["items"]) == 10
    assert client.post(url, {"answers": {"respekt": 6, "lyssnad": "5"}, "share_with_staff": True},
                       content_type="application/json").status_code == 201
    again = client.post(url, {"answers": {"respekt": 1}}, content_type="application/json")
    assert again.status_code == 410
    assert again["Content-Type"].startswith("application/problem+json")
    assert client.get(url).status_code == 410
    assert Response.objects.count() == 1


def test_unknown_token_is_404_and_expired_is_410(client, token):
    assert client.get("/api/v1/public/delaktighet/" + "x" * 32 + "/").status_code == 404
    Invitation.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    assert client.get(f"/api/v1/public/delaktighet/{token}/").status_code == 410


def test_bad_answers_are_field_errors(client, token):
    response = client.post(f"/api/v1/public/delaktighet/{token}/", {"answers": {"respekt": 7}, "colour": "red"},
                           content_type="application/json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "colour" in errors or "respekt" in errors


def test_decline(client, token):
    url = f"/api/v1/public/delaktighet/{token}/"
    assert client.post(url, {"decline": True}, content_type="application/json").status_code == 204
    assert client.get(url).status_code == 410


def test_public_endpoint_is_rate_limited(client, token, settings):
    statuses = [client.get(f"/api/v1/public/delaktighet/{'y' * 32}{i}/").status_code for i in range(40)]
    assert 429 in statuses


def test_paths_with_tokens_are_redacted_in_request_logs(client, token, caplog):
    with caplog.at_level(logging.INFO):
        client.get("/api/v1/public/delaktighet/" + "z" * 32 + "/")
        logging.getLogger("django.server").info('"GET /d/%s/ HTTP/1.1" 200 10', token)
    assert token not in caplog.text and "z" * 32 not in caplog.text


def test_staff_see_invitation_status_but_not_answers_unless_shared(world, plan, client, token):
    url = f"/api/v1/public/delaktighet/{token}/"
    client.post(url, {"answers": {"respekt": 6}, "share_with_staff": False}, content_type="application/json")
    staff = client_for(world.users_a[Role.SOCIALSEKRETERARE])
    rows = staff.get(f"/api/v1/sips/{plan.sip.pk}/invitations/").json()
    assert {r["status"] for r in rows} == {"answered", "sent"}
    answered = next(r for r in rows if r["status"] == "answered")
    assert answered["shared"] is False
    assert staff.get(f"/api/v1/sips/{plan.sip.pk}/invitations/{answered['id']}/answers/").status_code == 404
    other = client_for(world.users_b[Role.BEHANDLARE])
    assert other.get(f"/api/v1/sips/{plan.sip.pk}/invitations/").status_code == 404
