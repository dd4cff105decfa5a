"""Field-level history of a plan: who changed which field from what to what."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import models

from sip.models import ChangeAction, SipChange


def serialise(value):
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(obj: models.Model, fields) -> dict:
    out = {}
    for name in fields:
        field = obj._meta.get_field(name)
        out[name] = serialise(getattr(obj, field.attname))
    return out


def record(actor, sip_id: int, obj: models.Model, action: str, before: dict | None = None,
           after: dict | None = None) -> list[str]:
    """Writes one row per changed field (one row for create/delete); returns the changed field names."""
    object_type = obj._meta.model_name
    version = getattr(obj, "version", None)
    if action == ChangeAction.UPDATE or action == ChangeAction.TRANSITION:
        before, after = before or {}, after or {}
        changed = [name for name in after if before.get(name) != after.get(name)]
        SipChange.objects.bulk_create([
            SipChange(sip_id=sip_id, actor=actor if _is_user(actor) else None, object_type=object_type,
                      object_id=obj.pk, action=action, field=name, old=before.get(name), new=after.get(name),
                      version=version)
            for name in changed
        ])
        return changed
    SipChange.objects.create(sip_id=sip_id, actor=actor if _is_user(actor) else None, object_type=object_type,
                             object_id=obj.pk, action=action, old=before, new=after, version=version)
    return list((after or before or {}).keys())


def _is_user(actor) -> bool:
    return bool(actor is not None and getattr(actor, "is_authenticated", False))
