"""Import of samverkansavvikelser from a spreadsheet (CSV or XLSX), one row per report.

Years of deviations kept in spreadsheets and forms come in through here, from the management command
`import_avvikelser` and from `POST /api/v1/avvikelser/import/`. The column format is documented in
docs/import-avvikelser.md.

* Every row is validated in full — dates, choices, the directory, the taxonomy, the workflow's dates and the
  personal-data guard on every free-text column — and every error is collected with its row (as numbered in
  the spreadsheet: the header is row 1) and column (the Swedish header).
* All or nothing: only a file without a single error is saved, in one transaction.
* Organisations, units and categories are matched by name (categories also by key) and never created: an
  unknown name is an error.
* The insert path runs a bounded number of queries whatever the number of rows: the directory, the taxonomy,
  forums (once per organisation pair) and agreements are loaded up front; deviations and their history go in
  with bulk_create; the import gets one audit entry.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from avvikelser import guard
from avvikelser.models import Agreement, Category, Consequence, Deviation, DeviationChange, State
from avvikelser.services import DEFAULT_ACKNOWLEDGE_WORKING_DAYS, DEFAULT_ANSWER_DAYS, add_working_days, forum_for
from organisations import access, audit
from organisations.errors import Forbidden
from organisations.models import AuditAction, Organisation, Role, Unit

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
MAX_ERRORS = 200
BATCH_SIZE = 2000
IMPORT_ROLES = frozenset({Role.PROCESSLEDARE, Role.ORG_ADMIN})
# Dates without a time of day are stored at noon, local time, so they read as the same day in any
# European time zone.
TIME_OF_DAY = datetime.time(12, 0)

# Swedish header → internal name. Headers are matched case-insensitively with whitespace trimmed.
COLUMNS = {
    "händelsedatum": "occurred_on",
    "rapporterande organisation": "reporting_organisation",
    "rapporterande enhet": "reporting_unit",
    "motpart organisation": "counterpart_organisation",
    "motpart enhet": "counterpart_unit",
    "kategori": "category",
    "överenskommelse": "agreement",
    "vad hände": "what_happened",
    "omedelbar åtgärd": "immediate_action",
    "förbättringsförslag": "suggestion",
    "konsekvens": "consequence",
    "status": "state",
    "inkommen datum": "submitted_on",
    "mottagen datum": "acknowledged_on",
    "besvarad datum": "answered_on",
    "eskalerad datum": "escalated_on",
    "avslutad datum": "closed_on",
    "analys": "analysis",
    "åtgärder": "measures",
}
HEADERS = {name: header for header, name in COLUMNS.items()}
REQUIRED_COLUMNS = ("händelsedatum", "rapporterande organisation", "rapporterande enhet", "motpart organisation",
                    "kategori", "vad hände", "status")
REQUIRED_VALUES = tuple(COLUMNS[h] for h in REQUIRED_COLUMNS)
# Free text scanned by the personal-data guard (the agreement too: what does not match the forum's list is
# stored as free text).
TEXT_COLUMNS = ("what_happened", "immediate_action", "suggestion", "analysis", "measures", "agreement")
DATE_COLUMNS = ("occurred_on", "submitted_on", "acknowledged_on", "answered_on", "escalated_on", "closed_on")
AGREEMENT_OTHER_MAX = Deviation._meta.get_field("agreement_other").max_length

# Which workflow dates a report in each state may have, and which it must have.
ALLOWED_DATES = {
    State.UTKAST: frozenset(),
    State.INKOMMEN: frozenset({"submitted_on"}),
    State.MOTTAGEN: frozenset({"submitted_on", "acknowledged_on"}),
    State.BESVARAD: frozenset({"submitted_on", "acknowledged_on", "answered_on"}),
    State.ESKALERAD: frozenset({"submitted_on", "acknowledged_on", "answered_on", "escalated_on"}),
    State.AVSLUTAD: frozenset({"submitted_on", "acknowledged_on", "answered_on", "escalated_on", "closed_on"}),
}
REQUIRED_DATES = {
    State.MOTTAGEN: ("acknowledged_on",),
    State.BESVARAD: ("acknowledged_on", "answered_on"),
}
# A date may not lie before any of these.
NOT_BEFORE = {
    "submitted_on": ("occurred_on",),
    "acknowledged_on": ("occurred_on", "submitted_on"),
    "answered_on": ("occurred_on", "submitted_on", "acknowledged_on"),
    "escalated_on": ("occurred_on", "submitted_on"),
    "closed_on": ("occurred_on", "submitted_on", "acknowledged_on", "answered_on", "escalated_on"),
}
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")


def _norm(value) -> str:
    """The matching form of a name: NFC, inner whitespace collapsed, trimmed, case-folded."""
    return " ".join(unicodedata.normalize("NFC", str(value)).split()).casefold()


def _choices(enum, extra: dict[str, str]) -> dict[str, str]:
    out = {_norm(value): value for value in enum.values}
    out.update({_norm(label): value for value, label in enum.choices})
    out.update({_norm(k): v for k, v in extra.items()})
    return out


STATES = _choices(State, {"eskalerad": State.ESKALERAD})
CONSEQUENCES = _choices(Consequence, {"okänd": Consequence.OKAND, "risk för skada": Consequence.RISK})


@dataclass
class ImportResult:
    """`created` reports saved, or `errors` (then nothing was saved): each {"row", "column", "message"}, row
    numbered as in the spreadsheet (the header is row 1), column the Swedish header; None when the error is
    about the whole file. At most MAX_ERRORS are listed; `more_errors` counts the rest."""

    created: int = 0
    errors: list[dict] = field(default_factory=list)
    more_errors: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def messages(self) -> list[str]:
        """The errors as Swedish sentences: "Rad 12, kolumn 'vad hände': …"."""
        out = []
        for error in self.errors:
            if error["row"] is not None and error["column"]:
                out.append(_("Rad %(row)d, kolumn '%(column)s': %(message)s") % error)
            elif error["row"] is not None:
                out.append(_("Rad %(row)d: %(message)s") % error)
            else:
                out.append(error["message"])
        if self.more_errors:
            out.append(_("… och %(count)d fel till.") % {"count": self.more_errors})
        return out


class _FileError(Exception):
    def __init__(self, message, row=None):
        self.message, self.row = message, row
        super().__init__(message)


class _Errors:
    def __init__(self):
        self.items: list[dict] = []
        self.more = 0

    def add(self, row, column, message) -> None:
        if len(self.items) < MAX_ERRORS:
            self.items.append({"row": row, "column": column, "message": str(message)})
        else:
            self.more += 1

    def __bool__(self) -> bool:
        return bool(self.items)


# --- reading the file ------------------------------------------------------------------------------------

def _read_bytes(file_obj) -> bytes:
    size = getattr(file_obj, "size", None)
    if size is not None and size > MAX_BYTES:
        raise _FileError(_too_big())
    if hasattr(file_obj, "seek"):
        file_obj.seek(0)
    data = file_obj.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise _FileError(_too_big())
    if not data.strip():
        raise _FileError(_("Filen är tom."))
    return data


def _too_big() -> str:
    return _("Filen är större än %(mb)d MB. Dela upp den i flera filer.") % {"mb": MAX_BYTES // (1024 * 1024)}


def _kind(data: bytes, filename: str) -> str:
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if suffix == "xlsx" or data[:4] == b"PK\x03\x04":
        return "xlsx"
    if suffix in ("csv", "txt", ""):
        return "csv"
    raise _FileError(_("Filformatet stöds inte. Spara filen som CSV (UTF-8) eller Excel-arbetsbok (.xlsx)."))


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Swedish Excel's "CSV (semikolonavgränsad)" is Windows-1252; names that decode wrong fail to match.
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise _FileError(_("Filen kunde inte läsas som text. Spara den som CSV UTF-8.")) from None


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    if counts[best]:
        return best
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=";,\t").delimiter
    except csv.Error:
        return ","


def _csv_rows(data: bytes) -> Iterator[list]:
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    row = 0
    try:
        for row, values in enumerate(reader, start=1):  # noqa: B007 - row is read after a csv.Error
            yield values
    except csv.Error:
        raise _FileError(_("Raden kunde inte tolkas som CSV (kontrollera citattecknen)."), row=row + 1) from None


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime.datetime | datetime.date):
        return value  # a date cell: kept as a date; text columns turn it into text
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_rows(data: bytes) -> Iterator[list]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise _FileError(_("Filen kunde inte läsas som Excel-arbetsbok (.xlsx).")) from None
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell(v) for v in values]
    finally:
        workbook.close()


def _blank(values) -> bool:
    return all(isinstance(v, str) and not v.strip() for v in values)


# --- matching --------------------------------------------------------------------------------------------

def _named(value: str) -> str:
    """The value in an error message, unless it holds personal data (then it is left out)."""
    if guard.scan(value):
        return ""
    short = value if len(value) <= 80 else value[:77] + "…"
    return f" '{short}'"


def _pick(candidates: list[dict]) -> tuple[dict | None, bool]:
    """(the match, ambiguous?) — of several with the same name, the only active one wins."""
    if len(candidates) == 1:
        return candidates[0], False
    if not candidates:
        return None, False
    active = [c for c in candidates if c["active"]]
    return (active[0], False) if len(active) == 1 else (None, True)


class _Importer:
    def __init__(self, actor, errors: _Errors):
        self.actor = actor
        self.errors = errors
        self.today = timezone.localdate()
        self.tz = timezone.get_current_timezone()
        self.allowed = {m.unit.organisation_id for m in access.memberships(actor) if m.role in IMPORT_ROLES}
        self._at: dict[datetime.date, datetime.datetime] = {}
        self._forums: dict[tuple[int, int], object] = {}
        self._due: dict[tuple, tuple] = {}
        self.bad: set[str] = set()  # the current row's columns with an error

    # directory and taxonomy, loaded once
    def load(self, rows: list[tuple[int, dict]]) -> None:
        self.organisations = defaultdict(list)
        self.organisation_names = {}
        for pk, name, active in Organisation.objects.values_list("id", "name", "active"):
            self.organisations[_norm(name)].append({"id": pk, "active": active})
            self.organisation_names[pk] = name
        wanted = set()
        for _row, values in rows:
            for column in ("reporting_organisation", "counterpart_organisation"):
                match, _ambiguous = _pick(self.organisations.get(_norm(values.get(column, "")), []))
                if match:
                    wanted.add(match["id"])
        self.units = defaultdict(list)
        for pk, organisation_id, name, active in Unit.objects.filter(organisation_id__in=wanted).values_list(
                "id", "organisation_id", "name", "active"):
            self.units[(organisation_id, _norm(name))].append({"id": pk, "active": active})
        self.category_keys, self.category_names = {}, defaultdict(list)
        for pk, key, name, retired_at in Category.objects.values_list("id", "key", "name", "retired_at"):
            self.category_keys[_norm(key)] = pk
            self.category_names[_norm(name)].append({"id": pk, "active": retired_at is None})
        self.agreements: dict[tuple[int, str], int] | None = None

    def forum(self, reporting_id: int, counterpart_id: int):
        key = (reporting_id, counterpart_id)
        if key not in self._forums:
            self._forums[key] = forum_for(reporting_id, counterpart_id)
        return self._forums[key]

    def load_agreements(self) -> None:
        forum_ids = {f.pk for f in self._forums.values() if f is not None}
        self.agreements = {}
        for pk, forum_id, name in Agreement.objects.filter(forum_id__in=forum_ids).values_list(
                "id", "forum_id", "name"):
            self.agreements.setdefault((forum_id, _norm(name)), pk)

    def at(self, day: datetime.date | None) -> datetime.datetime | None:
        if day is None:
            return None
        if day not in self._at:
            self._at[day] = timezone.make_aware(datetime.datetime.combine(day, TIME_OF_DAY), self.tz)
        return self._at[day]

    def due_dates(self, submitted: datetime.datetime, forum) -> tuple[datetime.datetime, datetime.datetime]:
        ack_days = forum.acknowledge_working_days if forum else DEFAULT_ACKNOWLEDGE_WORKING_DAYS
        answer_days = forum.answer_days if forum else DEFAULT_ANSWER_DAYS
        key = (submitted, ack_days, answer_days)
        if key not in self._due:
            self._due[key] = (add_working_days(submitted, ack_days), submitted + datetime.timedelta(days=answer_days))
        return self._due[key]

    # one row
    def error(self, row, name, message) -> None:
        self.bad.add(name)
        self.errors.add(row, HEADERS.get(name, name), message)

    def organisation(self, row, values, name) -> int | None:
        raw = values.get(name, "").strip()
        if not raw:
            return None
        match, ambiguous = _pick(self.organisations.get(_norm(raw), []))
        if match is None:
            self.error(row, name, _("Flera organisationer har namnet%(value)s.") % {"value": _named(raw)}
                       if ambiguous else
                       _("Organisationen%(value)s finns inte i katalogen. Skriv namnet som i Samverkan.")
                       % {"value": _named(raw)})
            return None
        return match["id"]

    def unit(self, row, values, name, organisation_id) -> int | None:
        raw = values.get(name, "").strip()
        if not raw or organisation_id is None:
            return None
        match, ambiguous = _pick(self.units.get((organisation_id, _norm(raw)), []))
        if match is None:
            context = {"value": _named(raw), "organisation": self.organisation_names[organisation_id]}
            self.error(row, name, _("Flera enheter i %(organisation)s har namnet%(value)s.") % context
                       if ambiguous else _("Enheten%(value)s finns inte i %(organisation)s.") % context)
            return None
        return match["id"]

    def category(self, row, values) -> int | None:
        raw = values.get("category", "").strip()
        if not raw:
            return None
        key = _norm(raw)
        if key in self.category_keys:
            return self.category_keys[key]
        match, ambiguous = _pick(self.category_names.get(key, []))
        if match is None:
            self.error(row, "category", _("Flera kategorier har namnet%(value)s. Ange kategorins nyckel.")
                       % {"value": _named(raw)} if ambiguous else
                       _("Kategorin%(value)s finns inte. Ange en kategoris namn eller nyckel.")
                       % {"value": _named(raw)})
            return None
        return match["id"]

    def date(self, row, values, name) -> datetime.date | None:
        raw = values.get(name, "")
        if isinstance(raw, datetime.datetime):
            day = raw.date()
        elif isinstance(raw, datetime.date):
            day = raw
        else:
            raw = raw.strip()
            if not raw:
                return None
            match = _ISO_DATE.fullmatch(raw)
            try:
                day = datetime.date(int(match[1]), int(match[2]), int(match[3])) if match else None
            except ValueError:
                day = None
            if day is None:
                self.error(row, name, _("Ange datumet som ÅÅÅÅ-MM-DD, till exempel 2024-03-15."))
                return None
        if day > self.today:
            self.error(row, name, _("Datumet kan inte ligga i framtiden."))
            return None
        return day

    def choice(self, row, values, name, choices, message) -> str | None:
        raw = values.get(name, "").strip()
        if not raw:
            return None
        value = choices.get(_norm(raw))
        if value is None:
            self.error(row, name, message)
        return value

    def text(self, row, values, name) -> str:
        text = values.get(name, "").strip()
        if text:
            findings = guard.scan(text)
            if findings:
                kinds = ", ".join(dict.fromkeys(f.description for f in findings))
                self.error(row, name, _("Texten innehåller personuppgifter (%(kinds)s). Beskriv vad som hände, "
                                        "inte vem, och importera filen igen.") % {"kinds": kinds})
        return text

    def row(self, row: int, values: dict) -> Deviation | None:
        self.bad = set()
        for name in REQUIRED_VALUES:
            raw = values.get(name, "")
            if isinstance(raw, str) and not raw.strip():
                self.error(row, name, _("Fältet är obligatoriskt."))
        reporting_org = self.organisation(row, values, "reporting_organisation")
        counterpart_org = self.organisation(row, values, "counterpart_organisation")
        reporting_unit = self.unit(row, values, "reporting_unit", reporting_org)
        counterpart_unit = self.unit(row, values, "counterpart_unit", counterpart_org)
        if reporting_org and reporting_org == counterpart_org:
            self.error(row, "counterpart_organisation",
                       _("Motparten ska vara en annan organisation än den rapporterande."))
        elif reporting_org and counterpart_org and not {reporting_org, counterpart_org} & self.allowed:
            self.error(row, "reporting_organisation",
                       _("Du kan bara importera avvikelser som rör din egen organisation."))
        category = self.category(row, values)
        state = self.choice(row, values, "state", STATES, _("Okänd status. Ange utkast, inkommen, mottagen, "
                                                           "besvarad, avslutad eller eskalerad."))
        consequence = self.choice(row, values, "consequence", CONSEQUENCES,
                                  _("Okänd konsekvens. Ange ingen, risk, skada eller okänd.")) or Consequence.OKAND
        texts = {name: self.text(row, values, name) for name in TEXT_COLUMNS}
        dates = {name: self.date(row, values, name) for name in DATE_COLUMNS}
        if state:
            self.workflow(row, state, dates, texts)
        if len(texts["agreement"]) > AGREEMENT_OTHER_MAX:  # agreement names are no longer either
            self.error(row, "agreement", _("Högst %(max)d tecken.") % {"max": AGREEMENT_OTHER_MAX})
        if self.bad:
            return None
        forum = self.forum(reporting_org, counterpart_org)
        submitted = self.at(dates["submitted_on"] or (dates["occurred_on"] if state != State.UTKAST else None))
        deviation = Deviation(
            reporter_id=self.actor.pk, reporting_unit_id=reporting_unit, reporting_organisation_id=reporting_org,
            counterpart_organisation_id=counterpart_org, counterpart_unit_id=counterpart_unit,
            forum_id=forum.pk if forum else None, occurred_on=dates["occurred_on"], category_id=category,
            what_happened=texts["what_happened"], immediate_action=texts["immediate_action"],
            suggestion=texts["suggestion"], consequence=consequence, state=state, submitted_at=submitted,
            acknowledged_at=self.at(dates["acknowledged_on"]), answered_at=self.at(dates["answered_on"]),
            analysis=texts["analysis"], measures=texts["measures"])
        if submitted:
            deviation.acknowledge_due_at, deviation.answer_due_at = self.due_dates(submitted, forum)
        latest = max((d for d in (dates["submitted_on"] or dates["occurred_on"], dates["acknowledged_on"],
                                  dates["answered_on"], dates["escalated_on"]) if d), default=None)
        if state == State.ESKALERAD or dates["escalated_on"]:
            deviation.escalated_at = self.at(dates["escalated_on"] or latest)
        if state == State.AVSLUTAD:
            deviation.closed_at = self.at(dates["closed_on"] or latest)
        deviation._agreement_text = texts["agreement"]  # matched against the forum's list after all rows
        return deviation

    def workflow(self, row, state, dates, texts) -> None:
        label = State(state).label
        for name in DATE_COLUMNS[1:]:
            if dates[name] and name not in ALLOWED_DATES[state]:
                self.error(row, name, _("En avvikelse med status %(state)s kan inte ha %(column)s.")
                           % {"state": label, "column": HEADERS[name]})
        for name in REQUIRED_DATES.get(state, ()):
            if dates[name] is None and name not in self.bad:
                self.error(row, name, _("Status %(state)s kräver %(column)s.") % {"state": label,
                                                                                  "column": HEADERS[name]})
        if (dates["answered_on"] and not dates["acknowledged_on"] and "acknowledged_on" not in self.bad
                and "acknowledged_on" not in REQUIRED_DATES.get(state, ())):
            self.error(row, "acknowledged_on", _("Besvarad datum kräver mottagen datum."))
        effective = {**dates, "submitted_on": dates["submitted_on"] or dates["occurred_on"]}
        for name, earlier in NOT_BEFORE.items():
            for other in earlier:
                if dates[name] and effective[other] and dates[name] < effective[other]:
                    self.error(row, name, _("Datumet kan inte ligga före %(column)s.") % {"column": HEADERS[other]})
                    break
        if state == State.BESVARAD:
            for name in ("analysis", "measures"):
                if not texts[name] and name not in self.bad:
                    self.error(row, name, _("Status Besvarad kräver motpartens %(column)s.")
                               % {"column": HEADERS[name]})
        elif not dates["answered_on"] and "answered_on" not in self.bad:
            for name in ("analysis", "measures"):
                if texts[name]:
                    self.error(row, name, _("%(column)s hör till motpartens svar och kräver besvarad datum.")
                               % {"column": HEADERS[name].capitalize()})

    def finish(self, deviations: list[Deviation]) -> None:
        """Match the agreement text against the forum's list: a match links it, the rest is free text."""
        self.load_agreements()
        for deviation in deviations:
            text = deviation.__dict__.pop("_agreement_text", "")
            if not text:
                continue
            agreement = self.agreements.get((deviation.forum_id, _norm(text))) if deviation.forum_id else None
            if agreement:
                deviation.agreement_id = agreement
            else:
                deviation.agreement_other = text


