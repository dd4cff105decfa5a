"""The audit log: every write and every read of a staff profile is recorded, nothing can alter it."""

import pytest
from django.db import DatabaseError, connection, transaction

from organisations import audit
from organisations.models import AuditAction, AuditEntry, AuditImmutableError, Role
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def entries(**filters):
    return list(AuditEntry.objects.filter(**filters).order_by("id"))


def test_reading_a_staff_profile_is_audited(world):
    admin, target = world.users_a[Role.ORG_ADMIN], world.users_a[Role.BEHANDLARE]
    response = client_for(admin).get(f"/api/v1/users/{target.pk}/")
    assert response.status_code == 200
    [entry] = entries(action=AuditAction.READ, object_type="organisations.user", object_id=str(target.pk))
    assert entry.actor == admin
    assert entry.unit == world.unit_a
    assert entry.organisation == world.org_a
    assert entry.role == Role.ORG_ADMIN


def test_listing_staff_audits_each_profile_shown(world):
    admin = world.users_a[Role.ORG_ADMIN]
    response = client_for(admin).get("/api/v1/users/")
    shown = {str(row["id"]) for row in response.json()["results"]}
    read = {e.object_id for e in entries(action=AuditAction.READ, actor=admin)}
    assert shown and read == shown


def test_writes_are_audited_with_changed_fields(world):
    admin = world.users_a[Role.ORG_ADMIN]
    client = client_for(admin)
    created = client.post("/api/v1/units/", data={"organisation": world.org_a.pk, "name": "Mottagning"},
                          format="json").json()
    client.patch(f"/api/v1/units/{created['id']}/", data={"name": "Mottagning City"}, format="json")
    client.delete(f"/api/v1/units/{created['id']}/")
    actions = [(e.action, e.fields) for e in entries(object_type="organisations.unit", object_id=str(created["id"]))]
    assert actions == [
        (AuditAction.CREATE, ["kind", "name", "parent_id"]),
        (AuditAction.UPDATE, ["name"]),
        (AuditAction.DELETE, []),
    ]


def test_user_and_membership_writes_are_audited(world):
    admin = world.users_a[Role.ORG_ADMIN]
    client = client_for(admin)
    user = client.post("/api/v1/users/", data={"username": "ny.kurator", "unit": world.unit_a.pk,
                                               "role": Role.BEHANDLARE}, format="json").json()
    assert entries(object_type="organisations.user", object_id=str(user["id"]), action=AuditAction.CREATE)
    membership_id = user["memberships"][0]["id"]
    assert entries(object_type="organisations.membership", object_id=str(membership_id))
    client.patch(f"/api/v1/users/{user['id']}/", data={"title": "Kurator"}, format="json")
    [update] = entries(object_type="organisations.user", object_id=str(user["id"]), action=AuditAction.UPDATE)
    assert update.fields == ["title"]


def test_audit_entries_hold_no_object_text(world):
    admin = world.users_a[Role.ORG_ADMIN]
    client_for(admin).patch(f"/api/v1/users/{world.users_a[Role.BEHANDLARE].pk}/",
                            data={"last_name": "Hemligsson"}, format="json")
    dumped = str(list(AuditEntry.objects.values()))
    assert "Hemligsson" not in dumped


def test_org_admin_sees_only_own_organisation(world):
    audit.record(world.users_b[Role.BEHANDLARE], AuditAction.READ, world.users_b[Role.SAMORDNARE])
    audit.record(world.users_a[Role.BEHANDLARE], AuditAction.READ, world.users_a[Role.SAMORDNARE])
    rows = client_for(world.users_a[Role.ORG_ADMIN]).get("/api/v1/audit/").json()["results"]
    assert rows
    assert {row["organisation"] for row in rows} == {world.org_a.pk}


def test_filter_by_object_and_person(world):
    reader = world.users_a[Role.BEHANDLARE]
    target = world.users_a[Role.SAMORDNARE]
    audit.record(reader, AuditAction.READ, target)
    audit.record(reader, AuditAction.READ, target, person_id=4711)
    client = client_for(world.users_a[Role.ORG_ADMIN])
    by_object = client.get("/api/v1/audit/", {"object_type": "organisations.user", "object_id": target.pk}).json()
    assert by_object["count"] == 2
    by_person = client.get("/api/v1/audit/", {"person": 4711}).json()
    assert by_person["count"] == 1
    assert by_person["results"][0]["person_id"] == 4711


def test_entries_cannot_be_changed_through_the_orm(world):
    entry = audit.record(world.users_a[Role.BEHANDLARE], AuditAction.READ, world.users_a[Role.SAMORDNARE])
    entry.action = AuditAction.DELETE
    with pytest.raises(AuditImmutableError):
        entry.save()
    with pytest.raises(AuditImmutableError):
        entry.delete()
    with pytest.raises(AuditImmutableError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="create")
    with pytest.raises(AuditImmutableError):
        AuditEntry.objects.filter(pk=entry.pk).delete()


def test_database_refuses_updates(world):
    entry = audit.record(world.users_a[Role.BEHANDLARE], AuditAction.READ, world.users_a[Role.SAMORDNARE])
    with pytest.raises(DatabaseError), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("UPDATE organisations_auditentry SET action = 'create' WHERE id = %s", [entry.pk])
    entry.refresh_from_db()
    assert entry.action == AuditAction.READ


def test_database_refuses_deletes_on_postgres(world):
    from tests.conftest import requires_postgres

    requires_postgres()
    entry = audit.record(world.users_a[Role.BEHANDLARE], AuditAction.READ, world.users_a[Role.SAMORDNARE])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM organisations_auditentry WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_no_endpoint_alters_audit(world):
    admin = world.users_a[Role.ORG_ADMIN]
    entry = audit.record(admin, AuditAction.READ, world.users_a[Role.SAMORDNARE])
    client = client_for(admin)
    for method in ("put", "patch", "delete", "post"):
        path = "/api/v1/audit/" if method == "post" else f"/api/v1/audit/{entry.pk}/"
        response = getattr(client, method)(path, data={"action": "create"}, format="json")
        assert response.status_code == 405, (method, response.status_code)
    entry.refresh_from_db()
    assert entry.action == AuditAction.READ


def test_admin_site_cannot_change_audit(world, rf):
    from django.contrib.admin.sites import site

    from organisations.models import AuditEntry as Model

    model_admin = site._registry[Model]
    request = rf.get("/")
    request.user = world.users_a[Role.ORG_ADMIN]
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert not model_admin.has_add_permission(request)
