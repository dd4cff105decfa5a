"""The session and its user read by compiled queries (issue #7): the two reads every page of the HTML face makes
before it does anything of its own.

Django's database session store and ModelBackend build and compile an ORM query for each (~0.4 ms of Python
apiece, as much as running them). These do the same reads through organisations.prepared: the session row by its
key, then its expiry compared with the clock as Django compares it; the user by its id, then
`user_can_authenticate`. Anything unusual (a key that is not a string, an id that is not an integer) takes
Django's own path, so the answers are the same (tests/organisations/test_sessions.py).
"""

from __future__ import annotations

from django.contrib.auth import backends, get_user_model
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from organisations.prepared import Prepared

_SESSION = Prepared(Session, lambda key: Session.objects.filter(session_key=key))


class SessionStore(db.SessionStore):
    """SESSION_ENGINE = "organisations.sessions": Django's database sessions, the same table and rows."""

    def _get_session_from_db(self):
        key = self.session_key
        if type(key) is not str or self.get_model_class() is not Session:
            return super()._get_session_from_db()
        found = _SESSION(key)
        if found and found[0].expire_date > timezone.now():
            return found[0]
        self._session_key = None  # as Django's store: a missing or expired session starts afresh
        return None


_USER = Prepared(get_user_model(), lambda pk: get_user_model()._default_manager.filter(pk=pk))


class ModelBackend(backends.ModelBackend):
    """django.contrib.auth's ModelBackend with the session's user read by a compiled query."""

    def get_user(self, user_id):
        if type(user_id) is not int:
            return super().get_user(user_id)
        found = _USER(user_id)
        if not found:
            return None
        return found[0] if self.user_can_authenticate(found[0]) else None
