"""Reads of deviations, narrowed by the gate, with what lists and pages show loaded up front."""

from functools import cached_property

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from avvikelser.access import (
    any_of,
    counterpart_branches,
    full_view_branches,
    full_view_q,
    visible_branches,
    visible_deviations,
)
from avvikelser.models import Category, Comment, Deviation, DeviationChange, State
from avvikelser.workflow import OPEN
from organisations.paging import page_bounds
from organisations.prepared import (
    KEYS_MARKER,
    STAND_IN,
    KeyedPlan,
    NotPreparable,
    planned,
    stand_in_positions,
)

# The order of the deviation lists when none is asked for: the newest sent first.
LIST_ORDER = ("-submitted_at", "-id")
# 'Att besvara': due first.
INBOX_ORDER = ("answer_due_at", "id")


# What a report's pages show of its relations; the API's representation shows all but the forum's name.
RELATED = ("reporter", "reporting_unit", "reporting_organisation", "counterpart_organisation", "counterpart_unit",
           "category", "agreement", "forum")
REPRESENTED = RELATED[:-1]


def deviations_for(user, branches: list[Q] | None = None, related=RELATED, columns=None,
                   full_view: list[Q] | None = None) -> QuerySet[Deviation]:
    """Visible deviations, each annotated with `full_view`: False means the forum's pseudonymised view.
    `branches`: visible_branches(user), when the caller has them already. `related`: the relations to join. Each
    join costs planning time (PostgreSQL weighs every join order: ~6 ms for the nine tables of all of RELATED,
    more than running the query), so a read joins only what it shows. `columns`: if given, only these are read
    (QuerySet.only(); a joined row's other columns cost parsing and memory for nothing). `full_view`:
    full_view_branches(user), when the caller has them already."""
    full = full_view_q(user) if full_view is None else any_of(full_view)
    queryset = (visible_deviations(user, branches=branches)
                .annotate(full_view=Case(When(full, then=Value(True)), default=Value(False),
                                         output_field=BooleanField()))
                .select_related(*related)
                .order_by(*LIST_ORDER))
    return queryset if columns is None else queryset.only(*columns)


