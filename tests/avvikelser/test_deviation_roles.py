"""A user's contact designations and forum seats (avvikelser.access) are read in one query, kept for the request
on the user object, and read again after organisations.access.forget(user)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from avvikelser import access
from avvikelser.models import ContactPerson, Forum, ForumMember, ForumRole
from organisations import access as org_access
from organisations.models import Role

pytestmark = pytest.mark.django_db


def test_designations_and_seats_in_one_query_kept_until_forgotten(world):
    user = world.users_a[Role.SOCIALSEKRETERARE]
    forum = Forum.objects.create(name="Styrgrupp (roller)")
    ForumMember.objects.create(forum=forum, user=user, role=ForumRole.PROCESSLEDARE)
    ContactPerson.objects.create(organisation=world.org_a, user=user)
    org_access.memberships(user)
    with CaptureQueriesContext(connection) as ctx:
        assert access.contact_organisation_ids(user) == {world.org_a.pk}
        assert access.forum_ids(user) == access.forum_ids(user, ForumRole.PROCESSLEDARE) == {forum.pk}
        assert access.forum_ids(user, "ledamot") == set()
    assert len(ctx.captured_queries) == 1
    other = Forum.objects.create(name="Styrgrupp (till)")
    ForumMember.objects.create(forum=other, user=user, role="ledamot")
    assert access.forum_ids(user) == {forum.pk}  # kept for the request
    org_access.forget(user)
    assert access.forum_ids(user) == {forum.pk, other.pk}
    assert access.forum_ids(user, "ledamot") == {other.pk}


def test_a_user_without_either_reads_nothing_more(world):
    user = world.users_b[Role.BEHANDLARE]
    assert access.contact_organisation_ids(user) == set() and access.forum_ids(user) == set()
