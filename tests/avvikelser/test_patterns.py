"""The forum's pattern view and its drill-down: exact counts (merged categories, retired organisations), rates per
100 active SIPs, signals on a planted rise and none on a stable series, themes by fingerprint, 404 outside the
forum, pseudonymised drill-down, constant query counts and problem+json for bad parameters."""

import datetime
import json
import random
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from avvikelser import patterns, services
from avvikelser.models import Agreement, Category, Deviation, Forum, ForumMember, State
from bench.synthetic_series import poisson
from organisations.models import Role, User
from sip.models import Person, Sip, SipUnit
from tests.conftest import client_for
from tests.factories import OrganisationFactory, UnitFactory, member

pytestmark = pytest.mark.django_db

START, END = datetime.date(2023, 1, 1), datetime.date(2025, 6, 30)  # 30 months


def api(user):
    return client_for(User.objects.get(pk=user.pk))


def category(key):
    return Category.objects.get(key=key)


@pytest.fixture
def setting(world):
    """A forum over A, B and C with a processledare; C's unit reports too (C is retired in some tests)."""
    org_c = OrganisationFactory(name="Kommun C (test)")
    unit_c = UnitFactory(organisation=org_c, name="Hemtjänst C")
    forum = Forum.objects.create(name="Styrgrupp (test)")
    forum.organisations.set([world.org_a, world.org_b, org_c])
    leader = member(world.unit_a2, Role.PROCESSLEDARE, first_name="Petra", last_name="Processledare")
    ForumMember.objects.create(forum=forum, user=leader, role="processledare")
    world.org_c, world.unit_c, world.forum, world.leader = org_c, unit_c, forum, leader
    world.reporter = world.users_a[Role.SOCIALSEKRETERARE]
    return world


def add(w, n, *, on, key="sip", source="a", target="b", state=State.INKOMMEN, forum=None, agreement=None,
        other="", text="Kallelsen kom inte fram."):
    units = {"a": w.unit_a, "b": w.unit_b, "c": w.unit_c}
    orgs = {"a": w.org_a, "b": w.org_b, "c": w.org_c}
    cat = category(key) if isinstance(key, str) else key
    Deviation.objects.bulk_create([Deviation(
        reporter=w.reporter, reporting_unit=units[source], reporting_organisation=orgs[source],
        counterpart_organisation=orgs[target], forum=forum or w.forum, occurred_on=on, category=cat,
        agreement=agreement, agreement_other=other, what_happened=text, state=state) for _ in range(n)])


def month(i):
    """The first day of the i-th month from START."""
    y, m = divmod(START.month - 1 + i, 12)
    return datetime.date(START.year + y, m + 1, 1)


def patterns_of(w, **params):
    response = api(w.leader).get(f"/api/v1/forums/{w.forum.pk}/patterns/",
                                 {"period_start": START.isoformat(), "period_end": END.isoformat(), **params})
    assert response.status_code == 200, response.content
    return response.json()


def reports_of(w, user=None, **params):
    response = api(user or w.leader).get(f"/api/v1/forums/{w.forum.pk}/reports/", {"page_size": 200, **params})
    assert response.status_code == 200, response.content
    return response.json()


def drill_count(w, drilldown):
    return reports_of(w, **drilldown)["count"]


# --- exact counts --------------------------------------------------------------------------------------------


