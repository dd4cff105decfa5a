"""The delaktighet report read from its stored columns (migration 0003_report_columns) gives exactly what the
join computation gave before, on generated data with the edge cases; the columns are written by every write
path, follow corrections, are filled by the migration, and go with the plan.

`reference_aggregate` below is the report's aggregation as it was before the stored columns (a verbatim copy of
the old reports._aggregate): every report here is computed both ways and compared whole.
"""

import datetime
import importlib
import random
from types import SimpleNamespace
from unittest import mock

import pytest
from django.apps import apps as global_apps
from django.db import connection, transaction
from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractYear
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from organisations.models import Role, User
from sip.delaktighet import reports, services
from sip.delaktighet.models import (
    AgeBand,
    Answer,
    AnswerMode,
    Invitation,
    InvitationStatus,
    Item,
    ItemKind,
    Response,
    TemplateVersion,
)
from sip.models import Gender, Meeting, MeetingStatus, Participant, ParticipantKind, Person, Sip, SipUnit

pytestmark = pytest.mark.django_db

fill_migration = importlib.import_module("sip.delaktighet.migrations.0003_report_columns")


# --- the computation before the stored columns (reference) ------------------------------------------------

def _old_invitation_q(scope):
    answered = Q(response__isnull=False, response__lead_organisation_id__in=scope.organisations)
    unanswered = Q(response__isnull=True, sip__lead_organisation_id__in=scope.organisations)
    if scope.period_start:
        answered &= Q(response__meeting_held_on__gte=scope.period_start)
        unanswered &= Q(meeting__held_at__date__gte=scope.period_start)
    if scope.period_end:
        answered &= Q(response__meeting_held_on__lte=scope.period_end)
        unanswered &= Q(meeting__held_at__date__lte=scope.period_end)
    q = Q(version_id=scope.version_id) & (answered | unanswered)
    if scope.unit_id:
        q &= Q(sip_id__in=reports._sips_of_unit(scope.unit_id))
    return q


def _old_invitation_groups(dims):
    is_person = Q(participant__kind=ParticipantKind.PERSON)
    aliases, expressions = {}, {}
    if "organisation" in dims:
        expressions["g_organisation"] = Coalesce(F("response__lead_organisation_id"), F("sip__lead_organisation_id"))
    if "gender" in dims:
        expressions["g_gender"] = Coalesce(
            F("response__gender"),
            Case(When(is_person, then=F("sip__person__gender")), default=Value(Gender.VILL_EJ_UPPGE),
                 output_field=CharField()))
    if "age_band" in dims:
        aliases["r_age"] = (ExtractYear(Coalesce("meeting__held_at", "created_at"))
                            - F("sip__person__birth_year"))
        expressions["g_age_band"] = Coalesce(
            F("response__age_band"),
            Case(When(~is_person | Q(sip__person__birth_year__isnull=True) | Q(sip__person__birth_year=0),
                      then=Value(AgeBand.UNKNOWN)),
                 When(Q(r_age__lt=25), then=Value(AgeBand.UNDER_25)),
                 When(Q(r_age__lt=45), then=Value(AgeBand.AGE_25_44)),
                 When(Q(r_age__lt=65), then=Value(AgeBand.AGE_45_64)),
                 default=Value(AgeBand.AGE_65_PLUS), output_field=CharField()))
    return aliases, expressions


def _old_grouped(queryset, groups, **aggregates):
    if groups:
        return list(queryset.values(**groups).annotate(**aggregates).order_by())
    return [queryset.aggregate(**aggregates)]


