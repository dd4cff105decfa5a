"""Plans for the view and browser tests, built through the services like the screens build them."""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass

from django.utils import timezone
from stdnum import luhn

from sip import services
from sip.models import ParticipantKind

_serial = itertools.count(100)


def personnummer() -> str:
    """A fresh, valid personnummer (YYMMDD-NNNC) for each call."""
    n = next(_serial)
    body = f"7{n // 336 % 10}{n // 28 % 12 + 1:02d}{n % 28 + 1:02d}{100 + n % 900:03d}"
    return f"{body[:6]}-{body[6:]}{luhn.calc_check_digit(body)}"


@dataclass
class Built:
    sip: object
    person: object
    goal: object
    action: object
    meeting: object
    consents: list


def build_plan(actor, initiating_unit, *, units=(), consent_for=(), first_name="Kim", last_name="Andersson",
               protected=False, parts=True) -> Built:
    """A plan initiated by `actor` from `initiating_unit`, with `units` taking part and the person's consent
    recorded for the organisations in `consent_for`."""
    person, _created = services.find_or_register_person(
        actor, identifier=personnummer(), first_name=first_name, last_name=last_name, gender="kvinna",
        protected_identity=protected)
    sip = services.create_sip(actor, person=person, initiating_unit=initiating_unit, units=list(units),
                              reason="Behöver stöd från både kommun och region.")
    consents = [services.give_consent(actor, sip, organisation=org, method="written") for org in consent_for]
    goal = action = meeting = None
    if parts:
        goal = services.create_goal(actor, sip, text="Ett eget boende", kind="own")
        action = services.create_action(actor, sip, title="Boendestöd", responsible_unit=initiating_unit, goal=goal,
                                        starts_on=timezone.localdate(),
                                        ends_on=timezone.localdate() + datetime.timedelta(days=30))
        start = timezone.now() + datetime.timedelta(days=3)
        meeting = services.create_meeting(actor, sip, kind="sip", starts_at=start,
                                          ends_at=start + datetime.timedelta(hours=1), location="Rum 3",
                                          participants=[{"kind": ParticipantKind.PERSON},
                                                        {"kind": ParticipantKind.UNIT, "unit": initiating_unit}])
    sip.refresh_from_db()
    return Built(sip=sip, person=person, goal=goal, action=action, meeting=meeting, consents=consents)
