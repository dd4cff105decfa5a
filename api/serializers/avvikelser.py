from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.base import StrictModelSerializer, StrictSerializer
from avvikelser.models import Agreement, Category, Comment, Deviation, DeviationChange, State
from organisations.models import Organisation, Unit


class CategorySerializer(StrictModelSerializer):
    successor_name = serializers.CharField(source="successor.name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Category
        fields = ["id", "key", "name", "description", "successor", "successor_name", "retired_at", "version"]
        read_only_fields = ["id", "successor", "successor_name", "retired_at", "version"]


class CategoryRenameSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)


class CategoryMergeSerializer(StrictSerializer):
    target = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all())


class DeviationSerializer(StrictModelSerializer):
    """The full report, for the reporting unit and the counterpart."""

    reporter_name = serializers.CharField(source="reporter.get_full_name", read_only=True)
    reporting_unit_name = serializers.CharField(source="reporting_unit.name", read_only=True)
    reporting_organisation_name = serializers.CharField(source="reporting_organisation.name", read_only=True)
    counterpart_organisation_name = serializers.CharField(source="counterpart_organisation.name", read_only=True)
    counterpart_unit_name = serializers.CharField(source="counterpart_unit.name", read_only=True,
                                                  default=None, allow_null=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    agreement_name = serializers.CharField(source="agreement.name", read_only=True, default=None, allow_null=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    view = serializers.SerializerMethodField()
    lex_reminder = serializers.SerializerMethodField()

    class Meta:
        model = Deviation
        fields = ["id", "view", "state", "state_display", "reporter", "reporter_name", "reporting_unit",
                  "reporting_unit_name", "reporting_organisation", "reporting_organisation_name",
                  "counterpart_organisation", "counterpart_organisation_name", "counterpart_unit",
                  "counterpart_unit_name", "forum", "occurred_on", "agreement", "agreement_name", "agreement_other",
                  "category", "category_name", "what_happened", "immediate_action", "consequence", "lex_reminder",
                  "suggestion", "sip", "submitted_at", "acknowledge_due_at", "acknowledged_at", "answer_due_at",
                  "answered_at", "analysis", "measures", "closed_at", "escalated_at", "version", "created_at",
                  "updated_at"]
        read_only_fields = ["id", "view", "state", "state_display", "reporter", "reporter_name",
                            "reporting_unit_name", "reporting_organisation", "reporting_organisation_name",
                            "counterpart_organisation_name", "counterpart_unit_name", "forum", "agreement_name",
                            "category_name", "lex_reminder", "submitted_at", "acknowledge_due_at", "acknowledged_at",
                            "answer_due_at", "answered_at", "analysis", "measures", "closed_at", "escalated_at",
                            "version", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        from sip.models import Sip

        for name, model in (("reporting_unit", Unit), ("counterpart_organisation", Organisation),
                            ("counterpart_unit", Unit), ("agreement", Agreement), ("category", Category),
                            ("sip", Sip)):
            fields[name].queryset = model.objects.all()
        return fields

    @extend_schema_field({"type": "string", "enum": ["full"]})
    def get_view(self, deviation) -> str:
        return "full"

    def get_lex_reminder(self, deviation) -> str | None:
        if deviation.consequence == "skada":
            return str(_("Skada har uppstått: en anmälan enligt lex Sarah eller lex Maria kan behövas i din "
                         "organisations eget avvikelsesystem."))
        return None


class DeviationUpdateSerializer(DeviationSerializer):
    class Meta(DeviationSerializer.Meta):
        read_only_fields = [*DeviationSerializer.Meta.read_only_fields, "reporting_unit"]


class PseudonymisedDeviationSerializer(serializers.ModelSerializer):
    """The forum's view: what happened between which organisations — no SIP link, no staff names."""

    reporting_organisation_name = serializers.CharField(source="reporting_organisation.name", read_only=True)
    counterpart_organisation_name = serializers.CharField(source="counterpart_organisation.name", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    agreement_name = serializers.CharField(source="agreement.name", read_only=True, default=None, allow_null=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    view = serializers.SerializerMethodField()

    class Meta:
        model = Deviation
        fields = ["id", "view", "state", "state_display", "reporting_organisation", "reporting_organisation_name",
                  "counterpart_organisation", "counterpart_organisation_name", "forum", "occurred_on", "agreement",
                  "agreement_name", "agreement_other", "category", "category_name", "what_happened",
                  "immediate_action", "consequence", "suggestion", "submitted_at", "acknowledge_due_at",
                  "acknowledged_at", "answer_due_at", "answered_at", "analysis", "measures", "closed_at",
                  "escalated_at"]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "enum": ["pseudonymised"]})
    def get_view(self, deviation) -> str:
        return "pseudonymised"


class DeviationTransitionSerializer(StrictSerializer):
    state = serializers.ChoiceField(choices=State.choices)
    analysis = serializers.CharField(required=False, allow_blank=True)
    measures = serializers.CharField(required=False, allow_blank=True)


class CommentSerializer(StrictModelSerializer):
    author_name = serializers.SerializerMethodField()
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "author_name", "organisation", "organisation_name", "text", "created_at"]
        read_only_fields = ["id", "author_name", "organisation", "organisation_name", "created_at"]

    def get_author_name(self, comment) -> str | None:
        return comment.author.get_full_name() if self.context.get("full_view", True) else None


class DeviationChangeSerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = DeviationChange
        fields = ["id", "at", "actor_name", "action", "field", "old", "new"]
        read_only_fields = fields

    def get_actor_name(self, change) -> str | None:
        if not self.context.get("full_view", True) or change.actor is None:
            return None
        return change.actor.get_full_name()


class DeviationImportSerializer(StrictSerializer):
    """A CSV or XLSX file with one row per report (columns: docs/import-avvikelser.md)."""

    file = serializers.FileField(help_text=_("CSV (komma- eller semikolonavgränsad, UTF-8) eller XLSX."))


class DeviationImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text=_("Antal importerade avvikelser."))