class BranchedList:
    """A gated list paged as the union of the gate's branches (access.visible_branches) instead of their OR.

    With the OR in one WHERE, PostgreSQL can only combine the branches' indexes into a bitmap and then visit every
    matching row's heap page, for the count and again for the page's keys: the largest contact person's 13 000
    open reports are 3 800 pages, twice. As a UNION each branch is one index range: the keys of a page come from
    the first rows of each range in order (LIMIT), the count from the indexes alone.

    `matching` is the ungated queryset with the list's filters and order (plain field names, a total order),
    `branches` the gate's conditions; the page's rows are then read through `rows`, the gated queryset with its
    joins and annotations, by the keys the union gives (a subquery of the same query), so a row outside the gate
    can never be shown.
    """

    ordered = True  # for django.core.paginator

    def __init__(self, matching: QuerySet, branches: list[Q], rows: QuerySet | None = None, *,
                 disjoint: bool = False, shape: str | None = None, rows_of=None, full_view: list[Q] | None = None):
        """`disjoint`: no row meets two branches, so UNION ALL (no merging of duplicates) gives the same.
        `shape`: a name for `matching` when it is the same queryset every time (no values that change): the SQL of
        the count and of the page's keys is then compiled once per shape of the branches (SHAPES).
        `rows_of` (instead of `rows`): `(name, build)`, where `build(branches, full_view)` makes the rows' queryset
        (model rows or named value tuples) from the gate's branches and the full view's conditions (`full_view`) —
        the same queryset for the same name whatever their ids are: with a `shape`, the page's rows are then
        compiled once too (organisations.prepared.planned)."""
        self.matching, self.branches, self.disjoint = matching, branches, disjoint
        self._rows, self.rows_of, self.full_view = rows, rows_of, full_view
        self.shape = shape
        self.ordering = [_plain(field) for field in (matching.query.order_by or ("pk",))]

    @cached_property
    def rows(self) -> QuerySet:
        if self._rows is not None:
            return self._rows
        return self.rows_of[1](self.branches, self.full_view)

    def count(self) -> int:
        if not self.branches:
            return 0
        connection = connections[self.matching.db]
        compiled = self._compiled("count")
        if compiled is None:
            try:
                compiled = self._count_sql(self.branches, connection)
            except EmptyResultSet:
                return self._counted(self.branches).count()
        with connection.cursor() as cursor:
            cursor.execute(*compiled)
            return cursor.fetchone()[0]

    def _counted(self, branches: list[Q]) -> QuerySet:
        keys = [self.matching.filter(branch).order_by().values("pk") for branch in branches]
        return keys[0].union(*keys[1:], all=True) if len(keys) > 1 else keys[0]

    def _count_sql(self, branches: list[Q], connection) -> tuple[str, list]:
        """The branches' keys as UNION ALL, counted — distinct ones where a row may meet two branches: sorting the
        keys for count(DISTINCT) is about twice as fast as the hashing a UNION does (the largest contact person's
        13 000 open reports: 2.7 vs 6.9 ms)."""
        sql, params = self._counted(branches).query.get_compiler(connection=connection).as_sql()
        counted = "COUNT(*)" if self.disjoint or len(branches) == 1 else "COUNT(DISTINCT counted.pk)"
        return f"SELECT {counted} FROM ({sql}) counted", list(params)  # noqa: S608 - the ORM's own SQL

    def keys(self, bottom: int, top: int) -> list:
        if not self.branches or top <= bottom:
            return []
        return [row[0] for row in self._ranges(self.branches, bottom, top)]

    def _ranges(self, branches: list[Q], bottom: int, top: int) -> QuerySet:
        """(id, ordering columns…) of rows [bottom, top), in the list's order."""
        columns = list(dict.fromkeys(["id", *(field.lstrip("-") for field in self.ordering)]))
        # Each branch gives at most `top` rows in the list's order; the first `top` of their union are then the
        # first `top` of the whole list (a row in two branches is the same (id, …) tuple, which UNION merges).
        ranges = [self.matching.filter(branch).order_by(*self.ordering).values_list(*columns)
                  for branch in branches]
        if len(ranges) == 1:
            return ranges[0][bottom:top]
        if connections[self.matching.db].features.supports_slicing_ordering_in_compound:
            ranges = [branch_range[:top] for branch_range in ranges]
        else:  # SQLite: no LIMIT inside a UNION; the same rows, only without the shortcut
            ranges = [branch_range.order_by() for branch_range in ranges]
        combined = ranges[0].union(*ranges[1:], all=self.disjoint)
        return combined.order_by(*self.ordering)[bottom:top]

    def page(self, bottom: int, top: int) -> list:
        """The page's rows in one query: those of `rows` whose keys the union gives (as a subquery), in the list's
        order (a total one: the keys' query and this one order alike, so the page is the keys' rows in their
        order, one round trip and one query fewer than keys, then rows)."""
        if not self.branches or top <= bottom:
            return []
        connection = connections[self.matching.db]
        compiled = self._compiled("keys", bottom, top)
        if compiled is None:
            compiled = self._ranges(self.branches, bottom, top).query.get_compiler(connection=connection).as_sql()
        sql, params = compiled
        keys = f"SELECT page.id FROM ({sql}) page"  # noqa: S608 - the ORM's own SQL
        if connection.vendor == "postgresql":
            rows = self._compiled_rows(connection, keys, list(params))
            if rows is not None:
                return rows
            condition = self._keys_condition(connection, keys, params)
        else:
            condition = Q(pk__in=RawSQL(keys, params))  # noqa: S611
        return list(self.rows.filter(condition).order_by(*self.ordering))

    def _keys_condition(self, connection, keys: str, params: list) -> RawSQL:
        # = ANY(ARRAY(…)): the keys first (an InitPlan), then each row by its primary key. As `IN (…)` the
        # planner may guess the keys many and join the whole gated set to them (200 ms for a large one).
        meta = self.matching.model._meta
        column = f"{connection.ops.quote_name(meta.db_table)}.{connection.ops.quote_name(meta.pk.column)}"
        return RawSQL(f"{column} = ANY(ARRAY({keys}))", params, output_field=BooleanField())  # noqa: S611

    def _compiled_rows(self, connection, keys: str, keys_params: list) -> list | None:
        """The page's rows from the rows' query compiled once per shape of the branches and of the full view
        (SHAPES, like the count and the keys): the ids put in their places and the keys' SQL in the marker's. None
        where that cannot be done (the caller asks the ORM)."""
        if self.shape is None or self.rows_of is None:
            return None
        try:
            structure, values = _shape_of(self.branches)
            full_structure, full_values = _shape_of(self.full_view or [])
        except _Unshaped:
            return None
        key = (self.shape, "rows", self.rows_of[0], tuple(self.ordering), connection.alias, structure,
               full_structure)
        compiled = SHAPES.get(key, _UNCOMPILED)
        if compiled is _UNCOMPILED:
            if len(SHAPES) >= MAX_SHAPES:
                SHAPES.clear()
            compiled = SHAPES[key] = self._compile_rows(connection, structure, full_structure, len(values),
                                                        len(full_values))
        if compiled is None:
            return None
        params = list(compiled.plan.params)
        for position, value in zip(compiled.plan.positions, [*values, *full_values], strict=True):
            params[position] = value
        return compiled.objects(connection.alias, params, keys, keys_params)

    def _compile_rows(self, connection, structure, full_structure, arity: int, full_arity: int):
        stand_ins = [STAND_IN + i for i in range(arity + full_arity)]
        given = iter(stand_ins)
        branches = _stand_in_branches(self.branches, given)
        full_view = _stand_in_branches(self.full_view or [], given)
        if (_shape_of(branches) != (structure, stand_ins[:arity])
                or _shape_of(full_view) != (full_structure, stand_ins[arity:])):
            return None
        queryset = (self.rows_of[1](branches, full_view)
                    .filter(self._keys_condition(connection, KEYS_MARKER, []))
                    .order_by(*self.ordering).using(connection.alias))
        try:
            return KeyedPlan(planned(queryset, connection.alias, tuple(stand_ins)))
        except (NotPreparable, EmptyResultSet, FullResultSet):
            return None

    def _compiled(self, kind: str, bottom: int = 0, top: int = 0) -> tuple[str, list] | None:
        """(sql, params) of the count or of the page's keys from SHAPES, or None: build it through the ORM."""
        if self.shape is None:
            return None
        try:
            structure, values = _shape_of(self.branches)
        except _Unshaped:
            return None
        db = self.matching.db
        key = (self.shape, kind, bottom, top, db, structure)
        compiled = SHAPES.get(key, _UNCOMPILED)
        if compiled is _UNCOMPILED:
            if len(SHAPES) >= MAX_SHAPES:  # the shapes a caller names are few; never let them grow unbounded
                SHAPES.clear()
            compiled = SHAPES[key] = self._compile(kind, bottom, top, db, structure, len(values))
        if compiled is None:
            return None
        sql, params, positions = compiled
        params = list(params)
        for position, value in zip(positions, values, strict=True):
            params[position] = value
        return sql, params

    def _compile(self, kind, bottom, top, db, structure, arity):
        """The query of this shape compiled with stand-ins for the values, and where each stand-in went."""
        stand_ins = [STAND_IN + i for i in range(arity)]
        branches = _stand_in_branches(self.branches, iter(stand_ins))
        if _shape_of(branches) != (structure, stand_ins):
            return None
        connection = connections[db]
        try:
            if kind == "count":
                sql, params = self._count_sql(branches, connection)
            else:
                sql, params = self._ranges(branches, bottom, top).query.get_compiler(connection=connection).as_sql()
        except EmptyResultSet:
            return None
        positions = stand_in_positions(params, stand_ins)
        return None if positions is None else (sql, tuple(params), positions)


