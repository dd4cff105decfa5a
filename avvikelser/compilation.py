"""The compiled report "Sammanställning av samverkansavvikelser": a forum's numbers, charts, signals, recurring
themes, decisions and measures with their follow-up, and the forum organisations' delaktighet results for a
period — as a PDF and an XLSX file, built by a Celery task (avvikelser.tasks.build_compilation) with progress.

Who: every member of the forum sees the forum's compilations and downloads them; processledare and ordförande
(forum_services.can_edit — the roles that compile and prepare the forum's work) request new ones (403 for a
ledamot). Anyone outside the forum gets 404 for the forum and everything under it (the forum gate).

What it holds (gather()):

* the counts, exactly as the pattern view counts them — avvikelser.patterns.patterns_for() for the same forum,
  period and granularity, so every number equals GET /api/v1/forums/{id}/patterns/: the total, per category
  (merged categories under their successor), per direction, per period, rates per 100 active SIPs, the flagged
  series (signals) and the recurring themes;
* the forum's decisions taken in the period, and the measures followed up in it (decided in the period, still
  open at its end, or closed during it) with owner organisation, due date, status and the before/after
  comparison of forum_services.before_after() as of the period's end — never the responsible person;
* the delaktighet results of the forum's member organisations in the period (sip.delaktighet.reports.
  organisation_report: small cells shown as "<5", complementary suppression across the organisations; no
  free-text answers exist in it).

No staff names, no persons, no SIP links and no report texts: only category, organisation, agreement and
forum-written texts (decisions and measures, checked by the personal-data guard when written).

The task stores `step` as a key (STEPS) and `error` as a key (ERRORS), shown translated; the files live in the
database (BinaryField) so any app server can serve them.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from avvikelser import forum_services, patterns
from avvikelser.models import (
    Compilation,
    CompilationStatus,
    Decision,
    Forum,
    MeasureStatus,
)
from config.logfilters import log_exception_without_message
from organisations import audit
from organisations.errors import Conflict, NotFound
from organisations.models import AuditAction, Organisation

logger = logging.getLogger(__name__)

STEPS = {
    "queued": gettext_lazy("Väntar på att byggas"),
    "start": gettext_lazy("Startar"),
    "patterns": gettext_lazy("Räknar avvikelser och signaler"),
    "decisions": gettext_lazy("Sammanställer beslut och åtgärder"),
    "delaktighet": gettext_lazy("Hämtar delaktighetsresultat"),
    "pdf": gettext_lazy("Skapar PDF"),
    "xlsx": gettext_lazy("Skapar Excel-fil"),
    "done": gettext_lazy("Klar"),
    "failed": gettext_lazy("Misslyckades"),
}
ERRORS = {
    "build_failed": gettext_lazy("Sammanställningen kunde inte skapas. Försök igen; kvarstår felet, kontakta "
                                 "supporten."),
}
UNFINISHED = (CompilationStatus.QUEUED, CompilationStatus.RUNNING)
STALE_AFTER = datetime.timedelta(minutes=30)  # a running build older than this was lost (worker died): rebuild
MAX_UNFINISHED_PER_FORUM = 3
FILES = {
    "pdf": ("application/pdf", "pdf"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}


def step_label(key: str) -> str:
    return str(STEPS.get(key, key))


def error_label(key: str) -> str:
    return str(ERRORS.get(key, ERRORS["build_failed"])) if key else ""


# --- reads and requests (every forum through the gate) ---------------------------------------------------------

def compilations_of(forum: Forum) -> QuerySet[Compilation]:
    """The forum's compilations, newest first, without the files (they are fetched one at a time)."""
    return Compilation.objects.filter(forum_id=forum.pk).defer("pdf", "xlsx").order_by("-created_at", "-id")


def get_compilation(user, forum_id, compilation_id) -> Compilation:
    """The compilation of a forum the user is a member of; 404 otherwise (files not loaded)."""
    from organisations import access

    forum = forum_services.get_forum(user, forum_id)
    return access.get_visible(compilations_of(forum), compilation_id)


