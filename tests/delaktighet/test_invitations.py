import datetime
import logging

import pytest
from django.core import mail
from django.utils import timezone

from organisations.errors import NotFound
from organisations.models import Role
from sip import services as sip_services
from sip.delaktighet import services
from sip.delaktighet.models import Answer, Invitation, InvitationStatus, InvitationToken, Response
from sip.delaktighet.senders import MemorySmsSender
from sip.delaktighet.services import Gone
from sip.models import ParticipantKind

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _memory_sms(settings):
    settings.SMS_SENDER = "sip.delaktighet.senders.MemorySmsSender"
    MemorySmsSender.outbox = []


def held_meeting(world, plan, django_capture_on_commit_callbacks, *, extra=()):
    actor = world.users_a[Role.SOCIALSEKRETERARE]
    sip_services.update_person(actor, plan.person, plan.person.version, preferred_channel="email",
                               email="kim@example.org")
    start = timezone.now() - datetime.timedelta(hours=2)
    meeting = sip_services.create_meeting(actor, plan.sip, starts_at=start, ends_at=start + datetime.timedelta(hours=1),
                                          participants=[{"kind": ParticipantKind.PERSON},
                                                        {"kind": ParticipantKind.RELATED, "name": "Mamma",
                                                         "phone": "0701234567"},
                                                        {"kind": ParticipantKind.RELATED, "name": "Bror"},
                                                        {"kind": ParticipantKind.STAFF, "user": actor}, *extra])
    attendance = {p.pk: p.name != "Bror" for p in meeting.participants.all()}
    with django_capture_on_commit_callbacks(execute=True):
        sip_services.hold_meeting(actor, plan.sip, meeting, meeting.version, attendance=attendance)
    return meeting


def link_from(text):
    return next(word for word in text.split() if "/d/" in word)


def token_of(link):
    return link.rstrip("/").rsplit("/", 1)[-1]


def test_holding_a_meeting_invites_each_attending_person_and_related_once(world, plan,
                                                                          django_capture_on_commit_callbacks):
    meeting = held_meeting(world, plan, django_capture_on_commit_callbacks)
    invitations = Invitation.objects.filter(meeting=meeting)
    assert invitations.count() == 2  # the person and the närstående who attended; not staff, not the absent
    assert {i.channel for i in invitations} == {"email", "sms"}
    assert len(mail.outbox) == 1 and len(MemorySmsSender.outbox) == 1
    assert services.invite_attendees(meeting.pk) == []
    assert Invitation.objects.filter(meeting=meeting).count() == 2
    for invitation in invitations:
        assert services.deliver(invitation.pk) is False  # already delivered


def test_answer_once_then_the_link_is_gone(world, plan, django_capture_on_commit_callbacks):
    held_meeting(world, plan, django_capture_on_commit_callbacks)
    token = token_of(link_from(mail.outbox[0].body))
    invitation = services.resolve(token)
    assert invitation.status == InvitationStatus.SENT
    services.submit(token, {"information": "5", "lyssnad": 6, "till_oss": "Tack!"}, share_with_staff=True)
    with pytest.raises(Gone):
        services.submit(token, {"information": "1"})
    assert Response.objects.count() == 1 and Answer.objects.count() == 3
    response = Response.objects.get()
    assert response.gender == "kvinna" and response.respondent_kind == "person"


def test_tokens_are_long_random_and_stored_hashed(world, plan, django_capture_on_commit_callbacks):
    held_meeting(world, plan, django_capture_on_commit_callbacks)
    token = token_of(link_from(mail.outbox[0].body))
    assert len(token) >= 32  # 192 bits, base64url
    stored = set(InvitationToken.objects.values_list("token_hash", flat=True))
    assert token not in stored and all(len(h) == 64 for h in stored)