def test_counts_agree_exactly_with_the_reports_including_merged_categories_and_retired_organisations(setting):
    w = setting
    admin = w.users_a[Role.ORG_ADMIN]
    old = services.create_category(admin, key="kallelse-gammal", name="Kallelse (gammal)")
    add(w, 3, on=month(0), key=old)
    add(w, 2, on=month(1), key="sip")
    add(w, 4, on=month(2), key="bemotande", source="b", target="a")
    add(w, 5, on=month(29), key="utskrivning", source="c", target="a")
    add(w, 1, on=month(29) + datetime.timedelta(days=29), key="sip", source="a", target="c")
    # Not counted: a draft, a report of another forum, reports outside the period.
    add(w, 7, on=month(3), key="sip", state=State.UTKAST)
    other = Forum.objects.create(name="Annat forum")
    other.organisations.set([w.org_a, w.org_b])
    add(w, 6, on=month(3), key="sip", forum=other)
    add(w, 2, on=START - datetime.timedelta(days=1))
    add(w, 2, on=END + datetime.timedelta(days=1))
    services.merge_categories(admin, old, category("sip"))  # the 3 old reports now count under "sip"
    w.org_c.active = False  # C is retired; its reports still count
    w.org_c.save()

    body = patterns_of(w)
    raw = Deviation.objects.filter(forum=w.forum, occurred_on__range=(START, END)).exclude(state=State.UTKAST)
    assert body["total"] == raw.count() == 15
    assert body["period"] == {"start": "2023-01-01", "end": "2025-06-30"}
    assert len(body["periods"]) == 30

    sip_root = category("sip").pk
    expected = Counter()
    for d in raw.select_related("category"):
        root = d.category.successor_id or d.category_id
        expected[(root, d.reporting_organisation_id, d.counterpart_organisation_id, d.occurred_on.replace(day=1))] += 1
    seen = Counter()
    for s in body["series"]:
        for i, count in enumerate(s["counts"]):
            if count:
                seen[(s["category"]["id"], s["reporting_organisation"]["id"], s["counterpart_organisation"]["id"],
                      datetime.date.fromisoformat(body["periods"][i]["start"]))] = count
        assert s["total"] == sum(s["counts"])
    assert seen == expected

    by_category = {row["category"]["key"]: row["total"] for row in body["categories"]}
    assert by_category == {"sip": 6, "bemotande": 4, "utskrivning": 5}
    assert old.pk not in {s["category"]["id"] for s in body["series"]}
    by_direction = {(r["reporting_organisation"]["id"], r["counterpart_organisation"]["id"]): r["total"]
                    for r in body["directions"]}
    assert by_direction == {(w.org_a.pk, w.org_b.pk): 5, (w.org_b.pk, w.org_a.pk): 4, (w.org_c.pk, w.org_a.pk): 5,
                            (w.org_a.pk, w.org_c.pk): 1}
    retired = next(r for r in body["directions"] if r["reporting_organisation"]["id"] == w.org_c.pk)
    assert retired["reporting_organisation"]["active"] is False
    assert [p["count"] for p in body["periods"]][:3] == [3, 2, 4] and body["periods"][29]["count"] == 6

    # Every number opens exactly the reports it counts: totals, categories, directions, series, periods, cells.
    assert drill_count(w, body["drilldown"]) == body["total"]
    for row in body["categories"] + body["directions"] + body["series"]:
        assert drill_count(w, row["drilldown"]) == row["total"]
    for p in body["periods"]:
        if p["count"]:
            assert drill_count(w, p["drilldown"]) == p["count"]
    sip_series = next(s for s in body["series"] if s["category"]["id"] == sip_root
                      and s["counterpart_organisation"]["id"] == w.org_b.pk)
    for i, count in enumerate(sip_series["counts"][:3]):
        assert drill_count(w, {**sip_series["drilldown"], **body["periods"][i]["drilldown"]}) == count
    # Drilling by the merged-away category means its successor's whole group, too.
    window = body["drilldown"]
    assert drill_count(w, {"category": old.pk, **window}) == drill_count(w, {"category": sip_root, **window}) == 6
    assert drill_count(w, {"category": sip_root}) == 10  # without a period: the 4 outside it too


@pytest.mark.parametrize(("granularity", "expected"), [
    ("week", {"2025-03-31": 2, "2025-04-07": 1}),
    ("quarter", {"2025-01-01": 1, "2025-04-01": 2}),
])
def test_weeks_and_quarters(setting, granularity, expected):
    w = setting
    add(w, 1, on=datetime.date(2025, 3, 31))  # a Monday, in Q1
    add(w, 1, on=datetime.date(2025, 4, 6))  # the Sunday of that week, in Q2
    add(w, 1, on=datetime.date(2025, 4, 7))
    body = patterns_of(w, granularity=granularity, period_start="2025-02-01", period_end="2025-04-30")
    counts = {p["start"]: p["count"] for p in body["periods"] if p["count"]}
    assert counts == expected
    assert body["total"] == 3
    for p in body["periods"]:
        if p["count"]:
            assert drill_count(w, p["drilldown"]) == p["count"]
    if granularity == "week":
        assert body["period"]["start"] == "2025-01-27" and body["periods"][0]["start"] == "2025-01-27"


