"""Gallring: the dry run changes nothing; the job removes or de-identifies exactly what the rules say, at the
boundary dates; the audit log is only touched by its own rule."""

import datetime
import json
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from avvikelser.retention import REMOVED
from organisations import retention
from organisations.models import AuditEntry
from sip.models import Person, PersonLink, Sip
from tests.conftest import make_plan, requires_postgres
from tests.dataskydd.conftest import answered_invitation, closed_deviation, closed_plan, register

pytestmark = pytest.mark.django_db

TEN_YEARS = 10


def table_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


@pytest.fixture
def scenario(world):
    today = timezone.localdate()
    plan = make_plan(world)  # open plan
    old = closed_plan(world, register(world, 1), today - datetime.timedelta(days=1))
    edge = closed_plan(world, register(world, 2), today)
    invitation = answered_invitation(world, plan)
    deviation = closed_deviation(world, old, timezone.now())
    return {"plan": plan, "old": old, "edge": edge, "invitation": invitation, "deviation": deviation}


def ten_years_on():
    """The same calendar day ten years on: the cut-off for closed plans is today."""
    return retention.years_before(timezone.now(), -TEN_YEARS)


def test_every_rule_is_registered():
    keys = {rule.key for rule in retention.rules()}
    assert keys >= {"sip.closed_plans", "sip.persons_without_plan", "sip.reminder_logs", "delaktighet.answer_links",
                    "delaktighet.free_text_answers", "avvikelser.closed_deviations", "organisations.audit_log"}


