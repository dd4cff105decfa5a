import csv
import datetime
import io
import json
import random
from dataclasses import dataclass, field

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from organisations.errors import NotFound
from organisations.models import Role, User
from sip import services as sip_services
from sip.delaktighet import reports
from sip.delaktighet.models import Answer, Invitation, InvitationStatus, Response
from sip.delaktighet.reports import participation_report, participation_report_rows, suppress, to_csv, to_xlsx
from sip.delaktighet.services import current_version
from sip.models import Meeting, Participant, ParticipantKind

pytestmark = pytest.mark.django_db

HELD = datetime.datetime(2025, 3, 10, 10, 0)
SECRET = "Hemlig fritext om grannen Per"


# --- a fast factory: invitations, responses and answers straight into the tables --------------------------

@dataclass
class Row:
    gender: str = "kvinna"
    age_band: str = "25-44"
    answers: dict | None = field(default_factory=dict)  # None: invited, never answered
    kind: str = ParticipantKind.RELATED


def add_answers(sip, rows, *, held=HELD, lead=None):
    """One held meeting of `sip` with one invitation per row; answered rows get a response and answers."""
    held_at = timezone.make_aware(held)
    version = current_version()
    items = {item.code: item for item in version.items.all()}
    meeting = Meeting.objects.create(sip=sip, starts_at=held_at - datetime.timedelta(hours=1), ends_at=held_at,
                                     status="held", held_at=held_at)
    participants = Participant.objects.bulk_create(
        [Participant(meeting=meeting, kind=row.kind, attended=True, name=f"P{i}") for i, row in enumerate(rows)])
    invitations = Invitation.objects.bulk_create([
        Invitation(meeting=meeting, participant=participant, sip=sip, version=version, channel="paper",
                   status=InvitationStatus.SENT if row.answers is None else InvitationStatus.ANSWERED,
                   expires_at=held_at + datetime.timedelta(days=30))
        for participant, row in zip(participants, rows, strict=True)])
    answered = [(invitation, row) for invitation, row in zip(invitations, rows, strict=True)
                if row.answers is not None]
    responses = Response.objects.bulk_create([
        Response(invitation=invitation, version=version, respondent_kind=row.kind, gender=row.gender,
                 age_band=row.age_band, lead_organisation_id=lead or sip.lead_organisation_id,
                 meeting_held_on=timezone.localdate(held_at))
        for invitation, row in answered])
    Answer.objects.bulk_create([
        Answer(response=response, item=items[code], value_int=None if code == "till_oss" else value,
               value_text=value if code == "till_oss" else "")
        for response, (_invitation, row) in zip(responses, answered, strict=True)
        for code, value in row.answers.items()])
    return meeting


def fresh(user):
    return User.objects.get(pk=user.pk)  # memberships are cached per user object


def item(block, code):
    return next(entry for entry in block["items"] if entry["code"] == code)


def group(report, **key):
    return next(entry for entry in report["groups"] if entry["key"] == key)


# --- an independent check of every published sum -----------------------------------------------------------

def published_lines(report):
    """Every (members, total, total_is_count) relation a reader can form from the report."""
    groups, total = report["groups"], report["total"]
    lines = [([g["invitations"] for g in groups], total["invitations"], True),
             ([g["answers"] for g in groups], total["answers"], True)]
    for index, total_item in enumerate(total["items"]):
        rows = [g["items"][index] for g in groups]
        lines.append(([row["n"] for row in rows], total_item["n"], True))
        for value in total_item["distribution"]:
            lines.append(([row["distribution"][value] for row in rows], total_item["distribution"][value], True))
        for row in [*rows, total_item]:
            lines.append((list(row["distribution"].values()), row["n"], True))
            if isinstance(row["share_ge4"], float) and isinstance(row["n"], int):
                high = round(row["share_ge4"] * row["n"])
                lines.append(([row["distribution"][v] for v in "123"], row["n"] - high, False))
                lines.append(([row["distribution"][v] for v in "456"], high, False))
    return lines


