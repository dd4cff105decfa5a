"""Demo forums (Malmö stad + Region Skåne, Eskilstuna kommun + Region Sörmland) with members, contact
persons and agreements, and a few hundred deviations over two years in every state — most often the
three areas the Malmö report names: återkoppling, målgrupp and bemötande."""

import datetime
import random

from django.utils import timezone

from avvikelser.models import (
    Agreement,
    Category,
    ContactPerson,
    Deviation,
    DeviationChange,
    Forum,
    ForumMember,
    State,
)
from avvikelser.services import add_working_days
from organisations.models import Organisation, Unit, User

FORUMS = [
    ("Styrgrupp Malmö stad och Region Skåne", ["Malmö stad", "Region Skåne"],
     {"malmo.processledare": "processledare", "skane.processledare": "processledare",
      "malmo.styrgrupp": "ordforande", "skane.styrgrupp": "ledamot"}),
    ("Samverkansforum Eskilstuna och Region Sörmland", ["Eskilstuna kommun", "Region Sörmland"],
     {"eskilstuna.admin": "processledare", "sormland.admin": "ledamot"}),
]
CONTACTS = {"Malmö stad": ["malmo.samordnare"], "Region Skåne": ["skane.samordnare"],
            "Eskilstuna kommun": ["eskilstuna.socsek"], "Region Sörmland": ["sormland.behandlare"]}
AGREEMENTS = ["Överenskommelse om samverkan kring personer med missbruk och beroende", "Rutin för SIP",
              "Rutin vid utskrivning från slutenvård"]
# category key → weight; the three Malmö areas dominate
WEIGHTS = {"brister-i-aterkoppling": 9, "otydlig-malgrupp": 6, "bemotande": 5, "sip": 4,
           "informationsoverforing": 3, "utskrivning": 3, "tillganglighet": 2, "ansvarsfordelning": 2,
           "lakemedel": 1, "ovrigt": 1}
TEXTS = {
    "brister-i-aterkoppling": "Vi fick ingen återkoppling efter remissen trots flera påminnelser.",
    "otydlig-malgrupp": "Mottagningen ansåg att personen inte tillhörde målgruppen och hänvisade tillbaka.",
    "bemotande": "Personen upplevde att hen inte blev lyssnad på vid besöket.",
    "sip": "Kallelsen till SIP-mötet besvarades inte.",
    "informationsoverforing": "Läkemedelslistan kom inte med vid överlämningen.",
    "utskrivning": "Meddelande om utskrivningsklar kom samma dag som utskrivningen.",
    "tillganglighet": "Det gick inte att nå mottagningen på telefon under två dagar.",
    "ansvarsfordelning": "Oklart vem som skulle ordna boendestödet efter behandlingen.",
    "lakemedel": "Dosering ändrades utan att hemtjänsten informerades.",
    "ovrigt": "Mötet flyttades utan att alla parter fick veta det.",
}
PAIRS = [("Vuxen/missbruk Innerstaden", "Region Skåne"), ("Vuxen/missbruk Söder", "Region Skåne"),
         ("Vuxenpsykiatrimottagning beroende Malmö", "Malmö stad"), ("Rådmannen", "Malmö stad"),
         ("Vuxenenheten missbruk", "Region Sörmland"), ("Beroendecentrum", "Eskilstuna kommun")]
COUNT = 360


def _forums() -> dict[frozenset, Forum]:
    forums = {}
    for name, organisations, members in FORUMS:
        forum, _ = Forum.objects.get_or_create(name=name)
        orgs = list(Organisation.objects.filter(name__in=organisations))
        forum.organisations.set(orgs)
        for username, role in members.items():
            ForumMember.objects.get_or_create(forum=forum, user=User.objects.get(username=username),
                                              defaults={"role": role})
        for agreement in AGREEMENTS:
            Agreement.objects.get_or_create(forum=forum, name=agreement)
        forums[frozenset(o.pk for o in orgs)] = forum
    for organisation, usernames in CONTACTS.items():
        for username in usernames:
            ContactPerson.objects.get_or_create(organisation=Organisation.objects.get(name=organisation),
                                                user=User.objects.get(username=username))
    return forums


def seed(stdout) -> None:
    forums = _forums()
    if Deviation.objects.exists():
        stdout.write("\nAvvikelser: demodata finns redan.\n")
        return
    rng = random.Random(2016)  # noqa: S311 - demo data; a fixed seed keeps it stable
    categories = {c.key: c for c in Category.objects.all()}
    keys = list(WEIGHTS)
    weights = [WEIGHTS[k] for k in keys]
    now = timezone.now()
    rows = []
    for index in range(COUNT):
        unit_name, counterpart_name = PAIRS[index % len(PAIRS)]
        unit = Unit.objects.select_related("organisation").get(name=unit_name)
        counterpart = Organisation.objects.get(name=counterpart_name)
        reporter = unit.memberships.filter(active=True).order_by("id").first().user
        forum = forums.get(frozenset({unit.organisation_id, counterpart.pk}))
        occurred = now - datetime.timedelta(days=rng.randint(1, 730))
        key = rng.choices(keys, weights)[0]
        age = (now - occurred).days
        state = (State.AVSLUTAD if age > 90 else rng.choice([State.INKOMMEN, State.MOTTAGEN, State.BESVARAD,
                                                             State.AVSLUTAD, State.ESKALERAD, State.UTKAST]))
        submitted = None if state == State.UTKAST else occurred + datetime.timedelta(days=rng.randint(0, 3))
        deviation = Deviation(
            reporter=reporter, reporting_unit=unit, reporting_organisation=unit.organisation,
            counterpart_organisation=counterpart, forum=forum, occurred_on=occurred.date(),
            agreement=forum.agreements.order_by("id")[index % 3] if forum else None, category=categories[key],
            what_happened=TEXTS[key], consequence=rng.choice(["ingen", "ingen", "risk", "okand", "skada"]),
            state=state, submitted_at=submitted)
        if submitted:
            deviation.acknowledge_due_at = add_working_days(submitted, forum.acknowledge_working_days if forum else 5)
            deviation.answer_due_at = submitted + datetime.timedelta(days=forum.answer_days if forum else 60)
        if state in (State.MOTTAGEN, State.BESVARAD, State.AVSLUTAD):
            deviation.acknowledged_at = submitted + datetime.timedelta(days=rng.randint(1, 9))
        if state in (State.BESVARAD, State.AVSLUTAD):
            deviation.answered_at = deviation.acknowledged_at + datetime.timedelta(days=rng.randint(3, 70))
            deviation.analysis = "Rutinen var inte känd av alla i arbetsgruppen."
            deviation.measures = "Genomgång av rutinen på arbetsplatsträff."
        if state == State.AVSLUTAD:
            deviation.closed_at = deviation.answered_at + datetime.timedelta(days=rng.randint(1, 14))
        if state == State.ESKALERAD:
            deviation.escalated_at = submitted + datetime.timedelta(days=rng.randint(10, 40))
        rows.append(deviation)
    created = Deviation.objects.bulk_create(rows, batch_size=500)
    DeviationChange.objects.bulk_create([
        DeviationChange(deviation=d, actor=d.reporter, action="create", field="state", new=d.state) for d in created
    ], batch_size=1000)
    stdout.write(f"\nAvvikelser: {len(created)} demorapporter i {len(forums)} forum.\n")