# --- rates per 100 active SIPs ---------------------------------------------------------------------------------


def _sip(w, n, lead, units, *, established=None, closed=None, status="uppfoljning"):
    person = Person.objects.create(identifier_kind="reservnummer", identifier=f"RES-{n}", first_name="Alva",
                                   last_name="Personsson", registered_by_unit=w.unit_a)
    sip = Sip.objects.create(person=person, initiating_unit=units[0], lead_organisation=lead, status=status,
                             need_identified_on=datetime.date(2024, 1, 1), established_on=established,
                             closed_on=closed, follow_up_on=datetime.date(2026, 1, 1))
    for unit in units:
        SipUnit.objects.create(sip=sip, unit=unit)
    return sip


def test_rates_per_100_active_sips_and_the_u_chart(setting):
    w = setting
    outside_org = OrganisationFactory(name="Privat utförare (test)")
    outside_unit = UnitFactory(organisation=outside_org)
    _sip(w, 1, w.org_a, [w.unit_a, w.unit_b], established=datetime.date(2024, 12, 10))
    _sip(w, 2, w.org_b, [w.unit_b, w.unit_a], established=datetime.date(2025, 2, 15),
         closed=datetime.date(2025, 3, 5), status="avslutad")
    _sip(w, 3, w.org_a, [w.unit_a, w.unit_a2], established=datetime.date(2025, 1, 20))
    unit_b2 = UnitFactory(organisation=w.org_b, name="Psykiatri B")
    _sip(w, 7, w.org_a, [w.unit_a, w.unit_b, unit_b2], established=datetime.date(2025, 4, 30))  # two B units: once
    _sip(w, 4, w.org_a, [w.unit_a, w.unit_b], status="kallad")  # never established
    _sip(w, 5, outside_org, [outside_unit, w.unit_a], established=datetime.date(2024, 6, 1))  # not the forum's
    _sip(w, 6, w.org_a, [w.unit_a, w.unit_b], established=datetime.date(2024, 1, 1),
         closed=datetime.date(2024, 12, 31), status="avslutad")  # closed before the period
    for i, n in enumerate([1, 2, 0, 1]):
        add(w, n, on=datetime.date(2025, i + 1, 3))
    add(w, 1, on=datetime.date(2025, 1, 3), source="c", target="a")  # no SIPs between C and A

    body = patterns_of(w, period_start="2025-01-01", period_end="2025-04-30")
    assert [p["active_sips"] for p in body["periods"]] == [2, 3, 3, 3]
    assert [p["rate"] for p in body["periods"]] == [100.0, pytest.approx(66.6667), 0.0, pytest.approx(33.3333)]
    ab = next(s for s in body["series"] if s["reporting_organisation"]["id"] == w.org_a.pk)
    assert ab["active_sips"] == [1, 2, 2, 2]
    assert ab["rates"] == [100.0, 100.0, 0.0, 50.0]
    assert ab["chart"]["type"] == "u" and ab["chart"]["centre"] == pytest.approx(400 / 7)
    assert len(ab["chart"]["upper"]) == 4
    ca = next(s for s in body["series"] if s["reporting_organisation"]["id"] == w.org_c.pk)
    assert ca["active_sips"] is None and ca["rates"] is None and ca["chart"]["type"] == "c"
    direction = next(d for d in body["directions"] if d["reporting_organisation"]["id"] == w.org_a.pk)
    assert direction["rates"] == ab["rates"]
    assert "Active SIPs" in body["method"]["denominator"]


def test_denominators_are_kept_for_a_while_and_counts_never(setting, settings):
    from django.core.cache import cache

    w = setting
    settings.PATTERN_DENOMINATOR_CACHE_SECONDS = 600
    cache.clear()
    _sip(w, 11, w.org_a, [w.unit_a, w.unit_b], established=datetime.date(2024, 12, 10))
    add(w, 2, on=datetime.date(2025, 1, 3))
    first = patterns_of(w, period_start="2025-01-01", period_end="2025-02-28")
    assert [p["active_sips"] for p in first["periods"]] == [1, 1]
    _sip(w, 12, w.org_a, [w.unit_a, w.unit_b], established=datetime.date(2025, 1, 5))
    add(w, 1, on=datetime.date(2025, 1, 4))
    with CaptureQueriesContext(connection) as ctx:
        again = patterns_of(w, period_start="2025-01-01", period_end="2025-02-28")
    assert not any("sip_sip" in q["sql"] for q in ctx.captured_queries)  # the denominators came from the cache
    assert [p["active_sips"] for p in again["periods"]] == [1, 1]  # as counted up to ten minutes ago
    assert [p["count"] for p in again["periods"]] == [3, 0]  # the reports are counted afresh
    cache.clear()
    assert [p["active_sips"] for p in patterns_of(w, period_start="2025-01-01", period_end="2025-02-28")
            ["periods"]] == [2, 2]
    cache.clear()


