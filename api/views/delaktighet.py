"""Delaktighet API: the public answer endpoint (token only, no account), the plan's invitations for its
staff, templates, rutinkollen. Thin: rules live in sip.delaktighet."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from api.serializers.delaktighet import (
    InvitationSerializer,
    PaperAnswerSerializer,
    PublicAnswerSerializer,
    PublicQuestionnaireSerializer,
    ReportQuerySerializer,
    ResponseSerializer,
    RoutineCheckInSerializer,
    RoutineCheckSerializer,
    RoutineTrendQuerySerializer,
    RoutineTrendSerializer,
    TemplateVersionSerializer,
)
from api.views.base import GatedReadOnlyViewSet
from organisations import access
from organisations.models import Unit
from sip.delaktighet import queries, services

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PublicQuestionnaireView(APIView):
    """The questionnaire behind an answer link. No account: the token is the key. Rate limited."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "public"

    @extend_schema(responses=PublicQuestionnaireSerializer, tags=["delaktighet"])
    def get(self, request, token):
        invitation = services.resolve(token)
        version = invitation.version
        return Response(PublicQuestionnaireSerializer(
            {"title": version.title, "intro": version.intro, "items": version.items.order_by("order")}).data)

    @extend_schema(request=PublicAnswerSerializer, responses={201: None, 204: None}, tags=["delaktighet"])
    def post(self, request, token):
        serializer = PublicAnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["decline"]:
            services.decline(token)
            return Response(status=status.HTTP_204_NO_CONTENT)
        services.submit(token, data["answers"], share_with_staff=data["share_with_staff"])
        return Response({"detail": _("Tack för dina svar!")}, status=status.HTTP_201_CREATED)


class InvitationViewSet(viewsets.GenericViewSet, mixins.ListModelMixin):
    """Invitations sent after the plan's meetings and whether they were answered (not the answers)."""

    serializer_class = InvitationSerializer
    pagination_class = None
    filter_backends = []
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return services.Invitation.objects.none()
        return services.invitations_of(self.request.user, self.kwargs["sip_pk"]).select_related("response")

    @extend_schema(request=PaperAnswerSerializer, responses={201: None})
    @action(detail=True, methods=["post"], url_path="paper-answer")
    def paper_answer(self, request, sip_pk=None, pk=None):
        """Register a paper questionnaire on the person's behalf (marked as such)."""
        serializer = PaperAnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.register_paper_answer(request.user, sip_pk, pk, serializer.validated_data["answers"],
                                       share_with_staff=serializer.validated_data["share_with_staff"])
        return Response(status=status.HTTP_201_CREATED)

    @extend_schema(responses=ResponseSerializer)
    @action(detail=True, methods=["get"])
    def answers(self, request, sip_pk=None, pk=None):
        """The person's own answers — only when they chose to share them with the staff of the plan."""
        return Response(ResponseSerializer(services.individual_answers(request.user, sip_pk, pk)).data)


class TemplateViewSet(GatedReadOnlyViewSet):
    """Published questionnaire versions (delaktighet and rutinkollen)."""

    serializer_class = TemplateVersionSerializer
    pagination_class = None
    filter_backends = []

    def gate(self):
        return queries.published_versions()

    @extend_schema(responses={(200, "application/fhir+json"): OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def fhir(self, request, pk=None):
        """The version as an HL7 FHIR R4 Questionnaire."""
        from sip.delaktighet.fhir import questionnaire

        return Response(questionnaire(self.get_object()), content_type="application/fhir+json")


class RoutineCheckViewSet(GatedReadOnlyViewSet, mixins.CreateModelMixin):
    """Rutinkollen: the units' self-assessment of their SIP routines, within the caller's organisations."""

    serializer_class = RoutineCheckSerializer
    ordering_fields = ["period_end", "id"]
    filterset_fields = ["unit"]

    def gate(self):
        return queries.routine_checks_for(self.request.user)

    @extend_schema(parameters=[OpenApiParameter("unit", int), OpenApiParameter("organisation", int)],
                   responses=RoutineTrendSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)
    def trend(self, request):
        """Share of 'ja' per check over time, per unit (optionally one unit or one organisation)."""
        serializer = RoutineTrendQuerySerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        rows = queries.routine_trend(request.user, **serializer.validated_data)
        return Response(RoutineTrendSerializer(rows, many=True).data)

    @extend_schema(request=RoutineCheckInSerializer, responses={201: RoutineCheckSerializer})
    def create(self, request, *args, **kwargs):
        serializer = RoutineCheckInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        unit = access.get_visible(access.visible_units(request.user, Unit.objects.all()), data.pop("unit"))
        check = services.record_routine_check(request.user, unit=unit, **data)
        return Response(RoutineCheckSerializer(self.gate().get(pk=check.pk)).data, status=status.HTTP_201_CREATED)




class ParticipationReportView(APIView):
    """Delaktighet results: invitations, answers, response rate, per item mean, distribution and share ≥ 4,
    and the share of respondents whose own mean is ≥ 4 — split by gender and/or age band. Every cell built
    from fewer answers than the configured minimum is shown as "<5" (with complementary suppression),
    in JSON, CSV and XLSX alike. Free-text answers never appear."""

    @extend_schema(
        parameters=[ReportQuerySerializer],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "text/csv"): OpenApiTypes.STR,
                   (200, XLSX): OpenApiTypes.BINARY},
        tags=["reports"])
    def get(self, request):
        from django.http import HttpResponse

        from sip.delaktighet import reports

        params = request.query_params.copy()
        params.pop("page", None)
        serializer = ReportQuerySerializer(data={**params.dict(), "group_by": params.getlist("group_by")})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        output = data.pop("output")
        data["group_by"] = tuple(sorted(data.get("group_by") or ()))
        report = reports.participation_report(request.user, **data)
        if output == "csv":
            response = HttpResponse(reports.to_csv(report), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="delaktighet.csv"'
            return response
        if output == "xlsx":
            response = HttpResponse(reports.to_xlsx(report), content_type=XLSX)
            response["Content-Disposition"] = 'attachment; filename="delaktighet.xlsx"'
            return response
        return Response(report)

