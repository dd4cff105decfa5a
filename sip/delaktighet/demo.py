"""Demo answers: held follow-up meetings over the past year with invitations and answers — enough for a
report with cells large enough to show and one small enough to be suppressed — and rutinkollen results."""

import datetime
import random

from django.db import transaction
from django.utils import timezone

from organisations.models import Unit, User
from sip import services as sip_services
from sip.delaktighet import services
from sip.delaktighet.models import Invitation, RoutineCheck
from sip.models import Meeting, ParticipantKind, Sip

SCALE_CODES = ["information", "lyssnad", "viktigt", "mal", "vem_gor_vad", "uppfoljning", "samarbete", "respekt",
               "meningsfull"]
# plan person (by personnummer) → how many answered meetings; the one man's 4 answers make a suppressed cell.
ANSWERS = {"198112189876": 8, "198507049867": 8, "199203159984": 6, "199502289946": 6, "197709219849": 4}
FREE_TEXT = ["Bra att alla var på samma möte.", "Jag vill ha kortare möten.", ""]


def _answer(rng: random.Random, woman: bool) -> dict:
    base = 4 if woman else 5
    answers = {code: max(1, min(6, base + rng.choice([-2, -1, 0, 0, 1]))) for code in SCALE_CODES
               if rng.random() > 0.1}
    answers["till_oss"] = rng.choice(FREE_TEXT)
    return answers


@transaction.atomic
def _answered_meetings(sip: Sip, count: int, rng: random.Random) -> None:
    actor = sip.coordinator or sip.created_by
    for index in range(count):
        start = (timezone.now() - datetime.timedelta(days=30 * (count - index) + 3)).replace(
            hour=10, minute=0, second=0, microsecond=0)
        meeting = sip_services.create_meeting(actor, sip, kind="follow_up", starts_at=start,
                                              ends_at=start + datetime.timedelta(hours=1), location="Mottagningen",
                                              participants=[{"kind": ParticipantKind.PERSON}])
        person = meeting.participants.get()
        sip_services.hold_meeting(actor, sip, meeting, meeting.version, attendance={person.pk: True})
        Meeting.objects.filter(pk=meeting.pk).update(held_at=start + datetime.timedelta(hours=1))
        for invitation in services.invite_attendees(meeting.pk):
            Invitation.objects.filter(pk=invitation.pk).update(channel="paper")
            token = services.issue_link(invitation).rstrip("/").rsplit("/", 1)[-1]
            if rng.random() < 0.85:
                services.submit(token, _answer(rng, sip.person.gender == "kvinna"),
                                share_with_staff=rng.random() < 0.3)


def _routine_checks() -> int:
    created = 0
    answers_by_period = [("no", "partly"), ("partly", "yes"), ("yes", "yes")]
    codes = ["erbjuder_sip", "samtycke_forst", "kallelse_i_tid", "kopia_klarsprak", "ansvar_datum",
             "uppfoljning_satt", "enkat_erbjuds", "avvikelser_rapporteras"]
    for unit_name, username in (("Vuxen/missbruk Innerstaden", "malmo.samordnare"),
                                ("Vuxenpsykiatrimottagning beroende Malmö", "skane.samordnare")):
        unit, user = Unit.objects.get(name=unit_name), User.objects.get(username=username)
        for half, (first, rest) in enumerate(answers_by_period):
            start = datetime.date(timezone.localdate().year - 1, 1, 1) + datetime.timedelta(days=182 * half)
            if RoutineCheck.objects.filter(unit=unit, period_start=start).exists():
                continue
            answers = {code: {"value": first if i % 3 == 0 else rest, "comment": ""} for i, code in enumerate(codes)}
            services.record_routine_check(user, unit=unit, period_start=start,
                                          period_end=start + datetime.timedelta(days=181), answers=answers)
            created += 1
    return created


def seed(stdout) -> None:
    rng = random.Random(2018)  # noqa: S311 - demo data, not secrets; a fixed seed keeps the demo stable
    made = 0
    for identifier, count in ANSWERS.items():
        sip = Sip.objects.filter(person__identifier=identifier).select_related("person").first()
        if sip is None or Invitation.objects.filter(sip=sip).exists():
            continue
        _answered_meetings(sip, count, rng)
        made += 1
    checks = _routine_checks()
    stdout.write(f"\nDelaktighet: enkätsvar för {made} planer, {checks} rutinkontroller.\n")