# Compiled SQL of a BranchedList's count and keys, per (shape, count or keys, page bounds, database, the
# branches' structure): the gate's conditions with the numbers of ids in each set, not the ids themselves.
SHAPES: dict[tuple, tuple | None] = {}  # None: this shape is read through the ORM
MAX_SHAPES = 2000
_UNCOMPILED = object()


class _Unshaped(Exception):
    pass


def _shape_of(branches: list[Q]) -> tuple[tuple, list[int]]:
    """(structure, values): each condition's lookups, constants and sizes of its id sets (the structure), and the
    ids in the order Django binds them (an `__in` set in its iteration order, without repeats)."""
    values = []
    return tuple(_structure(branch, values) for branch in branches), values


def _structure(q: Q, values: list) -> tuple:
    parts = []
    for child in q.children:
        if isinstance(child, Q):
            parts.append(_structure(child, values))
            continue
        if not isinstance(child, tuple) or len(child) != 2:
            raise _Unshaped
        lookup, value = child
        if lookup.endswith("__in") and isinstance(value, set | frozenset | list | tuple):
            ids = list(dict.fromkeys(value))
            if not all(type(v) is int for v in ids):
                raise _Unshaped
            values.extend(ids)
            parts.append((lookup, len(ids)))
        elif isinstance(value, str):  # a constant of the gate (a state): part of the shape
            parts.append((lookup, "str", str(value)))
        elif type(value) is int:
            parts.append((lookup, "int", value))
        else:
            raise _Unshaped
    return q.connector, q.negated, tuple(parts)


