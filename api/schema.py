"""OpenAPI postprocessing: every operation documents the errors it can answer, as RFC 9457 problem details.

Views declare their success responses; the error answers are the same everywhere (api/problems.py), so they are
added here once instead of on every view: 400, 401, 403, 404, 406, 429 and 503 on every operation, and 409, 412,
413, 415 and 428 on writes. A response a view documents itself is kept; one documented without a body gets the
problem body.
"""

from __future__ import annotations

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string", "description": "urn:samverkan:problem:<code>, or about:blank"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                   "description": "Messages per field (nested fields joined by dots)."},
        "current": {"type": "object", "additionalProperties": True,
                    "description": "412: the object as it is saved now, to merge with."},
    },
    "required": ["type", "title", "status", "detail"],
    "additionalProperties": True,
}

ERRORS_ALWAYS = {
    "400": "Invalid input (messages per field in errors).",
    "401": "Not signed in.",
    "403": "Signed in, but not allowed to do this.",
    "404": "Does not exist, or is outside what the caller may see.",
    "406": "The requested response format is not offered.",
    "429": "Too many requests; retry after Retry-After seconds.",
    "503": "Temporarily unavailable; retry after Retry-After seconds.",
}
ERRORS_ON_WRITE = {
    "409": "Not allowed in the object's current state.",
    "412": "Someone saved in between (stale If-Match); the saved state is in current.",
    "413": "Request body too large.",
    "415": "Unsupported content type.",
    "428": "If-Match is missing.",
}
WRITES = {"post", "put", "patch", "delete"}


def add_problem_responses(result, generator, request, public):
    components = result.setdefault("components", {})
    components.setdefault("schemas", {}).setdefault("Problem", PROBLEM_SCHEMA)
    problem = {"content": {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}}}
    shared = components.setdefault("responses", {})
    for status, description in {**ERRORS_ALWAYS, **ERRORS_ON_WRITE}.items():
        shared[f"Problem{status}"] = {"description": description, **problem}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "head", *WRITES}:
                continue
            responses = operation.setdefault("responses", {})
            errors = {**ERRORS_ALWAYS, **(ERRORS_ON_WRITE if method in WRITES else {})}
            for status, description in errors.items():
                documented = responses.get(status)
                if documented is None:
                    responses[status] = {"$ref": f"#/components/responses/Problem{status}"}
                elif not documented.get("content"):
                    documented.update(problem)
                    documented["description"] = documented.get("description") or description
    return result
