"""Permission-matrix rows for the forum's work: /forums/{forum_pk}/meetings/ (and their items), /decisions/,
/measures/.

Two forums: "own" spans organisations A and B, with A's processledare as its processledare and A's
styrgruppsledamot as a ledamot; "other" spans B and a third organisation, with only B's processledare as a member.
An org-A user acts on one of them (varies="target"):

* the forum's processledare reads and writes;
* a ledamot reads (200) and gets 403 on writes;
* everyone else — every other role of A, and everyone on the other forum — gets 404: only members know a forum's
  work exists.

`Case` is the mirror dataclass of tests/api/matrix_forums.py (no import of the matrix module, so no cycle).
Add to tests/api/test_permission_matrix.py, next to the FORUM_CASES lines:

    from tests.api.matrix_forum_work import FORUM_WORK_CASES, route_name  # noqa: E402

    CASES += FORUM_WORK_CASES

and wrap the prefix in test_matrix_covers_every_api_route with `route_name(...)`, which names the nested
prefixes forum-meetings, forum-meeting-items, forum-decisions and forum-measures.
"""

from __future__ import annotations

import datetime
import re
from types import SimpleNamespace

from django.utils import timezone

from organisations.models import Role
from tests.api.matrix_forums import Case
from tests.conftest import World

EDITOR = Role.PROCESSLEDARE
READER = Role.STYRGRUPPSLEDAMOT


def route_name(prefix: str) -> str:
    """A router prefix as the matrix names it: forums/(?P<forum_pk>[0-9]+)/meetings → forum-meetings,
    forums/(?P<forum_pk>[0-9]+)/meetings/(?P<meeting_pk>[0-9]+)/items → forum-meeting-items."""
    prefix = re.sub(r"^forums/\(\?P<forum_pk>\[0-9\]\+\)/meetings/\(\?P<meeting_pk>\[0-9\]\+\)/", "forum-meeting-",
                    prefix)
    return re.sub(r"^forums/\(\?P<forum_pk>\[0-9\]\+\)/", "forum-", prefix)


def _build(w: World, forum_name: str, organisations, editor, readers=()):
    from avvikelser import forum_services
    from avvikelser.models import Forum, ForumMember

    forum = Forum.objects.create(name=forum_name)
    forum.organisations.set(organisations)
    ForumMember.objects.create(forum=forum, user=editor, role="processledare")
    for reader in readers:
        ForumMember.objects.create(forum=forum, user=reader, role="ledamot")
    meeting = forum_services.create_meeting(editor, forum.pk, starts_at=timezone.now() + datetime.timedelta(days=14),
                                            location="Stadshuset")
    item = forum_services.create_item(editor, meeting, title="Rutin för kallelser")
    decision = forum_services.create_decision(editor, forum.pk, text="Gemensam rutin för kallelser",
                                              decided_on=timezone.localdate() - datetime.timedelta(days=30),
                                              meeting=meeting)
    measure = forum_services.create_measure(editor, decision, title="Ta fram rutinen",
                                            owner_organisation=organisations[0],
                                            due_on=timezone.localdate() + datetime.timedelta(days=60))
    return SimpleNamespace(forum=forum, meeting=meeting, item=item, decision=decision, measure=measure,
                           owner=organisations[0])


def fw(w: World, scope: str):
    """The forum work of the scope's forum, built once per world."""
    if getattr(w, "_forum_work", None) is None:
        from tests.factories import OrganisationFactory

        third = OrganisationFactory(name="Region Tredje (test)", kind="region")
        w._forum_work = {
            "own": _build(w, "Matrisforum A–B", [w.org_a, w.org_b], w.users_a[EDITOR], [w.users_a[READER]]),
            "other": _build(w, "Matrisforum B–C", [w.org_b, third], w.users_b[EDITOR]),
        }
    return w._forum_work["own" if scope == "own" else "other"]


def url(w: World, scope: str, tail: str = "") -> str:
    return f"/api/v1/forums/{fw(w, scope).forum.pk}/{tail}"


def empty_meeting(w: World, scope: str):
    from avvikelser.models import ForumMeeting

    return ForumMeeting.objects.create(forum=fw(w, scope).forum, starts_at=timezone.now() + datetime.timedelta(days=40))


def if_match(part: str):
    return lambda w, s: {"HTTP_IF_MATCH": f'"{getattr(fw(w, s), part).version}"'}


def member_reads(ok):
    return lambda role, scope: ok if scope == "own" and role in (EDITOR, READER) else 404


