"""The SIP API: persons, plans and their parts. Thin: every read through sip.queries (gated), every write
through sip.services; versioned objects speak ETag / If-Match."""

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.http import HttpResponse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from api.pagination import LateRowPagination
from api.serializers.reading import MappingRepresenter, Representer
from api.serializers.sip import (
    ActionSerializer,
    ConsentSerializer,
    GoalSerializer,
    HoldMeetingSerializer,
    MeetingSerializer,
    PersonCreateSerializer,
    PersonLookupSerializer,
    PersonSerializer,
    SipChangeSerializer,
    SipDetailSerializer,
    SipSerializer,
    SipUnitSerializer,
    SipUpdateSerializer,
    TimelineItemSerializer,
    TransitionSerializer,
)
from api.versioning import expected_version, with_etag
from api.views.base import GatedViewSetMixin
from organisations import access, audit
from organisations.models import AuditAction
from sip import queries, services
from sip.access import LIST_ORDER, get_sip, visible_sips
from sip.models import Sip, SipStatus

IF_MATCH = OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=True,
                            description='The version the change starts from, as sent in ETag, e.g. "3".')


def _detail_data(sip) -> dict:
    """SipDetailSerializer(sip).data, with the serializer and its nested ones built once per process (a plan's
    representation depends on the plan alone; tests/api/test_compiled_reading.py compares it with DRF's)."""
    return Representer.of(SipDetailSerializer)(sip)


# --- persons ---------------------------------------------------------------------------------------------

def _with_identity_flag(user, queryset):
    in_plan = visible_sips(user).filter(person_id=OuterRef("pk"))
    return queryset.annotate(shows_identity=Exists(in_plan))


@extend_schema_view(
    create=extend_schema(request=PersonCreateSerializer, responses={201: PersonSerializer, 200: PersonSerializer},
                         description="Registers a person, or returns the existing record (200) for a known number."),
    partial_update=extend_schema(parameters=[IF_MATCH]),
    update=extend_schema(parameters=[IF_MATCH]),
)
class PersonViewSet(GatedViewSetMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                    viewsets.ReadOnlyModelViewSet):
    """Persons (brukare) linked to the caller's units or in plans the caller takes part in. Reads are audited."""

    serializer_class = PersonSerializer
    ordering_fields = ["id"]

    def gate(self):
        return _with_identity_flag(self.request.user, queries.persons_for(self.request.user))

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        audit.record_reads(request.user, page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        person = self.get_object()
        audit.record(request.user, AuditAction.READ, person)
        return with_etag(Response(self.get_serializer(person).data), person)

    def create(self, request, *args, **kwargs):
        serializer = PersonCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        person, created = services.find_or_register_person(request.user, **serializer.validated_data)
        person = self.gate().get(pk=person.pk)
        return with_etag(Response(PersonSerializer(person).data,
                                  status=status.HTTP_201_CREATED if created else status.HTTP_200_OK), person)

    def update(self, request, *args, **kwargs):
        person = self.get_object()
        serializer = self.get_serializer(person, data=request.data, partial=kwargs.pop("partial", False))
        serializer.is_valid(raise_exception=True)
        person = services.update_person(request.user, person, expected_version(request), **serializer.validated_data)
        person = self.gate().get(pk=person.pk)
        return with_etag(Response(self.get_serializer(person).data), person)

    @extend_schema(request=PersonLookupSerializer, responses={200: PersonSerializer, 404: OpenApiResponse()})
    @action(detail=False, methods=["post"])
    def lookup(self, request):
        """Find a person by personnummer/samordningsnummer/reservnummer (in the body, never in the URL)."""
        serializer = PersonLookupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        person = services.lookup_person(request.user, serializer.validated_data["identifier"])
        person = self.gate().get(pk=person.pk)
        return with_etag(Response(PersonSerializer(person).data), person)


# --- plans -----------------------------------------------------------------------------------------------

class SipFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=SipStatus.choices)
    unit = filters.NumberFilter(method="filter_unit")
    lead_organisation = filters.NumberFilter(field_name="lead_organisation_id")
    person = filters.NumberFilter(field_name="person_id")
    overdue = filters.BooleanFilter(method="filter_overdue")

    class Meta:
        model = Sip
        fields = ["status", "unit", "lead_organisation", "person", "overdue"]

    def filter_unit(self, queryset, name, value):
        return queries.filter_sips(queryset, unit=value)

    def filter_overdue(self, queryset, name, value):
        return queries.filter_sips(queryset, overdue=value)