# --- signals ---------------------------------------------------------------------------------------------------


def _series(seed, rate, rise_at=None, factor=3.0, n=30):
    rng = random.Random(seed)
    return [poisson(rng, rate * (factor if rise_at is not None and i >= rise_at else 1.0)) for i in range(n)]


def test_a_planted_rise_is_flagged_and_a_stable_series_is_not(setting):
    w = setting
    rising = _series(6, 3.0, rise_at=24)  # 3 a month, 3× from the 25th month: flagged (with outside) at 25
    stable = _series(106, 3.0)  # 3 a month throughout; this seed is an ordinary history that nothing flags
    other_stable = _series(102, 3.0)
    for i in range(30):
        add(w, rising[i], on=month(i) + datetime.timedelta(days=4), key="utskrivning", source="a", target="b")
        add(w, stable[i], on=month(i) + datetime.timedelta(days=9), key="bemotande", source="b", target="a")
        add(w, other_stable[i], on=month(i) + datetime.timedelta(days=14), key="utskrivning", source="b", target="a")

    body = patterns_of(w)
    series = {(s["category"]["key"], s["reporting_organisation"]["id"]): s for s in body["series"]}
    rise = series[("utskrivning", w.org_a.pk)]
    assert rise["counts"] == rising
    assert rise["flagged"] and rise["outside"]
    assert all(s["index"] >= 24 for s in rise["signals"])
    first = rise["signals"][0]
    assert first["period"] == month(first["index"]).isoformat() and "outside" in first["rules"]
    assert first["p_value"] is not None and first["value"] > first["expected"]
    assert body["series"][0]["fingerprint"] == rise["fingerprint"] == f"v1:utskrivning:{w.org_a.pk}>{w.org_b.pk}:*"
    assert rise["label"] == f"Utskrivning ({w.org_a.name} → {w.org_b.name})"
    assert drill_count(w, {"theme": rise["fingerprint"], **body["drilldown"]}) == rise["total"]
    assert body["flagged_series"] == 1
    for key in (("bemotande", w.org_b.pk), ("utskrivning", w.org_b.pk)):
        quiet = series[key]
        assert not quiet["flagged"] and not quiet["outside"] and quiet["signals"] == []
    # The chart as drawn: c-chart over the whole series, with the textbook rules per point (for display).
    assert rise["chart"]["type"] == "c"
    assert rise["chart"]["centre"] == pytest.approx(sum(rising) / 30, abs=1e-4)
    assert any("outside" in point["rules"] for point in rise["chart"]["rules"])
    assert body["method"]["season_length"] == 12 and body["method"]["min_baseline"] == 12


# --- themes ----------------------------------------------------------------------------------------------------


def test_recurring_themes_by_fingerprint_survive_a_merge(setting):
    w = setting
    admin = w.users_a[Role.ORG_ADMIN]
    routine = Agreement.objects.create(forum=w.forum, name="Överenskommelse om utskrivning")
    old = services.create_category(admin, key="utskrivning-gammal", name="Utskrivning (gammal)")
    add(w, 4, on=month(5), key="utskrivning", agreement=routine)
    add(w, 3, on=month(6), key=old, agreement=routine)  # merged below: the same theme
    add(w, 2, on=month(7), key="utskrivning", other="Rutin för SIP")
    add(w, 1, on=month(8), key="utskrivning", other="  rutin  för  sip! ")  # the same routine, written differently
    add(w, 1, on=month(9), key="lakemedel", source="b", target="a")  # once: not recurring
    services.merge_categories(admin, old, category("utskrivning"))

    body = patterns_of(w)
    themes = {t["fingerprint"]: t for t in body["themes"]}
    a, b = w.org_a.pk, w.org_b.pk
    by_agreement = f"v1:utskrivning:{a}>{b}:{routine.pk}"
    by_text = f"v1:utskrivning:{a}>{b}:other-rutin-for-sip"
    assert set(themes) == {by_agreement, by_text}
    assert themes[by_agreement]["count"] == 7 and themes[by_agreement]["agreement"]["name"] == routine.name
    assert themes[by_text]["count"] == 3 and themes[by_text]["agreement_other"] == "Rutin för SIP"
    assert themes[by_agreement]["first_occurred_on"] == month(5).isoformat()
    assert themes[by_text]["series_fingerprint"] == f"v1:utskrivning:{a}>{b}:*"
    assert body["themes"][0]["fingerprint"] == by_agreement  # most recurrent first
    for theme in body["themes"]:
        assert drill_count(w, theme["drilldown"]) == theme["count"]
    assert patterns_of(w, top=1)["themes"] == [themes[by_agreement]]


