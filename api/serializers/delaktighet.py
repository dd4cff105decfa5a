from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers.base import StrictSerializer
from sip.delaktighet.models import Invitation, Item, Response, RoutineCheck, TemplateVersion


class ItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = Item
        fields = ["code", "order", "kind", "text", "low_label", "high_label", "choices"]
        read_only_fields = fields


class TemplateVersionSerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="template.key", read_only=True)
    name = serializers.CharField(source="template.name", read_only=True)
    purpose = serializers.CharField(source="template.purpose", read_only=True)
    items = ItemSerializer(many=True, read_only=True)

    class Meta:
        model = TemplateVersion
        fields = ["id", "key", "name", "purpose", "number", "title", "intro", "published_at", "items"]
        read_only_fields = fields


class PublicQuestionnaireSerializer(serializers.Serializer):
    title = serializers.CharField()
    intro = serializers.CharField()
    items = ItemSerializer(many=True)


class PublicAnswerSerializer(StrictSerializer):
    answers = serializers.DictField(child=serializers.JSONField(), required=False, default=dict,
                                    help_text=_("Frågans kod → svar; 1–6 för skalor, text för fritext. "
                                                "Alla frågor går att hoppa över."))
    share_with_staff = serializers.BooleanField(required=False, default=False)
    decline = serializers.BooleanField(required=False, default=False)


class InvitationSerializer(serializers.ModelSerializer):
    participant_kind = serializers.CharField(source="participant.kind", read_only=True)
    meeting_starts_at = serializers.DateTimeField(source="meeting.starts_at", read_only=True)
    answered = serializers.SerializerMethodField()
    shared = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = ["id", "meeting", "meeting_starts_at", "participant", "participant_kind", "channel", "status",
                  "created_at", "delivered_at", "reminder_sent_at", "expires_at", "closed_at", "answered", "shared"]
        read_only_fields = fields

    def get_answered(self, invitation) -> bool:
        return invitation.status == "answered"

    def get_shared(self, invitation) -> bool:
        response = getattr(invitation, "response", None) if invitation.status == "answered" else None
        return bool(response and response.share_with_staff)


class PaperAnswerSerializer(StrictSerializer):
    answers = serializers.DictField(child=serializers.JSONField())
    share_with_staff = serializers.BooleanField(required=False, default=False)


class AnswerOutSerializer(serializers.Serializer):
    code = serializers.CharField(source="item.code")
    text = serializers.CharField(source="item.text")
    value = serializers.IntegerField(source="value_int", allow_null=True)
    value_text = serializers.CharField()


class ResponseSerializer(serializers.ModelSerializer):
    answers = AnswerOutSerializer(many=True, read_only=True)

    class Meta:
        model = Response
        fields = ["id", "submitted_at", "mode", "answers"]
        read_only_fields = fields


class RoutineAnswerInSerializer(StrictSerializer):
    value = serializers.ChoiceField(choices=["yes", "partly", "no"])
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class RoutineCheckInSerializer(StrictSerializer):
    unit = serializers.IntegerField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    answers = serializers.DictField(child=RoutineAnswerInSerializer())


class RoutineAnswerOutSerializer(serializers.Serializer):
    code = serializers.CharField(source="item.code")
    text = serializers.CharField(source="item.text")
    value = serializers.CharField()
    comment = serializers.CharField()


class RoutineCheckSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    organisation = serializers.IntegerField(source="unit.organisation_id", read_only=True)
    answers = RoutineAnswerOutSerializer(many=True, read_only=True)

    class Meta:
        model = RoutineCheck
        fields = ["id", "unit", "unit_name", "organisation", "version", "period_start", "period_end",
                  "completed_at", "answers"]
        read_only_fields = fields


class ReportQuerySerializer(StrictSerializer):
    organisation = serializers.IntegerField(required=False)
    unit = serializers.IntegerField(required=False)
    period_start = serializers.DateField(required=False)
    period_end = serializers.DateField(required=False)
    version = serializers.IntegerField(required=False)
    group_by = serializers.MultipleChoiceField(choices=["gender", "age_band"], required=False)
    output = serializers.ChoiceField(choices=["json", "csv", "xlsx"], required=False, default="json")


class RoutineTrendQuerySerializer(serializers.Serializer):
    unit = serializers.IntegerField(required=False)
    organisation = serializers.IntegerField(required=False)


class RoutineTrendSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    unit_id = serializers.IntegerField()
    unit__name = serializers.CharField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    total = serializers.IntegerField()
    yes = serializers.IntegerField()
    partly = serializers.IntegerField()
    share_yes = serializers.FloatField(allow_null=True)
