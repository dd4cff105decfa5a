"""Request body parsing with one guard for text no database or encoder can take.

PostgreSQL refuses NUL (U+0000) in text and JSON columns, and a lone UTF-16 surrogate (valid JSON escape,
invalid Unicode) cannot be encoded as UTF-8 for storage or for the answer. Both are refused here, once for
every endpoint, as a 400 with a message on the field that held them, instead of a 500 from deep inside a save.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

NUL_MESSAGE = _("Texten får inte innehålla NUL-tecken (\\x00).")
SURROGATE_MESSAGE = _("Texten innehåller ogiltiga Unicode-tecken.")
MAX_DEPTH = 32
DEPTH_MESSAGE = _("Uppgifterna är för djupt nästlade.")


def _text_problem(text: str):
    if "\x00" in text:
        return NUL_MESSAGE
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE_MESSAGE
    return None


def find_bad_text(data, path: str = "", depth: int = 0) -> dict[str, list]:
    """{"field.sub": [message]} for every key or string value in parsed JSON that cannot be stored."""
    errors: dict[str, list] = {}
    if depth > MAX_DEPTH:
        return {path or "non_field_errors": [DEPTH_MESSAGE]}
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{path}.{key}" if path else str(key)
            problem = _text_problem(str(key))
            if problem:
                errors[path or "non_field_errors"] = [problem]
                continue
            errors.update(find_bad_text(value, name, depth + 1))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            errors.update(find_bad_text(value, f"{path}.{index}" if path else str(index), depth + 1))
    elif isinstance(data, str):
        problem = _text_problem(data)
        if problem:
            errors[path or "non_field_errors"] = [problem]
    return errors


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing NUL characters, lone surrogates and absurd nesting with field errors."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(DEPTH_MESSAGE) from None
        errors = find_bad_text(data)
        if errors:
            raise ValidationError(errors)
        return data
