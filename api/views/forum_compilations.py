"""The forum compilation over HTTP: /forums/{forum_pk}/compilations/ ("Sammanställning av samverkansavvikelser").

POST queues a compilation for a period (processledare and ordförande; 403 for a ledamot) and answers 202 with the
resource; a Celery task builds the PDF and XLSX and moves `progress` to 100. GET lists and shows compilations with
status, progress, step and — when ready — the download links `pdf/` and `xlsx/` (409 problem+json until then).
Everyone outside the forum gets 404 for all of it (the forum gate in ForumPartViewSet)."""

import json

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response

from api.renderers import JSONRenderer
from api.serializers.forum_compilations import CompilationRequestSerializer, CompilationSerializer
from api.views.forum_work import ForumPartViewSet
from avvikelser import compilation as compilations


class _FileRenderer(BaseRenderer):
    """Lets a client ask for the file's own type (Accept: application/pdf); errors still come out as JSON."""

    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return json.dumps(data, ensure_ascii=False).encode()


class PdfRenderer(_FileRenderer):
    media_type, format = "application/pdf", "pdf"


class XlsxRenderer(_FileRenderer):
    media_type, format = compilations.FILES["xlsx"][0], "xlsx"


NOT_READY = OpenApiResponse(description="The compilation is not ready yet (problem+json).")


class CompilationViewSet(ForumPartViewSet):
    """Sammanställningar of the forum's deviations for a period, as PDF and XLSX, built in the background."""

    serializer_class = CompilationSerializer
    http_method_names = ["get", "post", "head", "options"]

    def parts(self):
        return compilations.compilations_of(self.forum())

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.get_object()).data)  # not versioned: no ETag

    @extend_schema(request=CompilationRequestSerializer, responses={202: CompilationSerializer})
    def create(self, request, *args, **kwargs):
        """Queue a compilation of the period (widened to whole weeks, months or quarters). Answers 202 with the
        resource; poll it until `status` is `done` (or `failed`). An identical request while one is still being
        built returns that one."""
        query = CompilationRequestSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        compilation = compilations.request_compilation(request.user, self.forum().pk, **query.validated_data)
        compilation = self.parts().get(pk=compilation.pk)
        return Response(self.get_serializer(compilation).data, status=status.HTTP_202_ACCEPTED)

    def _file(self, request, kind):
        content, content_type, name = compilations.file_of(request.user, self.forum().pk, self.kwargs["pk"], kind)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "private, no-store"
        return response

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY, 409: NOT_READY})
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PdfRenderer])
    def pdf(self, request, forum_pk=None, pk=None):
        """The compilation as PDF (409 while it is not ready)."""
        return self._file(request, "pdf")

    @extend_schema(responses={(200, compilations.FILES["xlsx"][0]): OpenApiTypes.BINARY, 409: NOT_READY})
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, XlsxRenderer])
    def xlsx(self, request, forum_pk=None, pk=None):
        """The compilation as an Excel workbook, one sheet per section (409 while it is not ready)."""
        return self._file(request, "xlsx")
