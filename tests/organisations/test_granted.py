"""The gated queryset's short paths (organisations/granted.py) give the ordinary answers: the count from the grant
tables, pages read by walking the list-order index, rows fetched by key without the gate again."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from organisations.granted import GrantedQuerySet
from organisations.models import Role
from sip import services as sip_services
from sip.access import LIST_ORDER, visible_sips
from sip.models import Sip, SipStatus
from tests.factories import UnitFactory, member

pytestmark = pytest.mark.django_db


_numbers = iter(range(10**6))


def new_plan(world, unit=None):
    """A plan initiated from `unit` (default unit_a), for a new person with a reserve number."""
    unit = unit or world.unit_a
    actor = world.users_a[Role.SOCIALSEKRETERARE] if unit.organisation_id == world.org_a.pk \
        else world.users_b[Role.SOCIALSEKRETERARE]
    person, _ = sip_services.find_or_register_person(actor, identifier=f"RES-G-{next(_numbers):05d}",
                                                     identifier_kind="reservnummer", first_name="A",
                                                     last_name="B")
    return sip_services.create_sip(actor, person=person, initiating_unit=unit)


def _expected(user, **filters):
    """The visible plans computed the slow way: through the ordinary IN-subquery queryset."""
    gated = visible_sips(user)
    return set(Sip.objects.filter(pk__in=list(gated.values_list("pk", flat=True))).filter(**filters)
               .values_list("pk", flat=True))


def test_count_reads_the_grant_tables_and_equals_the_visible_rows(world):
    for _ in range(5):
        new_plan(world)
    user = world.users_a[Role.SOCIALSEKRETERARE]
    gated = visible_sips(user)
    assert isinstance(gated, GrantedQuerySet)
    with CaptureQueriesContext(connection) as ctx:
        count = gated.count()
    assert count == len(_expected(user)) == 5
    assert '"sip_sip"' not in ctx.captured_queries[-1]["sql"]  # the grant tables alone


def test_the_count_is_compiled_once_and_counts_each_users_own_grants(world):
    from organisations import prepared
    from organisations.granted import _COUNTS

    for i in range(6):
        new_plan(world, world.unit_a if i % 2 else world.unit_b)
    users = [world.users_a[Role.SOCIALSEKRETERARE], world.users_b[Role.SOCIALSEKRETERARE],
             world.users_a[Role.SAMORDNARE]]
    prepared.forget_all()
    for _ in range(2):  # compiled on the first round, reused on the second
        assert [visible_sips(u).count() for u in users] == [len(_expected(u)) for u in users]
    if connection.vendor == "postgresql":  # elsewhere the count is Django's own (no estimate to read with it)
        assert _COUNTS._compiled and all(entry is not None for entry in _COUNTS._compiled.values())
    prepared.forget_all()
    assert not _COUNTS._compiled


def test_any_narrowing_falls_back_to_the_ordinary_count(world):
    sips = [new_plan(world) for _ in range(4)]
    Sip.objects.filter(pk=sips[0].pk).update(status=SipStatus.AVBRUTEN)
    user = world.users_a[Role.SOCIALSEKRETERARE]
    gated = visible_sips(user)
    assert gated.filter(status=SipStatus.AVBRUTEN).count() == 1
    assert gated.exclude(status=SipStatus.AVBRUTEN).count() == 3
    assert gated[:2].count() == 2
    assert gated.none().count() == 0
    assert gated.order_by("-id").select_related("person").count() == 4  # order and joins keep the short path
    assert visible_sips(user, Sip.objects.filter(pk=sips[1].pk)).count() == 1  # a narrowed table is no whole table


def test_other_units_plans_are_not_counted(world):
    new_plan(world)
    new_plan(world, world.unit_b)
    other = UnitFactory(organisation=world.org_a, name="Annan enhet")
    stranger = member(other, Role.SOCIALSEKRETERARE, username="stranger")
    assert visible_sips(stranger).count() == 0
    assert visible_sips(world.users_a[Role.SOCIALSEKRETERARE]).count() == 1


@pytest.mark.parametrize("walk", [False, True])
def test_pages_are_the_same_whether_walked_or_probed(world, monkeypatch, walk):
    for i in range(9):
        sip = new_plan(world, world.unit_a if i % 3 else world.unit_b)
        # Several plans share an updated_at: the id breaks the tie the same way on both paths.
        Sip.objects.filter(pk=sip.pk).update(updated_at=timezone.now() - datetime.timedelta(days=i // 2))
    user = world.users_a[Role.SOCIALSEKRETERARE]
    monkeypatch.setattr(GrantedQuerySet, "_walk_pays", lambda self, top, count: walk)
    gated = visible_sips(user).order_by(*LIST_ORDER)
    count = gated.count()
    expected = list(Sip.objects.filter(pk__in=_expected(user)).order_by(*LIST_ORDER).values_list("pk", flat=True))
    pages = [gated.page_keys(b, min(b + 4, count), count) for b in range(0, count, 4)]
    assert [pk for page in pages for pk in page] == expected
    assert gated.page_keys(0, 0, count) == []
    # Keys and rows in one query (the keys as a subquery): the same rows in the same order, the gate read once.
    with CaptureQueriesContext(connection) as ctx:
        row_pages = [gated.page_rows(b, min(b + 4, count), count) for b in range(0, count, 4)]
    assert [row.pk for page in row_pages for row in page] == expected
    assert len(ctx.captured_queries) == len(row_pages)
    assert all(q["sql"].count("sip_sipgroupobjectpermission") == 1 for q in ctx.captured_queries)  # gated once
    assert gated.page_rows(0, 0, count) == []
    assert gated.filter(status__in=list(SipStatus.values)).page_rows(0, 4, count) is None  # narrowed: two steps


def test_walk_is_chosen_only_where_it_pays(world):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    gated = visible_sips(user).order_by(*LIST_ORDER)
    assert not gated._walk_pays(50, 4_000)  # no estimate of the table: probe
    gated._table_rows = 200_000
    assert gated._walk_pays(50, 4_000)  # a busy unit's first page: walk ~2 500 index entries
    assert not gated._walk_pays(4_000, 4_000)  # its last page: probing 4 000 keys is cheaper
    assert not gated._walk_pays(50, 30)  # a few plans: probe them
    assert not gated._walk_pays(50, 0)


def test_rows_for_keys_skip_the_gate_but_keep_joins(world):
    sips = [new_plan(world) for _ in range(3)]
    user = world.users_a[Role.SOCIALSEKRETERARE]
    gated = visible_sips(user).select_related("person")
    with CaptureQueriesContext(connection) as ctx:
        rows = list(gated.rows_for_keys([s.pk for s in sips]))
        _names = [row.person.first_name for row in rows]
    assert len(ctx.captured_queries) == 1
    assert "permission" not in ctx.captured_queries[0]["sql"]
    assert {row.pk for row in rows} == {s.pk for s in sips}
    # Narrowed by anything else, the gate stays.
    narrowed = gated.filter(status__in=list(SipStatus.values))
    with CaptureQueriesContext(connection) as ctx:
        list(narrowed.rows_for_keys([s.pk for s in sips]))
    assert "permission" in ctx.captured_queries[0]["sql"]
