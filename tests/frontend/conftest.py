import pytest
from django.test import Client

from organisations.models import Role
from tests.frontend.builders import build_plan


@pytest.fixture
def built(world):
    """A plan of unit_a (organisation A, with consent) in which unit_b takes part without B's consent yet."""
    return build_plan(world.users_a[Role.SOCIALSEKRETERARE], world.unit_a, units=[world.unit_b],
                      consent_for=[world.org_a])


def browser_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
