import pytest
from django.db import OperationalError


@pytest.mark.django_db
def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_when_ready(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] is True


@pytest.mark.django_db
def test_readyz_reports_database_down(client, monkeypatch):
    from api import health

    monkeypatch.setattr(health, "_database_ok", lambda: False)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/problem+json")
    assert response["Retry-After"]
    assert response.json()["checks"]["database"] is False


@pytest.mark.django_db
def test_readyz_reports_broker_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] is False


@pytest.mark.broker
@pytest.mark.django_db
def test_readyz_with_real_broker(client, settings):
    import os

    url = os.environ.get("CELERY_BROKER_URL")
    if not url:
        pytest.skip("needs a broker: set CELERY_BROKER_URL (.ci/run uses Redis on localhost)")
    settings.CELERY_BROKER_URL = url
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["broker"] is True


@pytest.mark.django_db
def test_database_outage_in_api_is_503_with_retry_after(monkeypatch):
    from api.views import organisations as views
    from organisations.models import Role
    from tests.conftest import client_for
    from tests.factories import UnitFactory, member

    user = member(UnitFactory(), Role.SOCIALSEKRETERARE)

    def down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(views.queries, "units_for", down)
    response = client_for(user).get("/api/v1/units/")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response["Content-Type"].startswith("application/problem+json")
