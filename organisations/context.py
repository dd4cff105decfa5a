"""The request context: who acts, from which unit, in which request — read by the audit log.

Services take the acting user explicitly; this context only adds what a service cannot know
(request id, client address, the unit the user chose to act from).
"""

import contextvars
import uuid
from dataclasses import dataclass

ACTING_UNIT_HEADER = "HTTP_X_SAMVERKAN_UNIT"
ACTING_UNIT_SESSION_KEY = "acting_unit_id"


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    ip_address: str | None
    acting_unit_id: int | None


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("samverkan_request", default=None)


def current() -> RequestContext | None:
    return _current.get()


def _acting_unit_id(request) -> int | None:
    raw = request.META.get(ACTING_UNIT_HEADER)
    if raw is None and hasattr(request, "session"):
        raw = request.session.get(ACTING_UNIT_SESSION_KEY)
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.META.get("HTTP_X_REQUEST_ID") or uuid.uuid4().hex
        context = RequestContext(
            request_id=request_id[:64],
            ip_address=request.META.get("REMOTE_ADDR") or None,
            acting_unit_id=_acting_unit_id(request),
        )
        token = _current.set(context)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = context.request_id
        return response
