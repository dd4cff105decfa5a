"""Listens to the plan: a held meeting invites the attending person and närstående (in a task), and a changed
plan or person keeps the report's columns on the invitations in step (see models.Invitation)."""

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from organisations.loading import loaded_value
from sip.models import Person, Sip
from sip.signals import meeting_held

# The values an instance was loaded with (organisations.loading.loaded_value: no receiver runs per row read) or,
# after a save, saved with, so that a save can tell whether a mirrored field changed without a query. A value not
# known (a deferred field, an instance made in Python) counts as changed.
_SAVED = "_delaktighet_saved"
_UNKNOWN = object()


@receiver(meeting_held)
def invite_after_meeting(sender, meeting_id, actor_id, **kwargs):
    from sip.delaktighet.tasks import invite_after_meeting as task

    task.delay(meeting_id)


def _remember(instance, fields: tuple[str, ...]) -> None:
    loaded = instance.__dict__
    instance.__dict__[_SAVED] = tuple([loaded.get(field, _UNKNOWN) for field in fields])


def _changed(instance, fields: tuple[str, ...], update_fields) -> bool:
    if update_fields is not None and not any(f.removesuffix("_id") in update_fields or f in update_fields
                                             for f in fields):
        return False
    before = instance.__dict__.get(_SAVED) or tuple(loaded_value(instance, f, _UNKNOWN) for f in fields)
    return any(was is _UNKNOWN or was != instance.__dict__.get(field)
               for field, was in zip(fields, before, strict=True))


_SIP_FIELDS = ("lead_organisation_id",)
_PERSON_FIELDS = ("gender", "birth_year")


@receiver(post_save, sender=Sip)
def follow_lead_organisation(sender, instance, created, update_fields=None, **kwargs):
    """An unanswered invitation counts for the plan's current lead organisation (an answered one for the
    organisation stored on its response), so the invitations follow a change of lead organisation."""
    if not created and _changed(instance, _SIP_FIELDS, update_fields):
        from sip.delaktighet.models import Invitation

        (Invitation.objects.filter(sip_id=instance.pk, lead_organisation__isnull=False)
         .exclude(lead_organisation_id=instance.lead_organisation_id)
         .update(lead_organisation_id=instance.lead_organisation_id))
    _remember(instance, _SIP_FIELDS)


@receiver(post_save, sender=Person)
def follow_person(sender, instance, created, update_fields=None, **kwargs):
    """An unanswered invitation is counted with the gender and age band its answer would be stored with, which
    is the person's as the record says now (a response keeps those at answering): a corrected gender or birth
    year moves the person's own invitations (not a närstående's) to their new group."""
    if not created and _changed(instance, _PERSON_FIELDS, update_fields):
        from sip.delaktighet.models import Invitation
        from sip.delaktighet.services import age_band_in
        from sip.models import ParticipantKind

        own = Invitation.objects.filter(sip__person_id=instance.pk, participant__kind=ParticipantKind.PERSON,
                                        lead_organisation__isnull=False)
        own.exclude(gender=instance.gender).update(gender=instance.gender)
        by_band: dict[str, list[int]] = {}
        for pk, held_on, created_at, band in own.values_list("pk", "meeting_held_on", "created_at", "age_band"):
            wanted = age_band_in(instance.birth_year, (held_on or timezone.localdate(created_at)).year)
            if wanted != band:
                by_band.setdefault(wanted, []).append(pk)
        for band, ids in by_band.items():
            Invitation.objects.filter(pk__in=ids).update(age_band=band)
    _remember(instance, _PERSON_FIELDS)
