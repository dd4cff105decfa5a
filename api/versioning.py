"""ETag / If-Match for versioned plan objects: 428 without If-Match, 412 (with the current state) when stale."""

import re

from organisations.errors import PreconditionRequired

_ETAG = re.compile(r'^(?:W/)?"(\d+)"$')


def expected_version(request) -> int:
    raw = (request.headers.get("If-Match") or "").strip()
    if not raw:
        raise PreconditionRequired
    match = _ETAG.match(raw)
    if not match:
        raise PreconditionRequired(code="invalid_if_match")
    return int(match.group(1))


def etag(obj) -> str:
    return f'"{obj.version}"'


def with_etag(response, obj):
    response["ETag"] = etag(obj)
    return response
