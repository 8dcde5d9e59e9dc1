"""Coverage bands and targets: is a figure low, medium or high, and how far from the goal?

``band("PRV.10.population", 52.5, "2025Q1")`` says how the figure reads against the
bands an administrator set (``Target``), or the defaults below when none was set:

- needles and syringes per person who injects drugs, per year: low below 100,
  medium from 100 to 200, high above 200 (WHO, UNODC, UNAIDS technical guide, 2009
  and 2012), with WHO's target of 300 for 2030;
- OST coverage: low below 20 %, medium from 20 % to 40 %, high above 40 % (same
  guide), with UNAIDS' target of 50 %;
- NSP coverage (PRV.8): low below 20 %, medium from 20 % to 60 %, high above 60 %
  (same guide, "people who inject drugs regularly reached by NSP"), with UNAIDS'
  target for 2025 that 90 % of people who inject drugs have access to harm reduction.

Both ends of the medium band are medium: 100 and 200 are medium, 200.01 is high.

A count per person is per year in the guidelines, so a shorter period is annualised
before it is banded: value × 12 / the number of calendar months in the period (× 4
for a quarter, × 2 for a half year, × 12 for a month). Periods are whole calendar
months (DHIS2 periods), so the factor is exact and the same in a leap year, and it is
how programmes annualise by hand ("the quarter times four"). The cost: a month is a
twelfth of a year whatever its length, so February reads about 10 % lower than a
31-day month at the same daily pace. A coverage is a share of people at the end of or
during the period, and is not annualised.

PRV.10 (per client who received N/S) and PRV.11 (OST coverage among clients) use the
bands of their population measures by default: the guidelines band the population
measures, and a programme that wants other bands for its clients sets them on the
targets page.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from harbour.lib.periods import Period, parse_period
from harbour.reports.models import Target

Level = Literal["low", "medium", "high"]
Number = int | float | Decimal


@dataclass(frozen=True)
class Measure:
    """An indicator that has bands: what it is called, and how it is banded."""

    key: str
    name: str
    unit: str  # after the figure: "per person a year", "%"
    percent: bool  # the indicator's value is a fraction, the bands are in percent
    annualised: bool  # a count per person over the period, banded per year


@dataclass(frozen=True)
class Default:
    low: Decimal
    high: Decimal
    target: Decimal | None
    source: str  # of the default target, shown on the targets page


MEASURES: dict[str, Measure] = {
    measure.key: measure
    for measure in (
        Measure(
            "PRV.10.population",
            "Needles and syringes per person who injects drugs (population estimate)",
            "per person a year",
            percent=False,
            annualised=True,
        ),
        Measure(
            "PRV.10",
            "Needles and syringes per client who received them",
            "per person a year",
            percent=False,
            annualised=True,
        ),
        Measure(
            "PRV.11.population",
            "OST coverage of people who are opioid dependent (population estimate)",
            "%",
            percent=True,
            annualised=False,
        ),
        Measure(
            "PRV.11",
            "OST coverage among clients who are opioid dependent",
            "%",
            percent=True,
            annualised=False,
        ),
        Measure(
            "PRV.8",
            "NSP coverage: clients who inject drugs who received needles and syringes",
            "%",
            percent=True,
            annualised=False,
        ),
    )
}

_SYRINGES = Default(Decimal(100), Decimal(200), Decimal(300), "WHO's target for 2030")
_OST = Default(Decimal(20), Decimal(40), Decimal(50), "UNAIDS' target")

# The data migration 0003_load_default_targets writes the same numbers.
DEFAULTS: dict[str, Default] = {
    "PRV.10.population": _SYRINGES,
    "PRV.10": _SYRINGES,
    "PRV.11.population": _OST,
    "PRV.11": _OST,
    "PRV.8": Default(Decimal(20), Decimal(60), Decimal(90), "UNAIDS' target for 2025"),
}

LEVEL_NAMES: dict[str, str] = {"low": "Low", "medium": "Medium", "high": "High"}


@dataclass(frozen=True)
class Band:
    """How one figure reads against its bands.

    ``annualised_value`` is the figure as compared with the bands: per year for a
    count per person, in percent for a coverage; None without a figure. ``level``
    is None when there is no figure or the indicator has no bands.
    """

    level: Level | None
    target: Decimal | None
    annualised_value: Decimal | None
    label: str
    low: Decimal | None = None
    high: Decimal | None = None
    unit: str = ""

    @property
    def target_met(self) -> bool | None:
        if self.target is None or self.annualised_value is None:
            return None
        return self.annualised_value >= self.target


def thresholds(key: str) -> Default | None:
    """The bands and target of indicator ``key``: the administrator's, else the defaults."""
    row = Target.objects.filter(indicator=key).first()
    if row is not None:
        return Default(row.low, row.high, row.target, "")
    return DEFAULTS.get(key)


def annualise(value: Decimal, period: str | Period) -> Decimal:
    """A count per person over ``period`` as a count per year: × 12 / its months."""
    found = parse_period(period) if isinstance(period, str) else period
    return value * Decimal(12) / Decimal(found.months)


def level_of(value: Decimal, low: Decimal, high: Decimal) -> Level:
    """Low below ``low``, high above ``high``, medium from ``low`` to ``high`` inclusive."""
    if value < low:
        return "low"
    if value > high:
        return "high"
    return "medium"


def band(key: str, value: Number | None, period: str | Period | None = None) -> Band:
    """How ``value`` of indicator ``key`` for ``period`` reads against its bands.

    ``value`` is as ``compute`` gives it: a fraction for a coverage (0.35), a count
    per person over the period for PRV.10. ``period`` (a DHIS2 period or a Period) is
    needed for a count per person, which is annualised; a ValueError otherwise.
    """
    measure = MEASURES.get(key)
    found = thresholds(key) if measure is not None else None
    if measure is None or found is None:
        return Band(None, None, None, "No bands for this indicator")
    if value is None:
        return Band(
            None,
            found.target,
            None,
            "No figure for this period",
            found.low,
            found.high,
            measure.unit,
        )
    # Decimal from the text: 0.2 is exactly 20 %, never 20.000000000000004.
    figure = value if isinstance(value, Decimal) else Decimal(str(value))
    if measure.percent:
        figure *= 100
    if measure.annualised:
        if period is None:
            raise ValueError(f"{key} is a count per person: give the period to annualise it.")
        figure = annualise(figure, period)
    level = level_of(figure, found.low, found.high)
    label = f"{LEVEL_NAMES[level]} coverage: {describe(figure, measure)}"
    if found.target is not None:
        label += f" (target {describe(found.target, measure)})"
    return Band(
        level,
        found.target,
        figure,
        label,
        found.low,
        found.high,
        measure.unit,
    )


def shown(number: Decimal) -> str:
    """A number for people: at most two decimals (halves up), no trailing zeros.

    Two, not one: 200.01 syringes a year is high, and must not read as 200.
    """
    text = f"{number.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def describe(number: Decimal, measure: Measure) -> str:
    """ "240 per person a year", "35%"."""
    if measure.percent:
        return f"{shown(number)}%"
    return f"{shown(number)} {measure.unit}"
