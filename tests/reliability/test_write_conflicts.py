"""A deadlock or serialization failure that PostgreSQL resolves by rolling one transaction back reaches the client
as 409 problem+json with Retry-After (send again), not as a 500 or as the 503 of a database outage."""

import psycopg
import pytest
from django.db import OperationalError

from organisations.models import Role
from tests.conftest import client_for
from tests.factories import UnitFactory, member


@pytest.mark.django_db
@pytest.mark.parametrize("cause", [psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure])
def test_rolled_back_write_conflict_is_a_409_to_retry(monkeypatch, cause):
    from api.views import organisations as views

    user = member(UnitFactory(), Role.SOCIALSEKRETERARE)

    def conflict(*args, **kwargs):
        raise OperationalError("deadlock detected") from cause("deadlock detected")

    monkeypatch.setattr(views.queries, "units_for", conflict)
    response = client_for(user).get("/api/v1/units/")
    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/problem+json")
    assert response["Retry-After"] == "1"
    assert response.json()["type"] == "urn:samverkan:problem:write_conflict"


@pytest.mark.django_db
def test_other_operational_errors_stay_503(monkeypatch):
    from api.views import organisations as views

    user = member(UnitFactory(), Role.SOCIALSEKRETERARE)

    def down(*args, **kwargs):
        raise OperationalError("server closed the connection") from psycopg.OperationalError("closed")

    monkeypatch.setattr(views.queries, "units_for", down)
    response = client_for(user).get("/api/v1/units/")
    assert response.status_code == 503 and response["Retry-After"]