def request_compilation(user, forum_id, *, period_start: datetime.date, period_end: datetime.date,
                        granularity: str = patterns.DEFAULT_GRANULARITY) -> Compilation:
    """Queue a compilation (processledare and ordförande only). The same request while an identical one is still
    queued or running returns that one; at most MAX_UNFINISHED_PER_FORUM unfinished per forum (409 beyond)."""
    forum = forum_services.get_forum(user, forum_id)
    if not forum_services.can_edit(user, forum):
        from organisations.errors import Forbidden

        raise Forbidden(_("Bara processledare och ordförande beställer sammanställningar."),
                        code="not_forum_editor")
    if period_start is None or period_end is None:
        raise ValidationError({"period_start" if period_start is None else "period_end": [
            _("Ange periodens början och slut.")]})
    patterns.resolve_period(period_start, period_end, granularity, timezone.localdate())  # 400 when invalid
    with transaction.atomic():
        Forum.objects.select_for_update().filter(pk=forum.pk).first()  # one request at a time per forum
        cut = timezone.now() - STALE_AFTER
        # Running with its worker lost, or queued while the broker was away: either way nothing builds it.
        stale = (Q(status=CompilationStatus.RUNNING, started_at__lt=cut)
                 | Q(status=CompilationStatus.QUEUED, created_at__lt=cut))
        unfinished = Compilation.objects.filter(forum_id=forum.pk, status__in=UNFINISHED).defer("pdf", "xlsx")
        same = unfinished.filter(period_start=period_start, period_end=period_end, granularity=granularity).first()
        if same is not None:
            if unfinished.filter(stale, pk=same.pk).exists():  # its worker was lost: build it again
                transaction.on_commit(lambda pk=same.pk: _enqueue(pk), robust=True)
            return same
        unfinished = unfinished.exclude(stale)
        if unfinished.count() >= MAX_UNFINISHED_PER_FORUM:
            raise Conflict(_("Forumet har redan %(n)s sammanställningar som byggs. Vänta tills de är klara.")
                           % {"n": MAX_UNFINISHED_PER_FORUM}, code="compilations_busy")
        compilation = Compilation.objects.create(
            forum=forum, requested_by=user, period_start=period_start, period_end=period_end,
            granularity=granularity, step="queued", language=(translation.get_language() or "sv")[:8])
        audit.record(user, AuditAction.CREATE, compilation)
        transaction.on_commit(lambda pk=compilation.pk: _enqueue(pk), robust=True)
    return compilation


def _enqueue(compilation_id: int) -> None:
    from avvikelser.tasks import build_compilation

    build_compilation.delay(compilation_id)


def file_of(user, forum_id, compilation_id, kind: str) -> tuple[bytes, str, str]:
    """(content, content type, file name) of a finished compilation; 409 while it is not ready."""
    if kind not in FILES:
        raise NotFound
    compilation = get_compilation(user, forum_id, compilation_id)
    if compilation.status != CompilationStatus.DONE:
        raise Conflict(_("Sammanställningen är inte klar än."), code="compilation_not_ready")
    content = Compilation.objects.filter(pk=compilation.pk).values_list(kind, flat=True).get()
    if content is None:
        raise Conflict(_("Sammanställningen är inte klar än."), code="compilation_not_ready")
    audit.record(user, AuditAction.EXPORT, compilation, fields=[kind])
    content_type, extension = FILES[kind]
    return bytes(content), content_type, file_name(compilation, extension)


def file_name(compilation: Compilation, extension: str) -> str:
    return (f"sammanstallning-forum{compilation.forum_id}-{compilation.period_start.isoformat()}-"
            f"{compilation.period_end.isoformat()}.{extension}")


# --- the content -----------------------------------------------------------------------------------------------

def period_label(start: str | datetime.date, granularity: str) -> str:
    day = datetime.date.fromisoformat(start) if isinstance(start, str) else start
    if granularity == "week":
        year, week, _weekday = day.isocalendar()
        return f"{year} v{week:02d}"
    if granularity == "quarter":
        return f"{day.year} K{(day.month - 1) // 3 + 1}"
    return f"{day.year}-{day.month:02d}"


def _measure_row(measure, result: forum_services.BeforeAfter, as_of: datetime.date) -> dict:
    pair = None
    if measure.from_organisation_id and measure.to_organisation_id:
        pair = f"{measure.from_organisation.name} → {measure.to_organisation.name}"
    return {
        "id": measure.pk,
        "decision": measure.decision_id,
        "title": measure.title,
        "owner_organisation": measure.owner_organisation.name,
        "due_on": measure.due_on.isoformat(),
        "status": measure.status,
        "status_label": str(MeasureStatus(measure.status).label),
        "overdue": measure.status in forum_services.OPEN_MEASURE and measure.due_on < as_of,
        "category": measure.category.name if measure.category_id else None,
        "pair": pair,
        "before_after": {
            "window_days": result.window_days,
            "before": result.before.count,
            "after": result.after.count,
            "rate_change": result.rate_change,
            "p_value": round(result.p_value, 4),
            "verdict": result.verdict,
            "too_early": result.too_early,
        },
    }


def _work(forum: Forum, first: datetime.date, last: datetime.date, as_of: datetime.date) -> dict:
    """Decisions taken in the period; measures decided in it, still open at its end, or closed during it."""
    decisions = [{"id": d.pk, "decided_on": d.decided_on.isoformat(), "text": d.text,
                  "measure_count": d.measure_count}
                 for d in Decision.objects.filter(forum_id=forum.pk, decided_on__gte=first, decided_on__lte=last)
                 .annotate(measure_count=Count("measures")).order_by("decided_on", "id")]
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    measures = (forum_services.measures_of(forum).filter(decision__decided_on__lte=last)
                .filter(Q(decision__decided_on__gte=first) | Q(status__in=forum_services.OPEN_MEASURE)
                        | Q(status_changed_at__gte=start)))
    measures = list(measures)
    results = forum_services.before_after_many(measures, today=as_of)
    return {"decisions": decisions,
            "measures": [_measure_row(m, result, as_of) for m, result in zip(measures, results, strict=True)]}


