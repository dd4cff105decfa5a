"""Every error is RFC 9457 problem+json; bad input never gives a 500."""

import pytest
from django.test import override_settings

from organisations.models import Role
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def assert_problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    return body


def test_malformed_json_is_400(world):
    client = client_for(world.users_a[Role.ORG_ADMIN])
    response = client.post("/api/v1/units/", data="{bad json", content_type="application/json")
    assert_problem(response, 400)


def test_body_that_is_not_an_object_is_400(world):
    client = client_for(world.users_a[Role.ORG_ADMIN])
    response = client.post("/api/v1/units/", data="[1, 2]", content_type="application/json")
    body = assert_problem(response, 400)
    assert "errors" in body


def test_wrong_content_type_is_415(world):
    client = client_for(world.users_a[Role.ORG_ADMIN])
    response = client.post("/api/v1/units/", data="name=x", content_type="application/x-www-form-urlencoded")
    assert_problem(response, 415)


def test_unknown_url_is_404_problem(world):
    response = client_for(world.users_a[Role.ORG_ADMIN]).get("/api/v1/no-such-thing/")
    assert_problem(response, 404)


def test_unknown_url_is_404_problem_for_anonymous(client):
    response = client.get("/api/v1/no-such-thing/")
    assert_problem(response, 404)


def test_method_not_allowed_is_405(world):
    response = client_for(world.users_a[Role.ORG_ADMIN]).put("/api/v1/organisations/", data={}, format="json")
    assert_problem(response, 405)


def test_validation_errors_name_each_field(world):
    client = client_for(world.users_a[Role.ORG_ADMIN])
    response = client.post("/api/v1/units/", data={"organisation": "abc", "kind": "nonsense", "extra": 1},
                           format="json")
    body = assert_problem(response, 400)
    assert set(body["errors"]) >= {"organisation", "kind", "name", "extra"}
    assert body["errors"]["extra"] == ["Okänt fält."]


def test_wrong_types_are_field_errors(world):
    client = client_for(world.users_a[Role.ORG_ADMIN])
    response = client.post("/api/v1/users/", data={"username": ["a"], "unit": "x", "role": 5}, format="json")
    body = assert_problem(response, 400)
    assert {"username", "unit", "role"} <= set(body["errors"])


def test_service_validation_becomes_field_error(world):
    """A unit whose parent belongs to another organisation is refused with a message on `parent`."""
    client = client_for(world.users_a[Role.ORG_ADMIN])
    response = client.post("/api/v1/units/", data={"organisation": world.org_a.pk, "name": "X",
                                                   "parent": world.unit_b.pk}, format="json")
    body = assert_problem(response, 400)
    assert "parent" in body["errors"]


def test_duplicate_unit_name_is_a_clear_error(world):
    client = client_for(world.users_a[Role.ORG_ADMIN])
    data = {"organisation": world.org_a.pk, "name": world.unit_a.name, "parent": world.unit_a.parent_id}
    body = assert_problem(client.post("/api/v1/units/", data=data, format="json"), 400)
    assert body["errors"]


def test_conflict_is_409(world):
    client = client_for(world.users_a[Role.ORG_ADMIN])
    body = assert_problem(client.delete(f"/api/v1/units/{world.unit_a.pk}/"), 409)
    assert body["type"].endswith("unit_in_use")


def test_unauthenticated_is_401_with_challenge(client):
    response = client.get("/api/v1/units/")
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Token")


def test_unhandled_error_is_500_problem(world, monkeypatch):
    from api.views import organisations as views

    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(views.queries, "units_for", boom)
    client = client_for(world.users_a[Role.ORG_ADMIN])
    client.raise_request_exception = False
    body = assert_problem(client.get("/api/v1/units/"), 500)
    assert "kaboom" not in body["detail"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_too_large_body_is_413(world):
    client = client_for(world.users_a[Role.ORG_ADMIN])
    response = client.post("/api/v1/units/", data={"name": "x" * 5000, "organisation": world.org_a.pk},
                           format="json")
    assert_problem(response, 413)


def test_html_pages_get_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_database_errors_are_logged_without_their_message(world, monkeypatch, caplog):
    from django.db import IntegrityError

    from api.views import organisations as views

    number = "19811218" + "9876"  # built at run time: the traceback shows source lines, never values

    def duplicate(*args, **kwargs):
        raise IntegrityError(f"duplicate key value violates unique constraint DETAIL: Key (identifier)=({number})")

    monkeypatch.setattr(views.queries, "units_for", duplicate)
    client = client_for(world.users_a[Role.ORG_ADMIN])
    client.raise_request_exception = False
    response = client.get("/api/v1/units/")
    assert response.status_code == 500
    assert number not in caplog.text and number not in response.content.decode()
    assert "IntegrityError" in caplog.text
