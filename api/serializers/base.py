import re

from django.core.validators import MaxLengthValidator
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers.reading import CompiledReadingMixin
from organisations.validators import TEXT_MAX_LENGTH

BIGINT_MAX = 2**63 - 1


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An id is a JSON integer or a string of ASCII digits within bigint: not 1.5 (which the database would
    round to 1), true, a list or 10**30 (an overflow deep in the driver)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if isinstance(data, str) and not re.fullmatch(r"[0-9]{1,19}", data):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if abs(int(data)) > BIGINT_MAX:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


DATETIME_YEARS = (1900, 2999)


def plausible_datetime(value) -> None:
    """A time stamp in a year people plan for: year 1 in local time carries a pre-1900 offset with seconds
    (+01:12:12), which is not RFC 3339 and breaks every client reading it back."""
    if value is not None and not DATETIME_YEARS[0] <= value.year <= DATETIME_YEARS[1]:
        raise serializers.ValidationError(_("Ange en tidpunkt mellan år %(first)s och %(last)s.")
                                          % {"first": DATETIME_YEARS[0], "last": DATETIME_YEARS[1]})


class StrictSerializer(serializers.Serializer):
    """Rejects fields the resource does not have, so a typo is an error instead of silently ignored.

    Unknown fields are reported together with every other field error in one answer. Writable text fields
    without a max_length get TEXT_MAX_LENGTH.
    """

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            # Declared id fields too, and the child of a many=True one.
            for relation in (field, getattr(field, "child_relation", None)):
                if type(relation) is serializers.PrimaryKeyRelatedField:
                    relation.__class__ = StrictPrimaryKeyRelatedField
            if isinstance(field, serializers.CharField) and not field.read_only and field.max_length is None:
                field.max_length = TEXT_MAX_LENGTH
                message = format_lazy(field.error_messages["max_length"], max_length=TEXT_MAX_LENGTH)
                field.validators.append(MaxLengthValidator(TEXT_MAX_LENGTH, message=message))
            if isinstance(field, serializers.DateTimeField) and not field.read_only:
                field.validators.append(plausible_datetime)
        return fields

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


# (serializer class, field name, nesting depth) -> (field class, keyword arguments). What ModelSerializer derives
# from the model for a field depends only on these (the model's metadata is fixed once the app registry is ready),
# yet it costs more than serialising a whole SIP: every serializer instance re-derived every field. Only the
# derivation is cached: each instance still builds its own fields from a copy of the arguments (issue #7).
_BUILT_FIELDS: dict[tuple, tuple] = {}


class StrictModelSerializer(StrictSerializer, CompiledReadingMixin, serializers.ModelSerializer):
    serializer_related_field = StrictPrimaryKeyRelatedField

    def build_field(self, field_name, info, model_class, nested_depth):
        key = (type(self), field_name, nested_depth)
        built = _BUILT_FIELDS.get(key)
        if built is None:
            built = _BUILT_FIELDS[key] = super().build_field(field_name, info, model_class, nested_depth)
        field_class, kwargs = built
        # A fresh dict (include_extra_kwargs pops and updates it) and fresh lists (validators are appended to).
        return field_class, {k: (list(v) if isinstance(v, list) else v) for k, v in kwargs.items()}
