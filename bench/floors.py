"""The SQL floor of each benchmark scenario: hand-written SQL returning the same answer as the endpoint.

Pages are written the fastest way we know: the page's keys ordered and limited on the main table, then the joins
for those rows only (the shape organisations/paging.py gives the endpoints).

Each floor is a list of (sql, params) run through one `connection.cursor()` in autocommit, every row fetched.
It contains the reads that produce the answer (the gate's membership lookup is inlined as a subquery). The SIP
floors also do what the database must do for the request besides: the token lookup and the access-log rows a
read of personal data must write (PDL), committed like the endpoint's. Where two shapes of a query compete
(the gate's page: probing each visible plan or merging the grant rows in list order), bench/run.py times both and
keeps the faster as the floor.
"""

from __future__ import annotations

import datetime

# The caller's unit groups, as the gate computes them (active membership, active unit, active organisation).
_GROUPS = """
    SELECT u.group_id FROM organisations_membership m
    JOIN organisations_unit u ON u.id = m.unit_id
    JOIN organisations_organisation o ON o.id = u.organisation_id
    WHERE m.user_id = %(user)s AND m.active AND u.active AND o.active"""

_UNITS = """
    SELECT m.unit_id FROM organisations_membership m
    JOIN organisations_unit u ON u.id = m.unit_id
    JOIN organisations_organisation o ON o.id = u.organisation_id
    WHERE m.user_id = %(user)s AND m.active AND u.active AND o.active"""

# The token check of an API request: the token's row and its user (knox, one indexed lookup).
_TOKEN = """
    SELECT t.digest, t.expiry, u.* FROM knox_authtoken t JOIN organisations_user u ON u.id = t.user_id
    WHERE t.token_key = (SELECT token_key FROM knox_authtoken WHERE user_id = %(user)s
                         ORDER BY created DESC LIMIT 1)"""

# The access-log rows of reading plans (one per plan), written as one statement.
_AUDIT_COLUMNS = """organisations_auditentry (at, actor_id, organisation_id, unit_id, role, action, object_type,
    object_id, person_id, fields, request_id, ip_address)"""

_VISIBLE_SIPS = f"""
    SELECT g.content_object_id FROM sip_sipgroupobjectpermission g
    WHERE g.permission_id = %(perm)s AND g.group_id IN ({_GROUPS})
    UNION
    SELECT x.content_object_id FROM sip_sipuserobjectpermission x
    WHERE x.permission_id = %(perm)s AND x.user_id = %(user)s"""


# The first 50 plans in list order straight from the grant rows, which carry their plan's updated_at (sip.models):
# each of the user's groups' grants read in order from an index and stopped after 50, the user's own likewise,
# merged (organisations/granted.py).
_MERGED = f"""
    SELECT merged.k AS id FROM (
        SELECT part.o, part.k FROM ({_GROUPS}) AS mine(group_id) CROSS JOIN LATERAL (
            SELECT g.sip_updated_at AS o, g.content_object_id AS k FROM sip_sipgroupobjectpermission g
            WHERE g.group_id = mine.group_id AND g.permission_id = %(perm)s
            ORDER BY g.sip_updated_at DESC, g.content_object_id DESC LIMIT 50) AS part
        UNION
        (SELECT x.sip_updated_at, x.content_object_id FROM sip_sipuserobjectpermission x
         WHERE x.user_id = %(user)s AND x.permission_id = %(perm)s
         ORDER BY x.sip_updated_at DESC, x.content_object_id DESC LIMIT 50)
    ) AS merged ORDER BY merged.o DESC, merged.k DESC LIMIT 50"""

_PAGE = {
    "probe": f"SELECT s.id FROM sip_sip s WHERE s.id IN ({_VISIBLE_SIPS}) "
             "ORDER BY s.updated_at DESC, s.id DESC LIMIT 50",
    "merge": _MERGED,
}
PAGE_SHAPES = tuple(_PAGE)

# The count: the distinct granted keys (each grant references its plan by a cascading foreign key), sorted rather
# than hashed (faster for a few thousand keys).
_COUNT = f"SELECT count(DISTINCT k) FROM ({_VISIBLE_SIPS.replace('UNION', 'UNION ALL')}) AS granted(k)"


def gate_page_and_count(user_id: int, perm_id: int, shape: str = "probe") -> list[tuple[str, dict]]:
    """The access gate alone: a page of 50 plans (the model's order) and the count."""
    params = {"user": user_id, "perm": perm_id}
    return [
        (f"SELECT s.* FROM ({_PAGE[shape]}) page JOIN sip_sip s ON s.id = page.id "
         "ORDER BY s.updated_at DESC, s.id DESC", params),
        (_COUNT, params),
    ]