def derivable(report):
    """Lines in which exactly one figure is hidden: that figure is the total minus the shown ones."""
    hidden = reports.marker(report["min_cell"])
    bad = []
    for members, line_total, total_is_count in published_lines(report):
        if not total_is_count and line_total == hidden:
            continue
        unknown = sum(1 for m in members if m == hidden) + (1 if total_is_count and line_total == hidden else 0)
        if unknown == 1:
            bad.append((members, line_total))
    return bad


def assert_statistics_follow_their_base(report):
    hidden = reports.marker(report["min_cell"])
    for block in [*report["groups"], report["total"]]:
        if hidden in (block["invitations"], block["answers"]):
            assert block["response_rate"] == hidden
        if block["answers"] == hidden:
            assert block["respondent_mean_share_ge4"] == hidden
            for entry in block["items"]:
                assert entry["n"] == hidden and set(entry["distribution"].values()) == {hidden}
        for entry in block["items"]:
            scale = list(entry["distribution"]) == ["1", "2", "3", "4", "5", "6"]
            if not scale:
                assert entry["mean"] is None and entry["share_ge4"] is None
            elif entry["n"] == hidden:
                assert entry["mean"] == hidden and entry["share_ge4"] == hidden
            for value in [entry["n"], *entry["distribution"].values()]:
                assert value == hidden or value == 0 or value >= report["min_cell"]


# --- suppress(): one line ----------------------------------------------------------------------------------

def test_suppress_hides_one_to_four_shows_zero_and_protects_the_lone_hidden_cell():
    cells = {"kvinna": 10, "man": 4, "annat": 0, "vill_ej_uppge": 6}
    assert suppress(cells, 20, 5) == {"kvinna": 10, "man": "<5", "annat": 0, "vill_ej_uppge": "<5"}
    # without a total beside them nothing can be subtracted, so only the small cell goes
    assert suppress(cells, None, 5) == {"kvinna": 10, "man": "<5", "annat": 0, "vill_ej_uppge": 6}
    # two small cells protect each other
    assert suppress({"a": 3, "b": 2, "c": 9}, 14, 5) == {"a": "<5", "b": "<5", "c": 9}
    # the threshold is a parameter
    assert suppress({"a": 4, "b": 2, "c": 9}, 15, 3) == {"a": "<3", "b": "<3", "c": 9}
    # a small total is itself hidden, so a single small cell beside it cannot be computed
    assert suppress({"a": 3, "b": 0}, 3, 5) == {"a": "<5", "b": 0}


def test_suppress_never_leaves_a_hidden_cell_computable_by_subtraction():
    rng = random.Random(20250310)
    for _ in range(3000):
        threshold = rng.choice([3, 5, 10])
        cells = {str(i): rng.choice([0, 0, 1, 2, 4, 5, 6, 9, 20, rng.randint(0, 60)])
                 for i in range(rng.randint(1, 7))}
        total = sum(cells.values())
        shown = suppress(cells, total, threshold)
        hidden = f"<{threshold}"
        for key, value in cells.items():
            if 0 < value < threshold:
                assert shown[key] == hidden
            elif value == 0:
                assert shown[key] == 0
            else:
                assert shown[key] in (value, hidden)
        unknown = sum(1 for value in shown.values() if value == hidden) + (1 if 0 < total < threshold else 0)
        assert unknown != 1, (cells, shown)
        if total >= threshold:  # the total is shown: what the shown cells leave over is never one cell
            assert sum(1 for value in shown.values() if value == hidden) in (0, *range(2, 8))


def random_raw(rng, dims, items):
    groups = reports._groups(dims, reports._Raw({}, {}, {}, {}, {}))
    raw = reports._Raw({}, {}, {}, {}, {})
    for key in groups:
        if rng.random() < 0.3:
            continue
        answers = rng.choice([1, 2, 3, 4, 5, 6, 8, 12, 30])
        raw.answers[key] = answers
        raw.invitations[key] = answers + rng.choice([0, 0, 1, 3, 7])
        raw.rated[key] = max(0, answers - rng.choice([0, 0, 1]))
        raw.rated_ge4[key] = rng.randint(0, raw.rated[key])
        for entry in items:
            answered = rng.randint(0, answers)
            for _ in range(answered):
                value = (rng.choice([1, 2, 3, 4, 5, 6, 4, 5, 6, 6]) if entry["kind"] == "scale_1_6"
                         else rng.choice([0, 1, 1, 2]))
                raw.distribution[(entry["id"], key, value)] = raw.distribution.get((entry["id"], key, value), 0) + 1
    return groups, raw


