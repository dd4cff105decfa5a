"""Gallring (retention and disposal): one registry of rules, each defined by the app that owns the records.

Every installed app may have a `retention` module that calls `register(Rule(...))` for its record types
(sip/retention.py, sip/delaktighet/retention.py, avvikelser/retention.py; the audit log's own rule is below).
A rule names its record type, its period (a key of `settings.RETENTION`, configurable per installation), a
queryset of what is due at a given moment, and what is done to it: deleted, or de-identified (the row stays
for statistics, the personal data goes).

`preview()` counts what each rule would touch and changes nothing (`manage.py gallring --dry-run`, the API's
GET /api/v1/retention/preview/); `run()` applies the rules in order, each in its own transaction, and returns
the same counts. Neither ever returns or logs anything but rule keys, dates and counts.

The audit log (organisations_auditentry) is append-only in the database: on PostgreSQL a trigger refuses
UPDATE and DELETE unless the transaction has set `samverkan.audit_retention = 'on'` (migration 0002). Only the
audit rule's own transaction sets it; every other rule leaves the log as it is, so the trail of who read and
changed a plan outlives the plan itself until the log's own period is over.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("samverkan.retention")

DELETE = "delete"
DEIDENTIFY = "deidentify"

# Defaults, overridable per installation with settings.RETENTION (see config/settings.py and
# docs/operations.md, "Gallring"). Periods run from the event named in each rule.
DEFAULTS: dict[str, int] = {
    # SIP: part of both the social-services record (SoL: gallras tidigast 5 år efter sista anteckningen) and the
    # patient record (patientdatalagen 3 kap 17 §: minst 10 år efter sista uppgiften): the longer period.
    "SIP_CLOSED_YEARS": 10,
    # A person registered or looked up without any plan: no reason to keep the identity data.
    "PERSON_WITHOUT_PLAN_DAYS": 365,
    # Answer-link secrets have no use once the link expired or was used.
    "DELAKTIGHET_TOKEN_DAYS": 30,
    # Free-text answers can identify the respondent; the 1–6 ratings stay for the reports.
    "DELAKTIGHET_FREE_TEXT_YEARS": 3,
    # Closed collaboration deviations: free text and the link to the plan go, the counts stay for patterns.
    "DEVIATION_CLOSED_YEARS": 5,
    # Access log: PDL and HSLF-FS 2016:40 ask for at least 5 years; kept as long as the plans it is about.
    "AUDIT_YEARS": 10,
    # Reminder and notice bookkeeping (idempotency keys): no personal data, only needed while tasks may repeat.
    "REMINDER_LOG_DAYS": 400,
}
MINIMUM: dict[str, int] = {"AUDIT_YEARS": 5}


def period(name: str) -> int:
    configured = {**DEFAULTS, **getattr(settings, "RETENTION", {})}
    value = int(configured[name])
    return max(value, MINIMUM.get(name, 0))


def years_before(moment: datetime.date | datetime.datetime, years: int):
    """The same calendar day `years` earlier (29 February falls back to 28 February)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def cutoff(name: str, now: datetime.datetime) -> datetime.datetime:
    """Records whose starting event lies strictly before this moment are due under the period `name`."""
    amount = period(name)
    if name.endswith("_YEARS"):
        return years_before(now, amount)
    return now - datetime.timedelta(days=amount)


@dataclass(frozen=True)
class Rule:
    key: str
    record_type: str
    disposition: str  # DELETE or DEIDENTIFY
    period: str  # key of settings.RETENTION / DEFAULTS
    description: str
    legal_basis: str
    due: Callable[[datetime.datetime], QuerySet]
    apply: Callable[[QuerySet], int] | None = None  # default: delete the due rows
    order: int = 100
    audit_log: bool = False  # the one rule allowed past the audit trigger


_rules: dict[str, Rule] = {}
_loaded = False


def register(rule: Rule) -> Rule:
    _rules[rule.key] = rule
    return rule


