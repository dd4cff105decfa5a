"""Reading model instances into representations without DRF's per-value introspection (issue #7).

DRF's `Serializer.to_representation` asks every field of every row to `get_attribute()`, which walks the source
path and calls `inspect.signature()` on each value to see whether it is a method to call. For a page of 50 plans
of 30 fields that is most of the time spent serialising. The source path of a model serializer's field is known
from the model class alone, so it is resolved once per serializer instance into a plain getter: a column, a
column across forward foreign keys, a foreign key's id, or a method/property of the model. Fields whose source
cannot be resolved that way (nested serializers, `source="*"`, reverse relations, anything unusual) keep DRF's
own `get_attribute()`. Every value still goes through the field's own `to_representation()`, and a missing
intermediate object takes DRF's own path, so the output is the same (tests/api/test_compiled_reading.py
compares the two over every model serializer of the API).
"""

from __future__ import annotations

import datetime
import functools
import inspect
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone, translation
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

_MISSING = object()


def _identity(value):
    return value


def _takes_no_arguments(function) -> bool:
    try:
        parameters = list(inspect.signature(function).parameters.values())[1:]  # without self
    except (TypeError, ValueError):
        return False
    return all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is not p.empty for p in parameters)


def _resolve(model, attrs: list[str]):
    """(path, last, call) when `attrs` is forward foreign keys ending in a column, method or property; else None."""
    path = []
    for attr in attrs[:-1]:
        try:
            field = model._meta.get_field(attr)
        except FieldDoesNotExist:
            return None
        if not (field.concrete and (field.many_to_one or field.one_to_one)):
            return None
        path.append(attr)
        model = field.related_model
    last = attrs[-1]
    try:
        field = model._meta.get_field(last)
    except FieldDoesNotExist:
        field = None
    if field is not None:
        return (path, last, False) if field.concrete and not field.is_relation else None
    member = inspect.getattr_static(model, last, _MISSING)
    if isinstance(member, property):
        return path, last, False
    if inspect.isfunction(member) and _takes_no_arguments(member):
        return path, last, True
    if (isinstance(member, functools.partialmethod) and member.func is models.Model._get_FIELD_display
            and not member.args and set(member.keywords) == {"field"}):
        return path, _ChoiceLabel(member.keywords["field"]), False
    if isinstance(member, functools.partialmethod) and _takes_no_arguments(
            functools.partial(member.func, *member.args, **member.keywords)):
        return path, last, True
    return None


class _ChoiceLabel:
    """`obj.get_FOO_display()` with the labels kept per language. Django's own builds a dict of every choice on
    each call, and hashing a lazy label translates it: for a page of 50 plans, hundreds of gettext calls."""

    def __init__(self, model_field):
        self.field = model_field
        self.by_language: dict[str | None, dict] = {}

    def __call__(self, obj):
        language = translation.get_language()
        labels = self.by_language.get(language)
        if labels is None:
            choices = dict(make_hashable(self.field.flatchoices))
            labels = self.by_language[language] = {key: force_str(label, strings_only=True)
                                                   for key, label in choices.items()}
        value = getattr(obj, self.field.attname)
        return force_str(labels.get(make_hashable(value), value), strings_only=True)


def _getter(field, path: list[str], last: str | _ChoiceLabel, call: bool) -> Callable:
    def get(instance):
        obj = instance
        for attr in path:
            obj = getattr(obj, attr)
            if obj is None:  # DRF's own handling of a missing object: default, null or skip
                return _drf_value(field, instance)
        if isinstance(last, _ChoiceLabel):
            return last(obj)
        value = getattr(obj, last)
        return value() if call else value
    return get


def _drf_value(field, instance):
    attribute = field.get_attribute(instance)
    if isinstance(attribute, PKOnlyObject):
        return None if attribute.pk is None else attribute
    return attribute


def _iso_in_current_zone(field) -> bool:
    """A plain DateTimeField showing ISO 8601 in the current time zone (DRF's default)."""
    return (type(field) is serializers.DateTimeField and not hasattr(field, "timezone") and settings.USE_TZ
            and str(getattr(field, "format", api_settings.DATETIME_FORMAT)).lower() == ISO_8601)


def _iso_in_zone(field) -> Callable:
    """DateTimeField.to_representation for an aware value without its per-value settings lookups: in `zone` (the
    current time zone, looked up once per row by the caller: a context-local read costs more than the
    conversion), ISO 8601, UTC as Z. Anything else (a naive value, a string) goes to the field."""
    def represent(value, zone):
        if isinstance(value, datetime.datetime) and value.tzinfo is not None:
            text = value.astimezone(zone).isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        return field.to_representation(value)
    return represent


def _same_if(kind: type, field) -> Callable:
    """The field's representation, skipped for a value of exactly `kind`, for which it returns the value itself."""
    represent = field.to_representation

    def same(value):
        return value if type(value) is kind else represent(value)
    return same


