"""Hostile input on every free-text write endpoint of the API: nothing is a 500, errors are problem+json with
the field named, and text that can be stored comes back exactly as it was sent.

Runs on SQLite and on PostgreSQL (which refuses NUL in text: the API must turn that into a 400 first).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from api.serializers.base import TEXT_MAX_LENGTH
from avvikelser import forum_services
from avvikelser import services as deviation_services
from avvikelser.models import Category, ContactPerson, Forum, ForumMember, State
from organisations.models import Role, User
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"

# Text that must be stored and returned verbatim (after DRF's trimming of leading/trailing whitespace).
VERBATIM = {
    "sql_quote": "Robert'); DROP TABLE sip_sip;--",
    "sql_or": "' OR '1'='1' --",
    "sql_sleep": "1; SELECT pg_sleep(10); --",
    "sql_like": "100% _under_ \\ backslash",
    "rtl_override": "avtal \u202egnimmal\u202c slut",
    "combining": "Z\u0336a\u0301\u0301\u0301l\u0337g\u0489o e\u0301 vs \u00e9",
    "emoji": "Familj 👩‍👩‍👧 flagga 🇸🇪 och 🙂",
    "zero_width": "noll\u200bbredd\ufeffBOM\u2028radskift",
    "html": "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "control": "rad ett\r\nrad två\ttabb\x1b[31m",
}

# Text no database should get: a 400 naming the field.
REFUSED = {
    "nul": "före\x00efter",
    "lone_surrogate": "halv \ud800 surrogat",
    "lone_low_surrogate": "\udfff",
}


@dataclass
class Target:
    """One free-text write: who sends what where, and how to read back what was stored."""

    name: str
    method: str
    url: str
    payload: dict
    field: str
    user: User | None
    stored: Callable[[], str]
    headers: dict = field(default_factory=dict)
    path: tuple = ()  # where the text sits in the payload when it is nested (public answers)

    def body(self, text) -> dict:
        payload = json.loads(json.dumps(self.payload))
        if self.path:
            payload[self.path[0]][self.path[1]] = text
        else:
            payload[self.field] = text
        return payload

    def send(self, raw: bytes | str, content_type: str = "application/json"):
        client = client_for(User.objects.get(pk=self.user.pk) if self.user else None)
        call = getattr(client, self.method)
        return call(self.url, data=raw, content_type=content_type, **self.headers)

    def send_json(self, text):
        # ensure_ascii keeps lone surrogates as \\udXXX escapes: valid JSON, invalid Unicode.
        return self.send(json.dumps(self.body(text)))

    @property
    def error_field(self) -> str:
        return ".".join(self.path) if self.path else self.field


def _fs(world):
    forum = Forum.objects.create(name="Styrgrupp A–B")
    forum.organisations.set([world.org_a, world.org_b])
    leader = world.users_a[Role.PROCESSLEDARE]
    ForumMember.objects.create(forum=forum, user=leader, role="processledare")
    ContactPerson.objects.create(organisation=world.org_b, user=world.users_b[Role.BEHANDLARE])
    return forum, leader


def _submitted_deviation(world):
    reporter = world.users_a[Role.SOCIALSEKRETERARE]
    deviation = deviation_services.create_draft(
        reporter, reporting_unit=world.unit_a, counterpart_organisation=world.org_b,
        occurred_on=timezone.localdate(), category=Category.objects.get(key="sip"),
        what_happened="Kallelsen besvarades inte.")
    return deviation_services.transition(reporter, deviation, State.INKOMMEN, 1)


def build_target(name, world, plan, request) -> Target:
    from avvikelser.models import Comment, Decision, Deviation, ForumMeeting, Measure
    from sip.delaktighet.models import Answer
    from sip.models import Action, Goal, Meeting, Sip

    staff = world.users_a[Role.SOCIALSEKRETERARE]
    sip = f"/api/v1/sips/{plan.sip.pk}/"
    soon = (timezone.now() + datetime.timedelta(days=5)).isoformat()
    later = (timezone.now() + datetime.timedelta(days=5, hours=1)).isoformat()
    if name == "sip.what_matters":
        return Target(name, "patch", sip, {}, "what_matters", staff,
                      lambda: Sip.objects.get(pk=plan.sip.pk).what_matters,
                      headers={"HTTP_IF_MATCH": f'"{plan.sip.version}"'})
    if name == "goal.text":
        return Target(name, "post", sip + "goals/", {"kind": "own"}, "text", staff,
                      lambda: Goal.objects.latest("pk").text)
    if name == "action.description":
        return Target(name, "post", sip + "actions/", {"title": "Boendestöd", "responsible_unit": world.unit_a.pk},
                      "description", staff, lambda: Action.objects.latest("pk").description)
    if name == "action.title":
        return Target(name, "post", sip + "actions/", {"responsible_unit": world.unit_a.pk}, "title", staff,
                      lambda: Action.objects.latest("pk").title)
    if name == "meeting.location":
        return Target(name, "post", sip + "meetings/", {"starts_at": soon, "ends_at": later}, "location", staff,
                      lambda: Meeting.objects.latest("pk").location)
    if name == "deviation.what_happened":
        return Target(name, "post", "/api/v1/avvikelser/", {
            "reporting_unit": world.unit_a.pk, "counterpart_organisation": world.org_b.pk,
            "occurred_on": timezone.localdate().isoformat(), "category": Category.objects.get(key="sip").pk},
            "what_happened", staff, lambda: Deviation.objects.latest("pk").what_happened)
    if name == "deviation.comment":
        deviation = _submitted_deviation(world)
        return Target(name, "post", f"/api/v1/avvikelser/{deviation.pk}/comments/", {}, "text",
                      staff, lambda: Comment.objects.latest("pk").text)
    if name in ("forum_meeting.location", "forum_decision.text", "forum_measure.title"):
        forum, leader = _fs(world)
        base = f"/api/v1/forums/{forum.pk}/"
        if name == "forum_meeting.location":
            return Target(name, "post", base + "meetings/", {"starts_at": soon}, "location", leader,
                          lambda: ForumMeeting.objects.latest("pk").location)
        if name == "forum_decision.text":
            return Target(name, "post", base + "decisions/", {"decided_on": timezone.localdate().isoformat()},
                          "text", leader, lambda: Decision.objects.latest("pk").text)
        decision = forum_services.create_decision(leader, forum.pk, text="Gemensam rutin",
                                                  decided_on=timezone.localdate())
        return Target(name, "post", base + "measures/", {
            "decision": decision.pk, "due_on": "2030-01-01", "owner_organisation": world.org_b.pk}, "title",
            leader, lambda: Measure.objects.latest("pk").title)
    if name == "public.free_text":
        from tests.delaktighet.test_invitations import held_meeting, link_from, token_of

        request.getfixturevalue("settings").SMS_SENDER = "sip.delaktighet.senders.MemorySmsSender"
        capture = request.getfixturevalue("django_capture_on_commit_callbacks")
        held_meeting(world, plan, capture)
        token = token_of(link_from(mail.outbox[0].body))
        return Target(name, "post", f"/api/v1/public/delaktighet/{token}/", {"answers": {"till_oss": ""}},
                      "till_oss", None, lambda: Answer.objects.get(item__code="till_oss").value_text,
                      path=("answers", "till_oss"))
    raise AssertionError(name)


TARGETS = ["sip.what_matters", "goal.text", "action.title", "action.description", "meeting.location",
           "deviation.what_happened", "deviation.comment", "forum_meeting.location", "forum_decision.text",
           "forum_measure.title", "public.free_text"]


@pytest.fixture(autouse=True)
def _no_throttle_carry_over():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(params=TARGETS)
def target(request, world, plan) -> Target:
    return build_target(request.param, world, plan, request)


def assert_problem(response, status) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


# --- text that must survive exactly -------------------------------------------------------------------------
# One test per target and concern, looping over the cases: building the world is what costs time.


def test_hostile_but_valid_text_is_stored_and_returned_verbatim(target):
    # Creating endpoints get one object per sample (titles are short); an edit or the one public answer gets
    # all samples at once.
    joined = " | ".join(VERBATIM.values())
    samples = list(VERBATIM.values()) if target.method == "post" and not target.path else [joined]
    for text in samples:
        response = target.send_json(text)
        assert response.status_code in (200, 201), (text, response.content[:500])
        assert target.stored() == text
        if target.user is not None:  # the public endpoint answers with a thank-you only
            assert response.json()[target.field] == text
            if "🇸🇪" in text:
                assert "🇸🇪".encode() in response.content  # UTF-8, not \\u escapes


# --- text that must be refused with a field error -----------------------------------------------------------


def _names_field(body, target) -> bool:
    return any(key == target.error_field or key.endswith("." + target.field) or key == target.field
               for key in body.get("errors", {}))


def test_nul_surrogates_and_huge_strings_are_400_naming_the_field(target):
    cases = {**REFUSED, "huge": "x" * (TEXT_MAX_LENGTH + 1)}
    for kind, text in cases.items():
        body = assert_problem(target.send_json(text), 400)
        assert _names_field(body, target), (kind, body)
        assert "\x00" not in json.dumps(body)


# --- the body itself ----------------------------------------------------------------------------------------

def _assert_unknown_fields_are_named(target):
    payload = target.body("Text")
    if target.path:
        payload["answers"]["no_such_question"] = "x"
        body = assert_problem(target.send(json.dumps(payload)), 400)
        assert "no_such_question" in json.dumps(body["errors"])
        return
    payload.update({"is_admin": True, "__proto__": {"x": 1}})
    body = assert_problem(target.send(json.dumps(payload)), 400)
    assert {"is_admin", "__proto__"} <= set(body["errors"]), body


MALFORMED = [
    "{bad json", '{"text": "unterminated', "null", '"just a string"', "[]", "NaN", '{"text": NaN}',
    '{"text": Infinity}', "\x00", "\ufeff{}", "[" * 5000 + "]" * 5000, '{"a":' * 3000 + "1" + "}" * 3000,
]
WRONG_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
               "application/xml", "text/html", "application/json-patch+json"]


def test_malformed_bodies_wrong_types_unknown_fields_and_oversize_are_problems(target, settings):
    _assert_unknown_fields_are_named(target)
    for raw in MALFORMED:
        assert_problem(target.send(raw.encode("utf-8", "surrogatepass")), 400)
    assert_problem(target.send(b'{"text": "\xff\xfe\xed\xa0\x80"}'), 400)  # not UTF-8
    for content_type in WRONG_TYPES:
        assert_problem(target.send(json.dumps(target.body("Text")), content_type=content_type), 415)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    assert_problem(target.send(json.dumps(target.body("y" * (70 * 1024)))), 413)


def test_default_upload_limit_applies(world, plan):
    target = build_target("goal.text", world, plan, None)
    assert_problem(target.send(json.dumps(target.body("z" * (3 * 1024 * 1024)))), 413)


def test_text_at_the_ceiling_of_a_text_field_is_accepted(world, plan):
    target = build_target("goal.text", world, plan, None)
    response = target.send_json("å" * TEXT_MAX_LENGTH)
    assert response.status_code == 201, response.content[:300]


def test_nul_in_a_key_is_refused(world, plan):
    target = build_target("goal.text", world, plan, None)
    body = assert_problem(target.send(json.dumps({"text": "Mål", "kind": "own", "ev\x00il": 1})), 400)
    assert body["errors"]


def test_hostile_ids_are_field_errors(world, plan):
    target = build_target("action.description", world, plan, None)
    for value in [10**30, -(10**30), "99999999999999999999", 1.5, "1.0", "1 OR 1=1", "١", True, [1], {"id": 1}, -1]:
        payload = {**target.body("Text"), "responsible_unit": value}
        body = assert_problem(target.send(json.dumps(payload)), 400)
        assert "responsible_unit" in body["errors"], value


def test_hostile_query_strings_never_500(world, plan):
    client = client_for(world.users_a[Role.SOCIALSEKRETERARE])
    for query in ["status=%00", "ordering=-id%00", "ordering=';DROP TABLE x;--", "page=99999999999999999999",
                  "page=-1", "page=%F0%9F%99%82", "search=%00", "status=%ED%A0%80", "page_size=10000000",
                  "unit=99999999999999999999999", "reporting_unit=-99999999999999999999999"]:
        for url in ("/api/v1/sips/", "/api/v1/avvikelser/", "/api/v1/units/"):
            response = client.get(f"{url}?{query}")
            assert response.status_code < 500, (url, query, response.content[:300])
            if response.status_code >= 400:
                assert response["Content-Type"].startswith(PROBLEM)


def test_hostile_paths_are_4xx_problems(world):
    client = client_for(world.users_a[Role.SOCIALSEKRETERARE])
    for path in ["/api/v1/sips/%00/", "/api/v1/sips/1%00/", "/api/v1/public/delaktighet/%00/",
                 "/api/v1/public/delaktighet/%ED%A0%80/", "/api/v1/sips/" + "9" * 40 + "/"]:
        response = client.get(path)
        assert 400 <= response.status_code < 500, (path, response.status_code)
        assert response["Content-Type"].startswith(PROBLEM)


def test_nul_in_the_token_endpoint_is_a_400(client, db):
    response = client.post("/api/v1/auth/token/", json.dumps({"username": "a\x00b", "password": "x\x00"}),
                           content_type="application/json")
    body = assert_problem(response, 400)
    assert {"username", "password"} <= set(body["errors"])


# --- the HTML forms -----------------------------------------------------------------------------------------


def test_forms_refuse_nul_and_huge_text_and_keep_hostile_text_verbatim(world, plan):
    """The HTML face: the same refusals as the API, as a 400 page with the field's error, never a 500."""
    from django.test import Client

    from sip.models import Sip

    client = Client()
    client.force_login(world.users_a[Role.SOCIALSEKRETERARE])
    url = f"/sip/{plan.sip.pk}/andra/"

    def post(reason):
        sip = Sip.objects.get(pk=plan.sip.pk)
        return client.post(url, {"plan-lead_organisation": sip.lead_organisation_id, "plan-what_matters": "",
                                 "plan-own_contribution": "", "plan-version": sip.version, "plan-reason": reason})

    before = Sip.objects.get(pk=plan.sip.pk).reason
    for bad in ("före\x00efter", "x" * (TEXT_MAX_LENGTH + 1)):
        response = post(bad)
        assert response.status_code == 400, response.status_code
        assert 'href="#id_plan-reason"' in response.content.decode()  # the error summary names the field
        assert Sip.objects.get(pk=plan.sip.pk).reason == before
    text = " | ".join(VERBATIM.values()).replace("\r\n", "\n")
    response = post(text)
    assert response.status_code == 302, response.content[:500]
    assert Sip.objects.get(pk=plan.sip.pk).reason == text
