"""Forms of the delaktighet screens: the questionnaire (public page and paper registration), the report filter
and rutinkollen. They parse and present input; sip.delaktighet.services decides what is stored."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontend.forms import BaseForm, date_input
from sip.delaktighet.models import ItemKind

ANSWER_PREFIX = "q_"
SHARE_FIELD = "share_with_staff"
FREE_TEXT_MAX = 4000
SCALE = tuple(str(value) for value in range(1, 7))
KIND_CHOICES = {
    ItemKind.YES_NO_UNKNOWN: (("yes", _("Ja")), ("no", _("Nej")), ("unknown", _("Vet inte"))),
    ItemKind.YES_PARTLY_NO: (("yes", _("Ja")), ("partly", _("Delvis")), ("no", _("Nej"))),
}
INVALID_CHOICE = _("Välj ett av alternativen.")


@dataclass
class Option:
    value: str
    label: str
    id: str
    checked: bool
    end_label: str = ""  # the scale's words for 1 and 6, shown under the number


@dataclass
class Question:
    """One question as the template draws it: a fieldset of radios or a textarea, with its number."""

    number: int
    total: int
    code: str
    kind: str
    text: str
    name: str
    id: str  # the first input: where the error summary links to
    base_id: str = ""
    options: list[Option] = field(default_factory=list)
    skip: Option | None = None
    value: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def is_scale(self) -> bool:
        return self.kind == ItemKind.SCALE_1_6

    @property
    def is_text(self) -> bool:
        return self.kind == ItemKind.FREE_TEXT

    @property
    def error_id(self) -> str:
        return f"{self.base_id}-error"

    @property
    def describedby(self) -> str:
        """The fieldset's description: its error, if any (the scale's end words are in the radios' names)."""
        return self.error_id if self.errors else ""


def _choices(item) -> list[tuple[str, str]]:
    if item.kind == ItemKind.SCALE_1_6:
        return [(value, value) for value in SCALE]
    if item.kind in KIND_CHOICES:
        return list(KIND_CHOICES[item.kind])
    return [(str(choice), str(choice)) for choice in item.choices or ()]