# --- access and pseudonymisation ---------------------------------------------------------------------------------


def test_a_member_of_another_forum_gets_404(setting):
    w = setting
    add(w, 2, on=month(3))
    other = Forum.objects.create(name="Grannforum")
    other.organisations.set([w.org_a, w.org_b])
    stranger = member(w.unit_b, Role.PROCESSLEDARE)
    ForumMember.objects.create(forum=other, user=stranger, role="processledare")
    client = api(stranger)
    for tail in ("", "patterns/", "reports/", "reports/?category=1"):
        response = client.get(f"/api/v1/forums/{w.forum.pk}/{tail}")
        assert response.status_code == 404, (tail, response.content)
        assert response["Content-Type"].startswith("application/problem+json")
    # Even with bad parameters: nothing is said about a forum one does not sit in.
    assert client.get(f"/api/v1/forums/{w.forum.pk}/patterns/?granularity=year").status_code == 404
    assert [f["id"] for f in client.get("/api/v1/forums/").json()["results"]] == [other.pk]
    # Not a forum member at all (the reporter herself): 404 too; no membership anywhere: 403.
    assert api(w.reporter).get(f"/api/v1/forums/{w.forum.pk}/patterns/").status_code == 404
    assert api(w.outsider).get(f"/api/v1/forums/{w.forum.pk}/patterns/").status_code == 403
    assert api(w.leader).get("/api/v1/forums/abc/patterns/").status_code == 404


def test_forum_list_and_detail_for_a_member(setting):
    w = setting
    Agreement.objects.create(forum=w.forum, name="Rutin för SIP")
    forums = api(w.leader).get("/api/v1/forums/").json()["results"]
    assert [f["id"] for f in forums] == [w.forum.pk]
    detail = api(w.leader).get(f"/api/v1/forums/{w.forum.pk}/").json()
    assert detail["role"] == "processledare"
    assert {o["id"] for o in detail["organisations"]} == {w.org_a.pk, w.org_b.pk, w.org_c.pk}
    assert [a["name"] for a in detail["agreements"]] == ["Rutin för SIP"]


def test_drilldown_is_pseudonymised_without_sip_or_staff_names(setting, plan):
    w = setting
    add(w, 2, on=month(4))
    Deviation.objects.filter(forum=w.forum).update(sip=plan.sip)
    # The leader also works in organisation A: still the forum's view, never the full one.
    member(w.unit_a, Role.SOCIALSEKRETERARE, user=w.leader)
    body = reports_of(w)
    assert body["count"] == 2
    text = json.dumps(body, ensure_ascii=False)
    for row in body["results"]:
        assert row["view"] == "pseudonymised"
        assert not {"sip", "reporter", "reporter_name", "reporting_unit", "reporting_unit_name"} & set(row)
    assert "sip" not in {key.lower() for row in body["results"] for key in row}
    staff = User.objects.filter(memberships__isnull=False).distinct()
    for user in staff:
        assert user.get_full_name() not in text
    assert "Testsson" not in text and "Processledare" not in text  # every staff user's last name
    assert plan.person.first_name not in text and plan.person.last_name not in text


# --- cost --------------------------------------------------------------------------------------------------------


