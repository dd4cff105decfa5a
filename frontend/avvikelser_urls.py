"""Samverkansavvikelse pages. Ids in URLs are fine; the free text being checked travels only in POST bodies."""

from django.urls import path

from frontend import avvikelser_views as views

app_name = "avvikelser"

urlpatterns = [
    path("avvikelser/", views.report_list, name="list"),
    path("avvikelser/att-besvara/", views.inbox, name="inbox"),
    path("avvikelser/ny/", views.new, name="new"),
    path("avvikelser/granska/", views.check, name="check"),
    path("avvikelser/maskera/", views.mask, name="mask"),
    path("avvikelser/<int:pk>/", views.detail, name="detail"),
    path("avvikelser/<int:pk>/andra/", views.edit, name="edit"),
    path("avvikelser/<int:pk>/status/", views.transition, name="transition"),
    path("avvikelser/<int:pk>/kommentarer/", views.comment, name="comment"),
]
