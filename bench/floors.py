"""The SQL floor of each benchmark scenario: hand-written SQL returning the same answer as the endpoint.

Pages are written the fastest way we know: the page's keys ordered and limited on the main table, then the joins
for those rows only (the shape organisations/paging.py gives the endpoints).

Each floor is a list of (sql, params) run through one `connection.cursor()`, every row fetched. It contains
only the reads that produce the answer (the gate's membership lookup is inlined as a subquery); side effects of
the endpoint (the audit rows of a SIP read, the session lookup) are not part of the floor.
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

_VISIBLE_SIPS = f"""
    SELECT g.content_object_id FROM sip_sipgroupobjectpermission g
    WHERE g.permission_id = %(perm)s AND g.group_id IN ({_GROUPS})
    UNION
    SELECT x.content_object_id FROM sip_sipuserobjectpermission x
    WHERE x.permission_id = %(perm)s AND x.user_id = %(user)s"""


def gate_page_and_count(user_id: int, perm_id: int) -> list[tuple[str, dict]]:
    """The access gate alone: a page of 50 plans (the model's order) and the count."""
    params = {"user": user_id, "perm": perm_id}
    return [
        (f"SELECT s.* FROM sip_sip s WHERE s.id IN ({_VISIBLE_SIPS}) "
         "ORDER BY s.updated_at DESC, s.id DESC LIMIT 50", params),
        (f"SELECT count(*) FROM sip_sip s WHERE s.id IN ({_VISIBLE_SIPS})", params),
    ]


def sip_list(user_id: int, perm_id: int, today: datetime.date) -> list[tuple[str, dict]]:
    """SIP list row data for a page of 50 (person, lead organisation, initiating unit and its organisation,
    coordinator, the overdue-action flag) and the count."""
    params = {"user": user_id, "perm": perm_id, "today": today}
    return [
        (f"""SELECT s.*, p.*, lo.name, iu.name, io.name, c.username, c.first_name, c.last_name,
                    EXISTS (SELECT 1 FROM sip_action a WHERE a.sip_id = s.id
                            AND a.status IN ('planerad', 'pagar') AND a.ends_on < %(today)s) AS has_overdue_action
             FROM (SELECT s.id FROM sip_sip s WHERE s.id IN ({_VISIBLE_SIPS})
                   ORDER BY s.updated_at DESC, s.id DESC LIMIT 50) page
             JOIN sip_sip s ON s.id = page.id
             JOIN sip_person p ON p.id = s.person_id
             JOIN organisations_organisation lo ON lo.id = s.lead_organisation_id
             JOIN organisations_unit iu ON iu.id = s.initiating_unit_id
             JOIN organisations_organisation io ON io.id = iu.organisation_id
             LEFT JOIN organisations_user c ON c.id = s.coordinator_id
             ORDER BY s.updated_at DESC, s.id DESC""", params),
        (f"SELECT count(*) FROM sip_sip s WHERE s.id IN ({_VISIBLE_SIPS})", params),
    ]


def sip_detail(user_id: int, perm_id: int, sip_id: int) -> list[tuple[str, dict]]:
    """One plan (through the gate) and all its parts."""
    params = {"user": user_id, "perm": perm_id, "sip": sip_id}
    return [
        (f"""SELECT s.*, p.*, lo.name, iu.name, io.name, c.username
             FROM sip_sip s
             JOIN sip_person p ON p.id = s.person_id
             JOIN organisations_organisation lo ON lo.id = s.lead_organisation_id
             JOIN organisations_unit iu ON iu.id = s.initiating_unit_id
             JOIN organisations_organisation io ON io.id = iu.organisation_id
             LEFT JOIN organisations_user c ON c.id = s.coordinator_id
             WHERE s.id = %(sip)s AND s.id IN ({_VISIBLE_SIPS})""", params),
        ("""SELECT su.*, u.name, o.name, c.username FROM sip_sipunit su
            JOIN organisations_unit u ON u.id = su.unit_id
            JOIN organisations_organisation o ON o.id = u.organisation_id
            LEFT JOIN organisations_user c ON c.id = su.contact_id
            WHERE su.sip_id = %(sip)s ORDER BY su.id""", params),
        ("""SELECT co.*, o.name, r.username FROM sip_consent co
            JOIN organisations_organisation o ON o.id = co.organisation_id
            LEFT JOIN organisations_user r ON r.id = co.recorded_by_id
            WHERE co.sip_id = %(sip)s ORDER BY co.id""", params),
        ("SELECT g.* FROM sip_goal g WHERE g.sip_id = %(sip)s ORDER BY g.id", params),
        ("""SELECT a.*, o.name, u.name, ru.username, g.text FROM sip_action a
            LEFT JOIN organisations_organisation o ON o.id = a.responsible_organisation_id
            LEFT JOIN organisations_unit u ON u.id = a.responsible_unit_id
            LEFT JOIN organisations_user ru ON ru.id = a.responsible_user_id
            LEFT JOIN sip_goal g ON g.id = a.goal_id
            WHERE a.sip_id = %(sip)s ORDER BY a.starts_on, a.id""", params),
        ("""SELECT m.*, pa.*, pu.username, un.name FROM sip_meeting m
            LEFT JOIN sip_participant pa ON pa.meeting_id = m.id
            LEFT JOIN organisations_user pu ON pu.id = pa.user_id
            LEFT JOIN organisations_unit un ON un.id = pa.unit_id
            WHERE m.sip_id = %(sip)s ORDER BY m.starts_at, m.id, pa.id""", params),
    ]


def timeline(user_id: int, perm_id: int, sip_id: int) -> list[tuple[str, dict]]:
    """The plan (through the gate), its actions and meetings, merged in date order by the database."""
    params = {"user": user_id, "perm": perm_id, "sip": sip_id}
    return [
        (f"""SELECT s.id, s.status, s.follow_up_on FROM sip_sip s
             WHERE s.id = %(sip)s AND s.id IN ({_VISIBLE_SIPS})""", params),
        ("""SELECT * FROM (
                SELECT 'action' AS type, a.id, COALESCE(a.starts_on, a.ends_on) AS date, a.ends_on AS "end",
                       a.title, a.status FROM sip_action a WHERE a.sip_id = %(sip)s
                UNION ALL
                SELECT 'meeting', m.id, m.starts_at::date, m.ends_at::date, m.kind, m.status
                FROM sip_meeting m WHERE m.sip_id = %(sip)s) t
            ORDER BY date NULLS LAST, type, id""", params),
    ]


def inbox(user_id: int) -> list[tuple[str, dict]]:
    """'Att besvara': open reports against the user's contact organisations or units, due first (page of 50 +
    count)."""
    params = {"user": user_id}
    where = f"""d.state IN ('inkommen', 'mottagen', 'besvarad')
        AND (d.counterpart_organisation_id IN (SELECT organisation_id FROM avvikelser_contactperson
                                               WHERE user_id = %(user)s)
             OR d.counterpart_unit_id IN ({_UNITS}))"""
    return [
        (f"""SELECT d.*, ru.name, ro.name, co.name, cu.name, c.name, a.name, f.name
             FROM (SELECT d.id FROM avvikelser_deviation d WHERE {where}
                   ORDER BY d.answer_due_at, d.id LIMIT 50) page
             JOIN avvikelser_deviation d ON d.id = page.id
             JOIN organisations_unit ru ON ru.id = d.reporting_unit_id
             JOIN organisations_organisation ro ON ro.id = d.reporting_organisation_id
             JOIN organisations_organisation co ON co.id = d.counterpart_organisation_id
             LEFT JOIN organisations_unit cu ON cu.id = d.counterpart_unit_id
             JOIN avvikelser_category c ON c.id = d.category_id
             LEFT JOIN avvikelser_agreement a ON a.id = d.agreement_id
             LEFT JOIN avvikelser_forum f ON f.id = d.forum_id
             ORDER BY d.answer_due_at, d.id""", params),
        (f"SELECT count(*) FROM avvikelser_deviation d WHERE {where}", params),
    ]


def patterns(forum_id: int, first: datetime.date, last: datetime.date) -> list[tuple[str, dict]]:
    """The pattern view's aggregates over the raw reports: counts per month × category × direction, the theme
    groups, and the active-SIP denominators (forum and per pair) as running sums of began/closed per month."""
    params = {"forum": forum_id, "first": first, "last": last}
    reports = """FROM avvikelser_deviation d WHERE d.forum_id = %(forum)s AND d.state <> 'utkast'
                 AND d.occurred_on BETWEEN %(first)s AND %(last)s"""
    members = "SELECT organisation_id FROM avvikelser_forum_organisations WHERE forum_id = %(forum)s"
    active = f"""FROM sip_sip s WHERE s.established_on IS NOT NULL AND s.established_on <= %(last)s
                 AND s.lead_organisation_id IN ({members})
                 AND (s.closed_on IS NULL OR (s.closed_on >= %(first)s AND s.closed_on >= s.established_on))"""
    return [
        (f"""SELECT date_trunc('month', d.occurred_on::timestamp)::date, d.category_id,
                    d.reporting_organisation_id, d.counterpart_organisation_id, count(*)
             {reports} GROUP BY 1, 2, 3, 4""", params),
        (f"""SELECT d.category_id, d.reporting_organisation_id, d.counterpart_organisation_id, d.agreement_id,
                    d.agreement_other, count(*), min(d.occurred_on), max(d.occurred_on)
             {reports} GROUP BY 1, 2, 3, 4, 5""", params),
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
    """The delaktighet report's aggregates by gender: invitations, responses with the respondent's own-mean flag,
    and the answer distribution per item and value."""
    params = {"orgs": list(organisation_ids), "version": version_id, "items": list(item_ids) or [0],
              "scale": list(scale_ids) or [0]}
    return [
        ("""SELECT COALESCE(r.gender, CASE WHEN pa.kind = 'person' THEN pe.gender ELSE 'vill_ej_uppge' END),
                   count(*)
            FROM delaktighet_invitation i
            LEFT JOIN delaktighet_response r ON r.invitation_id = i.id
            JOIN sip_participant pa ON pa.id = i.participant_id
            JOIN sip_sip s ON s.id = i.sip_id
            JOIN sip_person pe ON pe.id = s.person_id
            WHERE i.version_id = %(version)s
              AND ((r.id IS NOT NULL AND r.lead_organisation_id = ANY(%(orgs)s))
                   OR (r.id IS NULL AND s.lead_organisation_id = ANY(%(orgs)s)))
            GROUP BY 1""", params),
        ("""SELECT g, flag, count(*) FROM (
                SELECT r.gender AS g,
                       CASE WHEN avg(a.value_int) IS NULL THEN NULL WHEN avg(a.value_int) >= 4 THEN 1 ELSE 0 END
                           AS flag
                FROM delaktighet_response r
                LEFT JOIN delaktighet_answer a ON a.response_id = r.id AND a.item_id = ANY(%(scale)s)
                                                  AND a.value_int IS NOT NULL
                WHERE r.lead_organisation_id = ANY(%(orgs)s) AND r.version_id = %(version)s
                GROUP BY r.id, r.gender) t
            GROUP BY 1, 2""", params),
        ("""SELECT a.item_id, a.value_int, r.gender, count(*)
            FROM delaktighet_answer a JOIN delaktighet_response r ON r.id = a.response_id
            WHERE r.lead_organisation_id = ANY(%(orgs)s) AND r.version_id = %(version)s
              AND a.item_id = ANY(%(items)s) AND a.value_int IS NOT NULL
            GROUP BY 1, 2, 3""", params),
    ]
