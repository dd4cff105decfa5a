"""The coordinated individual plan (SIP): the person, their consent, the plan, its goals, actions and
meetings, and the history of every change."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from organisations.loading import FastLoading
from organisations.models import Organisation, Unit


class Gender(models.TextChoices):
    KVINNA = "kvinna", _("Kvinna")
    MAN = "man", _("Man")
    ANNAT = "annat", _("Annat")
    VILL_EJ_UPPGE = "vill_ej_uppge", _("Vill ej uppge")


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-post")
    PHONE = "phone", _("Telefon")
    LETTER = "letter", _("Brev")


class IdentifierKind(models.TextChoices):
    PERSONNUMMER = "personnummer", _("Personnummer")
    SAMORDNINGSNUMMER = "samordningsnummer", _("Samordningsnummer")
    RESERVNUMMER = "reservnummer", _("Reservnummer")


class Person(FastLoading, models.Model):
    """The person a plan is for (brukare/patient). Never has an account."""

    identifier_kind = models.CharField(_("typ av identitet"), max_length=20, choices=IdentifierKind.choices)
    # Personnummer and samordningsnummer as 12 digits (YYYYMMDDNNNN); reserve numbers as given, upper-cased.
    identifier = models.CharField(_("identitetsbeteckning"), max_length=40, unique=True)
    first_name = models.CharField(_("förnamn"), max_length=100)
    last_name = models.CharField(_("efternamn"), max_length=100)
    gender = models.CharField(_("kön"), max_length=16, choices=Gender.choices, default=Gender.VILL_EJ_UPPGE)
    birth_year = models.PositiveSmallIntegerField(_("födelseår"), null=True, blank=True)
    protected_identity = models.BooleanField(_("skyddad identitet"), default=False)
    phone = models.CharField(_("mobiltelefon"), max_length=40, blank=True)
    email = models.EmailField(_("e-post"), blank=True)
    address = models.CharField(_("adress"), max_length=200, blank=True)
    postal_code = models.CharField(_("postnummer"), max_length=10, blank=True)
    city = models.CharField(_("ort"), max_length=100, blank=True)
    preferred_channel = models.CharField(_("föredragen kontaktväg"), max_length=10, choices=Channel.choices,
                                         default=Channel.LETTER)
    registered_by_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+",
                                           verbose_name=_("registrerad av enhet"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("personer")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Person {self.pk}"

    @property
    def audit_person_id(self):
        return self.pk

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class PersonLink(models.Model):
    """A unit has the person in its own records: it registered or looked up the person by identifier.

    The person's identity data is visible to linked units; the plan itself needs participation and consent.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="links")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "person"], name="personlink_unique")]

    def __str__(self) -> str:
        return f"Person {self.person_id} – enhet {self.unit_id}"


class SipStatus(models.TextChoices):
    INITIERAD = "initierad", _("Initierad")
    KALLAD = "kallad", _("Kallad")
    UPPRATTAD = "upprattad", _("Upprättad")
    UPPFOLJNING = "uppfoljning", _("Uppföljning")
    AVSLUTAD = "avslutad", _("Avslutad")
    AVBRUTEN = "avbruten", _("Avbruten")


class ClosureReason(models.TextChoices):
    PERSON_DECLINED = "person_declined", _("Den enskilde tackar nej")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("Samtycket återkallat")
    NEED_ENDED = "need_ended", _("Behovet har upphört")
    MOVED = "moved", _("Flyttat")
    OTHER = "other", _("Annat")


