"""Fixtures for the sip tests. Shared file: keep fixtures clearly named after what they are for."""

import datetime
from dataclasses import dataclass

import pytest
from django.utils import timezone

from organisations.models import Organisation, Unit, User
from sip import queries, services
from sip.models import ConsentMethod, Meeting, Person, Sip
from tests.factories import OrganisationFactory, UnitFactory, member

# --- export_plan: a realistic, established plan for the FHIR, iCalendar and print exports -----------------

EXPORT_PERSON = {"identifier": "811218-9876", "first_name": "Åsa", "last_name": "Lindström"}
EXPORT_TEXTS = {
    "reason": "Känslig bakgrund: återkommande inläggningar och skulder.",
    "what_matters": "Att få sova på nätterna och att träffa min dotter varje vecka.",
    "own_contribution": "Jag går på promenad varje dag och för sömndagbok.",
    "minutes": "Minnesanteckning: mycket privat innehåll om hälsan.",
    "own_goal": "Jag ska sova minst sex timmar per natt.",
    "shared_goal": "Åsa har en stabil boendesituation.",
    "action_region": "Återkommande samtal på mottagningen om ångest och sömn",
    "action_kommun": "Boendestöd två gånger i veckan",
    "action_other": "Arbetsträning via Arbetsförmedlingen",
}


@dataclass
class ExportPlan:
    sip: Sip  # loaded with sip.queries.sip_detail: every part prefetched
    person: Person
    meeting: Meeting
    kommun: Organisation
    region: Organisation
    unit_kommun: Unit
    unit_region: Unit
    socialsekreterare: User
    behandlare: User

    def reload(self) -> Sip:
        self.sip = queries.sip_detail(self.socialsekreterare, self.sip.pk)
        return self.sip


@pytest.fixture
def export_plan(db) -> ExportPlan:
    kommun = OrganisationFactory(name="Eskilstuna kommun (export)")
    region = OrganisationFactory(name="Region Sörmland (export)", kind="region")
    unit_kommun = UnitFactory(organisation=kommun, name="Vuxenenheten")
    unit_region = UnitFactory(organisation=region, name="Psykiatrimottagning Mälarsjukhuset")
    socialsekreterare = member(unit_kommun, "socialsekreterare", username="export_soc", first_name="Karin",
                               last_name="Öberg")
    behandlare = member(unit_region, "behandlare", username="export_beh", first_name="Jonas", last_name="Ek")

    person, _ = services.find_or_register_person(
        socialsekreterare, **EXPORT_PERSON, gender="kvinna", phone="070-123 45 67", address="Storgatan 1",
        postal_code="632 20", city="Eskilstuna",
    )
    sip = services.create_sip(socialsekreterare, person=person, initiating_unit=unit_kommun, units=[unit_region],
                              coordinator=socialsekreterare, reason=EXPORT_TEXTS["reason"])
    services.give_consent(socialsekreterare, sip, organisation=kommun, method=ConsentMethod.WRITTEN)
    services.give_consent(socialsekreterare, sip, organisation=region, method=ConsentMethod.WRITTEN)
    participation = sip.participations.get(unit=unit_region)
    participation.contact = behandlare
    participation.save(update_fields=["contact"])
    sip = services.update_sip(socialsekreterare, sip, sip.version, what_matters=EXPORT_TEXTS["what_matters"],
                              own_contribution=EXPORT_TEXTS["own_contribution"])

    own = services.create_goal(socialsekreterare, sip, kind="own", horizon="short", text=EXPORT_TEXTS["own_goal"],
                               target_on=timezone.localdate() + datetime.timedelta(days=90))
    services.create_goal(socialsekreterare, sip, kind="shared", horizon="long", text=EXPORT_TEXTS["shared_goal"])
    today = timezone.localdate()
    services.create_action(socialsekreterare, sip, title=EXPORT_TEXTS["action_region"], goal=own,
                           responsible_unit=unit_region, responsible_user=behandlare,
                           starts_on=today, ends_on=today + datetime.timedelta(days=120), status="pagar",
                           description="Varannan vecka.")
    services.create_action(socialsekreterare, sip, title=EXPORT_TEXTS["action_kommun"],
                           responsible_organisation=kommun, starts_on=today + datetime.timedelta(days=7))
    services.create_action(socialsekreterare, sip, title=EXPORT_TEXTS["action_other"],
                           responsible_other="Arbetsförmedlingen", person_does="Jag ringer handläggaren.",
                           ends_on=today + datetime.timedelta(days=60))

    starts_at = timezone.make_aware(datetime.datetime.combine(today + datetime.timedelta(days=14),
                                                              datetime.time(9, 30)))
    meeting = services.create_meeting(
        socialsekreterare, sip, kind="sip", starts_at=starts_at, ends_at=starts_at + datetime.timedelta(hours=1),
        location="Rådhuset, rum 4", video_link="https://video.example.org/sip-42",
        minutes=EXPORT_TEXTS["minutes"],
        participants=[{"kind": "person", "name": person.full_name}, {"kind": "staff", "user": behandlare}],
    )
    sip = services.transition_sip(socialsekreterare, sip, "kallad", sip.version)
    sip = services.transition_sip(socialsekreterare, sip, "upprattad", sip.version,
                                  follow_up_on=today + datetime.timedelta(days=180))
    plan = ExportPlan(sip=sip, person=person, meeting=meeting, kommun=kommun, region=region,
                      unit_kommun=unit_kommun, unit_region=unit_region, socialsekreterare=socialsekreterare,
                      behandlare=behandlare)
    plan.reload()
    return plan
