"""Who sees a deviation, and how much.

* full: the reporting unit, and the counterpart — its organisation's designated contact persons who work there
  (an active membership in the organisation) and the members of the counterpart unit when one is named;
* pseudonymised: members of the forum spanning both organisations (no SIP link, no staff names), and
  only once the report is submitted;
* nobody else: 404.
"""

from __future__ import annotations

from django.db.models import F, Q, QuerySet, Value

from avvikelser.models import ContactPerson, Deviation, ForumMember, ForumRole, State
from organisations import access
from organisations.errors import NotFound
from organisations.prepared import Prepared


def contact_organisation_ids(user) -> set[int]:
    """Organisations the user answers deviations for: designated as contact person *and* working there now (an
    active membership in one of its active units) — a contact who left the organisation keeps no access to the
    reports against it. Loaded once per user object (like memberships)."""
    if not access.is_staff_member(user):
        return set()
    cached = getattr(user, "_samverkan_contact_orgs", None)
    if cached is None:
        designated = {row.ref for row in _roles(user) if row.kind == _CONTACT}
        cached = designated & access.organisation_ids(user)
        user._samverkan_contact_orgs = cached
    return cached


def forum_ids(user, role: str | None = None) -> set[int]:
    """The forums the user sits in (with `role` only those where the user has it)."""
    if not access.is_staff_member(user):
        return set()
    return {row.ref for row in _roles(user) if row.kind == _SEAT and (not role or row.role == role)}


_CONTACT, _SEAT = "contact", "seat"


def _both(contact_user_id, seat_user_id):
    contacts = (ContactPerson.objects.filter(user_id=contact_user_id)
                .annotate(kind=Value(_CONTACT), ref=F("organisation_id"), role=Value(""))
                .values_list("kind", "ref", "role", named=True))
    seats = (ForumMember.objects.filter(user_id=seat_user_id)
             .annotate(kind=Value(_SEAT), ref=F("forum_id"), seat_role=F("role"))
             .values_list("kind", "ref", "seat_role", named=True))
    return contacts.union(seats, all=True)


# The user's contact designations and forum seats: read on nearly every request that touches deviations or renders
# the nav, so in one query, compiled once (organisations/prepared.py), and kept on the user object for the request.
_ROLES = Prepared(ContactPerson, _both)


def _roles(user) -> list:
    rows = getattr(user, "_samverkan_deviation_roles", None)
    if rows is None:
        rows = user._samverkan_deviation_roles = _ROLES(user.pk, user.pk)
    return rows


def counterpart_branches(user) -> list[Q]:
    """The counterpart's side of the gate, as separate conditions whose union it is: the reports (not drafts)
    against one of the user's contact organisations, and those against one of the user's units that are not
    already among the former. The two are disjoint, so their counts add up; the second is small (a unit's own
    reports), so leaving out the first's rows costs little."""
    if not access.is_staff_member(user):
        return []
    organisations = contact_organisation_ids(user)
    return [~Q(state=State.UTKAST) & Q(counterpart_organisation_id__in=organisations),
            ~Q(state=State.UTKAST) & Q(counterpart_unit_id__in=access.unit_ids(user))
            & ~Q(counterpart_organisation_id__in=organisations)]


def full_view_branches(user) -> list[Q]:
    """Who sees a report in full: the reporting unit, and the counterpart."""
    return [Q(reporting_unit_id__in=access.unit_ids(user)), *counterpart_branches(user)]


def visible_branches(user) -> list[Q]:
    """The gate as a list of conditions: a report is visible when it meets any of them. Each one alone is a
    range of one index, which PostgreSQL can read in order or count from the index; their OR in one WHERE
    becomes a bitmap over the table. Lists that need speed union them (avvikelser.queries.BranchedList);
    `visible_deviations` is their OR, so both are the same rule. An empty list: the user sees nothing."""
    if not access.is_staff_member(user):
        return []
    return [*full_view_branches(user), ~Q(state=State.UTKAST) & Q(forum_id__in=forum_ids(user))]


def any_of(conditions: list[Q]) -> Q:
    combined = Q()
    for condition in conditions:
        combined |= condition
    return combined



def full_view_q(user) -> Q:
    return any_of(full_view_branches(user))


def visible_deviations(user, queryset: QuerySet | None = None, branches: list[Q] | None = None) -> QuerySet:
    """`branches`: visible_branches(user) when the caller has them already (one forum lookup less)."""
    queryset = Deviation.objects.all() if queryset is None else queryset
    branches = visible_branches(user) if branches is None else branches
    if not branches:
        return queryset.none()
    return queryset.filter(any_of(branches))


def get_deviation(user, pk) -> Deviation:
    return access.get_visible(visible_deviations(user), pk)


def sides(user, deviation: Deviation) -> set[str]:
    result = set()
    units = access.unit_ids(user)
    if deviation.reporting_unit_id in units:
        result.add("reporter")
    if deviation.state != State.UTKAST and (
            deviation.counterpart_organisation_id in contact_organisation_ids(user)
            or (deviation.counterpart_unit_id and deviation.counterpart_unit_id in units)):
        result.add("counterpart")
    if deviation.forum_id and deviation.state != State.UTKAST:
        if deviation.forum_id in forum_ids(user, ForumRole.PROCESSLEDARE):
            result.add("processledare")
        if deviation.forum_id in forum_ids(user):
            result.add("forum")
    return result


def sees_in_full(user, deviation: Deviation) -> bool:
    return bool({"reporter", "counterpart"} & sides(user, deviation))


def require_side(user, deviation: Deviation, allowed) -> set[str]:
    from organisations.errors import Forbidden

    mine = sides(user, deviation)
    if not mine:
        raise NotFound
    if not (mine & set(allowed)):
        raise Forbidden
    return mine
