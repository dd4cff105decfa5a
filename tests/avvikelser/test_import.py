"""Import of samverkansavvikelser from CSV and XLSX: all or nothing, row-by-row errors, the directory and the
taxonomy matched (never extended), the personal-data guard on every free-text column."""

import datetime
import io
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from avvikelser import importer, services
from avvikelser.importer import import_deviations
from avvikelser.models import Agreement, Category, Deviation, DeviationChange, Forum
from organisations.errors import Forbidden
from organisations.models import AuditEntry, Role, User
from tests.conftest import client_for, requires_postgres
from tests.factories import OrganisationFactory, UnitFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "avvikelser-import-example.csv"
PERSONNUMMER = "811218-9876"  # valid check digit
HEADER = ["händelsedatum", "rapporterande organisation", "rapporterande enhet", "motpart organisation",
          "motpart enhet", "kategori", "vad hände", "konsekvens", "status", "mottagen datum", "besvarad datum",
          "analys", "åtgärder"]


@pytest.fixture
def forum(world):
    forum = Forum.objects.create(name="Styrgrupp test", acknowledge_working_days=3, answer_days=30)
    forum.organisations.set([world.org_a, world.org_b])
    Agreement.objects.create(forum=forum, name="Rutin för SIP")
    return forum


@pytest.fixture
def admin(world):
    return User.objects.get(pk=world.users_a[Role.ORG_ADMIN].pk)


def line(world, **values) -> dict:
    """One valid row: org A's unit reports against org B; keyword arguments override (underscores for spaces)."""
    row = {"händelsedatum": "2024-03-04", "rapporterande organisation": world.org_a.name,
           "rapporterande enhet": world.unit_a.name, "motpart organisation": world.org_b.name,
           "motpart enhet": world.unit_b.name, "kategori": "Brister i återkoppling",
           "vad hände": "Remissen besvarades inte trots påminnelser.", "konsekvens": "risk", "status": "inkommen",
           "mottagen datum": "", "besvarad datum": "", "analys": "", "åtgärder": ""}
    row.update({key.replace("_", " "): value for key, value in values.items()})
    return row


def csv_bytes(rows, *, header=None, delimiter=";", bom=False, encoding="utf-8") -> bytes:
    import csv

    header = header or (list(rows[0]) if rows else HEADER)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def run(actor, data: bytes, filename="avvikelser.csv"):
    return import_deviations(actor, io.BytesIO(data), filename=filename)


def xlsx_bytes(rows, header) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(column) for column in header])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- happy paths -------------------------------------------------------------------------------------------

def test_csv_imports_every_row_with_workflow_dates_history_and_one_audit_entry(world, forum, admin):
    rows = [
        line(world),
        line(world, status="Mottagen", mottagen_datum="2024-03-06", konsekvens="Ingen"),
        line(world, status="besvarad", mottagen_datum="2024-03-06", besvarad_datum="2024-03-20",
             analys="Rutinen var okänd.", åtgärder="Genomgång på APT.", konsekvens="skada"),
        line(world, status="Utkast", motpart_enhet="", konsekvens=""),
    ]
    audit_before = AuditEntry.objects.count()

    result = run(admin, csv_bytes(rows))

    assert result.ok, result.errors
    assert result.created == 4
    inkommen, mottagen, besvarad, utkast = Deviation.objects.order_by("id")
    for deviation in (inkommen, mottagen, besvarad, utkast):
        assert deviation.reporter_id == admin.pk
        assert deviation.reporting_unit_id == world.unit_a.pk
        assert deviation.reporting_organisation_id == world.org_a.pk
        assert deviation.counterpart_organisation_id == world.org_b.pk
        assert deviation.forum_id == forum.pk
        assert deviation.category.key == "brister-i-aterkoppling"
        assert deviation.occurred_on == datetime.date(2024, 3, 4)
    assert inkommen.state == "inkommen" and inkommen.counterpart_unit_id == world.unit_b.pk
    submitted = timezone.localtime(inkommen.submitted_at)
    assert submitted.date() == datetime.date(2024, 3, 4)
    assert inkommen.acknowledge_due_at == services.add_working_days(inkommen.submitted_at, 3)
    assert timezone.localtime(inkommen.answer_due_at).date() == datetime.date(2024, 4, 3)  # 30 days
    assert inkommen.acknowledged_at is None and inkommen.consequence == "risk"
    assert mottagen.state == "mottagen" and timezone.localtime(mottagen.acknowledged_at).date().day == 6
    assert besvarad.state == "besvarad" and besvarad.analysis == "Rutinen var okänd."
    assert timezone.localtime(besvarad.answered_at).date() == datetime.date(2024, 3, 20)
    assert utkast.state == "utkast" and utkast.submitted_at is None and utkast.acknowledge_due_at is None
    assert utkast.counterpart_unit_id is None and utkast.consequence == "okand"
    assert DeviationChange.objects.filter(action="create", actor=admin).count() == 4 * 3
    entries = AuditEntry.objects.order_by("id")[audit_before:]
    assert len(entries) == 1
    assert entries[0].actor_id == admin.pk and entries[0].action == "create" and "import" in entries[0].fields