def _queries(user, url, params):
    client = api(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def test_query_counts_are_constant_as_reports_grow(setting):
    w = setting
    routine = Agreement.objects.create(forum=w.forum, name="Rutin")
    _sip(w, 1, w.org_a, [w.unit_a, w.unit_b], established=datetime.date(2023, 3, 1))
    add(w, 2, on=month(1), agreement=routine)
    add(w, 1, on=month(2), other="Rutin X")
    url = f"/api/v1/forums/{w.forum.pk}"
    window = {"period_start": START.isoformat(), "period_end": END.isoformat()}
    theme = f"v1:sip:{w.org_a.pk}>{w.org_b.pk}:other-rutin-x"

    def measure():
        return (_queries(w.leader, f"{url}/patterns/", window),
                _queries(w.leader, f"{url}/reports/", {"category": category("sip").pk, **window}),
                _queries(w.leader, f"{url}/reports/", {"theme": theme}),
                _queries(w.leader, f"{url}/", {}),
                _queries(w.leader, "/api/v1/forums/", {}))

    small = measure()
    keys = ["sip", "bemotande", "utskrivning", "lakemedel", "hjalpmedel"]
    for i in range(30):
        add(w, 1 + i % 4, on=month(i), key=keys[i % 5], source="abc"[i % 3], target="bca"[i % 3],
            agreement=routine if i % 2 else None, other="" if i % 2 else f"Rutin {i % 4}")
        add(w, 2, on=month(i), other="Rutin x")
    for n in range(2, 8):
        _sip(w, n, w.org_b, [w.unit_b, w.unit_a, w.unit_c], established=month(n))
    large = measure()
    assert large == small
    assert max(small) <= 10, small


# --- bad parameters ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("params", "fields"), [
    ({"granularity": "year"}, {"granularity"}),
    ({"period_start": "2025-05-01", "period_end": "2025-04-30"}, {"period_end"}),
    ({"period_start": "igår", "period_end": "2025-13-01"}, {"period_start", "period_end"}),
    ({"top": "0"}, {"top"}),
    ({"granularity": "week", "period_start": "1990-01-01", "period_end": "2025-01-01"}, {"period_start"}),
    ({"category": "1"}, {"category"}),  # not a parameter of the pattern view
])
def test_bad_pattern_parameters_are_problem_400_with_field_errors(setting, params, fields):
    w = setting
    response = api(w.leader).get(f"/api/v1/forums/{w.forum.pk}/patterns/", params)
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 400 and set(body["errors"]) == fields


@pytest.mark.parametrize(("params", "fields"), [
    ({"category": "sip"}, {"category"}),
    ({"period_start": "2025-05-01", "period_end": "2025-04-30"}, {"period_end"}),
    ({"theme": "v2:sip:1>2:none"}, {"theme"}),
    ({"theme": "v1:sip:1>2:any"}, {"theme"}),
    ({"granularity": "month"}, {"granularity"}),
])
def test_bad_drilldown_parameters_are_problem_400_with_field_errors(setting, params, fields):
    w = setting
    response = api(w.leader).get(f"/api/v1/forums/{w.forum.pk}/reports/", params)
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert set(response.json()["errors"]) == fields


def test_the_service_validates_too(setting):
    w = setting
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        patterns.forum_patterns(w.leader, w.forum.pk, granularity="year")
    assert "granularity" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        patterns.forum_patterns(w.leader, w.forum.pk, period_start=datetime.date(2025, 2, 1),
                                period_end=datetime.date(2025, 1, 1))
    assert "period_end" in error.value.message_dict


def test_default_period_is_three_years_of_whole_months(setting):
    w = setting
    body = patterns.forum_patterns(w.leader, w.forum.pk, today=datetime.date(2025, 6, 15))
    assert body["period"] == {"start": "2022-07-01", "end": "2025-06-30"}
    assert len(body["periods"]) == 36
    assert body["periods"][-1]["complete"] is False and body["periods"][-2]["complete"] is True
    assert body["total"] == 0 and body["series"] == [] and body["themes"] == []


def test_the_shape_matches_the_documented_schema(setting):
    from api.serializers.forums import PatternSeriesSerializer, PatternsSerializer, PatternThemeSerializer

    w = setting
    add(w, 3, on=month(2))
    body = patterns_of(w)
    assert set(body) == set(PatternsSerializer().fields)
    assert set(body["series"][0]) == set(PatternSeriesSerializer().fields)
    assert set(body["themes"][0]) == set(PatternThemeSerializer().fields)
