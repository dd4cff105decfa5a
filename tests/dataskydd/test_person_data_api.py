"""Registerutdrag (JSON and PDF), radering and the gallring preview through the API."""

import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from organisations.models import AuditAction, AuditEntry, Role, User
from sip.models import Person
from tests.conftest import PLAN_PERSONNUMMER, client_for, make_plan
from tests.dataskydd.conftest import answered_invitation, closed_deviation, closed_plan, personnummer, register

pytestmark = pytest.mark.django_db

EXTRACT = "/api/v1/persons/registerutdrag/"
ERASE = "/api/v1/persons/erase/"
PREVIEW = "/api/v1/retention/preview/"


def post(user, path, data):
    return client_for(user).post(path, data, format="json")


@pytest.fixture
def rich_plan(world):
    plan = make_plan(world)
    answered_invitation(world, plan, free_text="Bra möte")
    closed_deviation(world, plan.sip, timezone.now())
    # Another person in the same organisation, with a plan of their own: must never show up.
    other = register(world, 21, first_name="Greta", last_name="Främling")
    closed_plan(world, other, timezone.localdate())
    return plan


def test_registerutdrag_json_holds_the_person_and_no_one_else(world, admin_a, rich_plan):
    response = post(admin_a, EXTRACT, {"personnummer": PLAN_PERSONNUMMER})

    assert response.status_code == 200, response.content
    assert response["Content-Disposition"].endswith(f'registerutdrag-{rich_plan.person.pk}.json"')
    assert PLAN_PERSONNUMMER.replace("-", "") not in response["Content-Disposition"]
    data = response.json()
    assert data["person"]["first_name"] == "Kim" and data["person"]["last_name"] == "Andersson"
    [sip] = data["sips"]
    assert sip["id"] == rich_plan.sip.pk
    assert [g["text"] for g in sip["goals"]] == ["Ett eget boende"]
    assert [a["title"] for a in sip["actions"]] == ["Boendestöd"]
    assert sip["meetings"][0]["location"] == "Rum 3"
    [answers] = data["delaktighet_answers"]
    assert "Bra möte" in [a["value"] for a in answers["answers"]]
    assert [d["sip"] for d in data["deviations"]] == [rich_plan.sip.pk]
    assert "what_happened" not in data["deviations"][0]
    assert data["access_log"] and all(e["object_type"] for e in data["access_log"])
    text = response.content.decode()
    assert "Greta" not in text and "Främling" not in text and "750203" not in text  # the other person's number
    # The extract is audited as an export of the person's data, and lists its own making.
    entry = AuditEntry.objects.filter(person_id=rich_plan.person.pk, action=AuditAction.EXPORT).get()
    assert entry.actor_id == admin_a.pk and "registerutdrag" in entry.fields
    assert any(e["action"] == "export" for e in data["access_log"])


def test_unshared_answers_are_counted_not_shown(world, admin_a):
    plan = make_plan(world)
    answered_invitation(world, plan, share=False, free_text="Hemligt")
    data = post(admin_a, EXTRACT, {"personnummer": PLAN_PERSONNUMMER}).json()
    assert data["delaktighet_answers"] == [] and data["delaktighet_answers_not_shared"] == 1
    assert "Hemligt" not in str(data)


def test_registerutdrag_pdf_opens(world, admin_a, rich_plan):
    response = post(admin_a, EXTRACT, {"personnummer": PLAN_PERSONNUMMER, "format": "pdf"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))
    assert "Registerutdrag" in text
    assert "Kim Andersson" in text
    assert "Ett eget boende" in text
    assert "Greta" not in text


def test_registerutdrag_is_scoped_to_the_organisation(world, rich_plan):
    # Organisation B takes part in the plan but has no consent and no link to the person: 404.
    response = post(world.users_b[Role.ORG_ADMIN], EXTRACT, {"personnummer": PLAN_PERSONNUMMER})
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    assert PLAN_PERSONNUMMER not in response.content.decode()
    # Once B looks the person up, it holds the person record, but still not A's plan.
    from sip import services

    services.lookup_person(world.users_b[Role.SOCIALSEKRETERARE], PLAN_PERSONNUMMER)
    data = post(world.users_b[Role.ORG_ADMIN], EXTRACT, {"personnummer": PLAN_PERSONNUMMER}).json()
    assert data["person"]["id"] == rich_plan.person.pk
    assert data["sips"] == [] and data["deviations"] == [] and data["delaktighet_answers"] == []
    assert data["plans_without_access"] == []  # B never had consent: the plan is not even named
    assert {e["organisation"] for e in data["access_log"]} == {world.org_b.name}


def test_a_plan_whose_consent_was_withdrawn_is_named_with_the_consents_only(world, rich_plan):
    """B took part with consent, then the consent was withdrawn: B's extract names the plan and B's own consent
    records (given, withdrawn), nothing of the plan itself; the person's own record is still B's."""
    from sip import services
    from sip.models import ConsentMethod

    actor = world.users_a[Role.SOCIALSEKRETERARE]
    services.lookup_person(world.users_b[Role.SOCIALSEKRETERARE], PLAN_PERSONNUMMER)
    consent = services.give_consent(actor, rich_plan.sip, organisation=world.org_b, method=ConsentMethod.WRITTEN,
                                    scope="Boende och behandling")
    seen = post(world.users_b[Role.ORG_ADMIN], EXTRACT, {"personnummer": PLAN_PERSONNUMMER}).json()
    assert [sip["id"] for sip in seen["sips"]] == [rich_plan.sip.pk] and seen["plans_without_access"] == []
    services.withdraw_consent(actor, rich_plan.sip, consent)

    data = post(world.users_b[Role.ORG_ADMIN], EXTRACT, {"personnummer": PLAN_PERSONNUMMER}).json()
    assert data["sips"] == []
    [plan] = data["plans_without_access"]
    assert plan["sip"] == rich_plan.sip.pk
    [withdrawn] = plan["consents"]
    assert withdrawn["organisation"] == world.org_b.name and withdrawn["scope"] == "Boende och behandling"
    assert withdrawn["given_at"] and withdrawn["withdrawn_at"]
    assert "Ett eget boende" not in str(data) and "Boendestöd" not in str(data)  # nothing of the plan itself
    pdf = post(world.users_b[Role.ORG_ADMIN], EXTRACT, {"personnummer": PLAN_PERSONNUMMER, "format": "pdf"})
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages))
    assert "Planer där samtycket har återkallats eller gått ut" in text and f"SIP {rich_plan.sip.pk}" in text
    # A (still taking part with consent) extracts the plan in full, and names nothing without access.
    full = post(world.users_a[Role.ORG_ADMIN], EXTRACT, {"personnummer": PLAN_PERSONNUMMER}).json()
    assert [sip["id"] for sip in full["sips"]] == [rich_plan.sip.pk] and full["plans_without_access"] == []


