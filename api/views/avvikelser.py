"""The deviation API: reports, their workflow, dialogue and history, and the category taxonomy.
The forum's members get the pseudonymised representation; everyone outside gets 404."""

from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FileUploadParser, MultiPartParser
from rest_framework.response import Response

from api.pagination import LateRowPagination
from api.problems import PROBLEM_CONTENT_TYPE, problem_body
from api.serializers.avvikelser import (
    CategoryMergeSerializer,
    CategoryRenameSerializer,
    CategorySerializer,
    CommentSerializer,
    DeviationChangeSerializer,
    DeviationImportResultSerializer,
    DeviationImportSerializer,
    DeviationSerializer,
    DeviationTransitionSerializer,
    DeviationUpdateSerializer,
    PseudonymisedDeviationSerializer,
)
from api.serializers.reading import Representer
from api.versioning import expected_version, with_etag
from api.views.base import GatedViewSetMixin
from api.views.sip import IF_MATCH
from avvikelser import importer, queries, services
from avvikelser.models import Deviation, State


class DeviationFilter(filters.FilterSet):
    # A state is a column of the report itself: no join can repeat a row, so no DISTINCT (django-filter's default
    # for this filter), which made PostgreSQL sort and compare every visible row whole, for the page and the count.
    state = filters.MultipleChoiceFilter(choices=State.choices, distinct=False)
    category = filters.NumberFilter(method="by_category")
    counterpart = filters.NumberFilter(field_name="counterpart_organisation_id")
    reporting_unit = filters.NumberFilter(field_name="reporting_unit_id")
    forum = filters.NumberFilter(field_name="forum_id")
    period_start = filters.DateFilter(field_name="occurred_on", lookup_expr="gte")
    period_end = filters.DateFilter(field_name="occurred_on", lookup_expr="lte")
    overdue = filters.BooleanFilter(method="by_overdue")

    class Meta:
        model = Deviation
        fields = ["state", "category", "counterpart", "reporting_unit", "forum", "period_start", "period_end",
                  "overdue"]

    def by_category(self, queryset, name, value):
        return queries.filter_deviations(queryset, category=value)

    def by_overdue(self, queryset, name, value):
        return queries.filter_deviations(queryset, overdue=value)


class BranchPagination(LateRowPagination):
    """Pages of a BranchedList: the rows of the keys the union of the gate's branches gives (same parameters and
    answer as LateRowPagination)."""

    django_paginator_class = queries.BranchPaginator


# What every read of a report answers: the full report, or the forum's pseudonymised one (by `view`).
REPRESENTATION = PolymorphicProxySerializer(
    component_name="DeviationRepresentation",
    serializers={"full": DeviationSerializer, "pseudonymised": PseudonymisedDeviationSerializer},
    resource_type_field_name="view")
REPRESENTATIONS = PolymorphicProxySerializer(
    component_name="DeviationRepresentation",
    serializers={"full": DeviationSerializer, "pseudonymised": PseudonymisedDeviationSerializer},
    resource_type_field_name="view", many=True)


# What the representation reads: every column of the report, of its relations only the names. Reading the related
# rows whole cost more than the report itself (~17 time stamps parsed per report instead of 9, and eight model
# instances of full width); tests/avvikelser/test_inbox_speed.py checks that representing reads nothing more.
REPRESENTED_COLUMNS = (*(field.name for field in Deviation._meta.concrete_fields),
                       "reporter__first_name", "reporter__last_name", "reporting_unit__name",
                       "reporting_organisation__name", "counterpart_organisation__name", "counterpart_unit__name",
                       "category__name", "agreement__name")


# Filters and order whose values are constants of the list's query (no lookup, no clock).
CONSTANT_FILTERS = {"state", "ordering"}


def represent(deviation):
    """The report as DeviationSerializer or PseudonymisedDeviationSerializer gives it (by `full_view`), read with
    each serializer built once (api.serializers.reading.Representer): tests/avvikelser/test_inbox_speed.py
    compares the two."""
    if getattr(deviation, "full_view", True):
        return Representer.of(DeviationSerializer)(deviation)
    return Representer.of(PseudonymisedDeviationSerializer)(deviation)