def reference_aggregate(scope, dims, items):
    raw = reports._Raw({}, {}, {}, {}, {})
    key = reports._key
    aliases, groups = _old_invitation_groups(dims)
    invitations = Invitation.objects.filter(_old_invitation_q(scope)).alias(**aliases)
    for row in _old_grouped(invitations, groups, n=Count("pk")):
        raw.invitations[key(row, dims)] = row["n"]
    scale_ids = [item["id"] for item in items if item["kind"] == ItemKind.SCALE_1_6]
    if scale_ids:
        own_mean_ge4 = Subquery(
            Answer.objects.filter(response_id=OuterRef("pk"), item_id__in=scale_ids, value_int__isnull=False)
            .order_by().values("response_id").annotate(mean=Avg("value_int"))
            .annotate(flag=Case(When(mean__gte=4, then=Value(1)), default=Value(0), output_field=IntegerField()))
            .values("flag")[:1], output_field=IntegerField())
    else:
        own_mean_ge4 = Value(None, output_field=IntegerField())
    field = {"organisation": "lead_organisation_id"}
    responses = Response.objects.filter(reports._response_q(scope))
    response_groups = {f"g_{name}": F(field.get(name, name)) for name in dims}
    for row in responses.values(own_mean_ge4=own_mean_ge4, **response_groups).annotate(n=Count("pk")).order_by():
        k = key(row, dims)
        raw.answers[k] = raw.answers.get(k, 0) + row["n"]
        if row["own_mean_ge4"] is not None:
            raw.rated[k] = raw.rated.get(k, 0) + row["n"]
            raw.rated_ge4[k] = raw.rated_ge4.get(k, 0) + row["n"] * row["own_mean_ge4"]
    item_ids = [item["id"] for item in items]
    if item_ids:
        answers = Answer.objects.filter(reports._response_q(scope, "response__"), item_id__in=item_ids,
                                        value_int__isnull=False)
        answer_groups = {f"g_{name}": F(f"response__{field.get(name, name)}") for name in dims}
        for row in answers.values("item_id", "value_int", **answer_groups).annotate(n=Count("pk")).order_by():
            raw.distribution[(row["item_id"], key(row, dims), row["value_int"])] = row["n"]
    return raw


def both(function, *args, **kwargs):
    """(the report from the stored columns, the report computed as before)."""
    new = function(*args, **kwargs)
    with mock.patch.object(reports, "_aggregate", reference_aggregate):
        old = function(*args, **kwargs)
    return new, old


# --- generated data ---------------------------------------------------------------------------------------

GENDERS = [Gender.KVINNA, Gender.MAN, Gender.ANNAT, Gender.VILL_EJ_UPPGE]
BIRTH_YEARS = [None, 0, 1940, 1958, 1961, 1979, 1982, 2001, 2008]  # unknown, and every band incl. its edges
DAYS = [datetime.datetime(2024, 12, 31, 23, 30), datetime.datetime(2025, 1, 1, 0, 30),
        datetime.datetime(2025, 3, 10, 10, 0), datetime.datetime(2025, 6, 30, 23, 59), None]


def second_version():
    """A second published participation questionnaire (older, so the current one stays current)."""
    current = services.current_version()
    version = TemplateVersion.objects.create(template=current.template, number=current.number + 1,
                                             title="Äldre version", published_at=current.published_at
                                             - datetime.timedelta(days=400))
    for item in current.items.all():
        Item.objects.create(version=version, order=item.order, code=item.code, kind=item.kind, text=item.text,
                            choices=item.choices)
    return version


def random_answers(rng, version):
    answers = {}
    for item in version.items.all():
        if rng.random() < 0.25:
            continue  # every item may be skipped
        if item.kind == ItemKind.SCALE_1_6:
            answers[item.code] = rng.choice([1, 2, 3, 4, 4, 5, 6, 6])
        elif item.kind == ItemKind.YES_NO_UNKNOWN:
            answers[item.code] = rng.choice(["yes", "no", "unknown"])
        elif item.kind == ItemKind.YES_PARTLY_NO:
            answers[item.code] = rng.choice(["yes", "partly", "no"])
        elif item.kind == ItemKind.SINGLE_CHOICE:
            answers[item.code] = rng.choice(item.choices)
        elif item.kind == ItemKind.FREE_TEXT:
            answers[item.code] = "Bra."
    if rng.random() < 0.15:
        answers = {code: value for code, value in answers.items()
                   if version.items.get(code=code).kind != ItemKind.SCALE_1_6}  # no 1–6 answer at all
    return answers


def make_plan(world, rng, index, organisation, unit):
    person = Person.objects.create(
        identifier_kind="reservnummer", identifier=f"R-TEST-{index}", first_name="Test", last_name=str(index),
        gender=GENDERS[index % len(GENDERS)], birth_year=BIRTH_YEARS[index % len(BIRTH_YEARS)],
        registered_by_unit=unit)
    sip = Sip.objects.create(person=person, initiating_unit=unit, lead_organisation=organisation,
                             need_identified_on=datetime.date(2024, 11, 1))
    SipUnit.objects.create(sip=sip, unit=unit)
    return sip


