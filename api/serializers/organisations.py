from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers.base import StrictModelSerializer, StrictSerializer
from organisations.models import AuditEntry, Membership, Organisation, Role, Unit, User


class OrganisationSerializer(StrictModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Organisation
        fields = ["id", "name", "kind", "kind_display", "organisation_number", "active"]
        read_only_fields = fields


class UnitSerializer(StrictModelSerializer):
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Unit
        fields = ["id", "organisation", "organisation_name", "parent", "name", "kind", "kind_display", "active"]
        read_only_fields = ["id", "organisation_name", "kind_display"]
        validators = []  # uniqueness is checked by the service and the database, with field messages

    def get_fields(self):
        fields = super().get_fields()
        # The gate narrows these in the view; here they only parse ids.
        fields["organisation"].queryset = Organisation.objects.all()
        fields["parent"].queryset = Unit.objects.all()
        return fields


class UnitUpdateSerializer(UnitSerializer):
    class Meta(UnitSerializer.Meta):
        read_only_fields = ["id", "organisation", "organisation_name", "kind_display"]


class MembershipSerializer(StrictModelSerializer):
    user_name = serializers.CharField(source="user.get_full_name", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    organisation = serializers.IntegerField(source="unit.organisation_id", read_only=True)
    organisation_name = serializers.CharField(source="unit.organisation.name", read_only=True)
    role_display = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "user_name", "unit", "unit_name", "organisation", "organisation_name", "role",
                  "role_display", "active"]
        read_only_fields = ["id", "user_name", "unit_name", "organisation", "organisation_name", "role_display"]
        validators = []

    def get_fields(self):
        fields = super().get_fields()
        fields["user"].queryset = User.objects.all()
        fields["unit"].queryset = Unit.objects.all()
        return fields


class MembershipUpdateSerializer(MembershipSerializer):
    class Meta(MembershipSerializer.Meta):
        read_only_fields = ["id", "user", "user_name", "unit", "unit_name", "organisation", "organisation_name",
                            "role_display"]


class MembershipBriefSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    organisation = serializers.IntegerField(source="unit.organisation_id", read_only=True)
    organisation_name = serializers.CharField(source="unit.organisation.name", read_only=True)
    role_display = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "unit", "unit_name", "organisation", "organisation_name", "role", "role_display", "active"]
        read_only_fields = fields


class UserSerializer(StrictModelSerializer):
    memberships = MembershipBriefSerializer(source="visible_memberships", many=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "email", "title", "phone", "is_active",
                  "memberships"]
        read_only_fields = ["id", "username", "memberships"]


class UserCreateSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    password = serializers.CharField(write_only=True, required=False, allow_blank=False,
                                     style={"input_type": "password"},
                                     help_text=_("Utelämna för konton som bara loggar in via OpenID Connect."))
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all(),
                                              help_text=_("Enheten där användaren får sitt första uppdrag."))
    role = serializers.ChoiceField(choices=Role.choices)


class MeSerializer(serializers.ModelSerializer):
    memberships = MembershipBriefSerializer(source="active_memberships", many=True, read_only=True)
    full_name = serializers.CharField(source="get_full_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "first_name", "last_name", "email", "title", "memberships"]
        read_only_fields = fields


class TokenRequestSerializer(StrictSerializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)


class AuditEntrySerializer(serializers.ModelSerializer):
    actor_username = serializers.CharField(source="actor.username", read_only=True, default=None, allow_null=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True, default=None, allow_null=True)
    organisation_name = serializers.CharField(source="organisation.name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = AuditEntry
        fields = ["id", "at", "actor", "actor_username", "organisation", "organisation_name", "unit", "unit_name",
                  "role", "action", "object_type", "object_id", "person_id", "fields", "request_id"]
        read_only_fields = fields
