"""The counterpart's inbox made fast (issue #7) answers exactly as before, in both faces.

* The gate as a union of its branches (access.visible_branches, queries.BranchedList) gives the same rows, in the
  same order, and the same count as the gate's OR, for every kind of user and filter, on every page.
* The API's representation read once per field (api.serializers.reading.Representer) equals DRF's
  `DeviationSerializer(obj).data` / `PseudonymisedDeviationSerializer(obj).data`, in Swedish and English.
* The HTML inbox's rows, made in the view instead of ~200 blocktranslate and date tags, render the same HTML as
  the former row template (kept below as it was).
"""

import datetime
import itertools
import re

import pytest
from django.db.models import Q
from django.template import engines
from django.test import Client
from django.utils import timezone, translation

from api.serializers.avvikelser import DeviationSerializer, PseudonymisedDeviationSerializer
from api.serializers.reading import Representer
from api.views.avvikelser import REPRESENTED_COLUMNS, represent
from avvikelser import access, queries
from avvikelser.models import Agreement, Category, ContactPerson, Deviation, Forum, ForumMember, State
from avvikelser.workflow import OPEN
from frontend.avvikelser_views import _row, _with_overdue
from organisations import access as org_access
from organisations.models import Organisation, Role, User
from organisations.paging import LateRowPaginator
from tests.conftest import client_for, requires_postgres
from tests.factories import OrganisationFactory, UnitFactory, member

pytestmark = pytest.mark.django_db

# The inbox's row template before issue #7 (frontend/templates/avvikelser/inbox.html, between <tbody> and </tbody>).
OLD_ROWS = """{% load i18n %}<tbody>
      {% for row in rows %}{% with d=row.deviation %}
        <tr{% if row.overdue %} class="is-overdue"{% endif %}>
          <td><a href="{% url 'avvikelser:detail' d.pk %}">{% blocktranslate with id=d.pk %}Avvikelse {{ id }}{% endblocktranslate %}</a>
            <span class="meta avv-block">{% blocktranslate with date=d.occurred_on|date:"j F Y" %}hände {{ date }}{% endblocktranslate %}</span></td>
          <td><span class="status status--{{ d.state }}">{{ d.get_state_display }}</span></td>
          <td>{{ d.category.name }}</td>
          <td>{{ d.reporting_organisation.name }}</td>
          <td{% if row.acknowledge_late %} class="is-late"{% endif %}>{% if row.awaits_acknowledgement %}{% if d.acknowledge_due_at %}{% blocktranslate with date=d.acknowledge_due_at|date:"j F Y" %}senast {{ date }}{% endblocktranslate %}{% else %}–{% endif %}
            {% elif d.acknowledged_at %}{% blocktranslate with date=d.acknowledged_at|date:"j F Y" %}Mottagen {{ date }}{% endblocktranslate %}{% else %}–{% endif %}</td>
          <td{% if row.answer_late %} class="is-late"{% endif %}>{% if row.awaits_answer %}{% if d.answer_due_at %}{% blocktranslate with date=d.answer_due_at|date:"j F Y" %}senast {{ date }}{% endblocktranslate %}{% else %}–{% endif %}
            {% elif d.answered_at %}{% blocktranslate with date=d.answered_at|date:"j F Y" %}Besvarad {{ date }}{% endblocktranslate %}{% else %}–{% endif %}</td>
          <td>{% include "avvikelser/_flags.html" %}</td>
        </tr>
      {% endwith %}{% endfor %}
    </tbody>"""  # noqa: E501


class Setup:
    pass