# --- the import ------------------------------------------------------------------------------------------

def _table(file_obj, filename: str, errors: _Errors) -> list[tuple[int, dict]] | None:
    """The data rows as (spreadsheet row number, {internal name: value}), or None after a file error."""
    data = _read_bytes(file_obj)
    rows = _xlsx_rows(data) if _kind(data, filename) == "xlsx" else _csv_rows(data)
    header = next(rows, None)
    if header is None or _blank(header):
        raise _FileError(_("Första raden ska innehålla kolumnrubrikerna."), row=1)
    names: list[str | None] = []
    seen = set()
    for raw in header:
        text = raw.isoformat() if isinstance(raw, datetime.date) else str(raw)
        key = _norm(text)
        if not key:
            names.append(None)
            continue
        name = COLUMNS.get(key)
        if name is None:
            errors.add(1, text.strip(), _("Okänd kolumn. Se dokumentationen för vilka kolumner som finns."))
        elif name in seen:
            errors.add(1, text.strip(), _("Kolumnen finns flera gånger."))
        else:
            seen.add(name)
        names.append(name)
    for required in REQUIRED_COLUMNS:
        if COLUMNS[required] not in seen:
            errors.add(1, required, _("Kolumnen saknas."))
    if errors:
        return None
    table = []
    for number, values in enumerate(rows, start=2):
        if _blank(values):
            continue
        if len(table) >= MAX_ROWS:
            raise _FileError(_("Filen har fler än %(max)s rader. Dela upp den i flera filer.")
                             % {"max": f"{MAX_ROWS:,}".replace(",", " ")})
        row = {}
        for index, value in enumerate(values):
            name = names[index] if index < len(names) else None
            if name is not None:
                # Only date columns keep an XLSX date cell as a date; everywhere else it is text.
                row[name] = value.isoformat() if (isinstance(value, datetime.date) and name not in DATE_COLUMNS
                                                  ) else value
            elif not (isinstance(value, str) and not value.strip()):
                errors.add(number, None, _("Raden har ett värde i kolumn %(index)d, som saknar rubrik.")
                           % {"index": index + 1})
        table.append((number, row))
    if not table:
        raise _FileError(_("Filen innehåller inga avvikelser, bara rubrikraden."))
    return table


