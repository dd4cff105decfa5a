"""Real Celery workers on real brokers (Redis and RabbitMQ), killed with SIGKILL in the middle of sending, and
brokers restarted with tasks waiting: every SIP reminder, delaktighet invitation and forum digest is delivered
exactly once.

The worker is a subprocess (`celery -A config worker`, prefork, one child) on the test's PostgreSQL database
(transactional test, so both see the same rows), on a queue of its own. Its e-mail backend
(tests/reliability/mailbackend.py) sleeps before each message is "accepted", which is when the test kills:
first only the pool child (the worker puts the task back: task_reject_on_worker_lost), then the whole worker
(the broker gives the task to the next worker: RabbitMQ when the connection drops, Redis after the visibility
timeout). Redis is a private redis-server on a free port with an append-only file, so the test can restart it;
RabbitMQ is restarted with `rabbitmqctl stop_app`/`start_app`.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from avvikelser.models import DigestLog, Forum, ForumMember
from organisations.models import Role, User
from sip.delaktighet.models import Invitation
from sip.models import Action, Meeting, MeetingStatus, Participant, ParticipantKind, Person, ReminderLog, Sip
from sip.reminders import due_items
from tests.conftest import make_plan, requires_postgres
from tests.reliability.conftest import ROOT, app_env, count, free_port, port_open, stop_process, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.broker, pytest.mark.django_db(transaction=True)]
MAIL_DELAY = 0.5
VISIBILITY_TIMEOUT = 5  # Redis: an unacknowledged task goes back on the queue after this long
CELERY = str(Path(sys.executable).parent / "celery")


# --- brokers ---------------------------------------------------------------------------------------------------

class PrivateRedis:
    """A redis-server of this test's own (never the shared one on 6379), persisted to an append-only file."""

    def __init__(self):
        binary = shutil.which("redis-server")
        if not binary:
            pytest.skip("needs redis-server (a private one is started on a free port)")
        self.binary = binary
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="samverkan-redis-"))
        self.proc = None
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: port_open(self.port), 30, "redis-server to listen")

    def restart(self):
        self.proc.send_signal(signal.SIGTERM)  # a normal shutdown; the append-only file keeps the queue
        self.proc.wait(timeout=30)
        self.start()
        count("broker_restarts_redis")

    def close(self):
        stop_process(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


class SharedRabbit:
    """The RabbitMQ on 127.0.0.1:5672 (guest/guest); this test uses a queue of its own and removes it after."""

    url = "amqp://guest:guest@127.0.0.1:5672//"

    def __init__(self):
        if not port_open(5672):
            pytest.skip("needs RabbitMQ on 127.0.0.1:5672 (.ci/run starts it)")
        self.ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
        if not Path(self.ctl).exists():
            pytest.skip("needs rabbitmqctl to restart RabbitMQ")

    def restart(self):
        subprocess.run([self.ctl, "stop_app"], check=True, capture_output=True, timeout=120)
        subprocess.run([self.ctl, "start_app"], check=True, capture_output=True, timeout=120)
        subprocess.run([self.ctl, "await_startup"], check=True, capture_output=True, timeout=120)
        wait_for(lambda: port_open(5672), 60, "RabbitMQ to listen again")
        count("broker_restarts_rabbitmq")

    def close(self):
        pass


# --- workers ---------------------------------------------------------------------------------------------------

class Workers:
    def __init__(self, broker_url: str, queue: str, mail_dir: Path, log_dir: Path):
        settings = connection.settings_dict
        database_url = (f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST'] or '127.0.0.1'}"
                        f":{settings['PORT'] or 5432}/{settings['NAME']}")
        self.env = app_env(DATABASE_URL=database_url, CELERY_BROKER_URL=broker_url, CELERY_TASK_DEFAULT_QUEUE=queue,
                           CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT), SAMVERKAN_TEST_MAIL_DIR=str(mail_dir),
                           SAMVERKAN_TEST_MAIL_DELAY=str(MAIL_DELAY),
                           EMAIL_BACKEND="tests.reliability.mailbackend.SlowFileBackend", LOG_LEVEL="INFO")
        self.queue, self.log_dir, self.proc, self.started = queue, log_dir, None, 0

    def start(self):
        self.started += 1
        log = open(self.log_dir / f"worker-{self.started}.log", "w")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(
            [CELERY, "-A", "config", "worker", "-P", "prefork", "-c", "1", "-Q", self.queue, "-l", "INFO",
             "-n", f"reliability-{self.started}-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle",
             "--without-heartbeat"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def kill_pool_child(self):
        """SIGKILL the process running the task; the worker itself lives and puts the task back on the queue."""
        children = wait_for(lambda: subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)],
                                                   capture_output=True, text=True).stdout.split(), 10, "a pool child")
        for pid in children:
            os.kill(int(pid), signal.SIGKILL)
        count("worker_child_kills")

    def kill_all(self, fault: bool = True):
        """SIGKILL the whole worker, children included: nothing can acknowledge or give the task back."""
        if self.proc is not None and self.proc.poll() is None and fault:
            count("worker_kills")
        stop_process(self.proc)

    def dead(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.log_dir.glob("worker-*.log")))