@pytest.fixture
def inbox_world(world):
    """A contact person of B who also works in unit_b and sits in a forum, and ~90 reports of every kind: against
    B, against unit_b (also under another organisation), by unit_b, in the forum between others, drafts, every
    state, with and without agreement, unit, SIP link, deadlines and answers."""
    s = Setup()
    s.world = world
    org_c = OrganisationFactory(name="Region <C> & co")
    unit_c = UnitFactory(organisation=org_c, name="Enhet C")
    forum = Forum.objects.create(name="Forum A–B–C")
    forum.organisations.set([world.org_a, world.org_b, org_c])
    agreement = Agreement.objects.create(forum=forum, name="Överenskommelse om SIP")
    s.contact = world.users_b[Role.BEHANDLARE]
    ContactPerson.objects.create(organisation=world.org_b, user=s.contact)
    ForumMember.objects.create(forum=forum, user=s.contact, role="ledamot")
    s.plain = world.users_b[Role.SOCIALSEKRETERARE]  # unit_b, no contact person, no forum
    s.reporter = world.users_a[Role.SOCIALSEKRETERARE]
    s.outsider = member(unit_c, Role.SOCIALSEKRETERARE, username="c_worker")
    categories = list(Category.objects.order_by("id"))
    now = timezone.now()
    day = datetime.timedelta(days=1)
    sides = [  # (reporter, reporting unit, counterpart organisation, counterpart unit)
        (s.reporter, world.unit_a, world.org_b, None),
        (s.reporter, world.unit_a, world.org_b, world.unit_b),
        (s.reporter, world.unit_a, world.org_a, world.unit_b),  # against unit_b, filed under A
        (s.plain, world.unit_b, world.org_a, None),
        (s.outsider, unit_c, world.org_a, world.unit_a2),  # the forum's: between A and C
        (s.outsider, unit_c, org_c, None),  # nobody's here
    ]
    states = [State.INKOMMEN, State.MOTTAGEN, State.BESVARAD, State.AVSLUTAD, State.ESKALERAD, State.UTKAST]
    rows = []
    for n, ((reporter, unit, counterpart, counterpart_unit), state) in enumerate(
            itertools.islice(itertools.cycle(itertools.product(sides, states)), 240)):
        sent = state != State.UTKAST
        submitted = now - (40 - n % 37) * day if sent else None
        rows.append(Deviation(
            reporter=reporter, reporting_unit=unit, reporting_organisation=unit.organisation,
            counterpart_organisation=counterpart, counterpart_unit=counterpart_unit,
            forum=forum if sent or n % 2 else None, occurred_on=(now - (50 + n % 70) * day).date(),
            agreement=agreement if n % 3 == 0 else None, agreement_other="Egen rutin" if n % 3 == 1 else "",
            category=categories[n % len(categories)], what_happened=f"Händelse {n} <b>&</b>",
            immediate_action="Ringde" if n % 2 else "", consequence=["ingen", "risk", "skada", "okand"][n % 4],
            suggestion="", state=state, submitted_at=submitted,
            acknowledge_due_at=(submitted + (n % 5 + 1) * 2 * day) if sent and n % 7 else None,
            acknowledged_at=(submitted + day) if state not in (State.INKOMMEN, State.UTKAST) and n % 4 else None,
            answer_due_at=(submitted + ((n * 7) % 30 + 1) * day) if sent and n % 11 else None,
            answered_at=(submitted + 3 * day) if state in (State.BESVARAD, State.AVSLUTAD) and n % 3 else None,
            analysis="Analys" if state == State.BESVARAD else "", measures="",
            closed_at=(submitted + 9 * day) if state == State.AVSLUTAD else None,
            escalated_at=(submitted + 9 * day) if state == State.ESKALERAD else None))
    Deviation.objects.bulk_create(rows)
    return s


def fresh(user):
    return User.objects.get(pk=user.pk)


def both_sides(s):
    """A member of unit_a and unit_b, contact person of both organisations: every branch of the gate at once."""
    both = member(s.world.unit_a, Role.BEHANDLARE, username="both_sides")
    member(s.world.unit_b, Role.BEHANDLARE, user=both)
    for organisation in (s.world.org_a, s.world.org_b):
        ContactPerson.objects.create(organisation=organisation, user=both)
    return both


def old_inbox(user):
    """The inbox's query before issue #7: the gate's OR, then the counterpart's condition."""
    return (queries.deviations_for(user).filter(state__in=OPEN)
            .filter(Q(counterpart_organisation_id__in=access.contact_organisation_ids(user))
                    | Q(counterpart_unit_id__in=org_access.unit_ids(user)))
            .order_by("answer_due_at", "id"))


# --- The union of the branches is the gate ----------------------------------------------------------------------

