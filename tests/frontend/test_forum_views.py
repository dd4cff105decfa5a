"""The forum's screens: 'Mina forum', the dashboard (control charts, heatmap, themes), the pseudonymised drill-down,
meetings with their agenda, decisions and measures. Members see every page; a member of another forum gets 404;
ledamöter read only (403 on writes); the dashboard's query count does not grow with the reports."""

import datetime
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from avvikelser import forum_services
from avvikelser.models import (
    AgendaItem,
    Category,
    Decision,
    Deviation,
    Forum,
    ForumMeeting,
    ForumMember,
    Measure,
    MeasureStatus,
    State,
)
from organisations.models import Role, User
from tests.factories import member
from tests.frontend.conftest import browser_for

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def months_ago(n: int) -> datetime.date:
    y, m = divmod(TODAY.year * 12 + TODAY.month - 1 - n, 12)
    return datetime.date(y, m + 1, 10)


@pytest.fixture
def setup(world):
    forum = Forum.objects.create(name="Styrgrupp (test)")
    forum.organisations.set([world.org_a, world.org_b])
    leader = member(world.unit_a2, Role.PROCESSLEDARE, username="pia", first_name="Pia", last_name="Ledare")
    ForumMember.objects.create(forum=forum, user=leader, role="processledare")
    ledamot = world.users_b[Role.STYRGRUPPSLEDAMOT]
    ForumMember.objects.create(forum=forum, user=ledamot, role="ledamot")
    other_forum = Forum.objects.create(name="Annat forum (test)")
    other_forum.organisations.set([world.org_a])
    stranger = world.users_b[Role.ORG_ADMIN]
    ForumMember.objects.create(forum=other_forum, user=stranger, role="processledare")
    reporter = member(world.unit_a, Role.SOCIALSEKRETERARE, username="rut", first_name="Rutger",
                      last_name="Rapportsson")
    world.forum, world.leader, world.ledamot, world.stranger, world.reporter = (
        forum, leader, ledamot, stranger, reporter)
    return world


def add(w, n, *, on, key="sip", reverse=False):
    source, target = (w.org_b, w.unit_b) if reverse else (w.org_a, w.unit_a)
    Deviation.objects.bulk_create([Deviation(
        reporter=w.reporter, reporting_unit=target, reporting_organisation=source,
        counterpart_organisation=w.org_a if reverse else w.org_b, forum=w.forum, occurred_on=on,
        category=Category.objects.get(key=key), what_happened="Kallelsen kom inte fram.", state=State.INKOMMEN,
        submitted_at=timezone.now()) for _ in range(n)])


def history(w, *, scale=1):
    for i in range(24):
        add(w, scale * (1 + i % 2), on=months_ago(i))
        add(w, scale, on=months_ago(i), key="bemotande", reverse=True)
    add(w, 10 * scale, on=months_ago(0))  # a rise this month


def work(w):
    """A planned meeting with an item, and a decision with a measure — through the services."""
    meeting = forum_services.create_meeting(w.leader, w.forum.pk, starts_at=timezone.now() + datetime.timedelta(days=7))
    item = forum_services.create_item(w.leader, meeting, title="Genomgång av nya avvikelser")
    decision = forum_services.create_decision(w.leader, w.forum.pk, text="En gemensam rutin för kallelser.",
                                              decided_on=TODAY - datetime.timedelta(days=60))
    measure = forum_services.create_measure(
        w.leader, decision, title="Checklista för kallelser", owner_organisation=w.org_a,
        due_on=TODAY - datetime.timedelta(days=5), category=Category.objects.get(key="sip"),
        from_organisation=w.org_a, to_organisation=w.org_b)
    return meeting, item, decision, measure


def get(user, path, **params):
    return browser_for(User.objects.get(pk=user.pk)).get(path, params)


def read_pages(w, meeting, decision):
    base = f"/forum/{w.forum.pk}"
    return ["/forum/", f"{base}/", f"{base}/avvikelser/", f"{base}/moten/", f"{base}/moten/{meeting.pk}/",
            f"{base}/beslut/", f"{base}/beslut/{decision.pk}/", f"{base}/atgarder/"]


def edit_pages(w, meeting, item, decision, measure):
    base = f"/forum/{w.forum.pk}"
    return [f"{base}/moten/{meeting.pk}/andra/", f"{base}/moten/{meeting.pk}/punkter/{item.pk}/andra/",
            f"{base}/beslut/ny/", f"{base}/beslut/{decision.pk}/andra/",
            f"{base}/beslut/{decision.pk}/atgarder/ny/", f"{base}/atgarder/{measure.pk}/andra/"]


