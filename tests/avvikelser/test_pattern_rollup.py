"""The pattern view's rollup (ForumPatternCount, kept by triggers on PostgreSQL) always equals the reports: after
service calls, bulk inserts, updates of any counted field, deletes and truncation; and the pattern view reads
the same numbers from it as from the reports, for weeks, months and quarters."""

import datetime

import pytest
from django.db import connection

from avvikelser import patterns, rollup, services
from avvikelser.models import Category, Deviation, Forum, ForumPatternCount, State
from organisations.models import Role
from tests.conftest import requires_postgres

pytestmark = pytest.mark.django_db


@pytest.fixture
def forum(world):
    requires_postgres()
    forum = Forum.objects.create(name="Styrgrupp (rollup)")
    forum.organisations.set([world.org_a, world.org_b])
    return forum


def bulk(world, forum, days, *, state=State.INKOMMEN, key="sip", other=""):
    Deviation.objects.bulk_create([Deviation(
        reporter=world.users_a[Role.SOCIALSEKRETERARE], reporting_unit=world.unit_a, reporting_organisation=world.org_a,
        counterpart_organisation=world.org_b, forum=forum, occurred_on=day, category=Category.objects.get(key=key),
        agreement_other=other, what_happened="Kallelsen kom inte fram.", state=state) for day in days])


def assert_consistent():
    assert rollup.differences() == []


def test_rollup_follows_every_kind_of_write(world, forum):
    start = datetime.date(2024, 1, 25)  # weeks that straddle month ends: several fragments
    days = [start + datetime.timedelta(days=i % 40) for i in range(200)]
    bulk(world, forum, days)
    bulk(world, forum, days[:20], state=State.UTKAST)  # drafts are not counted
    bulk(world, forum, days[:30], other="Lokal rutin", key="brister-i-aterkoppling")
    assert_consistent()
    assert sum(ForumPatternCount.objects.values_list("n", flat=True)) == 230

    reporter = world.users_a[Role.SOCIALSEKRETERARE]
    draft = services.create_draft(reporter, reporting_unit=world.unit_a, counterpart_organisation=world.org_b,
                                  occurred_on=datetime.date(2024, 2, 29), category=Category.objects.get(key="sip"),
                                  what_happened="Återkoppling uteblev trots överenskommelse.")
    assert_consistent()
    services.transition(reporter, draft, State.INKOMMEN, draft.version)  # submitting counts it
    assert_consistent()

    # Updates of each counted field, in bulk and one by one; a counted report back to draft; deletes.
    some = list(Deviation.objects.exclude(state=State.UTKAST).order_by("id").values_list("id", flat=True)[:60])
    Deviation.objects.filter(pk__in=some[:10]).update(occurred_on=datetime.date(2024, 3, 31))
    Deviation.objects.filter(pk__in=some[10:20]).update(category=Category.objects.get(key="brister-i-aterkoppling"))
    Deviation.objects.filter(pk__in=some[20:25]).update(counterpart_organisation=world.org_a,
                                                        reporting_organisation=world.org_b)
    Deviation.objects.filter(pk__in=some[25:30]).update(agreement_other="Annan rutin")
    Deviation.objects.filter(pk__in=some[30:35]).update(state=State.UTKAST)
    Deviation.objects.filter(pk__in=some[35:40]).update(forum=None)
    Deviation.objects.filter(pk__in=some[40:45]).update(state=State.MOTTAGEN)  # not a counted change
    Deviation.objects.filter(state=State.UTKAST).update(state=State.INKOMMEN)
    assert_consistent()
    Deviation.objects.filter(pk__in=some[45:60]).delete()
    assert_consistent()

    total = Deviation.objects.filter(forum=forum).exclude(state=State.UTKAST).count()
    assert sum(ForumPatternCount.objects.filter(forum_id=forum.pk).values_list("n", flat=True)) == total

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # Django's foreign keys are deferred in the test transaction
        cursor.execute("TRUNCATE avvikelser_deviation CASCADE")
    assert not ForumPatternCount.objects.exists()


def test_rebuild_repairs_and_differences_reports(world, forum):
    bulk(world, forum, [datetime.date(2024, 5, d) for d in range(1, 29)])
    ForumPatternCount.objects.filter(pk=ForumPatternCount.objects.order_by("id").first().pk).update(n=99)
    assert rollup.differences(forum.pk)
    rollup.rebuild()
    assert_consistent()


@pytest.mark.parametrize("granularity", ["week", "month", "quarter"])
def test_pattern_view_reads_the_same_numbers_from_the_rollup(world, forum, granularity, monkeypatch):
    start = datetime.date(2023, 11, 27)
    bulk(world, forum, [start + datetime.timedelta(days=(i * 7) % 400) for i in range(300)])
    bulk(world, forum, [start + datetime.timedelta(days=(i * 3) % 400) for i in range(100)],
         key="brister-i-aterkoppling", other="Lokal rutin")
    params = {"period_start": datetime.date(2024, 1, 3), "period_end": datetime.date(2024, 12, 30),
              "granularity": granularity, "today": datetime.date(2025, 1, 15)}
    from_rollup = patterns.patterns_for(forum, **params)
    monkeypatch.setattr(rollup, "enabled", lambda: False)
    from_reports = patterns.patterns_for(forum, **params)
    assert from_rollup == from_reports
    assert from_rollup["total"] > 0 and from_rollup["themes"]


def test_a_rebuild_that_fails_half_way_leaves_the_rollup_as_it_was(world, forum, monkeypatch):
    bulk(world, forum, [datetime.date(2024, 5, d) for d in range(1, 29)])
    before = sorted(ForumPatternCount.objects.values_list("fragment_start", "n"))
    assert before
    monkeypatch.setattr(rollup, "_FROM_REPORTS", "SELECT no_such_column FROM avvikelser_deviation")
    with pytest.raises(Exception, match="no_such_column"):
        rollup.rebuild()
    assert sorted(ForumPatternCount.objects.values_list("fragment_start", "n")) == before
