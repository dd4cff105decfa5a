"""Personal-data guard for the free text of samverkansavvikelser.

A samverkansavvikelse describes *what happened, not who*. Before free text is accepted it is scanned for
personal data: personnummer and samordningsnummer (valid date and check digit), Swedish phone numbers,
e-mail addresses and the linked person's own names. The module is pure: no models, no database, no I/O.

    findings = scan(text, names=[person.first_name, person.last_name])
    if findings:
        errors = describe(findings)      # Swedish messages that never repeat the personal data
        cleaned = mask(text, findings)   # "[personnummer]", "[telefonnummer]", "[e-post]", "[namn]"

Regexes only find short candidates (bounded repetitions, no nested open-ended quantifiers, look-arounds of
fixed width); the checks that need arithmetic (calendar date, Luhn check digit, area code) run in Python
afterwards, so scanning stays linear in the length of the text.
"""

from __future__ import annotations

import bisect
import calendar
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from django.utils.translation import gettext as _

PERSONNUMMER = "personnummer"
SAMORDNINGSNUMMER = "samordningsnummer"
PHONE = "phone"
EMAIL = "email"
NAME = "name"
KINDS = (PERSONNUMMER, SAMORDNINGSNUMMER, PHONE, EMAIL, NAME)

# Stored text is Swedish whatever the reader's language, so placeholders are not translated.
PLACEHOLDERS = {
    PERSONNUMMER: "[personnummer]",
    SAMORDNINGSNUMMER: "[samordningsnummer]",
    PHONE: "[telefonnummer]",
    EMAIL: "[e-post]",
    NAME: "[namn]",
}

# When two candidates overlap, the lower number wins: an e-mail address swallows the digits or name inside
# it, a valid personnummer beats the phone number it could also be read as.
_PRIORITY = {EMAIL: 0, PERSONNUMMER: 1, SAMORDNINGSNUMMER: 1, PHONE: 2, NAME: 3}


@dataclass(frozen=True)
class Finding:
    kind: str  # "personnummer" | "samordningsnummer" | "phone" | "email" | "name"
    start: int
    end: int
    text: str  # the matched substring: personal data, never log or show it

    @property
    def description(self) -> str:
        """What was found, in Swedish (translated): "personnummer", "telefonnummer", "namnet på personen"…"""
        return {
            PERSONNUMMER: _("personnummer"),
            SAMORDNINGSNUMMER: _("samordningsnummer"),
            PHONE: _("telefonnummer"),
            EMAIL: _("e-postadress"),
            NAME: _("namnet på personen"),
        }[self.kind]

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS[self.kind]

    def __repr__(self) -> str:  # keep personal data out of tracebacks and logs
        return f"Finding(kind={self.kind!r}, start={self.start}, end={self.end})"


# --- personnummer / samordningsnummer ----------------------------------------------------------------------
# YYMMDD-NNNC, YYMMDD+NNNC, YYMMDDNNNC, YYMMDD NNNC, YYYYMMDD-NNNC, YYYYMMDDNNNC (dash, en dash, plus, space
# or no-break space). No digit may touch either end, so nothing matches inside a longer digit run. The
# look-behind sits after the first digit so the regex engine can skip ahead to digits.
_PNR = re.compile(r"[0-9](?<![0-9]{2})[0-9]{5}(?:[0-9]{2})?[-–+ \u00a0]?[0-9]{4}(?![0-9])")
_NOT_DIGIT = re.compile(r"[^0-9]")


def _luhn_ok(ten_digits: str) -> bool:
    total = 0
    for index, char in enumerate(ten_digits[:9]):
        product = int(char) * (2 - index % 2)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10 == int(ten_digits[9])


def _is_date(years: Iterable[int], month: int, day: int) -> bool:
    """A real calendar date in at least one of ``years``."""
    return 1 <= month <= 12 and day >= 1 and any(day <= calendar.monthrange(year, month)[1] for year in years)


def _identity_number_kind(candidate: str) -> str | None:
    digits = _NOT_DIGIT.sub("", candidate)
    century = None
    if len(digits) == 12:
        century, digits = digits[:2], digits[2:]
        if century not in ("18", "19", "20"):
            return None
    yy, month, day = int(digits[:2]), int(digits[2:4]), int(digits[4:6])
    coordination = day > 60  # samordningsnummer: day + 60
    years = (int(century) * 100 + yy,) if century else (1900 + yy, 2000 + yy)  # 6 digits: either century
    if not _is_date(years, month, day - 60 if coordination else day) or not _luhn_ok(digits):
        return None
    return SAMORDNINGSNUMMER if coordination else PERSONNUMMER


