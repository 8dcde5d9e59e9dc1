"""Reporting periods written as DHIS2 writes them (indicator definitions, "Periods").

``2025`` is a year, ``2025S1`` / ``2025S2`` a half year, ``2025Q1``…``2025Q4`` a
quarter and ``202503`` a month. A period runs from its first day S to its last day E,
both inclusive.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

FORMS = "2025 (year), 2025S1 or 2025S2 (half year), 2025Q1 to 2025Q4 (quarter), 202503 (month)"

_PATTERN = re.compile(
    r"(?P<year>\d{4})(?:S(?P<half>\d)|Q(?P<quarter>\d)|(?P<month>\d{2}))?", re.ASCII
)


@dataclass(frozen=True)
class Period:
    code: str  # as DHIS2 writes it, e.g. "2025Q1"
    start: dt.date  # S, the first day
    end: dt.date  # E, the last day

    @property
    def months(self) -> int:
        """The number of calendar months in the period (12, 6, 3 or 1)."""
        return months_between(self.start, self.end)


def _bad(text: str, why: str) -> ValueError:
    return ValueError(f"{text!r} is not a period ({why}). Write one of: {FORMS}.")


def last_day(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def parse_period(text: str) -> Period:
    """The period a DHIS2 period string names; a ValueError naming it otherwise."""
    code = text.strip().upper() if isinstance(text, str) else ""
    found = _PATTERN.fullmatch(code)
    if not found:
        raise _bad(text, "unknown form")
    year = int(found["year"])
    if year < 1:
        raise _bad(text, "there is no year 0")
    if found["half"] is not None:
        half = int(found["half"])
        if half not in (1, 2):
            raise _bad(text, "a half year is S1 or S2")
        first, last = 6 * half - 5, 6 * half
    elif found["quarter"] is not None:
        quarter = int(found["quarter"])
        if not 1 <= quarter <= 4:
            raise _bad(text, "a quarter is Q1 to Q4")
        first, last = 3 * quarter - 2, 3 * quarter
    elif found["month"] is not None:
        month = int(found["month"])
        if not 1 <= month <= 12:
            raise _bad(text, "a month is 01 to 12")
        first = last = month
    else:
        first, last = 1, 12
    return Period(code, dt.date(year, first, 1), last_day(year, last))


def period_bounds(text: str) -> tuple[dt.date, dt.date]:
    """(S, E) of a DHIS2 period string."""
    period = parse_period(text)
    return period.start, period.end


def months_between(start: dt.date, end: dt.date) -> int:
    """Calendar months touched by [start, end]: 3 for a quarter, 1 for a month."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


def shift_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole calendar months; a day past the target month's end is clamped."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def six_months_earlier(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The same-length period six calendar months earlier (PRV.13's cohort window).

    Both ends move back six calendar months; an end on the last day of its month
    stays on the last day of its month, so 2025Q1 gives 2024-07-01..2024-09-30,
    202502 gives 2024-08-01..2024-08-31 and 2025 gives 2024-07-01..2025-06-30.
    """
    earlier_start = shift_months(start, -6)
    earlier_end = shift_months(end, -6)
    if end == last_day(end.year, end.month):
        earlier_end = last_day(earlier_end.year, earlier_end.month)
    return earlier_start, earlier_end
