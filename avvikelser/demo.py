"""Demo forums (Malmö stad + Region Skåne, Eskilstuna kommun + Region Sörmland) with members in every forum role,
contact persons and agreements; a few hundred deviations over three years in every state — most often the three
areas the Malmö report names: återkoppling, målgrupp and bemötande — with a planted rise the dashboard flags; and
each forum's work, made through forum_services: past meetings with agenda, decisions and measures (some overdue,
some done with a before/after comparison) and one upcoming meeting with a proposed agenda."""

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
     {"eskilstuna.admin": "processledare", "sormland.admin": "ordforande", "eskilstuna.socsek": "ledamot",
      "sormland.behandlare": "ledamot"}),
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
HISTORY_DAYS = 1095  # three years: the pattern view's default period, so its baseline has data from the start
# A planted rise the dashboard should flag: the last reports are återkoppling from Innerstaden to Region Skåne
# in the last four months.
PLANTED = 14
PLANTED_KEY, PLANTED_PAIR, PLANTED_DAYS = "brister-i-aterkoppling", 0, 120


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
    else:
        _deviations(stdout, forums)
    for forum in sorted(forums.values(), key=lambda f: f.pk):
        _forum_work(stdout, forum)
    _print_members(stdout)


def _deviations(stdout, forums) -> None:
    rng = random.Random(2016)  # noqa: S311 - demo data; a fixed seed keeps it stable
    categories = {c.key: c for c in Category.objects.all()}
    keys = list(WEIGHTS)
    weights = [WEIGHTS[k] for k in keys]
    now = timezone.now()
    rows = []
    for index in range(COUNT):
        planted = index >= COUNT - PLANTED
        unit_name, counterpart_name = PAIRS[PLANTED_PAIR if planted else index % len(PAIRS)]
        unit = Unit.objects.select_related("organisation").get(name=unit_name)
        counterpart = Organisation.objects.get(name=counterpart_name)
        reporter = unit.memberships.filter(active=True).order_by("id").first().user
        forum = forums.get(frozenset({unit.organisation_id, counterpart.pk}))
        occurred = now - datetime.timedelta(days=rng.randint(1, PLANTED_DAYS if planted else HISTORY_DAYS))
        key = PLANTED_KEY if planted else rng.choices(keys, weights)[0]
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


# --- The forums' work: past meetings with agenda, decisions and measures, and one upcoming meeting ------------

# forum name → (editor, (kommun, region), {organisation: responsible person})
FORUM_WORK = {
    "Styrgrupp Malmö stad och Region Skåne": (
        "malmo.processledare", ("Malmö stad", "Region Skåne"),
        {"Malmö stad": "malmo.samordnare", "Region Skåne": "skane.samordnare"}),
    "Samverkansforum Eskilstuna och Region Sörmland": (
        "eskilstuna.admin", ("Eskilstuna kommun", "Region Sörmland"),
        {"Eskilstuna kommun": "eskilstuna.socsek", "Region Sörmland": "sormland.behandlare"}),
}
PAST_MEETINGS_DAYS_AGO = (330, 240, 150, 60)
NEXT_MEETING_IN_DAYS = 21
# Per past meeting: (decision, [(measure, category key, direction "kr"/"rk", owner "k"/"r", due days after the
# decision, status)]). Direction "kr": the kommun reports about the region.
DECISIONS = [
    ("Styrgruppen beslutar om en gemensam rutin för återkoppling på remisser mellan kommun och region, med "
     "svar inom fem arbetsdagar.",
     [("Ta fram gemensam rutin för återkoppling på remisser", "brister-i-aterkoppling", "kr", "r", 60, "done"),
      ("Informera alla enheter om rutinen på arbetsplatsträffar", "brister-i-aterkoppling", "kr", "k", 90,
       "done")]),
    ("Målgruppsbeskrivningen i överenskommelsen förtydligas så att ingen hänvisas tillbaka utan samordning.",
     [("Förtydliga målgruppsbeskrivningen i överenskommelsen", "otydlig-malgrupp", "rk", "r", 90, "in_progress"),
      ("Kontaktlista för samråd vid oklar målgrupp", "otydlig-malgrupp", "kr", "k", 45, "cancelled")]),
    ("Kallelser till SIP-möten ska bekräftas inom tre dagar; processledarna följer upp varje kvartal.",
     [("Checklista för kallelse och bekräftelse av SIP-möten", "sip", "kr", "k", 60, "planned"),
      ("Gemensam utbildning i bemötande för mottagningarna", "bemotande", "kr", "r", 240, "in_progress")]),
    ("Meddelande om utskrivningsklar skickas senast dagen före utskrivning.",
     [("Se över rutinen vid utskrivning från slutenvård", "utskrivning", "rk", "r", 120, "planned")]),
]
MINUTES = "Styrgruppen gick igenom nya avvikelser, mönster och uppföljningen av tidigare åtgärder."


