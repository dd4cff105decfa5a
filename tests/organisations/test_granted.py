"""The gated queryset's short paths (organisations/granted.py) give the ordinary answers: the count from the grant
tables, pages merged from the grant rows in list order, rows fetched by key without the gate again; and the grant
rows keep their plan's place in that order (the triggers of migration sip 0005)."""

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
        assert _COUNTS._plans and all(entry is not None for entry in _COUNTS._plans.values())
    prepared.forget_all()
    assert not _COUNTS._plans


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


def _busy_world(world):
    """The socialsekreterare of unit_a also works in unit_a2 and holds grants of their own: plans reach them
    through two groups (some through both) and directly, with ties in updated_at."""
    from guardian.shortcuts import assign_perm

    from organisations import access

    user = world.users_a[Role.SOCIALSEKRETERARE]
    member(world.unit_a2, Role.SOCIALSEKRETERARE, user=user)
    for i in range(12):
        sip = new_plan(world, [world.unit_a, world.unit_b, world.unit_a2][i % 3])
        if i % 4 == 0:  # granted to both of the user's units
            access.grant([world.unit_a.group, world.unit_a2.group], sip, ["view_sip"])
        if i % 5 == 1:  # granted to the user alone
            assign_perm("sip.view_sip", user, sip)
        # Several plans share an updated_at: the id breaks the tie the same way on every path.
        Sip.objects.filter(pk=sip.pk).update(updated_at=timezone.now() - datetime.timedelta(days=i // 2))
    access.forget(user)
    return user


@pytest.mark.parametrize("merge", [False, True])
def test_pages_are_the_same_whether_merged_or_probed(world, monkeypatch, merge):
    user = _busy_world(world)
    if not merge:
        monkeypatch.setattr(GrantedQuerySet, "_merged_page", lambda self, bottom, top: None)
    gated = visible_sips(user).order_by(*LIST_ORDER)
    if merge and connection.vendor == "postgresql":
        assert gated._merged_page(0, 4) is not None
    count = gated.count()
    expected = list(Sip.objects.filter(pk__in=_expected(user)).order_by(*LIST_ORDER).values_list("pk", flat=True))
    assert count == len(expected) > 8
    for size in (1, 4, 5, count):
        pages = [gated.page_keys(b, min(b + size, count), count) for b in range(0, count, size)]
        assert [pk for page in pages for pk in page] == expected, size
    assert gated.page_keys(0, 0, count) == []
    assert gated.page_keys(count, count + 4, count) == []
    # Keys and rows in one query (the keys as a subquery): the same rows in the same order, the gate read once.
    with CaptureQueriesContext(connection) as ctx:
        row_pages = [gated.page_rows(b, min(b + 4, count), count) for b in range(0, count, 4)]
    assert [row.pk for page in row_pages for row in page] == expected
    assert len(ctx.captured_queries) == len(row_pages)
    assert all(q["sql"].count("sip_sipgroupobjectpermission") == 1 for q in ctx.captured_queries)  # gated once
    assert gated.page_rows(0, 0, count) == []
    assert gated.filter(status__in=list(SipStatus.values)).page_rows(0, 4, count) is None  # narrowed: two steps


def test_a_page_is_merged_only_in_the_order_the_grants_carry(world):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    in_list_order = visible_sips(user).order_by(*LIST_ORDER)
    assert (in_list_order._merged_page(0, 50) is not None) == (connection.vendor == "postgresql")
    assert visible_sips(user)._merged_page(0, 50) is not None or connection.vendor != "postgresql"  # Meta order
    assert visible_sips(user).order_by("id")._merged_page(0, 50) is None  # the grants are ordered descending
    assert visible_sips(user).order_by("-updated_at")._merged_page(0, 50) is None  # not total: no key
    assert visible_sips(user).order_by("-created_at", "-id")._merged_page(0, 50) is None
    assert in_list_order.filter(status=SipStatus.INITIERAD)._merged_page(0, 50) is None


def _grant_orders() -> set:
    from sip.models import SipGroupObjectPermission, SipUserObjectPermission

    rows = set()
    for model in (SipGroupObjectPermission, SipUserObjectPermission):
        rows |= {(pk, at) for pk, at in model.objects.values_list("content_object_id", "sip_updated_at")}
    return rows


def _plan_orders() -> set:
    from sip.models import SipGroupObjectPermission, SipUserObjectPermission

    granted = set(SipGroupObjectPermission.objects.values_list("content_object_id", flat=True)) | set(
        SipUserObjectPermission.objects.values_list("content_object_id", flat=True))
    return set(Sip.objects.filter(pk__in=granted).values_list("pk", "updated_at"))


def test_grant_rows_follow_their_plans_place_in_the_list_order(world):
    from guardian.shortcuts import assign_perm

    from sip.models import SipGroupObjectPermission

    user = _busy_world(world)
    assert _grant_orders() == _plan_orders() and _grant_orders()
    sip = Sip.objects.filter(pk__in=_expected(user)).first()
    sip.reason = "Ändrad"
    sip.save()  # auto_now
    Sip.objects.filter(pk=sip.pk).update(updated_at=timezone.now() + datetime.timedelta(hours=1))
    assign_perm("sip.change_sip", world.unit_b.group, sip)  # a grant added later copies the current value
    assert _grant_orders() == _plan_orders()
    # Whatever a grant row is given, it keeps its plan's value.
    SipGroupObjectPermission.objects.filter(content_object=sip).update(
        sip_updated_at=timezone.now() - datetime.timedelta(days=400))
    assert _grant_orders() == _plan_orders()
    assert not SipGroupObjectPermission.objects.filter(sip_updated_at__isnull=True).exists()


def test_a_plan_edited_through_the_services_moves_to_the_top_of_the_page(world):
    plans = [new_plan(world) for _ in range(3)]
    user = world.users_a[Role.SOCIALSEKRETERARE]
    Sip.objects.filter(pk__in=[p.pk for p in plans]).update(updated_at=timezone.now() - datetime.timedelta(days=1))
    oldest = min(plans, key=lambda p: p.pk)
    sip_services.update_sip(user, Sip.objects.get(pk=oldest.pk), Sip.objects.get(pk=oldest.pk).version,
                            reason="Ny bakgrund")
    gated = visible_sips(user).order_by(*LIST_ORDER)
    assert gated.page_keys(0, 1, gated.count()) == [oldest.pk]


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
