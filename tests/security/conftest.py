"""Shared fixtures of the security tests: a small seeded world with a real object behind every API path (for the
schema fuzzer), and the counters the lead quotes ("requests fuzzed", "permission cases checked")."""

from __future__ import annotations

import datetime
import json
import os
from collections import Counter
from dataclasses import dataclass, field

# Figures of this run, printed at the end of the session (and written to $SAMVERKAN_SECURITY_FIGURES as JSON).
FIGURES: Counter = Counter()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not FIGURES:
        return
    terminalreporter.section("security figures")
    for name, value in sorted(FIGURES.items()):
        terminalreporter.write_line(f"{name}: {value}")
    path = os.environ.get("SAMVERKAN_SECURITY_FIGURES")
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(dict(FIGURES), handle, indent=2, sort_keys=True)


@dataclass
class FuzzWorld:
    """Who calls (a knox token per role) and which rows the paths may name."""

    tokens: dict[str, str | None] = field(default_factory=dict)  # role label → raw token (None: anonymous)
    public_tokens: list[str] = field(default_factory=list)


def _token(user) -> str:
    from knox.models import AuthToken

    _instance, raw = AuthToken.objects.create(user=user)
    return raw


def seed_fuzz_world(world) -> FuzzWorld:
    """On top of tests.conftest's World (kommun A, region B, a user per role): two plans with every part, a
    consent, a held meeting with an invitation, deviations in several states with comments, two forums with
    meetings, agenda items, decisions and measures, a routine check and audit entries."""
    from django.utils import timezone

    from avvikelser import services as deviations
    from avvikelser.models import Category, ContactPerson, ForumMember
    from organisations import audit
    from organisations.models import AuditAction, Role
    from sip import services as sip_services
    from sip.delaktighet import services as delaktighet
    from tests.api.matrix_forum_work import fw
    from tests.conftest import make_plan

    plan = make_plan(world)
    kommun, region = world.users_a[Role.SOCIALSEKRETERARE], world.users_b[Role.BEHANDLARE]

    # Plan 2: initiated by the region, the kommun takes part, both with consent.
    person, _created = sip_services.find_or_register_person(
        region, identifier="850704-9867", first_name="Alex", last_name="Berg", gender="man")
    sip2 = sip_services.create_sip(region, person=person, initiating_unit=world.unit_b, units=[world.unit_a])
    sip_services.give_consent(region, sip2, organisation=world.org_b, method="oral", scope="Hela planen")
    sip_services.give_consent(region, sip2, organisation=world.org_a, method="written", scope="Hela planen",
                              valid_until=timezone.localdate() + datetime.timedelta(days=365))
    sip_services.create_goal(region, sip2, text="Minskat bruk", kind="shared")

    # A held meeting with the person invited (paper channel) and a live answer link.
    held = plan.meeting
    participant = held.participants.get(kind="person")
    sip_services.hold_meeting(kommun, plan.sip, held, held.version, attendance={participant.pk: True})
    invitations = delaktighet.invite_attendees(held.pk)
    public_tokens = [delaktighet.issue_link(inv).rstrip("/").rsplit("/", 1)[-1] for inv in invitations]

    # Deviations: A → B submitted and answered in a forum, a draft, and B → A submitted.
    ContactPerson.objects.create(organisation=world.org_b, user=region)
    ContactPerson.objects.create(organisation=world.org_a, user=world.users_a[Role.SAMORDNARE])
    work = fw(world, "own")  # the forum A–B with A's processledare and styrgruppsledamot (and the "other" forum)
    fw(world, "other")
    ForumMember.objects.get_or_create(forum=work.forum, user=world.users_b[Role.STYRGRUPPSLEDAMOT],
                                      defaults={"role": "ledamot"})
    values = {"occurred_on": timezone.localdate() - datetime.timedelta(days=3),
              "category": Category.objects.get(key="sip"), "what_happened": "Kallelsen besvarades inte."}
    submitted = deviations.create_draft(kommun, reporting_unit=world.unit_a, counterpart_organisation=world.org_b,
                                        **values)
    submitted = deviations.transition(kommun, submitted, "inkommen", submitted.version)
    deviations.comment(region, submitted, "Vi tittar på rutinen.")
    answered = deviations.create_draft(kommun, reporting_unit=world.unit_a, counterpart_organisation=world.org_b,
                                       counterpart_unit=world.unit_b, **values)
    answered = deviations.transition(kommun, answered, "inkommen", answered.version)
    answered = deviations.transition(region, answered, "mottagen", answered.version)
    deviations.transition(region, answered, "besvarad", answered.version, analysis="Rutinen följdes inte.",
                          measures="Ny rutin för kallelser.")
    deviations.create_draft(kommun, reporting_unit=world.unit_a, counterpart_organisation=world.org_b, **values)
    reverse = deviations.create_draft(region, reporting_unit=world.unit_b, counterpart_organisation=world.org_a,
                                      **values)
    deviations.transition(region, reverse, "inkommen", reverse.version)

    # Rutinkollen and the access log.
    from tests.api.test_permission_matrix import routine_check_of

    routine_check_of(world, "own")
    routine_check_of(world, "other")
    audit.record(world.users_a[Role.ORG_ADMIN], AuditAction.READ, kommun)

    tokens = {
        "socialsekreterare": _token(kommun),
        "behandlare": _token(region),
        "org_admin": _token(world.users_a[Role.ORG_ADMIN]),
        "processledare": _token(world.users_a[Role.PROCESSLEDARE]),
        "styrgruppsledamot": _token(world.users_b[Role.STYRGRUPPSLEDAMOT]),
        "samordnare": _token(world.users_a[Role.SAMORDNARE]),
        "no_membership": _token(world.outsider),
        "anonymous": None,
    }
    return FuzzWorld(tokens=tokens, public_tokens=public_tokens)
