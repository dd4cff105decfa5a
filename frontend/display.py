"""How values of a plan read on screen: labels for objects, choices, dates and history rows. Presentation only."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats, timezone
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from organisations.models import Organisation, Unit, User
from sip.models import ChangeAction, Goal, ParticipantKind, Person

OBJECT_LABELS = {
    "sip": gettext_lazy("Planen"),
    "goal": gettext_lazy("Mål"),
    "action": gettext_lazy("Insats"),
    "meeting": gettext_lazy("Möte"),
    "consent": gettext_lazy("Samtycke"),
    "sipunit": gettext_lazy("Deltagande enhet"),
    "participant": gettext_lazy("Deltagare"),
}
TEXT_LIMIT = 160


def label_for(obj) -> str:
    if isinstance(obj, User):
        return obj.get_full_name() or obj.username
    if isinstance(obj, Organisation):
        return obj.name
    if isinstance(obj, Unit):
        return obj.name
    if isinstance(obj, Goal):
        return Truncator(obj.text).chars(80)
    return str(obj)


def format_value(value) -> str:
    if value is None or value == "":
        return _("(tomt)")
    if isinstance(value, bool):
        return _("Ja") if value else _("Nej")
    if isinstance(value, datetime.datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, models.Model):
        return label_for(value)
    return str(value)


def field_value(obj: models.Model, name: str) -> str:
    """The value of obj.<name> as a person reads it (choice labels, names, local dates)."""
    field = obj._meta.get_field(name)
    value = getattr(obj, name)
    if field.choices and value not in (None, ""):
        return str(dict(field.flatchoices).get(value, value))
    return format_value(value)


def person_name(person: Person, identity_shown: bool) -> str:
    return person.full_name if identity_shown else _("Skyddad identitet")


def participant_label(participant, person_label: str) -> str:
    kind = participant.kind
    if kind == ParticipantKind.PERSON:
        return _("%(name)s (den enskilde)") % {"name": person_label}
    if kind == ParticipantKind.STAFF and participant.user is not None:
        return label_for(participant.user)
    if kind == ParticipantKind.UNIT and participant.unit is not None:
        return _("%(unit)s (enhet)") % {"unit": participant.unit.name}
    if kind == ParticipantKind.RELATED:
        return _("%(name)s (närstående)") % {"name": participant.name}
    if participant.organisation_text:
        return f"{participant.name} ({participant.organisation_text})"
    return participant.name or participant.get_kind_display()


def attendance_label(participant) -> str:
    if participant.attended is None:
        return ""
    return _("närvarade") if participant.attended else _("närvarade inte")


def consent_state(consent, today=None) -> str:
    """Withdrawn, past its end date, or in force — as the list of consents shows it."""
    from sip.queries import consent_active

    if consent.withdrawn_at is not None:
        return _("Återkallat")
    return _("Gäller") if consent_active(consent, today) else _("Har upphört")


# --- History ---------------------------------------------------------------------------------------------

@dataclass
class HistoryRow:
    at: datetime.datetime
    actor: str
    action: str
    object_label: str
    field: str
    old: str
    new: str


def _model(object_type: str):
    try:
        return apps.get_model("sip", object_type)
    except LookupError:
        return None


def _field(model, name: str):
    if model is None or not name:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _history_value(field, raw, names: dict) -> str:
    if raw is None or raw == "":
        return _("(tomt)")
    if isinstance(raw, dict):
        return ""
    if field is None:
        return Truncator(str(raw)).chars(TEXT_LIMIT)
    if field.is_relation:
        return names.get((field.related_model, raw), _("#%(id)s") % {"id": raw})
    if field.choices:
        return str(dict(field.flatchoices).get(raw, raw))
    if isinstance(field, models.DateTimeField):
        parsed = datetime.datetime.fromisoformat(raw) if isinstance(raw, str) else raw
        return format_value(parsed)
    if isinstance(field, models.DateField):
        parsed = datetime.date.fromisoformat(raw) if isinstance(raw, str) else raw
        return format_value(parsed)
    if isinstance(raw, bool):
        return format_value(raw)
    return Truncator(str(raw)).chars(TEXT_LIMIT)


def history_rows(changes, *, organisations, units, users) -> list[HistoryRow]:
    """History entries as rows; ids of organisations, units and users resolved through gated querysets
    (one query each), so a name the reader may not see stays an id."""
    changes = list(changes)
    wanted: dict[type, set] = {Organisation: set(), Unit: set(), User: set()}
    for change in changes:
        field = _field(_model(change.object_type), change.field)
        if field is not None and field.is_relation and field.related_model in wanted:
            wanted[field.related_model].update(v for v in (change.old, change.new) if isinstance(v, int))
    names: dict[tuple, str] = {}
    for model, queryset in ((Organisation, organisations), (Unit, units), (User, users)):
        if wanted[model]:
            names.update({(model, obj.pk): label_for(obj) for obj in queryset.filter(pk__in=wanted[model])})
    rows = []
    for change in changes:
        model = _model(change.object_type)
        field = _field(model, change.field)
        label = OBJECT_LABELS.get(change.object_type, change.object_type)
        rows.append(HistoryRow(
            at=change.at,
            actor=label_for(change.actor) if change.actor else _("Systemet"),
            action=str(ChangeAction(change.action).label) if change.action in ChangeAction.values else change.action,
            object_label=f"{label} {change.object_id}" if change.object_type != "sip" else str(label),
            field=capfirst(str(field.verbose_name)) if field is not None else "",
            old=_history_value(field, change.old, names) if change.field else "",
            new=_history_value(field, change.new, names) if change.field else "",
        ))
    return rows
