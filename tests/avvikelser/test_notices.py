import datetime

import pytest
from django.core import mail
from django.utils import timezone

from avvikelser import services
from avvikelser.models import Category, ContactPerson, Deviation, Forum, ForumMember, Notice
from avvikelser.tasks import send_deviation_notices
from organisations.models import Role
from tests.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(world):
    forum = Forum.objects.create(name="Forum")
    forum.organisations.set([world.org_a, world.org_b])
    contact = world.users_b[Role.BEHANDLARE]
    ContactPerson.objects.create(organisation=world.org_b, user=contact)
    leader = member(world.unit_a2, Role.PROCESSLEDARE)
    ForumMember.objects.create(forum=forum, user=leader, role="processledare")
    reporter = world.users_a[Role.SOCIALSEKRETERARE]
    deviation = services.create_draft(reporter, reporting_unit=world.unit_a, counterpart_organisation=world.org_b,
                                      occurred_on=datetime.date.today(), category=Category.objects.get(key="sip"),
                                      what_happened="Ingen kom till mötet.")
    return services.transition(reporter, deviation, "inkommen", 1), contact, leader


def test_reminder_before_and_escalation_after_the_deadline_once_each(submitted):
    deviation, contact, leader = submitted
    Deviation.objects.filter(pk=deviation.pk).update(acknowledge_due_at=timezone.now() + datetime.timedelta(hours=3))
    assert send_deviation_notices.delay().get() == 1
    assert send_deviation_notices.delay().get() == 0
    assert mail.outbox[-1].to == [contact.email]
    Deviation.objects.filter(pk=deviation.pk).update(acknowledge_due_at=timezone.now() - datetime.timedelta(hours=1))
    assert send_deviation_notices.delay().get() == 1
    assert send_deviation_notices.delay().get() == 0
    assert mail.outbox[-1].to == [leader.email]
    assert set(Notice.objects.values_list("step", flat=True)) == {"ack_reminder", "ack_escalation"}


def test_notices_hold_no_report_text_or_names(submitted):
    deviation, contact, leader = submitted
    Deviation.objects.filter(pk=deviation.pk).update(answer_due_at=timezone.now() - datetime.timedelta(days=1))
    send_deviation_notices()
    for message in mail.outbox:
        assert "Ingen kom till mötet" not in message.body
        assert contact.last_name not in message.body and leader.last_name not in message.body
        assert f"/avvikelser/{deviation.pk}/" in message.body


def test_no_notice_once_answered(submitted):
    deviation, contact, _leader = submitted
    deviation = services.transition(contact, deviation, "mottagen", deviation.version)
    deviation = services.transition(contact, deviation, "besvarad", deviation.version, analysis="Analys",
                                    measures="Åtgärd")
    Deviation.objects.filter(pk=deviation.pk).update(answer_due_at=timezone.now() - datetime.timedelta(days=1))
    assert send_deviation_notices() == 0


def test_a_contact_who_left_the_organisation_gets_no_reminder(submitted):
    deviation, contact, _leader = submitted
    stayed = member(submitted[0].counterpart_organisation.units.first(), Role.BEHANDLARE)
    ContactPerson.objects.create(organisation=deviation.counterpart_organisation, user=stayed)
    contact.memberships.update(active=False)
    Deviation.objects.filter(pk=deviation.pk).update(acknowledge_due_at=timezone.now() + datetime.timedelta(hours=3))
    assert send_deviation_notices() == 1
    assert mail.outbox[-1].to == [stayed.email]
