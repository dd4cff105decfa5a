"""A plan as an HL7 FHIR R4 Bundle (type "collection"), built and validated with fhir.resources' R4B models.

Pure: takes an already-loaded plan (see sip.queries.sip_detail) and returns a JSON-able dict. The caller checks
permissions, records the export in the audit log and serves the result.

Every resource gets a deterministic fullUrl "urn:uuid:<uuid5 of resource type and id>"; every reference in the
bundle points at one of those fullUrls.
"""

from __future__ import annotations

import datetime
import uuid

from django.utils import timezone
from fhir.resources.R4B.annotation import Annotation
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.careplan import CarePlan, CarePlanActivity, CarePlanActivityDetail
from fhir.resources.R4B.careteam import CareTeam, CareTeamParticipant
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.contactpoint import ContactPoint
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.goal import Goal, GoalTarget
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.meta import Meta
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.reference import Reference

from sip.models import ActionStatus, Gender, GoalKind, GoalStatus, IdentifierKind, SipStatus

# Swedish national identifiers (HL7 Sweden): personnummer has OID 1.2.752.129.2.1.3.1,
# samordningsnummer 1.2.752.129.2.1.3.3. Reserve numbers are regional, so they get a local system.
IDENTIFIER_SYSTEMS = {
    IdentifierKind.PERSONNUMMER: "http://electronichealth.se/identifier/personnummer",
    IdentifierKind.SAMORDNINGSNUMMER: "http://electronichealth.se/identifier/samordningsnummer",
    IdentifierKind.RESERVNUMMER: "urn:samverkan:reservnummer",
}
IDENTIFIER_OIDS = {
    IdentifierKind.PERSONNUMMER: "urn:oid:1.2.752.129.2.1.3.1",
    IdentifierKind.SAMORDNINGSNUMMER: "urn:oid:1.2.752.129.2.1.3.3",
}
ORGANISATION_NUMBER_SYSTEM = "urn:oid:2.5.4.97"
UNIT_SYSTEM = "urn:samverkan:unit"
SIP_SYSTEM = "urn:samverkan:sip"
GOAL_KIND_SYSTEM = "urn:samverkan:goal-kind"
GOAL_HORIZON_SYSTEM = "urn:samverkan:goal-horizon"
GOAL_ACHIEVEMENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/goal-achievement"
ORGANIZATION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/organization-type"
CONFIDENTIALITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
EXTENSION_PERSON_DOES = "urn:samverkan:fhir:extension:person-does"
EXTENSION_ACTION_DESCRIPTION = "urn:samverkan:fhir:extension:action-description"

# uuid5 namespace for fullUrls: the same object always gets the same urn:uuid.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:samverkan:fhir")

GENDER = {
    Gender.KVINNA: "female",
    Gender.MAN: "male",
    Gender.ANNAT: "other",
    Gender.VILL_EJ_UPPGE: "unknown",
}

# CarePlan.status (http://hl7.org/fhir/request-status).
CAREPLAN_STATUS = {
    SipStatus.INITIERAD: "draft",
    SipStatus.KALLAD: "draft",
    SipStatus.UPPRATTAD: "active",
    SipStatus.UPPFOLJNING: "active",
    SipStatus.AVSLUTAD: "completed",
    SipStatus.AVBRUTEN: "revoked",
}

# CareTeam.status (http://hl7.org/fhir/care-team-status).
CARETEAM_STATUS = {
    SipStatus.INITIERAD: "proposed",
    SipStatus.KALLAD: "proposed",
    SipStatus.UPPRATTAD: "active",
    SipStatus.UPPFOLJNING: "active",
    SipStatus.AVSLUTAD: "inactive",
    SipStatus.AVBRUTEN: "inactive",
}

# CarePlan.activity.detail.status (http://hl7.org/fhir/care-plan-activity-status).
ACTIVITY_STATUS = {
    ActionStatus.PLANERAD: "scheduled",
    ActionStatus.PAGAR: "in-progress",
    ActionStatus.KLAR: "completed",
    ActionStatus.INSTALLD: "cancelled",
}

