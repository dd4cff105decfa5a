"""The forum (styrgrupp): its members see the forum, its patterns and — pseudonymised — the reports behind every
number. Anyone who is not a member gets 404 for the forum and everything under it."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from api.serializers.avvikelser import PseudonymisedDeviationSerializer
from api.serializers.forums import (
    ForumReportQuerySerializer,
    ForumSerializer,
    PatternQuerySerializer,
    PatternsSerializer,
)
from api.views.base import GatedReadOnlyViewSet
from avvikelser import forum_queries, patterns

PAGING = ("page", "page_size")


def _query(request, serializer_class):
    data = {key: value for key, value in request.query_params.items() if key not in PAGING}
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ForumViewSet(GatedReadOnlyViewSet):
    """Samverkansforum (styrgrupp) where you are a member, with your role, the member organisations and the
    forum's agreements and routines."""

    serializer_class = ForumSerializer
    filter_backends = []

    def gate(self):
        return forum_queries.forums_for(self.request.user)

    @extend_schema(parameters=[PatternQuerySerializer], responses=PatternsSerializer)
    @action(detail=True, methods=["get"])
    def patterns(self, request, pk=None):
        """Counts per category × direction (reporting → counterpart organisation) × period (week, month,
        quarter), rates per 100 active SIPs, control charts and signals per series, and recurring themes. Every
        number carries `drilldown`: the query parameters of the reports behind it (for one cell of a series:
        the series' drilldown with the period's)."""
        forum = forum_queries.get_forum(request.user, pk)
        params = _query(request, PatternQuerySerializer)
        return Response(patterns.pattern_answer(forum, **params))  # sent as encoded (api/renderers.py)

    @extend_schema(parameters=[ForumReportQuerySerializer], responses=PseudonymisedDeviationSerializer(many=True))
    @action(detail=True, methods=["get"])
    def reports(self, request, pk=None):
        """The forum's reports behind a number of the pattern view, pseudonymised (no SIP link, no staff
        names), newest first."""
        forum = forum_queries.get_forum(request.user, pk)
        params = _query(request, ForumReportQuerySerializer)
        page = self.paginate_queryset(forum_queries.drilldown_reports(forum, **params))
        return self.get_paginated_response(PseudonymisedDeviationSerializer(page, many=True).data)
