from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from api.health import healthz, readyz
from frontend.urls import auth_urlpatterns

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("api/v1/", include("api.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    *auth_urlpatterns,
    path("", include("frontend.delaktighet_urls")),
    path("", include("frontend.avvikelser_urls")),
    path("forum/", include("frontend.forum_urls")),
    path("", include("frontend.urls")),
]
if settings.OIDC_ENABLED:
    urlpatterns.insert(0, path("oidc/", include("mozilla_django_oidc.urls")))

handler404 = "api.problems.handler404"
handler500 = "api.problems.handler500"