def editor_writes(ok):
    def expect(role, scope):
        if scope != "own" or role not in (EDITOR, READER):
            return 404
        return ok if role == EDITOR else 403
    return expect


def _meeting(w, s, tail=""):
    return url(w, s, f"meetings/{fw(w, s).meeting.pk}/{tail}")


def _item(w, s, tail=""):
    return _meeting(w, s, f"items/{tail}")


FORUM_WORK_CASES = [
    Case("forum-meetings-list", "get", lambda w, s: url(w, s, "meetings/"), member_reads(200)),
    Case("forum-meetings-create", "post", lambda w, s: url(w, s, "meetings/"), editor_writes(201),
         data=lambda w, s: {"starts_at": "2030-02-01T13:00:00+01:00", "location": "Rum 2"}),
    Case("forum-meetings-detail", "get", lambda w, s: _meeting(w, s), member_reads(200)),
    Case("forum-meetings-update", "patch", lambda w, s: _meeting(w, s), editor_writes(200),
         data=lambda w, s: {"location": "Rum 3"}, headers=if_match("meeting")),
    Case("forum-meetings-delete", "delete", lambda w, s: url(w, s, f"meetings/{empty_meeting(w, s).pk}/"),
         editor_writes(204), headers=lambda w, s: {"HTTP_IF_MATCH": '"1"'}),
    Case("forum-meetings-agenda", "get", lambda w, s: _meeting(w, s, "agenda/"), member_reads(200)),
    Case("forum-meetings-propose-agenda", "post", lambda w, s: _meeting(w, s, "propose-agenda/"),
         editor_writes(200)),
    Case("forum-meetings-reorder", "post", lambda w, s: _meeting(w, s, "reorder/"), editor_writes(200),
         data=lambda w, s: {"items": [fw(w, s).item.pk]}, headers=if_match("meeting")),
    Case("forum-meeting-items-list", "get", lambda w, s: _item(w, s), member_reads(200)),
    Case("forum-meeting-items-create", "post", lambda w, s: _item(w, s), editor_writes(201),
         data=lambda w, s: {"title": "Övrigt", "kind": "other"}),
    Case("forum-meeting-items-detail", "get", lambda w, s: _item(w, s, f"{fw(w, s).item.pk}/"), member_reads(200)),
    Case("forum-meeting-items-update", "patch", lambda w, s: _item(w, s, f"{fw(w, s).item.pk}/"), editor_writes(200),
         data=lambda w, s: {"note": "Tas upp igen i mars."}, headers=if_match("item")),
    Case("forum-meeting-items-delete", "delete", lambda w, s: _item(w, s, f"{fw(w, s).item.pk}/"),
         editor_writes(204), headers=if_match("item")),
    Case("forum-decisions-list", "get", lambda w, s: url(w, s, "decisions/"), member_reads(200)),
    Case("forum-decisions-create", "post", lambda w, s: url(w, s, "decisions/"), editor_writes(201),
         data=lambda w, s: {"text": "Gemensam utbildning i SIP", "decided_on": "2026-01-15",
                            "fingerprints": ["v1:sip:1>2:*"]}),
    Case("forum-decisions-detail", "get", lambda w, s: url(w, s, f"decisions/{fw(w, s).decision.pk}/"),
         member_reads(200)),
    Case("forum-decisions-update", "patch", lambda w, s: url(w, s, f"decisions/{fw(w, s).decision.pk}/"),
         editor_writes(200), data=lambda w, s: {"text": "Gemensam rutin för kallelser inom 3 veckor"},
         headers=if_match("decision")),
    Case("forum-measures-list", "get", lambda w, s: url(w, s, "measures/"), member_reads(200)),
    Case("forum-measures-create", "post", lambda w, s: url(w, s, "measures/"), editor_writes(201),
         data=lambda w, s: {"decision": fw(w, s).decision.pk, "title": "Utbilda handläggarna",
                            "owner_organisation": fw(w, s).owner.pk, "due_on": "2030-06-30"}),
    Case("forum-measures-detail", "get", lambda w, s: url(w, s, f"measures/{fw(w, s).measure.pk}/"),
         member_reads(200)),
    Case("forum-measures-update", "patch", lambda w, s: url(w, s, f"measures/{fw(w, s).measure.pk}/"),
         editor_writes(200), data=lambda w, s: {"status": "in_progress"}, headers=if_match("measure")),
    Case("forum-measures-before-after", "get",
         lambda w, s: url(w, s, f"measures/{fw(w, s).measure.pk}/before-after/"), member_reads(200)),
]
