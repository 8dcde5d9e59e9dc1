"""Reporting periods in DHIS2 notation, and PRV.13's cohort window six months earlier."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from harbour.lib.periods import (
    months_between,
    parse_period,
    period_bounds,
    shift_months,
    six_months_earlier,
)

D = dt.date


@pytest.mark.parametrize(
    ("text", "start", "end", "months"),
    [
        ("2025", D(2025, 1, 1), D(2025, 12, 31), 12),
        ("2025S1", D(2025, 1, 1), D(2025, 6, 30), 6),
        ("2025S2", D(2025, 7, 1), D(2025, 12, 31), 6),
        ("2025Q1", D(2025, 1, 1), D(2025, 3, 31), 3),
        ("2025Q2", D(2025, 4, 1), D(2025, 6, 30), 3),
        ("2025Q3", D(2025, 7, 1), D(2025, 9, 30), 3),
        ("2025Q4", D(2025, 10, 1), D(2025, 12, 31), 3),
        ("202503", D(2025, 3, 1), D(2025, 3, 31), 1),
        ("202502", D(2025, 2, 1), D(2025, 2, 28), 1),
        ("202402", D(2024, 2, 1), D(2024, 2, 29), 1),
        ("202512", D(2025, 12, 1), D(2025, 12, 31), 1),
    ],
)
def test_each_dhis2_period_form_runs_from_its_first_to_its_last_day(
    text: str, start: dt.date, end: dt.date, months: int
) -> None:
    period = parse_period(text)
    assert (period.code, period.start, period.end) == (text, start, end)
    assert period_bounds(text) == (start, end)
    assert period.months == months


def test_a_period_may_be_written_in_lower_case_or_with_spaces_around_it() -> None:
    assert parse_period(" 2025q1 ").code == "2025Q1"
    assert parse_period("2025s2").start == D(2025, 7, 1)


@pytest.mark.parametrize(
    "text",
    [
        "2025Q5",
        "2025Q0",
        "202513",
        "202500",
        "25",
        "2025S3",
        "2025S0",
        "",
        "2025W1",
        "2025 Q1",
        "20251",
        "2025-03",
        "0000",
        "２０２５",
    ],
)
def test_a_bad_period_is_refused_with_an_error_naming_it(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_period(text)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2025Q1", D(2024, 7, 1), D(2024, 9, 30)),
        ("202502", D(2024, 8, 1), D(2024, 8, 31)),
        ("2025", D(2024, 7, 1), D(2025, 6, 30)),
        ("2025S1", D(2024, 7, 1), D(2024, 12, 31)),
        ("2025Q3", D(2025, 1, 1), D(2025, 3, 31)),
        ("202508", D(2025, 2, 1), D(2025, 2, 28)),
        ("202408", D(2024, 2, 1), D(2024, 2, 29)),
        ("202503", D(2024, 9, 1), D(2024, 9, 30)),
    ],
)
def test_the_cohort_window_is_the_same_length_period_six_calendar_months_earlier(
    text: str, start: dt.date, end: dt.date
) -> None:
    assert six_months_earlier(*period_bounds(text)) == (start, end)


def test_shifting_by_months_clamps_to_the_end_of_a_shorter_month() -> None:
    assert shift_months(D(2025, 8, 31), -6) == D(2025, 2, 28)
    assert shift_months(D(2025, 1, 15), -1) == D(2024, 12, 15)
    assert shift_months(D(2024, 7, 1), 6) == D(2025, 1, 1)
    assert months_between(D(2024, 7, 1), D(2025, 6, 30)) == 12