def sip_list(user_id: int, perm_id: int, today: datetime.date, shape: str = "probe") -> list[tuple[str, dict]]:
    """SIP list row data for a page of 50 (the plan, the names of its person, lead organisation, initiating unit
    and coordinator, the overdue-action flag), the count, the token and the page's access-log rows."""
    params = {"user": user_id, "perm": perm_id, "today": today}
    return [
        (_TOKEN, params),
        (_COUNT, params),
        (f"""WITH page AS ({_PAGE[shape]}),
             logged AS (INSERT INTO {_AUDIT_COLUMNS}
                        SELECT now(), %(user)s, NULL, NULL, '', 'read', 'sip.sip', s.id::text, s.person_id, '[]',
                               'bench-floor', NULL
                        FROM page JOIN sip_sip s ON s.id = page.id RETURNING 1)
             SELECT s.*, p.first_name, p.last_name, lo.name, iu.name, c.first_name, c.last_name,
                    EXISTS (SELECT 1 FROM sip_action a WHERE a.sip_id = s.id
                            AND a.status IN ('planerad', 'pagar') AND a.ends_on < %(today)s) AS has_overdue_action
             FROM page
             JOIN sip_sip s ON s.id = page.id
             JOIN sip_person p ON p.id = s.person_id
             JOIN organisations_organisation lo ON lo.id = s.lead_organisation_id
             JOIN organisations_unit iu ON iu.id = s.initiating_unit_id
             LEFT JOIN organisations_user c ON c.id = s.coordinator_id
             ORDER BY s.updated_at DESC, s.id DESC""", params),
    ]


_AUDIT_ONE = f"""INSERT INTO {_AUDIT_COLUMNS}
    SELECT now(), %(user)s, NULL, NULL, '', 'read', 'sip.sip', s.id::text, s.person_id, '[]', 'bench-floor', NULL
    FROM sip_sip s WHERE s.id = %(sip)s RETURNING id"""


def sip_detail(user_id: int, perm_id: int, sip_id: int) -> list[tuple[str, dict]]:
    """One plan (through the gate) and all its parts, the token and the access-log row."""
    params = {"user": user_id, "perm": perm_id, "sip": sip_id}
    return [
        (_TOKEN, params),
        (f"""SELECT s.*, p.first_name, p.last_name, lo.name, iu.name, c.first_name, c.last_name
             FROM sip_sip s
             JOIN sip_person p ON p.id = s.person_id
             JOIN organisations_organisation lo ON lo.id = s.lead_organisation_id
             JOIN organisations_unit iu ON iu.id = s.initiating_unit_id
             LEFT JOIN organisations_user c ON c.id = s.coordinator_id
             WHERE s.id = %(sip)s AND s.id IN ({_VISIBLE_SIPS})""", params),
        ("""SELECT su.*, u.name, u.organisation_id, o.name, c.first_name, c.last_name FROM sip_sipunit su
            JOIN organisations_unit u ON u.id = su.unit_id
            JOIN organisations_organisation o ON o.id = u.organisation_id
            LEFT JOIN organisations_user c ON c.id = su.contact_id
            WHERE su.sip_id = %(sip)s ORDER BY su.id""", params),
        ("""SELECT co.*, o.name, r.first_name, r.last_name FROM sip_consent co
            JOIN organisations_organisation o ON o.id = co.organisation_id
            LEFT JOIN organisations_user r ON r.id = co.recorded_by_id
            WHERE co.sip_id = %(sip)s ORDER BY co.id""", params),
        ("SELECT g.* FROM sip_goal g WHERE g.sip_id = %(sip)s ORDER BY g.id", params),
        ("""SELECT a.*, o.name, u.name, ru.first_name, ru.last_name FROM sip_action a
            LEFT JOIN organisations_organisation o ON o.id = a.responsible_organisation_id
            LEFT JOIN organisations_unit u ON u.id = a.responsible_unit_id
            LEFT JOIN organisations_user ru ON ru.id = a.responsible_user_id
            WHERE a.sip_id = %(sip)s ORDER BY a.starts_on, a.id""", params),
        ("""SELECT m.*, pa.*, pu.first_name, pu.last_name, un.name FROM sip_meeting m
            LEFT JOIN sip_participant pa ON pa.meeting_id = m.id
            LEFT JOIN organisations_user pu ON pu.id = pa.user_id
            LEFT JOIN organisations_unit un ON un.id = pa.unit_id
            WHERE m.sip_id = %(sip)s ORDER BY m.starts_at, m.id, pa.id""", params),
        (_AUDIT_ONE, params),
    ]