@extend_schema_view(
    list=extend_schema(responses=REPRESENTATIONS),
    retrieve=extend_schema(responses=REPRESENTATION),
    partial_update=extend_schema(parameters=[IF_MATCH], request=DeviationUpdateSerializer, responses=REPRESENTATION),
    update=extend_schema(parameters=[IF_MATCH], request=DeviationUpdateSerializer, responses=REPRESENTATION),
)
class DeviationViewSet(GatedViewSetMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                       viewsets.ReadOnlyModelViewSet):
    """Samverkansavvikelser: what happened between the organisations, never who."""

    serializer_class = DeviationSerializer
    filterset_class = DeviationFilter
    pagination_class = BranchPagination
    ordering_fields = ["submitted_at", "occurred_on", "answer_due_at", "id"]

    def gate(self):
        # A read joins only what the representation shows; the writes' services read the forum too.
        if self.action == "retrieve":
            return queries.deviations_for(self.request.user, related=queries.REPRESENTED)
        return queries.deviations_for(self.request.user)

    def get_serializer_class(self):
        return DeviationUpdateSerializer if self.action in ("update", "partial_update") else DeviationSerializer

    def list(self, request, *args, **kwargs):
        # The filters and the order narrow all reports; the gate comes in as the union of its branches, and the
        # page's rows are then read through the gate (avvikelser.queries.BranchedList).
        listing = queries.deviation_list(request.user, self.filter_queryset(queries.matching_deviations()),
                                         related=queries.REPRESENTED, columns=REPRESENTED_COLUMNS,
                                         shape=self.constant_shape())
        page = self.paginate_queryset(listing)
        return self.get_paginated_response([represent(d) for d in page])

    def constant_shape(self) -> str | None:
        """A name for the list's filters and order when they are constants of its query (CONSTANT_FILTERS): the
        same name, the same `matching` queryset, so the count's and the keys' SQL are compiled once for it
        (avvikelser.queries.SHAPES). None for filters that read the database or the clock (category, overdue)
        or anything else."""
        params = self.request.query_params
        pagination = {self.paginator.page_query_param, self.paginator.page_size_query_param}
        names = sorted(set(params) - pagination)
        if not set(names) <= CONSTANT_FILTERS:
            return None
        return "api:" + "&".join(f"{name}={value}" for name in names for value in params.getlist(name))

    def retrieve(self, request, *args, **kwargs):
        deviation = self.get_object()
        return with_etag(Response(represent(deviation)), deviation)

    def create(self, request, *args, **kwargs):
        serializer = DeviationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        deviation = services.create_draft(request.user, reporting_unit=data.pop("reporting_unit"), **data)
        deviation = self.gate().get(pk=deviation.pk)
        return with_etag(Response(represent(deviation), status=status.HTTP_201_CREATED), deviation)

    def update(self, request, *args, **kwargs):
        deviation = self.get_object()
        serializer = DeviationUpdateSerializer(deviation, data=request.data, partial=kwargs.pop("partial", False))
        serializer.is_valid(raise_exception=True)
        deviation = services.update_draft(request.user, deviation, expected_version(request),
                                          **serializer.validated_data)
        deviation = self.gate().get(pk=deviation.pk)
        return with_etag(Response(represent(deviation)), deviation)

    @extend_schema(parameters=[IF_MATCH], request=DeviationTransitionSerializer, responses=REPRESENTATION)
    @action(detail=True, methods=["post"])
    def transitions(self, request, pk=None):
        """Submit, acknowledge, answer, close or escalate (409 when not allowed, 403 for the wrong side)."""
        deviation = self.get_object()
        serializer = DeviationTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        deviation = services.transition(request.user, deviation, data.pop("state"), expected_version(request),
                                        **data)
        deviation = self.gate().get(pk=deviation.pk)
        return with_etag(Response(represent(deviation)), deviation)

    @extend_schema(methods=["get"], responses=CommentSerializer(many=True))
    @extend_schema(methods=["post"], request=CommentSerializer, responses={201: CommentSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def comments(self, request, pk=None):
        """The dialogue between the two sides."""
        deviation = self.get_object()
        context = {"full_view": deviation.full_view}
        if request.method == "POST":
            serializer = CommentSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            comment = services.comment(request.user, deviation, serializer.validated_data["text"])
            return Response(CommentSerializer(comment, context=context).data, status=status.HTTP_201_CREATED)
        return Response(CommentSerializer(queries.comments_of(deviation), many=True, context=context).data)

    @extend_schema(responses=DeviationChangeSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def history(self, request, pk=None):
        deviation = self.get_object()
        return Response(DeviationChangeSerializer(queries.history_of(deviation), many=True,
                                                  context={"full_view": deviation.full_view}).data)

    @extend_schema(request={"multipart/form-data": DeviationImportSerializer},
                   responses={201: DeviationImportResultSerializer})
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser, FileUploadParser])
    def import_(self, request):
        """Import reports from a CSV or XLSX file (form field `file`; docs/import-avvikelser.md). Processledare
        and org_admins only. All or nothing: a 400 problem lists every error in `errors.file` as text and in
        `rows` as {row, column, message}, and nothing is saved."""
        importer.require_importer(request.user)
        serializer = DeviationImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        result = importer.import_deviations(request.user, upload, filename=upload.name or "")
        if not result.ok:
            body = problem_body(400, _("Filen importerades inte: rätta felen och försök igen. Ingenting sparades."),
                                code="import_rejected", errors={"file": result.messages()}, instance=request.path,
                                rows=result.errors, more_errors=result.more_errors)
            return Response(body, status=status.HTTP_400_BAD_REQUEST, content_type=PROBLEM_CONTENT_TYPE)
        return Response({"created": result.created}, status=status.HTTP_201_CREATED)


class CategoryViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The category taxonomy. Processledare and org_admins add, rename, retire and merge categories; old
    reports keep their category and count under its successor."""

    serializer_class = CategorySerializer
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return queries.categories()

    def perform_create(self, serializer):
        serializer.instance = services.create_category(self.request.user, **serializer.validated_data)

    @extend_schema(request=CategoryRenameSerializer, responses=CategorySerializer)
    @action(detail=True, methods=["post"])
    def rename(self, request, pk=None):
        serializer = CategoryRenameSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        category = services.rename_category(request.user, self.get_object(), serializer.validated_data["name"])
        return Response(CategorySerializer(category).data)

    @extend_schema(request=None, responses=CategorySerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        return Response(CategorySerializer(services.retire_category(request.user, self.get_object())).data)

    @extend_schema(request=CategoryMergeSerializer, responses=CategorySerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        serializer = CategoryMergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        category = services.merge_categories(request.user, self.get_object(), serializer.validated_data["target"])
        return Response(CategorySerializer(category).data)