def test_the_gate_is_the_or_of_its_branches(inbox_world):
    s = inbox_world
    for user in (s.contact, s.plain, s.reporter, s.outsider, s.world.outsider):
        user = fresh(user)
        old = set(Deviation.objects.filter(
            Q(reporting_unit_id__in=org_access.unit_ids(user))
            | (~Q(state=State.UTKAST) & (Q(counterpart_organisation_id__in=access.contact_organisation_ids(user))
                                         | Q(counterpart_unit_id__in=org_access.unit_ids(user))))
            | (~Q(state=State.UTKAST) & Q(forum_id__in=access.forum_ids(user)))).values_list("pk", flat=True))
        if not org_access.is_staff_member(user):
            old = set()
        assert set(access.visible_deviations(user).values_list("pk", flat=True)) == old
        listing = queries.deviation_list(user, queries.matching_deviations())
        assert listing.count() == len(old)
        assert set(listing.keys(0, 1000)) == old


@pytest.mark.parametrize("page_size", [7, 50])
def test_the_inbox_pages_are_those_of_the_former_query(inbox_world, page_size):
    s = inbox_world
    for user in (s.contact, s.plain, s.reporter, s.outsider, s.world.outsider):
        user = fresh(user)
        old = LateRowPaginator(old_inbox(user), page_size)
        new = queries.BranchPaginator(queries.inbox_for(user), page_size)
        assert new.count == old.count and new.num_pages == old.num_pages
        for number in old.page_range:
            assert [d.pk for d in new.page(number)] == [d.pk for d in old.page(number)]
    assert queries.BranchPaginator(queries.inbox_for(fresh(s.contact)), 7).count > 7


def test_the_inbox_compiled_once_per_shape_answers_as_the_orm(inbox_world):
    """queries.SHAPES: the inbox's count and page keys compiled once per shape of the gate's branches (how many
    organisations and units), then run with each user's own ids, give what the ORM gives."""
    s = inbox_world
    both = both_sides(s)
    queries.SHAPES.clear()
    for user in (s.contact, s.plain, s.reporter, s.outsider, s.world.outsider, both, s.contact, both):
        user = fresh(user)
        compiled = queries.inbox_for(user)
        orm = queries.BranchedList(compiled.matching, compiled.branches, compiled.rows, disjoint=True)
        assert compiled.shape == "inbox" and orm.shape is None
        for page_size in (7, 50):
            new, old = queries.BranchPaginator(compiled, page_size), queries.BranchPaginator(orm, page_size)
            assert new.count == old.count
            for number in old.page_range:
                assert [d.pk for d in new.page(number)] == [d.pk for d in old.page(number)]
    assert queries.BranchPaginator(queries.inbox_for(fresh(both)), 7).count > 7
    assert sum(1 for compiled in queries.SHAPES.values() if compiled is not None) >= 6


# --- The API list -------------------------------------------------------------------------------------------------

def drf(deviation) -> dict:
    serializer = DeviationSerializer if deviation.full_view else PseudonymisedDeviationSerializer
    return dict(serializer(deviation).data)


QUERIES = [
    "", "?state=inkommen&state=mottagen&state=besvarad&ordering=answer_due_at",
    "?state=inkommen&state=mottagen&state=besvarad&ordering=answer_due_at&page=2&page_size=10",
    "?ordering=-occurred_on&page_size=7&page=3", "?ordering=submitted_at", "?state=utkast", "?overdue=true",
    "?overdue=false&ordering=-answer_due_at", "?category={category}", "?counterpart={org_b}&ordering=id",
    "?period_start=2000-01-01&ordering=-id&page_size=200",
]


@pytest.mark.parametrize("query", QUERIES)
def test_the_api_list_answers_as_before(inbox_world, query):
    s = inbox_world
    query = query.format(category=Category.objects.order_by("id").first().pk, org_b=s.world.org_b.pk)
    params = dict(re.findall(r"[?&]([a-z_]+)=([^&]+)", query))
    states = re.findall(r"state=([a-z]+)", query)
    for user in (s.contact, s.plain, s.reporter, s.outsider):
        user = fresh(user)
        old = queries.deviations_for(user)
        if states:
            old = old.filter(state__in=states)
        if "category" in params:
            old = queries.filter_deviations(old, category=params["category"])
        if "counterpart" in params:
            old = old.filter(counterpart_organisation_id=params["counterpart"])
        if "period_start" in params:
            old = old.filter(occurred_on__gte=params["period_start"])
        if "overdue" in params:
            old = queries.filter_deviations(old, overdue=params["overdue"] == "true")
        if "ordering" in params:
            old = old.order_by(params["ordering"], "pk")
        size = int(params.get("page_size", 50))
        expected_page = LateRowPaginator(old, size).page(int(params.get("page", 1)))
        response = client_for(user).get(f"/api/v1/avvikelser/{query}")
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["count"] == expected_page.paginator.count
        assert body["results"] == [drf(d) for d in expected_page], (user.username, query)
        with translation.override("en"):
            english = client_for(user).get(f"/api/v1/avvikelser/{query}", HTTP_ACCEPT_LANGUAGE="en").json()
            assert english["results"] == [drf(d) for d in expected_page]


