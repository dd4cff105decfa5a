"""Forms of the samverkansavvikelse screens. They parse and present input; avvikelser.services decides what is
allowed (and checks the free text for personal data). Choices come from querysets the view passes in, already
narrowed by the access gate.
"""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from avvikelser import guard
from avvikelser.models import Consequence
from frontend.forms import FIELD_TEMPLATE, BaseForm, date_input, grouped_unit_choices

# The free-text fields of a report: the guard scans them, the live feedback watches them.
REPORT_TEXT_FIELDS = ("what_happened", "immediate_action", "suggestion", "agreement_other")
TEXT_LIMIT = 20_000
NOT_WHO = _("Beskriv vad som hände, inte vem. Skriv inga namn, personnummer, telefonnummer eller e-postadresser.")


def guarded_textarea(rows: int = 4, **attrs):
    """A textarea the live personal-data feedback (avvikelser.js) watches."""
    return forms.Textarea(attrs={"rows": rows, "data-guard": "", "spellcheck": "true", **attrs})


class _Choices:
    """Ids from a select turned back into the objects the view offered (no second query, nothing outside)."""

    def __init__(self, objects=()):
        self.by_id = {obj.pk: obj for obj in objects}

    def get(self, value):
        if value in (None, ""):
            return None
        return self.by_id.get(int(value))


