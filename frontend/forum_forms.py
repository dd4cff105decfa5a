"""Forms of the forum screens. They parse and present input; avvikelser.forum_services decides what is allowed
(editor roles, versions, which organisations and people a measure may name, no personal data in the texts).
Choices come from querysets the view passes in, already narrowed to the forum.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from avvikelser.models import AgendaKind, ForumMeetingStatus, MeasureStatus
from avvikelser.patterns import DEFAULT_GRANULARITY
from frontend.forms import BaseForm, VersionedForm, date_input, datetime_input, textarea

GRANULARITY_CHOICES = [("week", _("Vecka")), ("month", _("Månad")), ("quarter", _("Kvartal"))]
NO_PERSON = _("Skriv om samverkan, aldrig om en person: inga namn, personnummer, telefonnummer eller e-postadresser.")


class PatternFilterForm(BaseForm):
    """The dashboard's period and granularity (GET)."""

    granularity = forms.ChoiceField(label=_("Indelning"), choices=GRANULARITY_CHOICES, required=False,
                                    initial=DEFAULT_GRANULARITY)
    period_start = forms.DateField(label=_("Från och med"), required=False, widget=date_input())
    period_end = forms.DateField(label=_("Till och med"), required=False, widget=date_input())

    def params(self) -> dict:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {"granularity": data.get("granularity") or DEFAULT_GRANULARITY,
                "period_start": data.get("period_start"), "period_end": data.get("period_end")}


class DrilldownForm(BaseForm):
    """The drill-down's filters (GET): the `drilldown` parameters of any number of the pattern view."""

    category = forms.TypedChoiceField(label=_("Kategori"), coerce=int, required=False, empty_value=None)
    reporting_organisation = forms.TypedChoiceField(label=_("Rapporterande organisation"), coerce=int,
                                                    required=False, empty_value=None)
    counterpart_organisation = forms.TypedChoiceField(label=_("Motpart"), coerce=int, required=False,
                                                      empty_value=None)
    period_start = forms.DateField(label=_("Från och med"), required=False, widget=date_input())
    period_end = forms.DateField(label=_("Till och med"), required=False, widget=date_input())
    agreement = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    theme = forms.CharField(required=False, max_length=300, widget=forms.HiddenInput)

    def __init__(self, *args, categories=(), organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        everything = [("", _("Alla"))]
        self.fields["category"].choices = everything + [(c["id"], c["name"]) for c in categories]
        organisation_choices = everything + [(o.pk, o.name) for o in organisations]
        self.fields["reporting_organisation"].choices = organisation_choices
        self.fields["counterpart_organisation"].choices = organisation_choices

    def filters(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


class MeetingForm(BaseForm):
    starts_at = forms.DateTimeField(label=_("Tid"), widget=datetime_input())
    location = forms.CharField(label=_("Plats"), max_length=200, required=False)


class MeetingEditForm(VersionedForm):
    starts_at = forms.DateTimeField(label=_("Tid"), widget=datetime_input())
    location = forms.CharField(label=_("Plats"), max_length=200, required=False)
    status = forms.ChoiceField(label=_("Status"), choices=ForumMeetingStatus.choices)
    minutes = forms.CharField(label=_("Protokoll"), required=False, widget=textarea(6), help_text=NO_PERSON)


class AgendaItemForm(BaseForm):
    title = forms.CharField(label=_("Rubrik"), max_length=300, help_text=NO_PERSON)
    kind = forms.ChoiceField(label=_("Typ"), choices=AgendaKind.choices, initial=AgendaKind.OTHER)
    note = forms.CharField(label=_("Anteckning"), required=False, widget=textarea(3))


class AgendaItemEditForm(VersionedForm):
    title = forms.CharField(label=_("Rubrik"), max_length=300, help_text=NO_PERSON)
    kind = forms.ChoiceField(label=_("Typ"), choices=AgendaKind.choices)
    note = forms.CharField(label=_("Anteckning"), required=False, widget=textarea(3))


class VersionOnlyForm(VersionedForm):
    """Remove an agenda item, move it, or propose the agenda: only the version the change starts from."""


def _fingerprints(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class DecisionForm(VersionedForm):
    text = forms.CharField(label=_("Beslut"), widget=textarea(4), help_text=NO_PERSON)
    decided_on = forms.DateField(label=_("Beslutsdatum"), widget=date_input())
    meeting = forms.TypedChoiceField(label=_("Möte"), coerce=int, required=False, empty_value=None)
    fingerprints = forms.CharField(
        label=_("Mönster som motiverar beslutet"), required=False, widget=textarea(2),
        help_text=_("Ett mönster per rad, som de visas på översikten (v1:kategori:från>till:överenskommelse)."))

    def __init__(self, *args, meetings=(), creating: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self._meetings = {m.pk: m for m in meetings}
        self.fields["meeting"].choices = [("", _("Inget möte"))] + [
            (m.pk, m.label) for m in meetings]
        if creating:
            del self.fields["version"]

    def values(self) -> dict:
        data = self.cleaned_data
        return {"text": data["text"], "decided_on": data["decided_on"],
                "meeting": self._meetings.get(data.get("meeting")),
                "fingerprints": _fingerprints(data.get("fingerprints"))}


class MeasureForm(VersionedForm):
    title = forms.CharField(label=_("Åtgärd"), max_length=300, help_text=NO_PERSON)
    owner_organisation = forms.TypedChoiceField(label=_("Ansvarig organisation"), coerce=int)
    responsible_user = forms.TypedChoiceField(label=_("Ansvarig person"), coerce=int, required=False,
                                              empty_value=None)
    due_on = forms.DateField(label=_("Klart senast"), widget=date_input())
    status = forms.ChoiceField(label=_("Status"), choices=MeasureStatus.choices, initial=MeasureStatus.PLANNED)
    category = forms.TypedChoiceField(label=_("Kategori som åtgärden gäller"), coerce=int, required=False,
                                      empty_value=None)
    from_organisation = forms.TypedChoiceField(label=_("Rapporterande organisation"), coerce=int, required=False,
                                               empty_value=None)
    to_organisation = forms.TypedChoiceField(label=_("Motpart"), coerce=int, required=False, empty_value=None,
                                             help_text=_("Kategori och riktning ger jämförelsen före och efter."))

    def __init__(self, *args, organisations=(), people=(), categories=(), creating: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self._organisations = {o.pk: o for o in organisations}
        self._people = {u.pk: u for u in people}
        self._categories = {c.pk: c for c in categories}
        organisation_choices = [(o.pk, o.name) for o in organisations]
        none = [("", _("Ingen"))]
        self.fields["owner_organisation"].choices = organisation_choices
        self.fields["from_organisation"].choices = none + organisation_choices
        self.fields["to_organisation"].choices = none + organisation_choices
        self.fields["responsible_user"].choices = none + [
            (u.pk, u.get_full_name() or u.username) for u in people]
        self.fields["category"].choices = [("", _("Alla kategorier"))] + [(c.pk, c.name) for c in categories]
        if creating:
            del self.fields["version"]

    def values(self) -> dict:
        data = self.cleaned_data
        return {"title": data["title"], "owner_organisation": self._organisations.get(data["owner_organisation"]),
                "responsible_user": self._people.get(data.get("responsible_user")), "due_on": data["due_on"],
                "status": data["status"], "category": self._categories.get(data.get("category")),
                "from_organisation": self._organisations.get(data.get("from_organisation")),
                "to_organisation": self._organisations.get(data.get("to_organisation"))}
