"""OpenID Connect login (the region's SITHS/BankID identity provider), switched on by OIDC_ENABLED.

Only existing staff with an active membership may sign in this way: the provider proves who someone is,
the organisations decide what they may do. Nobody is created on first login.

mozilla-django-oidc checks the id_token's signature (against the provider's JWKS), algorithm, nonce and (through
PyJWT) expiry; this backend adds what it leaves out, issuer, audience and a required expiry, and turns every
refusal into SuspiciousOperation (a 400), never a 500. Tested against a real provider in tests/oidc/.
"""

import time
from urllib.parse import urlencode

import jwt
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from organisations import access
from organisations.models import User

CLOCK_SKEW_SECONDS = 60


class MembershipOIDCBackend(OIDCAuthenticationBackend):
    def filter_users_by_claims(self, claims):
        username = claims.get(settings.OIDC_USERNAME_CLAIM)
        if not username:
            return User.objects.none()
        return User.objects.filter(username=username, is_active=True)

    def create_user(self, claims):
        return None

    def verify_token(self, token, **kwargs):
        try:
            payload = super().verify_token(token, **kwargs)
        except jwt.PyJWTError as exc:
            # Expired, malformed, wrong key type: a refused login (400), not a server error.
            raise SuspiciousOperation(f"id_token refused: {type(exc).__name__}") from None
        now = time.time()
        issuer = getattr(settings, "OIDC_OP_ISSUER", "")
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if issuer and payload.get("iss") != issuer:
            raise SuspiciousOperation("id_token issuer mismatch")
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("id_token audience mismatch")
        if not isinstance(payload.get("exp"), int | float) or payload["exp"] < now - CLOCK_SKEW_SECONDS:
            raise SuspiciousOperation("id_token expired")
        if isinstance(payload.get("iat"), int | float) and payload["iat"] > now + CLOCK_SKEW_SECONDS:
            raise SuspiciousOperation("id_token issued in the future")
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        user = super().get_or_create_user(access_token, id_token, payload)
        if user is None or not access.is_staff_member(user):
            request = getattr(self, "request", None)
            if request is not None and hasattr(request, "_messages"):
                messages.error(request, _("Du har inget aktivt uppdrag i Samverkan och kan inte logga in. "
                                          "Kontakta administratören i din organisation."))
            return None
        return user


def provider_logout_url(after_logout: str) -> str:
    """The provider's end-session URL (RP-initiated logout), back to `after_logout` afterwards. The client is named
    by `client_id`, not by `id_token_hint`: the id_token names the person (a BankID token's subject is the
    personnummer) and a URL ends up in logs and browser histories. Without the hint the provider may ask the user
    to confirm the logout. (A POST would keep the hint out of the URL, but a cross-site POST carries no SameSite=Lax
    cookie, so most providers would not find the session to end.)"""
    query = urlencode({"client_id": settings.OIDC_RP_CLIENT_ID, "post_logout_redirect_uri": after_logout})
    return f"{settings.OIDC_OP_LOGOUT_ENDPOINT}?{query}"