def test_xlsx_imports_date_cells_and_text_dates(world, forum, admin):
    header = [h.upper() for h in HEADER]  # headers are case-insensitive
    rows = [{**{k.upper(): v for k, v in line(world).items()}, "HÄNDELSEDATUM": datetime.date(2024, 1, 9)},
            {k.upper(): v for k, v in line(world, status="avslutad", mottagen_datum=datetime.datetime(2024, 3, 5),
                                            besvarad_datum="2024-03-08", analys="A", åtgärder="B").items()}]

    result = run(admin, xlsx_bytes(rows, header), filename="historik.xlsx")

    assert result.ok, result.errors
    assert result.created == 2
    first, closed = Deviation.objects.order_by("id")
    assert first.occurred_on == datetime.date(2024, 1, 9)
    assert closed.state == "avslutad" and timezone.localtime(closed.closed_at).date() == datetime.date(2024, 3, 8)


def test_semicolon_csv_with_bom_and_comma_csv_without(world, forum, admin):
    with_bom = csv_bytes([line(world, vad_hände="Svar dröjde, trots påminnelse.")], bom=True)
    assert with_bom.startswith(b"\xef\xbb\xbf")
    assert run(admin, with_bom).created == 1
    plain = csv_bytes([line(world, vad_hände="Svar dröjde; trots påminnelse.")], delimiter=",")
    assert run(admin, plain).created == 1
    assert set(Deviation.objects.values_list("what_happened", flat=True)) == {
        "Svar dröjde, trots påminnelse.", "Svar dröjde; trots påminnelse."}


def test_windows_1252_csv_from_swedish_excel(world, forum, admin):
    assert run(admin, csv_bytes([line(world)], encoding="cp1252")).created == 1


def test_names_match_case_insensitively_and_a_retired_category_is_kept(world, forum, admin):
    retired = Category.objects.get(key="hjalpmedel")
    services.retire_category(admin, retired)
    rows = [line(world, rapporterande_organisation=f"  {world.org_a.name.upper()} ",
                 rapporterande_enhet=world.unit_a.name.lower(), kategori="HJALPMEDEL", status="INKOMMEN"),
            line(world, kategori="hjälpmedel", status="Eskalerad till forum")]

    result = run(admin, csv_bytes(rows))

    assert result.ok, result.errors
    assert set(Deviation.objects.values_list("category_id", flat=True)) == {retired.pk}
    escalated = Deviation.objects.get(state="eskalerad")
    assert escalated.escalated_at is not None


def test_agreement_links_to_the_forums_list_or_stays_free_text(world, forum, admin):
    rows = [line(world, överenskommelse="rutin för sip"), line(world, överenskommelse="Lokal rutin för remisser")]
    assert run(admin, csv_bytes(rows, header=[*HEADER, "överenskommelse"])).ok
    linked, other = Deviation.objects.order_by("id")
    assert linked.agreement.name == "Rutin för SIP" and not linked.agreement_other
    assert other.agreement_id is None and other.agreement_other == "Lokal rutin för remisser"


# --- all or nothing, and the errors ------------------------------------------------------------------------

