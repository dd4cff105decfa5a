"""Schema fuzzing: Schemathesis reads the app's own OpenAPI schema (/api/v1/schema/) and sends generated requests,
valid and invalid, to every operation — in-process through the WSGI application, as one of several roles with a
knox token (or anonymously), against a small seeded world so path ids usually name existing rows.

Checked on every response: no 5xx; the status code, content type, headers and body are the ones the schema
documents; every 4xx is application/problem+json with type, title and status. Each request runs inside a
savepoint that is rolled back, so every example starts from the same world.

Bounded by FUZZ_EXAMPLES per operation (env SAMVERKAN_FUZZ_EXAMPLES, default 6); the number of requests sent is
printed at the end of the session as "requests fuzzed".
"""

from __future__ import annotations

import os
import re

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security.conftest import FIGURES, seed_fuzz_world

FUZZ_EXAMPLES = int(os.environ.get("SAMVERKAN_FUZZ_EXAMPLES", "6"))
# CI sends the same requests every run; set SAMVERKAN_SECURITY_RANDOM=1 locally to explore new ones.
DERANDOMIZE = not os.environ.get("SAMVERKAN_SECURITY_RANDOM")
PROBLEM = "application/problem+json"


class ProblemDetailsMissing(Failure):
    """A 4xx answered with something else than RFC 9457 problem details."""

    def __init__(self, *, operation: str, message: str) -> None:
        self.operation = operation
        self.title = "Client error without application/problem+json"
        self.message = message
        self.code = "problem_details"
        self.case_id = None
        self.severity = None

    @property
    def _unique_key(self):
        return self.message


def client_errors_are_problem_details(ctx, response, case):
    """Every 4xx is application/problem+json with the RFC 9457 members type, title and status."""
    if not 400 <= response.status_code < 500:
        return None
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if not content_type.startswith(PROBLEM):
        raise ProblemDetailsMissing(operation=case.operation.label,
                                    message=f"{response.status_code} answered with {content_type!r}")
    body = response.json()
    missing = {"type", "title", "status"} - set(body)
    if missing or body.get("status") != response.status_code:
        raise ProblemDetailsMissing(operation=case.operation.label,
                                    message=f"{response.status_code} problem body lacks {sorted(missing)} "
                                            f"or has status {body.get('status')}")
    return None


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, client_errors_are_problem_details]


# --- real rows behind the path parameters -------------------------------------------------------------------------

def _pools():
    """Collection path (the literal segments before each parameter, joined by "/") → tuples of existing ids, one
    per path parameter, parents first."""
    from avvikelser.models import AgendaItem, Category, Decision, Deviation, Forum, ForumMeeting, Measure
    from organisations.models import AuditEntry, Membership, Organisation, Unit, User
    from sip.delaktighet.models import Invitation, RoutineCheck, TemplateVersion
    from sip.models import Action, Consent, Goal, Meeting, Person, Sip, SipUnit

    def ids(model):
        return [(pk,) for pk in model.objects.order_by("pk").values_list("pk", flat=True)]

    def child(model, *parents):
        return [tuple(row) for row in model.objects.order_by("pk").values_list(*parents, "pk")]

    return {
        "organisations": ids(Organisation), "units": ids(Unit), "memberships": ids(Membership), "users": ids(User),
        "audit": ids(AuditEntry), "persons": ids(Person), "sips": ids(Sip),
        "sips/goals": child(Goal, "sip_id"), "sips/actions": child(Action, "sip_id"),
        "sips/meetings": child(Meeting, "sip_id"), "sips/consents": child(Consent, "sip_id"),
        "sips/units": child(SipUnit, "sip_id"), "sips/invitations": child(Invitation, "sip_id"),
        "avvikelser": ids(Deviation), "avvikelse-categories": ids(Category),
        "delaktighet/templates": ids(TemplateVersion), "routine-checks": ids(RoutineCheck),
        "forums": ids(Forum), "forums/meetings": child(ForumMeeting, "forum_id"),
        "forums/meetings/items": child(AgendaItem, "meeting__forum_id", "meeting_id"),
        "forums/decisions": child(Decision, "forum_id"), "forums/measures": child(Measure, "decision__forum_id"),
    }