class Mailbox:
    def __init__(self, folder: Path):
        self.folder = folder

    def begun(self) -> int:
        path = self.folder / "progress.log"
        return len(path.read_text().splitlines()) if path.exists() else 0

    def delivered(self) -> list[dict]:
        path = self.folder / "outbox.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def wait_until_sending(self, nth: int, what: str, workers: Workers):
        """Until the nth message overall has begun (and is asleep in the backend, not yet delivered)."""
        try:
            wait_for(lambda: self.begun() >= nth or workers.dead(), 90,
                     f"{what}: message {nth} to be in the middle of sending", interval=0.01)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{workers.logs()}") from None
        assert not workers.dead(), f"the worker exited\n{workers.logs()}"


def _producer(broker_url: str, queue: str):
    from celery import Celery

    producer = Celery("reliability-producer", broker=broker_url, set_as_current=False)
    # Celery prefers the CELERY_BROKER_URL environment variable (set in CI) over `broker=`; the write and read
    # URLs win over both, so the producer talks to this test's broker.
    producer.conf.broker_write_url = broker_url
    producer.conf.broker_read_url = broker_url
    producer.conf.task_default_queue = queue
    if broker_url.startswith("amqp"):
        producer.conf.broker_transport_options = {"confirm_publish": True}
    return producer


def _send(producer, name: str, *args):
    producer.send_task(name, args=list(args), queue=producer.conf.task_default_queue, retry=True,
                       retry_policy={"max_retries": 20, "interval_start": 0.2, "interval_step": 0.5,
                                     "interval_max": 2})


# --- the data --------------------------------------------------------------------------------------------------

def _held_meeting(world, plan, tag: str, related: int, with_person: bool) -> tuple[int, set[str]]:
    actor = world.users_a[Role.SOCIALSEKRETERARE]
    start = timezone.now() - datetime.timedelta(hours=3)
    from sip import services as sip_services

    meeting = sip_services.create_meeting(
        actor, plan.sip, starts_at=start, ends_at=start + datetime.timedelta(hours=1),
        participants=[*([{"kind": ParticipantKind.PERSON}] if with_person else []),
                      *[{"kind": ParticipantKind.RELATED, "name": f"Närstående {i}",
                         "email": f"narstaende-{tag}-{i}@example.org"} for i in range(related)]])
    # Held without the meeting_held signal: the invitations are the worker's job here.
    Meeting.objects.filter(pk=meeting.pk).update(status=MeetingStatus.HELD, held_at=start + datetime.timedelta(hours=1))
    Participant.objects.filter(meeting=meeting).update(attended=True)
    person = {"kim@example.org"} if with_person else set()
    return meeting.pk, {*person, *[f"narstaende-{tag}-{i}@example.org" for i in range(related)]}


def _setup(world):
    plan = make_plan(world)
    Person.objects.filter(pk=plan.person.pk).update(preferred_channel="email", email="kim@example.org")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    Sip.objects.filter(pk=plan.sip.pk).update(call_due_at=timezone.now() - datetime.timedelta(hours=1))
    Action.objects.filter(pk=plan.action.pk).update(starts_on=yesterday - datetime.timedelta(days=5),
                                                    ends_on=yesterday)
    emails = dict(User.objects.values_list("pk", "email"))
    reminders = Counter(emails[item.recipient_id] for item in due_items())
    forum = Forum.objects.create(name="Styrgrupp (felprov)")
    forum.organisations.set([world.org_a, world.org_b])
    members = [world.users_a[Role.PROCESSLEDARE], world.users_b[Role.STYRGRUPPSLEDAMOT],
               world.users_a[Role.STYRGRUPPSLEDAMOT], world.users_b[Role.PROCESSLEDARE]]
    for user, role in zip(members, ("processledare", "ordforande", "ledamot", "ledamot"), strict=True):
        ForumMember.objects.create(forum=forum, user=user, role=role)
    meetings = [_held_meeting(world, plan, tag, related, tag == "m1")
                for tag, related in (("m1", 3), ("m2", 2), ("m3", 1))]
    return reminders, {u.email for u in members}, meetings


def _kinds(delivered: list[dict]) -> dict[str, Counter]:
    kinds = {"reminder": Counter(), "invitation": Counter(), "digest": Counter()}
    for message in delivered:
        [to] = message["to"]
        if message["subject"].startswith("Påminnelse från Samverkan"):
            kinds["reminder"][(to, message["body"])] += 1
        elif message["subject"].startswith("Veckosammanfattning"):
            kinds["digest"][to] += 1
        else:
            kinds["invitation"][to] += 1
    return kinds


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request):
    requires_postgres()
    if not Path(CELERY).exists():
        pytest.skip("needs the celery command in the virtualenv")
    broker = PrivateRedis() if request.param == "redis" else SharedRabbit()
    yield request.param, broker
    broker.close()


