"""The forum compilation ("Sammanställning av samverkansavvikelser"): the request and the resource with its
status, progress and download links (the files themselves are separate responses)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers.base import StrictModelSerializer, StrictSerializer
from avvikelser import compilation as compilations
from avvikelser.models import Compilation, CompilationGranularity
from avvikelser.patterns import GRANULARITIES


class CompilationRequestSerializer(StrictSerializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    granularity = serializers.ChoiceField(choices=GRANULARITIES, default=CompilationGranularity.MONTH)

    def validate(self, attrs):
        if attrs["period_end"] < attrs["period_start"]:
            raise serializers.ValidationError({"period_end": [_("Periodens slut ligger före dess början.")]})
        return attrs


class CompilationSerializer(StrictModelSerializer):
    granularity = serializers.ChoiceField(choices=GRANULARITIES, read_only=True)  # the pattern view's enum
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    granularity_display = serializers.CharField(source="get_granularity_display", read_only=True)
    step_display = serializers.SerializerMethodField()
    error_display = serializers.SerializerMethodField()
    ready = serializers.BooleanField(read_only=True)
    pdf_url = serializers.SerializerMethodField()
    xlsx_url = serializers.SerializerMethodField()

    class Meta:
        model = Compilation
        fields = ["id", "forum", "period_start", "period_end", "granularity", "granularity_display", "status",
                  "status_display", "progress", "step", "step_display", "error", "error_display", "ready", "total",
                  "pdf_url", "xlsx_url", "created_at", "started_at", "finished_at"]
        read_only_fields = fields

    def get_step_display(self, compilation) -> str:
        return compilations.step_label(compilation.step)

    def get_error_display(self, compilation) -> str:
        return compilations.error_label(compilation.error)

    def _url(self, compilation, kind) -> str | None:
        if not compilation.ready:
            return None
        path = reverse(f"api:forum-compilation-{kind}", kwargs={"forum_pk": compilation.forum_id,
                                                               "pk": compilation.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_pdf_url(self, compilation) -> str | None:
        return self._url(compilation, "pdf")

    def get_xlsx_url(self, compilation) -> str | None:
        return self._url(compilation, "xlsx")
