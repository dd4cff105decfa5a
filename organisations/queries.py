"""Reads for organisations, units, users, memberships and the audit log — all narrowed by the gate."""

from django.db.models import Prefetch, QuerySet

from organisations import access
from organisations.models import AuditEntry, Membership, Organisation, Unit, User


def organisations_for(user) -> QuerySet[Organisation]:
    return access.visible_organisations(user).order_by("name", "id")


def units_for(user) -> QuerySet[Unit]:
    return access.visible_units(user).select_related("organisation").order_by("organisation__name", "name", "id")


def memberships_for(user) -> QuerySet[Membership]:
    return (
        access.visible_memberships(user)
        .select_related("user", "unit", "unit__organisation")
        .order_by("id")
    )


def users_for(user) -> QuerySet[User]:
    """Colleagues, each with only the memberships the caller may see."""
    visible = memberships_for(user)
    return (
        access.visible_users(user)
        .prefetch_related(Prefetch("memberships", queryset=visible, to_attr="visible_memberships"))
        .order_by("id")
    )


def own_memberships(user) -> list[Membership]:
    return access.memberships(user)


def audit_entries_for(user) -> QuerySet[AuditEntry]:
    """An org_admin reviews what was done from their own organisations (loggkontroll)."""
    orgs = access.admin_organisation_ids(user)
    if not orgs:
        return AuditEntry.objects.none()
    return (
        AuditEntry.objects.filter(organisation_id__in=orgs)
        .select_related("actor", "unit", "organisation")
        .order_by("-at", "-id")
    )