def _stand_in_branches(branches: list[Q], stand_ins) -> list[Q]:
    return [_stand_in(branch, stand_ins) for branch in branches]


def _stand_in(q: Q, stand_ins) -> Q:
    children = []
    for child in q.children:
        if isinstance(child, Q):
            children.append(_stand_in(child, stand_ins))
            continue
        lookup, value = child
        if lookup.endswith("__in") and isinstance(value, set | frozenset | list | tuple):
            value = [next(stand_ins) for _ in dict.fromkeys(value)]
        children.append((lookup, value))
    return Q(*children, _connector=q.connector, _negated=q.negated)


def _plain(field) -> str:
    if not isinstance(field, str):
        raise TypeError("BranchedList orders by field names only")
    return {"pk": "id", "-pk": "-id"}.get(field, field)


class BranchPaginator(Paginator):
    """django.core.paginator.Paginator over a BranchedList: the count, then the page's rows by the union's keys."""

    def page(self, number):
        number, bottom, top = page_bounds(self, number)
        return self._get_page(self.object_list.page(bottom, top), number, self)


def deviation_list(user, matching: QuerySet, related=RELATED, columns=None, shape=None) -> BranchedList:
    """A list of visible deviations: `matching` (Deviation rows with the list's filters and order, not gated)
    within the gate, paged by BranchPaginator, the page's rows read through `deviations_for`. `shape`: see
    BranchedList (a name that stands for `matching`, the same queryset whenever it is given)."""
    branches, full_view = visible_branches(user), full_view_branches(user)

    def rows(branches, full_view):
        return deviations_for(user, branches=branches, related=related, columns=columns, full_view=full_view)
    return BranchedList(matching, branches, rows_of=((related, columns), rows), full_view=full_view, shape=shape)


def matching_deviations() -> QuerySet[Deviation]:
    """All deviations in the lists' default order: what the API's filters narrow before the gate's union."""
    return Deviation.objects.order_by(*LIST_ORDER)


# The counterpart's two deadlines: to acknowledge a report while it is 'inkommen', to answer it until it is answered.
AWAITS_ACKNOWLEDGEMENT = (State.INKOMMEN,)
AWAITS_ANSWER = (State.INKOMMEN, State.MOTTAGEN)


def overdue_q(now=None) -> Q:
    now = now or timezone.now()
    return ((Q(state__in=AWAITS_ACKNOWLEDGEMENT) & Q(acknowledge_due_at__lt=now))
            | (Q(state__in=AWAITS_ANSWER) & Q(answer_due_at__lt=now)))


def deadlines_passed(deviation, now) -> dict:
    """overdue_q read from one row (a Deviation or any row with its state and the two due times): which of the
    counterpart's deadlines the report awaits and which of them have passed."""
    awaits_acknowledgement = deviation.state in AWAITS_ACKNOWLEDGEMENT
    awaits_answer = deviation.state in AWAITS_ANSWER
    return {
        "awaits_acknowledgement": awaits_acknowledgement, "awaits_answer": awaits_answer,
        "acknowledge_late": bool(awaits_acknowledgement and deviation.acknowledge_due_at
                                 and deviation.acknowledge_due_at < now),
        "answer_late": bool(awaits_answer and deviation.answer_due_at and deviation.answer_due_at < now),
    }


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
    makes the rows' queryset of the gated reports (`visible_deviations` of those branches: columns, joins, or a
    values_list) — a module-level function, not a new one per request: the rows are compiled once per function."""
    branches = counterpart_branches(user)
    matching = Deviation.objects.filter(state__in=OPEN).order_by(*INBOX_ORDER)
    if rows is None:
        return BranchedList(matching, branches, deviations_for(user, branches=branches), disjoint=True,
                            shape="inbox")

    # The counterpart sees all of them in full: no `full_view` to compute. `rows` is the same function on every
    # request (a module's), so the page's rows are compiled once per shape of the branches.
    def gated(branches, _full_view):
        return rows(visible_deviations(user, branches=branches))
    return BranchedList(matching, branches, rows_of=(rows, gated), disjoint=True, shape="inbox")


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
