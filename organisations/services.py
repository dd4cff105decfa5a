"""Every write on organisations, units, users and memberships.

Each function takes the acting user first, checks the gate, runs in one transaction and records the
audit entry in that same transaction.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from organisations import access, audit
from organisations.errors import Conflict
from organisations.models import AuditAction, Membership, Organisation, Unit, User

UNIT_FIELDS = ("name", "kind", "parent_id", "active")
USER_FIELDS = ("first_name", "last_name", "email", "title", "phone", "is_active")


def _snapshot(obj, names) -> dict:
    return {name: getattr(obj, name) for name in names}


def _validate_parent(organisation: Organisation, parent: Unit | None, unit: Unit | None = None) -> None:
    if parent is None:
        return
    if parent.organisation_id != organisation.pk:
        raise ValidationError({"parent": _("Den överordnade enheten måste tillhöra samma organisation.")})
    node = parent
    while node is not None:
        if unit is not None and node.pk == unit.pk:
            raise ValidationError({"parent": _("En enhet kan inte ligga under sig själv.")})
        node = node.parent


def _group_name(organisation_id: int, unit_name: str) -> str:
    # Group names are unique in auth; the random part keeps renames and equal names apart.
    import secrets

    return f"unit:{organisation_id}:{secrets.token_hex(6)}:{unit_name}"[:150]


# --- Organisations (superuser/seed only; no API writes) --------------------------------------------------

def create_organisation(actor, *, name: str, kind: str, organisation_number: str) -> Organisation:
    from organisations.validators import normalise_organisation_number, validate_organisation_number

    try:
        validate_organisation_number(organisation_number)
    except ValidationError as exc:
        raise ValidationError({"organisation_number": exc.messages}) from None
    with transaction.atomic():
        organisation = Organisation(
            name=name, kind=kind, organisation_number=normalise_organisation_number(organisation_number)
        )
        organisation.full_clean()
        organisation.save()
        audit.record(actor, AuditAction.CREATE, organisation, organisation_id=organisation.pk,
                     fields=["name", "kind", "organisation_number"])
    return organisation


# --- Units -----------------------------------------------------------------------------------------------

def create_unit(actor, *, organisation: Organisation, name: str, kind: str, parent: Unit | None = None,
                check_access: bool = True) -> Unit:
    if check_access:
        access.require_administer(actor, organisation.pk)
    _validate_parent(organisation, parent)
    with transaction.atomic():
        group = Group.objects.create(name=_group_name(organisation.pk, name))
        unit = Unit(organisation=organisation, parent=parent, name=name, kind=kind, group=group)
        unit.full_clean(exclude=["group"])
        unit.save()
        audit.record(actor, AuditAction.CREATE, unit, organisation_id=organisation.pk,
                     fields=["name", "kind", "parent_id"])
    return unit


def update_unit(actor, unit: Unit, **changes) -> Unit:
    access.require_administer(actor, unit.organisation_id)
    with transaction.atomic():
        unit = Unit.objects.select_for_update().get(pk=unit.pk)
        before = _snapshot(unit, UNIT_FIELDS)
        for name, value in changes.items():
            if name not in ("name", "kind", "parent", "active"):
                raise ValidationError({name: _("Fältet kan inte ändras.")})
            setattr(unit, name, value)
        _validate_parent(unit.organisation, unit.parent, unit)
        unit.full_clean(exclude=["group"])
        unit.save()
        fields = audit.changed_fields(before, _snapshot(unit, UNIT_FIELDS))
        audit.record(actor, AuditAction.UPDATE, unit, organisation_id=unit.organisation_id, fields=fields)
    return unit


def delete_unit(actor, unit: Unit) -> None:
    access.require_administer(actor, unit.organisation_id)
    with transaction.atomic():
        unit = Unit.objects.select_for_update().get(pk=unit.pk)
        if unit.children.exists() or unit.memberships.exists():
            raise Conflict(
                _("Enheten har underenheter eller medlemmar. Avaktivera den i stället."), code="unit_in_use"
            )
        audit.record(actor, AuditAction.DELETE, unit, organisation_id=unit.organisation_id)
        group = unit.group
        unit.delete()
        group.delete()


# --- Memberships and the unit groups ---------------------------------------------------------------------

def _sync_group(user: User, unit: Unit) -> None:
    """The unit's group holds exactly the users with an active membership in the unit."""
    if Membership.objects.filter(user=user, unit=unit, active=True).exists():
        user.groups.add(unit.group_id)
    else:
        user.groups.remove(unit.group_id)
    access.forget(user)