def rules() -> list[Rule]:
    global _loaded
    if not _loaded:
        for config in apps.get_app_configs():
            try:
                import_module(f"{config.name}.retention")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.retention":
                    raise
        _loaded = True
    return sorted(_rules.values(), key=lambda rule: (rule.order, rule.key))


def _describe(rule: Rule, now: datetime.datetime, count: int) -> dict:
    moment = cutoff(rule.period, now)
    return {
        "rule": rule.key,
        "record_type": rule.record_type,
        "disposition": rule.disposition,
        "period": {"setting": rule.period, "value": period(rule.period),
                   "unit": "years" if rule.period.endswith("_YEARS") else "days"},
        "cutoff": moment.isoformat(),
        "description": str(rule.description),
        "legal_basis": rule.legal_basis,
        "count": count,
    }


def preview(now: datetime.datetime | None = None) -> list[dict]:
    """What each rule would remove or de-identify now: counts only, nothing changed (one COUNT per rule)."""
    now = now or timezone.now()
    return [_describe(rule, now, rule.due(now).count()) for rule in rules()]


def next_run(now: datetime.datetime | None = None) -> datetime.datetime | None:
    """When the scheduled job (settings.CELERY_BEAT_SCHEDULE["gallring"]) runs next; None if it has no crontab."""
    entry = getattr(settings, "CELERY_BEAT_SCHEDULE", {}).get("gallring") or {}
    schedule = entry.get("schedule")
    if not hasattr(schedule, "remaining_estimate") or not hasattr(schedule, "now"):
        return None  # not scheduled, or a plain interval whose next run depends on the last one
    now = now or schedule.now()
    moment = now + schedule.remaining_estimate(now)
    return (moment + datetime.timedelta(seconds=30)).replace(second=0, microsecond=0)


def _audit_retention(on: bool) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Local to this transaction (third argument): the trigger lets this one rule delete, nothing else.
            cursor.execute("SELECT set_config('samverkan.audit_retention', %s, true)", ["on" if on else "off"])


def _delete(queryset: QuerySet) -> int:
    """Delete the due rows (and what cascades with them); the count is of the rule's own record type."""
    return queryset.delete()[1].get(queryset.model._meta.label, 0)


@transaction.atomic
def _apply(rule: Rule, now: datetime.datetime) -> int:
    if rule.audit_log:
        _audit_retention(True)
    queryset = rule.due(now)
    count = rule.apply(queryset) if rule.apply is not None else _delete(queryset)
    if rule.audit_log:
        # Off again at once, also when the caller's transaction goes on (a nested run, a test). After an
        # error the rollback (of the transaction or savepoint) undoes the setting itself.
        _audit_retention(False)
    return count


def run(now: datetime.datetime | None = None, *, dry_run: bool = False) -> list[dict]:
    """Apply every rule in order (dry_run: count only). Returns one row per rule with the rows it touched."""
    now = now or timezone.now()
    if dry_run:
        return preview(now)
    report = []
    for rule in rules():
        count = _apply(rule, now)
        logger.info("gallring %s: %d %s", rule.key, count, rule.disposition)
        report.append(_describe(rule, now, count))
    return report


# --- the audit log's own rule -----------------------------------------------------------------------------

def _due_audit(now):
    from organisations.models import AuditEntry

    return AuditEntry.objects.filter(at__lt=cutoff("AUDIT_YEARS", now))


def _delete_audit(queryset) -> int:
    # AuditEntryQuerySet.delete() refuses by design; the rows go with one raw DELETE inside the transaction
    # that switched the trigger off for itself.
    return queryset._raw_delete(queryset.db)


register(Rule(
    key="organisations.audit_log",
    record_type="organisations.auditentry",
    disposition=DELETE,
    period="AUDIT_YEARS",
    description=_("Loggposter (åtkomstlogg) äldre än lagringstiden."),
    legal_basis="HSLF-FS 2016:40 4 kap 9 §; patientdatalagen 4 kap 3 §",
    due=_due_audit,
    apply=_delete_audit,
    order=900,
    audit_log=True,
))