def held(sip, rng, when, *, related=2):
    held_at = timezone.make_aware(when) if when else None
    start = held_at or timezone.now()
    meeting = Meeting.objects.create(sip=sip, starts_at=start - datetime.timedelta(hours=1), ends_at=start,
                                     status=MeetingStatus.HELD, held_at=held_at)
    Participant.objects.create(meeting=meeting, kind=ParticipantKind.PERSON, attended=True)
    for n in range(related):
        Participant.objects.create(meeting=meeting, kind=ParticipantKind.RELATED, attended=rng.random() < 0.8,
                                   name=f"Närstående {n}")
    Participant.objects.create(meeting=meeting, kind=ParticipantKind.STAFF, attended=True, name="Personal")
    return meeting


def answer(invitation, rng):
    with transaction.atomic():
        return services._store(invitation, random_answers(rng, invitation.version), share_with_staff=False,
                               mode=AnswerMode.SELF)


def build(world, seed=1, plans=36):
    """Plans of both organisations (A's in two units), one or two held meetings each (a meeting without a
    time too), the person and närstående invited through services.invite_attendees; then answered through
    services._store, declined, or left — some invitations to the older questionnaire version."""
    rng = random.Random(seed)
    older = second_version()
    for index in range(plans):
        organisation, unit = [(world.org_a, world.unit_a), (world.org_a, world.unit_a2),
                              (world.org_b, world.unit_b)][index % 3]
        sip = make_plan(world, rng, index, organisation, unit)
        for when in rng.sample(DAYS, rng.choice([1, 2])):
            meeting = held(sip, rng, when, related=rng.choice([0, 1, 2]))
            for invitation in services.invite_attendees(meeting.pk):
                if rng.random() < 0.2:
                    Invitation.objects.filter(pk=invitation.pk).update(version=older)
                    invitation.refresh_from_db()
                fate = rng.random()
                if fate < 0.6:
                    answer(invitation, rng)
                elif fate < 0.75:
                    Invitation.objects.filter(pk=invitation.pk).update(status=InvitationStatus.DECLINED,
                                                                      closed_at=timezone.now())
    return older


def unfill(fraction, seed=2):
    """Forget the stored columns of some rows, as bulk_create or a COPY load leaves them."""
    rng = random.Random(seed)
    invitations = [pk for pk in Invitation.objects.values_list("pk", flat=True) if rng.random() < fraction]
    Invitation.objects.filter(pk__in=invitations).update(lead_organisation=None, gender="", age_band="",
                                                         meeting_held_on=None)
    responses = [pk for pk in Response.objects.values_list("pk", flat=True) if rng.random() < fraction]
    Response.objects.filter(pk__in=responses).update(scale_answers=None, scale_sum=None)
    answers = [pk for pk in Answer.objects.values_list("pk", flat=True) if rng.random() < fraction]
    Answer.objects.filter(pk__in=answers).update(lead_organisation=None, meeting_held_on=None, gender="",
                                                 age_band="")


def org_admin(world, organisation):
    users = world.users_a if organisation == world.org_a else world.users_b
    return User.objects.get(pk=users[Role.ORG_ADMIN].pk)


def scopes(world, older):
    for organisation in (world.org_a, world.org_b):
        yield organisation, {}
        yield organisation, {"version": older.pk}
        yield organisation, {"period_start": datetime.date(2025, 1, 1)}
        yield organisation, {"period_end": datetime.date(2024, 12, 31)}
        yield organisation, {"period_start": datetime.date(2025, 1, 1), "period_end": datetime.date(2025, 3, 10)}
        yield organisation, {"organisation": organisation.pk}
    yield world.org_a, {"unit": world.unit_a2}
    yield world.org_a, {"unit": world.unit_a.pk, "period_start": datetime.date(2025, 3, 1)}


GROUPINGS = [(), ("gender",), ("age_band",), ("gender", "age_band")]


def assert_same_reports(world, older):
    checked = 0
    for organisation, filters in scopes(world, older):
        for group_by in GROUPINGS:
            new, old = both(reports.participation_report, org_admin(world, organisation), group_by=group_by,
                            **filters)
            assert new == old, (organisation.pk, filters, group_by)
            checked += 1
    for version in (None, older.pk):
        new, old = both(reports.organisation_report, [world.org_b.pk, world.org_a.pk], version=version)
        assert new == old
        new, old = both(reports.organisation_report, [world.org_a.pk], period_start=datetime.date(2025, 1, 1),
                        version=version)
        assert new == old
    return checked


