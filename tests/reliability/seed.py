"""Data for the fault tests, written into a database a subprocess app or worker uses; prints ids as JSON.

Run as `python -m tests.reliability.seed app [--migrate]` with DATABASE_URL set: migrates first when asked (one
process instead of two), then writes a user with an API token, persons and a plan with a planned meeting.
"""

from __future__ import annotations

import datetime
import json
import os
import sys


def app() -> dict:
    from django.utils import timezone
    from knox.models import AuthToken

    from organisations.models import Role
    from sip import services
    from sip.models import ParticipantKind
    from tests.factories import OrganisationFactory, UnitFactory, member

    org_a = OrganisationFactory(name="Kommun (felprov)")
    org_b = OrganisationFactory(name="Region (felprov)", kind="region")
    unit_a = UnitFactory(organisation=org_a, name="Vuxen/missbruk")
    unit_b = UnitFactory(organisation=org_b, name="Beroendecentrum")
    user = member(unit_a, Role.SOCIALSEKRETERARE, username="felprov")
    _instance, token = AuthToken.objects.create(user)
    person, _created = services.find_or_register_person(user, identifier="811218-9876", first_name="Kim",
                                                        last_name="Andersson", gender="kvinna")
    other, _created = services.find_or_register_person(user, identifier="19121212-1212", first_name="Tolva",
                                                       last_name="Tolvansson", gender="man")
    sip = services.create_sip(user, person=person, initiating_unit=unit_a, units=[unit_b])
    start = timezone.now() + datetime.timedelta(days=2)
    meeting = services.create_meeting(user, sip, kind="sip", starts_at=start,
                                      ends_at=start + datetime.timedelta(hours=1), location="Rum 1",
                                      participants=[{"kind": ParticipantKind.PERSON},
                                                    {"kind": ParticipantKind.UNIT, "unit": unit_a},
                                                    {"kind": ParticipantKind.UNIT, "unit": unit_b}])
    return {"token": token, "unit_a": unit_a.pk, "unit_b": unit_b.pk, "person": person.pk, "other": other.pk,
            "sip": sip.pk, "meeting": meeting.pk,
            "participants": list(meeting.participants.order_by("id").values_list("id", flat=True))}


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    what = sys.argv[1] if len(sys.argv) > 1 else "app"
    if "--migrate" in sys.argv:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
    print("SEED " + json.dumps({"app": app}[what]()))


if __name__ == "__main__":
    main()
