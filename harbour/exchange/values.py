"""Parsers for the value types every exchange file shares (dates, yes/no/unknown, codes).

Each parser takes the cell text (already stripped) and returns the value or raises
``Invalid`` with a message meant for the person fixing the spreadsheet. Messages
never repeat the cell's text: for a ``uic`` cell that would print the raw code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError

from harbour.sites.models import code_validator

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR = re.compile(r"^\d{4}$")

YES_NO_UNKNOWN = ("yes", "no", "unknown")


class Invalid(ValueError):
    pass


def required(text: str) -> str:
    if not text:
        raise Invalid("required; the cell is blank.")
    return text


def text(text: str, *, max_length: int) -> str:
    if len(required(text)) > max_length:
        raise Invalid(f"use at most {max_length} characters.")
    return text


def iso_date(text: str, *, not_after: dt.date | None = None) -> dt.date:
    # date.fromisoformat alone also takes "20240131" and week dates; the format says YYYY-MM-DD.
    if not _ISO_DATE.match(required(text)):
        raise Invalid("use a date written YYYY-MM-DD.")
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        raise Invalid("not a real date.") from None
    if not_after is not None and value > not_after:
        raise Invalid(f"is in the future (after {not_after.isoformat()}).")
    return value


def choice(text: str, allowed: Iterable[str]) -> str:
    """One of ``allowed``; case does not matter, as spreadsheets like to capitalise."""
    options = tuple(allowed)
    value = required(text).lower()
    if value not in options:
        raise Invalid("use one of " + ", ".join(options) + ".")
    return value


def yes_no_unknown(text: str) -> str:
    return choice(text, YES_NO_UNKNOWN)


def optional_year(text: str, *, earliest: int, latest: int) -> int | None:
    if not text:
        return None
    if not _YEAR.match(text):
        raise Invalid("use four digits, or leave the cell blank.")
    year = int(text)
    if not earliest <= year <= latest:
        raise Invalid(f"must be between {earliest} and {latest}.")
    return year


def whole_number(text: str, *, minimum: int, maximum: int) -> int:
    # Digits only: "10.0" or "1e3" from a spreadsheet is a sign the column was reformatted.
    if not required(text).isascii() or not text.isdigit():
        raise Invalid("use a whole number written with digits only, such as 10.")
    # A run of digits longer than any maximum here is out of range; int() need not read it.
    number = int(text) if len(text) <= 12 else maximum + 1
    if not minimum <= number <= maximum:
        raise Invalid(f"must be between {minimum} and {maximum}.")
    return number


def site_code(text: str) -> str:
    try:
        code_validator(required(text))
    except ValidationError as exc:
        raise Invalid(str(exc.messages[0])) from None
    return text


def optional_site_code(text: str) -> str:
    return site_code(text) if text else ""