def require_importer(actor) -> None:
    """Raise Forbidden unless the actor is a processledare or org_admin somewhere."""
    if not any(m.role in IMPORT_ROLES for m in access.memberships(actor)):
        raise Forbidden(_("Bara processledare och organisationsadministratörer kan importera avvikelser."))


def import_deviations(actor, file_obj, *, filename: str) -> ImportResult:
    """Validate every row of a CSV or XLSX file and, only if none has an error, save them all.

    Raises Forbidden unless the actor is a processledare or org_admin. Rows must concern (as reporter or
    counterpart) an organisation where the actor holds one of those roles.
    """
    require_importer(actor)
    errors = _Errors()
    try:
        table = _table(file_obj, filename or "", errors)
    except _FileError as exc:
        errors.add(exc.row, None, exc.message)
        table = None
    if table is None:
        return ImportResult(errors=errors.items, more_errors=errors.more)

    importer = _Importer(actor, errors)
    importer.load(table)
    deviations = [d for d in (importer.row(number, values) for number, values in table) if d is not None]
    if errors:
        return ImportResult(errors=errors.items, more_errors=errors.more)
    importer.finish(deviations)

    with transaction.atomic():
        created = Deviation.objects.bulk_create(deviations, batch_size=BATCH_SIZE)
        DeviationChange.objects.bulk_create([
            DeviationChange(deviation_id=d.pk, actor_id=actor.pk, action="create", field=name, new=value)
            for d in created
            for name, value in (("state", d.state), ("category", d.category_id), ("consequence", d.consequence))
        ], batch_size=BATCH_SIZE)
        # One entry for the whole import, on its first report; every report's own history names the actor.
        audit.record(actor, AuditAction.CREATE, created[0], fields=["import", f"antal:{len(created)}"],
                     organisation_id=created[0].reporting_organisation_id)
    return ImportResult(created=len(created))
