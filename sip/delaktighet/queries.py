"""Reads for delaktighet, narrowed by the gate."""

from django.db.models import Prefetch, QuerySet

from organisations import access
from sip.delaktighet.models import Item, RoutineAnswer, RoutineCheck, TemplateVersion


def published_versions(purpose: str | None = None) -> QuerySet[TemplateVersion]:
    queryset = TemplateVersion.objects.published().select_related("template").prefetch_related(
        Prefetch("items", queryset=Item.objects.order_by("order")))
    if purpose:
        queryset = queryset.filter(template__purpose=purpose)
    return queryset.order_by("template__key", "-number")


def routine_checks_for(user) -> QuerySet[RoutineCheck]:
    """Rutinkollen results of the units of the user's organisations."""
    organisations = access.organisation_ids(user)
    return (RoutineCheck.objects.filter(unit__organisation_id__in=organisations)
            .select_related("unit", "version")
            .prefetch_related(Prefetch("answers", queryset=RoutineAnswer.objects.select_related("item")
                                       .order_by("item__order")))
            .order_by("-period_end", "-id"))


def routine_trend(user, *, unit=None, organisation=None) -> list[dict]:
    """Share of 'yes' per check over time, for a unit or an organisation's units."""
    from django.db.models import Count, Q

    queryset = routine_checks_for(user)
    if unit:
        queryset = queryset.filter(unit_id=unit)
    if organisation:
        queryset = queryset.filter(unit__organisation_id=organisation)
    rows = (queryset.order_by().values("id", "unit_id", "unit__name", "period_start", "period_end")
            .annotate(total=Count("answers"), yes=Count("answers", filter=Q(answers__value="yes")),
                      partly=Count("answers", filter=Q(answers__value="partly")))
            .order_by("period_start", "unit__name"))
    return [{**row, "share_yes": (row["yes"] / row["total"]) if row["total"] else None} for row in rows]


