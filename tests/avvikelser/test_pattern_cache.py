"""The pattern view's answers are kept (avvikelser/pattern_cache.py) only while nothing they show has changed: every
kind of write that changes a count or a name is seen by the next request, a report of another forum or a comment
changes nothing, the member check comes first, and an answer lives no longer than its denominators."""

import datetime

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from avvikelser import pattern_cache, rollup, services
from avvikelser.models import Agreement, Deviation, Forum, ForumPatternCount, PatternStamp, State
from organisations.models import Role
from tests.avvikelser.test_patterns import START, add, api, category, month, patterns_of
from tests.avvikelser.test_patterns import setting as setting
from tests.conftest import requires_postgres

pytestmark = pytest.mark.django_db


@pytest.fixture
def cached(setting, settings):
    requires_postgres()
    settings.PATTERN_DENOMINATOR_CACHE_SECONDS = 600
    add(setting, 3, on=month(0))
    add(setting, 2, on=month(5), key="bemotande", source="b", target="a")
    return setting


def computed(w):
    """The answer, and whether it was computed (the rollup read) rather than taken from the cache."""
    with CaptureQueriesContext(connection) as ctx:
        body = patterns_of(w)
    return body, any("avvikelser_forumpatterncount" in q["sql"] for q in ctx.captured_queries)


def test_a_repeated_request_is_answered_from_the_cache_in_three_queries(cached):
    first, fresh = computed(cached)
    assert fresh
    with CaptureQueriesContext(connection) as ctx:
        again = patterns_of(cached)
    assert again == first
    # The caller's token and memberships, the forum (the member check), the versions.
    assert len(ctx.captured_queries) == 4, [q["sql"] for q in ctx.captured_queries]
    assert not any("avvikelser_forumpatterncount" in q["sql"] for q in ctx.captured_queries)


@pytest.mark.parametrize("change", [
    "submitted", "bulk", "moved", "recategorised", "deleted", "category_renamed", "organisation_renamed",
    "forum_renamed", "forum_organisations", "agreement_renamed", "rollup_truncated"])
def test_every_change_of_what_the_view_shows_is_seen_at_once(cached, change):
    w = cached
    agreement = Agreement.objects.create(name="Överenskommelse om kallelser", forum=w.forum)
    add(w, 2, on=month(2), agreement=agreement)  # a theme: recurs
    before, _ = computed(w)
    assert computed(w)[1] is False  # kept
    some = Deviation.objects.filter(forum=w.forum).order_by("id")
    if change == "submitted":
        draft = services.create_draft(w.reporter, reporting_unit=w.unit_a, counterpart_organisation=w.org_b,
                                      occurred_on=month(1), category=category("sip"),
                                      what_happened="Återkoppling uteblev.")
        services.transition(w.reporter, draft, State.INKOMMEN, draft.version)
    elif change == "bulk":
        add(w, 4, on=month(7))
    elif change == "moved":
        some.filter(pk=some[0].pk).update(occurred_on=month(9))
    elif change == "recategorised":
        some.filter(pk=some[0].pk).update(category=category("utskrivning"))
    elif change == "deleted":
        some.filter(pk=some[0].pk).delete()
    elif change == "category_renamed":
        category("sip").__class__.objects.filter(key="sip").update(name="SIP-samverkan")
    elif change == "organisation_renamed":
        w.org_b.name = "Region B (nytt namn)"
        w.org_b.save()
    elif change == "forum_renamed":
        Forum.objects.filter(pk=w.forum.pk).update(name="Styrgruppen")
    elif change == "forum_organisations":
        w.forum.organisations.remove(w.org_c)
    elif change == "agreement_renamed":
        Agreement.objects.filter(pk=agreement.pk).update(name="Överenskommelse om kallelser 2.0")
    elif change == "rollup_truncated":
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE avvikelser_forumpatterncount")
        rollup.rebuild()
    after, fresh = computed(w)
    assert fresh, change
    if change not in ("rollup_truncated", "forum_organisations"):  # those two recompute the same numbers here
        assert after != before, change
    assert after == computed_afresh(w)


def computed_afresh(w):
    from django.core.cache import cache

    cache.clear()
    return patterns_of(w)


def test_writes_that_change_nothing_shown_keep_the_answer(cached):
    w = cached
    other = Forum.objects.create(name="Annat forum")
    other.organisations.set([w.org_a, w.org_b])
    before, _ = computed(w)
    add(w, 5, on=month(3), forum=other)  # another forum's reports
    add(w, 2, on=month(3), state=State.UTKAST)  # drafts are not counted
    report = Deviation.objects.filter(forum=w.forum).first()
    Deviation.objects.filter(pk=report.pk).update(what_happened="Kallelsen kom fram för sent.")  # not counted
    after, fresh = computed(w)
    assert not fresh
    assert after == before