def test_members_see_every_page_ledamot_reads_only_and_others_get_404(setup):
    w = setup
    history(w)
    meeting, item, decision, measure = work(w)
    reads, edits = read_pages(w, meeting, decision), edit_pages(w, meeting, item, decision, measure)
    for path in reads + edits:
        assert get(w.leader, path).status_code == 200, path
    for path in reads:
        assert get(w.ledamot, path).status_code == 200, path
    for path in edits:
        response = get(w.ledamot, path)
        assert response.status_code == 403, path
        assert "processledare och ordförande" in response.text
    for path in reads[1:] + edits:
        assert get(w.stranger, path).status_code == 404, path
        assert get(w.outsider, path).status_code == 404, path
    # 'Mina forum' lists only the user's own forums
    assert "Annat forum (test)" not in get(w.leader, "/forum/").text
    assert "Styrgrupp (test)" not in get(w.stranger, "/forum/").text


def test_nav_shows_forum_link_to_members_only(setup):
    w = setup
    assert 'href="/forum/"' in get(w.ledamot, "/avvikelser/").text
    assert 'href="/forum/"' not in get(w.reporter, "/avvikelser/").text


def test_ledamot_cannot_change_anything(setup):
    w = setup
    meeting, item, _decision, measure = work(w)
    client = browser_for(User.objects.get(pk=w.ledamot.pk))
    base = f"/forum/{w.forum.pk}"
    posts = [
        (f"{base}/moten/", {"nytt-starts_at": "2030-01-01T10:00"}),
        (f"{base}/moten/{meeting.pk}/", {"punkt-title": "Ny punkt", "punkt-kind": "other"}),
        (f"{base}/moten/{meeting.pk}/foresla/", {}),
        (f"{base}/moten/{meeting.pk}/punkter/{item.pk}/ta-bort/", {"version": item.version}),
        (f"{base}/moten/{meeting.pk}/punkter/{item.pk}/andra/", {"version": item.version, "title": "X",
                                                                  "kind": "other"}),
        (f"{base}/beslut/ny/", {"text": "Beslut", "decided_on": TODAY.isoformat()}),
        (f"{base}/atgarder/{measure.pk}/andra/", {"version": measure.version, "status": "done"}),
    ]
    for path, data in posts:
        assert client.post(path, data).status_code == 403, path
    assert AgendaItem.objects.get().title == "Genomgång av nya avvikelser"
    assert ForumMeeting.objects.count() == 1 and Decision.objects.count() == 1
    assert Measure.objects.get().status == MeasureStatus.PLANNED
    # and the pages show no edit controls
    page = get(w.ledamot, f"{base}/moten/{meeting.pk}/").text
    assert "Ta bort" not in page and "Lägg till punkten" not in page


def test_editing_flows_of_meeting_agenda_decision_and_measure(setup):
    w = setup
    history(w)
    client = browser_for(User.objects.get(pk=w.leader.pk))
    base = f"/forum/{w.forum.pk}"
    response = client.post(f"{base}/moten/", {"nytt-starts_at": "2030-03-01T13:00", "nytt-location": "Rum 4"})
    assert response.status_code == 302
    meeting = ForumMeeting.objects.get()
    meeting_url = f"{base}/moten/{meeting.pk}/"
    assert response.url == meeting_url
    for title in ("Första punkten", "Andra punkten"):
        assert client.post(meeting_url, {"punkt-title": title, "punkt-kind": "other"}).status_code == 302
    first, second = AgendaItem.objects.order_by("order")
    meeting.refresh_from_db()
    # move the second item up
    response = client.post(f"{meeting_url}punkter/{second.pk}/flytta/", {"version": meeting.version,
                                                                          "direction": "up"})
    assert response.status_code == 302
    assert list(AgendaItem.objects.order_by("order").values_list("title", flat=True)) == [
        "Andra punkten", "Första punkten"]
    # a stale version is refused with a message, nothing moves
    client.post(f"{meeting_url}punkter/{second.pk}/flytta/", {"version": meeting.version, "direction": "down"})
    assert AgendaItem.objects.order_by("order").values_list("title", flat=True).first() == "Andra punkten"
    assert "Någon annan har ändrat" in client.get(meeting_url).text
    # edit an item (with its version), then a stale edit gets 412 and the form
    edit_url = f"{meeting_url}punkter/{first.pk}/andra/"
    assert client.post(edit_url, {"version": 1, "title": "Första punkten, ändrad", "kind": "other"}).status_code == 302
    response = client.post(edit_url, {"version": 1, "title": "Krock", "kind": "other"})
    assert response.status_code == 412 and "Någon annan har ändrat" in response.text
    # personal data in a title is refused on the field
    response = client.post(meeting_url, {"punkt-title": "Ring 070-123 45 67", "punkt-kind": "other"})
    assert response.status_code == 400
    # remove an item
    first.refresh_from_db()
    assert client.post(f"{meeting_url}punkter/{first.pk}/ta-bort/", {"version": first.version}).status_code == 302
    assert list(AgendaItem.objects.values_list("title", flat=True)) == ["Andra punkten"]
    # apply the proposed agenda: the rise in the history is a new signal
    assert client.post(f"{meeting_url}foresla/").status_code == 302
    assert AgendaItem.objects.filter(kind="signal").exists()
    # a decision on the meeting, with a measure; the measure done, with its before/after comparison
    fingerprint = AgendaItem.objects.filter(kind="signal").first().fingerprint
    response = client.post(f"{base}/beslut/ny/", {"text": "En gemensam rutin.", "decided_on": (
        TODAY - datetime.timedelta(days=90)).isoformat(), "meeting": meeting.pk, "fingerprints": fingerprint})
    assert response.status_code == 302, response.content
    decision = Decision.objects.get()
    assert decision.fingerprints == [fingerprint] and decision.meeting_id == meeting.pk
    sip = Category.objects.get(key="sip")
    response = client.post(f"{base}/beslut/{decision.pk}/atgarder/ny/", {
        "title": "Checklista", "owner_organisation": w.org_b.pk, "due_on": TODAY.isoformat(), "status": "planned",
        "category": sip.pk, "from_organisation": w.org_a.pk, "to_organisation": w.org_b.pk})
    assert response.status_code == 302, response.content
    measure = Measure.objects.get()
    values = {"title": "Checklista", "owner_organisation": w.org_b.pk, "due_on": TODAY.isoformat(),
              "status": "done", "category": sip.pk, "from_organisation": w.org_a.pk,
              "to_organisation": w.org_b.pk}
    assert client.post(f"{base}/atgarder/{measure.pk}/andra/", {**values, "version": 1}).status_code == 302
    assert Measure.objects.get().status == MeasureStatus.DONE
    response = client.post(f"{base}/atgarder/{measure.pk}/andra/", {**values, "version": 1})
    assert response.status_code == 412
    page = client.get(f"{base}/atgarder/").text
    assert "Checklista" in page and "före" in page and "efter" in page
    result = forum_services.before_after(Measure.objects.get())
    assert f"{result.before.count} före, {result.after.count} efter" in page
    # the decision page links the pattern to its drill-down
    assert "theme=v1" in client.get(f"{base}/beslut/{decision.pk}/").text


