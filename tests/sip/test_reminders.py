import datetime

import pytest
from django.core import mail
from django.utils import timezone

from organisations.models import Role
from sip.models import Action, ReminderLog, Sip
from sip.reminders import STALE_CLAIM, send_due_reminders
from sip.tasks import send_sip_reminders

pytestmark = pytest.mark.django_db


def make_overdue(plan):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    Sip.objects.filter(pk=plan.sip.pk).update(call_due_at=timezone.now() - datetime.timedelta(hours=1))
    Action.objects.filter(pk=plan.action.pk).update(starts_on=yesterday - datetime.timedelta(days=5),
                                                    ends_on=yesterday)


def test_reminders_are_sent_once_per_item_and_day_even_if_the_task_runs_twice(world, plan):
    make_overdue(plan)
    assert send_sip_reminders.delay().get() == 2
    assert send_sip_reminders.delay().get() == 0
    assert len(mail.outbox) == 2
    kinds = set(ReminderLog.objects.values_list("kind", flat=True))
    assert kinds == {"call_overdue", "action_overdue"}
    creator = world.users_a[Role.SOCIALSEKRETERARE]
    assert {m.to[0] for m in mail.outbox} == {creator.email}


def test_next_day_reminds_again(world, plan):
    make_overdue(plan)
    send_due_reminders()
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    assert send_due_reminders(now=tomorrow) == 2


def test_messages_hold_no_personal_data_and_link_to_the_plan(world, plan, settings):
    make_overdue(plan)
    send_due_reminders()
    for message in mail.outbox:
        text = message.subject + message.body
        for secret in (plan.person.first_name, plan.person.last_name, plan.person.identifier, "8112",
                       plan.action.title, plan.goal.text):
            assert secret not in text
        assert f"{settings.SITE_URL}/sip/{plan.sip.pk}/" in message.body


def test_a_claim_left_by_a_dead_worker_is_retried_later(world, plan):
    make_overdue(plan)
    day = timezone.localdate()
    creator = world.users_a[Role.SOCIALSEKRETERARE]
    log = ReminderLog.objects.create(kind="call_overdue", object_id=plan.sip.pk, recipient=creator, day=day)
    assert send_due_reminders() == 1  # the action; the fresh claim is someone else's, still running
    ReminderLog.objects.filter(pk=log.pk).update(claimed_at=timezone.now() - STALE_CLAIM - datetime.timedelta(1))
    assert send_due_reminders() == 1  # the stale claim is taken over and sent
    assert send_due_reminders() == 0
    assert ReminderLog.objects.filter(sent_at__isnull=True).count() == 0


def test_the_coordinator_and_the_responsible_person_get_their_reminders(world, plan):
    from sip import services

    coordinator = world.users_a[Role.SAMORDNARE]
    responsible = world.users_a[Role.BEHANDLARE]
    actor = world.users_a[Role.SOCIALSEKRETERARE]
    services.update_sip(actor, plan.sip, 1, coordinator=coordinator)
    services.update_action(actor, plan.sip, plan.action, 1, responsible_user=responsible)
    make_overdue(plan)
    send_due_reminders()
    assert {m.to[0] for m in mail.outbox} == {coordinator.email, responsible.email}
