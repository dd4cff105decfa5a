"""The access gate: the one place that answers what a user may see and change.

Every queryset shown to a user starts here. An object outside a user's reach is *absent* (404), never
"forbidden": `get_visible()` raises `NotFound` for it. Rules (see README, "Behörigheter"):

* Staff are users with at least one active membership in an active unit. Only staff see anything.
* Organisations and units are a directory every staff member may read.
* Users and memberships are visible only inside the organisations where the caller has a membership.
* Only an org_admin of an organisation changes its units, users and memberships.
* Object-level grants (SIPs and later guarded models) live in django-guardian's direct-foreign-key tables,
  granted to each unit's group; `objects_with_permission()` reads them from the grant side (see
  docs/architecture.md for why).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import models

from organisations.errors import Forbidden, NotFound
from organisations.granted import GrantedQuerySet, OrderedGrants, granted
from organisations.models import Membership, Organisation, Role, Unit, User
from organisations.prepared import Prepared

_CACHE_ATTR = "_samverkan_memberships"

# Read on nearly every request: compiled once (organisations/prepared.py).
_active_memberships = Prepared(Membership, lambda user_id: (
    Membership.objects.filter(user_id=user_id, active=True, unit__active=True, unit__organisation__active=True)
    .select_related("unit", "unit__organisation")
    .order_by("id")))


def memberships(user) -> list[Membership]:
    """The user's active memberships in active units, loaded once per user object."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = _active_memberships(user.pk)
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget(user) -> None:
    """Drop what the access modules keep on the user object for the request (the memberships, and what is derived
    from them or read with them: contact designations, forum seats) after it changed."""
    if user is None:
        return
    for name in [name for name in vars(user) if name.startswith("_samverkan_")]:
        delattr(user, name)


def is_staff_member(user) -> bool:
    return bool(memberships(user))


def organisation_ids(user) -> set[int]:
    return {m.unit.organisation_id for m in memberships(user)}


def unit_ids(user) -> set[int]:
    return {m.unit_id for m in memberships(user)}


def group_ids(user) -> set[int]:
    return {m.unit.group_id for m in memberships(user)}


def admin_organisation_ids(user) -> set[int]:
    return {m.unit.organisation_id for m in memberships(user) if m.role == Role.ORG_ADMIN}


def has_role(user, role: str, organisation_id: int | None = None) -> bool:
    return any(
        m.role == role and (organisation_id is None or m.unit.organisation_id == organisation_id)
        for m in memberships(user)
    )


def acting_membership(user, *, unit_id: int | None = None, organisation_id: int | None = None):
    """The membership a user acts from: the chosen unit, else one in the object's organisation, else the first."""
    mine = memberships(user)
    if not mine:
        return None
    if unit_id is not None:
        for m in mine:
            if m.unit_id == unit_id:
                return m
    if organisation_id is not None:
        for m in mine:
            if m.unit.organisation_id == organisation_id:
                return m
    return mine[0]


# --- What a user may see ---------------------------------------------------------------------------------

def visible_organisations(user, queryset: models.QuerySet | None = None) -> models.QuerySet:
    queryset = Organisation.objects.all() if queryset is None else queryset
    return queryset if is_staff_member(user) else queryset.none()


def visible_units(user, queryset: models.QuerySet | None = None) -> models.QuerySet:
    queryset = Unit.objects.all() if queryset is None else queryset
    return queryset if is_staff_member(user) else queryset.none()


def visible_memberships(user, queryset: models.QuerySet | None = None) -> models.QuerySet:
    queryset = Membership.objects.all() if queryset is None else queryset
    orgs = organisation_ids(user)
    return queryset.filter(unit__organisation_id__in=orgs) if orgs else queryset.none()


def visible_users(user, queryset: models.QuerySet | None = None) -> models.QuerySet:
    """Colleagues: users holding a membership (active or not) in one of the caller's organisations."""
    queryset = User.objects.all() if queryset is None else queryset
    orgs = organisation_ids(user)
    if not orgs:
        return queryset.none()
    colleague_ids = Membership.objects.filter(unit__organisation_id__in=orgs).values("user_id")
    return queryset.filter(pk__in=colleague_ids)


def get_visible(queryset: models.QuerySet, pk):
    """Fetch one object from an already gated queryset; absent and hidden look the same (404)."""
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFound from None


# --- What a user may change ------------------------------------------------------------------------------

def can_administer(user, organisation_id: int) -> bool:
    return organisation_id in admin_organisation_ids(user)


def require_administer(user, organisation_id: int) -> None:
    if not can_administer(user, organisation_id):
        raise Forbidden(code="not_org_admin")


def user_organisation_ids(target: User) -> set[int]:
    return set(
        Membership.objects.filter(user=target).values_list("unit__organisation_id", flat=True).distinct()
    )