# Goal.lifecycleStatus (http://hl7.org/fhir/goal-status) and Goal.achievementStatus (goal-achievement).
GOAL_STATUS = {
    GoalStatus.ACTIVE: ("active", None),
    GoalStatus.ACHIEVED: ("completed", "achieved"),
    GoalStatus.PARTLY: ("active", "in-progress"),
    GoalStatus.NOT_ACHIEVED: ("completed", "not-achieved"),
    GoalStatus.CANCELLED: ("cancelled", None),
}
ACHIEVEMENT_DISPLAY = {"achieved": "Achieved", "in-progress": "In Progress", "not-achieved": "Not Achieved"}

ORGANISATION_TYPE = {"kommun": "govt", "region": "govt", "statlig_myndighet": "govt", "privat_utforare": "prov"}
ORGANIZATION_TYPE_DISPLAY = {"govt": "Government", "prov": "Healthcare Provider", "other": "Other"}


def full_url(resource_type: str, resource_id: str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{resource_type}/{resource_id}')}"


class _BundleBuilder:
    """Collects resources once each, in a stable order, and hands out references to their fullUrls."""

    def __init__(self, sip):
        self.sip = sip
        self.patient_entries: list[BundleEntry] = []
        self.organizations: dict[str, BundleEntry] = {}
        self.practitioners: dict[str, BundleEntry] = {}
        self.plan_entries: list[BundleEntry] = []
        self.patient_ref = self._add_patient(sip.person)

    # -- helpers ------------------------------------------------------------------------------------------

    @staticmethod
    def _entry(resource) -> BundleEntry:
        return BundleEntry(fullUrl=full_url(resource.get_resource_type(), resource.id), resource=resource)

    @staticmethod
    def _ref(entry: BundleEntry, display: str | None = None) -> Reference:
        return Reference(reference=entry.fullUrl, type=entry.resource.get_resource_type(), display=display or None)

    # -- resources ----------------------------------------------------------------------------------------

    def _add_patient(self, person) -> Reference:
        identifier = Identifier(
            use="temp" if person.identifier_kind == IdentifierKind.RESERVNUMMER else "official",
            system=IDENTIFIER_SYSTEMS[person.identifier_kind],
            value=person.identifier,
        )
        values = {
            "id": f"patient-{person.pk}",
            "identifier": [identifier],
            "active": True,
            "gender": GENDER.get(person.gender, "unknown"),
        }
        if person.birth_year:
            values["birthDate"] = str(person.birth_year)
        if person.protected_identity:
            # Skyddad identitet: no name, address or contact details leave the system; mark it restricted.
            values["meta"] = Meta(security=[Coding(system=CONFIDENTIALITY_SYSTEM, code="R", display="restricted")])
        else:
            name = {"use": "official"}
            if person.last_name:
                name["family"] = person.last_name
            if person.first_name:
                name["given"] = person.first_name.split()
            values["name"] = [HumanName(**name)]
            telecom = []
            if person.phone:
                telecom.append(ContactPoint(system="phone", value=person.phone, use="mobile"))
            if person.email:
                telecom.append(ContactPoint(system="email", value=person.email))
            if telecom:
                values["telecom"] = telecom
            address = {key: value for key, value in (
                ("line", [person.address] if person.address else None),
                ("postalCode", person.postal_code or None),
                ("city", person.city or None),
            ) if value}
            if address:
                values["address"] = [{"use": "home", "country": "SE", **address}]
        entry = self._entry(Patient(**values))
        self.patient_entries.append(entry)
        return self._ref(entry)

    def organisation(self, organisation) -> Reference:
        resource_id = f"organization-{organisation.pk}"
        entry = self.organizations.get(resource_id)
        if entry is None:
            type_code = ORGANISATION_TYPE.get(organisation.kind, "other")
            entry = self._entry(Organization(
                id=resource_id,
                identifier=[Identifier(system=ORGANISATION_NUMBER_SYSTEM, value=organisation.organisation_number)],
                active=organisation.active,
                type=[CodeableConcept(
                    coding=[Coding(system=ORGANIZATION_TYPE_SYSTEM, code=type_code,
                                   display=ORGANIZATION_TYPE_DISPLAY.get(type_code))],
                    text=str(organisation.get_kind_display()),
                )],
                name=organisation.name,
            ))
            self.organizations[resource_id] = entry
        return self._ref(entry, organisation.name)

    def unit(self, unit) -> Reference:
        resource_id = f"unit-{unit.pk}"
        entry = self.organizations.get(resource_id)
        if entry is None:
            part_of = self.organisation(unit.organisation)
            entry = self._entry(Organization(
                id=resource_id,
                identifier=[Identifier(system=UNIT_SYSTEM, value=str(unit.pk))],
                active=unit.active,
                # organization-type's "dept" means a hospital ward; a kommun unit is named by its kind only.
                type=[CodeableConcept(text=str(unit.get_kind_display()))],
                name=unit.name,
                partOf=part_of,
            ))
            self.organizations[resource_id] = entry
        return self._ref(entry, unit.name)

    def practitioner(self, user) -> Reference:
        resource_id = f"practitioner-{user.pk}"
        entry = self.practitioners.get(resource_id)
        display = user.get_full_name() or user.username
        if entry is None:
            name = {"text": display}
            if user.last_name:
                name["family"] = user.last_name
            if user.first_name:
                name["given"] = user.first_name.split()
            entry = self._entry(Practitioner(id=resource_id, name=[HumanName(**name)]))
            self.practitioners[resource_id] = entry
        return self._ref(entry, display)

    def care_team(self, participations) -> Reference:
        sip = self.sip
        participants = []
        for participation in participations:
            unit_ref = self.unit(participation.unit)
            participants.append(CareTeamParticipant(role=[CodeableConcept(text="Deltagande enhet")], member=unit_ref))
            if participation.contact_id:
                participants.append(CareTeamParticipant(
                    role=[CodeableConcept(text="Kontaktperson")],
                    member=self.practitioner(participation.contact),
                    onBehalfOf=unit_ref,
                ))
        if sip.coordinator_id:
            participants.append(CareTeamParticipant(role=[CodeableConcept(text="SIP-samordnare")],
                                                    member=self.practitioner(sip.coordinator)))
        entry = self._entry(CareTeam(
            id=f"careteam-{sip.pk}",
            status=CARETEAM_STATUS[sip.status],
            name="SIP-team",
            subject=self.patient_ref,
            participant=participants or None,
            managingOrganization=[self.organisation(sip.lead_organisation)],
        ))
        self.plan_entries.append(entry)
        return self._ref(entry)

    def goal(self, goal) -> Reference:
        lifecycle, achievement = GOAL_STATUS[goal.status]
        values = {
            "id": f"goal-{goal.pk}",
            "lifecycleStatus": lifecycle,
            "category": [
                CodeableConcept(coding=[Coding(system=GOAL_KIND_SYSTEM, code=goal.kind,
                                               display=str(goal.get_kind_display()))],
                                text=str(goal.get_kind_display())),
                CodeableConcept(coding=[Coding(system=GOAL_HORIZON_SYSTEM, code=goal.horizon,
                                               display=str(goal.get_horizon_display()))],
                                text=str(goal.get_horizon_display())),
            ],
            "description": CodeableConcept(text=goal.text),
            "subject": self.patient_ref,
        }
        if achievement:
            values["achievementStatus"] = CodeableConcept(
                coding=[Coding(system=GOAL_ACHIEVEMENT_SYSTEM, code=achievement,
                               display=ACHIEVEMENT_DISPLAY[achievement])],
                text=str(goal.get_status_display()),
            )
        if goal.kind == GoalKind.OWN:
            values["expressedBy"] = self.patient_ref
        if goal.target_on:
            values["target"] = [GoalTarget(dueDate=goal.target_on)]
        if goal.evaluation:
            values["note"] = [Annotation(text=goal.evaluation)]
        entry = self._entry(Goal(**values))
        self.plan_entries.append(entry)
        return self._ref(entry)

    def activity(self, action, goal_refs: dict[int, Reference]) -> CarePlanActivity:
        performers = []
        if action.responsible_unit_id:
            performers.append(self.unit(action.responsible_unit))
        elif action.responsible_organisation_id:
            performers.append(self.organisation(action.responsible_organisation))
        if action.responsible_user_id:
            performers.append(self.practitioner(action.responsible_user))
        if action.responsible_other:
            # Someone outside kommun and region (Försäkringskassan, skolan …): named, not a resource.
            performers.append(Reference(display=action.responsible_other))
        if action.person_does:
            performers.append(self.patient_ref)
        extensions = []
        if action.description:
            extensions.append(Extension(url=EXTENSION_ACTION_DESCRIPTION, valueString=action.description))
        if action.person_does:
            extensions.append(Extension(url=EXTENSION_PERSON_DOES, valueString=action.person_does))
        detail = {
            "status": ACTIVITY_STATUS[action.status],
            "description": action.title,
        }
        if action.starts_on or action.ends_on:
            detail["scheduledPeriod"] = Period(start=action.starts_on, end=action.ends_on)
        if performers:
            detail["performer"] = performers
        if action.goal_id and action.goal_id in goal_refs:
            detail["goal"] = [goal_refs[action.goal_id]]
        if extensions:
            detail["extension"] = extensions
        return CarePlanActivity(detail=CarePlanActivityDetail(**detail))

    def care_plan(self, care_team_ref: Reference, goal_refs: dict[int, Reference], actions) -> None:
        sip = self.sip
        values = {
            "id": f"careplan-{sip.pk}",
            "identifier": [Identifier(system=SIP_SYSTEM, value=str(sip.pk))],
            "status": CAREPLAN_STATUS[sip.status],
            "intent": "plan",
            "title": "Samordnad individuell plan",
            "subject": self.patient_ref,
            "created": sip.created_at,
            "author": self.organisation(sip.lead_organisation),
            "careTeam": [care_team_ref],
        }
        if sip.what_matters:
            values["description"] = sip.what_matters
        if sip.established_on or sip.closed_on:
            values["period"] = Period(start=sip.established_on, end=sip.closed_on)
        if goal_refs:
            values["goal"] = list(goal_refs.values())
        activities = [self.activity(action, goal_refs) for action in actions]
        if activities:
            values["activity"] = activities
        notes = [Annotation(text=f"{label}: {text}") for label, text in (
            ("Det här gör jag själv", sip.own_contribution),
            ("Anledning och bakgrund", sip.reason),
        ) if text]
        if notes:
            values["note"] = notes
        self.plan_entries.append(self._entry(CarePlan(**values)))

    def bundle(self, generated_at: datetime.datetime) -> Bundle:
        entries = [*self.patient_entries, *self.organizations.values(), *self.practitioners.values(),
                   *self.plan_entries]
        return Bundle(type="collection", timestamp=generated_at, entry=entries)


def fhir_bundle(sip, *, generated_at: datetime.datetime | None = None) -> dict:
    """The plan as a FHIR R4 collection Bundle: Patient, Organizations, Practitioners, CareTeam, Goals, CarePlan."""
    builder = _BundleBuilder(sip)
    builder.organisation(sip.lead_organisation)
    participations = list(sip.participations.all())
    care_team_ref = builder.care_team(participations)
    goal_refs = {goal.pk: builder.goal(goal) for goal in sip.goals.all()}
    builder.care_plan(care_team_ref, goal_refs, sip.actions.all())
    bundle = builder.bundle(generated_at or timezone.now())
    return bundle.model_dump(mode="json", exclude_none=True)
