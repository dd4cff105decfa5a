"""The pattern view's rollup (avvikelser.models.ForumPatternCount): whether it is in use, a check that it equals
the reports, and a rebuild. The triggers that maintain it are in migration 0006_pattern_rollup."""

from __future__ import annotations

from django.db import connection, transaction

KEY = ("forum_id, fragment_start, category_id, reporting_organisation_id, counterpart_organisation_id, "
       "agreement_id, agreement_other")
_FROM_REPORTS = """
    SELECT forum_id, avvikelser_fragment_start(occurred_on) AS fragment_start, category_id,
           reporting_organisation_id, counterpart_organisation_id, COALESCE(agreement_id, 0) AS agreement_id,
           agreement_other, count(*) AS n, min(occurred_on) AS first_day, max(occurred_on) AS last_day
    FROM avvikelser_deviation WHERE forum_id IS NOT NULL AND state <> 'utkast'
    GROUP BY 1, 2, 3, 4, 5, 6, 7"""


def enabled() -> bool:
    """The rollup is maintained (and read) on PostgreSQL only."""
    return connection.vendor == "postgresql"


def differences(forum_id: int | None = None) -> list[tuple]:
    """Rows where the rollup and the GROUP BY of the reports disagree (empty when consistent)."""
    if not enabled():
        return []
    where = "WHERE forum_id = %(forum)s" if forum_id is not None else ""
    sql = f"""
        WITH truth AS (SELECT * FROM ({_FROM_REPORTS}) t {where}),
             kept AS (SELECT {KEY}, n, first_day, last_day FROM avvikelser_forumpatterncount {where})
        (SELECT 'missing or wrong', * FROM truth EXCEPT SELECT 'missing or wrong', * FROM kept)
        UNION ALL
        (SELECT 'extra or wrong', * FROM kept EXCEPT SELECT 'extra or wrong', * FROM truth)"""  # noqa: S608 (constants; the id is a parameter)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"forum": forum_id})
        return cursor.fetchall()


def rebuild() -> int:
    """Recount everything from the reports (a repair; the triggers keep it exact otherwise), in one transaction:
    a failure half-way leaves the rollup as it was, and no reader ever sees it empty."""
    if not enabled():
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM avvikelser_forumpatterncount")
        cursor.execute(f"INSERT INTO avvikelser_forumpatterncount ({KEY}, n, first_day, last_day) {_FROM_REPORTS}")
        return cursor.rowcount
