"""After a version conflict (412): the user's form beside the object as it is saved now.

The user's typed values stay in the fields ("Din version"); the saved values are shown beside them, read-only
("Sparad version"), for every field someone else changed since the version the user started from. A field only
the other person changed gets the saved value filled in (the user had not touched it, so nothing typed is lost);
a field both changed keeps the user's text. The hidden version becomes the current one, so saving again applies
what is in the fields.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import models
from django.utils import timezone

from frontend.display import field_value, label_for
from frontend.forms import DATETIME_FORMAT, VersionedForm
from sip import queries
from sip.history import serialise
from sip.models import ChangeAction


@dataclass
class MergeInfo:
    version: int
    saved: dict[str, str] = field(default_factory=dict)  # field name → the saved value as text
    conflicts: set[str] = field(default_factory=set)  # changed by the user and by someone else
    taken: set[str] = field(default_factory=set)  # changed only by someone else: saved value filled in
    changed_by: str = ""
    changed_at: datetime.datetime | None = None


def _comparable(value):
    value = serialise(value)
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").strip()
    return value


def _raw(value) -> str:
    """A saved value as form data."""
    if value is None:
        return ""
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime(DATETIME_FORMAT)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def prepare(form: VersionedForm, current: models.Model, sip) -> VersionedForm:
    """The form to show after PreconditionFailed: the user's input, merged where safe, beside `current`."""
    started_from = form.cleaned_data.get("version") or 0
    names = [name for name in form.fields if name != "version" and hasattr(current, name)]
    since = list(
        queries.history_of(sip)
        .filter(object_type=current._meta.model_name, object_id=current.pk, version__gt=started_from,
                action__in=(ChangeAction.UPDATE, ChangeAction.TRANSITION))
        .order_by("version", "at", "id")
    )
    original: dict[str, object] = {}
    for change in since:
        original.setdefault(change.field, change.old)
    info = MergeInfo(version=current.version)
    if since:
        latest = since[-1]
        info.changed_by = label_for(latest.actor) if latest.actor else ""
        info.changed_at = latest.at

    data = form.data.copy()
    data[form.add_prefix("version")] = str(current.version)
    for name in names:
        mine = _comparable(form.cleaned_data.get(name))
        saved = _comparable(getattr(current, name))
        if since:
            if name not in original:
                continue  # nobody else changed it
            user_changed = mine != _comparable(original[name])
        else:
            user_changed = True  # no history to tell: show every difference
        if mine == saved:
            continue
        info.saved[name] = field_value(current, name)
        if user_changed:
            info.conflicts.add(name)
        else:
            info.taken.add(name)
            data[form.add_prefix(name)] = _raw(getattr(current, name))
            if isinstance(getattr(current, name), bool) and not getattr(current, name):
                data.pop(form.add_prefix(name), None)

    merged = form.rebound(data)
    merged.is_valid()
    merged.merge = info
    return merged