def _forum_work(stdout, forum: Forum) -> None:
    from avvikelser import forum_queries, forum_services
    from avvikelser.models import AgendaKind, ForumMeeting, ForumMeetingStatus

    work = FORUM_WORK.get(forum.name)
    if work is None or ForumMeeting.objects.filter(forum=forum).exists():
        return
    editor_name, (kommun_name, region_name), responsible = work
    editor = User.objects.get(username=editor_name)
    kommun, region = (Organisation.objects.get(name=kommun_name), Organisation.objects.get(name=region_name))
    people = {name: User.objects.get(username=username) for name, username in responsible.items()}
    categories = {c.key: c for c in Category.objects.all()}
    reports = forum_queries.reports_of(forum)
    now = timezone.localtime()
    decisions = measures = 0
    for days_ago, (text, planned_measures) in zip(PAST_MEETINGS_DAYS_AGO, DECISIONS, strict=True):
        starts_at = (now - datetime.timedelta(days=days_ago)).replace(hour=13, minute=0, second=0, microsecond=0)
        meeting = forum_services.create_meeting(editor, forum.pk, starts_at=starts_at, location="Stadshuset, rum 4")
        forum_services.create_item(editor, meeting, title="Nya avvikelser sedan förra mötet",
                                   kind=AgendaKind.OTHER)
        key, direction = planned_measures[0][1], planned_measures[0][2]
        source, target = (kommun, region) if direction == "kr" else (region, kommun)
        fingerprint = forum_queries.fingerprint(key, source.pk, target.pk)
        forum_services.create_item(editor, meeting, kind=AgendaKind.SIGNAL, fingerprint=fingerprint,
                                   title=f"Ny signal: {categories[key].name} ({source.name} → {target.name})")
        forum_services.create_item(editor, meeting, title="Uppföljning av tidigare åtgärder",
                                   kind=AgendaKind.FOLLOW_UP)
        decided_on = starts_at.date()
        linked = list(reports.filter(category=categories[key], reporting_organisation=source,
                                     counterpart_organisation=target, occurred_on__lt=decided_on)
                      .order_by("-occurred_on", "-id")[:3])
        decision = forum_services.create_decision(editor, forum.pk, text=text, decided_on=decided_on,
                                                  meeting=meeting, fingerprints=[fingerprint], deviations=linked)
        decisions += 1
        for title, measure_key, measure_direction, owner, due_days, status in planned_measures:
            source, target = (kommun, region) if measure_direction == "kr" else (region, kommun)
            owner_organisation = region if owner == "r" else kommun
            forum_services.create_measure(
                editor, decision, title=title, owner_organisation=owner_organisation,
                responsible_user=people[owner_organisation.name],
                due_on=decided_on + datetime.timedelta(days=due_days), status=status,
                category=categories[measure_key], from_organisation=source, to_organisation=target)
            measures += 1
        meeting.refresh_from_db()
        forum_services.update_meeting(editor, meeting, meeting.version, status=ForumMeetingStatus.HELD,
                                      minutes=MINUTES)
    starts_at = (now + datetime.timedelta(days=NEXT_MEETING_IN_DAYS)).replace(hour=13, minute=0, second=0,
                                                                               microsecond=0)
    upcoming = forum_services.create_meeting(editor, forum.pk, starts_at=starts_at, location="Stadshuset, rum 4")
    forum_services.create_item(editor, upcoming, title="Genomgång av årets sammanställning", kind=AgendaKind.OTHER)
    forum_services.propose_agenda(editor, upcoming)
    stdout.write(f"Forum {forum.name}: {len(PAST_MEETINGS_DAYS_AGO) + 1} möten, {decisions} beslut, "
                 f"{measures} åtgärder.\n")


def _print_members(stdout) -> None:
    """The forum roles beside the demo logins that organisations.demo printed."""
    from avvikelser.models import ForumRole

    stdout.write("\nForum (logga in som någon av dessa för att se styrgruppens översikt):\n")
    for forum in Forum.objects.order_by("name"):
        stdout.write(f"  {forum.name}\n")
        for member in forum.members.select_related("user").order_by("role", "user__username"):
            label = ForumRole(member.role).label if member.role in ForumRole.values else member.role
            stdout.write(f"    {member.user.username.ljust(22)} {label}\n")
