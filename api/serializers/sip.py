from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.base import StrictModelSerializer, StrictSerializer
from api.serializers.reading import MappingRepresenter
from organisations.models import Organisation, Unit, User
from sip import deadlines, identifiers, lifecycle
from sip.models import (
    Action,
    Channel,
    ClosureReason,
    Consent,
    Gender,
    Goal,
    IdentifierKind,
    Meeting,
    Participant,
    Person,
    Sip,
    SipChange,
    SipStatus,
    SipUnit,
)

PROTECTED_TEXT = _("Skyddad identitet")


class PersonSerializer(StrictModelSerializer):
    """Protected identity: no address to anyone; the name only to those in one of the person's plans."""

    identifier = serializers.SerializerMethodField()

    class Meta:
        model = Person
        fields = ["id", "identifier_kind", "identifier", "first_name", "last_name", "gender", "birth_year",
                  "protected_identity", "phone", "email", "address", "postal_code", "city", "preferred_channel",
                  "version"]
        read_only_fields = ["id", "identifier_kind", "identifier", "birth_year", "version"]

    def get_identifier(self, person) -> str:
        return identifiers.display(person.identifier_kind, person.identifier)

    def to_representation(self, person):
        data = super().to_representation(person)
        if person.protected_identity:
            for name in ("address", "postal_code", "city"):
                data[name] = ""
            if not getattr(person, "shows_identity", False):
                for name in ("first_name", "last_name", "phone", "email"):
                    data[name] = ""
                data["first_name"] = str(PROTECTED_TEXT)
        return data


class PersonCreateSerializer(StrictSerializer):
    identifier = serializers.CharField(max_length=40,
                                       help_text=_("Personnummer, samordningsnummer eller reservnummer."))
    identifier_kind = serializers.ChoiceField(choices=IdentifierKind.choices, required=False)
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    gender = serializers.ChoiceField(choices=Gender.choices, required=False)
    protected_identity = serializers.BooleanField(required=False)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=10, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    preferred_channel = serializers.ChoiceField(choices=Channel.choices, required=False)


class PersonLookupSerializer(StrictSerializer):
    identifier = serializers.CharField(max_length=40)


