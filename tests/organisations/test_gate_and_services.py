import pytest
from django.core.exceptions import ValidationError

from organisations import access, services
from organisations.errors import Conflict, Forbidden, NotFound
from organisations.models import Membership, Organisation, Role, Unit, User
from organisations.validators import validate_organisation_number
from tests.factories import OrganisationFactory, UnitFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def fresh(user):
    return User.objects.get(pk=user.pk)


def test_unit_group_follows_memberships(world):
    admin = world.users_a[Role.ORG_ADMIN]
    user = UserFactory()
    membership = services.add_membership(admin, user=user, unit=world.unit_a2, role=Role.BEHANDLARE)
    assert world.unit_a2.group.user_set.filter(pk=user.pk).exists()
    services.add_membership(admin, user=user, unit=world.unit_a2, role=Role.SAMORDNARE)
    services.update_membership(admin, membership, active=False)
    assert world.unit_a2.group.user_set.filter(pk=user.pk).exists(), "still a samordnare there"
    services.remove_membership(admin, Membership.objects.get(user=user, role=Role.SAMORDNARE))
    assert not world.unit_a2.group.user_set.filter(pk=user.pk).exists()


def test_duplicate_active_membership_is_conflict(world):
    admin = world.users_a[Role.ORG_ADMIN]
    with pytest.raises(Conflict):
        services.add_membership(admin, user=world.users_a[Role.BEHANDLARE], unit=world.unit_a,
                                role=Role.BEHANDLARE)


def test_only_org_admin_changes_units(world):
    with pytest.raises(Forbidden):
        services.update_unit(world.users_a[Role.PROCESSLEDARE], world.unit_a, name="X")
    with pytest.raises(Forbidden):
        services.update_unit(world.users_a[Role.ORG_ADMIN], world.unit_b, name="X")
    services.update_unit(world.users_a[Role.ORG_ADMIN], world.unit_a, name="Vuxen")
    assert Unit.objects.get(pk=world.unit_a.pk).name == "Vuxen"


def test_unit_cannot_become_its_own_ancestor(world):
    admin = world.users_a[Role.ORG_ADMIN]
    top = world.unit_a.parent
    with pytest.raises(ValidationError) as exc:
        services.update_unit(admin, top, parent=world.unit_a)
    assert "parent" in exc.value.message_dict


def test_org_admin_cannot_change_user_working_elsewhere_too(world):
    shared = member(world.unit_a, Role.BEHANDLARE)
    member(world.unit_b, Role.BEHANDLARE, user=shared)
    with pytest.raises(Forbidden):
        services.update_user(world.users_a[Role.ORG_ADMIN], shared, title="X")


def test_admin_cannot_deactivate_self(world):
    admin = world.users_a[Role.ORG_ADMIN]
    with pytest.raises(ValidationError):
        services.update_user(admin, admin, is_active=False)


def test_staff_and_visibility(world):
    a = fresh(world.users_a[Role.SOCIALSEKRETERARE])
    assert access.is_staff_member(a)
    assert not access.is_staff_member(fresh(world.outsider))
    assert set(access.visible_organisations(a)) == {world.org_a, world.org_b}
    assert world.unit_b in access.visible_units(a)
    assert world.users_b[Role.BEHANDLARE] not in access.visible_users(a)
    assert world.users_a[Role.BEHANDLARE] in access.visible_users(a)
    assert not access.visible_memberships(a).filter(unit__organisation=world.org_b).exists()
    with pytest.raises(NotFound):
        access.get_visible(access.visible_users(a), world.users_b[Role.BEHANDLARE].pk)
    with pytest.raises(NotFound):
        access.get_visible(access.visible_users(a), "not-a-number")


def test_outsider_sees_nothing(world):
    outsider = fresh(world.outsider)
    assert not access.visible_organisations(outsider).exists()
    assert not access.visible_units(outsider).exists()
    assert not access.visible_users(outsider).exists()


def test_superuser_is_no_shortcut(world):
    root = User.objects.create_superuser("root", "root@example.org", "x" * 12)
    assert not access.visible_users(root).exists()
    assert not access.visible_organisations(root).exists()


def test_inactive_user_sees_nothing(world):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert not access.is_staff_member(fresh(user))


def test_acting_membership_prefers_chosen_unit_then_organisation(world):
    user = member(world.unit_a, Role.BEHANDLARE)
    member(world.unit_b, Role.SAMORDNARE, user=user)
    user = fresh(user)
    assert access.acting_membership(user, unit_id=world.unit_b.pk).unit == world.unit_b
    assert access.acting_membership(user, organisation_id=world.org_b.pk).unit == world.unit_b
    assert access.acting_membership(user).unit == world.unit_a


@pytest.mark.parametrize(("number", "valid"), [
    ("212000-1124", True),  # Malmö stad
    ("2120001124", True),
    ("232100-0255", True),  # Region Skåne
    ("212000-1125", False),  # wrong check digit
    ("12345", False),
])
def test_organisation_number(number, valid):
    if valid:
        validate_organisation_number(number)
    else:
        with pytest.raises(ValidationError):
            validate_organisation_number(number)


def test_create_organisation_normalises_number():
    organisation = services.create_organisation(None, name="Lunds kommun", kind="kommun",
                                                organisation_number="2120001165")
    assert organisation.organisation_number == "212000-1165"
    with pytest.raises(ValidationError) as exc:
        services.create_organisation(None, name="Fel", kind="kommun", organisation_number="2120001166")
    assert "organisation_number" in exc.value.message_dict


def test_delete_unit_removes_its_group(world):
    unit = UnitFactory(organisation=world.org_a)
    group_id = unit.group_id
    services.delete_unit(world.users_a[Role.ORG_ADMIN], unit)
    from django.contrib.auth.models import Group

    assert not Group.objects.filter(pk=group_id).exists()


def test_factories_make_valid_org_numbers():
    for _ in range(3):
        validate_organisation_number(OrganisationFactory().organisation_number)
    assert Organisation.objects.count() == 3
