"""OpenID Connect login (the region's SITHS/BankID identity provider), switched on by OIDC_ENABLED.

Only existing staff with an active membership may sign in this way: the provider proves who someone is,
the organisations decide what they may do. Nobody is created on first login.
"""

from django.conf import settings
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from organisations import access
from organisations.models import User


class MembershipOIDCBackend(OIDCAuthenticationBackend):
    def filter_users_by_claims(self, claims):
        username = claims.get(settings.OIDC_USERNAME_CLAIM)
        if not username:
            return User.objects.none()
        return User.objects.filter(username=username, is_active=True)

    def create_user(self, claims):
        return None

    def get_or_create_user(self, access_token, id_token, payload):
        user = super().get_or_create_user(access_token, id_token, payload)
        if user is None or not access.is_staff_member(user):
            return None
        return user
