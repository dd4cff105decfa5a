from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from organisations import access


class IsStaffMember(BasePermission):
    """Signed in and holding at least one active membership; the gate narrows every object further."""

    message = _("Ditt konto har inget aktivt uppdrag i någon enhet.")

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and access.is_staff_member(request.user))


class IsOrgAdmin(IsStaffMember):
    message = _("Endast organisationsadministratörer har åtkomst.")

    def has_permission(self, request, view):
        return super().has_permission(request, view) and bool(access.admin_organisation_ids(request.user))
