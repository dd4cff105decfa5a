from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication as KnoxTokenAuthentication


class TokenAuthentication(KnoxTokenAuthentication):
    """`Authorization: Token <token>`; tokens are stored hashed and expire (django-rest-knox).

    One query per request: knox's own clean-up loads every token of the user on every request (a second query,
    growing with the user's tokens); here only the presented token's expiry is checked (an expired one is
    deleted and refused as before) and the other expired tokens are purged by the periodic task
    `organisations.tasks.purge_expired_tokens`."""

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
