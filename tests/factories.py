"""factory-boy factories that go through the services, so unit groups and memberships stay in sync."""

import itertools

import factory
from stdnum import luhn

from organisations import services
from organisations.models import Organisation, OrganisationKind, Role, Unit, UnitKind, User

_org_numbers = itertools.count(100)


def organisation_number() -> str:
    # Third digit ≥ 2 marks a legal person; the tenth digit is the Luhn check digit over the first nine.
    body = f"2120{next(_org_numbers):05d}"
    return f"{body[:6]}-{body[6:]}{luhn.calc_check_digit(body)}"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = OrganisationKind.KOMMUN
    organisation_number = factory.LazyFunction(organisation_number)


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Enhet {n}")
    kind = UnitKind.ENHET
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.create_unit(None, check_access=False, **kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"Förnamn{n}")
    last_name = "Testsson"
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password("correct-horse-battery")


def member(unit: Unit, role: str = Role.SOCIALSEKRETERARE, user: User | None = None, **user_kwargs) -> User:
    """A user with an active membership in `unit`."""
    user = user or UserFactory(**user_kwargs)
    services.add_membership(None, user=user, unit=unit, role=role, check_access=False)
    return user
