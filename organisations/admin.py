"""Admin for superusers who set up organisations. Units, users and memberships change through the
services (API and screens) so that groups and the audit log stay right; here they are read-only."""

from django.contrib import admin

from organisations.models import AuditEntry, Membership, Organisation, Unit, User


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "organisation_number", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "organisation_number"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Unit)
class UnitAdmin(ReadOnlyAdmin):
    list_display = ["name", "organisation", "parent", "kind", "active"]
    list_filter = ["organisation", "kind"]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "unit", "role", "active"]
    list_filter = ["role", "unit__organisation"]


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ["username", "first_name", "last_name", "is_active"]
    search_fields = ["username", "last_name"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "organisation", "unit", "role", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type"]
