"""What every SIP view shares: sign-in, domain errors as HTTP answers, and running a service write for a form."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from frontend import merge
from frontend.forms import BaseForm
from organisations.errors import Conflict, DomainError, Forbidden, NotFound, PreconditionFailed, PreconditionRequired


def sip_view(view):
    """Signed-in users only; NotFound is the 404 page, Forbidden a 403 page with the reason."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404 from None
        except Forbidden as exc:
            return render(request, "sip/forbidden.html", {"message": exc.message}, status=403)

    return login_required(wrapper)


def attempt(form: BaseForm, write: Callable[[], object], *, sip=None) -> tuple[int | None, BaseForm, object]:
    """Run `write` (a service call) for a valid form.

    Returns (None, form, result) when it succeeded, else (status, form to show again, None): a
    ValidationError lands on the fields (400), a Conflict above the form (409), a stale version becomes the
    merge view (412) when the form carries a version and `sip` is given.
    """
    try:
        return None, form, write()
    except ValidationError as exc:
        form.add_service_errors(exc)
        return 400, form, None
    except PreconditionFailed as exc:
        if sip is not None and "version" in form.fields and exc.current is not None:
            return 412, merge.prepare(form, exc.current, sip), None
        form.add_error(None, str(exc.message))
        return 412, form, None
    except PreconditionRequired as exc:
        form.add_error(None, str(exc.message))
        return 428, form, None
    except Conflict as exc:
        form.add_error(None, str(exc.message))
        return 409, form, None
    except (NotFound, Forbidden):
        raise
    except DomainError as exc:  # pragma: no cover - a new kind of domain error
        form.add_error(None, str(exc.message) or _("Begäran kunde inte utföras."))
        return exc.status, form, None