def require_administer_user(actor, target: User) -> None:
    """An org_admin changes a user only when every organisation the user works in is one they administer."""
    orgs = user_organisation_ids(target)
    if not orgs or not orgs <= admin_organisation_ids(actor):
        raise Forbidden(code="not_org_admin")


# --- Object grants (django-guardian, direct foreign keys) ------------------------------------------------

@lru_cache(maxsize=256)
def permission_id(app_label: str, model: str, codename: str) -> int:
    content_type = ContentType.objects.get_by_natural_key(app_label, model)
    return Permission.objects.get(content_type=content_type, codename=codename).pk


def objects_with_permission(user, queryset: models.QuerySet, codename: str) -> models.QuerySet:
    """The objects of `queryset` on which the user, or one of their units' groups, holds `codename`.

    Driven from the grant tables: the union of the user's own grants and their groups' grants (an
    indexed lookup each), then the objects by primary key. Superusers get no shortcut. Where the grant models
    carry the object's order (`list_order`, sip.models), pages in that order are merged from the grant rows
    (organisations/granted.py).
    """
    if not is_staff_member(user):
        return queryset.none()
    return _granted_to(user.pk, sorted(group_ids(user)), queryset, codename)


def grant_key(user) -> tuple[int, tuple[int, ...]] | None:
    """What objects_with_permission(user, …) depends on: (user id, the user's groups); None for a user who sees
    nothing (then it is `queryset.none()`)."""
    if not is_staff_member(user):
        return None
    return user.pk, tuple(sorted(group_ids(user)))


def granted_by_key(key: tuple[int, tuple[int, ...]], queryset: models.QuerySet, codename: str) -> models.QuerySet:
    """objects_with_permission for the user of `grant_key(user)` (not None): the same gate."""
    user_id, groups = key
    return _granted_to(user_id, list(groups), queryset, codename)


def _granted_to(user_id: int, groups, queryset: models.QuerySet, codename: str) -> models.QuerySet:
    from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

    model = queryset.model
    user_model, group_model = get_user_obj_perms_model(model), get_group_obj_perms_model(model)

    def grant_sets(user_id, groups):
        perm = permission_id(model._meta.app_label, model._meta.model_name, codename)
        user_grants = user_model.objects.filter(user_id=user_id, permission_id=perm).values("content_object_id")
        group_grants = group_model.objects.filter(
            group_id__in=groups, permission_id=perm
        ).values("content_object_id")
        return user_grants, group_grants

    gated = granted(queryset, grant_sets(user_id, groups))
    if isinstance(gated, GrantedQuerySet):  # its count is then compiled once per number of groups
        gated._grants_of = ((model._meta.label_lower, codename), grant_sets, (user_id, tuple(groups)))
        gated._ordered_grants = OrderedGrants(
            user_model, group_model, permission_id(model._meta.app_label, model._meta.model_name, codename),
            user_id, tuple(groups))
    return gated


_BIGINT = 2**63


class VisibleByKey:
    """`get_visible(objects_with_permission(user, Model.objects.all(), codename), pk)`, prepared: the same gate
    and the same answer (the object, or NotFound), with the query compiled once per number of the user's groups
    (organisations/prepared.py). A key that is not a plain integer in range takes the ordinary path, so odd
    input is answered exactly as before."""

    def __init__(self, model: type[models.Model], codename: str, rows=None):
        """`rows`: what to read with the object (select_related, only), applied to the gated queryset; it must not
        read the clock or anything else that changes (the query is compiled once)."""
        self.model, self.codename, self.rows = model, codename, rows or (lambda queryset: queryset)
        self.prepared = Prepared(model, lambda user_id, groups, pk: self.rows(_granted_to(
            user_id, groups, model._default_manager.all(), codename)).filter(pk=pk))

    def __call__(self, user, pk):
        key = pk if type(pk) is int else (int(pk) if isinstance(pk, str) and pk.isascii() and pk.isdigit() else None)
        if key is None or not 0 < key < _BIGINT:
            gated = objects_with_permission(user, self.model._default_manager.all(), self.codename)
            return get_visible(self.rows(gated), pk)
        if not is_staff_member(user):
            raise NotFound
        found = self.prepared(user.pk, tuple(sorted(group_ids(user))), key)
        if not found:
            raise NotFound
        return found[0]


def has_object_permission(user, obj, codename: str) -> bool:
    return objects_with_permission(user, type(obj)._default_manager.filter(pk=obj.pk), codename).exists()


def grant(groups: Iterable, obj, codenames: Iterable[str]) -> None:
    from guardian.shortcuts import assign_perm

    for codename in codenames:
        for group in groups:
            assign_perm(codename, group, obj)


def revoke(groups: Iterable, obj, codenames: Iterable[str]) -> None:
    from guardian.shortcuts import remove_perm

    for codename in codenames:
        for group in groups:
            remove_perm(codename, group, obj)
