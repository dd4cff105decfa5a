"""Forms of the data-protection screens. The personnummer is never written back into a page: after an error the
field is empty again (NoEchoInput), so the number exists only in the POST body that carried it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from frontend.forms import BaseForm


class NoEchoInput(forms.TextInput):
    """A text field that never renders its value back."""

    def format_value(self, value):
        return None


def personnummer_field() -> forms.CharField:
    return forms.CharField(
        label=_("Personnummer, samordningsnummer eller reservnummer"), max_length=40,
        help_text=_("Skrivs ÅÅÅÅMMDD-NNNN. Numret visas inte igen på sidan och hamnar aldrig i adressen."),
        widget=NoEchoInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class RegisterutdragForm(BaseForm):
    personnummer = personnummer_field()
    format = forms.ChoiceField(
        label=_("Format"), widget=forms.RadioSelect, initial="pdf",
        choices=[("pdf", _("PDF, att lämna till personen")), ("json", _("JSON, maskinläsbart"))],
    )


class ErasureForm(BaseForm):
    personnummer = personnummer_field()
