"""Who is who: organisations (huvudmän), their units (verksamheter/enheter), staff and their roles."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from organisations.loading import FastLoading
from organisations.validators import validate_organisation_number


class OrganisationKind(models.TextChoices):
    KOMMUN = "kommun", _("Kommun")
    REGION = "region", _("Region")
    STATLIG_MYNDIGHET = "statlig_myndighet", _("Statlig myndighet")
    PRIVAT_UTFORARE = "privat_utforare", _("Privat utförare")


class UnitKind(models.TextChoices):
    FORVALTNING = "forvaltning", _("Förvaltning")
    AVDELNING = "avdelning", _("Avdelning")
    ENHET = "enhet", _("Enhet")


class Role(models.TextChoices):
    SOCIALSEKRETERARE = "socialsekreterare", _("Socialsekreterare")
    BEHANDLARE = "behandlare", _("Behandlare")
    SAMORDNARE = "samordnare", _("SIP-samordnare")
    PROCESSLEDARE = "processledare", _("Processledare")
    STYRGRUPPSLEDAMOT = "styrgruppsledamot", _("Styrgruppsledamot")
    ORG_ADMIN = "org_admin", _("Organisationsadministratör")


class User(FastLoading, AbstractUser):
    """A member of staff. Persons (brukare) never have accounts."""

    title = models.CharField(_("yrkestitel"), max_length=120, blank=True)
    phone = models.CharField(_("telefon"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("användare")
        verbose_name_plural = _("användare")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Organisation(FastLoading, models.Model):
    """A huvudman: a kommun, a region, a state agency or a private provider."""

    name = models.CharField(_("namn"), max_length=200, unique=True)
    kind = models.CharField(_("typ"), max_length=32, choices=OrganisationKind.choices)
    organisation_number = models.CharField(
        _("organisationsnummer"), max_length=11, unique=True, validators=[validate_organisation_number]
    )
    active = models.BooleanField(_("aktiv"), default=True)
    # Regional limits for sending the SIP call; empty means the national default in settings.
    sip_call_limit_days = models.PositiveSmallIntegerField(
        _("dagar till kallelse"), null=True, blank=True,
        help_text=_("Hur snart kallelsen ska gå ut när behov av SIP har identifierats (t.ex. Blekinge: 21)."),
    )
    discharge_call_limit_days = models.PositiveSmallIntegerField(
        _("dagar till kallelse vid utskrivning"), null=True, blank=True,
        help_text=_("Lag (2017:612): kallelse inom tre dagar efter att patienten blivit utskrivningsklar."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisationer")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Unit(FastLoading, models.Model):
    """A verksamhet or enhet; units form a tree inside one organisation.

    Each unit owns a permission group whose members are exactly the users with an active membership
    in the unit; object permissions (SIPs and more) are granted to that group.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="units", verbose_name=_("organisation")
    )
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("överordnad enhet"),
    )
    name = models.CharField(_("namn"), max_length=200)
    kind = models.CharField(_("typ"), max_length=32, choices=UnitKind.choices, default=UnitKind.ENHET)
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="unit", editable=False)
    active = models.BooleanField(_("aktiv"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("enhet")
        verbose_name_plural = _("enheter")
        ordering = ["organisation__name", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "parent", "name"], name="unit_unique_name_under_parent"
            ),
            models.UniqueConstraint(
                fields=["organisation", "name"], condition=Q(parent__isnull=True),
                name="unit_unique_top_level_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation.name})"


class Membership(FastLoading, models.Model):
    """A user working in a unit with a role; a user may hold several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships",
        verbose_name=_("användare"),
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("enhet"))
    role = models.CharField(_("roll"), max_length=32, choices=Role.choices)
    active = models.BooleanField(_("aktiv"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("medlemskap")
        verbose_name_plural = _("medlemskap")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="membership_unique_role_in_unit"),
        ]
        indexes = [models.Index(fields=["user", "active"], name="membership_user_active")]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} – {self.unit.name}"


class AuditAction(models.TextChoices):
    CREATE = "create", _("Skapade")
    UPDATE = "update", _("Ändrade")
    DELETE = "delete", _("Tog bort")
    READ = "read", _("Läste")
    EXPORT = "export", _("Exporterade")
    LOGIN = "login", _("Loggade in")
    LOGIN_FAILED = "login_failed", _("Misslyckad inloggning")
    LOGOUT = "logout", _("Loggade ut")


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditImmutableError

    def delete(self):
        raise AuditImmutableError


class AuditImmutableError(RuntimeError):
    def __init__(self):
        super().__init__("The audit log is append-only.")


class AuditEntry(models.Model):
    """Append-only log of who did what to which object, from which unit and role (PDL-style access log).

    It names objects by type and id only, never by their text, so the log itself holds no personal data
    beyond the acting user. `person_id` ties an entry to the person (brukare) whose data it touched, so a
    loggkontroll or a log extract for one person is a single indexed query.
    """

    at = models.DateTimeField(_("tidpunkt"), auto_now_add=True, db_index=True)
    # Every read of a plan writes entries here, so the references are no database constraints: each would add
    # a check per row at commit that also locks the user's, unit's and organisation's rows (FOR KEY SHARE) —
    # contention between all requests of one user. Django's PROTECT still refuses to delete a user, unit or
    # organisation that has entries, and the entries are written only by organisations/audit.py from the
    # authenticated user. The single-column indexes are covered by audit_actor and audit_organisation.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("användare"), db_constraint=False, db_index=False,
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("organisation"), db_constraint=False, db_index=False,
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("enhet"),
        db_constraint=False,
    )
    role = models.CharField(_("roll"), max_length=32, blank=True)
    action = models.CharField(_("händelse"), max_length=16, choices=AuditAction.choices)
    object_type = models.CharField(_("objekttyp"), max_length=100)
    object_id = models.CharField(_("objekt-id"), max_length=64)
    person_id = models.BigIntegerField(_("person"), null=True, blank=True)
    fields = models.JSONField(_("fält"), default=list, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("loggpost")
        verbose_name_plural = _("åtkomstlogg")
        ordering = ["-at", "-id"]
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["object_type", "object_id", "-at"], name="audit_object"),
            models.Index(fields=["person_id", "-at"], name="audit_person"),
            models.Index(fields=["organisation", "-at"], name="audit_organisation"),
            models.Index(fields=["actor", "-at"], name="audit_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AuditImmutableError
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditImmutableError
