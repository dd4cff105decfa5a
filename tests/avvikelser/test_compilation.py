"""The forum compilation ("Sammanställning av samverkansavvikelser"): the PDF and the XLSX open and hold the same
numbers as the pattern API for the same forum and period (merged categories included), delaktighet figures are
suppressed, the task moves to 100 % and is idempotent, only members see it (404 outside), only editors order it,
the files are 409 until ready, no staff names or SIP links in either file, and the API's query counts are
constant in the number of compilations."""

import datetime
import io
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from avvikelser import compilation, forum_services
from avvikelser.compilation_render import _plain
from avvikelser.models import Category, Compilation, CompilationStatus, Deviation, Forum, ForumMember, State
from avvikelser.tasks import build_compilation
from organisations.models import Role, User
from tests.conftest import client_for, make_plan
from tests.delaktighet.test_reports import Row, add_answers
from tests.factories import member

pytestmark = pytest.mark.django_db

START, END = datetime.date(2025, 1, 1), datetime.date(2025, 6, 30)
TODAY = datetime.date(2025, 8, 1)
STAFF_FIRST, STAFF_LAST = "Sixten", "Sekretessdottir"


def api(user):
    return client_for(User.objects.get(pk=user.pk))


@pytest.fixture
def fc(world):
    """A forum over A and B with a processledare and a ledamot, reports in four categories (one merged into
    "sip"), a decision with a measure whose responsible person has a name that must never appear, and a few
    delaktighet answers for a plan led by A (a small cell)."""
    forum = Forum.objects.create(name="Styrgrupp Malmö (test)")
    forum.organisations.set([world.org_a, world.org_b])
    leader = member(world.unit_a2, Role.PROCESSLEDARE, first_name="Petra", last_name="Processledarsson")
    reader = world.users_a[Role.STYRGRUPPSLEDAMOT]
    ForumMember.objects.create(forum=forum, user=leader, role="processledare")
    ForumMember.objects.create(forum=forum, user=reader, role="ledamot")
    reporter = world.users_a[Role.SOCIALSEKRETERARE]
    reporter.first_name, reporter.last_name = STAFF_FIRST, STAFF_LAST
    reporter.save()
    plan = make_plan(world)
    old = Category.objects.create(key="gammal-sip", name="Gammal SIP-kategori", successor=Category.objects.get(
        key="sip"), retired_at=timezone.now())
    units = {"a": world.unit_a, "b": world.unit_b}
    orgs = {"a": world.org_a, "b": world.org_b}

    def add(n, on, key, source="a", target="b", state=State.INKOMMEN):
        category = old if key == "gammal" else Category.objects.get(key=key)
        Deviation.objects.bulk_create([Deviation(
            reporter=reporter, reporting_unit=units[source], reporting_organisation=orgs[source],
            counterpart_organisation=orgs[target], forum=forum, occurred_on=on, category=category, sip=plan.sip,
            what_happened=f"Kallelsen till {plan.person.first_name} kom inte fram.", state=state)
            for _ in range(n)])

    for month in range(1, 7):
        add(2 + month, datetime.date(2025, month, 10), "sip")
        add(1, datetime.date(2025, month, 12), "gammal")
        add(month % 3, datetime.date(2025, month, 3), "informationsoverforing", source="b", target="a")
    add(3, datetime.date(2025, 6, 20), "bemotande")
    add(4, datetime.date(2025, 3, 1), "sip", state=State.UTKAST)  # drafts never count
    add(5, datetime.date(2024, 12, 31), "sip")  # before the period
    decision = forum_services.create_decision(leader, forum.pk, text="Gemensam rutin för kallelser",
                                              decided_on=datetime.date(2025, 4, 1))
    responsible = member(world.unit_a, Role.SOCIALSEKRETERARE, first_name="Rut", last_name="Ansvarigsson")
    forum_services.create_measure(leader, decision, title="Ta fram rutinen", owner_organisation=world.org_a,
                                  due_on=datetime.date(2025, 9, 30), responsible_user=responsible,
                                  category=Category.objects.get(key="sip"), from_organisation=world.org_a,
                                  to_organisation=world.org_b)
    add_answers(plan.sip, [Row(answers={"information": 5, "lyssnad": 4}), Row(answers={"information": 3}),
                           Row(answers={"information": 6}), Row(answers=None)],
                held=datetime.datetime(2025, 3, 10, 10, 0))
    return SimpleNamespace(world=world, forum=forum, leader=leader, reader=reader, plan=plan, responsible=responsible,
                           outsider=world.users_b[Role.PROCESSLEDARE])


