"""Every write on deviations and the category taxonomy: gate, transaction, personal-data guard, history,
audit."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from avvikelser import guard, workflow
from avvikelser.access import require_side, sides
from avvikelser.models import Category, CategoryEvent, Comment, Deviation, DeviationChange, Forum, State
from organisations import access, audit
from organisations.errors import Conflict, Forbidden, NotFound, PreconditionFailed, PreconditionRequired
from organisations.models import AuditAction, Role

TEXT_FIELDS = ("what_happened", "immediate_action", "suggestion", "agreement_other", "analysis", "measures", "text")
DRAFT_FIELDS = ("counterpart_organisation", "counterpart_unit", "occurred_on", "agreement", "agreement_other",
                "category", "what_happened", "immediate_action", "consequence", "suggestion", "sip")
DEFAULT_ACKNOWLEDGE_WORKING_DAYS = 5
DEFAULT_ANSWER_DAYS = 60


def _names_of(sip) -> list[str]:
    if sip is None:
        return []
    person = sip.person
    return [person.first_name, person.last_name]


def _names_for(sides_of_actor: set[str], deviation) -> list[str]:
    """The person's names are looked for only by those who see the report in full; for the forum's
    pseudonymised view a name hit (with its position) would itself tell who the report is about."""
    return _names_of(deviation.sip) if {"reporter", "counterpart"} & sides_of_actor else []


def check_personal_data(values: dict, *, names=()) -> None:
    """Free text about what happened, never who: a 400 field error says what was found and where."""
    errors = {}
    for field in TEXT_FIELDS:
        text = values.get(field)
        if text:
            findings = guard.scan(text, names=names)
            if findings:
                errors[field] = guard.describe(findings)
    if errors:
        raise ValidationError(errors)


def forum_for(reporting_organisation_id: int, counterpart_organisation_id: int) -> Forum | None:
    return (Forum.objects.filter(organisations=reporting_organisation_id)
            .filter(organisations=counterpart_organisation_id).order_by("id").first())


def add_working_days(start: datetime.datetime, days: int) -> datetime.datetime:
    current = start
    while days > 0:
        current += datetime.timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def _record(actor, deviation, action, before=None, after=None):
    before, after = before or {}, after or {}
    rows = [DeviationChange(deviation=deviation, actor=actor, action=action, field=name,
                            old=before.get(name), new=after.get(name))
            for name in after if before.get(name) != after.get(name)]
    if not rows:
        rows = [DeviationChange(deviation=deviation, actor=actor, action=action)]
    DeviationChange.objects.bulk_create(rows)


def _snapshot(deviation, fields) -> dict:
    from sip.history import serialise

    return {name: serialise(getattr(deviation, deviation._meta.get_field(name).attname)) for name in fields}


def _validate(actor, deviation: Deviation) -> None:
    errors = {}
    if deviation.counterpart_organisation_id == deviation.reporting_organisation_id:
        errors["counterpart_organisation"] = _("Motparten ska vara en annan organisation än din egen.")
    if deviation.counterpart_unit_id and deviation.counterpart_unit.organisation_id != (
            deviation.counterpart_organisation_id):
        errors["counterpart_unit"] = _("Enheten hör inte till motpartens organisation.")
    if (deviation.category_id and deviation.pk is None
            and Category.objects.filter(pk=deviation.category_id, retired_at__isnull=False).exists()):
        errors["category"] = _("Kategorin är avvecklad. Välj en aktuell kategori.")
    if deviation.occurred_on and deviation.occurred_on > timezone.localdate():
        errors["occurred_on"] = _("Händelsedatumet kan inte ligga i framtiden.")
    if deviation.agreement_id and deviation.agreement.forum_id != deviation.forum_id:
        errors["agreement"] = _("Överenskommelsen hör till ett annat forum.")
    if deviation.sip_id:
        from sip.access import visible_sips

        if not visible_sips(actor).filter(pk=deviation.sip_id).exists():
            errors["sip"] = _("Planen finns inte eller så saknar du åtkomst till den.")
    if errors:
        raise ValidationError(errors)


def create_draft(actor, *, reporting_unit, **values) -> Deviation:
    if reporting_unit.pk not in access.unit_ids(actor):
        raise ValidationError({"reporting_unit": _("Du kan bara rapportera från en enhet där du arbetar.")})
    unknown = set(values) - set(DRAFT_FIELDS)
    if unknown:
        raise ValidationError({name: _("Okänt fält.") for name in sorted(unknown)})
    check_personal_data(values, names=_names_of(values.get("sip")))
    with transaction.atomic():
        deviation = Deviation(reporter=actor, reporting_unit=reporting_unit,
                              reporting_organisation_id=reporting_unit.organisation_id, **values)
        deviation.forum = forum_for(deviation.reporting_organisation_id, deviation.counterpart_organisation_id)
        _validate(actor, deviation)
        deviation.full_clean()
        deviation.save()
        _record(actor, deviation, "create", after=_snapshot(deviation, ("state", "category", "consequence")))
        audit.record(actor, AuditAction.CREATE, deviation, organisation_id=deviation.reporting_organisation_id)
    return deviation


def update_draft(actor, deviation: Deviation, expected_version, **changes) -> Deviation:
    with transaction.atomic():
        deviation = Deviation.objects.select_for_update(of=("self",)).get(pk=deviation.pk)
        require_side(actor, deviation, {"reporter"})
        if deviation.state != State.UTKAST:
            raise Conflict(_("Bara utkast kan ändras. Skriv en kommentar i stället."), code="not_a_draft")
        _check_version(deviation, expected_version)
        unknown = set(changes) - set(DRAFT_FIELDS)
        if unknown:
            raise ValidationError({name: _("Okänt fält.") for name in sorted(unknown)})
        check_personal_data(changes, names=_names_of(changes.get("sip") or deviation.sip))
        before = _snapshot(deviation, DRAFT_FIELDS)
        for name, value in changes.items():
            setattr(deviation, name, value)
        if _snapshot(deviation, DRAFT_FIELDS) == before:
            return deviation  # nothing changed: no new version, no empty history row
        deviation.forum = forum_for(deviation.reporting_organisation_id, deviation.counterpart_organisation_id)
        _validate(actor, deviation)
        deviation.full_clean()
        deviation.version += 1
        deviation.save()
        _record(actor, deviation, "update", before, _snapshot(deviation, DRAFT_FIELDS))
        audit.record(actor, AuditAction.UPDATE, deviation, organisation_id=deviation.reporting_organisation_id,
                     fields=changes.keys())
    return deviation


def _check_version(deviation, expected_version) -> None:
    if expected_version is None:
        raise PreconditionRequired
    if int(expected_version) != deviation.version:
        raise PreconditionFailed(deviation)


def transition(actor, deviation: Deviation, target: str, expected_version, *, analysis: str = "",
               measures: str = "") -> Deviation:
    with transaction.atomic():
        deviation = Deviation.objects.select_for_update(of=("self",)).select_related("forum").get(pk=deviation.pk)
        mine = sides(actor, deviation)
        if not mine:
            raise NotFound
        _check_version(deviation, expected_version)
        if target not in State.values or deviation.state not in workflow.allowed_from(target):
            raise Conflict(_("En avvikelse med status %(current)s kan inte få status %(target)s.") % {
                "current": State(deviation.state).label,
                "target": State(target).label if target in State.values else target}, code="transition_not_allowed")
        if not (mine & workflow.who_may(target)):
            raise Forbidden(_("Bara motparten kan ta emot och besvara en avvikelse.")
                            if target in (State.MOTTAGEN, State.BESVARAD) else None)
        before = _snapshot(deviation, ("state", "analysis", "measures"))
        now = timezone.now()
        if target == State.INKOMMEN:
            forum = deviation.forum
            deviation.submitted_at = now
            deviation.acknowledge_due_at = add_working_days(
                now, forum.acknowledge_working_days if forum else DEFAULT_ACKNOWLEDGE_WORKING_DAYS)
            deviation.answer_due_at = now + datetime.timedelta(days=forum.answer_days if forum else
                                                               DEFAULT_ANSWER_DAYS)
        elif target == State.MOTTAGEN and deviation.acknowledged_at is None:
            deviation.acknowledged_at = now
        elif target == State.BESVARAD:
            errors = {}
            if not analysis.strip():
                errors["analysis"] = _("Beskriv er analys av vad som hände.")
            if not measures.strip():
                errors["measures"] = _("Beskriv vilka åtgärder ni vidtar.")
            if errors:
                raise ValidationError(errors)
            check_personal_data({"analysis": analysis, "measures": measures}, names=_names_for(mine, deviation))
            deviation.analysis, deviation.measures, deviation.answered_at = analysis, measures, now
        elif target == State.AVSLUTAD:
            deviation.closed_at = now
        elif target == State.ESKALERAD:
            deviation.escalated_at = now
        deviation.state = target
        deviation.version += 1
        deviation.save()
        _record(actor, deviation, "transition", before, _snapshot(deviation, ("state", "analysis", "measures")))
        audit.record(actor, AuditAction.UPDATE, deviation, organisation_id=deviation.reporting_organisation_id,
                     fields=["state"])
    return deviation


def comment(actor, deviation: Deviation, text: str) -> Comment:
    mine = require_side(actor, deviation, {"reporter", "counterpart", "processledare"})
    if not text.strip():
        raise ValidationError({"text": _("Skriv en kommentar.")})
    check_personal_data({"text": text}, names=_names_for(mine, deviation))
    membership = access.acting_membership(actor, organisation_id=(
        deviation.reporting_organisation_id if "reporter" in mine else deviation.counterpart_organisation_id))
    with transaction.atomic():
        note = Comment.objects.create(deviation=deviation, author=actor, text=text,
                                      organisation_id=membership.unit.organisation_id)
        _record(actor, deviation, "comment", after={"comment": note.pk})
        audit.record(actor, AuditAction.CREATE, note, organisation_id=membership.unit.organisation_id)
    return note


# --- the category taxonomy ------------------------------------------------------------------------------------

def _require_taxonomy_admin(actor) -> None:
    if not any(m.role in (Role.ORG_ADMIN, Role.PROCESSLEDARE) for m in access.memberships(actor)):
        raise Forbidden(_("Bara processledare och organisationsadministratörer ändrar kategorierna."))


def create_category(actor, *, key: str, name: str, description: str = "") -> Category:
    _require_taxonomy_admin(actor)
    with transaction.atomic():
        category = Category(key=key, name=name, description=description)
        category.full_clean()
        category.save()
        CategoryEvent.objects.create(category=category, kind="created", new={"name": name}, actor=actor)
    return category


def rename_category(actor, category: Category, name: str) -> Category:
    _require_taxonomy_admin(actor)
    with transaction.atomic():
        category = Category.objects.select_for_update().get(pk=category.pk)
        CategoryEvent.objects.create(category=category, kind="renamed", old={"name": category.name},
                                     new={"name": name}, actor=actor)
        category.name = name
        category.version += 1
        category.full_clean()
        category.save()
    return category


def retire_category(actor, category: Category) -> Category:
    _require_taxonomy_admin(actor)
    with transaction.atomic():
        category = Category.objects.select_for_update().get(pk=category.pk)
        if category.retired_at:
            raise Conflict(_("Kategorin är redan avvecklad."), code="already_retired")
        category.retired_at = timezone.now()
        category.version += 1
        category.save()
        CategoryEvent.objects.create(category=category, kind="retired", actor=actor)
    return category


def merge_categories(actor, source: Category, target: Category) -> Category:
    """Reports keep `source`; counted under `target` from now on (and under whatever target merges into)."""
    _require_taxonomy_admin(actor)
    if source.pk == target.pk or successor_root(target).pk == source.pk:
        raise ValidationError({"target": _("En kategori kan inte slås ihop med sig själv.")})
    if target.retired_at:
        raise ValidationError({"target": _("Slå ihop med en aktuell kategori.")})
    with transaction.atomic():
        source = Category.objects.select_for_update().get(pk=source.pk)
        source.successor = target
        source.retired_at = source.retired_at or timezone.now()
        source.version += 1
        source.save()
        CategoryEvent.objects.create(category=source, kind="merged", new={"successor": target.pk}, actor=actor)
    return source


def successor_root(category: Category) -> Category:
    seen = set()
    while category.successor_id and category.pk not in seen:
        seen.add(category.pk)
        category = category.successor
    return category


def category_roots() -> dict[int, int]:
    """Every category id → the id it counts under now (itself unless merged)."""
    parents = dict(Category.objects.values_list("id", "successor_id"))
    roots = {}
    for category_id in parents:
        current, seen = category_id, set()
        while parents.get(current) and current not in seen:
            seen.add(current)
            current = parents[current]
        roots[category_id] = current
    return roots