def test_one_bad_row_rejects_the_whole_file_and_names_row_and_column(world, forum, admin):
    rows = [line(world) for _ in range(5)]
    rows[2] = line(world, händelsedatum="4 mars 2024")  # the fourth spreadsheet row: the header is row 1

    result = run(admin, csv_bytes(rows))

    assert not result.ok and result.created == 0
    assert result.errors == [{"row": 4, "column": "händelsedatum",
                              "message": "Ange datumet som ÅÅÅÅ-MM-DD, till exempel 2024-03-15."}]
    assert result.messages() == ["Rad 4, kolumn 'händelsedatum': Ange datumet som ÅÅÅÅ-MM-DD, till exempel "
                                 "2024-03-15."]
    assert not Deviation.objects.exists() and not DeviationChange.objects.exists()


@pytest.mark.parametrize(("column", "value", "expected"), [
    ("rapporterande organisation", "Malmö stadd", "finns inte i katalogen"),
    ("motpart organisation", "Region Okänd", "finns inte i katalogen"),
    ("rapporterande enhet", "Beroendecentrum", "finns inte i"),  # org B's unit, not org A's
    ("motpart enhet", "Enhet som inte finns", "finns inte i"),
    ("kategori", "Parkering", "Kategorin 'Parkering' finns inte"),
    ("status", "pågår", "Okänd status"),
    ("konsekvens", "allvarlig", "Okänd konsekvens"),
    ("händelsedatum", "2024-02-30", "ÅÅÅÅ-MM-DD"),
    ("händelsedatum", "", "obligatoriskt"),
    ("vad hände", " ", "obligatoriskt"),
])
def test_unknown_names_and_bad_values_are_row_errors_never_new_records(world, forum, admin, column, value,
                                                                        expected):
    from organisations.models import Organisation, Unit

    counts = (Organisation.objects.count(), Unit.objects.count(), Category.objects.count())
    result = run(admin, csv_bytes([line(world), line(world, **{column.replace(" ", "_"): value})]))

    assert [(e["row"], e["column"]) for e in result.errors] == [(3, column)]
    assert expected in result.errors[0]["message"]
    assert (Organisation.objects.count(), Unit.objects.count(), Category.objects.count()) == counts
    assert not Deviation.objects.exists()


@pytest.mark.parametrize(("values", "column", "expected"), [
    ({"status": "besvarad", "mottagen_datum": "2024-03-05", "analys": "a", "åtgärder": "b"}, "besvarad datum",
     "kräver besvarad datum"),
    ({"status": "besvarad", "mottagen_datum": "2024-03-05", "besvarad_datum": "2024-03-06", "åtgärder": "b"},
     "analys", "kräver motpartens analys"),
    ({"status": "mottagen"}, "mottagen datum", "kräver mottagen datum"),
    ({"status": "utkast", "mottagen_datum": "2024-03-05"}, "mottagen datum", "kan inte ha mottagen datum"),
    ({"status": "mottagen", "mottagen_datum": "2024-03-01"}, "mottagen datum", "före händelsedatum"),
    ({"status": "avslutad", "besvarad_datum": "2024-03-09", "analys": "a", "åtgärder": "b"}, "mottagen datum",
     "Besvarad datum kräver mottagen datum"),
    ({"status": "inkommen", "analys": "Vi såg över rutinen."}, "analys", "kräver besvarad datum"),
    ({"händelsedatum": (datetime.date.today() + datetime.timedelta(days=2)).isoformat()}, "händelsedatum",
     "i framtiden"),
    ({"motpart_organisation": "Malmö stad (test)", "motpart_enhet": ""}, "motpart organisation",
     "annan organisation"),
])
def test_workflow_and_date_rules(world, forum, admin, values, column, expected):
    result = run(admin, csv_bytes([line(world, **values)]))

    assert [e["column"] for e in result.errors] == [column], result.errors
    assert expected in result.errors[0]["message"]
    assert not Deviation.objects.exists()


def test_personnummer_in_what_happened_is_a_row_error_that_does_not_repeat_it(world, forum, admin):
    rows = [line(world), line(world, vad_hände=f"Gäller {PERSONNUMMER} som inte fick någon tid.")]

    result = run(admin, csv_bytes(rows))

    assert [(e["row"], e["column"]) for e in result.errors] == [(3, "vad hände")]
    message = result.errors[0]["message"]
    assert "personnummer" in message
    assert not any(char.isdigit() for char in message)
    assert PERSONNUMMER not in " ".join(result.messages())
    assert not Deviation.objects.exists()


