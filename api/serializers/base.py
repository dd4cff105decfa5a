from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    """Rejects fields the resource does not have, so a typo is an error instead of silently ignored.

    Unknown fields are reported together with every other field error in one answer.
    """

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        unknown_errors = {name: [_("Okänt fält.")] for name in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown_errors and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **unknown_errors}) from None
            raise
        if unknown_errors:
            raise serializers.ValidationError(unknown_errors)
        return value


class StrictModelSerializer(StrictSerializer, serializers.ModelSerializer):
    pass
