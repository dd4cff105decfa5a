"""Permission-matrix rows for the data-protection endpoints (gallring preview, registerutdrag, radering);
tests/api/test_permission_matrix.py appends them (`CASES += DATA_PROTECTION_CASES`).

Only org_admins may use them (other roles 403). Scopes: "own" is a person organisation A holds (the matrix
plan's person for the extract; a person A registered without a plan for erasure, which then succeeds);
"other" is a person only organisation B holds: 404 for A's admin, as if the person did not exist. The person is
named in the body, never in the URL.

`Case` mirrors the dataclass of test_permission_matrix.py (see matrix_forums.py for why).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stdnum import luhn

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


def _number(i: int) -> str:
    body = f"640512{i:03d}"
    return f"{body[:6]}-{body[6:]}{luhn.calc_check_digit(body)}"


def person_of(w, scope: str, *, with_plan: bool):
    """The identifier of a person held by organisation A ("own") or only by organisation B ("other")."""
    from sip import services
    from tests.conftest import make_plan

    if scope == "own" and with_plan:
        return make_plan(w).person.identifier
    key = f"_dp_person_{scope}_{with_plan}"
    if getattr(w, key, None) is None:
        users = w.users_a if scope == "own" else w.users_b
        number = _number(1 if scope == "own" else 2)
        services.find_or_register_person(users[Role.SOCIALSEKRETERARE], identifier=number, first_name="Matris",
                                         last_name="Person")
        setattr(w, key, number)
    return getattr(w, key)


def admin_only(ok):
    def expect(role, scope):
        if role != Role.ORG_ADMIN:
            return 403
        return ok if scope == "own" else 404
    return expect


DATA_PROTECTION_CASES = [
    Case("retention-preview", "get", lambda w, s: "/api/v1/retention/preview/",
         lambda r, s: 200 if r == Role.ORG_ADMIN else 403, unscoped=True),
    Case("persons-registerutdrag", "post", lambda w, s: "/api/v1/persons/registerutdrag/", admin_only(200),
         data=lambda w, s: {"personnummer": person_of(w, s, with_plan=True), "format": "json"}),
    Case("persons-erase", "post", lambda w, s: "/api/v1/persons/erase/", admin_only(200),
         data=lambda w, s: {"personnummer": person_of(w, s, with_plan=False)}),
    Case("persons-erase-blocked", "post", lambda w, s: "/api/v1/persons/erase/", admin_only(409),
         data=lambda w, s: {"personnummer": person_of(w, s, with_plan=True)}),
]