def timeline(user_id: int, perm_id: int, sip_id: int) -> list[tuple[str, dict]]:
    """The plan (through the gate), its actions and meetings, merged in date order by the database, the token
    and the access-log row."""
    params = {"user": user_id, "perm": perm_id, "sip": sip_id}
    return [
        (_TOKEN, params),
        (f"""SELECT s.id, s.status, s.follow_up_on FROM sip_sip s
             WHERE s.id = %(sip)s AND s.id IN ({_VISIBLE_SIPS})""", params),
        ("""SELECT * FROM (
                SELECT 'action' AS type, a.id, COALESCE(a.starts_on, a.ends_on) AS date, a.ends_on AS "end",
                       a.title, a.status FROM sip_action a WHERE a.sip_id = %(sip)s
                UNION ALL
                SELECT 'meeting', m.id, m.starts_at::date, m.ends_at::date, m.kind, m.status
                FROM sip_meeting m WHERE m.sip_id = %(sip)s) t
            ORDER BY date NULLS LAST, type, id""", params),
        (_AUDIT_ONE, params),
    ]


# The session check of an HTML request: the session's row by its key, then its user (as the API floors' _TOKEN).
_SESSION = "SELECT session_data, expire_date FROM django_session WHERE session_key = %(session)s"
_SESSION_USER = "SELECT * FROM organisations_user WHERE id = %(user)s"


def inbox(user_id: int, session_key: str | None = None) -> list[tuple[str, dict]]:
    """'Att besvara': open reports against the user's contact organisations (where the user works) or units, due
    first — the page of 50 with what its rows show (category, reporting organisation, the overdue flag) and the
    count. Written as tight as we know: per contact organisation and per unit the first 50 in due order from the
    open-report index (LATERAL … LIMIT), merged; the count from the indexes alone, the unit part without the rows
    already counted under an organisation (disjoint, so a plain sum). With `session_key`, first the session and
    its user, as every HTML request reads them (the API floors' token lookup)."""
    params = {"user": user_id, "session": session_key}
    session = [(_SESSION, params), (_SESSION_USER, params)] if session_key else []
    orgs = f"""SELECT cp.organisation_id FROM avvikelser_contactperson cp
        WHERE cp.user_id = %(user)s AND cp.organisation_id IN (
            SELECT u.organisation_id FROM organisations_unit u WHERE u.id IN ({_UNITS}))"""
    open_ = "d.state IN ('inkommen', 'mottagen', 'besvarad')"
    return [
        *session,
        (f"""SELECT d.id, d.state, d.occurred_on, d.acknowledge_due_at, d.acknowledged_at, d.answer_due_at,
                    d.answered_at, c.name, ro.name,
                    (d.state = 'inkommen' AND d.acknowledge_due_at < now())
                    OR (d.state IN ('inkommen', 'mottagen') AND d.answer_due_at < now()) AS overdue
             FROM (SELECT page.id FROM (
                     SELECT b.id, b.answer_due_at FROM ({orgs}) o CROSS JOIN LATERAL (
                         SELECT d.id, d.answer_due_at FROM avvikelser_deviation d
                         WHERE d.counterpart_organisation_id = o.organisation_id AND {open_}
                         ORDER BY d.answer_due_at, d.id LIMIT 50) b
                     UNION
                     SELECT b.id, b.answer_due_at FROM ({_UNITS}) u CROSS JOIN LATERAL (
                         SELECT d.id, d.answer_due_at FROM avvikelser_deviation d
                         WHERE d.counterpart_unit_id = u.unit_id AND {open_}
                         ORDER BY d.answer_due_at, d.id LIMIT 50) b) page
                   ORDER BY page.answer_due_at, page.id LIMIT 50) page
             JOIN avvikelser_deviation d ON d.id = page.id
             JOIN avvikelser_category c ON c.id = d.category_id
             JOIN organisations_organisation ro ON ro.id = d.reporting_organisation_id
             ORDER BY d.answer_due_at, d.id""", params),
        (f"""SELECT (SELECT count(*) FROM avvikelser_deviation d
                     WHERE {open_} AND d.counterpart_organisation_id IN ({orgs}))
                  + (SELECT count(*) FROM avvikelser_deviation d
                     WHERE {open_} AND d.counterpart_unit_id IN ({_UNITS})
                       AND d.counterpart_organisation_id NOT IN ({orgs}))""", params),
    ]


