import datetime

import pytest
from django.core.exceptions import ValidationError

from avvikelser import services
from avvikelser.access import get_deviation, visible_deviations
from avvikelser.models import Category, ContactPerson, Deviation, Forum, ForumMember, State
from organisations.errors import Conflict, Forbidden, NotFound
from organisations.models import Role
from tests.factories import OrganisationFactory, UnitFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(world):
    forum = Forum.objects.create(name="Styrgrupp test")
    forum.organisations.set([world.org_a, world.org_b])
    contact = world.users_b[Role.BEHANDLARE]
    ContactPerson.objects.create(organisation=world.org_b, user=contact)
    leader = member(world.unit_a2, Role.PROCESSLEDARE)
    ForumMember.objects.create(forum=forum, user=leader, role="processledare")
    return forum, contact, leader


def draft(world, **extra):
    values = {"counterpart_organisation": world.org_b, "occurred_on": datetime.date.today(),
              "category": Category.objects.get(key="brister-i-aterkoppling"),
              "what_happened": "Återkoppling om utskrivning uteblev trots överenskommelse.", **extra}
    return services.create_draft(world.users_a[Role.SOCIALSEKRETERARE], reporting_unit=world.unit_a, **values)


def test_full_workflow(world, setup):
    forum, contact, _leader = setup
    reporter = world.users_a[Role.SOCIALSEKRETERARE]
    deviation = draft(world)
    assert deviation.forum == forum
    with pytest.raises(NotFound):
        get_deviation(contact, deviation.pk)  # a draft is the reporter's own
    deviation = services.transition(reporter, deviation, State.INKOMMEN, 1)
    assert deviation.acknowledge_due_at.weekday() < 5
    with pytest.raises(Forbidden):
        services.transition(reporter, deviation, State.MOTTAGEN, deviation.version)
    deviation = services.transition(contact, deviation, State.MOTTAGEN, deviation.version)
    with pytest.raises(ValidationError):
        services.transition(contact, deviation, State.BESVARAD, deviation.version)
    deviation = services.transition(contact, deviation, State.BESVARAD, deviation.version,
                                    analysis="Rutinen var okänd på mottagningen.", measures="Utbildning i rutinen.")
    with pytest.raises(Conflict):
        services.transition(contact, deviation, State.INKOMMEN, deviation.version)
    deviation = services.transition(reporter, deviation, State.AVSLUTAD, deviation.version)
    assert deviation.state == State.AVSLUTAD and deviation.closed_at
    states = list(deviation.changes.filter(action="transition", field="state").values_list("new", flat=True))
    assert states == ["inkommen", "mottagen", "besvarad", "avslutad"]


def test_visibility(world, setup):
    _forum, contact, leader = setup
    reporter = world.users_a[Role.SOCIALSEKRETERARE]
    deviation = services.transition(reporter, draft(world), State.INKOMMEN, 1)
    outsider_org = OrganisationFactory()
    outsider = member(UnitFactory(organisation=outsider_org), Role.PROCESSLEDARE)
    assert visible_deviations(outsider).count() == 0
    with pytest.raises(NotFound):
        get_deviation(outsider, deviation.pk)
    assert get_deviation(leader, deviation.pk) == deviation
    assert get_deviation(contact, deviation.pk) == deviation
    region_colleague = world.users_b[Role.SAMORDNARE]  # same organisation, not a contact person
    with pytest.raises(NotFound):
        get_deviation(region_colleague, deviation.pk)


def test_personal_data_is_rejected_with_a_field_error(world, setup):
    with pytest.raises(ValidationError) as exc:
        draft(world, what_happened="Patienten 19811218-9876 fick ingen tid.", suggestion="Ring 070-123 45 67")
    errors = exc.value.message_dict
    assert set(errors) == {"what_happened", "suggestion"}
    assert "personnummer" in errors["what_happened"][0]
    assert "9876" not in str(errors)
    # An invalid check digit is no personnummer.
    draft(world, what_happened="Ärendenummer 811218-9875 saknades i remissen.")


def test_merging_categories_keeps_old_reports_countable(world, setup):
    _forum, _contact, leader = setup
    old = Category.objects.get(key="otydlig-malgrupp")
    new = Category.objects.get(key="ansvarsfordelning")
    deviation = draft(world, category=old)
    services.merge_categories(leader, old, new)
    deviation.refresh_from_db()
    assert deviation.category == old
    roots = services.category_roots()
    assert roots[old.pk] == new.pk
    counted = sum(1 for d in Deviation.objects.all() if roots[d.category_id] == new.pk)
    assert counted == 1
    with pytest.raises(ValidationError):
        draft(world, category=old)
    with pytest.raises(Forbidden):
        services.merge_categories(world.users_a[Role.BEHANDLARE], new, old)


def test_comments_are_guarded_and_only_for_the_two_sides(world, setup):
    _forum, contact, _leader = setup
    reporter = world.users_a[Role.SOCIALSEKRETERARE]
    deviation = services.transition(reporter, draft(world), State.INKOMMEN, 1)
    services.comment(contact, deviation, "Vi tittar på det.")
    with pytest.raises(ValidationError):
        services.comment(reporter, deviation, "Mejla mig på anna@example.org")
    with pytest.raises(NotFound):
        services.comment(world.users_b[Role.SAMORDNARE], deviation, "Hej")