def _representer(field) -> Callable:
    """`field.to_representation`, or an equal shortcut for the plain fields of DRF whose representation of a value
    of the column's own type is that value (a str for CharField, an int, a bool) or its ISO text (dates). Time
    stamps shown in the current zone are the callers' (_iso_in_zone: they look the zone up once per row)."""
    kind = type(field)
    if kind is serializers.CharField:
        return _same_if(str, field)
    if kind is serializers.IntegerField:
        return _same_if(int, field)
    if kind is serializers.BooleanField:
        return _same_if(bool, field)
    if kind is serializers.ChoiceField:
        # A stored choice is shown as itself when DRF's own lookup maps it to itself.
        itself = frozenset(key for key, value in field.choice_strings_to_values.items() if key == value)
        represent = field.to_representation
        return lambda value: value if type(value) is str and value in itself else represent(value)
    if kind is serializers.DateField and str(getattr(field, "format", api_settings.DATE_FORMAT)).lower() == ISO_8601:
        represent = field.to_representation
        return lambda value: value.isoformat() if type(value) is datetime.date else represent(value)
    return field.to_representation


def _plan_for(serializer, field) -> tuple[Callable, Callable, bool]:
    """(get, represent, zoned): a zoned representer also takes the current time zone."""
    get, represent = _getter_for(serializer, field)
    if represent is not _ZONED:
        return get, represent, False
    return get, _iso_in_zone(field), True


_ZONED = object()  # _getter_for's "the field's ISO representation in the current zone"


def _getter_for(serializer, field) -> tuple[Callable, Callable]:
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    attrs = field.source_attrs
    if model is None or not attrs:
        return (lambda instance, f=field: _drf_value(f, instance)), field.to_representation
    if isinstance(field, serializers.PrimaryKeyRelatedField) and field.pk_field is None and len(attrs) == 1:
        try:
            relation = model._meta.get_field(attrs[0])
        except FieldDoesNotExist:
            relation = None
        if relation is not None and relation.concrete and (relation.many_to_one or relation.one_to_one):
            attname = relation.attname
            return (lambda instance: getattr(instance, attname)), _identity
    if isinstance(field, serializers.RelatedField | serializers.ManyRelatedField | serializers.BaseSerializer):
        return (lambda instance, f=field: _drf_value(f, instance)), field.to_representation
    represent = _ZONED if _iso_in_current_zone(field) else _representer(field)
    resolved = _resolve(model, attrs)
    if resolved is None:
        return (lambda instance, f=field: _drf_value(f, instance)), represent
    return _getter(field, *resolved), represent


def compile_plan(serializer) -> list[tuple[str, Callable, Callable, bool]]:
    return [(field.field_name, *_plan_for(serializer, field)) for field in serializer._readable_fields]


def _represent(plan, instance) -> dict:
    out = {}
    zone = None
    for name, get, represent, zoned in plan:
        try:
            value = get(instance)
        except SkipField:
            continue
        if value is None:
            out[name] = None
        elif zoned:
            if zone is None:
                zone = timezone.get_current_timezone()
            out[name] = represent(value, zone)
        else:
            out[name] = represent(value)
    return out


class CompiledReadingMixin:
    """`to_representation` through getters resolved once per serializer instance (a list shares its child)."""

    def to_representation(self, instance):
        model = getattr(getattr(self, "Meta", None), "model", None)
        if model is None or not isinstance(instance, model):  # e.g. validated data (a dict): DRF's own way
            return super().to_representation(instance)
        plan = self.__dict__.get("_reading_plan")
        if plan is None:
            plan = self._reading_plan = compile_plan(self)
        return _represent(plan, instance)


class Representer:
    """`serializer_class(obj).data` for read-only lists and pages, with the serializer and its plan built once per
    process instead of once per request (building ~40 fields costs more than reading a row). Only for serializers
    whose output depends on the object alone: no context, no request (the caller picks the serializer)."""

    _built: dict[type, Representer] = {}

    def __init__(self, serializer_class):
        self.serializer = serializer_class()

    @classmethod
    def of(cls, serializer_class) -> Representer:
        built = cls._built.get(serializer_class)
        if built is None:
            built = cls._built[serializer_class] = cls(serializer_class)
        return built

    def __call__(self, instance) -> dict:
        return self.serializer.to_representation(instance)  # the serializer's own overrides included


class MappingRepresenter:
    """`serializer.to_representation(data)` for a plain serializer over a dict that has every field's key (e.g. the
    deadline flags of each list row): the plan built once, each value through its field's own representation.
    Anything else (a missing key, a dotted or `*` source, a nested serializer) goes DRF's own way."""

    _built: dict[type, MappingRepresenter] = {}

    @classmethod
    def of(cls, serializer_class) -> MappingRepresenter:
        """Built once per process, as Representer.of (for serializers without context)."""
        built = cls._built.get(serializer_class)
        if built is None:
            built = cls._built[serializer_class] = cls(serializer_class())
        return built

    def __init__(self, serializer):
        self.serializer = serializer
        fields = list(serializer._readable_fields)
        simple = all(len(f.source_attrs) == 1 and not isinstance(f, serializers.BaseSerializer) for f in fields)
        self.plan = [(f.field_name, f.source_attrs[0], *_mapping_representer(f)) for f in fields] if simple else None

    def __call__(self, data) -> dict:
        if self.plan is None:
            return self.serializer.to_representation(data)
        try:
            values = [(name, data[key], represent, zoned) for name, key, represent, zoned in self.plan]
        except KeyError:
            return self.serializer.to_representation(data)
        zone = timezone.get_current_timezone()
        return {name: None if value is None else represent(value, zone) if zoned else represent(value)
                for name, value, represent, zoned in values}


def _mapping_representer(field) -> tuple[Callable, bool]:
    return (_iso_in_zone(field), True) if _iso_in_current_zone(field) else (_representer(field), False)
