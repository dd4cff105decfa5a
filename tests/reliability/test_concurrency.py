"""Twenty writers at once on one plan and on one deviation, through the API on PostgreSQL.

Every writer acts like a client should: it sends If-Match with the version it has; on 412 it takes the ETag of
the problem response (which carries the current state) and tries again; on 409 it re-reads and tries again a
few times, then gives up. Whatever the interleaving: every answer is 2xx or a 412/409 problem+json, nothing is
lost (the object's version is 1 + the successful writes, and its history holds exactly those writes, in order),
and no deadlock or 500 reaches a client.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from avvikelser import services as deviation_services
from avvikelser import workflow
from avvikelser.models import Category, Comment, ContactPerson, Deviation, DeviationChange, Forum, ForumMember, State
from organisations.models import Role, User
from sip.models import Goal, Sip, SipChange
from tests.conftest import client_for, make_plan, requires_postgres
from tests.reliability.conftest import count

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 20
MAX_ATTEMPTS = 60
PROBLEM = "application/problem+json"


def _etag(response) -> int:
    return int(response["ETag"].strip('"'))


def _run(workers) -> None:
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def run(worker):
        try:
            barrier.wait(timeout=30)
            worker()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a writer hung (deadlock?)"
    assert not errors, errors


def _check_problem(response, status: int) -> dict:
    assert response["Content-Type"].startswith(PROBLEM), response.content
    body = response.json()
    assert body["status"] == status and body["type"].startswith("urn:samverkan:problem:"), body
    if status == 412:
        assert response["ETag"] and "current" in body, body
    return body


def test_twenty_writers_on_one_plan_lose_nothing(world):
    requires_postgres()
    plan = make_plan(world)
    sip_id, goal_id = plan.sip.pk, plan.goal.pk
    editors = [User.objects.get(pk=world.users_a[r].pk)
               for r in (Role.SOCIALSEKRETERARE, Role.SAMORDNARE, Role.BEHANDLARE)]
    # 8 writers on one field, 6 on another field of the same plan, 6 on the plan's goal (its own version).
    jobs = ([("sip", "what_matters", f"Det viktiga enligt skribent {i}") for i in range(8)]
            + [("sip", "own_contribution", f"Egen insats enligt skribent {i}") for i in range(6)]
            + [("goal", "text", f"Målet enligt skribent {i}") for i in range(6)])
    assert len(jobs) == THREADS
    lock = threading.Lock()
    successes: list[tuple[str, str, str, int]] = []  # (object, field, value, version)
    statuses: dict[int, int] = {}

    def writer(index, kind, field, value):
        client = client_for(editors[index % len(editors)])
        url = f"/api/v1/sips/{sip_id}/" if kind == "sip" else f"/api/v1/sips/{sip_id}/goals/{goal_id}/"
        version = 1
        for _attempt in range(MAX_ATTEMPTS):
            response = client.patch(url, {field: value}, format="json", HTTP_IF_MATCH=f'"{version}"')
            with lock:
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code == 200:
                assert response.json()[field] == value
                with lock:
                    successes.append((kind, field, value, _etag(response)))
                return
            assert response.status_code == 412, (response.status_code, response.content)
            _check_problem(response, 412)
            version = _etag(response)  # act on it: merge (nothing to merge here) and send again
        raise AssertionError(f"writer {index} never got through")

    _run([lambda i=i, job=job: writer(i, *job) for i, job in enumerate(jobs)])

    assert set(statuses) <= {200, 412}, statuses
    assert len(successes) == THREADS  # every writer acted on its 412s and got its edit in
    sip, goal = Sip.objects.get(pk=sip_id), Goal.objects.get(pk=goal_id)
    for kind, obj in (("sip", sip), ("goal", goal)):
        versions = sorted(v for k, _f, _v, v in successes if k == kind)
        assert obj.version == 1 + len(versions)
        assert versions == list(range(2, obj.version + 1))  # each success its own version: none overwritten
    for kind, field, obj in (("sip", "what_matters", sip), ("sip", "own_contribution", sip), ("goal", "text", goal)):
        mine = sorted((v, value) for k, f, value, v in successes if (k, f) == (kind, field))
        assert getattr(obj, field) == mine[-1][1]  # the last write of the field is what is stored
        history = list(SipChange.objects.filter(sip_id=sip_id, object_type=obj._meta.model_name, object_id=obj.pk,
                                                field=field, action="update").order_by("version")
                       .values_list("version", "new"))
        assert [(v, new) for v, new in history] == mine  # every successful write is in the history, in order
    count("concurrency_threads", THREADS)
    count("concurrency_plan_writes_ok", len(successes))
    count("concurrency_plan_412", statuses.get(412, 0))


@pytest.fixture
def submitted(transactional_db, world):  # transactional_db by name: the default categories are put back
    forum = Forum.objects.create(name="Styrgrupp (samtidighet)")
    forum.organisations.set([world.org_a, world.org_b])
    contact = world.users_b[Role.BEHANDLARE]
    ContactPerson.objects.create(organisation=world.org_b, user=contact)
    leader = world.users_a[Role.PROCESSLEDARE]
    ForumMember.objects.create(forum=forum, user=leader, role="processledare")
    reporter = world.users_a[Role.SOCIALSEKRETERARE]
    deviation = deviation_services.create_draft(
        reporter, reporting_unit=world.unit_a, counterpart_organisation=world.org_b,
        occurred_on=timezone.localdate(),
        category=Category.objects.get(key="brister-i-aterkoppling"),
        what_happened="Återkopplingen om utskrivningen uteblev.")
    deviation = deviation_services.transition(reporter, deviation, State.INKOMMEN, 1)
    return deviation, reporter, contact, leader


def test_twenty_actors_on_one_deviation_lose_nothing(world, submitted):
    requires_postgres()
    deviation, reporter, contact, leader = submitted
    start_version = deviation.version
    users = {u.pk: User.objects.get(pk=u.pk) for u in (reporter, contact, leader)}
    answer = {"analysis": "Rutinen var okänd på mottagningen.", "measures": "Utbildning i rutinen för alla."}
    jobs = ([("transition", contact, State.MOTTAGEN, {})] * 4
            + [("transition", contact, State.BESVARAD, answer)] * 4
            + [("transition", reporter, State.AVSLUTAD, {})] * 2
            + [("comment", reporter if i % 2 else contact, f"Kommentar {chr(65 + i)}", {}) for i in range(10)])
    assert len(jobs) == THREADS
    url = f"/api/v1/avvikelser/{deviation.pk}/"
    lock = threading.Lock()
    successes: list[tuple[str, int]] = []  # (target state, version)
    comments: list[str] = []
    statuses: dict[int, int] = {}
    gave_up = []

    def note(status):
        with lock:
            statuses[status] = statuses.get(status, 0) + 1

    def actor(kind, user, target, extra):
        client = client_for(users[user.pk])
        if kind == "comment":
            response = client.post(url + "comments/", {"text": target}, format="json")
            note(response.status_code)
            assert response.status_code == 201, response.content
            with lock:
                comments.append(target)
            return
        version, conflicts = start_version, 0
        for _attempt in range(MAX_ATTEMPTS):
            response = client.post(url + "transitions/", {"state": target, **extra}, format="json",
                                   HTTP_IF_MATCH=f'"{version}"')
            note(response.status_code)
            if response.status_code == 200:
                with lock:
                    successes.append((target, _etag(response)))
                return
            assert response.status_code in (409, 412), (response.status_code, response.content)
            _check_problem(response, response.status_code)
            if response.status_code == 412:
                version = _etag(response)
                continue
            conflicts += 1  # not allowed in the current state: look again a little later, then give up
            if conflicts > 5:
                with lock:
                    gave_up.append(target)
                return
            time.sleep(0.02 * conflicts)
            current = client.get(url)
            assert current.status_code == 200
            version = _etag(current)
        raise AssertionError("a writer never got a final answer")

    _run([lambda job=job: actor(*job) for job in jobs])

    assert set(statuses) <= {200, 201, 409, 412}, statuses
    deviation = Deviation.objects.get(pk=deviation.pk)
    ordered = sorted(successes, key=lambda s: s[1])
    assert [v for _t, v in ordered] == list(range(start_version + 1, deviation.version + 1))
    assert deviation.version == start_version + len(successes)
    logged = list(DeviationChange.objects.filter(deviation=deviation, action="transition", field="state")
                  .order_by("id").values_list("new", flat=True))
    assert logged == [State.INKOMMEN, *[t for t, _v in ordered]]  # the history is exactly the successful moves
    state = State.INKOMMEN
    for target, _v in ordered:  # each move was legal from the state before it
        assert state in workflow.allowed_from(target), (state, target)
        state = target
    assert deviation.state == state
    assert len(successes) + len(gave_up) == 10
    assert sorted(Comment.objects.filter(deviation=deviation).values_list("text", flat=True)) == sorted(comments)
    assert len(comments) == 10
    count("concurrency_threads", THREADS)
    count("concurrency_deviation_writes_ok", len(successes) + len(comments))
    count("concurrency_deviation_412", statuses.get(412, 0))
    count("concurrency_deviation_409", statuses.get(409, 0))