def test_killed_workers_and_restarted_brokers_deliver_everything_exactly_once(transactional_db, world, broker,
                                                                              tmp_path):
    kind, broker = broker
    reminders, digest_to, meetings = _setup(world)
    queue = f"samverkan-reliability-{uuid.uuid4().hex[:8]}"
    mail_dir, log_dir = tmp_path / "mail", tmp_path / "logs"
    mail_dir.mkdir()
    log_dir.mkdir()
    mailbox = Mailbox(mail_dir)
    workers = Workers(broker.url, queue, mail_dir, log_dir)
    producer = _producer(broker.url, queue)
    n_reminders = sum(reminders.values())
    assert n_reminders >= 2
    (m1, invited_1), (m2, invited_2), (m3, invited_3) = meetings

    started = time.monotonic()

    def mark(phase: str):
        print(f"{kind} phase {phase}: {time.monotonic() - started:.1f}s")

    def expect(total: int, what: str):
        try:
            wait_for(lambda: len(mailbox.delivered()) >= total or workers.dead(), 120, what, interval=0.1)
            assert not workers.dead(), "the worker exited"
        except AssertionError:
            raise AssertionError(f"{what}: {len(mailbox.delivered())}/{total}\n{workers.logs()}") from None

    try:
        workers.start()
        # 1. Reminders: the pool child dies while the second reminder is being sent.
        _send(producer, "sip.tasks.send_sip_reminders")
        mailbox.wait_until_sending(mailbox.begun() + 2, "reminders", workers)
        workers.kill_pool_child()
        expect(n_reminders, "reminders after the pool child was killed")
        mark("1 reminders")

        # 2. Invitations after a held meeting (one task creates them and queues one delivery each): the whole
        #    worker dies while the second invitation is being sent; a new worker is started.
        begun = mailbox.begun()
        _send(producer, "sip.delaktighet.tasks.invite_after_meeting", m1)
        mailbox.wait_until_sending(begun + 2, "invitations", workers)
        workers.kill_all()
        workers.start()
        expect(n_reminders + len(invited_1), "invitations after the worker was killed")
        mark("2 invitations")

        # 3. The weekly digest: the whole worker dies while the third digest is being sent, and while no worker
        #    runs, more tasks are queued and the broker restarts: the digest that was in flight and the queued
        #    invitations survive it (RabbitMQ: durable queue, persistent messages; Redis: append-only file).
        done, begun = len(mailbox.delivered()), mailbox.begun()
        _send(producer, "avvikelser.tasks.send_forum_digests")
        mailbox.wait_until_sending(begun + 3, "digests", workers)
        workers.kill_all()
        _send(producer, "sip.delaktighet.tasks.invite_after_meeting", m2)
        _send(producer, "sip.tasks.send_sip_reminders")  # nothing new: all sent today already
        broker.restart()
        workers.start()
        expect(done + len(digest_to) + len(invited_2), "digests and invitations across a broker restart")
        mark("3 digests + broker restart")

        # 4. A running worker rides out a broker restart and takes new work afterwards.
        broker.restart()
        done = len(mailbox.delivered())
        _send(producer, "sip.delaktighet.tasks.invite_after_meeting", m3)
        _send(producer, "avvikelser.tasks.send_forum_digests")  # nothing new: this week's are sent
        expect(done + len(invited_3), "invitations sent after a broker restart under a running worker")
        mark("4 restart under a running worker")

        # A task put back late (Redis: after the visibility timeout) would show up by now.
        time.sleep(VISIBILITY_TIMEOUT + 1 if kind == "redis" else 1)
    finally:
        workers.kill_all(fault=False)
        producer.close()
        if kind == "rabbitmq":  # the queue was this test's own
            from kombu import Connection

            with Connection(broker.url) as conn:
                conn.default_channel.queue_delete(queue)

    delivered = mailbox.delivered()
    kinds = _kinds(delivered)
    assert set(Counter(k[0] for k in kinds["reminder"]).items()) == set(reminders.items()), kinds["reminder"]
    assert set(kinds["reminder"].values()) == {1}, kinds["reminder"]  # each reminder exactly once
    assert kinds["invitation"] == Counter(dict.fromkeys(invited_1 | invited_2 | invited_3, 1)), kinds["invitation"]
    assert kinds["digest"] == Counter(dict.fromkeys(digest_to, 1)), kinds["digest"]
    assert ReminderLog.objects.filter(sent_at__isnull=True).count() == 0
    assert ReminderLog.objects.count() == n_reminders
    assert DigestLog.objects.filter(sent_at__isnull=False).count() == len(digest_to)
    assert Invitation.objects.filter(delivered_at__isnull=True).count() == 0
    assert Invitation.objects.count() == len(invited_1) + len(invited_2) + len(invited_3)
    count(f"messages_delivered_exactly_once_{kind}", len(delivered))
