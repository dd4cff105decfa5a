"""Questionnaires and answers as HL7 FHIR R4 Questionnaire and QuestionnaireResponse, built and validated with
fhir.resources' R4B models (as sip.exports.fhir does for plans).

Pure: takes loaded model instances and returns JSON-able dicts; the caller checks permissions and audits.

A QuestionnaireResponse is pseudonymous by design: it carries no subject, author, source or identifier, only the
canonical questionnaire it answers, when it was submitted and the answers themselves.
"""

from __future__ import annotations

import re

from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.questionnaire import Questionnaire, QuestionnaireItem, QuestionnaireItemAnswerOption
from fhir.resources.R4B.questionnaireresponse import (
    QuestionnaireResponse,
    QuestionnaireResponseItem,
    QuestionnaireResponseItemAnswer,
)

from sip.delaktighet.models import ItemKind

QUESTIONNAIRE_URL = "urn:samverkan:questionnaire:{key}"
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
SCALE_SYSTEM = "urn:samverkan:delaktighet:scale-1-6"
YES_NO_UNKNOWN_SYSTEM = "urn:samverkan:delaktighet:yes-no-unknown"
YES_PARTLY_NO_SYSTEM = "urn:samverkan:delaktighet:yes-partly-no"
CHOICE_SYSTEM = "urn:samverkan:delaktighet:choice:{key}:{code}"

SCALE = range(1, 7)
YES_NO_UNKNOWN = (("yes", "Ja"), ("no", "Nej"), ("unknown", "Vet ej"))
YES_PARTLY_NO = (("yes", "Ja"), ("partly", "Delvis"), ("no", "Nej"))
# How services._clean_answers stores yes/no/unknown in Answer.value_int.
YES_NO_UNKNOWN_STORED = {1: "yes", 0: "no", 2: "unknown"}

CHOICE_KINDS = {ItemKind.SCALE_1_6, ItemKind.YES_NO_UNKNOWN, ItemKind.YES_PARTLY_NO, ItemKind.SINGLE_CHOICE}


def canonical_url(version) -> str:
    return QUESTIONNAIRE_URL.format(key=version.template.key)


def _computable_name(key: str) -> str:
    """Questionnaire.name should be machine-usable (que-0: [A-Z]([A-Za-z0-9_]){0,254})."""
    name = "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", key) if part)
    if not name or not name[0].isalpha():
        name = f"Q{name}"
    return name[:255]


def _choice_code(choice) -> str:
    """A FHIR code from a free choice value: no leading, trailing or repeated whitespace."""
    return " ".join(str(choice).split()) or "-"


def _options(item, key: str) -> list[tuple[Coding, int | None]]:
    """The item's answer options in order, each with its itemWeight (scale only)."""
    if item.kind == ItemKind.SCALE_1_6:
        labels = {SCALE[0]: item.low_label, SCALE[-1]: item.high_label}
        return [(Coding(system=SCALE_SYSTEM, code=str(n), display=labels.get(n) or str(n)), n) for n in SCALE]
    if item.kind == ItemKind.YES_NO_UNKNOWN:
        return [(Coding(system=YES_NO_UNKNOWN_SYSTEM, code=code, display=display), None)
                for code, display in YES_NO_UNKNOWN]
    if item.kind == ItemKind.YES_PARTLY_NO:
        return [(Coding(system=YES_PARTLY_NO_SYSTEM, code=code, display=display), None)
                for code, display in YES_PARTLY_NO]
    if item.kind == ItemKind.SINGLE_CHOICE:
        system = CHOICE_SYSTEM.format(key=key, code=item.code)
        return [(Coding(system=system, code=_choice_code(choice), display=str(choice)), None)
                for choice in item.choices or []]
    return []


def _questionnaire_item(item, key: str) -> QuestionnaireItem:
    if item.kind not in CHOICE_KINDS:
        return QuestionnaireItem(linkId=item.code, text=item.text, type="text", required=False)
    options = []
    for coding, weight in _options(item, key):
        values = {"valueCoding": coding}
        if weight is not None:
            values["extension"] = [Extension(url=ITEM_WEIGHT, valueDecimal=weight)]
        options.append(QuestionnaireItemAnswerOption(**values))
    return QuestionnaireItem(linkId=item.code, text=item.text, type="choice", required=False,
                             answerOption=options or None)


def questionnaire(version) -> dict:
    """A TemplateVersion as a FHIR R4 Questionnaire: one item per Item, in order."""
    template = version.template
    values = {
        "id": f"{template.key}-v{version.number}"[:64],
        "language": "sv",
        "url": canonical_url(version),
        "version": str(version.number),
        "name": _computable_name(template.key),
        "title": version.title,
        "status": "active" if version.published_at else "draft",
        "item": [_questionnaire_item(item, template.key) for item in version.items.all()] or None,
    }
    if version.intro:
        values["description"] = version.intro
    if version.published_at:
        values["date"] = version.published_at
    return Questionnaire(**values).model_dump(mode="json", exclude_none=True)


def _answer_value(answer, key: str) -> dict | None:
    """The FHIR answer value for a stored Answer, or None when it cannot be read as the item's kind."""
    item = answer.item
    if item.kind == ItemKind.FREE_TEXT:
        return {"valueString": answer.value_text} if answer.value_text else None
    options = {coding.code: coding for coding, _weight in _options(item, key)}
    code = None
    if item.kind == ItemKind.SCALE_1_6:
        code = str(answer.value_int) if answer.value_int is not None else None
    elif item.kind == ItemKind.YES_NO_UNKNOWN:
        code = YES_NO_UNKNOWN_STORED.get(answer.value_int)
    elif item.kind == ItemKind.YES_PARTLY_NO:
        # Not written by services today; read the code from text, else the index in yes/partly/no.
        codes = [code for code, _display in YES_PARTLY_NO]
        if answer.value_text in codes:
            code = answer.value_text
        elif answer.value_int is not None and 0 <= answer.value_int < len(codes):
            code = codes[answer.value_int]
    elif item.kind == ItemKind.SINGLE_CHOICE:
        choices = item.choices or []
        if answer.value_int is not None and 0 <= answer.value_int < len(choices):
            code = _choice_code(choices[answer.value_int])
    coding = options.get(code)
    return {"valueCoding": coding} if coding is not None else None


def questionnaire_response(response) -> dict:
    """A delaktighet Response as a pseudonymous FHIR R4 QuestionnaireResponse (no subject, author or identifier)."""
    version = response.version
    items = []
    for answer in sorted(response.answers.all(), key=lambda a: a.item.order):
        value = _answer_value(answer, version.template.key)
        if value is None:
            continue
        items.append(QuestionnaireResponseItem(linkId=answer.item.code, text=answer.item.text,
                                               answer=[QuestionnaireResponseItemAnswer(**value)]))
    resource = QuestionnaireResponse(
        language="sv",
        questionnaire=f"{canonical_url(version)}|{version.number}",
        status="completed",
        authored=response.submitted_at,
        item=items or None,
    )
    return resource.model_dump(mode="json", exclude_none=True)