def queue(fc, granularity="month") -> Compilation:
    return Compilation.objects.create(forum=fc.forum, requested_by=fc.leader, period_start=START, period_end=END,
                                      granularity=granularity)


@pytest.fixture
def built(fc):
    item = queue(fc)
    assert compilation.build(item.pk, today=TODAY) is True
    item.refresh_from_db()
    api_numbers = api(fc.reader).get(f"/api/v1/forums/{fc.forum.pk}/patterns/", {
        "period_start": START.isoformat(), "period_end": END.isoformat(), "granularity": "month"}).json()
    return SimpleNamespace(item=item, api=api_numbers)


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def workbook(content: bytes):
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(content))


def forbidden_strings(fc) -> list[str]:
    w = fc.world
    people = [fc.plan.person.first_name, fc.plan.person.last_name, STAFF_LAST, fc.responsible.last_name,
              fc.leader.last_name]
    return [text for text in people if text] + [f"/sip/{fc.plan.sip.pk}/", "Kallelsen till",
                                                 str(w.users_a[Role.SOCIALSEKRETERARE].username)]


def test_the_build_reaches_100_percent_and_the_pdf_holds_the_api_numbers(fc, built):
    item, numbers = built.item, built.api
    assert (item.status, item.progress, item.step, item.error) == (CompilationStatus.DONE, 100, "done", "")
    assert item.total == numbers["total"] == sum(2 + m + 1 + m % 3 for m in range(1, 7)) + 3
    text = pdf_text(bytes(item.pdf))
    assert "Sammanställning av samverkansavvikelser" in text
    lines = [line.strip() for line in text.splitlines()]  # pypdf gives one table cell per line

    def row(*cells):
        return any(lines[i:i + len(cells)] == [str(c) for c in cells] for i in range(len(lines)))

    assert row("Antal avvikelser", numbers["total"])
    names = {r["category"]["name"] for r in numbers["categories"]}
    assert "Gammal SIP-kategori" not in names and "SIP" in names  # merged: counted under its successor
    for r in numbers["categories"]:
        assert row(r["category"]["name"], r["total"]), r
    for r in numbers["directions"]:
        label = f"{r['reporting_organisation']['name']} → {r['counterpart_organisation']['name']}"
        assert row(_plain(label), r["total"])  # "->" where the system has no DejaVu font
    for label, period in zip(["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"], numbers["periods"],
                             strict=True):
        assert row(label, period["count"], period["active_sips"])
    assert "Ta fram rutinen" in text and "Gemensam rutin för kallelser" in text
    for secret in forbidden_strings(fc):
        assert secret not in text


def test_the_xlsx_cells_equal_the_api_numbers_and_delaktighet_is_suppressed(fc, built):
    numbers = built.api
    book = workbook(bytes(built.item.xlsx))
    assert {"Översikt", "Perioder", "Kategorier", "Riktningar", "Signaler", "Teman", "Beslut", "Åtgärder",
            "Delaktighet"} <= set(book.sheetnames)
    categories = list(book["Kategorier"].iter_rows(values_only=True))
    assert categories[0][1:-1] == ("2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06")
    assert {row[0]: list(row[1:]) for row in categories[1:]} == {
        row["category"]["name"]: [*row["counts"], row["total"]] for row in numbers["categories"]}
    directions = list(book["Riktningar"].iter_rows(values_only=True))[1:]
    assert {(row[1], row[2]): list(row[3:]) for row in directions} == {
        (row["reporting_organisation"]["name"], row["counterpart_organisation"]["name"]): [row["total"], *row["counts"]]
        for row in numbers["directions"]}
    periods = list(book["Perioder"].iter_rows(values_only=True))[1:]
    assert [(row[1], row[3], row[4]) for row in periods] == [
        (p["start"], p["count"], p["active_sips"]) for p in numbers["periods"]]
    overview = {row[0]: row[1] for row in book["Översikt"].iter_rows(values_only=True) if row and row[0]}
    assert overview["Antal avvikelser"] == numbers["total"]
    assert len(book["Kategorier"]._charts) == 1 and len(book["Riktningar"]._charts) == 1
    # Delaktighet: organisation A has 3 answers of 4 invitations — small cells, written "<5", never 3.
    participation = list(book["Delaktighet"].iter_rows(values_only=True))
    own = next(row for row in participation if row[0] == fc.world.org_a.name)
    assert own[1:3] == ("<5", "<5")
    total = next(row for row in participation if row[0] == "Totalt")
    assert total[1:3] == ("<5", "<5")
    cells = [value for row in book["Delaktighet"].iter_rows(values_only=True) for value in row]
    assert 3 not in cells[5:] and "Hemlig" not in str(cells)
    everything = " ".join(str(value) for sheet in book for row in sheet.iter_rows(values_only=True)
                          for value in row if value is not None)
    assert "Ta fram rutinen" in everything
    for secret in forbidden_strings(fc):
        assert secret not in everything
    lines = [line.strip() for line in pdf_text(bytes(built.item.pdf)).splitlines()]
    assert any(lines[i:i + 3] == [fc.world.org_a.name, "<5", "<5"] for i in range(len(lines)))


def test_the_task_is_idempotent_and_failures_are_generic(fc, monkeypatch):
    item = queue(fc)
    assert build_compilation.delay(item.pk).get() is True
    item.refresh_from_db()
    first_pdf = bytes(item.pdf)
    assert build_compilation.delay(item.pk).get() is False  # delivered twice: nothing happens
    item.refresh_from_db()
    assert item.status == CompilationStatus.DONE and bytes(item.pdf) == first_pdf

    running = queue(fc, "week")  # another worker is on it: left alone; lost (older than STALE_AFTER): taken over
    Compilation.objects.filter(pk=running.pk).update(status=CompilationStatus.RUNNING, started_at=timezone.now())
    assert compilation.build(running.pk, today=TODAY) is False
    Compilation.objects.filter(pk=running.pk).update(started_at=timezone.now() - datetime.timedelta(hours=1))
    assert compilation.build(running.pk, today=TODAY) is True
    running.refresh_from_db()
    assert (running.status, running.progress) == (CompilationStatus.DONE, 100)

    broken = queue(fc, "quarter")

    def explode(content):
        raise RuntimeError(f"boom {fc.plan.person.first_name}")

    monkeypatch.setattr("avvikelser.compilation_render.render_pdf", explode)
    assert build_compilation.delay(broken.pk).get() is False
    broken.refresh_from_db()
    assert (broken.status, broken.error, broken.pdf) == (CompilationStatus.FAILED, "build_failed", None)
    assert fc.plan.person.first_name not in compilation.error_label(broken.error)


