"""The pattern view's answers, kept in Django's cache until anything they show changes.

An answer is the forum's own aggregate: nothing in it depends on who asks (the caller's forum membership is
checked before, on every request) and it names no person. It is kept under a key made of the forum, the request
(window, granularity, number of themes, today) and two versions that database triggers bump in the transaction of
every change (avvikelser.models.PatternStamp, migration 0008): the forum's, on any change of its rollup rows — a
report submitted, moved, re-categorised, deleted, whoever writes it — and the directory's, on any change of
categories, organisations, agreements, forums and their organisations. So a report counts from the moment its
transaction commits, as before; only the denominators (active SIPs) may lag, as they did: an answer lives no
longer than the denominators it was computed with (PATTERN_DENOMINATOR_CACHE_SECONDS, 0 turns both off;
PATTERN_ANSWER_CACHE = False only this one).

The versions are read before the answer is computed, each in its own statement (read committed): an answer can
only be newer than its key says, never older, so no reader finds a stale answer under a current key.

PostgreSQL only, like the rollup whose triggers it rides on; elsewhere every request computes afresh.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import cached_property

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from avvikelser import rollup
from avvikelser.models import PatternStamp

_VERSIONS = "SELECT forum_id, version FROM avvikelser_patternstamp WHERE forum_id IN (%s, %s)"


def versions(forum_id: int) -> tuple[int, int]:
    """(the forum's version, the directory's version); a forum nothing has changed yet is at 0."""
    with connection.cursor() as cursor:
        cursor.execute(_VERSIONS, [forum_id, PatternStamp.DIRECTORY])
        found = dict(cursor.fetchall())
    return found.get(forum_id, 0), found.get(PatternStamp.DIRECTORY, 0)


class Answer:
    """One answer of the pattern view, as data and as the JSON the API sends (compact UTF-8, like api.renderers):
    the cache keeps the JSON, so a kept answer is neither unpickled into objects nor encoded again."""

    def __init__(self, *, data: dict | None = None, encoded_json: bytes | None = None):
        if data is not None:
            self.data = data
        if encoded_json is not None:
            self.encoded_json = encoded_json

    @cached_property
    def data(self) -> dict:
        return json.loads(self.encoded_json)

    @cached_property
    def encoded_json(self) -> bytes:
        text = json.dumps(self.data, cls=DjangoJSONEncoder, ensure_ascii=False, allow_nan=False,
                          separators=(",", ":"))
        # Like DRF's renderer: JSON that is also a strict subset of JavaScript.
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


def kept(forum_id: int, request: tuple, compute: Callable[[], tuple[dict, float]]) -> Answer:
    """The answer for `request`, from the cache or from `compute()` -> (data, when its denominators were
    counted)."""
    seconds = settings.PATTERN_DENOMINATOR_CACHE_SECONDS
    if seconds <= 0 or not settings.PATTERN_ANSWER_CACHE or not rollup.enabled():
        return Answer(data=compute()[0])
    forum_version, directory_version = versions(forum_id)
    key = ":".join(map(str, ("avvikelser:patterns:answer:v1", forum_id, *request, forum_version,
                             directory_version)))
    found = cache.get(key)
    if found is not None:
        return Answer(encoded_json=found)
    data, counted_at = compute()
    answer = Answer(data=data)
    remaining = int(counted_at + seconds - time.time())
    if remaining > 0:
        cache.set(key, answer.encoded_json, remaining)
    return answer


def invalidate_all() -> None:
    """After writes that bypassed the triggers (a load in replica mode): every kept answer is out of date."""
    if not rollup.enabled():
        return
    with connection.cursor() as cursor:  # the triggers' own function (migration 0008)
        cursor.execute("SELECT avvikelser_patternstamp_bump(ARRAY[%s]::bigint[])", [PatternStamp.DIRECTORY])
