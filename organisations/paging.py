"""Pages that join late: the page's primary keys first, then its rows with everything they show.

A list page orders and limits on the main table alone (`SELECT id … ORDER BY … LIMIT 50`, which an index or a top-N
sort over narrow rows answers), and only the 50 rows found are joined with persons, units, organisations and
annotated — instead of joining every visible row and then keeping 50. One more query per page, the same number
however many rows there are. The count is the gated queryset's own COUNT (Django drops the joins for it)."""

from __future__ import annotations

from django.core.paginator import Paginator


def rows_in_order(queryset, ids: list) -> list:
    """The objects of `queryset` with these primary keys, in the order of `ids` (hidden ones left out)."""
    if not ids:
        return []
    found = {obj.pk: obj for obj in queryset.filter(pk__in=ids).order_by()}
    return [found[pk] for pk in ids if pk in found]


class LateRowPaginator(Paginator):
    """django.core.paginator.Paginator over a queryset, fetching each page as keys first, then rows."""

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        return self._get_page(rows_in_order(self.object_list, ids), number, self)