# --- the report is exactly the same ------------------------------------------------------------------------

@pytest.mark.parametrize("unfilled", [0.0, 0.3, 1.0], ids=["filled", "mixed", "not-filled"])
@pytest.mark.parametrize("threshold", [5, 2])
def test_the_report_from_the_stored_columns_equals_the_join_computation(world, settings, unfilled, threshold):
    settings.DELAKTIGHET_MIN_CELL = threshold
    older = build(world)
    unfill(unfilled)
    assert Response.objects.count() > 20 and Invitation.objects.exclude(response__isnull=False).count() > 10
    assert Invitation.objects.filter(meeting__held_at__isnull=True).exists()
    assert Response.objects.filter(version=older).exists()
    assert assert_same_reports(world, older) > 50
    # the data did give suppressed cells, empty statistics and respondents without a 1–6 answer
    report = reports.participation_report(org_admin(world, world.org_a), group_by=("gender", "age_band"))
    assert reports.marker(threshold) in str(report)
    assert Response.objects.filter(scale_answers=0).exists() or unfilled == 1.0


def test_every_write_path_fills_the_columns_as_the_report_computed_them(world):
    build(world, seed=3, plans=12)
    assert not Invitation.objects.filter(lead_organisation__isnull=True).exists()
    assert not Response.objects.filter(scale_answers__isnull=True).exists()
    assert not Answer.objects.filter(lead_organisation__isnull=True).exists()
    for invitation in Invitation.objects.select_related("sip__person", "participant", "meeting"):
        person, is_person = invitation.sip.person, invitation.participant.kind == ParticipantKind.PERSON
        year = timezone.localtime(invitation.meeting.held_at or invitation.created_at).year
        assert invitation.lead_organisation_id == invitation.sip.lead_organisation_id
        assert invitation.gender == (person.gender if is_person else Gender.VILL_EJ_UPPGE)
        assert invitation.age_band == (services.age_band_in(person.birth_year, year) if is_person
                                       else AgeBand.UNKNOWN)
        assert invitation.meeting_held_on == (timezone.localdate(invitation.meeting.held_at)
                                              if invitation.meeting.held_at else None)
        response = Response.objects.filter(invitation=invitation).first()
        if response is not None:  # an answer is stored with what its invitation was counted with
            assert (response.gender, response.age_band) == (invitation.gender, invitation.age_band)
    for response in Response.objects.prefetch_related("answers__item"):
        scale = [a.value_int for a in response.answers.all() if a.item.kind == ItemKind.SCALE_1_6]
        assert (response.scale_answers, response.scale_sum) == (len(scale), sum(scale))
        for entry in response.answers.all():
            assert (entry.lead_organisation_id, entry.meeting_held_on, entry.gender, entry.age_band) == (
                response.lead_organisation_id, response.meeting_held_on, response.gender, response.age_band)


def stored_columns():
    return (list(Invitation.objects.order_by("pk").values_list("lead_organisation", "gender", "age_band",
                                                               "meeting_held_on")),
            list(Response.objects.order_by("pk").values_list("scale_answers", "scale_sum")),
            list(Answer.objects.order_by("pk").values_list("lead_organisation", "meeting_held_on", "gender",
                                                           "age_band")))


def test_the_migration_and_the_repair_fill_what_the_services_store(world):
    build(world, seed=4, plans=12)
    stored = stored_columns()
    unfill(1.0)
    editor = SimpleNamespace(connection=connection)  # the fill uses only the editor's connection
    fill_migration.fill(global_apps, editor)
    fill_migration.fill_answers(global_apps, editor)
    assert stored_columns() == stored
    unfill(0.5)
    filled = reports.fill_report_columns()
    assert stored_columns() == stored
    assert filled["invitations"] > 0 and filled["responses"] > 0 and filled["answers"] > 0
    assert reports.fill_report_columns() == {"invitations": 0, "responses": 0, "answers": 0}


# --- corrections: what the report means ---------------------------------------------------------------------