def _validated(pattern: re.Pattern[str], text: str, kind_of: Callable[[str], str | None]) -> Iterable[Finding]:
    """Matches of ``pattern`` that ``kind_of`` accepts. A rejected match only moves the search on by one
    character, so it never hides a real finding that starts inside it. Matches are short (bounded
    repetitions), so this stays linear in the length of the text."""
    position = 0
    while (match := pattern.search(text, position)) is not None:
        kind = kind_of(match[0])
        if kind is None:
            position = match.start() + 1
            continue
        yield Finding(kind, match.start(), match.end(), match[0])
        position = match.end()


# --- phone numbers -----------------------------------------------------------------------------------------
# 070-123 45 67, 0701234567, 070 123 45 67, +46 70 123 45 67, +46701234567, 0046 70…, +46 (0)70…,
# 08-123 456 78, 040-12 34 56, 031 123 45 67. One optional separator before each digit keeps it linear.
_PHONE_SEP = "-– \u00a0"
_INTERNATIONAL = rf"(?:\+|00)46[{_PHONE_SEP}]?(?:\(0\)[{_PHONE_SEP}]?)?"
_PHONE = re.compile(
    # The first character is "+" or "0"; the look-behind right after it says no letter, digit or "+" comes
    # before, so the number does not continue a longer token.
    rf"(?:(?:\+(?<![\w+].)46|0(?<![\w+].)046)[{_PHONE_SEP}]?(?:\(0\)[{_PHONE_SEP}]?)?|0(?<![\w+].))"
    rf"[1-9](?:[{_PHONE_SEP}]?[0-9]){{6,8}}(?![0-9])"
)
_INTERNATIONAL_PREFIX = re.compile(_INTERNATIONAL)
_SPLIT = re.compile(f"[{_PHONE_SEP}]")
_DATE_LIKE = re.compile(r"(?P<day>[0-9]{2})[-– \u00a0]?(?P<month>[0-9]{2})[-– \u00a0]?(?P<year>(?:19|20)[0-9]{2})")
_TIME_RANGE = re.compile(r"(?:[01][0-9]|2[0-3])[0-5][0-9][-– \u00a0](?:[01][0-9]|2[0-3])[0-5][0-9]")


def _phone_kind(candidate: str) -> str | None:
    prefix = _INTERNATIONAL_PREFIX.match(candidate)
    national = "0" + candidate[prefix.end():] if prefix else candidate
    groups = _SPLIT.split(national)
    digits = "".join(groups)
    if not 8 <= len(digits) <= 10:
        return None
    if digits.startswith("07") and len(digits) != 10:  # mobile numbers are 07X-XXX XX XX
        return None
    if len(groups) > 1:
        # With separators the first group is the area code: 08, or 0XX / 0XXX. That rules out
        # YYMMDD-NNNN shapes, DD-MM-YYYY dates ("05-12-2024") and clock times ("0800-1600").
        area = groups[0]
        if not 2 <= len(area) <= 4 or area.startswith("08") != (len(area) == 2):
            return None
    if not prefix:
        date = _DATE_LIKE.fullmatch(national)
        if date and _is_date((int(date["year"]),), int(date["month"]), int(date["day"])):
            return None
        if _TIME_RANGE.fullmatch(national):
            return None
    return PHONE


# --- e-mail ------------------------------------------------------------------------------------------------
# The local part may only start where a run of local-part characters starts, so a long run without "@" is
# read once, not once per position.
_LOCAL = r"[\w.!#$%&'*+/=?^`{|}~-]"
_EMAIL = re.compile(
    rf"(?<!{_LOCAL}){_LOCAL}+@[^\W_][\w-]*(?:\.[^\W_][\w-]*)*\.[^\W\d_]{{2,}}(?![\w-])"
)


def _emails(text: str) -> Iterable[Finding]:
    if "@" not in text:
        return
    for match in _EMAIL.finditer(text):
        yield Finding(EMAIL, match.start(), match.end(), match[0])


