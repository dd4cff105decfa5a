from rest_framework.pagination import PageNumberPagination

from organisations.paging import LateRowPaginator


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class LateRowPagination(Pagination):
    """Pages fetched as keys first, then the rows with their joins (organisations/paging.py): for the big gated
    lists (plans, deviations), whose joins would otherwise run over every visible row."""

    django_paginator_class = LateRowPaginator
