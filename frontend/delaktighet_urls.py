"""Delaktighet pages. The answer link's token is in the path by design (it is the only key a person has);
nothing else that identifies a person goes into a URL."""

from django.urls import path

from frontend import delaktighet_views as views

app_name = "delaktighet"

urlpatterns = [
    path("d/<str:token>/", views.answer, name="answer"),
    path("sip/<int:sip_id>/enkater/", views.invitations, name="invitations"),
    path("sip/<int:sip_id>/enkater/<int:invitation_id>/svar/", views.shared_answers, name="shared_answers"),
    path("sip/<int:sip_id>/enkater/<int:invitation_id>/utskrift/", views.paper_sheet, name="paper_sheet"),
    path("sip/<int:sip_id>/enkater/<int:invitation_id>/pappersvar/", views.paper_answer, name="paper_answer"),
    path("rapporter/delaktighet/", views.report, name="report"),
    path("rapporter/delaktighet/delaktighet.csv", views.report_csv, name="report_csv"),
    path("rapporter/delaktighet/delaktighet.xlsx", views.report_xlsx, name="report_xlsx"),
    path("rutinkollen/", views.routine_list, name="routine_list"),
    path("rutinkollen/ny/", views.routine_new, name="routine_new"),
]
