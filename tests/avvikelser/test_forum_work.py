"""The forum's work: meetings and agenda, decisions, measures, the before/after comparison and the weekly digest."""

import datetime
import importlib.machinery
import math
import sys
import types

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from avvikelser import digest, forum_services, services
from avvikelser.models import (
    Category,
    ContactPerson,
    Deviation,
    DigestLog,
    Forum,
    ForumMember,
    Measure,
    State,
)
from avvikelser.tasks import send_forum_digests
from organisations.errors import Forbidden, NotFound, PreconditionFailed, PreconditionRequired
from organisations.models import AuditEntry, Role, User
from tests.conftest import client_for
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 3, 18)  # a Wednesday
REAL_PATTERNS_FUNCTION = forum_services.patterns_function


@pytest.fixture(autouse=True)
def _no_pattern_analysis(monkeypatch):
    """Agenda and digest tests run without pattern analysis unless a test installs a fake one."""
    monkeypatch.setattr(forum_services, "patterns_function", lambda: None)


class Setup(types.SimpleNamespace):
    pass


@pytest.fixture
def fs(world):
    """Forum A–B: A's processledare leads it, B's styrgruppsledamot chairs it, A's styrgruppsledamot sits in it.
    Forum B–C: B's processledare leads it."""
    forum = Forum.objects.create(name="Styrgrupp A–B")
    forum.organisations.set([world.org_a, world.org_b])
    leader, chair, ledamot = (world.users_a[Role.PROCESSLEDARE], world.users_b[Role.STYRGRUPPSLEDAMOT],
                              world.users_a[Role.STYRGRUPPSLEDAMOT])
    ForumMember.objects.create(forum=forum, user=leader, role="processledare")
    ForumMember.objects.create(forum=forum, user=chair, role="ordforande")
    ForumMember.objects.create(forum=forum, user=ledamot, role="ledamot")
    org_c = OrganisationFactory(name="Region C (test)", kind="region")
    other = Forum.objects.create(name="Styrgrupp B–C")
    other.organisations.set([world.org_b, org_c])
    stranger = world.users_b[Role.PROCESSLEDARE]
    ForumMember.objects.create(forum=other, user=stranger, role="processledare")
    ContactPerson.objects.create(organisation=world.org_b, user=world.users_b[Role.BEHANDLARE])
    return Setup(world=world, forum=forum, other=other, leader=leader, chair=chair, ledamot=ledamot,
                 stranger=stranger, org_c=org_c)


def api(user):
    return client_for(User.objects.get(pk=user.pk))


def report(fs, *, text="Kallelsen besvarades inte.", key="sip", occurred_on=None, submit=True):
    reporter = fs.world.users_a[Role.SOCIALSEKRETERARE]
    deviation = services.create_draft(reporter, reporting_unit=fs.world.unit_a,
                                      counterpart_organisation=fs.world.org_b,
                                      occurred_on=occurred_on or timezone.localdate(),
                                      category=Category.objects.get(key=key), what_happened=text)
    return services.transition(reporter, deviation, State.INKOMMEN, 1) if submit else deviation


def meeting_in(fs, days=14, forum=None, **kw):
    return forum_services.create_meeting(fs.leader, (forum or fs.forum).pk,
                                         starts_at=timezone.now() + datetime.timedelta(days=days), **kw)


def decision_and_measure(fs, *, decided_on=None, due_in=30, **measure_kw):
    decision = forum_services.create_decision(fs.leader, fs.forum.pk, text="Gemensam rutin för kallelser",
                                              decided_on=decided_on or timezone.localdate())
    values = {"title": "Ta fram rutinen", "owner_organisation": fs.world.org_b,
              "due_on": timezone.localdate() + datetime.timedelta(days=due_in), **measure_kw}
    return decision, forum_services.create_measure(fs.leader, decision, **values)


# --- the gate --------------------------------------------------------------------------------------------------

