"""Data-protection pages (frontend namespace), under /dataskydd/. The personnummer travels only in POST bodies."""

from django.urls import path

from frontend import dataskydd_views as views

urlpatterns = [
    path("", views.overview, name="dataskydd"),
    path("registerutdrag/", views.registerutdrag, name="dataskydd_registerutdrag"),
    path("radering/", views.erasure, name="dataskydd_erasure"),
    path("radering/bekrafta/", views.erasure_confirm, name="dataskydd_erasure_confirm"),
]