def test_unknown_and_expired_links(world, plan, django_capture_on_commit_callbacks):
    held_meeting(world, plan, django_capture_on_commit_callbacks)
    with pytest.raises(NotFound):
        services.resolve("not-a-real-token-at-all-xxxxxxxxxxxxxx")
    token = token_of(link_from(mail.outbox[0].body))
    Invitation.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(Gone):
        services.resolve(token)


def test_invalid_values_are_field_errors_and_nothing_is_stored(world, plan, django_capture_on_commit_callbacks):
    from django.core.exceptions import ValidationError

    held_meeting(world, plan, django_capture_on_commit_callbacks)
    token = token_of(link_from(mail.outbox[0].body))
    with pytest.raises(ValidationError) as exc:
        services.submit(token, {"information": "9", "nonsense": "1"})
    assert set(exc.value.message_dict) == {"information", "nonsense"}
    assert Response.objects.count() == 0
    services.resolve(token)  # still usable


def test_one_reminder_after_the_configured_days_and_none_after_an_answer(world, plan, settings,
                                                                         django_capture_on_commit_callbacks):
    from sip.delaktighet.tasks import send_invitation_reminders

    held_meeting(world, plan, django_capture_on_commit_callbacks)
    assert send_invitation_reminders.delay().get() == 0
    Invitation.objects.update(delivered_at=timezone.now() - datetime.timedelta(days=settings.DELAKTIGHET_REMINDER_DAYS))
    email_token = token_of(link_from(mail.outbox[0].body))
    services.submit(email_token, {"respekt": 6})
    assert send_invitation_reminders.delay().get() == 1  # only the närstående who has not answered
    assert send_invitation_reminders.delay().get() == 0
    assert len(MemorySmsSender.outbox) == 2
    old_token = token_of(link_from(MemorySmsSender.outbox[0][1]))
    new_token = token_of(link_from(MemorySmsSender.outbox[1][1]))
    assert services.resolve(old_token) == services.resolve(new_token)


def test_declining_closes_the_invitation(world, plan, django_capture_on_commit_callbacks):
    held_meeting(world, plan, django_capture_on_commit_callbacks)
    token = token_of(link_from(mail.outbox[0].body))
    services.decline(token)
    with pytest.raises(Gone):
        services.submit(token, {"respekt": 6})


def test_no_tokens_or_personal_data_in_logs_or_task_arguments(world, plan, caplog,
                                                               django_capture_on_commit_callbacks, monkeypatch):
    from sip.delaktighet import tasks

    calls = []
    original = tasks.deliver_invitation.delay
    monkeypatch.setattr(tasks.deliver_invitation, "delay", lambda *a, **k: (calls.append((a, k)), original(*a, **k)))
    with caplog.at_level(logging.DEBUG):
        held_meeting(world, plan, django_capture_on_commit_callbacks)
        token = token_of(link_from(mail.outbox[0].body))
        services.submit(token, {"till_oss": "Min granne Per Persson 0701234567"})
    text = caplog.text
    for secret in (token, plan.person.first_name, plan.person.last_name, plan.person.identifier, "kim@example.org",
                   "0701234567", "Mamma", "Per Persson"):
        assert secret not in text
    assert calls and all(isinstance(arg, int | bool) for args, _ in calls for arg in args)


def test_paper_answers_are_registered_by_staff_and_marked(world, plan, django_capture_on_commit_callbacks):
    meeting = held_meeting(world, plan, django_capture_on_commit_callbacks)
    actor = world.users_a[Role.SOCIALSEKRETERARE]
    invitation = Invitation.objects.get(meeting=meeting, participant__kind="related")
    response = services.register_paper_answer(actor, plan.sip.pk, invitation.pk, {"respekt": 4})
    assert response.mode == "paper" and response.registered_by == actor
    region_user = world.users_b[Role.BEHANDLARE]
    with pytest.raises(NotFound):
        services.register_paper_answer(region_user, plan.sip.pk, invitation.pk, {"respekt": 4})
