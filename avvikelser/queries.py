"""Reads of deviations, narrowed by the gate, with what lists and pages show loaded up front."""

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from avvikelser.access import counterpart_branches, full_view_q, visible_branches, visible_deviations
from avvikelser.models import Category, Comment, Deviation, DeviationChange, State
from avvikelser.workflow import OPEN
from organisations.paging import page_bounds, rows_in_order

# The order of the deviation lists when none is asked for: the newest sent first.
LIST_ORDER = ("-submitted_at", "-id")
# 'Att besvara': due first.
INBOX_ORDER = ("answer_due_at", "id")


# What a report's pages show of its relations; the API's representation shows all but the forum's name.
RELATED = ("reporter", "reporting_unit", "reporting_organisation", "counterpart_organisation", "counterpart_unit",
           "category", "agreement", "forum")
REPRESENTED = RELATED[:-1]


def deviations_for(user, branches: list[Q] | None = None, related=RELATED) -> QuerySet[Deviation]:
    """Visible deviations, each annotated with `full_view`: False means the forum's pseudonymised view.
    `branches`: visible_branches(user), when the caller has them already. `related`: the relations to join. Each
    join costs planning time (PostgreSQL weighs every join order: ~6 ms for the nine tables of all of RELATED,
    more than running the query), so a read joins only what it shows."""
    return (visible_deviations(user, branches=branches)
            .annotate(full_view=Case(When(full_view_q(user), then=Value(True)), default=Value(False),
                                     output_field=BooleanField()))
            .select_related(*related)
            .order_by(*LIST_ORDER))


class BranchedList:
    """A gated list paged as the union of the gate's branches (access.visible_branches) instead of their OR.

    With the OR in one WHERE, PostgreSQL can only combine the branches' indexes into a bitmap and then visit every
    matching row's heap page, for the count and again for the page's keys: the largest contact person's 13 000
    open reports are 3 800 pages, twice. As a UNION each branch is one index range: the keys of a page come from
    the first rows of each range in order (LIMIT), the count from the indexes alone.

    `matching` is the ungated queryset with the list's filters and order (plain field names), `branches` the
    gate's conditions; the page's rows are then fetched by primary key through `rows`, the gated queryset with
    its joins and annotations, so a row outside the gate can never be shown.
    """

    ordered = True  # for django.core.paginator

    def __init__(self, matching: QuerySet, branches: list[Q], rows: QuerySet, *, disjoint: bool = False):
        """`disjoint`: no row meets two branches, so UNION ALL (no merging of duplicates) gives the same."""
        self.matching, self.branches, self.rows, self.disjoint = matching, branches, rows, disjoint
        self.ordering = [_plain(field) for field in (matching.query.order_by or ("pk",))]

    def count(self) -> int:
        if not self.branches:
            return 0
        keys = [self.matching.filter(branch).order_by().values("pk") for branch in self.branches]
        return (keys[0].union(*keys[1:], all=self.disjoint) if len(keys) > 1 else keys[0]).count()

    def keys(self, bottom: int, top: int) -> list:
        if not self.branches or top <= bottom:
            return []
        columns = list(dict.fromkeys(["id", *(field.lstrip("-") for field in self.ordering)]))
        # Each branch gives at most `top` rows in the list's order; the first `top` of their union are then the
        # first `top` of the whole list (a row in two branches is the same (id, …) tuple, which UNION merges).
        ranges = [self.matching.filter(branch).order_by(*self.ordering).values_list(*columns)
                  for branch in self.branches]
        if len(ranges) == 1:
            return [row[0] for row in ranges[0][bottom:top]]
        if connections[self.matching.db].features.supports_slicing_ordering_in_compound:
            ranges = [branch_range[:top] for branch_range in ranges]
        else:  # SQLite: no LIMIT inside a UNION; the same rows, only without the shortcut
            ranges = [branch_range.order_by() for branch_range in ranges]
        combined = ranges[0].union(*ranges[1:], all=self.disjoint)
        return [row[0] for row in combined.order_by(*self.ordering)[bottom:top]]

    def page(self, bottom: int, top: int) -> list:
        return rows_in_order(self.rows, self.keys(bottom, top))


def _plain(field) -> str:
    if not isinstance(field, str):
        raise TypeError("BranchedList orders by field names only")
    return {"pk": "id", "-pk": "-id"}.get(field, field)