def test_only_constant_filters_name_a_compiled_shape(inbox_world):
    """The API list's count and keys are compiled once per shape only when its filters are constants of the query
    (state, ordering); a category (its merged predecessors are read) or overdue (the clock) never is."""
    s = inbox_world
    user = fresh(s.contact)
    queries.SHAPES.clear()
    for query in ("?state=inkommen&state=mottagen&ordering=answer_due_at&page_size=7&page=2",
                  "?category=1", "?overdue=true", "?state=inkommen&overdue=false"):
        assert client_for(user).get(f"/api/v1/avvikelser/{query}").status_code == 200
    assert {key[0] for key, compiled in queries.SHAPES.items() if compiled is not None} == {
        "api:ordering=answer_due_at&state=inkommen&state=mottagen"}


def test_the_representation_is_drfs_for_every_kind_of_report(inbox_world):
    s = inbox_world
    seen_views, seen_states = set(), set()
    for user in (s.contact, s.reporter, s.outsider):
        for deviation in queries.deviations_for(fresh(user)):
            for language, zone in (("sv", "Europe/Stockholm"), ("en", "UTC")):  # UTC: time stamps end in Z
                with translation.override(language), timezone.override(zone):
                    serializer = DeviationSerializer if deviation.full_view else PseudonymisedDeviationSerializer
                    assert Representer.of(serializer)(deviation) == dict(serializer(deviation).data)
            seen_views.add(deviation.full_view)
            seen_states.add(deviation.state)
    assert seen_views == {True, False} and seen_states == set(State.values)


def test_the_representation_reads_only_its_columns(inbox_world, django_assert_num_queries):
    """The API reads the reports with api.views.avvikelser.REPRESENTED_COLUMNS: representing them asks for no
    deferred column, and gives what DRF gives for the whole rows."""
    s = inbox_world
    for user in (s.contact, s.reporter, s.outsider):
        user = fresh(user)
        narrow = list(queries.deviations_for(user, related=queries.REPRESENTED, columns=REPRESENTED_COLUMNS))
        with django_assert_num_queries(0):
            represented = [represent(deviation) for deviation in narrow]
        assert represented == [drf(deviation) for deviation in queries.deviations_for(user)]
        assert {d.full_view for d in narrow} == ({True, False} if user == s.contact else {True})


def test_the_detail_answers_as_before(inbox_world):
    s = inbox_world
    user = fresh(s.contact)
    for deviation in queries.deviations_for(user)[:30]:
        body = client_for(user).get(f"/api/v1/avvikelser/{deviation.pk}/").json()
        assert body == drf(deviation)


