"""Who may see a plan: units taking part in it, when their organisation has the person's consent.

A unit's group holds `view_sip` and `change_sip` on a plan exactly when
* the unit takes part in the plan (SipUnit) and is active, and
* its organisation has an active consent for the plan (given, not withdrawn, not expired), or it is the
  initiating organisation and no consent has been recorded for it yet (the plan is being prepared).

`sync_grants(sip)` makes the grant rows match that rule; every service that changes participation or
consent calls it in the same transaction, so withdrawing consent cuts access at once.
"""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from organisations import access
from sip.models import Consent, Person, PersonLink, Sip, SipGroupObjectPermission, SipUserObjectPermission

GRANTED = ("view_sip", "change_sip")
# The plans' list order, carried by their grant rows (sip.models._GrantInListOrder; pages merged from them).
LIST_ORDER = ("-updated_at", "-id")


def visible_sips(user, queryset: QuerySet | None = None) -> QuerySet:
    queryset = Sip.objects.all() if queryset is None else queryset
    return access.objects_with_permission(user, queryset, "view_sip")


_sip_by_key = access.VisibleByKey(Sip, "view_sip")


def get_sip(user, pk) -> Sip:
    """The plan, if the user may see it; else NotFound (404)."""
    return _sip_by_key(user, pk)


def visible_persons(user, queryset: QuerySet | None = None) -> QuerySet:
    """Persons linked to one of the user's units, or in a plan the user may see."""
    queryset = Person.objects.all() if queryset is None else queryset
    units = access.unit_ids(user)
    if not units:
        return queryset.none()
    linked = PersonLink.objects.filter(unit_id__in=units).values("person_id")
    in_plans = visible_sips(user).values("person_id")
    return queryset.filter(Q(pk__in=linked) | Q(pk__in=in_plans))


def in_plan_with(user, person: Person) -> bool:
    """Whether the user takes part in a plan for the person (protected identity: only they see the name)."""
    return visible_sips(user).filter(person_id=person.pk).exists()


def active_consent_q(today=None) -> Q:
    today = today or timezone.localdate()
    return Q(withdrawn_at__isnull=True) & (Q(valid_until__isnull=True) | Q(valid_until__gte=today))


def consent_is_active(consent: Consent, today=None) -> bool:
    """Given, not withdrawn, not past its end date: the one rule, for lists and for grants alike."""
    today = today or timezone.localdate()
    return consent.withdrawn_at is None and (consent.valid_until is None or consent.valid_until >= today)


def organisations_with_access(sip: Sip, today=None) -> set[int]:
    consents = list(Consent.objects.filter(sip=sip).only("organisation_id", "withdrawn_at", "valid_until"))
    allowed = {c.organisation_id for c in consents if consent_is_active(c, today)}
    initiating = sip.initiating_unit.organisation_id
    if not any(c.organisation_id == initiating for c in consents):
        allowed.add(initiating)
    return allowed


def sync_grants(sip: Sip, today=None) -> None:
    from django.contrib.contenttypes.models import ContentType

    orgs = organisations_with_access(sip, today)
    wanted_groups = set(
        sip.participations.filter(unit__active=True, unit__organisation_id__in=orgs)
        .values_list("unit__group_id", flat=True)
    )
    content_type = ContentType.objects.get_for_model(Sip)
    permissions = {p.codename: p.pk for p in Permission.objects.filter(content_type=content_type,
                                                                        codename__in=GRANTED)}
    existing = set(
        SipGroupObjectPermission.objects.filter(content_object=sip).values_list("group_id", "permission_id")
    )
    wanted = {(group, permissions[code]) for group in wanted_groups for code in GRANTED}
    stale = existing - wanted
    if stale:
        stale_q = Q()
        for group, perm in stale:
            stale_q |= Q(group_id=group, permission_id=perm)
        SipGroupObjectPermission.objects.filter(Q(content_object=sip) & stale_q).delete()
    SipGroupObjectPermission.objects.bulk_create(
        [SipGroupObjectPermission(content_object=sip, group_id=group, permission_id=perm)
         for group, perm in sorted(wanted - existing)],
        ignore_conflicts=True,
    )


def copy_list_order_to_grants() -> int:
    """Give every grant row its plan's `updated_at`, set-wise — what the triggers of migration sip 0005 do row by
    row, for bulk loads that skip triggers (bench/datagen on PostgreSQL). Returns the rows updated."""
    updated = 0
    for model in (SipGroupObjectPermission, SipUserObjectPermission):
        plan_order = Sip.objects.filter(pk=OuterRef("content_object_id")).values("updated_at")
        updated += model.objects.update(sip_updated_at=Subquery(plan_order))
    return updated

