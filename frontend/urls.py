from django.contrib.auth import views as auth_views
from django.urls import include, path

from frontend import views
from frontend.views import auth, create, lists, parts, plan

app_name = "frontend"

# Ids in URLs are fine; personal data (personnummer, names) never goes in a URL.
urlpatterns = [
    path("", views.home, name="home"),
    path("sip/", lists.sip_list, name="sip_list"),
    path("sip/ny/", create.new, name="sip_new"),
    path("sip/ny/plan/", create.new_plan, name="sip_new_plan"),
    path("sip/<int:pk>/", plan.detail, name="sip_detail"),
    path("sip/<int:pk>/andra/", plan.update, name="sip_update"),
    path("sip/<int:pk>/status/", plan.transition, name="sip_transition"),
    path("sip/<int:pk>/historik/", plan.history, name="sip_history"),
    path("sip/<int:pk>/narvaro/", plan.presence_fragment, name="sip_presence"),
    path("sip/<int:pk>/utskrift/", plan.print_view, name="sip_print"),
    path("sip/<int:pk>/utskrift.pdf", plan.print_pdf, name="sip_pdf"),
    path("sip/<int:pk>/mal/", parts.goal_create, name="goal_create"),
    path("sip/<int:pk>/mal/<int:goal_pk>/", parts.goal_edit, name="goal_edit"),
    path("sip/<int:pk>/mal/<int:goal_pk>/ta-bort/", parts.goal_delete, name="goal_delete"),
    path("sip/<int:pk>/insatser/", parts.action_create, name="action_create"),
    path("sip/<int:pk>/insatser/<int:action_pk>/", parts.action_edit, name="action_edit"),
    path("sip/<int:pk>/insatser/<int:action_pk>/ta-bort/", parts.action_delete, name="action_delete"),
    path("sip/<int:pk>/moten/", parts.meeting_create, name="meeting_create"),
    path("sip/<int:pk>/moten/<int:meeting_pk>/genomfort/", parts.meeting_hold, name="meeting_hold"),
    path("sip/<int:pk>/moten/<int:meeting_pk>/stall-in/", parts.meeting_cancel, name="meeting_cancel"),
    path("sip/<int:pk>/moten/<int:meeting_pk>/kalender.ics", plan.meeting_ics, name="meeting_ics"),
    path("sip/<int:pk>/enheter/", parts.unit_add, name="unit_add"),
    path("sip/<int:pk>/enheter/<int:participation_pk>/ta-bort/", parts.unit_remove, name="unit_remove"),
    path("sip/<int:pk>/samtycken/", parts.consent_create, name="consent_create"),
    path("sip/<int:pk>/samtycken/<int:consent_pk>/aterkalla/", parts.consent_withdraw, name="consent_withdraw"),
    path("", include("frontend.forum_report_urls")),
    path("dataskydd/", include("frontend.dataskydd_urls")),
]

# Login and logout keep Django's own names ("login", "logout") outside the namespace.
auth_urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),  # ends an OpenID provider session too
]