def patterns(forum_id: int, first: datetime.date, last: datetime.date) -> list[tuple[str, dict]]:
    """The pattern view's aggregates: counts per month × category × direction and the theme groups from the
    report rollup (avvikelser_forumpatterncount, kept exact by triggers: migration avvikelser 0006), and the
    active-SIP denominators (forum and per pair) as running sums of began/closed per month."""
    params = {"forum": forum_id, "first": first, "last": last}
    rollup = """FROM avvikelser_forumpatterncount r WHERE r.forum_id = %(forum)s
                AND r.fragment_start BETWEEN %(first)s AND %(last)s"""
    members = "SELECT organisation_id FROM avvikelser_forum_organisations WHERE forum_id = %(forum)s"
    active = f"""FROM sip_sip s WHERE s.established_on IS NOT NULL AND s.established_on <= %(last)s
                 AND s.lead_organisation_id IN ({members})
                 AND (s.closed_on IS NULL OR (s.closed_on >= %(first)s AND s.closed_on >= s.established_on))"""
    return [
        (f"""SELECT date_trunc('month', r.fragment_start::timestamp)::date, r.category_id,
                    r.reporting_organisation_id, r.counterpart_organisation_id, sum(r.n)
             {rollup} GROUP BY 1, 2, 3, 4""", params),
        (f"""SELECT r.category_id, r.reporting_organisation_id, r.counterpart_organisation_id, r.agreement_id,
                    r.agreement_other, sum(r.n), min(r.first_day), max(r.last_day)
             {rollup} GROUP BY 1, 2, 3, 4, 5""", params),
        (f"""SELECT 1, date_trunc('month', greatest(s.established_on, %(first)s)::timestamp)::date, count(*)
             {active} GROUP BY 2
             UNION ALL
             SELECT -1, date_trunc('month', s.closed_on::timestamp)::date, count(*)
             {active} AND s.closed_on IS NOT NULL AND s.closed_on <= %(last)s GROUP BY 2""", params),
        (f"""SELECT 1, s.lead_organisation_id, u.organisation_id,
                    date_trunc('month', greatest(s.established_on, %(first)s)::timestamp)::date,
                    count(DISTINCT s.id)
             {active.replace('FROM sip_sip s', 'FROM sip_sip s JOIN sip_sipunit su ON su.sip_id = s.id '
                             'JOIN organisations_unit u ON u.id = su.unit_id')}
               AND u.organisation_id IN ({members}) GROUP BY 2, 3, 4
             UNION ALL
             SELECT -1, s.lead_organisation_id, u.organisation_id,
                    date_trunc('month', s.closed_on::timestamp)::date, count(DISTINCT s.id)
             {active.replace('FROM sip_sip s', 'FROM sip_sip s JOIN sip_sipunit su ON su.sip_id = s.id '
                             'JOIN organisations_unit u ON u.id = su.unit_id')}
               AND u.organisation_id IN ({members}) AND s.closed_on IS NOT NULL AND s.closed_on <= %(last)s
             GROUP BY 2, 3, 4""", params),
    ]


def delaktighet(organisation_ids: list[int], version_id: int, item_ids: list[int],
                scale_ids: list[int]) -> list[tuple[str, dict]]:
    """The delaktighet report's aggregates by gender, each from one covering index (migration delaktighet 0003):
    responses with the respondent's own-mean flag (sum ≥ 4 × number of the 1–6 answers; the answered invitations
    are these responses), the unanswered invitations, and the answer distribution per item and value. The 1–6
    items (scale_ids) are the ones counted into the stored number and sum."""
    params = {"orgs": list(organisation_ids), "version": version_id, "items": list(item_ids) or [0]}
    return [
        ("""SELECT gender,
                   CASE WHEN scale_answers = 0 THEN NULL WHEN scale_sum >= 4 * scale_answers THEN 1 ELSE 0 END,
                   count(*)
            FROM delaktighet_response
            WHERE lead_organisation_id = ANY(%(orgs)s) AND version_id = %(version)s
            GROUP BY 1, 2""", params),
        ("""SELECT gender, count(*)
            FROM delaktighet_invitation
            WHERE NOT (status = 'answered') AND lead_organisation_id = ANY(%(orgs)s) AND version_id = %(version)s
            GROUP BY 1""", params),
        ("""SELECT item_id, value_int, gender, count(*)
            FROM delaktighet_answer
            WHERE lead_organisation_id = ANY(%(orgs)s) AND item_id = ANY(%(items)s) AND value_int IS NOT NULL
            GROUP BY 1, 2, 3""", params),
    ]