# --- names -------------------------------------------------------------------------------------------------
@lru_cache(maxsize=512)
def _name_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """Whole words, any case, Swedish genitive allowed ("Kims mamma" flags "Kim"). A hyphenated name also
    yields its parts ("Anna-Karin" → "Anna", "Karin"); words of a multi-word name only match together, so
    particles like "af" or "van den" never match on their own. NFC and NFD spellings both match."""
    variants: set[str] = set()
    for raw in names:
        name = " ".join(raw.split())
        candidates = [name, *(part.strip() for part in name.split("-") if part != name)]
        for candidate in candidates:
            if len(candidate) < 2:
                continue
            for form in ("NFC", "NFD"):
                normalised = unicodedata.normalize(form, candidate)
                variants.add(r"\s+".join(re.escape(word) for word in normalised.split()))
    if not variants:
        return None
    alternatives = "|".join(sorted(variants, key=lambda v: (-len(v), v)))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?=s?(?!\w))", re.IGNORECASE)


def _names(text: str, names: tuple[str, ...]) -> Iterable[Finding]:
    pattern = _name_pattern(names)
    if pattern is None:
        return
    for match in pattern.finditer(text):
        yield Finding(NAME, match.start(), match.end(), match[0])


# --- public API --------------------------------------------------------------------------------------------
def scan(text: str, *, names: Iterable[str] = ()) -> list[Finding]:
    """Personal data in ``text``, sorted by start, never overlapping.

    ``names`` are the linked person's names (first and last name); empty values and names shorter than two
    characters are ignored.
    """
    if not text:
        return []
    name_key = tuple(sorted({n.strip() for n in names if n and len(n.strip()) >= 2}))
    candidates = [*_emails(text), *_names(text, name_key)]
    if any(char in text for char in "0123456789"):
        candidates += [*_validated(_PNR, text, _identity_number_kind), *_validated(_PHONE, text, _phone_kind)]
    # Highest priority first, longer before shorter; keep a candidate only where nothing is kept yet.
    candidates.sort(key=lambda f: (_PRIORITY[f.kind], f.start - f.end, f.start))
    kept: list[Finding] = []  # sorted by start, never overlapping
    starts: list[int] = []
    for finding in candidates:
        index = bisect.bisect_left(starts, finding.start)
        if index > 0 and kept[index - 1].end > finding.start:
            continue
        if index < len(kept) and kept[index].start < finding.end:
            continue
        kept.insert(index, finding)
        starts.insert(index, finding.start)
    return kept


def mask(text: str, findings: Iterable[Finding]) -> str:
    """``text`` with every finding replaced by its placeholder ("[personnummer]", "[namn]"…).

    Findings must come from ``scan(text)``; one that does not match the text raises ValueError rather
    than masking the wrong characters. Overlapping findings are masked once, by the earliest.
    """
    parts: list[str] = []
    position = 0
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if text[finding.start:finding.end] != finding.text:
            raise ValueError("finding does not belong to this text")
        if finding.start < position:
            position = max(position, finding.end)
            continue
        parts.append(text[position:finding.start])
        parts.append(finding.placeholder)
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)


def describe(findings: Iterable[Finding]) -> list[str]:
    """One Swedish message per finding: what was found and where (1-based character positions).

    The messages never contain the found text: error messages must not carry personal data.
    """
    templates = {
        PERSONNUMMER: _("Texten innehåller ett personnummer (tecken %(start)d–%(end)d). "
                        "Beskriv vad som hände, inte vem."),
        SAMORDNINGSNUMMER: _("Texten innehåller ett samordningsnummer (tecken %(start)d–%(end)d). "
                             "Beskriv vad som hände, inte vem."),
        PHONE: _("Texten innehåller ett telefonnummer (tecken %(start)d–%(end)d). "
                 "Beskriv vad som hände, inte vem."),
        EMAIL: _("Texten innehåller en e-postadress (tecken %(start)d–%(end)d). "
                 "Beskriv vad som hände, inte vem."),
        NAME: _("Texten innehåller namnet på personen (tecken %(start)d–%(end)d). "
                "Beskriv vad som hände, inte vem."),
    }
    return [templates[f.kind] % {"start": f.start + 1, "end": f.end}
            for f in sorted(findings, key=lambda f: f.start)]
