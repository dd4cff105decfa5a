"""Forms of the SIP screens. They parse and present input; the services in sip.services decide what is allowed.

Every form renders its fields through one accessible template (label, help text, errors linked with
aria-describedby) and knows how to take the field errors of a service's ValidationError. Choices come from
querysets the view passes in, already narrowed by the access gate.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.forms.models import fields_for_model
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from organisations.validators import TEXT_MAX_LENGTH
from sip.models import (
    Action,
    ActionStatus,
    Channel,
    ClosureReason,
    ConsentMethod,
    Gender,
    Goal,
    IdentifierKind,
    Meeting,
    ParticipantKind,
)

FIELD_TEMPLATE = "sip/_field.html"
DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def date_input():
    return forms.DateInput(attrs={"type": "date"}, format=DATE_FORMAT)


def datetime_input():
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)


def textarea(rows: int = 3):
    return forms.Textarea(attrs={"rows": rows})


@dataclass
class Row:
    """One field as the template shows it; after a version conflict also the saved value beside it."""

    field: forms.BoundField
    saved: str | None = None
    conflict: bool = False  # both the user and someone else changed it
    taken_from_saved: bool = False  # only someone else changed it: the saved value was filled in


class BaseForm(forms.Form):
    """No label colons, one field template, service errors per field, and room for a merge after a 412."""

    merge = None  # frontend.merge.MergeInfo after a version conflict

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        self._init_args = {k: v for k, v in kwargs.items() if k not in ("data", "initial", "files")}
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.template_name = FIELD_TEMPLATE
            if isinstance(field, forms.CharField) and field.max_length is None:
                # The same ceiling as the API's for free text without a length of its own.
                field.max_length = TEXT_MAX_LENGTH
                field.validators.append(MaxLengthValidator(TEXT_MAX_LENGTH))
                field.widget.attrs.setdefault("maxlength", str(TEXT_MAX_LENGTH))

    def _remember(self, **choices) -> None:
        """Keep the constructor's own arguments, so rebound() builds the same form."""
        self._init_args.update(choices)

    def rebound(self, data) -> BaseForm:
        """The same form (same choices, same prefix) bound to other data."""
        return type(self)(data, **self._init_args)

    def add_service_errors(self, exc: ValidationError) -> None:
        """Show a service's ValidationError: per field where the form has the field, else above the form."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for name, messages in exc.message_dict.items():
            if name in self.fields and name not in (NON_FIELD_ERRORS, "version"):
                self.add_error(name, messages)
            else:
                self.add_error(None, messages)

    def rows(self) -> list[Row]:
        merge = self.merge
        rows = []
        for bound in self.visible_fields():
            if merge is not None and bound.name in merge.saved:
                rows.append(Row(bound, merge.saved[bound.name], bound.name in merge.conflicts,
                                bound.name in merge.taken))
            else:
                rows.append(Row(bound))
        return rows

    @property
    def error_list(self) -> list[tuple[str, str]]:
        """(anchor, message) for the error summary: the field's id, or the form for non-field errors."""
        out = [("", str(message)) for message in self.non_field_errors()]
        for bound in self.visible_fields():
            anchor = bound.id_for_label or (f"{bound.auto_id}_0" if bound.auto_id else "")
            for message in bound.errors:
                out.append((anchor, f"{bound.label}: {message}"))
        for bound in self.hidden_fields():
            for message in bound.errors:
                out.append(("", str(message)))
        return out


class VersionedForm(BaseForm):
    """A write on a versioned object carries the version it started from (If-Match for the HTML face)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1,
                                 error_messages={"required": _("Versionen saknas. Ladda om sidan och försök igen.")})

    def changes(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "version"}


def _formfield(db_field, **kwargs):
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


def _model_fields(form: forms.Form, model, names, *, labels=None, widgets=None, help_texts=None) -> None:
    """Add the model's own form fields (type, choices, required) with our labels and widgets."""
    fields = fields_for_model(model, fields=names, labels=labels, widgets=widgets, help_texts=help_texts,
                              formfield_callback=_formfield)
    for name in names:
        field = fields[name]
        field.template_name = FIELD_TEMPLATE
        form.fields[name] = field


# --- Person search and registration ----------------------------------------------------------------------