class Sip(FastLoading, models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="sips", verbose_name=_("person"))
    initiating_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+",
                                        verbose_name=_("initierande enhet"))
    lead_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+",
                                          verbose_name=_("huvudansvarig organisation"))
    coordinator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("SIP-samordnare"))
    units = models.ManyToManyField(Unit, through="SipUnit", related_name="sips", verbose_name=_("enheter"))
    reason = models.TextField(_("anledning och bakgrund"), blank=True)
    what_matters = models.TextField(_("vad är viktigt för mig"), blank=True)
    own_contribution = models.TextField(_("det här gör jag själv"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=SipStatus.choices, default=SipStatus.INITIERAD)
    closure_reason = models.CharField(_("orsak till avbrott"), max_length=20, choices=ClosureReason.choices,
                                      blank=True)
    closure_note = models.TextField(_("kommentar till avbrott"), blank=True)
    # Process dates (regional guidance: upptäck behov → förbered → kalla → möte → följ upp → avsluta).
    need_identified_on = models.DateField(_("behov identifierat"))
    discharge_track = models.BooleanField(_("utskrivning från slutenvård"), default=False)
    discharge_ready_at = models.DateTimeField(_("utskrivningsklar"), null=True, blank=True)
    call_sent_at = models.DateTimeField(_("kallelse skickad"), null=True, blank=True)
    # When the call must have gone out, by the region's limit (kept current by the services).
    call_due_at = models.DateTimeField(_("kallelse senast"), null=True, blank=True)
    established_on = models.DateField(_("upprättad"), null=True, blank=True)
    follow_up_on = models.DateField(_("uppföljningsdatum"), null=True, blank=True)
    closed_on = models.DateField(_("avslutad"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("SIP")
        verbose_name_plural = _("SIP:ar")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["status", "follow_up_on"], name="sip_status_follow_up"),
            # The list order (sip.access.LIST_ORDER), for lists not read from the grant rows.
            models.Index(fields=["-updated_at", "-id"], name="sip_updated_order"),
            models.Index(fields=["lead_organisation", "status"], name="sip_lead_status"),
            # The pattern view's denominators: a forum's plans active in a period, read from the index alone (the
            # id is included so that the join to the plans' units needs no heap access either).
            models.Index(fields=["lead_organisation", "established_on", "closed_on"], name="sip_lead_active",
                         include=["id"]),
            models.Index(fields=["status", "call_due_at"], name="sip_status_call_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["upprattad", "uppfoljning"]) | Q(follow_up_on__isnull=False),
                name="sip_follow_up_required_when_established",
            ),
        ]

    def __str__(self) -> str:
        return f"SIP {self.pk}"

    @property
    def audit_person_id(self):
        return self.person_id

    @property
    def audit_organisation_id(self):
        return self.lead_organisation_id


class _GrantInListOrder(models.Model):
    """A grant row that carries its plan's place in the list order (sip.access.LIST_ORDER).

    `sip_updated_at` is the plan's `updated_at`, copied by database triggers (migration sip 0005) on every insert
    of a grant and every change of the plan's `updated_at`, so no code path can let it drift. With it a user's
    page of plans is a merge of their units' own grant rows, each read in list order from an index and stopped
    after the page (organisations/granted.py), instead of a walk past other units' plans."""

    content_object = models.ForeignKey(Sip, on_delete=models.CASCADE)
    sip_updated_at = models.DateTimeField(null=True, editable=False)

    # The object's ordering → the same ordering of the grant rows (organisations/granted.py).
    list_order = {"-updated_at": "-sip_updated_at", "-id": "-content_object_id"}

    class Meta:
        abstract = True


class SipUserObjectPermission(_GrantInListOrder, UserObjectPermissionBase):  # noqa: DJ008 (guardian's __str__)
    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["user", "permission", "-sip_updated_at", "-content_object"],
                                name="sip_user_grant_order")]


class SipGroupObjectPermission(_GrantInListOrder, GroupObjectPermissionBase):  # noqa: DJ008 (guardian's __str__)
    class Meta(GroupObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["group", "permission", "content_object"], name="sip_group_grant"),
                   models.Index(fields=["group", "permission", "-sip_updated_at", "-content_object"],
                                name="sip_group_grant_order")]


class SipUnit(FastLoading, models.Model):
    """A unit taking part in the plan, with its contact person."""

    sip = models.ForeignKey(Sip, on_delete=models.CASCADE, related_name="participations")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="sip_participations")
    contact = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("kontaktperson"))
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sip", "unit"], name="sipunit_unique")]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"SIP {self.sip_id} – enhet {self.unit_id}"


class ConsentMethod(models.TextChoices):
    WRITTEN = "written", _("Skriftligt")
    ORAL = "oral", _("Muntligt")