def test_only_the_changed_forum_gets_a_new_version(cached):
    w = cached
    other = Forum.objects.create(name="Annat forum")
    other.organisations.set([w.org_a, w.org_b])
    mine, directory = pattern_cache.versions(w.forum.pk)
    theirs, _ = pattern_cache.versions(other.pk)
    add(w, 3, on=month(4), forum=other)
    assert pattern_cache.versions(w.forum.pk) == (mine, directory)
    assert pattern_cache.versions(other.pk)[0] > theirs
    # One version step per statement, however many rows it touches.
    stamp = PatternStamp.objects.get(forum_id=other.pk).version
    add(w, 40, on=month(8), forum=other)
    assert PatternStamp.objects.get(forum_id=other.pk).version == stamp + 1


def test_a_rollup_update_that_changes_no_value_bumps_nothing(cached):
    w = cached
    version = pattern_cache.versions(w.forum.pk)
    ForumPatternCount.objects.filter(forum_id=w.forum.pk).update(n=F("n"))
    assert pattern_cache.versions(w.forum.pk) == version


def test_the_member_check_comes_before_the_cache(cached):
    w = cached
    patterns_of(w)
    outsider = w.users_b[Role.BEHANDLARE]
    response = api(outsider).get(f"/api/v1/forums/{w.forum.pk}/patterns/",
                                 {"period_start": START.isoformat(), "period_end": "2025-06-30"})
    assert response.status_code == 404


def test_an_answer_lives_no_longer_than_its_denominators(cached, monkeypatch):
    from avvikelser import patterns

    w = cached
    kept: list[int] = []
    real_set = pattern_cache.cache.set
    monkeypatch.setattr(pattern_cache.cache, "set", lambda key, value, timeout: (kept.append(timeout),
                                                                                real_set(key, value, timeout)))
    patterns_of(w)
    assert kept and 595 <= kept[-1] <= 600
    # Denominators counted nine minutes ago: the answer is kept for the minute they have left.
    counted = patterns._active_sips

    def old_denominators(*args):
        found, _at = counted(*args)
        return found, _at - 540

    monkeypatch.setattr(patterns, "_active_sips", old_denominators)
    add(w, 1, on=month(6))
    patterns_of(w)
    assert 55 <= kept[-1] <= 60


def test_off_when_the_denominator_cache_is_off(cached, settings):
    settings.PATTERN_DENOMINATOR_CACHE_SECONDS = 0
    assert computed(cached)[1] and computed(cached)[1]


def test_invalidate_all_renews_every_key(cached):
    w = cached
    computed(w)
    pattern_cache.invalidate_all()
    assert computed(w)[1]


def test_versions_of_a_forum_nothing_has_touched_are_zero(cached):
    assert pattern_cache.versions(10**12)[0] == 0


def test_a_new_day_computes_afresh(cached):
    from avvikelser import patterns

    w = cached
    params = {"period_start": START, "period_end": datetime.date(2025, 6, 30)}
    today = datetime.date(2025, 6, 15)
    first = patterns.patterns_for(w.forum, today=today, **params)
    assert patterns.patterns_for(w.forum, today=today, **params) == first
    later = patterns.patterns_for(w.forum, today=today + datetime.timedelta(days=20), **params)
    assert first["periods"][-1]["complete"] is False and later["periods"][-1]["complete"] is True


@pytest.mark.parametrize("kept_answers", [True, False])
def test_the_api_sends_what_drf_would_render(cached, settings, kept_answers):
    """Computed or kept, the bytes are those of the API's JSON renderer for the same data."""
    from api.renderers import JSONRenderer

    settings.PATTERN_ANSWER_CACHE = kept_answers
    w = cached
    Forum.objects.filter(pk=w.forum.pk).update(name="Styrgrupp \u2028 Nord – \"Öst\"")
    path = f"/api/v1/forums/{w.forum.pk}/patterns/"
    for _ in range(2):  # computed, then (when on) kept
        response = api(w.leader).get(path, {"period_start": START.isoformat()})
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response.content == JSONRenderer().render(response.json())
        assert b"\\u2028" in response.content
    pretty = api(w.leader).get(path, {"period_start": START.isoformat()}, HTTP_ACCEPT="application/json; indent=2")
    assert pretty.json() == response.json() and b'\n  "forum"' in pretty.content


def test_a_kept_answer_is_the_same_data_for_the_pages_too(cached):
    """The HTML page and the compilation read the data (patterns_for), not the JSON: a kept answer, read back from
    its JSON, equals the computed one value for value."""
    from avvikelser import patterns

    w = cached
    params = {"period_start": START, "period_end": datetime.date(2025, 6, 30)}
    computed_now = patterns.patterns_for(w.forum, **params)
    kept = patterns.patterns_for(w.forum, **params)
    assert kept == computed_now
    assert patterns.pattern_answer(w.forum, **params).encoded_json  # from the cache this time