def test_no_hidden_figure_of_a_report_is_computable_from_any_published_sum():
    rng = random.Random(7)
    items = [{"id": i, "code": f"q{i}", "text": f"Fråga {i}", "kind": kind, "choices": []}
             for i, kind in ((1, "scale_1_6"), (2, "scale_1_6"), (3, "yes_no_unknown"))]
    for dims in [(), ("gender",), ("age_band",), ("gender", "age_band")]:
        for _ in range(60):
            threshold = rng.choice([3, 5])
            groups, raw = random_raw(rng, dims, items)
            blocks, total = reports._assemble(dims, groups, items, raw, threshold)
            report = {"min_cell": threshold, "groups": blocks, "total": total}
            assert derivable(report) == [], (dims, raw)
            assert_statistics_follow_their_base(report)


# --- the report from the database --------------------------------------------------------------------------

def test_means_distributions_shares_and_response_rate_on_a_known_set(world, plan, settings):
    settings.DELAKTIGHET_MIN_CELL = 1  # nothing suppressed: check the arithmetic
    add_answers(plan.sip, [
        Row(answers={"information": 6, "lyssnad": 6}),                # own mean 6
        Row(answers={"information": 5, "lyssnad": 3}),                # own mean 4 (counts: ≥ 4)
        Row(answers={"information": 4, "lyssnad": 3}),                # 3.5
        Row(answers={"information": 3}),                             # 3
        Row(answers={"information": 1, "lyssnad": 6, "respekt": 6}),  # 4.33
        Row(answers={"till_oss": "Tack"}),                           # answered, but no 1–6 item
        Row(answers=None), Row(answers=None),
    ])
    report = participation_report(world.users_a[Role.SOCIALSEKRETERARE])
    total = report["total"]
    assert report["template_version"] == current_version().pk and report["min_cell"] == 1
    assert (total["invitations"], total["answers"], total["response_rate"]) == (8, 6, 0.75)
    assert total["respondent_mean_share_ge4"] == 0.6  # 3 of the 5 who answered a 1–6 item
    information = item(total, "information")
    assert (information["n"], information["mean"], information["share_ge4"]) == (5, 3.8, 0.6)
    assert information["distribution"] == {"1": 1, "2": 0, "3": 1, "4": 1, "5": 1, "6": 1}
    lyssnad = item(total, "lyssnad")
    assert (lyssnad["n"], lyssnad["mean"], lyssnad["share_ge4"]) == (4, 4.5, 0.5)
    assert item(total, "vem_gor_vad") == {"code": "vem_gor_vad", "text": "Jag vet vem som gör vad i min plan.",
                                          "n": 0, "mean": None, "share_ge4": None,
                                          "distribution": {str(v): 0 for v in range(1, 7)}}
    assert [entry["code"] for entry in total["items"]] == ["information", "lyssnad", "viktigt", "mal", "vem_gor_vad",
                                                           "uppfoljning", "samarbete", "respekt", "meningsfull"]
    assert report["groups"] == [{"key": {}, **total}]
    json.dumps(report)  # JSON-able as it is


def test_the_eskilstuna_measure_counts_respondents_whose_own_mean_is_at_least_four(world, plan, settings):
    settings.DELAKTIGHET_MIN_CELL = 1
    add_answers(plan.sip, [
        Row(answers={"information": 4, "respekt": 4, "mal": 4}),   # exactly 4
        Row(answers={"information": 6, "respekt": 1, "mal": 4}),   # 3.67
        Row(answers={"information": 2, "respekt": 6}),             # 4
        Row(answers={"information": 3, "respekt": 4, "mal": 4}),   # 3.67
    ])
    report = participation_report(world.users_a[Role.SAMORDNARE])
    assert report["total"]["respondent_mean_share_ge4"] == 0.5
    # the item shares count answers, not respondents
    assert item(report["total"], "information")["share_ge4"] == 0.5
    assert item(report["total"], "mal")["share_ge4"] == 1.0