def test_every_free_text_column_is_guarded(world, forum, admin):
    rows = [line(world, status="besvarad", mottagen_datum="2024-03-05", besvarad_datum="2024-03-06",
                 analys="Ring 070-123 45 67.", åtgärder="Mejla kim.andersson@example.org.")]
    result = run(admin, csv_bytes(rows))
    assert {(e["column"], "070" in e["message"] or "@" in e["message"]) for e in result.errors} == {
        ("analys", False), ("åtgärder", False)}


def test_every_error_is_collected_and_the_list_is_capped(world, forum, admin):
    rows = [line(world, status="okänt") for _ in range(importer.MAX_ERRORS + 30)]
    result = run(admin, csv_bytes(rows))
    assert len(result.errors) == importer.MAX_ERRORS and result.more_errors == 30
    assert result.messages()[-1] == "… och 30 fel till."
    assert [e["row"] for e in result.errors[:3]] == [2, 3, 4]


def test_header_errors_name_the_column(world, forum, admin):
    header = [h for h in HEADER if h != "kategori"] + ["kommentar"]
    result = run(admin, csv_bytes([line(world)], header=header))
    assert {(e["row"], e["column"], e["message"]) for e in result.errors} == {
        (1, "kommentar", "Okänd kolumn. Se dokumentationen för vilka kolumner som finns."),
        (1, "kategori", "Kolumnen saknas."),
    }


@pytest.mark.parametrize(("data", "filename", "expected"), [
    (b"", "tom.csv", "Filen är tom."),
    ("händelsedatum;status\r\n".encode(), "bara-rubrik.csv", "Kolumnen saknas."),
    (b"\xd0\xcf\x11\xe0 old excel", "gammal.xls", "Filformatet stöds inte"),
    (b"PK\x03\x04 not really a workbook", "trasig.xlsx", "kunde inte läsas"),
])
def test_unreadable_files_are_clear_errors(admin, data, filename, expected):
    result = run(admin, data, filename=filename)
    assert expected in result.messages()[0]


def test_too_many_rows_and_too_large_files_are_rejected(world, forum, admin, monkeypatch):
    monkeypatch.setattr(importer, "MAX_ROWS", 3)
    result = run(admin, csv_bytes([line(world)] * 4))
    assert "fler än 3 rader" in result.messages()[0]
    monkeypatch.setattr(importer, "MAX_BYTES", 100)
    result = run(admin, csv_bytes([line(world)]))
    assert "större än" in result.messages()[0]
    assert not Deviation.objects.exists()


# --- who may import ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [r for r in Role.values if r not in (Role.ORG_ADMIN, Role.PROCESSLEDARE)])
def test_other_roles_may_not_import(world, forum, role):
    with pytest.raises(Forbidden):
        run(world.users_a[role], csv_bytes([line(world)]))


def test_processledare_imports_rows_that_concern_their_organisation_only(world, forum):
    org_c = OrganisationFactory(name="Eskilstuna kommun (test)")
    unit_c = UnitFactory(organisation=org_c, name="Vuxenenheten")
    leader = world.users_a[Role.PROCESSLEDARE]
    rows = [line(world, rapporterande_organisation=world.org_b.name, rapporterande_enhet=world.unit_b.name,
                 motpart_organisation=world.org_a.name, motpart_enhet=world.unit_a.name),
            line(world, motpart_organisation=org_c.name, motpart_enhet=unit_c.name,
                 rapporterande_organisation=world.org_b.name, rapporterande_enhet=world.unit_b.name)]

    result = run(leader, csv_bytes(rows))

    assert result.errors == [{"row": 3, "column": "rapporterande organisation",
                              "message": "Du kan bara importera avvikelser som rör din egen organisation."}]
    assert run(leader, csv_bytes(rows[:1])).created == 1


# --- scale -------------------------------------------------------------------------------------------------

