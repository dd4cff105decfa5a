"""The person's voice: versioned questionnaires, invitations after held meetings, answers, and the
units' routine self-check (rutinkollen)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from organisations.models import Organisation, Unit


class Purpose(models.TextChoices):
    PARTICIPATION = "participation", _("Delaktighet efter möte")
    ROUTINE_CHECK = "routine_check", _("Rutinkollen")


class Template(models.Model):
    key = models.SlugField(_("nyckel"), max_length=60, unique=True)
    name = models.CharField(_("namn"), max_length=200)
    purpose = models.CharField(_("syfte"), max_length=20, choices=Purpose.choices)

    class Meta:
        verbose_name = _("enkätmall")
        verbose_name_plural = _("enkätmallar")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name


class TemplateVersionQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published_at__isnull=False)


class TemplateVersion(models.Model):
    """A version of a template. Once published it never changes; answers point at the exact version."""

    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("rubrik"), max_length=200)
    intro = models.TextField(_("inledning"), blank=True)
    published_at = models.DateTimeField(_("publicerad"), null=True, blank=True)

    objects = TemplateVersionQuerySet.as_manager()

    class Meta:
        ordering = ["template", "-number"]
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="templateversion_unique")]

    def __str__(self) -> str:
        return f"{self.template.key} v{self.number}"


class ItemKind(models.TextChoices):
    SCALE_1_6 = "scale_1_6", _("Skala 1–6")
    YES_NO_UNKNOWN = "yes_no_unknown", _("Ja / nej / vet ej")
    YES_PARTLY_NO = "yes_partly_no", _("Ja / delvis / nej")
    SINGLE_CHOICE = "single_choice", _("Ett val")
    FREE_TEXT = "free_text", _("Fritext")


class Item(models.Model):
    version = models.ForeignKey(TemplateVersion, on_delete=models.PROTECT, related_name="items")
    order = models.PositiveSmallIntegerField(_("ordning"))
    code = models.SlugField(_("kod"), max_length=40)
    kind = models.CharField(_("typ"), max_length=20, choices=ItemKind.choices)
    text = models.TextField(_("fråga"))
    low_label = models.CharField(_("etikett för lägsta värdet"), max_length=80, blank=True)
    high_label = models.CharField(_("etikett för högsta värdet"), max_length=80, blank=True)
    choices = models.JSONField(_("svarsalternativ"), default=list, blank=True)

    class Meta:
        ordering = ["version", "order"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="item_code_unique"),
            models.UniqueConstraint(fields=["version", "order"], name="item_order_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.code}"


class Channel(models.TextChoices):
    EMAIL = "email", _("E-post")
    SMS = "sms", _("SMS")
    PAPER = "paper", _("Papper (QR-kod)")


class InvitationStatus(models.TextChoices):
    SENT = "sent", _("Skickad")
    ANSWERED = "answered", _("Besvarad")
    DECLINED = "declined", _("Avböjd")


class Invitation(models.Model):
    """One per attending person or närstående and meeting (unique), whatever runs twice."""

    meeting = models.ForeignKey("sip.Meeting", on_delete=models.PROTECT, related_name="invitations")
    participant = models.ForeignKey("sip.Participant", on_delete=models.PROTECT, related_name="invitations")
    sip = models.ForeignKey("sip.Sip", on_delete=models.PROTECT, related_name="invitations")
    version = models.ForeignKey(TemplateVersion, on_delete=models.PROTECT, related_name="invitations")
    channel = models.CharField(_("kanal"), max_length=10, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=10, choices=InvitationStatus.choices,
                              default=InvitationStatus.SENT)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(_("levererad"), null=True, blank=True)
    expires_at = models.DateTimeField(_("giltig till"))
    reminder_sent_at = models.DateTimeField(_("påminnelse skickad"), null=True, blank=True)
    closed_at = models.DateTimeField(_("besvarad eller avböjd"), null=True, blank=True)
    # Denormalised for the report's count of unanswered invitations (reports._unanswered), so that it is one
    # index-only range instead of a join of every invitation with its plan, participant, person and meeting.
    # They always mirror the current plan and person: the plan's lead organisation, the gender and age band an
    # answer would be stored with (services.report_columns) and the meeting's local date. Written when the
    # invitation is created and kept in step by receivers.py when a plan's lead organisation or a person's
    # gender or birth year changes. lead_organisation NULL means "not filled" (rows written by bulk_create or
    # COPY): the report then computes these values from the joins, as before, so it is exact either way.
    # Personal data (gender, age band) about the respondent, like Response's: deleted with the plan
    # (sip.retention.delete_sips), so a person can only be erased once none of these rows is left.
    lead_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="+", db_index=False)
    gender = models.CharField(max_length=16, blank=True, default="", db_default="")
    age_band = models.CharField(max_length=8, blank=True, default="", db_default="")
    meeting_held_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "participant"], name="invitation_once_per_participant"),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="invitation_status_expiry"),
            # The report's unanswered invitations of some organisations, from the index alone.
            models.Index(fields=["lead_organisation", "version", "meeting_held_on"], include=["gender", "age_band"],
                         condition=~Q(status="answered"), name="invitation_open_report"),
            # Rows not filled yet (normally none): the report's exact fallback finds them without a scan.
            models.Index(fields=["sip"], condition=Q(lead_organisation__isnull=True), name="invitation_unfilled"),
        ]

    def __str__(self) -> str:
        return f"Inbjudan {self.pk}"


class InvitationToken(models.Model):
    """A link's secret, stored only as its SHA-256; each delivery or printed sheet gets its own."""

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Token för inbjudan {self.invitation_id}"


