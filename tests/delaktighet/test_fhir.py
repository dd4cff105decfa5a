import datetime
import json

import pytest
from django.core import mail
from django.utils import timezone
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from sip.delaktighet import services
from sip.delaktighet.fhir import ITEM_WEIGHT, SCALE_SYSTEM, questionnaire, questionnaire_response
from sip.delaktighet.models import Item, ItemKind, Response, Template, TemplateVersion
from sip.delaktighet.senders import MemorySmsSender
from tests.delaktighet.test_invitations import held_meeting, link_from, token_of

pytestmark = pytest.mark.django_db

# http://hl7.org/fhir/R4/valueset-item-type.html
ITEM_TYPES = {"group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time", "string", "text",
              "url", "choice", "open-choice", "attachment", "reference", "quantity"}
# http://hl7.org/fhir/R4/valueset-publication-status.html
PUBLICATION_STATUS = {"draft", "active", "retired", "unknown"}
# http://hl7.org/fhir/R4/valueset-questionnaire-answers-status.html
RESPONSE_STATUS = {"in-progress", "completed", "amended", "entered-in-error", "stopped"}


@pytest.fixture(autouse=True)
def _memory_sms(settings):
    settings.SMS_SENDER = "sip.delaktighet.senders.MemorySmsSender"
    MemorySmsSender.outbox = []


def default_version(key="delaktighet"):
    return TemplateVersion.objects.select_related("template").get(template__key=key, number=1)


def validated_questionnaire(version) -> dict:
    data = questionnaire(version)
    Questionnaire.model_validate(data)
    json.dumps(data)  # plain JSON
    assert data["resourceType"] == "Questionnaire"
    assert data["status"] in PUBLICATION_STATUS
    assert {item["type"] for item in data["item"]} <= ITEM_TYPES
    return data


def validated_response(response) -> dict:
    data = questionnaire_response(response)
    QuestionnaireResponse.model_validate(data)
    json.dumps(data)
    assert data["resourceType"] == "QuestionnaireResponse"
    assert data["status"] in RESPONSE_STATUS
    return data


def keys_of(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for child in value.values() for key in keys_of(child)}
    if isinstance(value, list):
        return {key for child in value for key in keys_of(child)}
    return set()


def test_default_delaktighet_template_exports_as_a_valid_questionnaire():
    version = default_version()
    data = validated_questionnaire(version)
    items = list(version.items.order_by("order"))
    assert data["status"] == "active"
    assert data["url"] == "urn:samverkan:questionnaire:delaktighet" and data["version"] == "1"
    assert data["language"] == "sv" and data["title"] == version.title and data["name"] == "Delaktighet"
    assert [i["linkId"] for i in data["item"]] == [item.code for item in items]
    assert [i["text"] for i in data["item"]] == [item.text for item in items]
    assert all(i["required"] is False for i in data["item"])
    by_code = {i["linkId"]: i for i in data["item"]}
    assert by_code["till_oss"]["type"] == "text" and "answerOption" not in by_code["till_oss"]

    scale_items = [item for item in items if item.kind == ItemKind.SCALE_1_6]
    assert len(scale_items) == 9
    for item in scale_items:
        exported = by_code[item.code]
        assert exported["type"] == "choice"
        options = exported["answerOption"]
        assert len(options) == 6
        assert [o["valueCoding"]["code"] for o in options] == ["1", "2", "3", "4", "5", "6"]
        assert {o["valueCoding"]["system"] for o in options} == {SCALE_SYSTEM}
        weights = [[e["valueDecimal"] for e in o["extension"] if e["url"] == ITEM_WEIGHT] for o in options]
        assert weights == [[1], [2], [3], [4], [5], [6]]
        assert options[0]["valueCoding"]["display"] == item.low_label == "Stämmer inte alls"
        assert options[-1]["valueCoding"]["display"] == item.high_label == "Stämmer helt"


def test_rutinkollen_exports_with_yes_partly_no_choices():
    data = validated_questionnaire(default_version("rutinkollen"))
    assert data["url"] == "urn:samverkan:questionnaire:rutinkollen" and data["status"] == "active"
    assert len(data["item"]) == 8
    for item in data["item"]:
        assert item["type"] == "choice"
        assert [(o["valueCoding"]["code"], o["valueCoding"]["display"]) for o in item["answerOption"]] == [
            ("yes", "Ja"), ("partly", "Delvis"), ("no", "Nej")]
        assert all("extension" not in o for o in item["answerOption"])


