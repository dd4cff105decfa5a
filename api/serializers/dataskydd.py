"""Request and response shapes for gallring, registerutdrag and radering."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers.base import StrictSerializer


class PersonIdentifierSerializer(StrictSerializer):
    personnummer = serializers.CharField(
        max_length=40, trim_whitespace=True,
        help_text=_("Personnummer, samordningsnummer eller reservnummer (i kroppen, aldrig i adressen)."))


class RegisterutdragRequestSerializer(PersonIdentifierSerializer):
    format = serializers.ChoiceField(choices=[("json", "JSON"), ("pdf", "PDF")], default="json")


class ErasureResultSerializer(serializers.Serializer):
    erased = serializers.BooleanField()
    person_id = serializers.IntegerField()


class RetentionPeriodSerializer(serializers.Serializer):
    setting = serializers.CharField()
    value = serializers.IntegerField()
    unit = serializers.ChoiceField(choices=["years", "days"])


class RetentionRuleSerializer(serializers.Serializer):
    rule = serializers.CharField()
    record_type = serializers.CharField()
    disposition = serializers.ChoiceField(choices=["delete", "deidentify"])
    period = RetentionPeriodSerializer()
    cutoff = serializers.DateTimeField()
    description = serializers.CharField()
    legal_basis = serializers.CharField()
    count = serializers.IntegerField()


class RetentionPreviewSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    rules = RetentionRuleSerializer(many=True)