class Consent(FastLoading, models.Model):
    """The person's consent that one organisation takes part in the plan and shares information in it."""

    sip = models.ForeignKey(Sip, on_delete=models.CASCADE, related_name="consents")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("organisation"))
    given_at = models.DateTimeField(_("givet"))
    method = models.CharField(_("hur"), max_length=10, choices=ConsentMethod.choices)
    scope = models.TextField(_("vilken information"), blank=True)
    valid_until = models.DateField(_("gäller till"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("återkallat"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("registrerat av"))
    withdrawn_recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                              blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("samtycke")
        verbose_name_plural = _("samtycken")
        ordering = ["id"]
        indexes = [models.Index(fields=["sip", "organisation"], name="consent_sip_org")]

    def __str__(self) -> str:
        return f"Samtycke {self.pk}"

    @property
    def audit_person_id(self):
        return self.sip.person_id


class GoalKind(models.TextChoices):
    OWN = "own", _("Mitt eget mål")
    SHARED = "shared", _("Gemensamt mål")


class GoalHorizon(models.TextChoices):
    LONG = "long", _("Långsiktigt")
    SHORT = "short", _("Kortsiktigt")


class GoalStatus(models.TextChoices):
    ACTIVE = "active", _("Pågår")
    ACHIEVED = "achieved", _("Uppnått")
    PARTLY = "partly", _("Delvis uppnått")
    NOT_ACHIEVED = "not_achieved", _("Inte uppnått")
    CANCELLED = "cancelled", _("Avbrutet")


class Goal(FastLoading, models.Model):
    sip = models.ForeignKey(Sip, on_delete=models.CASCADE, related_name="goals")
    kind = models.CharField(_("typ"), max_length=10, choices=GoalKind.choices, default=GoalKind.OWN)
    horizon = models.CharField(_("tidsperspektiv"), max_length=10, choices=GoalHorizon.choices,
                               default=GoalHorizon.SHORT)
    text = models.TextField(_("mål"))
    target_on = models.DateField(_("ska vara uppnått"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=GoalStatus.choices, default=GoalStatus.ACTIVE)
    evaluation = models.TextField(_("utvärdering"), blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("mål")
        verbose_name_plural = _("mål")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Mål {self.pk}"


class ActionStatus(models.TextChoices):
    PLANERAD = "planerad", _("Planerad")
    PAGAR = "pagar", _("Pågår")
    KLAR = "klar", _("Klar")
    INSTALLD = "installd", _("Inställd")


class Action(FastLoading, models.Model):
    """An insats: what someone does in the plan, and who answers for it."""

    sip = models.ForeignKey(Sip, on_delete=models.CASCADE, related_name="actions")
    goal = models.ForeignKey(Goal, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions")
    title = models.CharField(_("insats"), max_length=200)
    description = models.TextField(_("beskrivning"), blank=True)
    responsible_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True,
                                                 related_name="+", verbose_name=_("ansvarig organisation"))
    responsible_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                         verbose_name=_("ansvarig enhet"))
    responsible_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                         blank=True, related_name="+", verbose_name=_("ansvarig person"))
    responsible_other = models.CharField(
        _("ansvarig utanför kommun och region"), max_length=200, blank=True,
        help_text=_("T.ex. Försäkringskassan, Arbetsförmedlingen, skolan."),
    )
    person_does = models.TextField(_("det här gör jag själv"), blank=True)
    starts_on = models.DateField(_("start"), null=True, blank=True)
    ends_on = models.DateField(_("slut"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ActionStatus.choices,
                              default=ActionStatus.PLANERAD)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("insats")
        verbose_name_plural = _("insatser")
        ordering = ["starts_on", "id"]
        indexes = [models.Index(fields=["status", "ends_on"], name="action_status_end")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__isnull=True) | Q(starts_on__isnull=True)
                                   | Q(ends_on__gte=models.F("starts_on")), name="action_dates_ordered"),
        ]

    def __str__(self) -> str:
        return f"Insats {self.pk}"


class MeetingKind(models.TextChoices):
    SIP = "sip", _("SIP-möte")
    FOLLOW_UP = "follow_up", _("Uppföljning")


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("Planerat")
    HELD = "held", _("Genomfört")
    CANCELLED = "cancelled", _("Inställt")


class Meeting(FastLoading, models.Model):
    sip = models.ForeignKey(Sip, on_delete=models.CASCADE, related_name="meetings")
    kind = models.CharField(_("typ"), max_length=10, choices=MeetingKind.choices, default=MeetingKind.SIP)
    starts_at = models.DateTimeField(_("börjar"))
    ends_at = models.DateTimeField(_("slutar"))
    location = models.CharField(_("plats"), max_length=200, blank=True)
    video_link = models.URLField(_("videolänk"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=MeetingStatus.choices,
                              default=MeetingStatus.PLANNED)
    held_at = models.DateTimeField(_("genomfört"), null=True, blank=True)
    minutes = models.TextField(_("minnesanteckningar"), blank=True)
    convened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("sammankallande"))
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("möte")
        verbose_name_plural = _("möten")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="meeting_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"Möte {self.pk}"


class ParticipantKind(models.TextChoices):
    PERSON = "person", _("Den enskilde")
    RELATED = "related", _("Närstående")
    STAFF = "staff", _("Personal")
    UNIT = "unit", _("Enhet")
    OTHER = "other", _("Annan aktör")


class Participant(FastLoading, models.Model):
    """Someone invited to a meeting: the person, a närstående, staff, a unit, or another actor."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    kind = models.CharField(_("typ"), max_length=10, choices=ParticipantKind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    name = models.CharField(_("namn"), max_length=200, blank=True)
    organisation_text = models.CharField(_("organisation"), max_length=200, blank=True,
                                         help_text=_("För andra aktörer, t.ex. skola eller Arbetsförmedlingen."))
    email = models.EmailField(_("e-post"), blank=True)
    phone = models.CharField(_("telefon"), max_length=40, blank=True)
    attended = models.BooleanField(_("närvarade"), null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Deltagare {self.pk}"


class ChangeAction(models.TextChoices):
    CREATE = "create", _("Skapade")
    UPDATE = "update", _("Ändrade")
    DELETE = "delete", _("Tog bort")
    TRANSITION = "transition", _("Bytte status")


class SipChange(models.Model):
    """One field change in a plan: who changed what, from what, to what, when."""

    sip = models.ForeignKey(Sip, on_delete=models.CASCADE, related_name="changes")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    object_type = models.CharField(max_length=20)
    object_id = models.BigIntegerField()
    action = models.CharField(max_length=12, choices=ChangeAction.choices)
    field = models.CharField(max_length=60, blank=True)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["sip", "-at"], name="sipchange_sip_at")]

    def __str__(self) -> str:
        return f"{self.object_type}:{self.object_id} {self.action} {self.field}"


class ReminderLog(models.Model):
    """One reminder per item, recipient and day; the unique key makes a second run a no-op."""

    kind = models.CharField(max_length=30)
    object_id = models.BigIntegerField()
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    claimed_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id", "recipient", "day"], name="reminder_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id} → {self.recipient_id} {self.day}"