class QuestionnaireForm(forms.Form):
    """The items of one questionnaire version. Every question may be skipped; a radio group has its own
    "skip" option so a choice can be taken back without JavaScript."""

    def __init__(self, items, *args, share_label=None, share_help=None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            name = ANSWER_PREFIX + item.code
            if item.kind == ItemKind.FREE_TEXT:
                self.fields[name] = forms.CharField(
                    label=item.text, required=False, max_length=FREE_TEXT_MAX, widget=forms.Textarea,
                    error_messages={"max_length": _("Svaret får vara högst %(limit_value)s tecken.")})
            else:
                self.fields[name] = forms.ChoiceField(
                    label=item.text, required=False, choices=[("", _("Hoppa över frågan")), *_choices(item)],
                    widget=forms.RadioSelect, error_messages={"invalid_choice": INVALID_CHOICE})
        self.fields[SHARE_FIELD] = forms.BooleanField(
            label=share_label or _("Personalen i min plan får läsa mina svar"), required=False,
            help_text=share_help or _("Om du inte kryssar i rutan ser personalen bara sammanställningar av "
                                      "många svar, där ingen kan se vad just du har svarat."))

    def answers(self) -> dict[str, str]:
        """The answered questions by item code, as the services take them."""
        out = {}
        for item in self.items:
            value = self.cleaned_data.get(ANSWER_PREFIX + item.code)
            if value not in (None, ""):
                out[item.code] = value
        return out

    @property
    def share_with_staff(self) -> bool:
        return bool(self.cleaned_data.get(SHARE_FIELD))

    def add_service_errors(self, exc: ValidationError) -> None:
        """A service's errors are keyed by item code: show each at its question."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for code, messages in exc.message_dict.items():
            name = ANSWER_PREFIX + code
            if code != NON_FIELD_ERRORS and name in self.fields:
                self.add_error(name, messages)
            else:
                self.add_error(None, messages)

    def _value(self, name: str) -> str:
        if self.is_bound:
            return str(self[name].data or "")
        return ""

    def questions(self) -> list[Question]:
        total = len(self.items)
        out = []
        for number, item in enumerate(self.items, start=1):
            name = ANSWER_PREFIX + item.code
            base_id = f"q-{item.code}"
            value = self._value(name)
            errors = [str(message) for message in self.errors.get(name, [])]
            question = Question(number=number, total=total, code=item.code, kind=item.kind, text=item.text,
                                name=name, id=base_id, base_id=base_id, value=value, errors=errors)
            if item.kind != ItemKind.FREE_TEXT:
                choices = _choices(item)
                for index, (choice, label) in enumerate(choices):
                    end = ""
                    if item.kind == ItemKind.SCALE_1_6:
                        end = item.low_label if index == 0 else item.high_label if index == len(choices) - 1 else ""
                    question.options.append(Option(choice, str(label), f"{base_id}-{choice}", value == choice, end))
                question.id = question.options[0].id if question.options else base_id
                question.skip = Option("", str(_("Hoppa över frågan")), f"{base_id}-skip", False)
            out.append(question)
        return out

    @property
    def error_list(self) -> list[tuple[str, str]]:
        """(anchor, message) for the error summary."""
        out = [("", str(message)) for message in self.non_field_errors()]
        for question in self.questions():
            for message in question.errors:
                out.append((question.id, _("Fråga %(number)s: %(message)s") % {
                    "number": question.number, "message": message}))
        for message in self.errors.get(SHARE_FIELD, []):
            out.append(("id_share_with_staff", str(message)))
        return out


# --- Staff forms -----------------------------------------------------------------------------------------

GROUP_BY_CHOICES = (("gender", _("Kön")), ("age_band", _("Åldersgrupp")))


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.organisation.name} – {obj.name}"


class ReportFilterForm(BaseForm):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=None, required=False,
                                          empty_label=_("Alla mina organisationer"))
    unit = UnitChoiceField(label=_("Enhet"), queryset=None, required=False, empty_label=_("Alla enheter"),
                           help_text=_("Planer som enheten är med i."))
    period_start = forms.DateField(label=_("Möten från och med"), required=False, widget=date_input())
    period_end = forms.DateField(label=_("Möten till och med"), required=False, widget=date_input())
    group_by = forms.MultipleChoiceField(label=_("Dela upp efter"), required=False, choices=GROUP_BY_CHOICES,
                                         widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, organisations, units, **kwargs):
        super().__init__(*args, **kwargs)
        self._remember(organisations=organisations, units=units)
        self.fields["organisation"].queryset = organisations
        self.fields["unit"].queryset = units

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("Perioden slutar innan den börjar."))
        return data

    def report_arguments(self) -> dict:
        data = self.cleaned_data
        return {"organisation": data.get("organisation"), "unit": data.get("unit"),
                "period_start": data.get("period_start"), "period_end": data.get("period_end"),
                "group_by": tuple(name for name, _label in GROUP_BY_CHOICES if name in (data.get("group_by") or ()))}


ROUTINE_CHOICES = (("yes", _("Ja")), ("partly", _("Delvis")), ("no", _("Nej")))
ROUTINE_PREFIX, COMMENT_PREFIX = "r_", "c_"


def quarter_of(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    first_month = (day.month - 1) // 3 * 3 + 1
    start = datetime.date(day.year, first_month, 1)
    next_start = datetime.date(day.year + 1, 1, 1) if first_month == 10 else datetime.date(day.year, first_month + 3, 1)
    return start, next_start - datetime.timedelta(days=1)


class RoutineCheckForm(BaseForm):
    unit = UnitChoiceField(label=_("Enhet"), queryset=None, empty_label=None)
    period_start = forms.DateField(label=_("Perioden börjar"), widget=date_input())
    period_end = forms.DateField(label=_("Perioden slutar"), widget=date_input())

    def __init__(self, *args, units, items, **kwargs):
        kwargs.setdefault("initial", {})
        start, end = quarter_of(timezone.localdate())
        kwargs["initial"].setdefault("period_start", start)
        kwargs["initial"].setdefault("period_end", end)
        super().__init__(*args, **kwargs)
        self._remember(units=units, items=items)
        self.fields["unit"].queryset = units
        self.items = list(items)
        for number, item in enumerate(self.items, start=1):
            choice = forms.ChoiceField(
                label=item.text, choices=ROUTINE_CHOICES, widget=forms.RadioSelect,
                error_messages={"required": _("Välj ja, delvis eller nej."), "invalid_choice": INVALID_CHOICE})
            comment = forms.CharField(
                label=_("Kommentar till påstående %(number)s (frivillig)") % {"number": number}, required=False,
                max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
            for name, form_field in ((ROUTINE_PREFIX + item.code, choice), (COMMENT_PREFIX + item.code, comment)):
                form_field.template_name = self.fields["unit"].template_name
                self.fields[name] = form_field

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("Perioden slutar innan den börjar."))
        return data

    def add_service_errors(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            renamed = {}
            for name, messages in exc.message_dict.items():
                key = ROUTINE_PREFIX + name if ROUTINE_PREFIX + name in self.fields else name
                renamed[key] = messages
            exc = ValidationError(renamed)
        super().add_service_errors(exc)

    def blocks(self) -> list[tuple[int, forms.BoundField, forms.BoundField]]:
        return [(number, self[ROUTINE_PREFIX + item.code], self[COMMENT_PREFIX + item.code])
                for number, item in enumerate(self.items, start=1)]

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "unit": data["unit"], "period_start": data["period_start"], "period_end": data["period_end"],
            "answers": {item.code: {"value": data[ROUTINE_PREFIX + item.code],
                                    "comment": data.get(COMMENT_PREFIX + item.code, "")}
                        for item in self.items},
        }