def four_men(plan):
    women = [Row(gender="kvinna", answers={"information": 5 + i % 2, "respekt": 6, "till_oss": SECRET})
             for i in range(10)]
    men = [Row(gender="man", age_band="45-64", answers={"information": 2, "respekt": 6}) for _ in range(4)]
    unknown = [Row(gender="vill_ej_uppge", age_band="unknown", answers={"information": 4, "respekt": 5})
               for _ in range(6)]
    add_answers(plan.sip, [*women, *men, *unknown, Row(answers=None, gender="vill_ej_uppge")])


def test_four_men_are_hidden_and_cannot_be_computed_back(world, plan):
    four_men(plan)
    report = participation_report(world.users_a[Role.SOCIALSEKRETERARE], group_by=["gender"])
    men, women = group(report, gender="man"), group(report, gender="kvinna")
    assert men["answers"] == "<5" and men["invitations"] == "<5" and men["response_rate"] == "<5"
    assert all(entry["n"] == "<5" and entry["mean"] == "<5" for entry in men["items"])
    # the total of 20 answers is shown, so a second group is hidden with the men
    assert report["total"]["answers"] == 20 and group(report, gender="vill_ej_uppge")["answers"] == "<5"
    assert women["answers"] == 10 and item(women, "information")["mean"] == 5.5
    assert group(report, gender="annat")["answers"] == 0
    shown = [g["answers"] for g in report["groups"] if isinstance(g["answers"], int)]
    assert report["total"]["answers"] - sum(shown) != 4
    assert derivable(report) == []
    assert_statistics_follow_their_base(report)
    # the men's 2s on "information" are hidden in the total's distribution as well as its partial sums
    information = item(report["total"], "information")
    assert information["distribution"]["2"] == "<5"
    assert [(members, t) for members, t, _ in published_lines(report)
            if 4 in members or t == 4] == []


def test_the_threshold_setting_is_honoured(world, plan, settings):
    settings.DELAKTIGHET_MIN_CELL = 3
    four_men(plan)
    user = world.users_a[Role.SOCIALSEKRETERARE]
    report = participation_report(user, group_by=("gender",))
    assert report["min_cell"] == 3
    men = group(report, gender="man")
    assert men["answers"] == 4 and item(men, "information")["mean"] == 2.0
    assert "<5" not in json.dumps(report) and derivable(report) == []
    add_answers(plan.sip, [Row(gender="annat", answers={"information": 6}) for _ in range(2)])
    report = participation_report(fresh(user), group_by=("gender",))
    assert group(report, gender="annat")["answers"] == "<3"
    assert group(report, gender="man")["answers"] == "<3"  # the smallest other group protects the two
    assert group(report, gender="vill_ej_uppge")["answers"] == 6
    assert derivable(report) == []


def test_free_text_never_appears(world, plan):
    four_men(plan)
    report = participation_report(world.users_a[Role.SOCIALSEKRETERARE], group_by=("gender", "age_band"))
    for text in (json.dumps(report, ensure_ascii=False), to_csv(report)):
        assert SECRET not in text and "till_oss" not in text
    assert SECRET.encode() not in to_xlsx(report)


def test_groups_by_age_band_and_unanswered_invitations_get_the_group_they_would_have_had(world, plan, settings):
    settings.DELAKTIGHET_MIN_CELL = 1
    birth_year = plan.person.birth_year
    assert birth_year  # from the personnummer
    expected_band = reports.AgeBand.AGE_25_44 if HELD.year - birth_year < 45 else reports.AgeBand.AGE_45_64
    add_answers(plan.sip, [Row(answers=None, kind=ParticipantKind.PERSON),
                           Row(gender="man", age_band="65-", answers={"respekt": 6})])
    report = participation_report(world.users_a[Role.SOCIALSEKRETERARE], group_by=("gender", "age_band"))
    assert len(report["groups"]) == 4 * 5
    person = group(report, gender=plan.person.gender, age_band=expected_band)
    assert (person["invitations"], person["answers"], person["response_rate"]) == (1, 0, 0.0)
    answered = group(report, gender="man", age_band="65-")
    assert (answered["invitations"], answered["answers"], answered["response_rate"]) == (1, 1, 1.0)
    report = participation_report(world.users_a[Role.SOCIALSEKRETERARE], group_by=["age_band"])
    assert [g["key"] for g in report["groups"]] == [{"age_band": band} for band in reports.AgeBand.values]