def test_member_of_another_forum_gets_404_everywhere(fs):
    meeting = meeting_in(fs)
    item = forum_services.create_item(fs.leader, meeting, title="Punkt")
    decision, measure = decision_and_measure(fs)
    client = api(fs.stranger)
    base = f"/api/v1/forums/{fs.forum.pk}/"
    for path in ("meetings/", f"meetings/{meeting.pk}/", f"meetings/{meeting.pk}/agenda/",
                 f"meetings/{meeting.pk}/items/", f"meetings/{meeting.pk}/items/{item.pk}/", "decisions/",
                 f"decisions/{decision.pk}/", "measures/", f"measures/{measure.pk}/",
                 f"measures/{measure.pk}/before-after/"):
        response = client.get(base + path)
        assert response.status_code == 404, path
        assert response["Content-Type"].startswith("application/problem+json")
    assert client.post(base + "meetings/", {"starts_at": "2030-01-01T10:00:00Z"}, format="json").status_code == 404
    assert client.post(base + f"meetings/{meeting.pk}/propose-agenda/").status_code == 404
    # Their own forum's id with this forum's objects is 404 as well.
    other = f"/api/v1/forums/{fs.other.pk}/"
    assert client.get(other + f"meetings/{meeting.pk}/").status_code == 404
    assert client.get(other + f"measures/{measure.pk}/").status_code == 404
    with pytest.raises(NotFound):
        forum_services.update_measure(fs.stranger, measure, measure.version, status="done")


def test_staff_outside_every_forum_get_404_and_unknown_forum_is_404(fs):
    client = api(fs.world.users_a[Role.SOCIALSEKRETERARE])
    assert client.get(f"/api/v1/forums/{fs.forum.pk}/meetings/").status_code == 404
    assert api(fs.leader).get("/api/v1/forums/999999/meetings/").status_code == 404


def test_ledamot_reads_but_may_not_write_and_the_chair_may(fs):
    meeting = meeting_in(fs)
    base = f"/api/v1/forums/{fs.forum.pk}/meetings/"
    assert api(fs.ledamot).get(base).status_code == 200
    response = api(fs.ledamot).patch(f"{base}{meeting.pk}/", {"location": "X"}, format="json",
                                     HTTP_IF_MATCH='"1"')
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")
    with pytest.raises(Forbidden):
        forum_services.create_meeting(fs.ledamot, fs.forum.pk, starts_at=timezone.now())
    response = api(fs.chair).patch(f"{base}{meeting.pk}/", {"location": "Stadshuset"}, format="json",
                                   HTTP_IF_MATCH='"1"')
    assert response.status_code == 200 and response["ETag"] == '"2"'


# --- meetings, agenda, If-Match --------------------------------------------------------------------------------

