"""Writing the append-only audit log. Entries name objects by type and id, never by their content."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, models
from django.utils import timezone

from organisations import access, context
from organisations.models import AuditAction, AuditEntry


def object_type(obj_or_model) -> str:
    meta = obj_or_model._meta
    return f"{meta.app_label}.{meta.model_name}"


def _organisation_hint(obj) -> int | None:
    hint = getattr(obj, "audit_organisation_id", None)
    if callable(hint):
        return hint()
    return hint


def _entry(actor, action: str, obj: models.Model, *, person_id=None, fields=(), organisation_id=None):
    request = context.current()
    if organisation_id is None:
        organisation_id = _organisation_hint(obj)
    membership = access.acting_membership(
        actor,
        unit_id=request.acting_unit_id if request else None,
        organisation_id=organisation_id,
    )
    return AuditEntry(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        organisation_id=membership.unit.organisation_id if membership else None,
        unit_id=membership.unit_id if membership else None,
        role=membership.role if membership else "",
        action=action,
        object_type=object_type(obj),
        object_id=str(obj.pk),
        person_id=person_id if person_id is not None else getattr(obj, "audit_person_id", None),
        fields=sorted(fields),
        request_id=request.request_id if request else "",
        ip_address=request.ip_address if request else None,
    )


def record(actor, action: str, obj: models.Model, *, person_id=None, fields: Iterable[str] = (),
           organisation_id=None) -> AuditEntry:
    entry = _entry(actor, action, obj, person_id=person_id, fields=fields, organisation_id=organisation_id)
    entry.save()
    return entry


# A page of reads as one INSERT of column arrays (PostgreSQL), without the ORM's per-object preparation.
_INSERT_READS = """
    INSERT INTO organisations_auditentry (at, actor_id, organisation_id, unit_id, role, action, object_type,
                                          object_id, person_id, fields, request_id, ip_address)
    SELECT %s, actor, organisation, unit, role, %s, type, object, person, '[]'::jsonb, %s, %s
    FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::varchar[], %s::varchar[], %s::varchar[],
                %s::bigint[]) AS t(actor, organisation, unit, role, type, object, person)"""


def record_reads(actor, objects: Iterable[models.Model]) -> None:
    """One entry per object read, written in one statement so a page costs one query however long."""
    objects = list(objects)
    if not objects:
        return
    request = context.current()
    acting: dict[int | None, tuple] = {}  # per organisation hint: (organisation, unit, role), as _entry finds it

    def acting_for(obj) -> tuple:
        hint = _organisation_hint(obj)
        found = acting.get(hint)
        if found is None:
            membership = access.acting_membership(actor, unit_id=request.acting_unit_id if request else None,
                                                  organisation_id=hint)
            found = acting[hint] = ((membership.unit.organisation_id, membership.unit_id, membership.role)
                                    if membership else (None, None, ""))
        return found

    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    rows = [(actor_id, *acting_for(obj), object_type(obj), str(obj.pk), getattr(obj, "audit_person_id", None))
            for obj in objects]
    request_id = request.request_id if request else ""
    ip_address = request.ip_address if request else None
    if connection.vendor != "postgresql":
        AuditEntry.objects.bulk_create([
            AuditEntry(actor_id=a, organisation_id=o, unit_id=u, role=r, action=AuditAction.READ, object_type=t,
                       object_id=i, person_id=p, fields=[], request_id=request_id, ip_address=ip_address)
            for a, o, u, r, t, i, p in rows], batch_size=len(rows))
        return
    # The same rows record() writes (tests/organisations/test_audit_reads.py compares them), without building a model
    # object per row: a list read is most of what a list request writes.
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_READS, [timezone.now(), AuditAction.READ, request_id, ip_address,
                                       *map(list, zip(*rows, strict=True))])


def changed_fields(before: dict, after: dict) -> list[str]:
    return sorted(name for name in after if before.get(name) != after.get(name))