def test_unpublished_version_is_a_draft_and_every_kind_maps():
    template = Template.objects.get(key="delaktighet")
    version = TemplateVersion.objects.create(template=template, number=2, title="Utkast")
    Item.objects.create(version=version, order=1, code="kanal", kind=ItemKind.SINGLE_CHOICE, text="Hur?",
                        choices=["Telefon", "Brev  hem"])
    Item.objects.create(version=version, order=2, code="forstod", kind=ItemKind.YES_NO_UNKNOWN, text="Förstod du?")
    data = validated_questionnaire(version)
    assert data["status"] == "draft" and data["version"] == "2" and "date" not in data
    choice, yes_no = data["item"]
    assert [(o["valueCoding"]["code"], o["valueCoding"]["display"]) for o in choice["answerOption"]] == [
        ("Telefon", "Telefon"), ("Brev hem", "Brev  hem")]
    assert [(o["valueCoding"]["code"], o["valueCoding"]["display"]) for o in yes_no["answerOption"]] == [
        ("yes", "Ja"), ("no", "Nej"), ("unknown", "Vet ej")]


def test_a_real_answer_exports_as_a_pseudonymous_questionnaire_response(world, plan,
                                                                         django_capture_on_commit_callbacks):
    held_meeting(world, plan, django_capture_on_commit_callbacks)
    token = token_of(link_from(mail.outbox[0].body))
    services.submit(token, {"information": "5", "lyssnad": 6, "till_oss": "Tack!"}, share_with_staff=True)
    response = Response.objects.get()
    data = validated_response(response)
    assert data["status"] == "completed"
    assert data["questionnaire"] == "urn:samverkan:questionnaire:delaktighet|1"
    assert datetime.datetime.fromisoformat(data["authored"]) == response.submitted_at

    exported = validated_questionnaire(response.version)
    link_ids = {item["linkId"] for item in exported["item"]}
    assert {item["linkId"] for item in data["item"]} <= link_ids
    answers = {item["linkId"]: item["answer"] for item in data["item"]}
    assert answers == {
        "information": [{"valueCoding": {"system": SCALE_SYSTEM, "code": "5", "display": "5"}}],
        "lyssnad": [{"valueCoding": {"system": SCALE_SYSTEM, "code": "6", "display": "Stämmer helt"}}],
        "till_oss": [{"valueString": "Tack!"}],
    }

    assert not keys_of(data) & {"subject", "author", "source", "identifier", "encounter", "basedOn", "partOf"}
    text = json.dumps(data, ensure_ascii=False)
    person = plan.person
    for secret in (person.first_name, person.last_name, person.identifier, person.identifier.replace("-", ""),
                   "kim@example.org", "0701234567", "Mamma", token):
        assert secret not in text


def test_every_stored_kind_maps_to_a_listed_answer_option(world, plan, django_capture_on_commit_callbacks):
    template = Template.objects.get(key="delaktighet")
    version = TemplateVersion.objects.create(template=template, number=2, title="Ny", published_at=timezone.now())
    Item.objects.create(version=version, order=1, code="skala", kind=ItemKind.SCALE_1_6, text="Skala",
                        low_label="Lågt", high_label="Högt")
    Item.objects.create(version=version, order=2, code="forstod", kind=ItemKind.YES_NO_UNKNOWN, text="Förstod du?")
    Item.objects.create(version=version, order=3, code="kanal", kind=ItemKind.SINGLE_CHOICE, text="Hur?",
                        choices=["Telefon", "Brev hem"])
    Item.objects.create(version=version, order=4, code="ovrigt", kind=ItemKind.FREE_TEXT, text="Övrigt")
    held_meeting(world, plan, django_capture_on_commit_callbacks)
    token = token_of(link_from(mail.outbox[0].body))
    services.submit(token, {"ovrigt": "Bra", "kanal": "Brev hem", "forstod": "unknown", "skala": 1})
    response = Response.objects.get()
    assert response.version == version

    data = validated_response(response)
    assert data["questionnaire"] == "urn:samverkan:questionnaire:delaktighet|2"
    exported = validated_questionnaire(version)
    options = {item["linkId"]: [o["valueCoding"] for o in item.get("answerOption", [])] for item in exported["item"]}
    assert [item["linkId"] for item in data["item"]] == ["skala", "forstod", "kanal", "ovrigt"]
    for item in data["item"]:
        (answer,) = item["answer"]
        if "valueCoding" in answer:
            assert answer["valueCoding"] in options[item["linkId"]]
    values = {item["linkId"]: item["answer"][0] for item in data["item"]}
    assert values["skala"]["valueCoding"]["display"] == "Lågt"
    assert values["forstod"]["valueCoding"]["code"] == "unknown"
    assert values["kanal"]["valueCoding"]["code"] == "Brev hem"
    assert values["ovrigt"] == {"valueString": "Bra"}
