"""Querysets compiled once per process and run again with other values (issue #7).

For the small, fixed-shape queries that nearly every request makes (the user's memberships, a plan's actions and
meetings for its timeline) building and compiling the queryset costs more Python than running it: ~0.3–0.8 ms
each, on every request. `Prepared` compiles the queryset once per database, with stand-in integers where the
values go, finds them among the compiled parameters, and afterwards only executes that SQL with the real values
and turns the rows into objects as Django's own ModelIterable does (the same compiler, converters and related
populators).

Only integers and strings (alone or in tuples, for `__in`) are bound this way. A queryset whose stand-ins do not
each appear exactly once among the parameters, or that prefetches, is never prepared: it runs through the ORM as
before, so the answer is the same either way (tests/organisations/test_prepared.py compares them).
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections, models, router
from django.db.models.expressions import RawSQL
from django.db.models.query import ModelIterable, NamedValuesListIterable, get_related_populators
from django.db.models.utils import create_namedtuple_class
from django.utils import timezone

# Stand-ins for the values while compiling: integers no key or flag ever takes, strings no column holds (a NUL
# cannot even be stored in PostgreSQL text). Never sent to the database.
STAND_IN = -(2**62)


def _scalar_type(value) -> type:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"a prepared queryset binds integers and strings, not {type(value).__name__}")
    return type(value)


def _signature(value):
    """What a compiled plan depends on: the type of a value, for a tuple (an `__in` set) its length and types."""
    return (tuple, *map(_scalar_type, value)) if isinstance(value, tuple) else _scalar_type(value)


def _flat(values: tuple) -> list:
    return [item for value in values for item in (value if isinstance(value, tuple) else (value,))]


def _stand_ins(values: tuple) -> tuple:
    """Arguments shaped like `values` (tuples stay tuples of the same length), each item its own stand-in."""
    counter = iter(range(len(_flat(values))))

    def stand_in(value):
        i = next(counter)
        return STAND_IN + i if isinstance(value, int) else f"\x00stand-in {i}\x00"
    return tuple(tuple(map(stand_in, value)) if isinstance(value, tuple) else stand_in(value) for value in values)


def stand_in_positions(params, stand_ins) -> list[int] | None:
    """Where each stand-in went among a compiled query's parameters; None unless each is there exactly once
    (then the values cannot be put in their places safely)."""
    params = list(params)
    if any(params.count(value) != 1 for value in stand_ins):
        return None
    return [params.index(value) for value in stand_ins]


_ALL: weakref.WeakSet = weakref.WeakSet()  # every Prepared and PreparedSQL, for forget_all()


def forget_all() -> None:
    """Compile every prepared queryset again on its next use: after a migration or a flush (tests) the constants
    compiled into them (a permission's id, say) may have changed."""
    for prepared in list(_ALL):
        prepared.forget()


class _NotPreparable(Exception):
    pass


NotPreparable = _NotPreparable


class _Compiled:
    """One compiled queryset: its SQL, where the stand-ins went among its parameters, and its converters. Subclasses
    turn the converted rows into what the queryset's iterable would give."""

    def __init__(self, queryset: models.QuerySet, db: str, stand_ins: tuple[int, ...]):
        compiler = queryset.query.get_compiler(using=db)
        sql, params = compiler.as_sql()  # also fills select, klass_info and annotation_col_map
        positions = stand_in_positions(params, stand_ins)
        if positions is None:
            raise _NotPreparable
        self.sql, self.params, self.positions = sql, list(params), positions
        self.compiler = compiler
        self.converters = compiler.get_converters([column[0] for column in compiler.select[0:compiler.col_count]])

    def run(self, db: str, values: tuple) -> list:
        params = list(self.params)
        for position, value in zip(self.positions, values, strict=True):
            params[position] = value
        return self.objects(db, self.sql, params)

    def objects(self, db: str, sql: str, params: list) -> list:
        """The results of this plan's SQL (or of `sql`: the same with other text where the values go)."""
        with connections[db].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        return self.build(db, rows)

    def build(self, db: str, rows) -> list:
        raise NotImplementedError


class _Plan(_Compiled):
    """Model rows, built as Django's ModelIterable builds them (the same compiler and related populators)."""

    def __init__(self, queryset: models.QuerySet, db: str, stand_ins: tuple[int, ...]):
        super().__init__(queryset, db, stand_ins)
        select, klass_info = self.compiler.select, self.compiler.klass_info
        self.model = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.own = slice(start, end)
        self.init_list = [column[0].target.attname for column in select[start:end]]
        self.annotations = dict(self.compiler.annotation_col_map or {})
        self.related = get_related_populators(klass_info, select, db)

    def build(self, db: str, rows) -> list:
        objects = []
        for row in rows:
            obj = self.model.from_db(db, self.init_list, row[self.own])
            for populator in self.related:
                populator.populate(row, obj)
            for name, column in self.annotations.items():
                setattr(obj, name, row[column])
            objects.append(obj)
        return objects


class _NamedValuesPlan(_Compiled):
    """`values_list(*fields, named=True)` rows: the named tuples Django's NamedValuesListIterable makes, in the same
    field order."""

    def __init__(self, queryset: models.QuerySet, db: str, stand_ins: tuple[int, ...]):
        if not queryset._fields:
            raise _NotPreparable
        super().__init__(queryset, db, stand_ins)
        query = queryset.query
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
        fields = [*queryset._fields, *(f for f in query.annotation_select if f not in queryset._fields)]
        index = {name: i for i, name in enumerate(names)}
        self.order = None if fields == names else [index[f] for f in fields]
        self.tuple_class = create_namedtuple_class(*queryset._fields)

    def build(self, db: str, rows) -> list:
        new, tuple_class, order = tuple.__new__, self.tuple_class, self.order
        if order is not None:
            return [new(tuple_class, [row[i] for i in order]) for row in rows]
        return [new(tuple_class, tuple(row)) for row in rows]


def planned(queryset: models.QuerySet, db: str, stand_ins: tuple[int, ...]) -> _Compiled:
    """The compiled queryset — model rows or named value tuples — with `sql`, `params`, `positions`, `run(db,
    values)` and `objects(db, sql, params)`. Raises NotPreparable (or EmptyResultSet/FullResultSet) when it cannot
    be compiled so (a prefetch, another iterable, stand-ins not each found once)."""
    if queryset._iterable_class is NamedValuesListIterable:
        return _NamedValuesPlan(queryset, db, stand_ins)
    if (queryset._iterable_class is not ModelIterable or queryset._prefetch_related_lookups
            or queryset._known_related_objects):
        raise _NotPreparable
    return _Plan(queryset, db, stand_ins)


# Where a page's keys go while compiling rows by their keys (PreparedRows, avvikelser.queries.BranchedList): a query
# no row answers, found in the compiled SQL and replaced by the keys' own.
KEYS_MARKER = f"SELECT {STAND_IN} /* keys */"
_PLACEHOLDER = re.compile(r"%[%s]")


class KeyedPlan:
    """A compiled plan whose SQL holds KEYS_MARKER once: `objects()` runs it with the keys' SQL in its place."""

    def __init__(self, plan: _Compiled):
        before, marker, after = plan.sql.partition(KEYS_MARKER)
        if not marker or KEYS_MARKER in after:
            raise _NotPreparable
        self.plan, self.before, self.after = plan, before, after
        # The parameters before the marker: Django's placeholders (`%s`; a literal percent is doubled).
        self.split = sum(1 for found in _PLACEHOLDER.findall(before) if found == "%s")

    def objects(self, db: str, params: list, keys_sql: str, keys_params: list) -> list:
        """`params`: the plan's parameters with the real values in their places."""
        return self.plan.objects(db, f"{self.before}{keys_sql}{self.after}",
                                 [*params[:self.split], *keys_params, *params[self.split:]])


class _Cache:
    """Compiled plans kept per process, forgotten together (forget_all)."""

    def __init__(self):
        self._plans: dict[tuple, object] = {}
        self._lock = threading.Lock()
        _ALL.add(self)

    def forget(self) -> None:
        with self._lock:
            self._plans.clear()


class Prepared(_Cache):
    """`Prepared(Model, lambda pk: Model.objects.filter(...=pk)...)`, called with the values: the list of objects
    the queryset would give. The builder takes integers, strings or tuples of them (for `__in`; compiled once
    per length), uses each exactly once, and builds the same queryset whatever they are (no clock, no settings
    read per call): it is compiled once (per database and the values' types)."""

    def __init__(self, model: type[models.Model], build: Callable[..., models.QuerySet]):
        super().__init__()
        self.model = model
        self.build = build

    def __call__(self, *values: int | str | tuple) -> list:
        db = router.db_for_read(self.model)
        key = (db, *map(_signature, values))
        plan = self._plans[key] if key in self._plans else self._prepare(key, db, values)
        if plan is None:
            return list(self.build(*values).using(db))
        return plan.run(db, _flat(values))

    def _prepare(self, key: tuple, db: str, values: tuple) -> _Compiled | None:
        with self._lock:
            if key not in self._plans:
                stand_ins = _stand_ins(values)
                queryset = self.build(*stand_ins).using(db)
                try:
                    plan = planned(queryset, db, tuple(_flat(stand_ins)))
                except (_NotPreparable, EmptyResultSet, FullResultSet):
                    plan = None  # e.g. an empty `__in` set: Django answers without SQL or differently
                self._plans[key] = plan
            return self._plans[key]


class PreparedSQL(_Cache):
    """SQL made from a compiled queryset (e.g. wrapped in an aggregate), compiled once per key and shape of the
    values with stand-ins, as Prepared does; `sql()` gives it with the real values in their places."""

    def sql(self, key: tuple, values: tuple, compile_: Callable[..., tuple[str, list]]) -> tuple[str, list] | None:
        """(sql, params) for `values`; `compile_(*stand_ins)` gives (sql, params) with stand-ins. None when the
        stand-ins cannot be placed (the caller then compiles with the real values)."""
        full_key = (*key, *map(_signature, values))
        if full_key not in self._plans:
            stand_ins = _stand_ins(values)
            try:
                sql, params = compile_(*stand_ins)
                positions = stand_in_positions(params, _flat(stand_ins))
                entry = None if positions is None else (sql, list(params), positions)
            except (EmptyResultSet, FullResultSet):
                entry = None
            with self._lock:
                self._plans[full_key] = entry
        entry = self._plans[full_key]
        if entry is None:
            return None
        sql, params, positions = entry
        params = list(params)
        for position, value in zip(positions, _flat(values), strict=True):
            params[position] = value
        return sql, params


class PreparedRows(_Cache):
    """The rows of a list page by a subquery of their keys, compiled once per database, order and day.

    `PreparedRows(Model, lambda today: queryset)`: `rows(db, ordering, keys_sql, keys_params)` gives what
    `queryset.filter(pk__in=RawSQL(keys_sql, keys_params)).order_by(*ordering)` would, as objects built the way
    Prepared builds them — the queryset is compiled once with a marker where the keys go, and afterwards the keys'
    SQL is put in its place. `today` is the date the builder may show flags for (a new day compiles again). Callers
    must only use it for the queryset the builder makes (`attach`/`attached` check that the one they hold still
    is: the same annotations, joins and columns)."""

    def __init__(self, model: type[models.Model], build: Callable[..., models.QuerySet]):
        super().__init__()
        self.model = model
        self.build = build

    @staticmethod
    def signature(queryset: models.QuerySet) -> tuple:
        query = queryset.query
        return (queryset.model, tuple(query.annotations), query.select_related, query.deferred_loading,
                query.distinct, query.group_by, bool(query.extra))

    def attach(self, queryset: models.QuerySet) -> models.QuerySet:
        """Mark `queryset` (the builder's queryset, gated) as one whose pages these rows may read."""
        queryset._prepared_rows = (self, self.signature(queryset))
        return queryset

    @staticmethod
    def attached(queryset: models.QuerySet) -> PreparedRows | None:
        """The PreparedRows marked on `queryset`, if it has not changed since (ordering aside)."""
        found = getattr(queryset, "_prepared_rows", None)
        if found is None or found[0].signature(queryset) != found[1]:
            return None
        return found[0]

    def rows(self, db: str, ordering: tuple, keys_sql: str, keys_params: list) -> list | None:
        """The rows in `ordering`; None when this queryset cannot be compiled so (the caller asks the ORM)."""
        key = (db, ordering, timezone.localdate())
        keyed = self._plans[key] if key in self._plans else self._compile(key)
        if keyed is None:
            return None
        return keyed.objects(db, keyed.plan.params, keys_sql, keys_params)

    def _compile(self, key: tuple) -> KeyedPlan | None:
        db, ordering, today = key
        with self._lock:
            if key not in self._plans:
                if len(self._plans) > 64:  # yesterday's plans and rare orders
                    self._plans.clear()
                queryset = (self.build(today).filter(pk__in=RawSQL(KEYS_MARKER, [])).order_by(*ordering)  # noqa: S611
                            .using(db))
                try:
                    keyed = KeyedPlan(planned(queryset, db, ()))
                except (_NotPreparable, EmptyResultSet, FullResultSet):
                    keyed = None
                self._plans[key] = keyed
            return self._plans[key]


class Built(_Cache):
    """`Built(lambda *key: queryset)`, called with the key: a fresh clone of the queryset built once per key.

    Building a gated list's queryset (its filters resolved, its joins and annotations set up) costs about a
    millisecond of Python on every request; cloning a built one a tenth of that. The key must hold every value
    the builder reads (ids, the day), and the builder must read nothing else (no clock, no settings), so that a
    clone is exactly what building anew would give. The built querysets are never evaluated, only cloned; a
    migration or a flush forgets them (forget_all)."""

    def __init__(self, build: Callable[..., models.QuerySet], size: int = 1024):
        super().__init__()
        self.build, self.size = build, size

    def __call__(self, *key) -> models.QuerySet:
        built = self._plans.get(key)
        if built is None:
            built = self.build(*key)
            with self._lock:
                if len(self._plans) >= self.size:  # yesterday's keys, users who left
                    self._plans.clear()
                self._plans[key] = built
        return built.all()