class PersonSearchForm(BaseForm):
    identifier = forms.CharField(
        label=_("Personnummer, samordningsnummer eller reservnummer"), max_length=40,
        help_text=_("Till exempel 19811218-9876 eller 811218-9876."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class PersonRegisterForm(BaseForm):
    identifier = forms.CharField(
        label=_("Personnummer, samordningsnummer eller reservnummer"), max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    identifier_kind = forms.ChoiceField(
        label=_("Typ av nummer"), required=False, widget=forms.RadioSelect,
        choices=[("", _("Personnummer eller samordningsnummer")), (IdentifierKind.RESERVNUMMER, _("Reservnummer"))],
        initial="",
    )
    first_name = forms.CharField(label=_("Förnamn"), max_length=100,
                                 widget=forms.TextInput(attrs={"autocomplete": "off"}))
    last_name = forms.CharField(label=_("Efternamn"), max_length=100,
                                widget=forms.TextInput(attrs={"autocomplete": "off"}))
    gender = forms.ChoiceField(label=_("Kön"), choices=Gender.choices, initial=Gender.VILL_EJ_UPPGE)
    preferred_channel = forms.ChoiceField(label=_("Föredragen kontaktväg"), choices=Channel.choices,
                                          initial=Channel.LETTER)
    phone = forms.CharField(label=_("Mobiltelefon"), max_length=40, required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}))
    email = forms.EmailField(label=_("E-post"), required=False,
                             widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    address = forms.CharField(label=_("Adress"), max_length=200, required=False,
                              widget=forms.TextInput(attrs={"autocomplete": "off"}))
    postal_code = forms.CharField(label=_("Postnummer"), max_length=10, required=False,
                                  widget=forms.TextInput(attrs={"autocomplete": "off"}))
    city = forms.CharField(label=_("Ort"), max_length=100, required=False,
                           widget=forms.TextInput(attrs={"autocomplete": "off"}))
    protected_identity = forms.BooleanField(
        label=_("Skyddad identitet"), required=False,
        help_text=_("Namnet visas bara för dem som är med i personens plan, och adressen visas aldrig."),
    )

    def person_details(self) -> dict:
        data = dict(self.cleaned_data)
        data["identifier_kind"] = data.get("identifier_kind") or None
        return data


# --- Plans -----------------------------------------------------------------------------------------------

def grouped_unit_choices(units) -> list:
    """Units as <optgroup>s per organisation, in the order given."""
    groups: dict[str, list] = {}
    for unit in units:
        groups.setdefault(unit.organisation.name, []).append((unit.pk, unit.name))
    return list(groups.items())


class UnitChoicesMixin:
    """Units from the directory as a grouped select; the chosen ids become Unit objects in clean()."""

    def _set_units(self, name: str, units, *, multiple: bool) -> None:
        self._units_by_id = getattr(self, "_units_by_id", {})
        units = list(units)
        self._units_by_id.update({unit.pk: unit for unit in units})
        choices = grouped_unit_choices(units)
        self.fields[name].choices = choices if multiple else [("", "---------"), *choices]

    def _unit(self, value):
        return self._units_by_id.get(int(value)) if value not in (None, "") else None


class SipCreateForm(UnitChoicesMixin, BaseForm):
    initiating_unit = forms.TypedChoiceField(label=_("Initierande enhet"), coerce=int,
                                             help_text=_("En av enheterna där du arbetar."))
    units = forms.TypedMultipleChoiceField(
        label=_("Andra deltagande enheter"), coerce=int, required=False,
        help_text=_("Håll ned Ctrl (Cmd på Mac) för att välja flera."),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    lead_organisation = forms.ModelChoiceField(
        label=_("Huvudansvarig organisation"), queryset=None, required=False,
        help_text=_("Lämna tomt för den initierande enhetens organisation. Organisationen måste ha en enhet "
                    "med i planen."),
    )
    reason = forms.CharField(label=_("Anledning och bakgrund"), required=False, widget=textarea(4))
    need_identified_on = forms.DateField(label=_("Behov identifierat"), widget=date_input())
    discharge_track = forms.BooleanField(label=_("Utskrivning från slutenvård"), required=False,
                                         help_text=_("Kallelsen ska då gå ut inom tre dagar."))
    discharge_ready_at = forms.DateTimeField(label=_("Utskrivningsklar"), required=False, widget=datetime_input(),
                                             help_text=_("Datum och tid då patienten blev utskrivningsklar."))

    def __init__(self, *args, own_units, units, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self._remember(own_units=own_units, units=units, organisations=organisations)
        self._set_units("units", units, multiple=True)
        own = list(own_units)
        self._units_by_id.update({unit.pk: unit for unit in own})
        self.fields["initiating_unit"].choices = [(u.pk, f"{u.name} ({u.organisation.name})") for u in own]
        if len(own) == 1:
            self.fields["initiating_unit"].initial = own[0].pk
        self.fields["lead_organisation"].queryset = organisations
        self.fields["need_identified_on"].initial = timezone.localdate()

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "initiating_unit": self._unit(data["initiating_unit"]),
            "units": [self._unit(pk) for pk in data.get("units", [])],
            "lead_organisation": data.get("lead_organisation"),
            "reason": data.get("reason", ""),
            "need_identified_on": data["need_identified_on"],
            "discharge_track": data.get("discharge_track", False),
            "discharge_ready_at": data.get("discharge_ready_at"),
        }


class SipForm(VersionedForm):
    """'Om planen': the fields of the plan everyone in it edits together."""

    reason = forms.CharField(label=_("Anledning och bakgrund"), required=False, widget=textarea(4))
    what_matters = forms.CharField(label=_("Vad är viktigt för mig"), required=False, widget=textarea(4))
    own_contribution = forms.CharField(label=_("Det här gör jag själv"), required=False, widget=textarea(3))
    follow_up_on = forms.DateField(label=_("Uppföljningsdatum"), required=False, widget=date_input())
    coordinator = forms.ModelChoiceField(label=_("SIP-samordnare"), queryset=None, required=False,
                                         help_text=_("Personal i en av planens enheter."))
    lead_organisation = forms.ModelChoiceField(label=_("Huvudansvarig organisation"), queryset=None,
                                               empty_label=None)

    def __init__(self, *args, coordinators, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self._remember(coordinators=coordinators, organisations=organisations)
        self.fields["coordinator"].queryset = coordinators
        self.fields["lead_organisation"].queryset = organisations

    @staticmethod
    def initial_for(sip) -> dict:
        return {"reason": sip.reason, "what_matters": sip.what_matters, "own_contribution": sip.own_contribution,
                "follow_up_on": sip.follow_up_on, "coordinator": sip.coordinator_id,
                "lead_organisation": sip.lead_organisation_id, "version": sip.version}


class TransitionForm(VersionedForm):
    follow_up_on = forms.DateField(label=_("Uppföljningsdatum"), required=False, widget=date_input())
    closure_reason = forms.ChoiceField(label=_("Orsak"), required=False,
                                       choices=[("", "---------"), *ClosureReason.choices])
    closure_note = forms.CharField(label=_("Kommentar"), required=False, widget=textarea(2))


# --- Goals and actions -----------------------------------------------------------------------------------

GOAL_CREATE_FIELDS = ("kind", "horizon", "text", "target_on")
GOAL_EDIT_FIELDS = ("kind", "horizon", "text", "target_on", "status", "evaluation")
GOAL_LABELS = {"kind": _("Typ av mål"), "horizon": _("Tidsperspektiv"), "text": _("Mål"),
               "target_on": _("Ska vara uppnått"), "status": _("Status"), "evaluation": _("Utvärdering")}
GOAL_WIDGETS = {"text": textarea(3), "target_on": date_input(), "evaluation": textarea(3)}


class GoalCreateForm(BaseForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _model_fields(self, Goal, GOAL_CREATE_FIELDS, labels=GOAL_LABELS, widgets=GOAL_WIDGETS)

    def changes(self) -> dict:
        return dict(self.cleaned_data)


class GoalForm(VersionedForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _model_fields(self, Goal, GOAL_EDIT_FIELDS, labels=GOAL_LABELS, widgets=GOAL_WIDGETS)

    @staticmethod
    def initial_for(goal) -> dict:
        return {**{name: getattr(goal, name) for name in GOAL_EDIT_FIELDS}, "version": goal.version}


ACTION_FIELDS = ("title", "description", "goal", "responsible_organisation", "responsible_unit",
                 "responsible_user", "responsible_other", "person_does", "starts_on", "ends_on", "status")
ACTION_LABELS = {
    "title": _("Insats"), "description": _("Beskrivning"), "goal": _("Hör till mål"),
    "responsible_organisation": _("Ansvarig organisation"), "responsible_unit": _("Ansvarig enhet"),
    "responsible_user": _("Ansvarig person"), "responsible_other": _("Annan aktör"),
    "person_does": _("Det här gör personen själv i insatsen"), "starts_on": _("Startdatum"),
    "ends_on": _("Slutdatum"), "status": _("Status"),
}
ACTION_HELP = {
    "responsible_organisation": _("Kommun, region eller annan huvudman. Ange organisation eller annan aktör."),
    "responsible_other": _("Ansvarig utanför kommun och region, t.ex. Försäkringskassan, Arbetsförmedlingen "
                           "eller skolan."),
    "responsible_user": _("Personal i en av planens enheter."),
}
ACTION_WIDGETS = {"description": textarea(3), "person_does": textarea(2), "starts_on": date_input(),
                  "ends_on": date_input()}


class ActionForm(VersionedForm):
    def __init__(self, *args, goals, organisations, units, staff, versioned=True, **kwargs):
        super().__init__(*args, **kwargs)
        self._remember(goals=goals, organisations=organisations, units=units, staff=staff, versioned=versioned)
        if not versioned:
            del self.fields["version"]
        _model_fields(self, Action, ACTION_FIELDS, labels=ACTION_LABELS, widgets=ACTION_WIDGETS,
                      help_texts=ACTION_HELP)
        self.fields["goal"].queryset = goals
        self.fields["goal"].label_from_instance = lambda goal: Truncator(goal.text).chars(80)
        self.fields["responsible_organisation"].queryset = organisations
        self.fields["responsible_unit"].queryset = units
        self.fields["responsible_user"].queryset = staff
        self.fields["status"].initial = ActionStatus.PLANERAD

    @staticmethod
    def initial_for(action) -> dict:
        initial = {name: getattr(action, name) for name in ACTION_FIELDS}
        for name in ("goal", "responsible_organisation", "responsible_unit", "responsible_user"):
            initial[name] = getattr(action, f"{name}_id")
        return {**initial, "version": action.version}


# --- Meetings --------------------------------------------------------------------------------------------

MEETING_FIELDS = ("kind", "starts_at", "ends_at", "location", "video_link")
EXTRA_ROWS = 2


class MeetingForm(BaseForm):
    invite_person = forms.BooleanField(label=_("Den enskilde"), required=False, initial=True)
    invite_units = forms.ModelMultipleChoiceField(label=_("Enheter"), queryset=None, required=False,
                                                  widget=forms.CheckboxSelectMultiple)
    invite_staff = forms.ModelMultipleChoiceField(label=_("Personal"), queryset=None, required=False,
                                                  widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, units, staff, person_label, **kwargs):
        super().__init__(*args, **kwargs)
        self._remember(units=units, staff=staff, person_label=person_label)
        _model_fields(self, Meeting, MEETING_FIELDS,
                      labels={"kind": _("Typ av möte"), "starts_at": _("Börjar"), "ends_at": _("Slutar"),
                              "location": _("Plats"), "video_link": _("Videolänk")},
                      widgets={"starts_at": datetime_input(), "ends_at": datetime_input()})
        self.fields["invite_person"].label = person_label
        self.fields["invite_units"].queryset = units
        self.fields["invite_staff"].queryset = staff
        for index in range(1, EXTRA_ROWS + 1):
            self.fields[f"related_{index}_name"] = forms.CharField(
                label=_("Närstående %(n)s, namn") % {"n": index}, max_length=200, required=False)
            self.fields[f"related_{index}_phone"] = forms.CharField(
                label=_("Närstående %(n)s, telefon") % {"n": index}, max_length=40, required=False)
        for index in range(1, EXTRA_ROWS + 1):
            self.fields[f"other_{index}_name"] = forms.CharField(
                label=_("Annan aktör %(n)s, namn") % {"n": index}, max_length=200, required=False)
            self.fields[f"other_{index}_organisation"] = forms.CharField(
                label=_("Annan aktör %(n)s, organisation") % {"n": index}, max_length=200, required=False,
                help_text=_("T.ex. skola eller Arbetsförmedlingen.") if index == 1 else "")
        for field in self.fields.values():
            field.template_name = FIELD_TEMPLATE

    def field_group(self, prefix: str) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(prefix)]

    def meeting_fields(self):
        return [self[name] for name in MEETING_FIELDS]

    def related_fields(self):
        return self.field_group("related_")

    def other_fields(self):
        return self.field_group("other_")

    def values(self) -> dict:
        data = self.cleaned_data
        values = {name: data[name] for name in MEETING_FIELDS}
        participants = []
        if data.get("invite_person"):
            participants.append({"kind": ParticipantKind.PERSON})
        for index in range(1, EXTRA_ROWS + 1):
            name, phone = data.get(f"related_{index}_name", ""), data.get(f"related_{index}_phone", "")
            if name or phone:
                participants.append({"kind": ParticipantKind.RELATED, "name": name, "phone": phone})
        participants += [{"kind": ParticipantKind.STAFF, "user": user} for user in data.get("invite_staff", [])]
        participants += [{"kind": ParticipantKind.UNIT, "unit": unit} for unit in data.get("invite_units", [])]
        for index in range(1, EXTRA_ROWS + 1):
            name, org = data.get(f"other_{index}_name", ""), data.get(f"other_{index}_organisation", "")
            if name or org:
                participants.append({"kind": ParticipantKind.OTHER, "name": name, "organisation_text": org})
        return {**values, "participants": participants}


class HoldMeetingForm(VersionedForm):
    """Attendance per invited participant and the minutes."""

    minutes = forms.CharField(label=_("Minnesanteckningar"), required=False, widget=textarea(4))

    def __init__(self, *args, participants, **kwargs):
        super().__init__(*args, **kwargs)
        self._remember(participants=participants)
        self.participant_ids = []
        for participant_id, label in participants:
            name = f"attended_{participant_id}"
            self.fields[name] = forms.BooleanField(label=label, required=False)
            self.fields[name].template_name = FIELD_TEMPLATE
            self.participant_ids.append(participant_id)
        # The minutes after the attendance checkboxes.
        self.order_fields([*(f"attended_{pid}" for pid in self.participant_ids), "minutes"])

    def attendance_fields(self):
        return [self[f"attended_{pid}"] for pid in self.participant_ids]

    def attendance(self) -> dict[int, bool]:
        return {pid: bool(self.cleaned_data.get(f"attended_{pid}")) for pid in self.participant_ids}


# --- Units and consent -----------------------------------------------------------------------------------

class UnitAddForm(UnitChoicesMixin, BaseForm):
    unit = forms.TypedChoiceField(label=_("Enhet"), coerce=int)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self._remember(units=units)
        self._set_units("unit", units, multiple=False)

    def chosen_unit(self):
        return self._unit(self.cleaned_data["unit"])


class ConsentForm(BaseForm):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=None,
                                          help_text=_("Den organisation som samtycket gäller."))
    method = forms.ChoiceField(label=_("Hur samtycket gavs"), choices=ConsentMethod.choices,
                               widget=forms.RadioSelect)
    given_on = forms.DateField(label=_("Givet den"), required=False, widget=date_input(),
                               help_text=_("Lämna tomt för i dag."))
    scope = forms.CharField(label=_("Vilken information samtycket gäller"), required=False, widget=textarea(3))
    valid_until = forms.DateField(label=_("Gäller till och med"), required=False, widget=date_input())

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self._remember(organisations=organisations)
        self.fields["organisation"].queryset = organisations

    def values(self) -> dict:
        data = self.cleaned_data
        given_on = data.get("given_on")
        given_at = None
        if given_on and given_on != timezone.localdate():
            given_at = timezone.make_aware(datetime.datetime.combine(given_on, datetime.time(12, 0)))
        return {"organisation": data["organisation"], "method": data["method"], "scope": data.get("scope", ""),
                "valid_until": data.get("valid_until"), "given_at": given_at}