def test_unanswered_invitations_follow_a_corrected_person_and_answers_keep_theirs(world):
    older = build(world, seed=5, plans=18)
    person = Person.objects.filter(sips__invitations__participant__kind=ParticipantKind.PERSON,
                                   sips__invitations__status=InvitationStatus.SENT).first()
    answered_before = {r.pk: (r.gender, r.age_band) for r in Response.objects.all()}
    person.gender = Gender.ANNAT if person.gender != Gender.ANNAT else Gender.MAN
    person.birth_year = 1930
    person.save()
    own = Invitation.objects.filter(sip__person=person, participant__kind=ParticipantKind.PERSON)
    assert set(own.values_list("gender", "age_band")) == {(person.gender, AgeBand.AGE_65_PLUS)}
    related = Invitation.objects.filter(sip__person=person, participant__kind=ParticipantKind.RELATED)
    assert set(related.values_list("gender", "age_band")) <= {(Gender.VILL_EJ_UPPGE, AgeBand.UNKNOWN)}
    assert {r.pk: (r.gender, r.age_band) for r in Response.objects.all()} == answered_before
    assert_same_reports(world, older)


def test_unanswered_invitations_follow_the_plans_lead_organisation(world):
    older = build(world, seed=6, plans=18)
    sip = Sip.objects.filter(lead_organisation=world.org_a, invitations__response__isnull=True).first()
    sip.lead_organisation = world.org_b
    sip.save()
    assert set(Invitation.objects.filter(sip=sip).values_list("lead_organisation", flat=True)) == {world.org_b.pk}
    assert_same_reports(world, older)
    # a save that names other fields, or an instance loaded without the field, is handled too
    other = Sip.objects.filter(lead_organisation=world.org_a, invitations__isnull=False).first()
    with CaptureQueriesContext(connection) as queries:
        other.reason = "Ny bakgrund"
        other.save(update_fields=["reason"])
    assert len(queries) == 1  # no change of lead organisation: no extra query
    deferred = Sip.objects.only("id").get(pk=other.pk)
    deferred.lead_organisation_id = world.org_b.pk
    deferred.save(update_fields=["lead_organisation"])
    assert set(Invitation.objects.filter(sip=other).values_list("lead_organisation", flat=True)) == {world.org_b.pk}
    assert_same_reports(world, older)


def test_saving_a_person_or_plan_without_a_change_costs_no_query(world):
    build(world, seed=7, plans=3)
    person = Person.objects.first()
    with CaptureQueriesContext(connection) as queries:
        person.first_name = "Ny"
        person.save()
    assert len(queries) == 1
    sip = Sip.objects.first()
    with CaptureQueriesContext(connection) as queries:
        sip.reason = "Ny"
        sip.save()
    assert len(queries) == 1


# --- cost ----------------------------------------------------------------------------------------------------

def test_queries_are_constant_and_few(world):
    def counts():
        result = []
        for group_by in (("gender",), ("gender", "age_band")):
            reader = org_admin(world, world.org_a)
            with CaptureQueriesContext(connection) as queries:
                reports.participation_report(reader, group_by=group_by)
            result.append(len(queries))
        return result

    build(world, seed=9, plans=3)
    unfill(0.2, seed=9)
    small = counts()
    build_more(world, 30)
    unfill(0.2, seed=10)
    assert counts() == small
    # memberships, version, items, responses, unanswered invitations, distribution
    assert max(small) <= 6, small


def build_more(world, plans):
    rng = random.Random(plans)
    for index in range(100, 100 + plans):
        sip = make_plan(world, rng, index, world.org_a, world.unit_a)
        meeting = held(sip, rng, DAYS[index % 4], related=1)
        for invitation in services.invite_attendees(meeting.pk):
            if rng.random() < 0.6:
                answer(invitation, rng)


# --- data protection -------------------------------------------------------------------------------------------

def test_the_stored_gender_and_age_band_go_with_the_plan(world):
    from sip import retention

    build(world, seed=8, plans=6)
    sip = Sip.objects.filter(invitations__response__isnull=False).first()
    person = sip.person
    assert Invitation.objects.filter(sip=sip).exclude(gender="").exists()
    retention.delete_sips(Sip.objects.filter(person=person))
    assert not Invitation.objects.filter(sip__person=person).exists()
    assert not Response.objects.filter(invitation__sip=sip).exists()
    assert not Answer.objects.filter(response__invitation__sip=sip).exists()
    # nothing of the person's is left in the questionnaire tables: the person record itself can go
    person.delete()
    assert not Person.objects.filter(pk=person.pk).exists()
