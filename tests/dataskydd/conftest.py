"""Helpers for the data-protection tests: persons, closed plans, answers and deviations built through the services."""

import datetime

import pytest
from django.utils import timezone
from stdnum import luhn

from organisations.models import Role


def personnummer(i: int) -> str:
    body = f"750203{i:03d}"
    return f"{body[:6]}-{body[6:]}{luhn.calc_check_digit(body)}"


def register(world, i: int, *, org="a", first_name="Test", last_name="Person"):
    from sip import services

    actor = (world.users_a if org == "a" else world.users_b)[Role.SOCIALSEKRETERARE]
    person, _created = services.find_or_register_person(actor, identifier=personnummer(i), first_name=first_name,
                                                        last_name=last_name, gender="man")
    return person


def closed_plan(world, person, closed_on: datetime.date):
    """A plan of organisation A that was stopped (avbruten) on `closed_on`."""
    from sip import services
    from sip.models import Sip

    actor = world.users_a[Role.SOCIALSEKRETERARE]
    sip = services.create_sip(actor, person=person, initiating_unit=world.unit_a)
    services.create_goal(actor, sip, text="Eget boende", kind="own")
    sip = services.transition_sip(actor, sip, "avbruten", sip.version, closure_reason="need_ended")
    Sip.objects.filter(pk=sip.pk).update(closed_on=closed_on)
    return Sip.objects.get(pk=sip.pk)


def answered_invitation(world, plan, *, share=True, free_text="Tack för att ni lyssnade."):
    """The plan's meeting held, the person invited, a paper answer registered with a free-text part."""
    from sip import services as sip_services
    from sip.delaktighet import services as delaktighet

    actor = world.users_a[Role.SOCIALSEKRETERARE]
    person = plan.meeting.participants.get(kind="person")
    meeting = plan.meeting
    meeting.refresh_from_db()
    sip_services.hold_meeting(actor, plan.sip, meeting, meeting.version, attendance={person.pk: True})
    [invitation] = delaktighet.invite_attendees(meeting.pk)
    delaktighet.issue_link(invitation)
    delaktighet.register_paper_answer(actor, plan.sip.pk, invitation.pk,
                                      {"respekt": 5, "lyssnad": 4, "till_oss": free_text}, share_with_staff=share)
    return invitation


def closed_deviation(world, sip, closed_at):
    from avvikelser import services as deviations
    from avvikelser.models import Category, Comment, Deviation

    reporter = world.users_a[Role.SOCIALSEKRETERARE]
    draft = deviations.create_draft(reporter, reporting_unit=world.unit_a, counterpart_organisation=world.org_b,
                                    occurred_on=timezone.localdate(), category=Category.objects.get(key="sip"),
                                    what_happened="Kallelsen besvarades inte i tid.", sip=sip)
    Comment.objects.create(deviation=draft, author=reporter, organisation=world.org_a, text="Vi följer upp.")
    Deviation.objects.filter(pk=draft.pk).update(state="avslutad", closed_at=closed_at, submitted_at=closed_at)
    return Deviation.objects.get(pk=draft.pk)


@pytest.fixture
def admin_a(world):
    return world.users_a[Role.ORG_ADMIN]