class SipUnitSerializer(StrictModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    organisation = serializers.IntegerField(source="unit.organisation_id", read_only=True)
    organisation_name = serializers.CharField(source="unit.organisation.name", read_only=True)
    contact_name = serializers.CharField(source="contact.get_full_name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = SipUnit
        fields = ["id", "unit", "unit_name", "organisation", "organisation_name", "contact", "contact_name"]
        read_only_fields = ["id", "unit_name", "organisation", "organisation_name", "contact_name"]

    def get_fields(self):
        fields = super().get_fields()
        fields["unit"].queryset = Unit.objects.all()
        fields["contact"].queryset = User.objects.all()
        return fields


class ConsentSerializer(StrictModelSerializer):
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    recorded_by_name = serializers.CharField(source="recorded_by.get_full_name", read_only=True)
    active = serializers.SerializerMethodField()

    class Meta:
        model = Consent
        fields = ["id", "organisation", "organisation_name", "given_at", "method", "scope", "valid_until",
                  "withdrawn_at", "recorded_by", "recorded_by_name", "active"]
        read_only_fields = ["id", "organisation_name", "withdrawn_at", "recorded_by", "recorded_by_name", "active"]
        extra_kwargs = {"given_at": {"required": False}}

    def get_fields(self):
        fields = super().get_fields()
        fields["organisation"].queryset = Organisation.objects.all()
        return fields

    def get_active(self, consent) -> bool:
        from django.utils import timezone

        return consent.withdrawn_at is None and (consent.valid_until is None
                                                 or consent.valid_until >= timezone.localdate())


class GoalSerializer(StrictModelSerializer):
    class Meta:
        model = Goal
        fields = ["id", "kind", "horizon", "text", "target_on", "status", "evaluation", "version", "created_at",
                  "updated_at"]
        read_only_fields = ["id", "version", "created_at", "updated_at"]


class ActionSerializer(StrictModelSerializer):
    responsible_organisation_name = serializers.CharField(source="responsible_organisation.name", read_only=True,
                                                          default=None, allow_null=True)
    responsible_unit_name = serializers.CharField(source="responsible_unit.name", read_only=True,
                                                  default=None, allow_null=True)
    responsible_user_name = serializers.CharField(source="responsible_user.get_full_name", read_only=True,
                                                  default=None, allow_null=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Action
        fields = ["id", "goal", "title", "description", "responsible_organisation", "responsible_organisation_name",
                  "responsible_unit", "responsible_unit_name", "responsible_user", "responsible_user_name",
                  "responsible_other", "person_does", "starts_on", "ends_on", "status", "overdue", "version",
                  "created_at", "updated_at"]
        read_only_fields = ["id", "responsible_organisation_name", "responsible_unit_name", "responsible_user_name",
                            "overdue", "version", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        fields["goal"].queryset = Goal.objects.all()
        fields["responsible_organisation"].queryset = Organisation.objects.all()
        fields["responsible_unit"].queryset = Unit.objects.all()
        fields["responsible_user"].queryset = User.objects.all()
        return fields

    def get_overdue(self, action) -> bool:
        return deadlines.action_overdue(action)


class ParticipantSerializer(StrictModelSerializer):
    user_name = serializers.CharField(source="user.get_full_name", read_only=True, default=None, allow_null=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Participant
        fields = ["id", "kind", "user", "user_name", "unit", "unit_name", "name", "organisation_text", "email",
                  "phone", "attended"]
        read_only_fields = ["id", "user_name", "unit_name", "attended"]

    def get_fields(self):
        fields = super().get_fields()
        fields["user"].queryset = User.objects.all()
        fields["unit"].queryset = Unit.objects.all()
        return fields


class MeetingSerializer(StrictModelSerializer):
    participants = ParticipantSerializer(many=True, required=False)

    class Meta:
        model = Meeting
        fields = ["id", "kind", "starts_at", "ends_at", "location", "video_link", "status", "held_at", "minutes",
                  "convened_by", "participants", "version", "created_at", "updated_at"]
        read_only_fields = ["id", "status", "held_at", "convened_by", "version", "created_at", "updated_at"]


class AttendanceSerializer(StrictSerializer):
    participant = serializers.IntegerField()
    attended = serializers.BooleanField()


class HoldMeetingSerializer(StrictSerializer):
    attendance = AttendanceSerializer(many=True)
    minutes = serializers.CharField(required=False, allow_blank=True)


class SipFlagsSerializer(serializers.Serializer):
    call_due_at = serializers.DateTimeField(allow_null=True)
    call_overdue = serializers.BooleanField()
    call_sent_late = serializers.BooleanField()
    follow_up_overdue = serializers.BooleanField()
    has_overdue_action = serializers.BooleanField()
    overdue = serializers.BooleanField()


class SipSerializer(StrictModelSerializer):
    person_name = serializers.CharField(source="person.full_name", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    lead_organisation_name = serializers.CharField(source="lead_organisation.name", read_only=True)
    initiating_unit_name = serializers.CharField(source="initiating_unit.name", read_only=True)
    coordinator_name = serializers.CharField(source="coordinator.get_full_name", read_only=True,
                                             default=None, allow_null=True)
    closure_reason = serializers.ChoiceField(choices=ClosureReason.choices, read_only=True, allow_blank=True)
    flags = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()
    units = serializers.PrimaryKeyRelatedField(many=True, write_only=True, required=False,
                                               queryset=Unit.objects.all(),
                                               help_text=_("Fler enheter som ska vara med i planen."))

    class Meta:
        model = Sip
        fields = ["id", "person", "person_name", "status", "status_display", "allowed_transitions",
                  "lead_organisation", "lead_organisation_name", "initiating_unit", "initiating_unit_name",
                  "coordinator", "coordinator_name", "units", "reason", "what_matters", "own_contribution",
                  "need_identified_on", "discharge_track", "discharge_ready_at", "call_sent_at", "established_on",
                  "follow_up_on", "closed_on", "closure_reason", "closure_note", "flags", "version", "created_at",
                  "updated_at"]
        read_only_fields = ["id", "person_name", "status", "status_display", "allowed_transitions",
                            "lead_organisation_name", "initiating_unit_name", "coordinator_name", "established_on",
                            "closed_on", "closure_reason", "closure_note", "flags", "version", "created_at",
                            "updated_at"]
        extra_kwargs = {"need_identified_on": {"required": False}, "lead_organisation": {"required": False}}

    def get_fields(self):
        fields = super().get_fields()
        fields["person"].queryset = Person.objects.all()
        fields["lead_organisation"].queryset = Organisation.objects.all()
        fields["initiating_unit"].queryset = Unit.objects.all()
        fields["coordinator"].queryset = User.objects.all()
        return fields

    @extend_schema_field(SipFlagsSerializer)
    def get_flags(self, sip):
        # One flags serializer per process, not one per row (building a serializer costs more than the row itself).
        return MappingRepresenter.of(SipFlagsSerializer)(deadlines.flags(sip))

    def get_allowed_transitions(self, sip) -> list[str]:
        return lifecycle.allowed_targets(sip.status)


class SipUpdateSerializer(SipSerializer):
    class Meta(SipSerializer.Meta):
        read_only_fields = [*SipSerializer.Meta.read_only_fields, "person", "initiating_unit", "units"]


class SipDetailSerializer(SipSerializer):
    participations = SipUnitSerializer(many=True, read_only=True)
    consents = ConsentSerializer(many=True, read_only=True)
    goals = GoalSerializer(many=True, read_only=True)
    actions = ActionSerializer(many=True, read_only=True)
    meetings = MeetingSerializer(many=True, read_only=True)

    class Meta(SipSerializer.Meta):
        fields = [*SipSerializer.Meta.fields, "participations", "consents", "goals", "actions", "meetings"]
        read_only_fields = [*SipSerializer.Meta.read_only_fields, "participations", "consents", "goals",
                            "actions", "meetings", "person", "initiating_unit", "units"]


class TransitionSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=SipStatus.choices)
    follow_up_on = serializers.DateField(required=False)
    closure_reason = serializers.ChoiceField(choices=ClosureReason.choices, required=False)
    closure_note = serializers.CharField(required=False, allow_blank=True)


class SipChangeSerializer(serializers.ModelSerializer):
    actor_name = serializers.CharField(source="actor.get_full_name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = SipChange
        fields = ["id", "at", "actor", "actor_name", "object_type", "object_id", "action", "field", "old", "new",
                  "version"]
        read_only_fields = fields


class TimelineItemSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["action", "meeting", "follow_up"])
    id = serializers.IntegerField()
    date = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True)
    title = serializers.CharField()
    status = serializers.CharField()
    overdue = serializers.BooleanField()


