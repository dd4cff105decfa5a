"""Collaboration deviations (samverkansavvikelser): the category taxonomy, the forum whose deadlines and
members they answer to, the report itself, its dialogue and its history."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from organisations.loading import FastLoading
from organisations.models import Organisation, Unit


class Category(FastLoading, models.Model):
    """A category of the taxonomy. Renaming keeps the row; retiring or merging sets `retired_at` and, for a
    merge, `successor`: old reports keep their category and count under the successor's root."""

    key = models.SlugField(_("nyckel"), max_length=60, unique=True)
    name = models.CharField(_("namn"), max_length=200)
    description = models.TextField(_("beskrivning"), blank=True)
    successor = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="predecessors", verbose_name=_("ersatt av"))
    retired_at = models.DateTimeField(_("avvecklad"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("kategori")
        verbose_name_plural = _("kategorier")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(successor__isnull=True) | Q(retired_at__isnull=False),
                                   name="category_merged_is_retired"),
        ]

    def __str__(self) -> str:
        return self.name


class CategoryEvent(models.Model):
    """The taxonomy's history: created, renamed, retired, merged — who and when."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10)  # created / renamed / retired / merged
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.category_id} {self.kind}"


class Forum(FastLoading, models.Model):
    """A samverkansforum / styrgrupp spanning member organisations; its deadlines govern the deviations
    between them."""

    name = models.CharField(_("namn"), max_length=200, unique=True)
    organisations = models.ManyToManyField(Organisation, related_name="forums", verbose_name=_("organisationer"))
    acknowledge_working_days = models.PositiveSmallIntegerField(_("arbetsdagar till mottagande"), default=5)
    answer_days = models.PositiveSmallIntegerField(_("dagar till återkoppling"), default=60)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("samverkansforum")
        verbose_name_plural = _("samverkansforum")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ForumRole(models.TextChoices):
    ORDFORANDE = "ordforande", _("Ordförande")
    PROCESSLEDARE = "processledare", _("Processledare")
    LEDAMOT = "ledamot", _("Ledamot")


class ForumMember(FastLoading, models.Model):
    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_memberships")
    role = models.CharField(_("roll"), max_length=16, choices=ForumRole.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["forum", "user"], name="forummember_unique")]

    def __str__(self) -> str:
        return f"{self.forum_id}:{self.user_id} {self.role}"


class Agreement(models.Model):
    """An agreement, guideline or routine between the forum's organisations (a reference list per forum)."""

    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="agreements")
    name = models.CharField(_("namn"), max_length=200)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["forum", "name"], name="agreement_unique_name")]

    def __str__(self) -> str:
        return self.name


