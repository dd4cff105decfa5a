import datetime
import json

import pytest
from fhir.resources.R4B.bundle import Bundle

from sip.exports.fhir import fhir_bundle
from sip.models import Action, Goal, Person, Sip
from tests.sip.conftest import EXPORT_PERSON, EXPORT_TEXTS

pytestmark = pytest.mark.django_db

# The FHIR R4 value sets, spelled out here rather than imported from the module under test.
CAREPLAN_STATUSES = {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
ACTIVITY_STATUSES = {"not-started", "scheduled", "in-progress", "on-hold", "completed", "cancelled", "stopped",
                     "unknown", "entered-in-error"}
GOAL_LIFECYCLE_STATUSES = {"proposed", "planned", "accepted", "active", "on-hold", "completed", "cancelled",
                           "entered-in-error", "rejected"}
GOAL_ACHIEVEMENT_CODES = {"in-progress", "improving", "worsening", "no-change", "achieved", "sustaining",
                          "not-achieved", "no-progress", "not-attainable"}
CARETEAM_STATUSES = {"proposed", "active", "suspended", "inactive", "entered-in-error"}


def resources(bundle: dict, resource_type: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type]


def one(bundle: dict, resource_type: str) -> dict:
    found = resources(bundle, resource_type)
    assert len(found) == 1, (resource_type, found)
    return found[0]


def references(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["reference"]] if isinstance(node.get("reference"), str) else []
        for value in node.values():
            found += references(value)
        return found
    if isinstance(node, list):
        return [ref for item in node for ref in references(item)]
    return []


def by_full_url(bundle: dict) -> dict[str, dict]:
    return {e["fullUrl"]: e["resource"] for e in bundle["entry"]}


def test_bundle_validates_and_is_json(export_plan):
    bundle = fhir_bundle(export_plan.sip)
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "collection"
    Bundle.model_validate(bundle)
    Bundle.model_validate_json(json.dumps(bundle))
    types = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert types[0] == "Patient"
    assert {"Patient", "Organization", "Practitioner", "CareTeam", "Goal", "CarePlan"} <= set(types)


def test_full_urls_are_unique_uuid_urns_and_every_reference_resolves(export_plan):
    bundle = fhir_bundle(export_plan.sip)
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(urls) == len(set(urls))
    assert all(url.startswith("urn:uuid:") and len(url) == len("urn:uuid:") + 36 for url in urls)
    refs = references(bundle)
    assert len(refs) > 10
    assert set(refs) <= set(urls)
    # Deterministic: the same plan gives the same fullUrls.
    assert [e["fullUrl"] for e in fhir_bundle(export_plan.sip)["entry"]] == urls


def test_patient(export_plan):
    bundle = fhir_bundle(export_plan.sip)
    patient = one(bundle, "Patient")
    assert patient["id"] == f"patient-{export_plan.person.pk}"
    assert patient["identifier"] == [{"use": "official", "system": "http://electronichealth.se/identifier/personnummer",
                                      "value": "198112189876"}]
    assert patient["name"][0]["family"] == EXPORT_PERSON["last_name"]
    assert patient["name"][0]["given"] == [EXPORT_PERSON["first_name"]]
    assert patient["gender"] == "female"
    assert patient["address"][0]["city"] == "Eskilstuna"
    assert patient["telecom"][0]["value"] == "070-123 45 67"


@pytest.mark.parametrize(("kind", "system"), [
    ("samordningsnummer", "http://electronichealth.se/identifier/samordningsnummer"),
    ("reservnummer", "urn:samverkan:reservnummer"),
])
def test_patient_identifier_systems(export_plan, kind, system):
    export_plan.sip.person.identifier_kind = kind
    patient = one(fhir_bundle(export_plan.sip), "Patient")
    assert patient["identifier"][0]["system"] == system


@pytest.mark.parametrize(("gender", "code"), [
    ("kvinna", "female"), ("man", "male"), ("annat", "other"), ("vill_ej_uppge", "unknown"),
])
def test_patient_gender(export_plan, gender, code):
    export_plan.sip.person.gender = gender
    assert one(fhir_bundle(export_plan.sip), "Patient")["gender"] == code


def test_protected_identity_omits_name_address_and_telecom(export_plan):
    Person.objects.filter(pk=export_plan.person.pk).update(protected_identity=True)
    bundle = fhir_bundle(export_plan.reload())
    Bundle.model_validate(bundle)
    patient = one(bundle, "Patient")
    assert "name" not in patient
    assert "address" not in patient
    assert "telecom" not in patient
    assert patient["identifier"][0]["value"] == "198112189876"
    assert patient["meta"]["security"][0]["code"] == "R"
    text = json.dumps(bundle, ensure_ascii=False)
    assert EXPORT_PERSON["last_name"] not in text
    assert "Storgatan" not in text
    assert "070-123" not in text


def test_organisations_units_and_practitioners(export_plan):
    bundle = fhir_bundle(export_plan.sip)
    organizations = {o["id"]: o for o in resources(bundle, "Organization")}
    lead = organizations[f"organization-{export_plan.kommun.pk}"]
    assert lead["identifier"] == [{"system": "urn:oid:2.5.4.97", "value": export_plan.kommun.organisation_number}]
    assert f"organization-{export_plan.region.pk}" in organizations
    urls = by_full_url(bundle)
    for unit, organisation in ((export_plan.unit_kommun, export_plan.kommun),
                               (export_plan.unit_region, export_plan.region)):
        resource = organizations[f"unit-{unit.pk}"]
        assert resource["name"] == unit.name
        assert urls[resource["partOf"]["reference"]]["id"] == f"organization-{organisation.pk}"
    practitioners = {p["id"]: p for p in resources(bundle, "Practitioner")}
    assert set(practitioners) == {f"practitioner-{export_plan.socialsekreterare.pk}",
                                  f"practitioner-{export_plan.behandlare.pk}"}
    for practitioner in practitioners.values():
        assert set(practitioner) == {"resourceType", "id", "name"}


def test_care_team(export_plan):
    bundle = fhir_bundle(export_plan.sip)
    urls = by_full_url(bundle)
    team = one(bundle, "CareTeam")
    assert team["status"] in CARETEAM_STATUSES
    assert urls[team["subject"]["reference"]]["resourceType"] == "Patient"
    members = [urls[p["member"]["reference"]]["id"] for p in team["participant"]]
    assert f"unit-{export_plan.unit_kommun.pk}" in members
    assert f"unit-{export_plan.unit_region.pk}" in members
    coordinator = [p for p in team["participant"] if p["role"][0]["text"] == "SIP-samordnare"]
    assert urls[coordinator[0]["member"]["reference"]]["id"] == f"practitioner-{export_plan.socialsekreterare.pk}"


def test_goals(export_plan):
    bundle = fhir_bundle(export_plan.sip)
    goals = resources(bundle, "Goal")
    assert [g["description"]["text"] for g in goals] == [EXPORT_TEXTS["own_goal"], EXPORT_TEXTS["shared_goal"]]
    urls = by_full_url(bundle)
    for goal in goals:
        assert goal["lifecycleStatus"] == "active"
        assert urls[goal["subject"]["reference"]]["resourceType"] == "Patient"
    assert goals[0]["category"][0]["coding"][0]["code"] == "own"
    assert goals[1]["category"][1]["coding"][0]["code"] == "long"
    assert "dueDate" in goals[0]["target"][0]


@pytest.mark.parametrize(("status", "lifecycle", "achievement"), [
    ("active", "active", None),
    ("achieved", "completed", "achieved"),
    ("partly", "active", "in-progress"),
    ("not_achieved", "completed", "not-achieved"),
    ("cancelled", "cancelled", None),
])
def test_goal_status_mapping(export_plan, status, lifecycle, achievement):
    Goal.objects.filter(sip=export_plan.sip).update(status=status)
    bundle = fhir_bundle(export_plan.reload())
    Bundle.model_validate(bundle)
    for goal in resources(bundle, "Goal"):
        assert goal["lifecycleStatus"] == lifecycle
        assert goal["lifecycleStatus"] in GOAL_LIFECYCLE_STATUSES
        if achievement is None:
            assert "achievementStatus" not in goal
        else:
            coding = goal["achievementStatus"]["coding"][0]
            assert coding["system"] == "http://terminology.hl7.org/CodeSystem/goal-achievement"
            assert coding["code"] == achievement
            assert coding["code"] in GOAL_ACHIEVEMENT_CODES


@pytest.mark.parametrize(("status", "expected"), [
    ("initierad", "draft"), ("kallad", "draft"), ("upprattad", "active"), ("uppfoljning", "active"),
    ("avslutad", "completed"), ("avbruten", "revoked"),
])
def test_care_plan_status_mapping(export_plan, status, expected):
    Sip.objects.filter(pk=export_plan.sip.pk).update(status=status)
    bundle = fhir_bundle(export_plan.reload())
    Bundle.model_validate(bundle)
    care_plan = one(bundle, "CarePlan")
    assert care_plan["status"] == expected
    assert care_plan["status"] in CAREPLAN_STATUSES
    assert one(bundle, "CareTeam")["status"] in CARETEAM_STATUSES


def test_care_plan(export_plan):
    sip = export_plan.sip
    bundle = fhir_bundle(sip)
    urls = by_full_url(bundle)
    care_plan = one(bundle, "CarePlan")
    assert care_plan["intent"] == "plan"
    assert care_plan["title"] == "Samordnad individuell plan"
    assert care_plan["status"] == "active"
    assert care_plan["period"] == {"start": sip.established_on.isoformat()}
    assert urls[care_plan["subject"]["reference"]]["resourceType"] == "Patient"
    assert urls[care_plan["author"]["reference"]]["id"] == f"organization-{export_plan.kommun.pk}"
    assert urls[care_plan["careTeam"][0]["reference"]]["resourceType"] == "CareTeam"
    assert [urls[g["reference"]]["resourceType"] for g in care_plan["goal"]] == ["Goal", "Goal"]
    assert care_plan["description"] == EXPORT_TEXTS["what_matters"]


def test_care_plan_activities(export_plan):
    bundle = fhir_bundle(export_plan.sip)
    urls = by_full_url(bundle)
    details = {a["detail"]["description"]: a["detail"] for a in one(bundle, "CarePlan")["activity"]}
    assert set(details) == {EXPORT_TEXTS["action_region"], EXPORT_TEXTS["action_kommun"],
                            EXPORT_TEXTS["action_other"]}
    for detail in details.values():
        assert detail["status"] in ACTIVITY_STATUSES

    region = details[EXPORT_TEXTS["action_region"]]
    assert region["status"] == "in-progress"
    assert set(region["scheduledPeriod"]) == {"start", "end"}
    performers = {urls[p["reference"]]["id"] for p in region["performer"]}
    assert performers == {f"unit-{export_plan.unit_region.pk}", f"practitioner-{export_plan.behandlare.pk}"}
    assert urls[region["goal"][0]["reference"]]["description"]["text"] == EXPORT_TEXTS["own_goal"]

    kommun = details[EXPORT_TEXTS["action_kommun"]]
    assert kommun["status"] == "scheduled"
    assert urls[kommun["performer"][0]["reference"]]["id"] == f"organization-{export_plan.kommun.pk}"

    other = details[EXPORT_TEXTS["action_other"]]
    assert {"display": "Arbetsförmedlingen"} in other["performer"]
    assert any(e["valueString"] == "Jag ringer handläggaren." for e in other["extension"])


@pytest.mark.parametrize(("status", "expected"), [
    ("planerad", "scheduled"), ("pagar", "in-progress"), ("klar", "completed"), ("installd", "cancelled"),
])
def test_activity_status_mapping(export_plan, status, expected):
    Action.objects.filter(sip=export_plan.sip).update(status=status)
    bundle = fhir_bundle(export_plan.reload())
    Bundle.model_validate(bundle)
    statuses = {a["detail"]["status"] for a in one(bundle, "CarePlan")["activity"]}
    assert statuses == {expected}
    assert statuses <= ACTIVITY_STATUSES


def test_closed_plan_has_period_end(export_plan):
    Sip.objects.filter(pk=export_plan.sip.pk).update(status="avslutad", closed_on=datetime.date(2030, 1, 31))
    care_plan = one(fhir_bundle(export_plan.reload()), "CarePlan")
    assert care_plan["period"]["end"] == "2030-01-31"
    assert care_plan["status"] == "completed"


def test_uses_only_what_sip_detail_loaded(export_plan, django_assert_num_queries):
    with django_assert_num_queries(0):
        fhir_bundle(export_plan.sip)