def test_dry_run_changes_nothing(scenario):
    before = table_counts()
    audit_before = list(AuditEntry.objects.values_list("pk", flat=True))
    out = StringIO()
    call_command("gallring", "--dry-run", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["dry_run"] is True
    assert table_counts() == before
    assert list(AuditEntry.objects.values_list("pk", flat=True)) == audit_before
    # Counts and dates only: no names, no identifiers.
    assert "Kim" not in out.getvalue() and "Andersson" not in out.getvalue()
    assert "811218" not in out.getvalue()

    preview = {row["rule"]: row["count"] for row in retention.run(ten_years_on(), dry_run=True)}
    assert preview["sip.closed_plans"] == 1
    assert preview["avvikelser.closed_deviations"] == 1
    assert table_counts() == before


def test_closed_plans_go_at_the_boundary(scenario, settings):
    # The access log here outlives the plans by a year, to show the plans' rule leaves it alone.
    settings.RETENTION = {**settings.RETENTION, "AUDIT_YEARS": TEN_YEARS + 1}
    old, edge, plan = scenario["old"], scenario["edge"], scenario["plan"]
    audit_count = AuditEntry.objects.count()

    report = {row["rule"]: row["count"] for row in retention.run(ten_years_on())}

    assert report["sip.closed_plans"] == 1
    assert not Sip.objects.filter(pk=old.pk).exists()
    assert Sip.objects.filter(pk=edge.pk).exists(), "closed on the cut-off day: kept one day more"
    assert Sip.objects.filter(pk=plan.sip.pk).exists(), "open plans are never disposed of"
    # The person of the removed plan has no plan left and no recent lookup: removed in the same run.
    assert not Person.objects.filter(pk=old.person_id).exists()
    assert Person.objects.filter(pk=edge.person_id).exists()
    # The deviation that named the plan keeps its counts, loses the link and its free text.
    deviation = scenario["deviation"]
    deviation.refresh_from_db()
    assert deviation.sip_id is None
    assert deviation.what_happened == REMOVED
    assert not deviation.comments.exists()
    # The access log keeps every entry, also those about the removed plan and person.
    assert AuditEntry.objects.count() == audit_count
    assert AuditEntry.objects.filter(person_id=old.person_id).exists()

    # A second run finds nothing more to do.
    again = {row["rule"]: row["count"] for row in retention.run(ten_years_on())}
    assert again["sip.closed_plans"] == 0 and again["avvikelser.closed_deviations"] == 0


def test_persons_without_plan_at_the_boundary(world):
    now = timezone.now()
    cut = now - datetime.timedelta(days=retention.period("PERSON_WITHOUT_PLAN_DAYS"))
    gone, kept, relinked = register(world, 11), register(world, 12), register(world, 13)
    second = datetime.timedelta(seconds=1)
    Person.objects.filter(pk=gone.pk).update(created_at=cut - second)
    PersonLink.objects.filter(person=gone).update(created_at=cut - second)
    Person.objects.filter(pk=kept.pk).update(created_at=cut)
    PersonLink.objects.filter(person=kept).update(created_at=cut)
    # Registered long ago, but a unit looked the person up within the period: kept.
    Person.objects.filter(pk=relinked.pk).update(created_at=cut - datetime.timedelta(days=400))

    report = {row["rule"]: row["count"] for row in retention.run(now)}

    assert report["sip.persons_without_plan"] == 1
    assert set(Person.objects.filter(pk__in=[gone.pk, kept.pk, relinked.pk]).values_list("pk", flat=True)) == {
        kept.pk, relinked.pk}


def test_answer_links_and_free_text(world, scenario):
    from sip.delaktighet.models import Answer, InvitationToken, Response

    invitation = scenario["invitation"]
    assert InvitationToken.objects.filter(invitation=invitation).exists()
    closed = invitation.__class__.objects.get(pk=invitation.pk).closed_at
    token_cut = closed + datetime.timedelta(days=retention.period("DELAKTIGHET_TOKEN_DAYS"))

    retention.run(token_cut)  # closed exactly at the cut-off: kept
    assert InvitationToken.objects.filter(invitation=invitation).exists()
    retention.run(token_cut + datetime.timedelta(seconds=1))
    assert not InvitationToken.objects.filter(invitation=invitation).exists()

    response = Response.objects.get(invitation=invitation)
    text_cut = retention.years_before(response.submitted_at, -retention.period("DELAKTIGHET_FREE_TEXT_YEARS"))
    retention.run(text_cut)
    assert Answer.objects.filter(response=response).exclude(value_text="").count() == 1
    report = {row["rule"]: row["count"] for row in retention.run(text_cut + datetime.timedelta(seconds=1))}
    assert report["delaktighet.free_text_answers"] == 1
    assert not Answer.objects.filter(response=response).exclude(value_text="").exists()
    # The ratings stay for the reports.
    assert Answer.objects.filter(response=response, value_int__isnull=False).count() == 2


def test_deviation_boundary(world):
    now = timezone.now()
    cut = retention.years_before(now, retention.period("DEVIATION_CLOSED_YEARS"))
    due = closed_deviation(world, None, cut - datetime.timedelta(seconds=1))
    kept = closed_deviation(world, None, cut)
    report = {row["rule"]: row["count"] for row in retention.run(now)}
    assert report["avvikelser.closed_deviations"] == 1
    due.refresh_from_db()
    kept.refresh_from_db()
    assert due.what_happened == REMOVED and due.category_id == kept.category_id
    assert kept.what_happened != REMOVED


def test_audit_log_only_by_its_own_rule(world, admin_a):
    from organisations import audit
    from organisations.models import AuditAction

    entries = [audit.record(admin_a, AuditAction.READ, admin_a) for _ in range(3)]
    middle = entries[1]
    now = retention.years_before(middle.at, -retention.period("AUDIT_YEARS"))

    report = {row["rule"]: row["count"] for row in retention.run(now)}

    assert report["organisations.audit_log"] >= 1
    assert not AuditEntry.objects.filter(pk=entries[0].pk).exists()
    assert AuditEntry.objects.filter(pk__in=[middle.pk, entries[2].pk]).count() == 2


def test_audit_log_period_has_a_floor(settings):
    settings.RETENTION = {**settings.RETENTION, "AUDIT_YEARS": 1}
    assert retention.period("AUDIT_YEARS") == 5


def test_audit_trigger_refuses_delete_outside_the_retention_rule(world, admin_a):
    requires_postgres()
    from organisations import audit
    from organisations.models import AuditAction

    entry = audit.record(admin_a, AuditAction.READ, admin_a)
    retention.run(timezone.now())  # the rule ran (and deleted nothing): the switch is off again afterwards
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM organisations_auditentry WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE organisations_auditentry SET role = 'x' WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_celery_task_and_beat_entry(settings, scenario):
    from organisations.tasks import apply_retention

    assert settings.CELERY_BEAT_SCHEDULE["gallring"]["task"] == "organisations.tasks.apply_retention"
    result = apply_retention.delay().get()
    assert set(result) == {rule.key for rule in retention.rules()}
    assert Sip.objects.filter(pk=scenario["old"].pk).exists()  # nothing is due today