class ContactPerson(FastLoading, models.Model):
    """An organisation's designated contact who acknowledges and answers deviations reported against it."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="deviation_contacts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "user"], name="contactperson_unique")]

    def __str__(self) -> str:
        return f"{self.organisation_id}:{self.user_id}"


class State(models.TextChoices):
    UTKAST = "utkast", _("Utkast")
    INKOMMEN = "inkommen", _("Inkommen")
    MOTTAGEN = "mottagen", _("Mottagen")
    BESVARAD = "besvarad", _("Besvarad")
    AVSLUTAD = "avslutad", _("Avslutad")
    ESKALERAD = "eskalerad", _("Eskalerad till forum")


class Consequence(models.TextChoices):
    INGEN = "ingen", _("Ingen")
    RISK = "risk", _("Risk för skada")
    SKADA = "skada", _("Skada")
    OKAND = "okand", _("Okänd")


class Deviation(FastLoading, models.Model):
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reporting_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    reporting_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    counterpart_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+",
                                                 verbose_name=_("motpart"))
    counterpart_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                         verbose_name=_("motpartens enhet"))
    forum = models.ForeignKey(Forum, on_delete=models.PROTECT, null=True, blank=True, related_name="deviations")
    occurred_on = models.DateField(_("händelsedatum"))
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("överenskommelse eller rutin"))
    agreement_other = models.CharField(_("annan överenskommelse eller rutin"), max_length=200, blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="deviations")
    what_happened = models.TextField(_("vad hände"))
    immediate_action = models.TextField(_("omedelbar åtgärd"), blank=True)
    consequence = models.CharField(_("konsekvens för personen"), max_length=8, choices=Consequence.choices,
                                   default=Consequence.OKAND)
    suggestion = models.TextField(_("förslag på förbättring"), blank=True)
    sip = models.ForeignKey("sip.Sip", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    state = models.CharField(_("status"), max_length=10, choices=State.choices, default=State.UTKAST)
    submitted_at = models.DateTimeField(null=True, blank=True)
    acknowledge_due_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    answer_due_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    analysis = models.TextField(_("motpartens analys"), blank=True)
    measures = models.TextField(_("motpartens åtgärder"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("samverkansavvikelse")
        verbose_name_plural = _("samverkansavvikelser")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["counterpart_organisation", "state"], name="deviation_counterpart_state"),
            models.Index(fields=["reporting_unit", "state"], name="deviation_reporter_state"),
            models.Index(fields=["forum", "occurred_on"], name="deviation_forum_date"),
            # 'Att besvara': the open reports against an organisation, due first (a partial index: few are open).
            models.Index(fields=["counterpart_organisation", "answer_due_at", "id"], name="deviation_open_due",
                         condition=Q(state__in=["inkommen", "mottagen", "besvarad"])),
            models.Index(fields=["category", "occurred_on"], name="deviation_category_date"),
            # A forum member's list: the forum's submitted reports newest first (the lists' order), a page read
            # from the index and the count from it alone (the largest forum: 122 000 reports).
            models.Index(fields=["forum", "-submitted_at", "-id"], name="deviation_forum_list",
                         condition=~Q(state="utkast")),
        ]

    def __str__(self) -> str:
        return f"Avvikelse {self.pk}"


class Comment(models.Model):
    deviation = models.ForeignKey(Deviation, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("kommentar"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Kommentar {self.pk}"


class DeviationChange(models.Model):
    deviation = models.ForeignKey(Deviation, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=12)  # create / update / transition / comment
    field = models.CharField(max_length=60, blank=True)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["deviation", "at"], name="deviationchange_dev_at")]

    def __str__(self) -> str:
        return f"{self.deviation_id} {self.action} {self.field}"


class Notice(models.Model):
    """One reminder or escalation per deviation and step (unique), however often the task runs."""

    deviation = models.ForeignKey(Deviation, on_delete=models.CASCADE, related_name="notices")
    step = models.CharField(max_length=30)
    claimed_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["deviation", "step"], name="notice_once_per_step")]

    def __str__(self) -> str:
        return f"{self.deviation_id} {self.step}"


# --- the forum's work: meetings, agenda, decisions, measures and the weekly digest -------------------------------

class ForumMeetingStatus(models.TextChoices):
    PLANNED = "planned", _("Planerat")
    HELD = "held", _("Hållet")


class ForumMeeting(models.Model):
    """A meeting of the forum (styrgrupp) with its agenda, prepared by the processledare."""

    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="meetings")
    starts_at = models.DateTimeField(_("tid"))
    location = models.CharField(_("plats"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=ForumMeetingStatus.choices,
                              default=ForumMeetingStatus.PLANNED)
    minutes = models.TextField(_("protokoll"), blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("forummöte")
        verbose_name_plural = _("forummöten")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["forum", "starts_at"], name="forummeeting_forum_start")]

    def __str__(self) -> str:
        return f"Forummöte {self.pk}"


class AgendaKind(models.TextChoices):
    SIGNAL = "signal", _("Ny signal")
    ESCALATED = "escalated", _("Eskalerad avvikelse")
    FOLLOW_UP = "follow_up", _("Uppföljning")
    OTHER = "other", _("Övrigt")


class AgendaItem(models.Model):
    """A point on a meeting's agenda; it may point at the deviation, measure or pattern it is about."""

    meeting = models.ForeignKey(ForumMeeting, on_delete=models.CASCADE, related_name="items")
    order = models.PositiveIntegerField(_("ordning"))
    kind = models.CharField(_("typ"), max_length=10, choices=AgendaKind.choices, default=AgendaKind.OTHER)
    title = models.CharField(_("rubrik"), max_length=300)
    deviation = models.ForeignKey(Deviation, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="agenda_items")
    measure = models.ForeignKey("Measure", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="agenda_items")
    fingerprint = models.CharField(_("mönster"), max_length=255, blank=True)
    note = models.TextField(_("anteckning"), blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("dagordningspunkt")
        verbose_name_plural = _("dagordningspunkter")
        ordering = ["meeting", "order", "id"]
        indexes = [models.Index(fields=["meeting", "order"], name="agendaitem_meeting_order")]

    def __str__(self) -> str:
        return f"{self.meeting_id}:{self.order} {self.kind}"


class Decision(models.Model):
    """A decision (beslut) of the forum, linked to the patterns (fingerprints) and reports that motivated it."""

    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="decisions")
    meeting = models.ForeignKey(ForumMeeting, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="decisions")
    text = models.TextField(_("beslut"))
    decided_on = models.DateField(_("beslutsdatum"))
    fingerprints = models.JSONField(_("mönster"), default=list, blank=True)
    deviations = models.ManyToManyField(Deviation, blank=True, related_name="decisions",
                                        verbose_name=_("avvikelser"))
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("beslut")
        verbose_name_plural = _("beslut")
        ordering = ["-decided_on", "-id"]
        indexes = [models.Index(fields=["forum", "decided_on"], name="decision_forum_date")]

    def __str__(self) -> str:
        return f"Beslut {self.pk}"