# --- The HTML inbox ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["sv", "en"])
@pytest.mark.parametrize("odd_names", [False, True])
def test_the_inbox_renders_the_same_rows_as_the_former_template(inbox_world, language, odd_names, settings):
    s = inbox_world
    if odd_names:  # what the rows escape (the reporting organisation's and the category's names)
        Organisation.objects.filter(pk=s.world.org_a.pk).update(name="Kommun <A> & \"B\" 'C'")
        for category in Category.objects.all():
            Category.objects.filter(pk=category.pk).update(name=f"{category.name} <&> \"'")
    rendered = []
    for user in (s.contact, s.plain):
        browser = Client()
        browser.force_login(user)
        browser.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        for page_number in (1, 2):
            response = browser.get(f"/avvikelser/att-besvara/?sida={page_number}")
            assert response.status_code == 200
            new = re.search(r"<tbody>.*?</tbody>", response.content.decode(), re.S)
            old_page = LateRowPaginator(_with_overdue(old_inbox(fresh(user)), timezone.now()), 50)
            if old_page.count == 0:
                assert new is None
                continue
            old_page = old_page.get_page(page_number)
            with translation.override(language):
                old = engines["django"].from_string(OLD_ROWS).render(
                    {"rows": [_row(d, timezone.now()) for d in old_page.object_list]}, response.wsgi_request)
            assert new.group(0) == old
            assert response.context["total"] == old_page.paginator.count
            rendered.append(old)
            if user == s.contact:  # the contact's second page is a page of its own
                assert response.context["page"].paginator.num_pages == 2
    rendered = "".join(rendered)
    for shown in ('class="is-late"', 'class="is-overdue"', 'class="flag"', "visually-hidden", "–",
                  "status--inkommen", "status--mottagen", "status--besvarad"):
        assert shown in rendered
    if language == "sv":
        for shown in ("senast ", "Mottagen ", "Besvarad ", "hände "):
            assert shown in rendered
    if odd_names:
        assert "Kommun &lt;A&gt; &amp; &quot;B&quot; &#x27;C&#x27;" in rendered and "&lt;&amp;&gt;" in rendered


def test_the_api_lists_rows_compiled_once_per_shape_are_the_orms(inbox_world):
    """deviation_list with a shape: the page's rows (with `full_view`) come from SQL compiled once per shape of the
    gate's branches and of the full view, run with each user's ids — the same rows, in the same order and with the
    same view, as the rows' queryset read through the ORM."""
    from api.views.avvikelser import REPRESENTED_COLUMNS

    requires_postgres()
    s = inbox_world
    queries.SHAPES.clear()
    users = (s.contact, s.plain, s.reporter, s.outsider, s.world.outsider, s.contact)
    for ordering in (queries.LIST_ORDER, ("answer_due_at", "id")):
        for user in users:
            user = fresh(user)
            matching = queries.matching_deviations().order_by(*ordering)
            compiled = queries.deviation_list(user, matching, related=queries.REPRESENTED,
                                              columns=REPRESENTED_COLUMNS, shape=f"test {ordering}")
            orm = queries.BranchedList(matching, compiled.branches, compiled.rows)
            for page_size in (7, 50):
                new, old = queries.BranchPaginator(compiled, page_size), queries.BranchPaginator(orm, page_size)
                assert new.count == old.count
                for number in old.page_range:
                    got, expected = new.page(number), old.page(number)
                    assert [(d.pk, d.full_view) for d in got] == [(d.pk, d.full_view) for d in expected]
                    assert [drf(d) for d in got] == [drf(d) for d in expected]
    rows = [compiled for key, compiled in queries.SHAPES.items() if key[1] == "rows"]
    assert rows and all(compiled is not None for compiled in rows)
    assert any(not d.full_view for d in queries.BranchPaginator(
        queries.deviation_list(fresh(s.contact), queries.matching_deviations(), related=queries.REPRESENTED,
                               columns=REPRESENTED_COLUMNS, shape="test"), 200).page(1))  # the forum's view too


def test_the_html_inboxs_value_rows_compiled_once_per_shape_are_the_orms(inbox_world):
    """The HTML inbox reads named value tuples (frontend `_inbox_rows`); compiled once per shape of the branches,
    they are the tuples the ORM's values_list gives, field by field."""
    from frontend.avvikelser_views import _inbox_rows

    requires_postgres()
    s = inbox_world
    both = both_sides(s)
    queries.SHAPES.clear()
    for user in (s.contact, s.plain, s.reporter, s.outsider, both, s.contact):
        user = fresh(user)
        compiled = queries.inbox_for(user, rows=_inbox_rows)
        orm = queries.BranchedList(compiled.matching, compiled.branches, compiled.rows, disjoint=True)
        for page_size in (7, 50):
            new, old = queries.BranchPaginator(compiled, page_size), queries.BranchPaginator(orm, page_size)
            assert new.count == old.count
            for number in old.page_range:
                got, expected = list(new.page(number)), list(old.page(number))
                assert got == expected
                assert [row._asdict() for row in got] == [row._asdict() for row in expected]
                assert all(type(row).__name__ == "Row" for row in got)
    rows = [compiled for key, compiled in queries.SHAPES.items() if key[1] == "rows"]
    assert len(rows) >= 3 and all(compiled is not None for compiled in rows)
