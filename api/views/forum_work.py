"""The forum's work over HTTP: /forums/{forum_pk}/meetings/ (with the agenda), /decisions/ and /measures/.

Thin: every read through avvikelser.forum_services' gate, every write through its services. Only members of
the forum know it exists (404 for everyone else); ledamöter read, processledare and ordförande write (403
otherwise). Versioned objects send ETag and need If-Match on writes (428 without, 412 when stale)."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.serializers.forum_work import (
    AgendaItemSerializer,
    AgendaProposalSerializer,
    AgendaReorderSerializer,
    AgendaSerializer,
    BeforeAfterQuerySerializer,
    BeforeAfterSerializer,
    DecisionSerializer,
    ForumMeetingSerializer,
    MeasureSerializer,
)
from api.versioning import expected_version, with_etag
from api.views.sip import IF_MATCH
from avvikelser import forum_services
from avvikelser.models import ForumMeeting, Measure, MeasureStatus
from organisations import access

_writes = extend_schema_view(
    partial_update=extend_schema(parameters=[IF_MATCH]),
    destroy=extend_schema(parameters=[IF_MATCH]),
)
_updates = extend_schema_view(partial_update=extend_schema(parameters=[IF_MATCH]))


class ForumPartViewSet(viewsets.GenericViewSet):
    """Base for /forums/{forum_pk}/<part>/: the forum comes through the gate before anything else."""

    lookup_value_regex = "[0-9]+"
    filter_backends = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        forum = self.forum()  # 404 for anyone outside the forum, before anything else is looked at
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            forum_services.require_editor(request.user, forum)

    def forum(self):
        if not hasattr(self, "_forum"):
            self._forum = forum_services.get_forum(self.request.user, self.kwargs["forum_pk"])
        return self._forum

    def parts(self):
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no forum
            return self.get_serializer_class().Meta.model.objects.none()
        return self.parts()

    def get_object(self):
        return access.get_visible(self.parts(), self.kwargs["pk"])

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False) and hasattr(self, "_forum"):
            context["forum"] = self._forum
        return context

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.parts())
        page = self.paginate_queryset(queryset)
        if page is None:
            return Response(self.get_serializer(queryset, many=True).data)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        obj = self.get_object()
        return with_etag(Response(self.get_serializer(obj).data), obj)

    def _answer(self, obj, code=status.HTTP_200_OK):
        obj = self.parts().get(pk=obj.pk)
        return with_etag(Response(self.get_serializer(obj).data, status=code), obj)


# --- meetings and their agenda ---------------------------------------------------------------------------------

@_writes
class ForumMeetingViewSet(ForumPartViewSet):
    """The forum's meetings. The agenda: `agenda/`, `propose-agenda/`, `reorder/` and `items/`."""

    serializer_class = ForumMeetingSerializer

    def parts(self):
        return forum_services.meetings_of(self.forum())

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        meeting = forum_services.create_meeting(request.user, self.forum().pk, **serializer.validated_data)
        return self._answer(meeting, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        meeting = self.get_object()
        serializer = self.get_serializer(meeting, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        meeting = forum_services.update_meeting(request.user, meeting, expected_version(request),
                                                **serializer.validated_data)
        return self._answer(meeting)

    def destroy(self, request, *args, **kwargs):
        forum_services.delete_meeting(request.user, self.get_object(), expected_version(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _agenda(self, meeting, serializer_class=AgendaSerializer, **extra):
        agenda = forum_services.agenda_of(meeting)
        data = serializer_class({**agenda.__dict__, **extra}, context=self.get_serializer_context()).data
        return with_etag(Response(data), meeting)

    @extend_schema(responses=AgendaSerializer)
    @action(detail=True, methods=["get"])
    def agenda(self, request, forum_pk=None, pk=None):
        """The agenda in order, with the status of the measures decided before the meeting."""
        return self._agenda(self.get_object())

    @extend_schema(request=None, responses=AgendaProposalSerializer)
    @action(detail=True, methods=["post"], url_path="propose-agenda")
    def propose_agenda(self, request, forum_pk=None, pk=None):
        """Add what the forum should look at: measures due, new signals, escalated and overdue reports.
        Proposing again adds only what is new."""
        proposal = forum_services.propose_agenda(request.user, self.get_object())
        meeting = self.parts().get(pk=pk)
        return self._agenda(meeting, AgendaProposalSerializer, added=[item.pk for item in proposal.added],
                            signals_available=proposal.signals_available)

    @extend_schema(parameters=[IF_MATCH], request=AgendaReorderSerializer, responses=AgendaSerializer)
    @action(detail=True, methods=["post"])
    def reorder(self, request, forum_pk=None, pk=None):
        """Put the agenda in a new order (every item once); speaks the meeting's version."""
        meeting = self.get_object()
        serializer = AgendaReorderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        meeting = forum_services.reorder_items(request.user, meeting, expected_version(request),
                                               serializer.validated_data["items"])
        return self._agenda(self.parts().get(pk=meeting.pk))


@_writes
class AgendaItemViewSet(ForumPartViewSet):
    """The points of a meeting's agenda. Adding, removing and reordering only while the meeting is planned;
    notes may be written after it too."""

    serializer_class = AgendaItemSerializer
    pagination_class = None

    def meeting(self) -> ForumMeeting:
        if not hasattr(self, "_meeting"):
            self._meeting = access.get_visible(ForumMeeting.objects.filter(forum_id=self.forum().pk),
                                               self.kwargs["meeting_pk"])
        return self._meeting

    def parts(self):
        return forum_services.items_of(self.meeting())

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = forum_services.create_item(request.user, self.meeting(), **serializer.validated_data)
        return self._answer(item, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        item = self.get_object()
        serializer = self.get_serializer(item, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        item = forum_services.update_item(request.user, item, expected_version(request), **serializer.validated_data)
        return self._answer(item)

    def destroy(self, request, *args, **kwargs):
        forum_services.delete_item(request.user, self.get_object(), expected_version(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- decisions and measures ------------------------------------------------------------------------------------

@_updates
class DecisionViewSet(ForumPartViewSet):
    """Decisions (beslut), each linked to the patterns (fingerprints) and reports that motivated it."""

    serializer_class = DecisionSerializer

    def parts(self):
        return forum_services.decisions_of(self.forum())

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decision = forum_services.create_decision(request.user, self.forum().pk, **serializer.validated_data)
        return self._answer(decision, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        decision = self.get_object()
        serializer = self.get_serializer(decision, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        decision = forum_services.update_decision(request.user, decision, expected_version(request),
                                                  **serializer.validated_data)
        return self._answer(decision)


class MeasureFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=MeasureStatus.choices)
    decision = filters.NumberFilter(field_name="decision_id")
    overdue = filters.BooleanFilter(method="by_overdue")

    class Meta:
        model = Measure
        fields = ["status", "decision", "overdue"]

    def by_overdue(self, queryset, name, value):
        return forum_services.filter_measures(queryset, overdue=value)


@_updates
class MeasureViewSet(ForumPartViewSet):
    """Measures (åtgärder): owner organisation, responsible person, due date and status; `before-after` tells
    whether the pattern they address changed."""

    serializer_class = MeasureSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = MeasureFilter

    def parts(self):
        return forum_services.measures_of(self.forum())

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        measure = forum_services.create_measure(request.user, data.pop("decision"), **data)
        return self._answer(measure, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        measure = self.get_object()
        serializer = self.get_serializer(measure, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        measure = forum_services.update_measure(request.user, measure, expected_version(request),
                                                **serializer.validated_data)
        return self._answer(measure)

    @extend_schema(parameters=[OpenApiParameter("window_days", int, description=(
        "Length of each window in days (default and maximum 365; never beyond yesterday)."))],
        responses=BeforeAfterSerializer)
    @action(detail=True, methods=["get"], url_path="before-after", filter_backends=[])
    def before_after(self, request, forum_pk=None, pk=None):
        """Deviations of the measure's category and pair in equal windows before and after the decision, with
        an exact two-sided test of the rate change: "minskat", "oförändrat" or "ökat"."""
        measure = self.get_object()
        query = BeforeAfterQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = forum_services.before_after(measure, window_days=query.validated_data.get("window_days"))
        return Response(BeforeAfterSerializer(result).data)
