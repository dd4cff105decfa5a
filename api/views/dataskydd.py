"""Data protection: the gallring preview, registerutdrag (art. 15) and radering (art. 17), for org_admins.

The person is named in the request body, never in the URL (URLs reach logs). The domain lives in
organisations/retention.py and sip/person_data.py; these views only translate.
"""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import IsOrgAdmin
from api.serializers.dataskydd import (
    ErasureResultSerializer,
    PersonIdentifierSerializer,
    RegisterutdragRequestSerializer,
    RetentionPreviewSerializer,
)
from organisations import retention
from sip import person_data

PROBLEM = OpenApiResponse(description="application/problem+json")


class RetentionPreviewView(APIView):
    """Gallring, dry run: per retention rule the number of records it would delete or de-identify now.
    Counts only, never personal data; nothing is changed. The job itself runs nightly (Celery beat)."""

    permission_classes = [IsOrgAdmin]

    @extend_schema(responses={200: RetentionPreviewSerializer, 403: PROBLEM}, tags=["dataskydd"])
    def get(self, request):
        return Response({"dry_run": True, "rules": retention.preview()})


class RegisterutdragView(APIView):
    """Registerutdrag (GDPR art. 15): everything the caller's organisations hold about one person, as JSON or
    PDF. Only for org_admins of an organisation that holds the person; audited as an export."""

    permission_classes = [IsOrgAdmin]

    @extend_schema(request=RegisterutdragRequestSerializer,
                   responses={(200, "application/json"): OpenApiTypes.OBJECT,
                              (200, "application/pdf"): OpenApiTypes.BINARY,
                              400: PROBLEM, 403: PROBLEM, 404: PROBLEM},
                   tags=["dataskydd"])
    def post(self, request):
        serializer = RegisterutdragRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        output = serializer.validated_data["format"]
        data = person_data.registerutdrag(request.user, serializer.validated_data["personnummer"],
                                          output_format=output)
        filename = f"registerutdrag-{data['person']['id']}"
        if output == "pdf":
            from frontend.dataskydd_pdf import registerutdrag_pdf

            response = HttpResponse(registerutdrag_pdf(data), content_type="application/pdf")
            response["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
        else:
            response = Response(data)
            response["Content-Disposition"] = f'attachment; filename="{filename}.json"'
        response["Cache-Control"] = "no-store"
        return response


class PersonErasureView(APIView):
    """Radering (GDPR art. 17): delete the person record when no rule keeps it. 409 problem+json naming the
    blocking rules otherwise (an open plan, a plan inside its retention period, another organisation's
    records). The access log stays: its entries keep ids and hold no personal data. Audited."""

    permission_classes = [IsOrgAdmin]

    @extend_schema(request=PersonIdentifierSerializer,
                   responses={200: ErasureResultSerializer, 400: PROBLEM, 403: PROBLEM, 404: PROBLEM,
                              409: PROBLEM},
                   tags=["dataskydd"])
    def post(self, request):
        serializer = PersonIdentifierSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # A blocked erasure is a 409 problem naming its rules (person_data.ErasureBlocked.problem_members).
        return Response(person_data.erase_person(request.user, serializer.validated_data["personnummer"]))
