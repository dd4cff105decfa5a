"""The SIP list's page rows compiled once (organisations.prepared.PreparedRows via sip.queries.sip_list_rows) are the
rows the ORM gives: every page, in both directions of the list order, with each plan's flags for the day; a
queryset changed after it was marked, or a new day, does not reuse the compiled rows."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.serializers.reading import Representer
from api.serializers.sip import SipSerializer
from organisations.models import Role
from organisations.paging import page_rows
from organisations.prepared import PreparedRows
from sip import queries
from sip.models import Action, Sip
from tests.conftest import requires_postgres
from tests.organisations.test_granted import new_plan

pytestmark = pytest.mark.django_db


def represented(rows):
    represent = Representer.of(SipSerializer)
    return [represent(sip) for sip in rows]


@pytest.fixture
def plans(world):
    requires_postgres()  # the merged page (and so the compiled rows) is PostgreSQL's
    made = [new_plan(world) for _ in range(7)]
    Sip.objects.filter(pk__in=[made[1].pk, made[2].pk]).update(updated_at=made[3].updated_at)  # ties
    Action.objects.create(sip=made[4], title="Kontakt med boendestöd", ends_on=datetime.date(2020, 1, 1),
                          responsible_organisation=world.org_a)
    return made


def orm_rows(queryset, bottom, top):
    """The same page without the compiled rows."""
    queryset._prepared_rows = None
    return page_rows(queryset, bottom, top, queryset.count())


@pytest.mark.parametrize("ordering", [("-updated_at", "-id"), ("updated_at", "id")])
def test_every_page_equals_the_orms(world, plans, ordering, monkeypatch):
    used = []
    real = PreparedRows.rows
    monkeypatch.setattr(PreparedRows, "rows", lambda self, *args: used.append(1) or real(self, *args))
    user = world.users_a[Role.SOCIALSEKRETERARE]
    listing = queries.sip_list_rows(user).order_by(*ordering)
    count = listing.count()
    assert count == 7
    for bottom, top in [(0, 3), (3, 6), (6, 7), (0, 7), (2, 5)]:
        compiled = page_rows(listing, bottom, top, count)
        assert represented(compiled) == represented(orm_rows(queries.sip_list_rows(user).order_by(*ordering),
                                                             bottom, top))
        assert all(type(sip) is Sip for sip in compiled)
    # In the list order each page came from the compiled rows; any other order is not merged from the grant rows
    # and reads through the ORM.
    assert len(used) == (5 if ordering == ("-updated_at", "-id") else 0)
    assert any(sip.has_overdue_action for sip in page_rows(listing, 0, 7, count))


def test_the_rows_query_is_compiled_once(world, plans, monkeypatch):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    prepared = PreparedRows.attached(queries.sip_list_rows(user))
    assert prepared is not None
    prepared.forget()
    compiled = []
    real = PreparedRows._compile
    monkeypatch.setattr(PreparedRows, "_compile", lambda self, key: compiled.append(key) or real(self, key))
    page_rows(queries.sip_list_rows(user), 0, 3, 7)
    with CaptureQueriesContext(connection) as ctx:
        rows = page_rows(queries.sip_list_rows(user), 3, 6, 7)
    other = world.users_a[Role.BEHANDLARE]  # another user: the same compiled rows, their own keys
    page_rows(queries.sip_list_rows(other), 0, 3, queries.sip_list_rows(other).count())
    assert len(compiled) == 1
    assert len(rows) == 3 and len(ctx.captured_queries) == 1
    assert ctx.captured_queries[0]["sql"].count("LATERAL") == 1  # the merge of the grant rows, as its subquery


def test_a_changed_queryset_is_read_by_the_orm(world, plans):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    changed = queries.sip_list_rows(user).select_related("created_by")
    assert PreparedRows.attached(changed) is None
    assert PreparedRows.attached(queries.sip_list_rows(user).order_by("id")) is not None  # order is part of the key
    rows = page_rows(changed, 0, 3, 7)
    assert [sip.created_by.pk for sip in rows]  # the join the ORM added is there


def test_a_new_day_compiles_again(world, plans, monkeypatch):
    from django.utils import timezone

    user = world.users_a[Role.SOCIALSEKRETERARE]
    first = {sip.pk: sip.has_overdue_action for sip in page_rows(queries.sip_list_rows(user), 0, 7, 7)}
    overdue = next(pk for pk, flag in first.items() if flag)
    Action.objects.filter(sip_id=overdue).update(ends_on=datetime.date(2999, 1, 1))
    monkeypatch.setattr(timezone, "localdate", lambda *args: datetime.date(2999, 1, 2))
    later = {sip.pk: sip.has_overdue_action for sip in page_rows(queries.sip_list_rows(user), 0, 7, 7)}
    assert later[overdue] is True  # compiled for 2999-01-02, not for the day first compiled


def test_the_gated_list_is_built_once_per_user_groups_and_day_and_handed_out_as_clones(world, plans, monkeypatch):
    """sip_list_rows keeps the built queryset (organisations.prepared.Built): each call gets a clone, evaluating one
    leaves the next untouched, and a change of the user's units or of the day builds anew."""
    from organisations import access
    from sip.queries import _GATED_LIST_ROWS

    user = world.users_a[Role.SOCIALSEKRETERARE]
    _GATED_LIST_ROWS.forget()
    first = queries.sip_list_rows(user)
    assert len(list(first)) == 7
    second = queries.sip_list_rows(user)
    assert second is not first and second._result_cache is None
    assert list(second.values_list("pk", flat=True)) == list(first.values_list("pk", flat=True))
    assert str(second.query) == str(queries._list_rows(queries.visible_sips(user)).query)
    assert len(_GATED_LIST_ROWS._plans) == 1
    monkeypatch.setattr(access, "group_ids", lambda u: set())  # the user's units changed
    assert list(queries.sip_list_rows(user)) == []
    monkeypatch.undo()
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: tomorrow)
    queries.sip_list_rows(user)
    assert len(_GATED_LIST_ROWS._plans) == 3


def test_a_user_who_sees_nothing_gets_no_built_queryset(world):
    from sip.queries import _GATED_LIST_ROWS

    _GATED_LIST_ROWS.forget()
    world.users_a[Role.SOCIALSEKRETERARE].is_active = False
    assert list(queries.sip_list_rows(world.users_a[Role.SOCIALSEKRETERARE])) == []
    assert _GATED_LIST_ROWS._plans == {}
