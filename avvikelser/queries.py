"""Reads of deviations, narrowed by the gate, with what lists and pages show loaded up front."""

from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from avvikelser.access import full_view_q, visible_deviations
from avvikelser.models import Category, Comment, Deviation, DeviationChange, State
from avvikelser.workflow import OPEN


def deviations_for(user) -> QuerySet[Deviation]:
    """Visible deviations, each annotated with `full_view`: False means the forum's pseudonymised view."""
    return (visible_deviations(user)
            .annotate(full_view=Case(When(full_view_q(user), then=Value(True)), default=Value(False),
                                     output_field=BooleanField()))
            .select_related("reporter", "reporting_unit", "reporting_organisation", "counterpart_organisation",
                            "counterpart_unit", "category", "agreement", "forum")
            .order_by("-submitted_at", "-id"))


def overdue_q(now=None) -> Q:
    now = now or timezone.now()
    return ((Q(state=State.INKOMMEN) & Q(acknowledge_due_at__lt=now))
            | (Q(state__in=[State.INKOMMEN, State.MOTTAGEN]) & Q(answer_due_at__lt=now)))


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


def inbox_for(user) -> QuerySet[Deviation]:
    """'Att besvara': open deviations against the user's organisation, due first."""
    from avvikelser.access import contact_organisation_ids
    from organisations import access

    units = access.unit_ids(user)
    return (deviations_for(user).filter(state__in=OPEN)
            .filter(Q(counterpart_organisation_id__in=contact_organisation_ids(user))
                    | Q(counterpart_unit_id__in=units))
            .order_by("answer_due_at", "id"))


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
