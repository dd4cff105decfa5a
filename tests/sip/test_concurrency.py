"""Two writers on one plan, on PostgreSQL: row locks and versions mean no lost update."""

import threading

import pytest
from django.db import connection

from organisations.errors import PreconditionFailed
from organisations.models import Role
from sip import services
from sip.models import Goal, Sip
from tests.conftest import make_plan, requires_postgres


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_threads_editing_the_same_plan_lose_nothing(world):
    requires_postgres()
    plan = make_plan(world)
    writers = [world.users_a[Role.SOCIALSEKRETERARE], world.users_a[Role.SAMORDNARE]]
    barrier = threading.Barrier(2)
    outcome: dict[str, str] = {}

    def write(user, text):
        try:
            barrier.wait(timeout=10)
            user = type(user).objects.get(pk=user.pk)
            services.update_sip(user, Sip(pk=plan.sip.pk), 1, what_matters=text)
            outcome[text] = "saved"
        except PreconditionFailed as exc:
            outcome[text] = f"412 at version {exc.current.version}"
        finally:
            connection.close()

    _run_together(*(lambda user=user, i=i: write(user, f"text {i}") for i, user in enumerate(writers)))

    assert sorted(outcome.values()) == ["412 at version 2", "saved"], outcome
    sip = Sip.objects.get(pk=plan.sip.pk)
    winner = next(text for text, result in outcome.items() if result == "saved")
    assert sip.what_matters == winner and sip.version == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_edits_of_different_parts_both_land(world):
    requires_postgres()
    plan = make_plan(world)
    barrier = threading.Barrier(2)
    errors = []
    users = [world.users_a[Role.SOCIALSEKRETERARE], world.users_a[Role.SAMORDNARE]]

    def edit_goal():
        try:
            barrier.wait(timeout=10)
            services.update_goal(type(users[0]).objects.get(pk=users[0].pk), Sip(pk=plan.sip.pk),
                                 Goal(pk=plan.goal.pk), 1, text="Målet ändrat")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def edit_plan():
        try:
            barrier.wait(timeout=10)
            services.update_sip(type(users[1]).objects.get(pk=users[1].pk), Sip(pk=plan.sip.pk), 1,
                                what_matters="Planen ändrad")
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    _run_together(edit_goal, edit_plan)
    assert not errors, errors
    assert Goal.objects.get(pk=plan.goal.pk).text == "Målet ändrat"
    assert Sip.objects.get(pk=plan.sip.pk).what_matters == "Planen ändrad"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_grant_added_while_the_plan_changes_copies_the_committed_order(world):
    """The grant insert trigger reads the plan FOR SHARE (migration sip 0005): it waits for a transaction that is
    changing the plan and copies the value that transaction commits, which a plain read would have missed."""
    import datetime
    import time

    from django.db import transaction
    from django.utils import timezone
    from guardian.shortcuts import assign_perm

    from sip.models import SipGroupObjectPermission

    requires_postgres()
    plan = make_plan(world)
    moved_to = timezone.now() + datetime.timedelta(days=3)
    changing = threading.Event()
    moments: dict[str, float] = {}

    def change_plan():
        try:
            with transaction.atomic():
                Sip.objects.filter(pk=plan.sip.pk).update(updated_at=moved_to)
                changing.set()
                time.sleep(1)  # the grant is inserted meanwhile and must wait for this transaction
                moments["committing"] = time.monotonic()
        finally:
            connection.close()

    def add_grant():
        try:
            changing.wait(timeout=10)
            moments["inserting"] = time.monotonic()
            assign_perm("sip.view_sip", world.unit_a2.group, Sip.objects.get(pk=plan.sip.pk))
            moments["inserted"] = time.monotonic()
        finally:
            connection.close()

    _run_together(change_plan, add_grant)
    # The insert began while the change was uncommitted and ended only after it: it waited, so the test tests that.
    assert moments["inserting"] < moments["committing"] < moments["inserted"], moments
    grant = SipGroupObjectPermission.objects.get(content_object_id=plan.sip.pk, group=world.unit_a2.group)
    assert grant.sip_updated_at == moved_to
    assert set(SipGroupObjectPermission.objects.filter(content_object_id=plan.sip.pk)
               .values_list("sip_updated_at", flat=True)) == {moved_to}


def _run_together(*targets) -> None:
    """Each target in its own thread, started together, joined (30 s at most each)."""
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