def other_plan(world):
    """A plan led by organisation B."""
    actor = world.users_b[Role.SOCIALSEKRETERARE]
    person, _created = sip_services.find_or_register_person(
        actor, identifier="850704-9867", first_name="Alex", last_name="Berg", gender="man")
    return sip_services.create_sip(actor, person=person, initiating_unit=world.unit_b)


def test_scope_is_the_lead_organisation_of_the_users_organisations(world, plan):
    four_men(plan)
    b_plan = other_plan(world)
    assert b_plan.lead_organisation_id == world.org_b.pk
    add_answers(b_plan, [Row(answers={"information": 1}) for _ in range(7)])
    user_a, user_b = world.users_a[Role.SOCIALSEKRETERARE], world.users_b[Role.BEHANDLARE]

    with pytest.raises(NotFound):
        participation_report(user_b, organisation=world.org_a)
    with pytest.raises(NotFound):
        participation_report(user_b, organisation=world.org_a.pk)
    with pytest.raises(NotFound):
        participation_report(user_b, unit=world.unit_a)
    with pytest.raises(NotFound):
        participation_report(user_b, unit=world.unit_a.pk)
    with pytest.raises(NotFound):
        participation_report(world.outsider, organisation=world.org_a)

    mine = participation_report(user_b)
    assert (mine["total"]["answers"], mine["total"]["invitations"]) == (7, 7)
    assert item(mine["total"], "information")["distribution"]["1"] == 7
    theirs = participation_report(user_a)
    assert theirs["total"]["answers"] == 20 and item(theirs["total"], "information")["distribution"]["1"] == 0
    assert participation_report(user_a, organisation=world.org_a)["total"] == theirs["total"]
    assert participation_report(world.outsider)["total"]["answers"] == 0
    # organisation B's unit takes part in plan A, but B sees only what B leads
    assert participation_report(user_b, unit=world.unit_b)["total"]["answers"] == 7


def test_unit_and_period_filters(world, plan):
    four_men(plan)
    add_answers(plan.sip, [Row(answers={"information": 3}) for _ in range(6)] + [Row(answers=None)],
                held=datetime.datetime(2024, 6, 1, 9, 0))
    user = world.users_a[Role.SOCIALSEKRETERARE]
    assert participation_report(user)["total"]["answers"] == 26
    assert participation_report(user, unit=world.unit_a)["total"]["answers"] == 26
    assert participation_report(user, unit=world.unit_a2)["total"]["answers"] == 0  # not part of the plan
    old = participation_report(user, period_end=datetime.date(2024, 12, 31))
    assert (old["total"]["answers"], old["total"]["invitations"]) == (6, 7)
    new = participation_report(user, period_start=datetime.date(2025, 3, 10), period_end=datetime.date(2025, 3, 10))
    assert (new["total"]["answers"], new["total"]["invitations"]) == (20, 21)
    assert new["filters"] == {"organisation": None, "unit": None, "period_start": "2025-03-10",
                              "period_end": "2025-03-10", "group_by": []}
    with pytest.raises(ValidationError):
        participation_report(user, period_start=datetime.date(2025, 2, 1), period_end=datetime.date(2025, 1, 1))
    with pytest.raises(ValidationError):
        participation_report(user, group_by=["unit"])


def test_version_must_be_a_published_participation_version(world, plan):
    from sip.delaktighet.models import Purpose, TemplateVersion

    user = world.users_a[Role.SOCIALSEKRETERARE]
    routine = TemplateVersion.objects.get(template__purpose=Purpose.ROUTINE_CHECK)
    with pytest.raises(NotFound):
        participation_report(user, version=routine.pk)
    assert participation_report(user, version=current_version().pk)["template_version"] == current_version().pk


