import io

import pytest
from django.core.management import call_command

from organisations.models import Membership, Organisation, Role, Unit, User

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_covers_every_role(settings):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    counts = (Organisation.objects.count(), Unit.objects.count(), User.objects.count(), Membership.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert counts == (Organisation.objects.count(), Unit.objects.count(), User.objects.count(),
                      Membership.objects.count())
    names = set(Organisation.objects.values_list("name", flat=True))
    assert names == {"Malmö stad", "Region Skåne", "Eskilstuna kommun", "Region Sörmland"}
    for unit in ("Socialtjänst Innerstaden", "Socialtjänst Norr", "Socialtjänst Söder", "Socialtjänst Väster",
                 "Socialtjänst Öster", "Beroendecentrum Malmö", "Vuxenpsykiatrimottagning beroende Malmö",
                 "Rådmannen", "Socialförvaltningen", "Vård- och omsorgsförvaltningen", "Beroendecentrum"):
        assert Unit.objects.filter(name=unit).exists(), unit
    assert set(Membership.objects.values_list("role", flat=True)) == set(Role.values)
    text = out.getvalue()
    assert "malmo.socsek" in text and settings.DEMO_PASSWORD in text
    user = User.objects.get(username="malmo.socsek")
    assert user.check_password(settings.DEMO_PASSWORD)


def test_seed_demo_has_plans_in_every_status_shared_between_organisations():
    from sip.models import Person, Sip, SipStatus

    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    assert Person.objects.count() == 8
    assert set(Sip.objects.values_list("status", flat=True)) == set(SipStatus.values)
    for sip in Sip.objects.all():
        organisations = set(sip.participations.values_list("unit__organisation_id", flat=True))
        assert len(organisations) == 2


def test_seed_demo_has_deviations_in_every_state_over_two_years():
    import datetime

    from avvikelser.models import Deviation, Forum, State

    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    assert 200 <= Deviation.objects.count() <= 500
    assert set(Deviation.objects.values_list("state", flat=True)) == set(State.values)
    dates = Deviation.objects.values_list("occurred_on", flat=True)
    assert max(dates) - min(dates) > datetime.timedelta(days=600)
    for key in ("brister-i-aterkoppling", "otydlig-malgrupp", "bemotande"):
        assert Deviation.objects.filter(category__key=key).count() >= 20
    assert Forum.objects.count() == 2
