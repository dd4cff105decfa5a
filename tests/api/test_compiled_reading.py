"""The compiled reading of model serializers (api/serializers/reading.py) answers exactly what DRF's own
`to_representation` answers: every list and detail of the API, for users of every kind, over the demo data."""

import io

import pytest
from django.core.management import call_command
from rest_framework import serializers

from api.serializers.reading import CompiledReadingMixin, compile_plan
from organisations.models import User
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

USERS = ["malmo.socsek", "skane.behandlare", "malmo.samordnare", "malmo.processledare", "skane.styrgrupp",
         "malmo.admin"]
LISTS = ["me/", "organisations/", "units/", "memberships/", "users/", "persons/", "sips/", "avvikelser/",
         "avvikelse-categories/", "forums/", "delaktighet/templates/", "routine-checks/"]
SIP_PARTS = ["", "goals/", "actions/", "meetings/", "consents/", "units/", "invitations/", "history/", "timeline/"]
FORUM_PARTS = ["", "meetings/", "decisions/", "measures/"]


def _rows(body):
    if isinstance(body, dict) and "results" in body:
        return body["results"]
    return body if isinstance(body, list) else []


def _crawl(username: str) -> dict[str, object]:
    client = client_for(User.objects.get(username=username))
    seen: dict[str, object] = {}

    def get(path):
        response = client.get(f"/api/v1/{path}")
        seen[path] = (response.status_code, response.json() if response.content else None)
        return seen[path][1]

    for path in LISTS:
        body = get(path)
        ids = [row["id"] for row in _rows(body) if isinstance(row, dict) and "id" in row][:6]
        if path in ("sips/",):
            for pk in ids:
                for part in SIP_PARTS:
                    get(f"sips/{pk}/{part}")
        elif path == "forums/":
            for pk in ids:
                for part in FORUM_PARTS:
                    get(f"forums/{pk}/{part}")
        elif path not in ("me/",):
            for pk in ids:
                get(f"{path}{pk}/")
    return seen


def test_compiled_reading_answers_what_drf_answers(monkeypatch):
    call_command("seed_demo", stdout=io.StringIO())
    compiled = {user: _crawl(user) for user in USERS}
    monkeypatch.setattr(CompiledReadingMixin, "to_representation",
                        lambda self, instance: serializers.Serializer.to_representation(self, instance))
    plain = {user: _crawl(user) for user in USERS}
    compared = 0
    for user in USERS:
        assert compiled[user].keys() == plain[user].keys()
        for path, answer in compiled[user].items():
            assert answer[0] < 500, (user, path, answer)
            assert answer == plain[user][path], (user, path)
            compared += answer[0] == 200
    assert compared > 150  # the crawl reached the data, not only error pages


def test_plan_resolves_columns_foreign_keys_and_display_methods():
    from api.serializers.sip import SipSerializer

    plan = {name: get for name, get, _represent, _zoned in compile_plan(SipSerializer())}
    # Resolved getters are plain closures, not DRF's generic path through field.get_attribute.
    generic = {name for name, get in plan.items() if getattr(get, "__defaults__", None)}
    assert "status_display" not in generic and "lead_organisation_name" not in generic
    assert "person" not in generic and "version" not in generic
    assert {"flags", "allowed_transitions"} <= generic  # method fields keep DRF's own path


def test_a_dict_is_read_the_way_drf_reads_it():
    from api.serializers.sip import GoalSerializer

    data = {"id": 1, "kind": "own", "horizon": "long", "text": "Ett eget boende", "target_on": None,
            "status": "pagar", "evaluation": "", "version": 1, "created_at": None, "updated_at": None}
    serializer = GoalSerializer()
    assert serializer.to_representation(data) == serializers.Serializer.to_representation(GoalSerializer(), data)