def test_the_number_of_queries_does_not_grow_with_the_answers(world, plan):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    add_answers(plan.sip, [Row(answers={"information": 5, "respekt": 6})])
    counts = []
    for more in (0, 40):
        add_answers(plan.sip, [Row(gender=("kvinna", "man")[i % 2], age_band=("25-44", "65-")[i % 3 == 0],
                                   answers={"information": 1 + i % 6, "respekt": 6, "till_oss": "x"})
                               for i in range(more)] + [Row(answers=None)], held=HELD + datetime.timedelta(days=more))
        for kwargs in ({}, {"group_by": ("gender", "age_band"), "unit": world.unit_a.pk,
                            "period_start": datetime.date(2025, 1, 1)}):
            reader = fresh(user)
            with CaptureQueriesContext(connection) as queries:
                participation_report(reader, **kwargs)
            counts.append(len(queries))
    assert counts[0] == counts[2] and counts[1] == counts[3], counts
    assert max(counts) <= 10, counts


def test_csv_and_xlsx_hold_exactly_the_reports_values(world, plan):
    from openpyxl import load_workbook

    four_men(plan)
    report = participation_report(world.users_a[Role.SOCIALSEKRETERARE], group_by=("gender",))
    rows = participation_report_rows(report)
    header, body = rows[0], rows[1:]
    assert len(body) == (4 + 1) * (1 + 9)  # four genders and the total, a summary row and nine items each
    assert header[:3] == ["Kön", "Frågekod", "Fråga"] and header[-6:] == ["1", "2", "3", "4", "5", "6"]

    # the rows carry the report's figures, not new ones
    blocks = [*report["groups"], report["total"]]
    for index, block in enumerate(blocks):
        summary, *item_rows = body[index * 10:(index + 1) * 10]
        assert summary[3:7] == [block["invitations"], block["answers"], block["response_rate"],
                                block["respondent_mean_share_ge4"]]
        for row, entry in zip(item_rows, block["items"], strict=True):
            assert row[1:3] == [entry["code"], entry["text"]]
            assert row[7:10] == [entry["n"], entry["mean"], entry["share_ge4"]]
            assert row[10:] == list(entry["distribution"].values())
    assert body[-10][0] == "Totalt" and body[10][0] == "Man"

    def as_text(value):
        return "" if value is None else str(value)

    parsed = list(csv.reader(io.StringIO(to_csv(report))))
    assert parsed == [[as_text(value) for value in row] for row in rows]

    workbook = load_workbook(io.BytesIO(to_xlsx(report)))
    sheet = workbook.worksheets[0]
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == rows
    about = dict(workbook.worksheets[1].iter_rows(values_only=True))
    assert about["Minsta redovisade antal"] == 5 and about["Enkätversion"] == report["template_version"]


def test_exports_of_an_ungrouped_report_write_the_total_once(world, plan):
    four_men(plan)
    report = participation_report(world.users_a[Role.SOCIALSEKRETERARE])
    rows = participation_report_rows(report)
    assert rows[0][0] == "Grupp" and len(rows) == 1 + 10
    assert rows[1][:7] == ["Totalt", None, None, 21, 20, round(20 / 21, 3), report["total"][
        "respondent_mean_share_ge4"]]


def test_spreadsheet_text_is_never_a_formula():
    report = {"template_version": 1, "min_cell": 5,
              "filters": {"organisation": None, "unit": None, "period_start": None, "period_end": None,
                          "group_by": []},
              "groups": [],
              "total": {"invitations": 0, "answers": 0, "response_rate": None, "respondent_mean_share_ge4": None,
                        "items": [{"code": "x", "text": "=HYPERLINK(\"http://evil\")", "n": 0, "mean": None,
                                   "share_ge4": None, "distribution": {"1": 0}}]}}
    assert "'=HYPERLINK" in to_csv(report)
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(to_xlsx(report))).worksheets[0]
    cell = sheet.cell(row=3, column=3)
    assert cell.value == "=HYPERLINK(\"http://evil\")" and cell.data_type == "s"