def test_insert_path_runs_a_bounded_number_of_queries(world, forum, admin):
    rows = [line(world, status=("avslutad" if i % 2 else "inkommen"), mottagen_datum="", besvarad_datum="")
            for i in range(600)]
    data = csv_bytes(rows)
    admin = User.objects.get(pk=admin.pk)
    with CaptureQueriesContext(connection) as ctx:
        result = run(admin, data)
    assert result.created == 600
    statements = [q["sql"].split(None, 1)[0].upper() for q in ctx.captured_queries]
    # Reads: memberships, organisations, units, categories, the forum of the one pair, its agreements.
    assert statements.count("SELECT") <= 6, [q["sql"][:100] for q in ctx.captured_queries]
    # Writes in batches (PostgreSQL: one INSERT per 2 000 rows; SQLite caps the parameters per statement).
    assert len(statements) < 600 / 10


@pytest.mark.postgres
def test_ten_thousand_rows_import_in_under_a_minute(world, forum, admin):
    requires_postgres()
    second_unit = UnitFactory(organisation=world.org_b, name="Mottagning Syd")
    states = [{"status": "inkommen"}, {"status": "mottagen", "mottagen_datum": "2024-03-05"},
              {"status": "avslutad", "mottagen_datum": "2024-03-05", "besvarad_datum": "2024-03-20",
               "analys": "Rutinen var inte känd.", "åtgärder": "Rutinen gicks igenom."}]
    categories = list(Category.objects.values_list("name", flat=True))
    rows = []
    for i in range(10_000):
        day = datetime.date(2020, 1, 1) + datetime.timedelta(days=i % 1400)
        extra = {k.replace(" ", "_"): v for k, v in states[i % 3].items()}
        if "mottagen_datum" in extra:
            extra["mottagen_datum"] = (day + datetime.timedelta(days=2)).isoformat()
        if "besvarad_datum" in extra:
            extra["besvarad_datum"] = (day + datetime.timedelta(days=20)).isoformat()
        rows.append(line(world, händelsedatum=day.isoformat(), kategori=categories[i % len(categories)],
                         motpart_enhet=(world.unit_b if i % 2 else second_unit).name,
                         vad_hände=f"Återkoppling uteblev i ärende nummer {i} trots påminnelse.", **extra))
    data = csv_bytes(rows)

    started = time.monotonic()
    result = run(User.objects.get(pk=admin.pk), data)
    elapsed = time.monotonic() - started

    assert result.ok, result.messages()[:5]
    assert result.created == 10_000
    assert Deviation.objects.count() == 10_000
    assert elapsed < 60, f"{elapsed:.1f} s"
    print(f"\n10 000 rows imported in {elapsed:.2f} s")  # the measured timing, shown with -s


# --- the management command --------------------------------------------------------------------------------

def test_command_imports_and_prints_the_count(world, forum, admin, tmp_path):
    path = tmp_path / "avvikelser.csv"
    path.write_bytes(csv_bytes([line(world), line(world)]))
    out = io.StringIO()
    call_command("import_avvikelser", str(path), "--user", admin.username, stdout=out)
    assert "Importerade 2 avvikelser" in out.getvalue()


