"""A prepared queryset (organisations/prepared.py) gives what the ORM gives, in one query, compiled once."""

import pytest
from django.db import connection
from django.db.models import Count, F
from django.test.utils import CaptureQueriesContext

from organisations import access
from organisations.models import Membership, Role, Unit
from organisations.prepared import Prepared
from tests.factories import UnitFactory, member

pytestmark = pytest.mark.django_db


def _memberships(user_id):
    return (Membership.objects.filter(user_id=user_id, active=True, unit__active=True, unit__organisation__active=True)
            .select_related("unit", "unit__organisation").order_by("id"))


def test_the_same_objects_as_the_orm_with_their_related_rows_loaded(world):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    member(UnitFactory(organisation=world.org_b), Role.BEHANDLARE, user=user)
    closed = UnitFactory(organisation=world.org_b)
    member(closed, Role.BEHANDLARE, user=user)
    Unit.objects.filter(pk=closed.pk).update(active=False)  # its membership is left out by both
    prepared = Prepared(Membership, _memberships)
    expected = list(_memberships(user.pk))
    assert len(expected) == 2
    for _ in range(2):  # the first call compiles, the second only runs
        with CaptureQueriesContext(connection) as ctx:
            found = prepared(user.pk)
            shown = [(m.pk, m.role, m.unit.name, m.unit.organisation.name, m.unit.organisation_id) for m in found]
        assert len(ctx.captured_queries) == 1  # the units and organisations came with the memberships
        assert shown == [(m.pk, m.role, m.unit.name, m.unit.organisation.name, m.unit.organisation_id)
                         for m in expected]
        assert all(m._state.db == "default" and not m._state.adding for m in found)
    assert prepared(world.users_b[Role.BEHANDLARE].pk) == list(_memberships(world.users_b[Role.BEHANDLARE].pk))
    assert prepared(-1) == []


def test_annotations_and_deferred_columns_as_the_orm_has_them(world):
    prepared = Prepared(Unit, lambda organisation_id: (
        Unit.objects.filter(organisation_id=organisation_id).annotate(members=Count("memberships"),
                                                                     doubled=F("id") * 2)
        .only("id", "name").order_by("id")))
    found = prepared(world.org_a.pk)
    expected = list(Unit.objects.filter(organisation_id=world.org_a.pk).annotate(
        members=Count("memberships"), doubled=F("id") * 2).order_by("id"))
    assert [(u.pk, u.name, u.members, u.doubled) for u in found] == [
        (u.pk, u.name, u.members, u.doubled) for u in expected]
    assert found[0].get_deferred_fields() >= {"kind", "created_at"}


def test_a_value_used_twice_is_not_prepared_but_still_answered(world):
    prepared = Prepared(Unit, lambda pk: Unit.objects.filter(pk=pk, parent_id=pk - 0).order_by("id"))
    assert prepared(world.unit_a.pk) == list(Unit.objects.filter(pk=world.unit_a.pk, parent_id=world.unit_a.pk))
    assert prepared._plans["default", int] is None  # the ORM answers each call


def test_strings_are_bound_too(world):
    prepared = Prepared(Unit, lambda name: Unit.objects.filter(name=name).order_by("id"))
    assert [u.pk for u in prepared(world.unit_a.name)] == [world.unit_a.pk]
    assert [u.pk for u in prepared("O'Brien; DROP TABLE x")] == []  # a parameter, never SQL
    assert prepared._plans["default", str] is not None
    with pytest.raises(TypeError):
        prepared(1.5)


def test_the_gate_reads_memberships_through_it(world):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    with CaptureQueriesContext(connection) as ctx:
        mine = access.memberships(user)
    assert len(ctx.captured_queries) == 1
    assert [m.pk for m in mine] == [m.pk for m in _memberships(user.pk)]


def test_tuples_bind_in_sets_compiled_once_per_length(world):
    prepared = Prepared(Unit, lambda ids: Unit.objects.filter(pk__in=ids).order_by("id"))
    a, b, a2 = world.unit_a.pk, world.unit_b.pk, world.unit_a2.pk
    assert [u.pk for u in prepared((a, b))] == sorted([a, b])
    assert [u.pk for u in prepared((a2, a))] == sorted([a, a2])
    assert [u.pk for u in prepared((a,))] == [a]
    assert prepared(()) == []  # an empty set: Django answers without SQL, so it is not prepared
    assert prepared._plans["default", (tuple, int, int)] is not None
    assert prepared._plans["default", (tuple,)] is None


def test_visible_by_key_answers_as_the_gate(world):
    from organisations.errors import NotFound
    from sip import services as sip_services
    from sip.access import get_sip, visible_sips

    actor = world.users_a[Role.SOCIALSEKRETERARE]
    person, _ = sip_services.find_or_register_person(actor, identifier="RES-VBK-1", identifier_kind="reservnummer",
                                                     first_name="A", last_name="B")
    sip = sip_services.create_sip(actor, person=person, initiating_unit=world.unit_a)
    assert get_sip(actor, sip.pk) == sip and get_sip(actor, str(sip.pk)) == sip
    with CaptureQueriesContext(connection) as ctx:
        get_sip(actor, sip.pk)
    assert len(ctx.captured_queries) == 1
    outsider = world.users_b[Role.BEHANDLARE]
    assert not visible_sips(outsider).filter(pk=sip.pk).exists()
    for user, key in [(outsider, sip.pk), (actor, sip.pk + 10_000), (actor, "abc"), (actor, "1.5"), (actor, "0"),
                      (actor, "-1"), (actor, None)]:
        with pytest.raises(NotFound):
            get_sip(user, key)


def test_a_migration_or_flush_forgets_what_was_compiled(world):
    from organisations import prepared as prepared_module

    prepared = Prepared(Unit, lambda pk: Unit.objects.filter(pk=pk))
    prepared(world.unit_a.pk)
    assert prepared._plans and prepared in prepared_module._ALL
    prepared_module.forget_all()  # what organisations/apps.py runs on post_migrate (also sent by a test flush)
    assert not prepared._plans  # compiled again on the next call: a permission's id may have changed
    assert [u.pk for u in prepared(world.unit_a.pk)] == [world.unit_a.pk]