def test_registerutdrag_refuses_other_roles_and_bad_numbers(world, rich_plan):
    assert post(world.users_a[Role.SAMORDNARE], EXTRACT, {"personnummer": PLAN_PERSONNUMMER}).status_code == 403
    bad = post(world.users_a[Role.ORG_ADMIN], EXTRACT, {"personnummer": "811218-9877"})
    assert bad.status_code == 400 and "personnummer" in bad.json()["errors"]
    unknown = post(world.users_a[Role.ORG_ADMIN], EXTRACT, {"personnummer": personnummer(99)})
    assert unknown.status_code == 404


def test_erasure_refused_while_a_plan_is_open(world, admin_a, rich_plan):
    response = post(admin_a, ERASE, {"personnummer": PLAN_PERSONNUMMER})

    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "urn:samverkan:problem:erasure_blocked"
    assert [b["rule"] for b in body["blockers"]] == ["active_plan"]
    assert PLAN_PERSONNUMMER not in response.content.decode() and "Kim" not in response.content.decode()
    assert Person.objects.filter(pk=rich_plan.person.pk).exists()


def test_erasure_refused_inside_the_retention_period(world, admin_a):
    person = register(world, 31)
    closed_plan(world, person, timezone.localdate())
    body = post(admin_a, ERASE, {"personnummer": personnummer(31)}).json()
    assert body["status"] == 409
    [blocker] = body["blockers"]
    assert blocker["rule"] == "retention_obligation"
    assert blocker["until"] == timezone.localdate().replace(year=timezone.localdate().year + 10).isoformat()


def test_erasure_refused_when_another_organisation_holds_the_person(world, admin_a):
    register(world, 32)
    register(world, 32, org="b")
    body = post(admin_a, ERASE, {"personnummer": personnummer(32)}).json()
    assert [b["rule"] for b in body["blockers"]] == ["held_by_other_organisation"]


def test_erasure_succeeds_and_keeps_the_audit_trail(world, admin_a):
    person = register(world, 33, first_name="Radera", last_name="Mig")
    client_for(world.users_a[Role.SOCIALSEKRETERARE]).get(f"/api/v1/persons/{person.pk}/")
    before = AuditEntry.objects.filter(person_id=person.pk).count()
    assert before >= 2

    response = post(admin_a, ERASE, {"personnummer": personnummer(33)})

    assert response.status_code == 200, response.content
    assert response.json() == {"erased": True, "person_id": person.pk}
    assert not Person.objects.filter(pk=person.pk).exists()
    trail = AuditEntry.objects.filter(person_id=person.pk)
    assert trail.count() == before + 1
    assert trail.filter(action=AuditAction.DELETE, actor=admin_a).exists()
    # No personal data in what remains.
    for row in trail.values():
        assert "Radera" not in str(row) and personnummer(33)[:6] not in str(row)
    # Gone means gone: a second request finds nothing.
    assert post(admin_a, ERASE, {"personnummer": personnummer(33)}).status_code == 404


def test_retention_preview_counts_only(world, admin_a, rich_plan):
    response = client_for(admin_a).get(PREVIEW)
    assert response.status_code == 200
    body = response.json()
    assert body["dry_run"] is True
    assert {row["rule"] for row in body["rules"]} >= {"sip.closed_plans", "organisations.audit_log"}
    assert all(isinstance(row["count"], int) for row in body["rules"])
    assert "Kim" not in response.content.decode()
    assert client_for(world.users_a[Role.BEHANDLARE]).get(PREVIEW).status_code == 403


def _queries(user, method, path, data=None):
    client = client_for(User.objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(path, data, format="json")
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def test_query_counts_do_not_grow_with_the_data(world, admin_a):
    from sip import services

    plan = make_plan(world)
    actor = world.users_a[Role.SOCIALSEKRETERARE]
    small = _queries(admin_a, "post", EXTRACT, {"personnummer": PLAN_PERSONNUMMER})
    preview_small = _queries(admin_a, "get", PREVIEW)
    for i in range(6):
        goal = services.create_goal(actor, plan.sip, text=f"Mål {i}", kind="shared")
        services.create_action(actor, plan.sip, title=f"Insats {i}", responsible_unit=world.unit_a, goal=goal)
        closed_plan(world, register(world, 40 + i), timezone.localdate())
    large = _queries(admin_a, "post", EXTRACT, {"personnummer": PLAN_PERSONNUMMER})
    assert large == small, f"registerutdrag: {small} queries with little data, {large} with more"
    print(f"registerutdrag: {small} queries; retention preview: {preview_small} queries")
    assert small <= 30
    assert _queries(admin_a, "get", PREVIEW) == preview_small <= 12