class ReportForm(BaseForm):
    """A new report ('Ny avvikelse') and, without the reporting unit and with a version, the draft's edit form."""

    reporting_unit = forms.TypedChoiceField(label=_("Rapporterande enhet"), coerce=int, empty_value=None,
                                            help_text=_("En av enheterna där du arbetar."))
    counterpart_organisation = forms.ModelChoiceField(
        label=_("Motpart"), queryset=None, help_text=_("Organisationen där avvikelsen uppstod."))
    counterpart_unit = forms.TypedChoiceField(
        label=_("Motpartens enhet"), coerce=int, required=False, empty_value=None,
        help_text=_("Valfritt. Enheter hos organisationerna i era samverkansforum."))
    occurred_on = forms.DateField(label=_("Händelsedatum"), widget=date_input())
    category = forms.ModelChoiceField(label=_("Kategori"), queryset=None)
    agreement = forms.TypedChoiceField(
        label=_("Överenskommelse eller rutin som inte följdes"), coerce=int, required=False, empty_value=None,
        help_text=_("Från samverkansforumets lista. Finns den inte där, skriv den i fältet nedan."))
    agreement_other = forms.CharField(
        label=_("Annan överenskommelse, riktlinje eller rutin"), max_length=200, required=False,
        widget=forms.TextInput(attrs={"data-guard": "", "autocomplete": "off"}))
    what_happened = forms.CharField(label=_("Vad hände?"), max_length=TEXT_LIMIT, help_text=NOT_WHO,
                                    widget=guarded_textarea(6))
    immediate_action = forms.CharField(label=_("Omedelbar åtgärd"), max_length=TEXT_LIMIT, required=False,
                                       help_text=_("Vad gjordes direkt för personen?"), widget=guarded_textarea(3))
    consequence = forms.ChoiceField(label=_("Konsekvens för personen"), choices=Consequence.choices,
                                    initial=Consequence.OKAND, widget=forms.RadioSelect)
    suggestion = forms.CharField(label=_("Förslag på förbättring"), max_length=TEXT_LIMIT, required=False,
                                 widget=guarded_textarea(3))
    sip = forms.TypedChoiceField(
        label=_("Koppla till en SIP"), coerce=int, required=False, empty_value=None,
        help_text=_("Valfritt. Kopplingen syns bara för er och motparten, aldrig för forumet."))

    def __init__(self, *args, own_units, organisations, partner_units, categories, agreements, sips,
                 editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self._remember(own_units=own_units, organisations=organisations, partner_units=partner_units,
                       categories=categories, agreements=agreements, sips=sips, editing=editing)
        own_units, partner_units, agreements, sips = (list(own_units), list(partner_units), list(agreements),
                                                      list(sips))
        self._own_units = _Choices(own_units)
        self._partner_units = _Choices(partner_units)
        self._agreements = _Choices(agreements)
        self._sips = _Choices(sip for sip, _label in sips)
        if editing:
            del self.fields["reporting_unit"]
            self.fields["version"] = forms.IntegerField(
                widget=forms.HiddenInput, min_value=1,
                error_messages={"required": _("Versionen saknas. Ladda om sidan och försök igen.")})
        else:
            self.fields["reporting_unit"].choices = [(u.pk, f"{u.name} ({u.organisation.name})") for u in own_units]
            if len(own_units) == 1:
                self.fields["reporting_unit"].initial = own_units[0].pk
            self.fields["occurred_on"].initial = timezone.localdate()
        self.fields["counterpart_organisation"].queryset = organisations
        self.fields["counterpart_unit"].choices = [("", _("Ingen särskild enhet")),
                                                   *grouped_unit_choices(partner_units)]
        self.fields["category"].queryset = categories
        groups: dict[str, list] = {}
        for agreement in agreements:
            groups.setdefault(agreement.forum.name, []).append((agreement.pk, agreement.name))
        self.fields["agreement"].choices = [("", _("Ingen i listan")), *groups.items()]
        self.fields["sip"].choices = [("", _("Ingen SIP")), *((sip.pk, label) for sip, label in sips)]
        self.fields["occurred_on"].widget.attrs["max"] = timezone.localdate().isoformat()

    def clean(self):
        data = super().clean()
        for name, choices in (("reporting_unit", self._own_units), ("counterpart_unit", self._partner_units),
                              ("agreement", self._agreements), ("sip", self._sips)):
            if name in data:
                data[name] = choices.get(data[name])
        return data

    def values(self) -> dict:
        """The report's fields as the services take them (without the reporting unit and the version)."""
        data = self.cleaned_data
        return {name: data.get(name) if name not in REPORT_TEXT_FIELDS else data.get(name, "")
                for name in self.fields if name not in ("reporting_unit", "version")}

    def person_names(self) -> list[str]:
        """The linked plan's person, whose names the guard looks for."""
        sip = self.cleaned_data.get("sip") if hasattr(self, "cleaned_data") else None
        return [sip.person.first_name, sip.person.last_name] if sip is not None else []

    def has_findings(self) -> bool:
        """Whether the submitted free text holds personal data the guard would mask."""
        names = self.person_names()
        return any(guard.scan(self.data.get(self.add_prefix(name), ""), names=names) for name in REPORT_TEXT_FIELDS)

    def masked_data(self):
        """The submitted data with every finding in the free text replaced by a placeholder."""
        data = self.data.copy()
        names = self.person_names()
        for name in REPORT_TEXT_FIELDS:
            key = self.add_prefix(name)
            text = data.get(key, "")
            if text:
                data[key] = guard.mask(text, guard.scan(text, names=names))
        return data

    @staticmethod
    def initial_for(deviation) -> dict:
        return {
            "counterpart_organisation": deviation.counterpart_organisation_id,
            "counterpart_unit": deviation.counterpart_unit_id, "occurred_on": deviation.occurred_on,
            "category": deviation.category_id, "agreement": deviation.agreement_id,
            "agreement_other": deviation.agreement_other, "what_happened": deviation.what_happened,
            "immediate_action": deviation.immediate_action, "consequence": deviation.consequence,
            "suggestion": deviation.suggestion, "sip": deviation.sip_id, "version": deviation.version,
        }


class TransitionForm(BaseForm):
    """One workflow step; moving to 'besvarad' carries the counterpart's analysis and measures."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1,
                                 error_messages={"required": _("Versionen saknas. Ladda om sidan och försök igen.")})

    def __init__(self, *args, answer: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self._remember(answer=answer)
        if answer:
            self.fields["analysis"] = forms.CharField(
                label=_("Er analys"), max_length=TEXT_LIMIT, required=False, widget=guarded_textarea(5),
                help_text=_("Varför hände det? Beskriv vad som hände, inte vem."))
            self.fields["measures"] = forms.CharField(
                label=_("Åtgärder"), max_length=TEXT_LIMIT, required=False, widget=guarded_textarea(4),
                help_text=_("Vad gör ni för att det inte ska hända igen?"))
            for name in ("analysis", "measures"):
                self.fields[name].template_name = FIELD_TEMPLATE

    def answer(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in ("analysis", "measures") if name in data}


class CommentForm(BaseForm):
    text = forms.CharField(label=_("Kommentar"), max_length=TEXT_LIMIT, widget=guarded_textarea(3),
                           help_text=_("Syns för båda parterna och för forumet. Skriv vad, inte vem."))


class GuardForm(forms.Form):
    """The live check: the text being typed and what tells the server whose names to look for."""

    text = forms.CharField(required=False, max_length=TEXT_LIMIT, strip=False)
    sip = forms.IntegerField(required=False, min_value=1)
    avvikelse = forms.IntegerField(required=False, min_value=1)
