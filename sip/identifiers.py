"""Swedish person identifiers: personnummer, samordningsnummer (day + 60) and regional reserve numbers."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from personnummer import personnummer

from sip.models import IdentifierKind

_RESERVE = re.compile(r"^[A-Z0-9][A-Z0-9 -]{3,38}[A-Z0-9]$")


def normalise(raw: str, kind: str | None = None) -> tuple[str, str]:
    """(kind, canonical form). Personnummer and samordningsnummer become 12 digits YYYYMMDDNNNN.

    Accepts YYMMDD-NNNC, YYMMDD+NNNC (over 100), YYYYMMDDNNNC and YYYYMMDD-NNNC; the check digit must
    be right. Reserve numbers are kept as given (upper-cased) and must be asked for explicitly.
    """
    value = (raw or "").strip()
    if kind == IdentifierKind.RESERVNUMMER:
        value = value.upper()
        if not _RESERVE.match(value):
            raise ValidationError(_("Ogiltigt reservnummer: 5–40 tecken, bokstäver, siffror och bindestreck."),
                                  code="invalid_reserve_number")
        return IdentifierKind.RESERVNUMMER, value
    try:
        parsed = personnummer.Personnummer(value)
    except personnummer.PersonnummerException:
        raise ValidationError(
            _("Ogiltigt personnummer eller samordningsnummer: kontrollera datum och kontrollsiffra."),
            code="invalid_personnummer",
        ) from None
    detected = (IdentifierKind.SAMORDNINGSNUMMER if parsed.is_coordination_number()
                else IdentifierKind.PERSONNUMMER)
    if kind and kind != detected:
        raise ValidationError(_("Numret är ett %(detected)s, inte ett %(kind)s.")
                              % {"detected": detected.label.lower(), "kind": IdentifierKind(kind).label.lower()},
                              code="identifier_kind_mismatch")
    return detected, parsed.format(True)


def birth_year(kind: str, canonical: str) -> int | None:
    if kind in (IdentifierKind.PERSONNUMMER, IdentifierKind.SAMORDNINGSNUMMER):
        return int(canonical[:4])
    return None


def display(kind: str, canonical: str) -> str:
    """YYYYMMDD-NNNN for people; reserve numbers as stored."""
    if kind in (IdentifierKind.PERSONNUMMER, IdentifierKind.SAMORDNINGSNUMMER):
        return f"{canonical[:8]}-{canonical[8:]}"
    return canonical