def test_meeting_writes_need_if_match_and_stale_versions_get_412_with_the_current_state(fs):
    client = api(fs.leader)
    base = f"/api/v1/forums/{fs.forum.pk}/meetings/"
    created = client.post(base, {"starts_at": "2030-01-10T09:00:00+01:00", "location": "Rum 1"}, format="json")
    assert created.status_code == 201 and created["ETag"] == '"1"'
    url = f"{base}{created.json()['id']}/"
    assert client.patch(url, {"location": "Rum 2"}, format="json").status_code == 428
    assert client.patch(url, {"location": "Rum 2"}, format="json", HTTP_IF_MATCH='"1"').status_code == 200
    stale = client.patch(url, {"location": "Rum 3"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    assert stale.json()["current"]["location"] == "Rum 2" and stale["ETag"] == '"2"'
    held = client.patch(url, {"status": "held", "minutes": "Beslut togs om rutin."}, format="json",
                        HTTP_IF_MATCH='"2"')
    assert held.status_code == 200 and held.json()["status"] == "held"
    again = client.patch(url, {"status": "planned"}, format="json", HTTP_IF_MATCH='"3"')
    assert again.status_code == 409
    assert client.delete(url, HTTP_IF_MATCH='"3"').status_code == 409  # held meetings stay


def test_minutes_with_a_personnummer_are_rejected(fs):
    meeting = meeting_in(fs)
    response = api(fs.leader).patch(f"/api/v1/forums/{fs.forum.pk}/meetings/{meeting.pk}/",
                                    {"minutes": "Gäller 811218-9876."}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 400
    assert "personnummer" in response.json()["errors"]["minutes"][0]
    assert "811218-9876" not in response.content.decode()


def test_agenda_items_are_added_edited_reordered_and_removed(fs):
    meeting = meeting_in(fs)
    client = api(fs.leader)
    base = f"/api/v1/forums/{fs.forum.pk}/meetings/{meeting.pk}/"
    first = client.post(base + "items/", {"title": "Läget i SIP-processen"}, format="json").json()
    second = client.post(base + "items/", {"title": "Övrigt", "kind": "other"}, format="json").json()
    assert (first["order"], second["order"]) == (1, 2)
    edited = client.patch(base + f"items/{first['id']}/", {"note": "Processledaren presenterar."}, format="json",
                          HTTP_IF_MATCH='"1"')
    assert edited.status_code == 200 and edited["ETag"] == '"2"'
    assert client.post(base + "reorder/", {"items": [second["id"]]}, format="json",
                       HTTP_IF_MATCH='"1"').status_code == 400  # every item once
    reordered = client.post(base + "reorder/", {"items": [second["id"], first["id"]]}, format="json",
                            HTTP_IF_MATCH='"1"')
    assert reordered.status_code == 200 and reordered["ETag"] == '"2"'
    assert [i["id"] for i in reordered.json()["items"]] == [second["id"], first["id"]]
    assert client.delete(base + f"items/{second['id']}/", HTTP_IF_MATCH='"1"').status_code == 204
    assert [i["id"] for i in client.get(base + "agenda/").json()["items"]] == [first["id"]]


def test_agenda_item_links_must_belong_to_the_forum(fs):
    meeting = meeting_in(fs)
    draft = report(fs, submit=False)
    client = api(fs.leader)
    url = f"/api/v1/forums/{fs.forum.pk}/meetings/{meeting.pk}/items/"
    assert client.post(url, {"title": "Utkast", "deviation": draft.pk}, format="json").status_code == 400
    assert client.post(url, {"title": "Mönster", "fingerprint": "nonsense"}, format="json").status_code == 400
    submitted = report(fs)
    ok = client.post(url, {"title": "Avvikelse", "kind": "escalated", "deviation": submitted.pk}, format="json")
    assert ok.status_code == 201 and ok.json()["deviation"] == submitted.pk


def _overdue(deviation, days=1):
    Deviation.objects.filter(pk=deviation.pk).update(answer_due_at=timezone.now() - datetime.timedelta(days=days))
    return deviation


def test_propose_agenda_collects_due_measures_escalated_and_overdue_reports_once(fs):
    contact = fs.world.users_b[Role.BEHANDLARE]
    escalated = report(fs, text="Ingen kom till mötet, Kim Andersson väntade.")
    escalated = services.transition(contact, escalated, State.ESKALERAD, escalated.version)
    already = report(fs)
    already = services.transition(contact, already, State.ESKALERAD, already.version)
    earlier = meeting_in(fs, days=-30)
    forum_services.create_item(fs.leader, earlier, title="Tidigare", kind="escalated", deviation=already)
    overdue = _overdue(report(fs))
    _overdue(report(fs), days=-5)  # not yet due: stays off
    meeting = meeting_in(fs, days=14)
    _d, due = decision_and_measure(fs, due_in=7)
    _d, late = decision_and_measure(fs, due_in=-3)
    _d, later = decision_and_measure(fs, due_in=60)  # due after the meeting: off
    _d, done = decision_and_measure(fs, due_in=2)
    forum_services.update_measure(fs.leader, done, done.version, status="done")

    response = api(fs.leader).post(f"/api/v1/forums/{fs.forum.pk}/meetings/{meeting.pk}/propose-agenda/")
    assert response.status_code == 200
    body = response.json()
    assert body["signals_available"] is False
    items = [(i["kind"], i["deviation"], i["measure"]) for i in body["items"]]
    assert items == [("follow_up", None, late.pk), ("follow_up", None, due.pk),
                     ("escalated", escalated.pk, None), ("follow_up", overdue.pk, None)]
    assert [i["order"] for i in body["items"]] == [1, 2, 3, 4]
    assert "försenad" in body["items"][0]["title"]
    text = str(body)
    assert "Kim Andersson" not in text and "Ingen kom till mötet" not in text
    assert fs.world.users_a[Role.SOCIALSEKRETERARE].last_name not in text
    assert later.pk not in [i["measure"] for i in body["items"]]

    again = api(fs.leader).post(f"/api/v1/forums/{fs.forum.pk}/meetings/{meeting.pk}/propose-agenda/").json()
    assert again["added"] == [] and len(again["items"]) == 4


def test_the_next_agenda_shows_the_status_of_earlier_measures(fs):
    first = meeting_in(fs, days=-20)
    decision, open_measure = decision_and_measure(fs, decided_on=timezone.localdate() - datetime.timedelta(days=20))
    closed_before = forum_services.create_measure(fs.leader, decision, title="Gammal",
                                                  owner_organisation=fs.world.org_a, due_on=timezone.localdate(),
                                                  status="done")
    Measure.objects.filter(pk=closed_before.pk).update(status_changed_at=timezone.now() - datetime.timedelta(days=40))
    closed_since = forum_services.create_measure(fs.leader, decision, title="Klar",
                                                 owner_organisation=fs.world.org_a, due_on=timezone.localdate(),
                                                 status="in_progress")
    closed_since = forum_services.update_measure(fs.leader, closed_since, closed_since.version, status="done")
    assert first.pk
    nxt = meeting_in(fs, days=10)
    agenda = api(fs.ledamot).get(f"/api/v1/forums/{fs.forum.pk}/meetings/{nxt.pk}/agenda/").json()
    status = {m["id"]: m["status"] for m in agenda["earlier_measures"]}
    assert status == {open_measure.pk: "planned", closed_since.pk: "done"}


def _install_patterns(monkeypatch, result, calls=None):
    module = types.ModuleType("avvikelser.patterns")
    module.__spec__ = importlib.machinery.ModuleSpec("avvikelser.patterns", None)

    def forum_patterns(user, forum_id, period_start, period_end, granularity):
        if calls is not None:
            calls.append((user.pk, forum_id, period_start, period_end, granularity))
        return result

    module.forum_patterns = forum_patterns
    monkeypatch.setitem(sys.modules, "avvikelser.patterns", module)
    # The real lookup (replaced by the autouse fixture) finds the fake module.
    monkeypatch.setattr(forum_services, "patterns_function", REAL_PATTERNS_FUNCTION)


def test_propose_agenda_adds_new_signals_when_pattern_analysis_is_installed(fs, monkeypatch):
    this_month = timezone.localdate().replace(day=1)
    fingerprint = f"v1:sip:{fs.world.org_a.pk}>{fs.world.org_b.pk}:*"
    calls = []
    _install_patterns(monkeypatch, {
        "periods": ["2020-01", this_month.isoformat()[:7]],
        "series": [
            {"fingerprint": fingerprint, "signals": [{"index": 1, "rules": ["poisson"]}]},
            {"fingerprint": "v1:bemotande:1>2:*", "label": "Gammal", "signals": [{"period": "2020-01"}]},
            {"fingerprint": "v1:lakemedel:1>2:*", "signals": []},
        ]}, calls)
    meeting = meeting_in(fs, days=14)
    proposal = forum_services.propose_agenda(fs.leader, meeting)
    assert proposal.signals_available is True
    [item] = proposal.added
    assert item.kind == "signal" and item.fingerprint == fingerprint
    assert fs.world.org_a.name in item.title and Category.objects.get(key="sip").name in item.title
    assert calls[0][1] == fs.forum.pk and calls[0][4] == "month"
    assert forum_services.propose_agenda(fs.leader, meeting).added == []


def test_pattern_analysis_failing_or_missing_skips_signals(fs, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(forum_services, "patterns_function", lambda: broken)
    proposal = forum_services.propose_agenda(fs.leader, meeting_in(fs))
    assert proposal.signals_available is False and proposal.added == []
    monkeypatch.undo()
    monkeypatch.setattr(forum_services, "PATTERNS_MODULE", "avvikelser.no_such_module")
    assert forum_services.patterns_function() is None


def test_signals_of_the_real_pattern_analysis_reach_the_agenda_and_the_digest(fs, monkeypatch):
    """With avvikelser.patterns installed: two SIP reports A → B a month for two years, then 20 this month."""
    monkeypatch.undo()  # the real lookup
    today = timezone.localdate()
    if forum_services.patterns_function() is None:
        assert forum_services.current_signals(fs.leader, fs.forum, since=today, until=today) is None
        return
    month = today.replace(day=1)
    dates = [forum_services._add_months(month, -back) + datetime.timedelta(days=offset)
             for back in range(1, 25) for offset in (3, 12)]
    _bulk_reports(fs, [*dates, *([today] * 20)])
    proposal = forum_services.propose_agenda(fs.leader, meeting_in(fs, days=7))
    assert proposal.signals_available is True
    [signal] = [item for item in proposal.added if item.kind == "signal"]
    assert signal.fingerprint.startswith(f"v1:sip:{fs.world.org_a.pk}>{fs.world.org_b.pk}:")
    assert fs.world.org_a.name in signal.title and fs.world.org_b.name in signal.title
    assert digest.summarise(fs.forum, now=timezone.now(), signal_reader=fs.leader).new_signals == 1


# --- decisions and measures ------------------------------------------------------------------------------------

def test_decision_links_the_forums_reports_and_patterns(fs):
    mine = report(fs)
    draft = report(fs, submit=False)
    client = api(fs.leader)
    url = f"/api/v1/forums/{fs.forum.pk}/decisions/"
    fingerprint = f"v1:sip:{fs.world.org_a.pk}>{fs.world.org_b.pk}:*"
    created = client.post(url, {"text": "Gemensam rutin för kallelser", "decided_on": "2026-03-01",
                                "fingerprints": [fingerprint, fingerprint], "deviations": [mine.pk]}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["fingerprints"] == [fingerprint] and body["deviations"] == [mine.pk] and body["version"] == 1
    assert client.post(url, {"text": "X", "decided_on": "2026-03-01", "deviations": [draft.pk]},
                       format="json").status_code == 400
    assert client.post(url, {"text": "X", "decided_on": "2026-03-01", "fingerprints": ["bad"]},
                       format="json").status_code == 400
    other_meeting = forum_services.create_meeting(fs.stranger, fs.other.pk, starts_at=timezone.now())
    assert client.post(url, {"text": "X", "decided_on": "2026-03-01", "meeting": other_meeting.pk},
                       format="json").status_code == 400
    patched = client.patch(f"{url}{body['id']}/", {"deviations": []}, format="json", HTTP_IF_MATCH='"1"')
    assert patched.status_code == 200 and patched.json()["deviations"] == []


def test_measure_status_changes_with_version_and_validates_owner_and_person(fs):
    decision, measure = decision_and_measure(fs)
    assert measure.status_changed_at is None
    with pytest.raises(PreconditionRequired):
        forum_services.update_measure(fs.leader, measure, None, status="in_progress")
    measure = forum_services.update_measure(fs.leader, measure, 1, status="in_progress")
    assert measure.version == 2 and measure.status_changed_at is not None
    with pytest.raises(PreconditionFailed):
        forum_services.update_measure(fs.leader, measure, 1, status="done")
    client = api(fs.leader)
    url = f"/api/v1/forums/{fs.forum.pk}/measures/"
    base = {"decision": decision.pk, "title": "Utbilda", "due_on": "2030-01-01"}
    assert client.post(url, {**base, "owner_organisation": fs.org_c.pk}, format="json").status_code == 400
    b_staff = fs.world.users_b[Role.BEHANDLARE]
    a_staff = fs.world.users_a[Role.BEHANDLARE]
    wrong_person = client.post(url, {**base, "owner_organisation": fs.world.org_b.pk, "responsible_user": a_staff.pk},
                               format="json")
    assert wrong_person.status_code == 400 and "responsible_user" in wrong_person.json()["errors"]
    half_pair = client.post(url, {**base, "owner_organisation": fs.world.org_b.pk,
                                  "from_organisation": fs.world.org_a.pk}, format="json")
    assert half_pair.status_code == 400
    ok = client.post(url, {**base, "owner_organisation": fs.world.org_b.pk, "responsible_user": b_staff.pk,
                           "category": Category.objects.get(key="sip").pk, "from_organisation": fs.world.org_a.pk,
                           "to_organisation": fs.world.org_b.pk}, format="json")
    assert ok.status_code == 201, ok.content
    assert ok.json()["responsible_user_name"] == b_staff.get_full_name()
    changed = client.patch(f"{url}{ok.json()['id']}/", {"decision": decision.pk}, format="json",
                           HTTP_IF_MATCH='"1"')
    assert changed.status_code == 400  # the decision never changes
    assert AuditEntry.objects.filter(object_type="avvikelser.measure", action="update").exists()


def test_measure_list_filters(fs):
    _d, late = decision_and_measure(fs, due_in=-1)
    _d, fine = decision_and_measure(fs, due_in=10)
    client = api(fs.ledamot)
    url = f"/api/v1/forums/{fs.forum.pk}/measures/"
    assert [m["id"] for m in client.get(url, {"overdue": "true"}).json()["results"]] == [late.pk]
    assert [m["id"] for m in client.get(url, {"overdue": "false"}).json()["results"]] == [fine.pk]
    assert client.get(url, {"status": "done"}).json()["count"] == 0


# --- before and after ------------------------------------------------------------------------------------------

def _bulk_reports(fs, dates, *, key="sip", reporting=None, counterpart=None, state=State.INKOMMEN):
    world = fs.world
    reporting = reporting or world.org_a
    unit = world.unit_a if reporting == world.org_a else world.unit_b
    category = Category.objects.get(key=key)
    Deviation.objects.bulk_create([
        Deviation(reporter=world.users_a[Role.SOCIALSEKRETERARE], reporting_unit=unit,
                  reporting_organisation=reporting, counterpart_organisation=counterpart or world.org_b,
                  forum=fs.forum, occurred_on=day, category=category, what_happened="Text.",
                  state=state, submitted_at=timezone.now())
        for day in dates])


def _spread(start: datetime.date, days: int, n: int) -> list[datetime.date]:
    return [start + datetime.timedelta(days=(i * days) // n) for i in range(n)]


@pytest.fixture
def measured(fs):
    """A measure on SIP deviations A → B decided 120 days before TODAY."""
    decided = TODAY - datetime.timedelta(days=120)
    decision = forum_services.create_decision(fs.leader, fs.forum.pk, text="Rutin för kallelser", decided_on=decided)
    measure = forum_services.create_measure(fs.leader, decision, title="Ny rutin", owner_organisation=fs.world.org_b,
                                            due_on=decided, category=Category.objects.get(key="sip"),
                                            from_organisation=fs.world.org_a, to_organisation=fs.world.org_b)
    return measure, decided


def test_before_after_shows_a_clear_drop_after_the_decision(fs, measured):
    """The constructed example: 30 SIP deviations A → B in the 120 days before the decision (a merged
    predecessor category counted with them), 6 in the 120 days after; noise that must not count — other
    categories, the other direction, drafts, and reports outside both windows."""
    measure, decided = measured
    before_start = decided - datetime.timedelta(days=120)
    old = services.create_category(fs.leader, key="kallelse-gammal", name="Kallelser (gammal)")
    _bulk_reports(fs, _spread(before_start, 120, 25))
    _bulk_reports(fs, _spread(before_start + datetime.timedelta(days=3), 115, 5), key=old.key)
    services.merge_categories(fs.leader, old, Category.objects.get(key="sip"))  # 30 before in all
    _bulk_reports(fs, _spread(decided, 120, 6))
    _bulk_reports(fs, _spread(before_start, 240, 40), key="bemotande")  # another category
    _bulk_reports(fs, _spread(before_start, 240, 40), reporting=fs.world.org_b, counterpart=fs.world.org_a)
    _bulk_reports(fs, [before_start - datetime.timedelta(days=1), TODAY])  # outside both windows
    _bulk_reports(fs, [decided, decided], state=State.UTKAST)  # drafts are not reports

    result = forum_services.before_after(measure, today=TODAY)
    assert result.window_days == 120
    assert (result.before.start, result.before.end) == (before_start, decided - datetime.timedelta(days=1))
    assert (result.after.start, result.after.end) == (decided, TODAY - datetime.timedelta(days=1))
    assert (result.before.count, result.after.count) == (30, 6)
    assert result.rate_before == 7.5 and result.rate_after == 1.5 and result.rate_change == -0.8
    # P(X ≤ 6 | n = 36, ½) doubled.
    expected = 2 * sum(math.comb(36, k) for k in range(7)) / 2 ** 36
    assert result.p_value == pytest.approx(expected, rel=1e-9)
    assert result.p_value < 0.001
    assert result.verdict == "minskat" and result.too_early is False
    assert set(result.category_ids) == {old.pk, Category.objects.get(key="sip").pk}


def test_before_after_unchanged_and_increased(fs, measured):
    measure, decided = measured
    _bulk_reports(fs, _spread(decided - datetime.timedelta(days=120), 120, 10))
    _bulk_reports(fs, _spread(decided, 120, 12))
    result = forum_services.before_after(measure, today=TODAY)
    assert (result.before.count, result.after.count, result.verdict) == (10, 12, "oförändrat")
    _bulk_reports(fs, _spread(decided, 120, 20))
    assert forum_services.before_after(measure, today=TODAY).verdict == "ökat"


def test_before_after_windows_are_capped_and_early_measures_say_so(fs, measured):
    measure, decided = measured
    assert forum_services.before_after(measure, today=decided + datetime.timedelta(days=900)).window_days == 365
    assert forum_services.before_after(measure, today=TODAY, window_days=30).window_days == 30
    early = forum_services.before_after(measure, today=decided + datetime.timedelta(days=10))
    assert early.window_days == 10 and early.too_early and early.verdict == "oförändrat"
    same_day = forum_services.before_after(measure, today=decided)
    assert same_day.window_days == 0 and same_day.p_value == 1.0


@pytest.mark.parametrize(("before", "after"), [(0, 0), (0, 5), (5, 0), (10, 10), (30, 6), (3, 17), (200, 150)])
def test_two_sided_p_is_the_exact_conditional_binomial(before, after):
    n = before + after

    def pmf(k):
        return math.comb(n, k) / 2 ** n

    lower = sum(pmf(k) for k in range(after + 1))
    upper = sum(pmf(k) for k in range(after, n + 1))
    expected = min(1.0, 2 * min(lower, upper)) if n else 1.0
    assert forum_services.two_sided_rate_p(before, after) == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_before_after_endpoint(fs, measured):
    measure, decided = measured
    _bulk_reports(fs, _spread(decided - datetime.timedelta(days=60), 60, 20))
    url = f"/api/v1/forums/{fs.forum.pk}/measures/{measure.pk}/before-after/"
    body = api(fs.ledamot).get(url, {"window_days": 60}).json()
    assert body["window_days"] == 60 and body["before"]["count"] == 20 and body["verdict"] == "minskat"
    assert api(fs.ledamot).get(url, {"window_days": 0}).status_code == 400


# --- the weekly digest -----------------------------------------------------------------------------------------

def test_digest_is_sent_once_per_member_per_week_however_often_the_task_runs(fs):
    no_email = fs.chair
    User.objects.filter(pk=no_email.pk).update(email="")
    _overdue(report(fs, text="Ingen kom till mötet, Kim Andersson väntade."))
    _d, measure = decision_and_measure(fs, due_in=5)
    decision_and_measure(fs, due_in=-2)

    assert send_forum_digests.delay().get() == 3  # leader, ledamot (forum A–B), stranger (forum B–C)
    assert send_forum_digests.delay().get() == 0
    assert send_forum_digests() == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted([fs.leader.email, fs.ledamot.email, fs.stranger.email])
    assert DigestLog.objects.filter(sent_at__isnull=False).count() == 3

    [message] = [m for m in mail.outbox if m.to == [fs.leader.email]]
    assert f"/forum/{fs.forum.pk}/" in message.body
    assert "Nya avvikelser senaste veckan: 1" in message.body
    assert "inte besvarats inom tidsgränsen: 1" in message.body
    assert "inom 14 dagar: 1" in message.body and "Försenade åtgärder: 1" in message.body
    assert "Mönsteranalysen är inte tillgänglig" in message.body
    for secret in ("Kim Andersson", "Ingen kom till mötet", measure.title, fs.leader.last_name,
                   fs.leader.first_name, fs.world.users_a[Role.SOCIALSEKRETERARE].first_name):
        assert secret not in message.body and secret not in message.subject

    next_week = timezone.now() + datetime.timedelta(days=7)
    assert digest.send_digests(now=next_week) == 3
    assert digest.send_digests(now=next_week) == 0
    assert len(mail.outbox) == 6


def test_digest_skips_inactive_staff_and_takes_over_a_stale_claim(fs):
    fs.ledamot.memberships.update(active=False)
    week = digest.iso_week(timezone.localdate())
    log = DigestLog.objects.create(forum=fs.forum, user=fs.leader, week=week)
    assert digest.send_digests() == 2  # chair and stranger; the leader's claim is fresh (a worker is sending it)
    DigestLog.objects.filter(pk=log.pk).update(claimed_at=timezone.now() - datetime.timedelta(hours=1))
    assert digest.send_digests() == 1  # the leader's stale claim is taken over
    assert digest.send_digests() == 0
    assert fs.ledamot.email not in [m.to[0] for m in mail.outbox]


def test_digest_counts_signals_when_pattern_analysis_is_installed(fs, monkeypatch):
    this_month = timezone.localdate().replace(day=1).isoformat()
    _install_patterns(monkeypatch, {"series": [{"fingerprint": "v1:sip:1>2:*", "signals": [{"period": this_month}]},
                                               {"fingerprint": "v1:sip:2>1:*", "signals": [{"period": "2019-05"}]}]})
    summary = digest.summarise(fs.forum, now=timezone.now(), signal_reader=fs.leader)
    assert summary.new_signals == 1
    _subject, body = digest.render(fs.forum, summary, "2026-W12")
    assert "Nya signaler i mönstren: 1" in body


def test_iso_week_keys():
    assert digest.iso_week(datetime.date(2026, 1, 1)) == "2026-W01"
    assert digest.iso_week(datetime.date(2027, 1, 1)) == "2026-W53"
    assert digest.iso_week(datetime.date(2026, 3, 18)) == "2026-W12"


# --- query counts ----------------------------------------------------------------------------------------------

def _grow(fs, n):
    for _ in range(n):
        meeting = meeting_in(fs, days=5)
        forum_services.create_item(fs.leader, meeting, title="Punkt", deviation=report(fs))
        decision, measure = decision_and_measure(fs, responsible_user=fs.world.users_b[Role.BEHANDLARE],
                                                 category=Category.objects.get(key="sip"),
                                                 from_organisation=fs.world.org_a, to_organisation=fs.world.org_b)
        forum_services.update_decision(fs.leader, decision, decision.version, deviations=[report(fs)])
        forum_services.create_item(fs.leader, fs.meeting, title="Åtgärd", measure=measure)


@pytest.mark.parametrize("tail", ["meetings/", "decisions/", "measures/", "meetings/{m}/items/",
                                  "meetings/{m}/agenda/"])
def test_list_query_counts_are_constant(fs, tail):
    fs.meeting = meeting_in(fs, days=30)

    def count():
        path = f"/api/v1/forums/{fs.forum.pk}/" + tail.format(m=fs.meeting.pk)
        client = api(fs.ledamot)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    _grow(fs, 2)
    small = count()
    _grow(fs, 6)
    assert count() == small
    assert small <= 10
