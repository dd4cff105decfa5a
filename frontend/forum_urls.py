"""Forum (styrgrupp) pages, under /forum/. Ids in URLs are fine; the drill-down's filters are ids, dates and
pattern fingerprints — never a name or a person's data."""

from django.urls import path

from frontend import forum_views as views

app_name = "forum"

urlpatterns = [
    path("", views.forum_list, name="list"),
    path("<int:pk>/", views.dashboard, name="dashboard"),
    path("<int:pk>/avvikelser/", views.reports, name="reports"),
    path("<int:pk>/moten/", views.meetings, name="meetings"),
    path("<int:pk>/moten/<int:meeting_pk>/", views.meeting, name="meeting"),
    path("<int:pk>/moten/<int:meeting_pk>/andra/", views.meeting_edit, name="meeting_edit"),
    path("<int:pk>/moten/<int:meeting_pk>/foresla/", views.meeting_propose, name="meeting_propose"),
    path("<int:pk>/moten/<int:meeting_pk>/punkter/<int:item_pk>/andra/", views.item_edit, name="item_edit"),
    path("<int:pk>/moten/<int:meeting_pk>/punkter/<int:item_pk>/ta-bort/", views.item_delete, name="item_delete"),
    path("<int:pk>/moten/<int:meeting_pk>/punkter/<int:item_pk>/flytta/", views.item_move, name="item_move"),
    path("<int:pk>/beslut/", views.decisions, name="decisions"),
    path("<int:pk>/beslut/ny/", views.decision_new, name="decision_new"),
    path("<int:pk>/beslut/<int:decision_pk>/", views.decision, name="decision"),
    path("<int:pk>/beslut/<int:decision_pk>/andra/", views.decision_edit, name="decision_edit"),
    path("<int:pk>/beslut/<int:decision_pk>/atgarder/ny/", views.measure_new, name="measure_new"),
    path("<int:pk>/atgarder/", views.measures, name="measures"),
    path("<int:pk>/atgarder/<int:measure_pk>/andra/", views.measure_edit, name="measure_edit"),
]
