"""Security glue that is neither a domain rule nor a page: extra response headers and the login lockout answer.

The lockout itself is django-axes (settings AXES_*): after AXES_FAILURE_LIMIT failed logins for one username
from one IP address, that pair is locked for AXES_COOLOFF_TIME, on the login form and on the API token endpoint.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.utils.translation import gettext as _

PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope", "magnetometer",
    "microphone", "midi", "payment", "publickey-credentials-get", "usb", "xr-spatial-tracking",
))


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set: Permissions-Policy and Cross-Origin-Resource-Policy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


def _cool_off_minutes() -> int:
    return max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))


def lockout_response(request, original_response=None, credentials=None):
    """429 while a username and IP address are locked: problem+json for the API, the login form otherwise.

    Says neither whether the account exists nor whether the last password was right.
    """
    minutes = _cool_off_minutes()
    message = _("För många misslyckade inloggningar. Försök igen om %(minutes)d minuter.") % {"minutes": minutes}
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if request.path.startswith("/api/"):
        from api.problems import problem_response

        return problem_response(429, message, code="locked_out", instance=request.path,
                                headers={"Retry-After": retry_after})
    form = AuthenticationForm(request, data=None, initial={"username": (credentials or {}).get("username", "")})
    response = render(request, "registration/login.html", {"form": form, "locked_out_message": message,
                                                           "next": request.POST.get("next", "")}, status=429)
    response["Retry-After"] = retry_after
    return response
