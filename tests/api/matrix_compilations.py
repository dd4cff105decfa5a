"""Permission-matrix rows for the forum compilation: /forums/{forum_pk}/compilations/ (list, create, detail and
the pdf/ and xlsx/ downloads).

The forums of tests/api/matrix_forum_work.py: "own" spans organisations A and B with A's processledare as its
processledare and A's styrgruppsledamot as a ledamot; "other" spans B and a third organisation. An org-A user
acts on one of them (varies="target"):

* the forum's processledare reads, downloads and orders a compilation (202);
* a ledamot reads and downloads (200) and gets 403 when ordering one;
* everyone else — every other role of A, and everyone on the other forum — gets 404.

Appended to tests/api/test_permission_matrix.py with `CASES += COMPILATION_CASES`; route_name() of
matrix_forum_work names the prefix forum-compilations.
"""

from __future__ import annotations

import datetime

from tests.api.matrix_forum_work import editor_writes, fw, member_reads, url
from tests.api.matrix_forums import Case
from tests.conftest import World


def finished(w: World, scope: str):
    """A finished compilation of the scope's forum (tiny stand-in files), made once per world and scope."""
    from avvikelser.models import Compilation, CompilationStatus

    made = w.__dict__.setdefault("_compilations", {})
    if scope not in made:
        made[scope] = Compilation.objects.create(
            forum=fw(w, scope).forum, period_start=datetime.date(2025, 1, 1), period_end=datetime.date(2025, 6, 30),
            status=CompilationStatus.DONE, progress=100, step="done", pdf=b"%PDF-1.4\n%%EOF\n", xlsx=b"PK\x03\x04")
    return made[scope]


def _url(w, s, tail=""):
    return url(w, s, f"compilations/{finished(w, s).pk}/{tail}")


COMPILATION_CASES = [
    Case("forum-compilations-list", "get", lambda w, s: url(w, s, "compilations/"), member_reads(200)),
    Case("forum-compilations-create", "post", lambda w, s: url(w, s, "compilations/"), editor_writes(202),
         data=lambda w, s: {"period_start": "2025-01-01", "period_end": "2025-06-30", "granularity": "quarter"}),
    Case("forum-compilations-detail", "get", lambda w, s: _url(w, s), member_reads(200)),
    Case("forum-compilations-pdf", "get", lambda w, s: _url(w, s, "pdf/"), member_reads(200)),
    Case("forum-compilations-xlsx", "get", lambda w, s: _url(w, s, "xlsx/"), member_reads(200)),
]
