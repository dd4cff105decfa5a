"""Logout that also ends the session at the OpenID provider when the user signed in through it."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url

from organisations.oidc import provider_logout_url


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        # Read before Django's logout flushes the session: the user signed in through the provider.
        through_provider = bool(request.session.get("oidc_id_token"))
        response = super().post(request, *args, **kwargs)
        if through_provider and settings.OIDC_ENABLED and settings.OIDC_OP_LOGOUT_ENDPOINT:
            after = request.build_absolute_uri(resolve_url(settings.LOGOUT_REDIRECT_URL))
            return HttpResponseRedirect(provider_logout_url(after))
        return response