def test_command_prints_row_errors_and_fails(world, forum, admin, tmp_path):
    path = tmp_path / "avvikelser.csv"
    path.write_bytes(csv_bytes([line(world), line(world, kategori="Parkering")]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 fel"):
        call_command("import_avvikelser", str(path), "--user", admin.username, stderr=err)
    assert "Rad 3, kolumn 'kategori': Kategorin 'Parkering' finns inte" in err.getvalue()
    assert not Deviation.objects.exists()
    with pytest.raises(CommandError, match="Bara processledare"):
        call_command("import_avvikelser", str(path), "--user", world.users_a[Role.BEHANDLARE].username)


def test_example_file_imports_against_the_demo_data():
    call_command("seed_demo", stdout=io.StringIO())
    before = Deviation.objects.count()
    result = import_deviations(User.objects.get(username="malmo.admin"), EXAMPLE.open("rb"),
                               filename=EXAMPLE.name)
    assert result.ok, result.messages()
    assert result.created == 5
    imported = Deviation.objects.order_by("-id")[:5]
    assert Deviation.objects.count() == before + 5
    assert {d.state for d in imported} == {"avslutad", "besvarad", "mottagen", "eskalerad", "inkommen"}
    assert all(d.forum is not None for d in imported)
    assert sum(1 for d in imported if d.agreement_id or d.agreement_other) == 3


# --- the API -----------------------------------------------------------------------------------------------

URL = "/api/v1/avvikelser/import/"


def upload(data: bytes, name="avvikelser.csv"):
    return {"file": SimpleUploadedFile(name, data, content_type="text/csv")}


def test_api_imports_a_multipart_file(world, forum, admin):
    response = client_for(admin).post(URL, upload(csv_bytes([line(world)] * 3)), format="multipart")
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 3}


def test_api_accepts_a_raw_file_body(world, forum, admin):
    response = client_for(admin).generic("POST", URL, csv_bytes([line(world)]), content_type="text/csv",
                                         HTTP_CONTENT_DISPOSITION="attachment; filename=avvikelser.csv")
    assert response.status_code == 201, response.content


def test_api_rejection_is_a_problem_listing_every_row(world, forum, admin):
    rows = [line(world), line(world, vad_hände=f"Gäller {PERSONNUMMER}."), line(world, status="pågår")]
    response = client_for(admin).post(URL, upload(csv_bytes(rows)), format="multipart")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "urn:samverkan:problem:import_rejected"
    assert body["errors"]["file"][0].startswith("Rad 3, kolumn 'vad hände': Texten innehåller personuppgifter")
    assert body["errors"]["file"][1].startswith("Rad 4, kolumn 'status': Okänd status")
    assert [(r["row"], r["column"]) for r in body["rows"]] == [(3, "vad hände"), (4, "status")]
    assert PERSONNUMMER not in response.content.decode()
    assert not Deviation.objects.exists()


def test_api_without_a_file_is_a_field_error(admin):
    response = client_for(admin).post(URL, {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["errors"]


# The permission matrix for the import endpoint: a file about org A vs org B, posted by each role of org A,
# by a signed-in user without membership, and anonymously; a file about org B vs org C is a row error even
# for org A's processledare and org_admin.
IMPORT_CASES = [
    *[(role, "own", 201 if role in (Role.ORG_ADMIN, Role.PROCESSLEDARE) else 403) for role in Role.values],
    *[(role, "other", 400 if role in (Role.ORG_ADMIN, Role.PROCESSLEDARE) else 403) for role in Role.values],
    (None, "none", 403),
    (None, "anonymous", 401),
]


@pytest.mark.parametrize(("role", "scope", "expected"), IMPORT_CASES,
                         ids=[f"{r or s}-{s}" for r, s, _e in IMPORT_CASES])
def test_import_permission_matrix(world, forum, role, scope, expected):
    rows = [line(world)]
    if scope == "other":
        org_c = OrganisationFactory(name="Organisation C (test)")
        unit_c = UnitFactory(organisation=org_c, name="Enhet C")
        rows = [line(world, rapporterande_organisation=world.org_b.name, rapporterande_enhet=world.unit_b.name,
                     motpart_organisation=org_c.name, motpart_enhet=unit_c.name)]
    actor = {"anonymous": None, "none": world.outsider}[scope] if role is None else world.users_a[role]

    response = client_for(actor).post(URL, upload(csv_bytes(rows)), format="multipart")

    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response["Content-Type"].startswith("application/problem+json")
    assert Deviation.objects.count() == (1 if expected == 201 else 0)


def test_a_unit_name_used_twice_in_one_organisation_prefers_the_active_unit(world, forum, admin):
    from organisations.models import Unit

    first = UnitFactory(organisation=world.org_b, name="Mottagningen", parent=world.unit_b)
    second = UnitFactory(organisation=world.org_b, name="Mottagningen")
    result = run(admin, csv_bytes([line(world, motpart_enhet="Mottagningen")]))
    assert result.errors[0]["column"] == "motpart enhet" and "Flera enheter" in result.errors[0]["message"]
    Unit.objects.filter(pk=first.pk).update(active=False)
    assert run(admin, csv_bytes([line(world, motpart_enhet="mottagningen")])).created == 1
    assert Deviation.objects.get().counterpart_unit_id == second.pk
