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

    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    forum_counts = _forum_counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert forum_counts == _forum_counts()  # idempotent: no second set of meetings, decisions or measures
    _check_forum_work(out.getvalue())
    assert 200 <= Deviation.objects.count() <= 500
    assert set(Deviation.objects.values_list("state", flat=True)) == set(State.values)
    dates = Deviation.objects.values_list("occurred_on", flat=True)
    assert max(dates) - min(dates) > datetime.timedelta(days=600)
    for key in ("brister-i-aterkoppling", "otydlig-malgrupp", "bemotande"):
        assert Deviation.objects.filter(category__key=key).count() >= 20
    assert Forum.objects.count() == 2


def _forum_counts():
    from avvikelser.models import AgendaItem, Decision, ForumMeeting, ForumMember, Measure

    return (ForumMember.objects.count(), ForumMeeting.objects.count(), AgendaItem.objects.count(),
            Decision.objects.count(), Measure.objects.count())


def _check_forum_work(text):
    """Both forums have members in every role, 3–4 held meetings with agenda and decisions, measures in several
    statuses (some overdue, some done with a before/after window), and one upcoming meeting."""
    import datetime

    from django.utils import timezone

    from avvikelser import forum_services, patterns
    from avvikelser.models import Forum, ForumMeeting, ForumMeetingStatus, ForumRole, MeasureStatus

    now, today = timezone.now(), timezone.localdate()
    for name in ("Styrgrupp Malmö stad och Region Skåne", "Samverkansforum Eskilstuna och Region Sörmland"):
        forum = Forum.objects.get(name=name)
        assert set(forum.members.values_list("role", flat=True)) == set(ForumRole.values), name
        past = ForumMeeting.objects.filter(forum=forum, starts_at__lt=now)
        assert 3 <= past.count() <= 4
        assert set(past.values_list("status", flat=True)) == {ForumMeetingStatus.HELD}
        upcoming = ForumMeeting.objects.get(forum=forum, starts_at__gte=now)
        assert upcoming.status == ForumMeetingStatus.PLANNED and upcoming.items.count() >= 2
        assert all(m.items.exists() and m.decisions.exists() for m in past)
        measures = list(forum_services.measures_of(forum))
        assert {MeasureStatus.PLANNED, MeasureStatus.IN_PROGRESS, MeasureStatus.DONE} <= {m.status for m in measures}
        assert any(forum_services.is_overdue(m, today) for m in measures)
        done = [m for m in measures if m.status == MeasureStatus.DONE]
        assert any(forum_services.before_after(m).window_days > 30 for m in done)
        assert forum_services.earlier_measures(upcoming)
        assert forum.decisions.filter(decided_on__lt=today - datetime.timedelta(days=200)).exists()
    malmo = Forum.objects.get(name="Styrgrupp Malmö stad och Region Skåne")
    flagged = {s["label"] for s in patterns.patterns_for(malmo)["series"] if s["flagged"]}
    assert "Brister i återkoppling (Malmö stad → Region Skåne)" in flagged  # the planted rise
    assert "malmo.processledare" in text.split("Forum (", 1)[1] and "Processledare" in text