@extend_schema_view(
    retrieve=extend_schema(responses=SipDetailSerializer),
    partial_update=extend_schema(parameters=[IF_MATCH], request=SipUpdateSerializer, responses=SipDetailSerializer),
    update=extend_schema(parameters=[IF_MATCH], request=SipUpdateSerializer, responses=SipDetailSerializer),
)
class SipViewSet(GatedViewSetMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Coordinated individual plans the caller's units take part in with the person's consent."""

    serializer_class = SipSerializer
    filterset_class = SipFilter
    pagination_class = LateRowPagination
    ordering_fields = ["updated_at", "follow_up_on", "call_due_at", "created_at", "id"]
    ordering = list(LIST_ORDER)  # the plans worked on most recently first

    def gate(self):
        if self.action == "list":
            return queries.sip_list_rows(self.request.user)
        return queries.sips_for(self.request.user)

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return SipUpdateSerializer
        if self.action == "retrieve":
            return SipDetailSerializer
        return SipSerializer

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        audit.record_reads(request.user, page)
        represent = Representer.of(SipSerializer)  # a row depends on the plan alone
        return self.get_paginated_response([represent(sip) for sip in page])

    def _detail(self, pk):
        return queries.sip_representation(self.request.user, pk)

    def retrieve(self, request, *args, **kwargs):
        sip = self._detail(kwargs["pk"])
        queries.record_sip_read(request.user, sip)
        return with_etag(Response(_detail_data(sip)), sip)

    def create(self, request, *args, **kwargs):
        serializer = SipSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        person = data.pop("person")
        sip = services.create_sip(request.user, person=person, **data)
        sip = self._detail(sip.pk)
        return with_etag(Response(_detail_data(sip), status=status.HTTP_201_CREATED), sip)

    def update(self, request, *args, **kwargs):
        sip = self.get_object()
        serializer = SipUpdateSerializer(sip, data=request.data, partial=kwargs.pop("partial", False))
        serializer.is_valid(raise_exception=True)
        sip = services.update_sip(request.user, sip, expected_version(request), **serializer.validated_data)
        sip = self._detail(sip.pk)
        return with_etag(Response(_detail_data(sip)), sip)

    @extend_schema(parameters=[IF_MATCH], request=TransitionSerializer, responses=SipDetailSerializer)
    @action(detail=True, methods=["post"])
    def transitions(self, request, pk=None):
        """Move the plan to another status (409 when the move is not allowed)."""
        sip = self.get_object()
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        sip = services.transition_sip(request.user, sip, data.pop("status"), expected_version(request), **data)
        sip = self._detail(sip.pk)
        return with_etag(Response(_detail_data(sip)), sip)

    @extend_schema(responses=TimelineItemSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def timeline(self, request, pk=None):
        """Actions, meetings and the follow-up merged in date order."""
        sip = get_sip(request.user, pk)  # the plan alone: none of the list row's joins and flags
        queries.record_sip_read(request.user, sip)
        item = MappingRepresenter.of(TimelineItemSerializer)
        return Response([item(entry) for entry in queries.timeline_of(sip)])

    @extend_schema(responses=SipChangeSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Every change: who changed which field from what to what, and when."""
        sip = self.get_object()
        queries.record_sip_read(request.user, sip)
        page = self.paginate_queryset(queries.history_of(sip))
        return self.get_paginated_response(SipChangeSerializer(page, many=True).data)

    @extend_schema(responses={(200, "application/fhir+json"): OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def fhir(self, request, pk=None):
        """The plan as an HL7 FHIR R4 Bundle (CarePlan, CareTeam, Goal, Patient)."""
        from sip.exports.fhir import fhir_bundle

        sip = queries.sip_detail(request.user, pk)  # the bundle shows more of the person than the JSON does
        audit.record(request.user, AuditAction.EXPORT, sip)
        return Response(fhir_bundle(sip), content_type="application/fhir+json")


# --- parts of a plan -------------------------------------------------------------------------------------

class SipPartViewSet(viewsets.GenericViewSet):
    """Base for /sips/{sip_pk}/<part>/: the plan is fetched through the gate first (404 outside it)."""

    pagination_class = None
    filter_backends = []
    lookup_value_regex = "[0-9]+"

    def sip(self) -> Sip:
        if not hasattr(self, "_sip"):
            self._sip = get_sip(self.request.user, self.kwargs["sip_pk"])
        return self._sip

    def parts(self):
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no plan
            return self.get_serializer_class().Meta.model.objects.none()
        return self.parts()

    def get_object(self):
        return access.get_visible(self.parts(), self.kwargs["pk"])

    def list(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.parts(), many=True).data)

    def retrieve(self, request, *args, **kwargs):
        obj = self.get_object()
        response = Response(self.get_serializer(obj).data)
        # Consents and participating units carry no version (they are given/withdrawn, added/removed).
        return with_etag(response, obj) if hasattr(obj, "version") else response


class VersionedPartViewSet(SipPartViewSet):
    create_part = update_part = delete_part = None

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        obj = type(self).create_part(request.user, self.sip(), **serializer.validated_data)
        obj = self.get_queryset().get(pk=obj.pk)
        return with_etag(Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED), obj)

    def partial_update(self, request, *args, **kwargs):
        obj = self.get_object()
        serializer = self.get_serializer(obj, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        obj = type(self).update_part(request.user, self.sip(), obj, expected_version(request),
                                     **serializer.validated_data)
        obj = self.get_queryset().get(pk=obj.pk)
        return with_etag(Response(self.get_serializer(obj).data), obj)

    def destroy(self, request, *args, **kwargs):
        obj = self.get_object()
        type(self).delete_part(request.user, self.sip(), obj, expected_version(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


_part_schema = extend_schema_view(
    partial_update=extend_schema(parameters=[IF_MATCH]),
    destroy=extend_schema(parameters=[IF_MATCH]),
)


@_part_schema
class GoalViewSet(VersionedPartViewSet):
    """The person's own goals and the shared goals of a plan."""

    serializer_class = GoalSerializer
    create_part, update_part, delete_part = (staticmethod(services.create_goal), staticmethod(services.update_goal),
                                             staticmethod(services.delete_goal))

    def parts(self):
        return queries.goals_of(self.sip())


@_part_schema
class ActionViewSet(VersionedPartViewSet):
    """Insatser: what is done, by whom, when."""

    serializer_class = ActionSerializer
    create_part, update_part, delete_part = (staticmethod(services.create_action),
                                             staticmethod(services.update_action),
                                             staticmethod(services.delete_action))

    def parts(self):
        return queries.actions_of(self.sip())


def _participants(data: dict) -> dict:
    if "participants" in data:
        data["participants"] = [dict(p) for p in data["participants"]]
    return data


@_part_schema
class MeetingViewSet(VersionedPartViewSet):
    """Meetings of a plan; marking one held (`hold`) invites the person to rate their participation."""

    serializer_class = MeetingSerializer
    update_part, delete_part = staticmethod(services.update_meeting), staticmethod(services.delete_meeting)

    def parts(self):
        return queries.meetings_of(self.sip())

    @staticmethod
    def create_part(actor, sip, **data):
        return services.create_meeting(actor, sip, **_participants(data))

    def partial_update(self, request, *args, **kwargs):
        obj = self.get_object()
        serializer = self.get_serializer(obj, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        obj = services.update_meeting(request.user, self.sip(), obj, expected_version(request),
                                      **_participants(dict(serializer.validated_data)))
        obj = self.get_queryset().get(pk=obj.pk)
        return with_etag(Response(self.get_serializer(obj).data), obj)

    @extend_schema(parameters=[IF_MATCH], request=HoldMeetingSerializer, responses=MeetingSerializer)
    @action(detail=True, methods=["post"])
    def hold(self, request, sip_pk=None, pk=None):
        """Mark the meeting held, with who attended."""
        meeting = self.get_object()
        serializer = HoldMeetingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attendance = {row["participant"]: row["attended"] for row in serializer.validated_data["attendance"]}
        meeting = services.hold_meeting(request.user, self.sip(), meeting, expected_version(request),
                                        attendance=attendance, minutes=serializer.validated_data.get("minutes"))
        meeting = self.get_queryset().get(pk=meeting.pk)
        return with_etag(Response(MeetingSerializer(meeting).data), meeting)

    @extend_schema(parameters=[IF_MATCH], request=None, responses=MeetingSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, sip_pk=None, pk=None):
        meeting = services.cancel_meeting(request.user, self.sip(), self.get_object(), expected_version(request))
        meeting = self.get_queryset().get(pk=meeting.pk)
        return with_etag(Response(MeetingSerializer(meeting).data), meeting)


class MeetingCalendarView(APIView):
    """The meeting as an iCalendar invitation (no personal data in it)."""

    @extend_schema(responses={(200, "text/calendar"): OpenApiTypes.BINARY}, tags=["sips"])
    def get(self, request, sip_pk, pk):
        from sip.exports.ics import meeting_ics

        sip = get_sip(request.user, sip_pk)
        meeting = access.get_visible(queries.meetings_of(sip), pk)
        body = meeting_ics(meeting, site_url=settings.SITE_URL)
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="sip-mote-{meeting.pk}.ics"'
        return response


class ConsentViewSet(SipPartViewSet, mixins.CreateModelMixin):
    """The person's consent per organisation; withdrawing cuts that organisation's access at once."""

    serializer_class = ConsentSerializer

    def parts(self):
        return queries.consents_of(self.sip())

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent = services.give_consent(request.user, self.sip(), **serializer.validated_data)
        return Response(self.get_serializer(self.parts().get(pk=consent.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ConsentSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, sip_pk=None, pk=None):
        consent = services.withdraw_consent(request.user, self.sip(), self.get_object())
        return Response(ConsentSerializer(consent).data)


class SipUnitViewSet(SipPartViewSet, mixins.CreateModelMixin, mixins.DestroyModelMixin):
    """Units taking part in the plan. An organisation also needs the person's consent to see the plan."""

    serializer_class = SipUnitSerializer

    def parts(self):
        return queries.participations_of(self.sip())

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        participation = services.add_unit(request.user, self.sip(), serializer.validated_data["unit"],
                                          serializer.validated_data.get("contact"))
        return Response(self.get_serializer(self.parts().get(pk=participation.pk)).data,
                        status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        services.remove_unit(request.user, self.sip(), self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
