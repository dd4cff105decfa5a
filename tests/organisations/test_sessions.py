"""The compiled session and user reads (organisations/sessions.py) answer as Django's own store and backend."""

import datetime

import pytest
from django.conf import settings
from django.contrib.auth import backends as django_backends
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends import db as django_db
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from organisations.sessions import ModelBackend, SessionStore
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_settings_use_them():
    assert settings.SESSION_ENGINE == "organisations.sessions"
    assert "organisations.sessions.ModelBackend" in settings.AUTHENTICATION_BACKENDS
    assert "django.contrib.auth.backends.ModelBackend" not in settings.AUTHENTICATION_BACKENDS


def _saved(data: dict, expiry=None) -> str:
    store = SessionStore()
    store.update(data)
    if expiry is not None:
        store.set_expiry(expiry)
    store.save()
    return store.session_key


@pytest.mark.parametrize("expiry", [None, 60, datetime.timedelta(seconds=-1)], ids=["default", "soon", "expired"])
def test_a_session_loads_as_djangos_store_loads_it(expiry):
    key = _saved({"acting_unit_id": 7, "text": "å"}, expiry)
    ours, django = SessionStore(key), django_db.SessionStore(key)
    assert ours.load() == django.load()
    assert ours.session_key == django.session_key  # an expired session's key is dropped by both
    assert (ours.load() == {}) is (expiry == datetime.timedelta(seconds=-1))


def test_a_missing_or_odd_key_loads_nothing():
    for key in ("x" * 40, None):
        ours, django = SessionStore(key), django_db.SessionStore(key)
        assert ours.load() == django.load() == {}
        assert ours.session_key == django.session_key


def test_expiry_is_compared_with_the_clock_as_django_compares_it(monkeypatch):
    key = _saved({"a": 1}, 3600)
    later = timezone.now() + datetime.timedelta(hours=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert SessionStore(key).load() == django_db.SessionStore(key).load() == {}


def test_one_compiled_query_per_session_read(monkeypatch):
    """The read goes through the compiled query, not the ORM's `Session.objects.get` (made to fail here)."""
    key = _saved({"a": 1})
    monkeypatch.setattr(type(Session.objects), "get", lambda *a, **k: pytest.fail("read through the ORM"))
    SessionStore(key).load()
    with CaptureQueriesContext(connection) as ctx:
        assert SessionStore(key).load() == {"a": 1}
    assert len(ctx.captured_queries) == 1


def test_the_user_is_read_by_the_compiled_query(monkeypatch):
    user = UserFactory()
    monkeypatch.setattr(type(get_user_model()._default_manager), "get",
                        lambda *a, **k: pytest.fail("read through the ORM"))
    assert ModelBackend().get_user(user.pk) == user


@pytest.mark.parametrize("active", [True, False])
def test_the_user_is_read_as_djangos_backend_reads_it(active):
    user = UserFactory(is_active=active)
    ours, django = ModelBackend().get_user(user.pk), django_backends.ModelBackend().get_user(user.pk)
    assert (ours is None) is (django is None) is (not active)
    if active:
        assert ours == django and ours.__dict__.keys() - {"_state"} == django.__dict__.keys() - {"_state"}
        assert all(getattr(ours, f.attname) == getattr(django, f.attname) for f in type(user)._meta.concrete_fields)


def test_a_missing_user_or_an_odd_id_is_answered_as_django_answers_it():
    user = UserFactory()
    assert ModelBackend().get_user(user.pk + 1000) is None
    assert ModelBackend().get_user(str(user.pk)) == user  # not an int: Django's own path


def test_a_logged_in_request_is_the_users(client):
    user = UserFactory()
    client.force_login(user)
    assert client.session["_auth_user_backend"] == "organisations.sessions.ModelBackend"
    response = client.get("/avvikelser/att-besvara/")
    assert response.status_code == 200 and response.wsgi_request.user == user


def test_a_session_of_a_backend_no_longer_configured_is_logged_out(client):
    """Sessions from before the switch name Django's ModelBackend: Django itself then treats them as anonymous
    (the user logs in again once)."""
    user = UserFactory()
    client.force_login(user)
    session = client.session
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session.save()
    response = client.get("/avvikelser/att-besvara/")
    assert response.status_code == 302 and "/login" in response["Location"]