def test_drilldown_lists_pseudonymised_reports_without_staff_names_or_sip(setup):
    w = setup
    add(w, 3, on=months_ago(1))
    add(w, 2, on=months_ago(1), key="bemotande", reverse=True)
    add(w, 4, on=months_ago(3))
    base = f"/forum/{w.forum.pk}/avvikelser/"
    everything = get(w.ledamot, base)
    assert everything.status_code == 200
    assert "9 avvikelser" in everything.text
    main = everything.text.split("<main", 1)[1]  # the header names the signed-in user
    for name in ("Rutger", "Rapportsson", "rut", "Pia", "Ledare"):
        assert not re.search(rf"\b{name}\b", main), name
    assert "/sip/" not in main
    sip = Category.objects.get(key="sip")
    start = months_ago(1).replace(day=1)
    narrowed = get(w.ledamot, base, category=sip.pk, reporting_organisation=w.org_a.pk,
                   counterpart_organisation=w.org_b.pk, period_start=start.isoformat())
    assert "3 avvikelser" in narrowed.text
    assert get(w.ledamot, base, theme="nonsense").status_code == 400
    assert get(w.ledamot, base, period_start="not-a-date").status_code == 400


def test_dashboard_draws_charts_heatmap_and_themes_whose_links_drill_to_the_same_numbers(setup):
    w = setup
    history(w)
    response = get(w.ledamot, f"/forum/{w.forum.pk}/")
    assert response.status_code == 200
    html = response.text
    assert html.count('<svg class="control-chart"') == 2  # sip A→B and bemötande B→A
    assert "chart-point is-flagged" in html and "<polygon" in html  # the rise is flagged with a diamond
    assert "Signaler" in html and "forum-heatmap" in html and "heat-5" in html
    assert " style=" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)
    # a flagged point links to the drill-down of exactly its count
    point = re.search(r'<a href="([^"]+)" class="chart-point is-flagged" aria-label="[^"]*: (\d+) avvikelser', html)
    url = point[1].replace("&amp;", "&")
    params = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
    drill = get(w.ledamot, urlparse(url).path, **params)
    assert f"{point[2]} avvikelser" in drill.text
    assert get(w.ledamot, f"/forum/{w.forum.pk}/", granularity="year").status_code == 400
    assert get(w.ledamot, f"/forum/{w.forum.pk}/", granularity="quarter").status_code == 200


def test_dashboard_query_count_does_not_grow_with_reports(setup):
    w = setup
    work(w)

    def count():
        client = browser_for(User.objects.get(pk=w.leader.pk))
        client.get("/forum/")  # session settled outside the measurement
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/forum/{w.forum.pk}/")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    history(w)
    small = count()
    history(w, scale=3)
    add(w, 5, on=months_ago(2), key="utskrivning")
    assert count() == small
    assert small <= 20