def add_membership(actor, *, user: User, unit: Unit, role: str, check_access: bool = True) -> Membership:
    if check_access:
        access.require_administer(actor, unit.organisation_id)
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(user=user, unit=unit, role=role)
        if not created:
            if membership.active:
                raise Conflict(_("Användaren har redan den rollen i enheten."), code="membership_exists")
            membership.active = True
            membership.save(update_fields=["active", "updated_at"])
        _sync_group(user, unit)
        audit.record(actor, AuditAction.CREATE if created else AuditAction.UPDATE, membership,
                     organisation_id=unit.organisation_id, fields=["user_id", "unit_id", "role", "active"])
    return membership


def update_membership(actor, membership: Membership, *, role: str | None = None,
                      active: bool | None = None) -> Membership:
    access.require_administer(actor, membership.unit.organisation_id)
    with transaction.atomic():
        membership = Membership.objects.select_for_update().select_related("unit", "user").get(pk=membership.pk)
        before = _snapshot(membership, ("role", "active"))
        if role is not None:
            if Membership.objects.filter(user_id=membership.user_id, unit_id=membership.unit_id,
                                         role=role).exclude(pk=membership.pk).exists():
                raise Conflict(_("Användaren har redan den rollen i enheten."), code="membership_exists")
            membership.role = role
        if active is not None:
            membership.active = active
        membership.full_clean()
        membership.save()
        _sync_group(membership.user, membership.unit)
        audit.record(actor, AuditAction.UPDATE, membership, organisation_id=membership.unit.organisation_id,
                     fields=audit.changed_fields(before, _snapshot(membership, ("role", "active"))))
    return membership


def remove_membership(actor, membership: Membership) -> None:
    access.require_administer(actor, membership.unit.organisation_id)
    with transaction.atomic():
        unit, user = membership.unit, membership.user
        audit.record(actor, AuditAction.DELETE, membership, organisation_id=unit.organisation_id)
        membership.delete()
        _sync_group(user, unit)


# --- Users -----------------------------------------------------------------------------------------------

def create_user(actor, *, username: str, unit: Unit, role: str, first_name: str = "", last_name: str = "",
                email: str = "", title: str = "", phone: str = "", password: str | None = None,
                check_access: bool = True) -> User:
    """A new member of staff always starts with a membership, so their organisation can see them."""
    if check_access:
        access.require_administer(actor, unit.organisation_id)
    with transaction.atomic():
        user = User(username=username, first_name=first_name, last_name=last_name, email=email,
                    title=title, phone=phone)
        if password:
            from django.contrib.auth.password_validation import validate_password

            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise ValidationError({"password": exc.messages}) from None
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        audit.record(actor, AuditAction.CREATE, user, organisation_id=unit.organisation_id,
                     fields=["username", *USER_FIELDS])
        add_membership(actor, user=user, unit=unit, role=role, check_access=False)
    return user


def update_user(actor, target: User, **changes) -> User:
    access.require_administer_user(actor, target)
    with transaction.atomic():
        target = User.objects.select_for_update().get(pk=target.pk)
        before = _snapshot(target, USER_FIELDS)
        for name, value in changes.items():
            if name not in USER_FIELDS:
                raise ValidationError({name: _("Fältet kan inte ändras.")})
            setattr(target, name, value)
        if target.pk == actor.pk and not target.is_active:
            raise ValidationError({"is_active": _("Du kan inte avaktivera ditt eget konto.")})
        target.full_clean(exclude=["password"])
        target.save()
        audit.record(actor, AuditAction.UPDATE, target,
                     fields=audit.changed_fields(before, _snapshot(target, USER_FIELDS)))
    return target
