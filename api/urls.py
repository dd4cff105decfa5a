from csp.decorators import csp_update
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from api.problems import api_not_found
from api.views.avvikelser import CategoryViewSet, DeviationViewSet
from api.views.dataskydd import PersonErasureView, RegisterutdragView, RetentionPreviewView
from api.views.delaktighet import (
    InvitationViewSet,
    ParticipationReportView,
    PublicQuestionnaireView,
    RoutineCheckViewSet,
    TemplateViewSet,
)
from api.views.forum_compilations import CompilationViewSet
from api.views.forum_work import AgendaItemViewSet, DecisionViewSet, ForumMeetingViewSet, MeasureViewSet
from api.views.forums import ForumViewSet
from api.views.organisations import (
    AuditEntryViewSet,
    MembershipViewSet,
    MeView,
    OrganisationViewSet,
    TokenView,
    UnitViewSet,
    UserViewSet,
)
from api.views.sip import (
    ActionViewSet,
    ConsentViewSet,
    GoalViewSet,
    MeetingCalendarView,
    MeetingViewSet,
    PersonViewSet,
    SipUnitViewSet,
    SipViewSet,
)

app_name = "api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("units", UnitViewSet, basename="unit")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("users", UserViewSet, basename="user")
router.register("audit", AuditEntryViewSet, basename="audit")
router.register("persons", PersonViewSet, basename="person")
router.register("sips", SipViewSet, basename="sip")
router.register(r"sips/(?P<sip_pk>[0-9]+)/goals", GoalViewSet, basename="sip-goal")
router.register(r"sips/(?P<sip_pk>[0-9]+)/actions", ActionViewSet, basename="sip-action")
router.register(r"sips/(?P<sip_pk>[0-9]+)/meetings", MeetingViewSet, basename="sip-meeting")
router.register(r"sips/(?P<sip_pk>[0-9]+)/consents", ConsentViewSet, basename="sip-consent")
router.register(r"sips/(?P<sip_pk>[0-9]+)/units", SipUnitViewSet, basename="sip-unit")
router.register(r"sips/(?P<sip_pk>[0-9]+)/invitations", InvitationViewSet, basename="sip-invitation")
router.register("delaktighet/templates", TemplateViewSet, basename="delaktighet-template")
router.register("routine-checks", RoutineCheckViewSet, basename="routine-check")
router.register("avvikelser", DeviationViewSet, basename="deviation")
router.register("avvikelse-categories", CategoryViewSet, basename="deviation-category")
router.register("forums", ForumViewSet, basename="forum")
router.register(r"forums/(?P<forum_pk>[0-9]+)/meetings", ForumMeetingViewSet, basename="forum-meeting")
router.register(r"forums/(?P<forum_pk>[0-9]+)/meetings/(?P<meeting_pk>[0-9]+)/items", AgendaItemViewSet,
                basename="forum-meeting-item")
router.register(r"forums/(?P<forum_pk>[0-9]+)/decisions", DecisionViewSet, basename="forum-decision")
router.register(r"forums/(?P<forum_pk>[0-9]+)/measures", MeasureViewSet, basename="forum-measure")
router.register(r"forums/(?P<forum_pk>[0-9]+)/compilations", CompilationViewSet, basename="forum-compilation")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token"),
    path("me/", MeView.as_view(), name="me"),
    path("public/delaktighet/<str:token>/", PublicQuestionnaireView.as_view(), name="public-delaktighet"),
    path("reports/delaktighet/", ParticipationReportView.as_view(), name="report-delaktighet"),
    path("sips/<int:sip_pk>/meetings/<int:pk>/calendar.ics", MeetingCalendarView.as_view(), name="sip-meeting-ics"),
    # Data protection: before the router, whose persons/<pk>/ route would otherwise take these paths.
    path("persons/registerutdrag/", RegisterutdragView.as_view(), name="person-registerutdrag"),
    path("persons/erase/", PersonErasureView.as_view(), name="person-erase"),
    path("retention/preview/", RetentionPreviewView.as_view(), name="retention-preview"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Under the site's Content-Security-Policy: the Swagger init script is a file of its own (split view), and
    # Redoc, which writes its styles into the page at run time, gets inline styles and a blob: worker; scripts
    # stay 'self' on both.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
         name="docs"),
    path("redoc/", csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})(
        SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html")), name="redoc"),
    path("", include(router.urls)),
    re_path(r"^.*$", api_not_found),
]