class AnswerMode(models.TextChoices):
    SELF = "self", _("Besvarad av personen")
    PAPER = "paper", _("Pappersenkät registrerad av personal")


class AgeBand(models.TextChoices):
    UNDER_25 = "-24", _("Under 25 år")
    AGE_25_44 = "25-44", _("25–44 år")
    AGE_45_64 = "45-64", _("45–64 år")
    AGE_65_PLUS = "65-", _("65 år och äldre")
    UNKNOWN = "unknown", _("Okänd ålder")


class Response(models.Model):
    """One answer to one invitation (unique), with the respondent's gender and age band at the time."""

    invitation = models.OneToOneField(Invitation, on_delete=models.PROTECT, related_name="response")
    version = models.ForeignKey(TemplateVersion, on_delete=models.PROTECT, related_name="responses")
    submitted_at = models.DateTimeField(auto_now_add=True)
    mode = models.CharField(max_length=10, choices=AnswerMode.choices, default=AnswerMode.SELF)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+")
    share_with_staff = models.BooleanField(_("personalen får läsa mina svar"), default=False)
    respondent_kind = models.CharField(max_length=10)  # person / related
    gender = models.CharField(max_length=16)
    age_band = models.CharField(max_length=8, choices=AgeBand.choices)
    # Denormalised for reports: who ran the plan when it was answered.
    lead_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    meeting_held_on = models.DateField()
    # For the report's "respondent's own mean ≥ 4": the number and the sum of this response's answers to the
    # 1–6 items of its version, stored with the answers (they never change afterwards). NULL means "not
    # computed" (rows written by bulk_create or COPY): the report then computes it from the answers.
    scale_answers = models.PositiveSmallIntegerField(null=True, blank=True)
    scale_sum = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            # The report: the responses of some organisations and a version (and a period), with everything
            # it groups and counts by, from the index alone (the id: a response without stored totals is
            # computed from its answers, and the plan must not need the table for the others either).
            models.Index(fields=["lead_organisation", "version", "meeting_held_on"],
                         include=["id", "gender", "age_band", "scale_answers", "scale_sum"], name="response_report"),
        ]

    def __str__(self) -> str:
        return f"Svar {self.pk}"


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="answers")
    value_int = models.SmallIntegerField(null=True, blank=True)
    value_text = models.TextField(blank=True)
    # Copied from the response when the answers are stored (they never change afterwards), so that the report's
    # distribution is one index-only range over the answers of some organisations instead of a join of every
    # answer with its response. lead_organisation NULL means "not filled" (rows written by bulk_create or
    # COPY): the report then reads those answers through their response, as before. The same personal data as
    # on the response, with the same lifetime (deleted with it).
    lead_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="+", db_index=False)
    meeting_held_on = models.DateField(null=True, blank=True)
    gender = models.CharField(max_length=16, blank=True, default="", db_default="")
    age_band = models.CharField(max_length=8, blank=True, default="", db_default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "item"], name="answer_once_per_item"),
            models.CheckConstraint(condition=Q(value_int__isnull=True) | Q(value_int__gte=0),
                                   name="answer_value_non_negative"),
        ]
        indexes = [
            # The report's distribution: per organisation and item, the values with what they are grouped by,
            # from the index alone (the period is checked on the index entries too).
            models.Index(fields=["lead_organisation", "item", "value_int", "gender", "age_band"],
                         include=["meeting_held_on"], name="answer_report"),
            # Rows not filled yet (normally none): the report's exact fallback finds them without a scan.
            models.Index(fields=["response"], condition=Q(lead_organisation__isnull=True), name="answer_unfilled"),
        ]

    def __str__(self) -> str:
        return f"Svar {self.response_id}:{self.item_id}"


class RoutineCheck(models.Model):
    """A unit's periodic self-assessment of its SIP routines (rutinkollen)."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="routine_checks")
    version = models.ForeignKey(TemplateVersion, on_delete=models.PROTECT, related_name="routine_checks")
    period_start = models.DateField(_("period från"))
    period_end = models.DateField(_("period till"))
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    completed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "version", "period_start"], name="routinecheck_once_per_period"),
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")),
                                   name="routinecheck_period_ordered"),
        ]

    def __str__(self) -> str:
        return f"Rutinkollen {self.unit_id} {self.period_start}"


class RoutineAnswer(models.Model):
    routine_check = models.ForeignKey(RoutineCheck, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    value = models.CharField(max_length=10, choices=[("yes", _("Ja")), ("partly", _("Delvis")), ("no", _("Nej"))])
    comment = models.TextField(_("kommentar"), blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["routine_check", "item"], name="routineanswer_once_per_item")]

    def __str__(self) -> str:
        return f"{self.routine_check_id}:{self.item_id}={self.value}"
