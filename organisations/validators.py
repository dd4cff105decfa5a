from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.se import orgnr


def validate_organisation_number(value: str) -> None:
    """Swedish organisationsnummer: ten digits, Luhn check digit (python-stdnum)."""
    if not orgnr.is_valid(value):
        raise ValidationError(
            _("Ogiltigt organisationsnummer: ange tio siffror (NNNNNN-NNNN) med korrekt kontrollsiffra."),
            code="invalid_organisation_number",
        )


def normalise_organisation_number(value: str) -> str:
    return orgnr.format(value)


# Free text without a length of its own (a TextField) still has a ceiling, in the API (api/serializers/base.py)
# and in the forms (frontend/forms.py): a huge string is a field error, not megabytes in the database, the
# history and every e-mail quoting it.
TEXT_MAX_LENGTH = 20_000