class MeasureStatus(models.TextChoices):
    PLANNED = "planned", _("Planerad")
    IN_PROGRESS = "in_progress", _("Pågår")
    DONE = "done", _("Genomförd")
    CANCELLED = "cancelled", _("Avbruten")


class Measure(models.Model):
    """A measure (åtgärd) the forum decided: who owns it, by when, and the category and pair (reporting →
    counterpart organisation) whose deviations it should reduce."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="measures")
    title = models.CharField(_("åtgärd"), max_length=300)
    owner_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+",
                                           verbose_name=_("ansvarig organisation"))
    responsible_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                         blank=True, related_name="+", verbose_name=_("ansvarig person"))
    due_on = models.DateField(_("klart senast"))
    status = models.CharField(_("status"), max_length=12, choices=MeasureStatus.choices,
                              default=MeasureStatus.PLANNED)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("kategori"))
    from_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="+", verbose_name=_("rapporterande organisation"))
    to_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+", verbose_name=_("motpart"))
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("åtgärd")
        verbose_name_plural = _("åtgärder")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["status", "due_on"], name="measure_status_due")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(from_organisation__isnull=True) & Q(to_organisation__isnull=True))
                | (Q(from_organisation__isnull=False) & Q(to_organisation__isnull=False)),
                name="measure_pair_complete"),
        ]

    def __str__(self) -> str:
        return f"Åtgärd {self.pk}"


class DigestLog(models.Model):
    """One weekly digest per forum, member and ISO week (unique), however often the task runs."""

    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week = models.CharField(max_length=8)  # ISO year and week, e.g. "2026-W05"
    claimed_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["forum", "user", "week"], name="digestlog_once_per_week")]

    def __str__(self) -> str:
        return f"{self.forum_id}:{self.user_id} {self.week}"


class CompilationStatus(models.TextChoices):
    QUEUED = "queued", _("Köad")
    RUNNING = "running", _("Pågår")
    DONE = "done", _("Klar")
    FAILED = "failed", _("Misslyckad")


class CompilationGranularity(models.TextChoices):
    WEEK = "week", _("Vecka")
    MONTH = "month", _("Månad")
    QUARTER = "quarter", _("Kvartal")


class Compilation(models.Model):
    """A "Sammanställning av samverkansavvikelser" for a forum and period, built by a Celery task
    (avvikelser.tasks.build_compilation) as a PDF and an XLSX file stored in the database (no shared disk between
    app servers). `step` and `error` are fixed texts of the builder, never personal data."""

    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="compilations")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    period_start = models.DateField(_("från"))
    period_end = models.DateField(_("till"))
    granularity = models.CharField(_("indelning"), max_length=8, choices=CompilationGranularity.choices,
                                   default=CompilationGranularity.MONTH)
    status = models.CharField(_("status"), max_length=8, choices=CompilationStatus.choices,
                              default=CompilationStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("förlopp"), default=0)
    step = models.CharField(_("steg"), max_length=120, blank=True)
    error = models.CharField(_("fel"), max_length=200, blank=True)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    xlsx = models.BinaryField(null=True, blank=True, editable=False)
    total = models.PositiveIntegerField(null=True, blank=True)  # the number of reports it counted
    language = models.CharField(max_length=8, default="sv")  # the requester's language, for the files' texts
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sammanställning")
        verbose_name_plural = _("sammanställningar")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["forum", "-created_at"], name="compilation_forum_created")]
        constraints = [models.CheckConstraint(condition=Q(progress__lte=100), name="compilation_progress_max")]

    def __str__(self) -> str:
        return f"Sammanställning {self.pk}"

    @property
    def ready(self) -> bool:
        return self.status == CompilationStatus.DONE


class PatternStamp(models.Model):
    """The version of what the pattern view of a forum shows, for its cache (avvikelser/pattern_cache.py).

    Row `forum_id` is bumped whenever that forum's rollup rows change; row 0, the directory, whenever a category,
    organisation, agreement or forum (or a forum's organisations) changes — each by statement-level triggers
    (migration 0008) in the transaction of the change, whoever makes it. A missing row counts as version 0.
    PostgreSQL only, like the rollup."""

    DIRECTORY = 0

    forum_id = models.BigIntegerField(primary_key=True)
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Mönsterversion {self.forum_id}: {self.version}"


class ForumPatternCount(models.Model):
    """Rollup of the forum's submitted reports for the pattern view (avvikelser/patterns.py), PostgreSQL only.

    One row per forum × fragment × category × direction × agreement (id, 0 for none) × agreement free text, with
    the number of reports and their first and last `occurred_on`. A fragment is the part of an ISO week that lies
    in one month (it starts on the later of the week's Monday and the month's first day), so every week, month and
    quarter is a union of whole fragments and any period of the pattern view sums exactly.

    Maintained by statement-level triggers on avvikelser_deviation (migration 0006) in the same transaction as
    every insert, update, delete and truncate — services, importer, COPY and retention alike — so it always
    equals the GROUP BY of the reports; `avvikelser.rollup.differences()` checks that. Drafts and reports without
    a forum are not counted. On SQLite the triggers do not exist and the pattern view reads the reports."""

    forum_id = models.BigIntegerField()
    fragment_start = models.DateField()
    category_id = models.BigIntegerField()
    reporting_organisation_id = models.BigIntegerField()
    counterpart_organisation_id = models.BigIntegerField()
    agreement_id = models.BigIntegerField()  # 0: no agreement
    agreement_other = models.CharField(max_length=200)
    n = models.PositiveIntegerField()
    first_day = models.DateField()
    last_day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["forum_id", "fragment_start", "category_id", "reporting_organisation_id",
                    "counterpart_organisation_id", "agreement_id", "agreement_other"], name="patterncount_key")]

    def __str__(self) -> str:
        return f"Mönsterräkning {self.forum_id}/{self.fragment_start}"