def test_the_api_queues_polls_and_downloads(fc, django_capture_on_commit_callbacks):
    url = f"/api/v1/forums/{fc.forum.pk}/compilations/"
    body = {"period_start": START.isoformat(), "period_end": END.isoformat(), "granularity": "month"}
    assert api(fc.reader).post(url, body, format="json").status_code == 403  # a ledamot reads only
    assert api(fc.outsider).post(url, body, format="json").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = api(fc.leader).post(url, body, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    detail = api(fc.reader).get(f"{url}{response.json()['id']}/").json()
    assert (detail["status"], detail["progress"], detail["ready"]) == ("done", 100, True)
    pdf = api(fc.reader).get(detail["pdf_url"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    xlsx = api(fc.reader).get(detail["xlsx_url"], HTTP_ACCEPT=compilation.FILES["xlsx"][0])
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert api(fc.outsider).get(detail["pdf_url"]).status_code == 404
    assert api(fc.outsider).get(f"{url}{detail['id']}/").status_code == 404

    waiting = queue(fc)
    response = api(fc.reader).get(f"{url}{waiting.pk}/pdf/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 409 and response["Content-Type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("compilation_not_ready")
    bad = api(fc.leader).post(url, {**body, "period_end": "2024-01-01"}, format="json")
    assert bad.status_code == 400 and bad["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize("tail", ["", "{id}/"])
def test_list_and_detail_query_counts_are_constant(fc, tail):
    client = api(fc.reader)
    url = f"/api/v1/forums/{fc.forum.pk}/compilations/"
    queue(fc)
    client.get(url)  # warm-up: the session and the user are loaded once per client
    counts = []
    for _ in range(2):
        for _n in range(3):
            queue(fc)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url + tail.format(id=Compilation.objects.latest("id").pk))
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_delaktighet_per_organisation_never_leaves_a_hidden_cell_computable(fc):
    """A's 3 answers are hidden; with B's 8 and the total 11 shown, A would be 11 − 8: B is hidden too."""
    from sip.delaktighet import reports

    add_answers(fc.plan.sip, [Row(answers={"information": 4}) for _ in range(8)], lead=fc.world.org_b.pk)
    report = reports.organisation_report([fc.world.org_a.pk, fc.world.org_b.pk], period_start=START, period_end=END)
    own, other = report["groups"]
    assert (own["key"], other["key"]) == ({"organisation": fc.world.org_a.pk}, {"organisation": fc.world.org_b.pk})
    assert (own["answers"], other["answers"], report["total"]["answers"]) == ("<5", "<5", 11)
    assert (own["invitations"], other["invitations"], report["total"]["invitations"]) == ("<5", "<5", 12)


def test_without_dejavu_the_pdf_falls_back_to_the_built_in_font(fc, monkeypatch):
    from avvikelser import compilation_render

    monkeypatch.setattr(compilation_render, "_fonts", ("Helvetica", "Helvetica-Bold"))
    content = compilation.gather(fc.forum, period_start=START, period_end=END, granularity="quarter", today=TODAY)
    text = pdf_text(compilation_render.render_pdf(content))
    assert f"{fc.world.org_a.name} -> {fc.world.org_b.name}" in text and "→" not in text


def test_a_request_queued_while_the_broker_was_away_is_queued_again(fc, django_capture_on_commit_callbacks):
    lost = compilation.request_compilation(fc.leader, fc.forum.pk, period_start=START, period_end=END,
                                           granularity="month")
    Compilation.objects.filter(pk=lost.pk).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    assert lost.status == CompilationStatus.QUEUED  # no task ran: its on-commit callback was never executed
    with django_capture_on_commit_callbacks(execute=True):
        again = compilation.request_compilation(fc.leader, fc.forum.pk, period_start=START, period_end=END,
                                                granularity="month")
    assert again.pk == lost.pk
    lost.refresh_from_db()
    assert lost.status == CompilationStatus.DONE


def test_before_after_of_many_measures_costs_the_same_queries_as_of_one(fc):
    def queries_for_all() -> tuple[int, list, list]:
        measures = list(forum_services.measures_of(fc.forum))
        with CaptureQueriesContext(connection) as ctx:
            results = forum_services.before_after_many(measures, today=TODAY)
        return len(ctx.captured_queries), [forum_services.before_after(m, today=TODAY) for m in measures], results

    one, singles, batched = queries_for_all()
    assert batched == singles
    decision = forum_services.create_decision(fc.leader, fc.forum.pk, text="Fler", decided_on=datetime.date(2025, 5, 1))
    for key in ("sip", "bemotande", "informationsoverforing"):
        forum_services.create_measure(fc.leader, decision, title=key, owner_organisation=fc.world.org_a,
                                      due_on=datetime.date(2025, 9, 30), category=Category.objects.get(key=key))
    many, singles, batched = queries_for_all()
    assert batched == singles and len(batched) == 4
    assert many == one <= 2
