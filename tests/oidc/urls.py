"""config.urls as it is with OIDC_ENABLED (which adds the oidc/ routes at import time)."""

from django.urls import include, path

from config.urls import handler404, handler500
from config.urls import urlpatterns as site_urlpatterns

urlpatterns = [path("oidc/", include("mozilla_django_oidc.urls")), *site_urlpatterns]

__all__ = ["handler404", "handler500", "urlpatterns"]
