from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from knox.models import AuthToken
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from api.permissions import IsOrgAdmin
from api.serializers.organisations import (
    AuditEntrySerializer,
    MembershipSerializer,
    MembershipUpdateSerializer,
    MeSerializer,
    OrganisationSerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
    UnitSerializer,
    UnitUpdateSerializer,
    UserCreateSerializer,
    UserSerializer,
)
from api.views.base import GatedReadOnlyViewSet, GatedViewSetMixin
from organisations import access, audit, queries, services
from organisations.models import AuditAction, AuditEntry, Membership, Organisation, Unit, User


class TokenView(APIView):
    """Exchange username and password for an API token (`Authorization: Token …`)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    def get_authenticate_header(self, request):
        # Wrong credentials answer 401 with the scheme the token is then used with.
        return "Token"

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenResponseSerializer}, tags=["auth"])
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The Django request, not DRF's wrapper: django-axes marks a locked-out login on it, and its middleware
        # then answers 429 (config.security.lockout_response) instead of this view's 401.
        user = authenticate(request._request, **serializer.validated_data)
        if user is None or not user.is_active:
            raise AuthenticationFailed(_("Fel användarnamn eller lösenord."))
        instance, token = AuthToken.objects.create(user)
        audit.record(user, AuditAction.LOGIN, user)
        return Response({"token": token, "expiry": instance.expiry}, status=status.HTTP_200_OK)


class MeView(APIView):
    """The caller and each of their active memberships, with unit, organisation and role by name."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer, tags=["organisations"])
    def get(self, request):
        user = request.user
        user.active_memberships = queries.own_memberships(user)
        return Response(MeSerializer(user).data)


class OrganisationFilter(filters.FilterSet):
    name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Organisation
        fields = ["kind", "active", "name"]


class OrganisationViewSet(GatedReadOnlyViewSet):
    """The directory of organisations (huvudmän); every staff member may read it."""

    serializer_class = OrganisationSerializer
    filterset_class = OrganisationFilter
    ordering_fields = ["name", "id"]

    def gate(self):
        return queries.organisations_for(self.request.user)


class UnitFilter(filters.FilterSet):
    name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Unit
        fields = ["organisation", "parent", "kind", "active", "name"]


@extend_schema_view(
    create=extend_schema(description="Only an org_admin of the unit's organisation."),
    partial_update=extend_schema(request=UnitUpdateSerializer),
    update=extend_schema(request=UnitUpdateSerializer),
)
class UnitViewSet(GatedViewSetMixin, viewsets.ModelViewSet):
    """Units (verksamheter/enheter) as a directory; an org_admin changes their own organisation's units."""

    serializer_class = UnitSerializer
    filterset_class = UnitFilter
    ordering_fields = ["name", "id", "organisation__name"]

    def gate(self):
        return queries.units_for(self.request.user)

    def get_serializer_class(self):
        return UnitUpdateSerializer if self.action in ("update", "partial_update") else UnitSerializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.create_unit(
            self.request.user, organisation=data["organisation"], name=data["name"],
            kind=data.get("kind", "enhet"), parent=data.get("parent"),
        )

    def perform_update(self, serializer):
        serializer.instance = services.update_unit(self.request.user, serializer.instance,
                                                   **serializer.validated_data)

    def perform_destroy(self, instance):
        services.delete_unit(self.request.user, instance)


class MembershipFilter(filters.FilterSet):
    organisation = filters.NumberFilter(field_name="unit__organisation")

    class Meta:
        model = Membership
        fields = ["user", "unit", "role", "active", "organisation"]


@extend_schema_view(
    partial_update=extend_schema(request=MembershipUpdateSerializer),
    update=extend_schema(request=MembershipUpdateSerializer),
)
class MembershipViewSet(GatedViewSetMixin, viewsets.ModelViewSet):
    """Who works where in which role — visible within the caller's own organisations."""

    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter
    ordering_fields = ["id", "role"]

    def gate(self):
        return queries.memberships_for(self.request.user)

    def get_serializer_class(self):
        return MembershipUpdateSerializer if self.action in ("update", "partial_update") else MembershipSerializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        # A user of another organisation is unknown here; that answers 404 like any hidden object.
        access.get_visible(access.visible_users(self.request.user), data["user"].pk)
        serializer.instance = services.add_membership(
            self.request.user, user=data["user"], unit=data["unit"], role=data["role"]
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.update_membership(
            self.request.user, serializer.instance, role=data.get("role"), active=data.get("active")
        )

    def perform_destroy(self, instance):
        services.remove_membership(self.request.user, instance)


class UserFilter(filters.FilterSet):
    unit = filters.NumberFilter(field_name="memberships__unit", distinct=True)
    organisation = filters.NumberFilter(field_name="memberships__unit__organisation", distinct=True)
    role = filters.CharFilter(field_name="memberships__role", distinct=True)

    class Meta:
        model = User
        fields = ["is_active", "unit", "organisation", "role"]


@extend_schema_view(create=extend_schema(request=UserCreateSerializer, responses={201: UserSerializer}))
class UserViewSet(GatedViewSetMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                  viewsets.ReadOnlyModelViewSet):
    """Staff of the caller's own organisations. Reading a profile is audited."""

    serializer_class = UserSerializer
    filterset_class = UserFilter
    ordering_fields = ["id", "last_name", "first_name", "username"]

    def gate(self):
        return queries.users_for(self.request.user)

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        audit.record_reads(request.user, getattr(self, "_page_objects", []))
        return response

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self._page_objects = page if page is not None else list(queryset)
        return page

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        audit.record(request.user, AuditAction.READ, instance)
        return Response(self.get_serializer(instance).data)

    def create(self, request, *args, **kwargs):
        serializer = UserCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        user = services.create_user(request.user, **data)
        instance = self.gate().get(pk=user.pk)
        return Response(UserSerializer(instance).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        services.update_user(self.request.user, serializer.instance, **serializer.validated_data)
        serializer.instance = self.gate().get(pk=serializer.instance.pk)


class AuditEntryFilter(filters.FilterSet):
    person = filters.NumberFilter(field_name="person_id")
    since = filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    until = filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AuditEntry
        fields = ["object_type", "object_id", "actor", "action", "unit", "person", "since", "until"]


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("person", int, description="Every access to this person's data (loggkontroll)."),
]))
class AuditEntryViewSet(GatedReadOnlyViewSet):
    """The access log for loggkontroll: what staff of the caller's organisations did. Read-only."""

    serializer_class = AuditEntrySerializer
    filterset_class = AuditEntryFilter
    permission_classes = [IsOrgAdmin]
    ordering_fields = ["at", "id"]

    def gate(self):
        return queries.audit_entries_for(self.request.user)
