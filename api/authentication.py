import binascii
from hmac import compare_digest

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS, knox_settings
from rest_framework import exceptions

from organisations.prepared import Prepared


def _tokens_by_key(key: str):
    return AuthToken.objects.filter(token_key=key).select_related("user")


# Every API request looks its token up: compiled once (organisations/prepared.py).
_tokens = Prepared(AuthToken, _tokens_by_key)


class TokenAuthentication(KnoxTokenAuthentication):
    """`Authorization: Token <token>`; tokens are stored hashed and expire (django-rest-knox).

    One query per request: knox's own clean-up loads every token of the user on every request (a second query,
    growing with the user's tokens); here only the presented token's expiry is checked (an expired one is
    deleted and refused as before) and the other expired tokens are purged by the periodic task
    `organisations.tasks.purge_expired_tokens`."""

    def authenticate_credentials(self, token):
        """knox's own check (each token with the key: expired ones deleted, the digest compared in constant time),
        with the lookup prepared."""
        msg = _("Invalid token.")
        token = token.decode("utf-8")
        for auth_token in _tokens(token[:CONSTANTS.TOKEN_KEY_LENGTH]):
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(token)
            except (TypeError, binascii.Error):
                raise exceptions.AuthenticationFailed(msg) from None
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(msg)

    def _cleanup_token(self, auth_token) -> bool:
        from django.utils import timezone
        from knox.signals import token_expired

        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Token <token>` from POST /api/v1/auth/token/"}