class BranchPaginator(Paginator):
    """django.core.paginator.Paginator over a BranchedList: keys first from the union, then the page's rows."""

    def page(self, number):
        number, bottom, top = page_bounds(self, number)
        return self._get_page(self.object_list.page(bottom, top), number, self)


def deviation_list(user, matching: QuerySet, related=RELATED) -> BranchedList:
    """A list of visible deviations: `matching` (Deviation rows with the list's filters and order, not gated)
    within the gate, paged by BranchPaginator, the page's rows read through `deviations_for`."""
    branches = visible_branches(user)
    return BranchedList(matching, branches, deviations_for(user, branches=branches, related=related))


def matching_deviations() -> QuerySet[Deviation]:
    """All deviations in the lists' default order: what the API's filters narrow before the gate's union."""
    return Deviation.objects.order_by(*LIST_ORDER)


def overdue_q(now=None) -> Q:
    now = now or timezone.now()
    return ((Q(state=State.INKOMMEN) & Q(acknowledge_due_at__lt=now))
            | (Q(state__in=[State.INKOMMEN, State.MOTTAGEN]) & Q(answer_due_at__lt=now)))


def filter_deviations(queryset, *, state=None, category=None, counterpart=None, reporting_unit=None,
                      period_start=None, period_end=None, overdue=None, forum=None):
    if state:
        queryset = queryset.filter(state__in=state if isinstance(state, list | tuple) else [state])
    if category:
        # A category counts its merged predecessors too.
        from avvikelser.services import category_roots

        roots = category_roots()
        wanted = {pk for pk, root in roots.items() if root == roots.get(int(category), int(category))}
        queryset = queryset.filter(category_id__in=wanted | {int(category)})
    if counterpart:
        queryset = queryset.filter(counterpart_organisation_id=counterpart)
    if reporting_unit:
        queryset = queryset.filter(reporting_unit_id=reporting_unit)
    if forum:
        queryset = queryset.filter(forum_id=forum)
    if period_start:
        queryset = queryset.filter(occurred_on__gte=period_start)
    if period_end:
        queryset = queryset.filter(occurred_on__lte=period_end)
    if overdue is True:
        queryset = queryset.filter(overdue_q())
    elif overdue is False:
        queryset = queryset.exclude(overdue_q())
    return queryset


def inbox_for(user, rows=None) -> BranchedList:
    """'Att besvara': open deviations against the user's organisation (as its contact person) or unit, due first.
    The counterpart's branches of the gate: each is one range of an index over the open reports. The page's rows
    are read through those same branches (they are the gate's, so no forum lookup is needed); `rows`, if given,
    narrows that queryset further (annotations, columns)."""
    branches = counterpart_branches(user)
    gated = deviations_for(user, branches=branches)
    return BranchedList(Deviation.objects.filter(state__in=OPEN).order_by(*INBOX_ORDER), branches,
                        gated if rows is None else rows(gated), disjoint=True)


def comments_of(deviation) -> QuerySet[Comment]:
    return (Comment.objects.filter(deviation=deviation).select_related("author", "organisation")
            .order_by("created_at", "id"))


def history_of(deviation) -> QuerySet[DeviationChange]:
    return DeviationChange.objects.filter(deviation=deviation).select_related("actor").order_by("at", "id")


def categories() -> QuerySet[Category]:
    return Category.objects.select_related("successor").annotate(
        has_reports=Exists(Deviation.objects.filter(category=OuterRef("pk")))).order_by("name", "id")


def forums_of_user_organisations(user) -> QuerySet:
    """Forums that any of the user's organisations belongs to (ids, for subqueries)."""
    from avvikelser.models import Forum
    from organisations import access

    return Forum.objects.filter(organisations__in=access.organisation_ids(user)).values("pk")


def partner_organisation_ids(user) -> QuerySet:
    """Organisations that share a forum with one of the user's organisations (a report's likely counterparts)."""
    from organisations import access
    from organisations.models import Organisation

    return (Organisation.objects.filter(forums__in=forums_of_user_organisations(user), active=True)
            .exclude(pk__in=access.organisation_ids(user)).values("pk"))


def agreements_for(user, include_id=None) -> QuerySet:
    """The reference lists of agreements and routines of the user's forums (plus one already chosen)."""
    from avvikelser.models import Agreement

    return (Agreement.objects.filter(Q(forum_id__in=forums_of_user_organisations(user), active=True)
                                     | Q(pk=include_id))
            .select_related("forum").order_by("forum__name", "name", "id"))