def _versions():
    """Collection path → {id: version} for the objects written with If-Match."""
    from avvikelser.models import Deviation
    from sip.models import Action, Goal, Meeting, Person, Sip

    models = {"persons": Person, "sips": Sip, "sips/goals": Goal, "sips/actions": Action, "sips/meetings": Meeting,
              "avvikelser": Deviation}
    return {key: dict(model.objects.values_list("pk", "version")) for key, model in models.items()}


PARAM = re.compile(r"\{(\w+)\}")


def collection_of(path: str) -> tuple[str, list[str]]:
    """'/api/v1/sips/{sip_pk}/goals/{id}/hold/' → ('sips/goals', ['sip_pk', 'id'])."""
    segments = [s for s in path.removeprefix("/api/v1/").split("/") if s]
    names, literal = [], []
    for index, segment in enumerate(segments):
        match = PARAM.fullmatch(segment)
        if match:
            names.append(match.group(1))
            literal.append(segments[index - 1])
    return "/".join(literal), names


# --- the schema, the app and who calls --------------------------------------------------------------------------

@pytest.fixture
def fuzz_env(db, world, settings):
    from django.core.cache import cache

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # the Host the WSGI client sends
    cache.clear()  # rate-limit counters of earlier tests (429 is documented, but it would hide the endpoint)
    seeded = seed_fuzz_world(world)
    # The WSGI handler closes "obsolete" connections around each request; inside the test transaction that would
    # close the test's own connection (Django's test client does the same disconnect).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield {"world": seeded, "pools": _pools(), "versions": _versions()}
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def load_schema():
    """The schema as the app serves it, bound to the WSGI application (requests never leave the process)."""
    from config.wsgi import application

    config = SchemathesisConfig.from_dict({"generation": {"database": "none"}})
    return schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application, config=config)


ROLES = ["socialsekreterare", "behandlare", "org_admin", "processledare", "styrgruppsledamot", "samordnare",
         "no_membership", "anonymous"]


def fuzz_operation(operation, env) -> None:
    """FUZZ_EXAMPLES generated requests (schema-valid and schema-breaking) to one operation."""
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases, data=st.data())
    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=DERANDOMIZE, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case, data):
        role = data.draw(st.sampled_from(ROLES), label="role")
        token = env["world"].tokens[role]
        key, names = collection_of(operation.path)
        if names:
            real = ([(raw,) for raw in env["world"].public_tokens] if key == "public/delaktighet"
                    else env["pools"].get(key) or [])
            if real and data.draw(st.integers(0, 9), label="real ids") > 0:
                chosen = data.draw(st.sampled_from(real), label="path ids")
                case.path_parameters = {**(case.path_parameters or {}), **dict(zip(names, chosen, strict=True))}
                versions = env["versions"].get(key, {})
                if (case.headers and "If-Match" in case.headers and chosen[-1] in versions
                        and data.draw(st.booleans(), label="current If-Match")):
                    case.headers["If-Match"] = f'"{versions[chosen[-1]]}"'
        headers = {"Authorization": f"Token {token}"} if token else {}
        with transaction.atomic():
            FIGURES["requests fuzzed"] += 1
            try:
                response = case.call(headers=headers)
                case.validate_response(response, checks=CHECKS, headers=headers)
            finally:
                transaction.set_rollback(True)

    run()


def test_api_conforms_to_its_schema(fuzz_env):
    """Every operation of the schema; the failures of all operations are reported together."""
    schema = load_schema()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50, "the schema lost its operations"
    only = os.environ.get("SAMVERKAN_FUZZ_ONLY")  # a regex over "GET /api/v1/..." labels, for local debugging
    if only:
        operations = [operation for operation in operations if re.search(only, operation.label)]
        assert operations, f"SAMVERKAN_FUZZ_ONLY={only!r} matched no operation"
    failures = []
    for operation in operations:
        try:
            fuzz_operation(operation, fuzz_env)
        except (Exception, BaseExceptionGroup) as exc:  # collected, all reported below
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:2000]}")
    FIGURES["operations fuzzed"] += len(operations)
    assert not failures, f"{len(failures)} operation(s) failed:\n\n" + "\n\n".join(failures)