def _delaktighet(organisations: list[dict], first: datetime.date, last: datetime.date) -> dict:
    from sip.delaktighet import reports

    names = {o["id"]: o["name"] for o in organisations}
    try:
        report = reports.organisation_report([o["id"] for o in organisations], period_start=first, period_end=last)
    except NotFound:  # no published delaktighet questionnaire
        return {"available": False, "min_cell": reports.min_cell(), "groups": [], "total": None}
    groups = [{"organisation": names.get(g["key"]["organisation"], ""), **{k: v for k, v in g.items() if k != "key"}}
              for g in report["groups"]]
    return {"available": True, "min_cell": report["min_cell"], "marker": reports.marker(report["min_cell"]),
            "template_version": report["template_version"], "groups": groups, "total": report["total"]}


def gather(forum: Forum, *, period_start: datetime.date, period_end: datetime.date, granularity: str,
           today: datetime.date | None = None, progress: Callable[[int, str], None] | None = None) -> dict:
    """Everything the files show, for a forum whose membership the caller has already checked."""
    today = today or timezone.localdate()
    progress = progress or (lambda _percent, _step: None)
    progress(10, "patterns")
    counted = patterns.patterns_for(forum, period_start=period_start, period_end=period_end,
                                    granularity=granularity, today=today)
    first = datetime.date.fromisoformat(counted["period"]["start"])
    last = datetime.date.fromisoformat(counted["period"]["end"])
    organisations = list(Organisation.objects.filter(forums=forum).order_by("name", "id")
                         .values("id", "name", "active"))
    progress(30, "decisions")
    as_of = min(today, last + datetime.timedelta(days=1))
    work = _work(forum, first, last, as_of)
    progress(45, "delaktighet")
    delaktighet = _delaktighet(organisations, first, last)
    labels = [period_label(p["start"], granularity) for p in counted["periods"]]
    signals = [{
        "label": s["label"], "category": s["category"]["name"],
        "reporting_organisation": s["reporting_organisation"]["name"],
        "counterpart_organisation": s["counterpart_organisation"]["name"], "total": s["total"],
        "chart": s["chart"]["type"], "outside": s["outside"],
        "periods": [period_label(x["period"], granularity) for x in s["signals"]],
        "p_value": s["min_p_value"],
    } for s in counted["series"] if s["flagged"]]
    return {
        "forum": counted["forum"],
        "organisations": organisations,
        "granularity": granularity,
        "period": counted["period"],
        "requested_period": {"start": period_start.isoformat(), "end": period_end.isoformat()},
        "generated_on": today.isoformat(),
        "as_of": as_of.isoformat(),
        "period_labels": labels,
        "patterns": counted,
        "signals": signals,
        "work": work,
        "delaktighet": delaktighet,
    }


# --- the build (the Celery task's body) ------------------------------------------------------------------------

def _progress(compilation_id: int, started_at, percent: int, step: str) -> None:
    Compilation.objects.filter(pk=compilation_id, status=CompilationStatus.RUNNING, started_at=started_at).update(
        progress=percent, step=step)


def _log_failure(compilation_id: int, exc: BaseException) -> None:
    log_exception_without_message(logger, f"compilation {compilation_id} failed", exc)


def build(compilation_id: int, *, today: datetime.date | None = None) -> bool:
    """Build the compilation's files. Idempotent: a finished, failed or (recently) running compilation is left
    alone, so a task delivered twice builds once; a running one older than STALE_AFTER is taken over.
    Returns whether this call built it."""
    from avvikelser import compilation_render

    now = timezone.now()
    claimed = (Compilation.objects.filter(pk=compilation_id)
               .filter(Q(status=CompilationStatus.QUEUED)
                       | Q(status=CompilationStatus.RUNNING, started_at__lt=now - STALE_AFTER))
               .update(status=CompilationStatus.RUNNING, started_at=now, progress=1, step="start", error=""))
    if not claimed:
        return False
    compilation = Compilation.objects.defer("pdf", "xlsx").select_related("forum").get(pk=compilation_id)
    try:
        with translation.override(compilation.language or "sv"):
            content = gather(compilation.forum, period_start=compilation.period_start,
                             period_end=compilation.period_end, granularity=compilation.granularity, today=today,
                             progress=lambda percent, step: _progress(compilation_id, now, percent, step))
            _progress(compilation_id, now, 60, "pdf")
            pdf = compilation_render.render_pdf(content)
            _progress(compilation_id, now, 85, "xlsx")
            xlsx = compilation_render.render_xlsx(content)
        Compilation.objects.filter(pk=compilation_id, status=CompilationStatus.RUNNING, started_at=now).update(
            status=CompilationStatus.DONE, progress=100, step="done", pdf=pdf, xlsx=xlsx,
            total=content["patterns"]["total"], finished_at=timezone.now())
    except Exception as exc:  # the user sees a generic message; the log has the type and the frames only
        _log_failure(compilation_id, exc)
        Compilation.objects.filter(pk=compilation_id, started_at=now).update(
            status=CompilationStatus.FAILED, step="failed", error="build_failed", finished_at=timezone.now())
        return False
    return True
