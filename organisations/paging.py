"""Pages that join late: the page's primary keys first, then its rows with everything they show.

A list page orders and limits on the main table alone (`SELECT id … ORDER BY … LIMIT 50`, which an index or a top-N
sort over narrow rows answers), and only the 50 rows found are joined with persons, units, organisations and
annotated — instead of joining every visible row and then keeping 50. One more query per page, the same number
however many rows there are (a gated queryset reads keys and rows in one: the keys as a subquery, granted.py).
The count is the gated queryset's own COUNT (Django drops the joins for it)."""

from __future__ import annotations

from django.core.paginator import Paginator


def rows_in_order(queryset, ids: list) -> list:
    """The objects of `queryset` with these primary keys, in the order of `ids` (hidden ones left out)."""
    if not ids:
        return []
    rows_for_keys = getattr(queryset, "rows_for_keys", None)  # a gated queryset skips its gate (granted.py)
    rows = rows_for_keys(ids) if rows_for_keys else queryset.filter(pk__in=ids)
    found = {obj.pk: obj for obj in rows.order_by()}
    return [found[pk] for pk in ids if pk in found]


def page_keys(queryset, bottom: int, top: int, count: int) -> list:
    """The primary keys of rows [bottom, top) in the queryset's order."""
    own = getattr(queryset, "page_keys", None)  # a gated queryset may read them from its grants (granted.py)
    if own is not None:
        return own(bottom, top, count)
    return list(queryset.values_list("pk", flat=True)[bottom:top]) if top > bottom else []


def page_rows(queryset, bottom: int, top: int, count: int) -> list:
    """The rows [bottom, top) in the queryset's order: keys first, then rows, or both in one query where the
    queryset can (a gated queryset, granted.py)."""
    own = getattr(queryset, "page_rows", None)
    rows = own(bottom, top, count) if own is not None else None
    if rows is None:
        rows = rows_in_order(queryset, page_keys(queryset, bottom, top, count))
    return rows


def page_bounds(paginator: Paginator, number) -> tuple[int, int, int]:
    """(number, bottom, top) of a page, as Paginator.page computes them (orphans joined to the last page)."""
    number = paginator.validate_number(number)
    bottom = (number - 1) * paginator.per_page
    top = bottom + paginator.per_page
    if top + paginator.orphans >= paginator.count:
        top = paginator.count
    return number, bottom, top


class LateRowPaginator(Paginator):
    """django.core.paginator.Paginator over a queryset, fetching each page as keys first, then rows."""

    def page(self, number):
        number, bottom, top = page_bounds(self, number)
        return self._get_page(page_rows(self.object_list, bottom, top, self.count), number, self)
