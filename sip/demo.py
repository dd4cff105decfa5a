"""Demo persons and plans in every status, shared between the demo organisations.

The persons are fictitious. Their numbers use the birth-number series 98x–99x of the kind Skatteverket's
published test personnummer use, with valid check digits; never use real people's numbers in a demo.
"""

import datetime

from django.utils import timezone

from organisations.models import Organisation, Unit, User
from sip import services
from sip.models import Person

# personnummer, first, last, gender, initiating user, other unit, target status, discharge track
PLANS = [
    ("19811218-9876", "Kim", "Andersson", "kvinna", "malmo.socsek", "Vuxenpsykiatrimottagning beroende Malmö",
     "upprattad", False),
    ("19850704-9867", "Sanna", "Björklund", "kvinna", "malmo.socsek", "Rådmannen", "uppfoljning", False),
    ("19920315-9984", "Elin", "Carlsson", "kvinna", "skane.behandlare", "Vuxen/missbruk Innerstaden", "kallad",
     True),
    ("19770921-9849", "Johan", "Dahlberg", "man", "malmo.socsek2", "Vuxenpsykiatrimottagning beroende Malmö",
     "initierad", False),
    ("19630112-9828", "Maja", "Ekström", "kvinna", "malmo.samordnare", "Rådmannen", "avslutad", False),
    ("19881130-9882", "Ali", "Farah", "man", "skane.samordnare", "Vuxen/missbruk Söder", "avbruten", False),
    ("19950228-9946", "Robin", "Gustafsson", "annat", "eskilstuna.socsek", "Beroendecentrum", "upprattad", False),
    ("20010505-9968", "Nora", "Hassan", "kvinna", "eskilstuna.socsek", "Beroendecentrum", "initierad", False),
]

GOALS = [("own", "long", "Jag vill ha ett eget boende."), ("own", "short", "Jag vill sova bättre."),
         ("shared", "short", "Regelbunden kontakt med beroendemottagningen.")]


def _plan(identifier, first, last, gender, username, other_unit_name, target, discharge):
    actor = User.objects.get(username=username)
    home_unit = actor.memberships.first().unit
    other_unit = Unit.objects.get(name=other_unit_name)
    person, _created = services.find_or_register_person(actor, identifier=identifier, first_name=first,
                                                        last_name=last, gender=gender, preferred_channel="sms",
                                                        phone="070-000 00 00")
    today = timezone.localdate()
    sip = services.create_sip(
        actor, person=person, initiating_unit=home_unit, units=[other_unit],
        # Johan's call is overdue and Kim has a late action, so the demo shows what the flags look like.
        need_identified_on=today - datetime.timedelta(days=30 if first == "Johan" else 10), discharge_track=discharge,
        discharge_ready_at=timezone.now() - datetime.timedelta(days=1) if discharge else None,
        reason="Behov av insatser från både socialtjänst och beroendevård.", coordinator=actor,
    )
    services.give_consent(actor, sip, organisation=Organisation.objects.get(pk=other_unit.organisation_id),
                          method="written", scope="Uppgifter som behövs för planen")
    services.give_consent(actor, sip, organisation=home_unit.organisation, method="written",
                          scope="Uppgifter som behövs för planen")
    goals = [services.create_goal(actor, sip, kind=k, horizon=h, text=t) for k, h, t in GOALS]
    services.create_action(actor, sip, title="Boendestöd", goal=goals[0], responsible_unit=home_unit,
                           responsible_user=actor, starts_on=today - datetime.timedelta(days=20),
                           ends_on=today + datetime.timedelta(days=60), status="pagar",
                           person_does="Jag går på visningar av lägenheter.")
    services.create_action(actor, sip, title="Samtalsbehandling", goal=goals[2], responsible_unit=other_unit,
                           starts_on=today - datetime.timedelta(days=10),
                           ends_on=today + datetime.timedelta(days=-1 if first == "Kim" else 45))
    services.create_action(actor, sip, title="Kontakt med Arbetsförmedlingen", responsible_other="Arbetsförmedlingen",
                           starts_on=today + datetime.timedelta(days=14))
    start = timezone.now().replace(hour=9, minute=0, second=0, microsecond=0) - datetime.timedelta(days=7)
    services.create_meeting(actor, sip, kind="sip", starts_at=start, ends_at=start + datetime.timedelta(hours=1),
                            location="Mötesrum Kajen", participants=[
                                {"kind": "person"}, {"kind": "unit", "unit": home_unit},
                                {"kind": "unit", "unit": other_unit}, {"kind": "staff", "user": actor}])
    path = {"initierad": [], "kallad": ["kallad"], "upprattad": ["kallad", "upprattad"],
            "uppfoljning": ["kallad", "upprattad", "uppfoljning"], "avslutad": ["kallad", "upprattad", "avslutad"],
            "avbruten": ["avbruten"]}[target]
    for status in path:
        sip.refresh_from_db()
        kwargs = {}
        if status == "upprattad":
            kwargs["follow_up_on"] = today + datetime.timedelta(days=90)
        if status == "avbruten":
            kwargs.update(closure_reason="person_declined", closure_note="Den enskilde tackar nej just nu.")
        services.transition_sip(actor, sip, status, sip.version, **kwargs)


def seed(stdout) -> None:
    created = 0
    for row in PLANS:
        canonical = row[0].replace("-", "")
        if Person.objects.filter(identifier=canonical).exists():
            continue
        _plan(*row)
        created += 1
    stdout.write(f"\nSIP: {created} nya demoplaner ({len(PLANS)} totalt).\n")
