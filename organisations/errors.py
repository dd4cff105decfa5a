"""Domain errors that both faces (API and HTML) translate: 404, 403, 409 and field validation."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status = 400
    default_message = _("Begäran kunde inte utföras.")

    def __init__(self, message=None, *, code: str | None = None):
        self.message = message or self.default_message
        self.code = code or self.__class__.__name__
        super().__init__(str(self.message))

    def problem_members(self) -> dict:
        """Further members of the problem document the API answers with (RFC 9457 extension members): what a
        client needs to act on the error, never personal data."""
        return {}


class NotFound(DomainError):
    """The object does not exist, or the user may not know that it exists: both answer 404."""

    status = 404
    default_message = _("Hittades inte.")


class Forbidden(DomainError):
    """The user may see the object but not do this to it."""

    status = 403
    default_message = _("Du saknar behörighet för detta.")


class Conflict(DomainError):
    """The request clashes with the object's current state (a transition not allowed, a unit in use)."""

    status = 409
    default_message = _("Åtgärden går inte att utföra i objektets nuvarande läge.")


class PreconditionRequired(DomainError):
    """A write to a versioned object came without If-Match."""

    status = 428
    default_message = _("Ange versionen du utgår från (If-Match).")


class PreconditionFailed(DomainError):
    """Someone else saved a newer version; `current` is the object as it is now, to merge with."""

    status = 412
    default_message = _("Någon annan har sparat en nyare version. Jämför och spara igen.")

    def __init__(self, current, message=None):
        self.current = current
        super().__init__(message, code="version_conflict")
