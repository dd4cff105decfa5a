"""Permission-matrix rows for the forum endpoints; tests/api/test_permission_matrix.py appends them
(`CASES += FORUM_CASES`).

Scopes: "own" is a forum where every org-A user of the matrix is a member; "other" is a forum over the same
organisations where they are not (only org B's processledare sits in it): 404, for the forum and everything
under it. Staff without a forum see an empty list; users without a membership get 403, anonymous 401 (the
matrix's own rules).

`Case` mirrors the dataclass of test_permission_matrix.py (defined here rather than imported, so the matrix can
import this module at any point without a circular import); the matrix reads its rows by attribute only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from organisations.models import Role


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: Callable
    expect: Callable
    data: Callable | None = None
    unscoped: bool = False
    headers: Callable | None = None
    varies: str = "target"


def forum_setup(w):
    """Two forums over organisations A and B, and one submitted report in the forum A's users sit in."""
    if getattr(w, "_forums", None) is None:
        import datetime

        from avvikelser import services as deviations
        from avvikelser.models import Category, Forum, ForumMember, ForumRole

        own = Forum.objects.create(name="Matrisforum (medlem)")
        own.organisations.set([w.org_a, w.org_b])
        other = Forum.objects.create(name="Matrisforum (annat)")
        other.organisations.set([w.org_a, w.org_b])
        ForumMember.objects.bulk_create([ForumMember(forum=own, user=user, role=ForumRole.LEDAMOT)
                                         for user in w.users_a.values()])
        ForumMember.objects.create(forum=other, user=w.users_b[Role.PROCESSLEDARE], role=ForumRole.PROCESSLEDARE)
        reporter = w.users_a[Role.SOCIALSEKRETERARE]
        draft = deviations.create_draft(reporter, reporting_unit=w.unit_a, counterpart_organisation=w.org_b,
                                        occurred_on=datetime.date.today(), category=Category.objects.get(key="sip"),
                                        what_happened="Kallelsen besvarades inte.")
        deviations.transition(reporter, draft, "inkommen", draft.version)
        w._forums = {"own": own, "other": other}
    return w._forums


def forum_url(w, scope: str, tail: str = "") -> str:
    return f"/api/v1/forums/{forum_setup(w)[scope].pk}/{tail}"


def members_only(role, scope):
    return 200 if scope == "own" else 404


def for_anyone(role, scope):
    return 200


FORUM_CASES = [
    Case("forums-list", "get", lambda w, s: (forum_setup(w), "/api/v1/forums/")[1], for_anyone, unscoped=True),
    Case("forums-detail", "get", lambda w, s: forum_url(w, s), members_only),
    Case("forums-patterns", "get", lambda w, s: forum_url(w, s, "patterns/?granularity=month"), members_only),
    Case("forums-reports", "get", lambda w, s: forum_url(w, s, "reports/"), members_only),
]
