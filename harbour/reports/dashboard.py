"""What a dashboard and the programme report show, assembled once: ``build``.

``build("2025Q3", site)`` runs ``compute`` (harbour.reports.indicators) for the period
and for the periods of the same kind before it (the trend: 8 quarters, 12 months, 6
half years or 5 years), bands the coverage indicators against their targets
(harbour.reports.targets) and sums up the stock of the sites. The dashboard page, its
charts, the PDF, the XLSX and the CSV all read the same ``Dashboard``, so a chart and
its table, the screen and the file always show the same figures.

Figures are for people who hold Cap.AGGREGATES at the site: exact counts. A copy for
sharing outside the programme is built with ``suppressed=True``: each period's figures
then pass through small-cell suppression (harbour.lib.suppression), and a count may
read ``<5`` or ``*``. Stock is not about people and is never suppressed.

Nothing here is cached: a Dashboard lives for one request (see dashboard_views for
the short, per-session memory that lets a page's charts reuse the page's figures).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from harbour.lib.periods import FORMS, Period, parse_period, shift_months
from harbour.lib.suppression import suppress_report
from harbour.ost.indicators import sites_below
from harbour.reports import targets
from harbour.reports.indicators import compute
from harbour.sites.models import Site
from harbour.stock.models import Balance, Movement
from harbour.stock.services import RATE_DAYS
from harbour.visits.models import CatalogueItem

DEFINITIONS_VERSION = 1

# How many periods a trend shows, the chosen one included, by kind of period.
TREND_LENGTH = {"year": 5, "half": 6, "quarter": 8, "month": 12}

# fmt: off
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
# fmt: on

SHARE, RATE, YEARS, COUNT = "share", "rate", "years", "count"

Figure = int | float | str | None  # a figure as compute gives it, or a suppression marker


# --- periods ----------------------------------------------------------------------


def kind_of(period: Period) -> str:
    if "S" in period.code:
        return "half"
    if "Q" in period.code:
        return "quarter"
    return "year" if len(period.code) == 4 else "month"


def code_for(kind: str, start: dt.date) -> str:
    """The DHIS2 code of the period of ``kind`` that starts on ``start``."""
    if kind == "year":
        return f"{start.year}"
    if kind == "half":
        return f"{start.year}S{(start.month - 1) // 6 + 1}"
    if kind == "quarter":
        return f"{start.year}Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}{start.month:02d}"


def shifted(period: Period, steps: int) -> Period:
    """The period of the same kind ``steps`` periods later (earlier when negative)."""
    kind = kind_of(period)
    return parse_period(code_for(kind, shift_months(period.start, steps * period.months)))


def trend_periods(period: Period, length: int | None = None) -> list[Period]:
    """The ``length`` periods of the same kind ending with ``period``, oldest first."""
    count = length or TREND_LENGTH[kind_of(period)]
    return [shifted(period, -back) for back in range(count - 1, -1, -1)]


def last_complete_quarter(today: dt.date) -> Period:
    quarter = (today.month - 1) // 3 + 1
    if quarter == 1:
        return parse_period(f"{today.year - 1}Q4")
    return parse_period(f"{today.year}Q{quarter - 1}")


def describe_period(period: Period) -> str:
    """ "July to September 2025", "September 2025", "2025"."""
    kind = kind_of(period)
    if kind == "year":
        return str(period.start.year)
    first, last = MONTH_NAMES[period.start.month - 1], MONTH_NAMES[period.end.month - 1]
    if kind == "month":
        return f"{first} {period.start.year}"
    return f"{first} to {last} {period.start.year}"


def short_period(period: Period) -> str:
    """ "Jul–Sep 2025", "Sep 2025", "2025": for a list of periods to choose from."""
    kind = kind_of(period)
    if kind == "year":
        return str(period.start.year)
    first = MONTH_NAMES[period.start.month - 1][:3]
    if kind == "month":
        return f"{first} {period.start.year}"
    return f"{first}–{MONTH_NAMES[period.end.month - 1][:3]} {period.start.year}"


def day_text(day: dt.date) -> str:
    """ "30 September 2025"."""
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def choosable_periods(today: dt.date) -> list[tuple[str, list[tuple[str, str]]]]:
    """The periods a person can pick without typing: (group, [(code, label)])."""
    quarter = last_complete_quarter(today)
    month = parse_period(code_for("month", today.replace(day=1)))
    half = parse_period(code_for("half", today.replace(day=1)))
    year = parse_period(code_for("year", today.replace(day=1)))

    def options(current: Period, count: int) -> list[tuple[str, str]]:
        found = [shifted(current, -back) for back in range(count)]
        return [
            (p.code, f"{p.code} · {short_period(p)}{' (so far)' if p.end >= today else ''}")
            for p in found
        ]

    return [
        ("Quarters", options(shifted(quarter, 1), 9)),
        ("Months", options(month, 13)),
        ("Half years", options(half, 4)),
        ("Years", options(year, 3)),
    ]


class ChoiceError(ValueError):
    """A period or site that cannot be shown; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def chosen_period(raw: str | None, today: dt.date) -> Period:
    """The period of the ``period`` parameter; the last complete quarter when blank."""
    text = (raw or "").strip()
    if not text:
        return last_complete_quarter(today)
    if len(text) > 12:  # no period is this long: do not repeat a whole pasted text back
        raise ChoiceError(
            "period", f"Period: '{text[:12]}…' is not a period. Write one of: {FORMS}."
        )
    try:
        period = parse_period(text)
    except ValueError as exc:
        raise ChoiceError("period", f"Period: {exc}") from None
    if period.start > today:
        raise ChoiceError(
            "period", f"Period: {period.code} has not started yet; choose one up to today."
        )
    if period.start.year < 1990:
        raise ChoiceError("period", "Period: choose one from 1990 on.")
    return period


# --- indicators -------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    """How an indicator of the definitions is named and shown."""

    key: str
    name: str
    kind: str  # SHARE (a fraction shown in %), RATE (per person), YEARS, COUNT
    counted: str = ""  # the numerator, in words
    among: str = ""  # the denominator, in words
    unit: str = ""  # after a RATE, YEARS or COUNT figure


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "PRV.8",
        "NSP coverage",
        SHARE,
        "received needles and syringes",
        "active clients who inject drugs",
    ),
    Indicator(
        "PRV.9",
        "Regular NSP access",
        SHARE,
        "received needles and syringes on as many days as the period has months, or more",
        "active clients who inject drugs",
    ),
    Indicator(
        "PRV.10",
        "Needles and syringes per client",
        RATE,
        "needles and syringes handed out",
        "clients who received them",
        "per client",
    ),
    Indicator(
        "PRV.10.population",
        "Needles and syringes per person who injects drugs",
        RATE,
        "needles and syringes handed out",
        "people who inject drugs (population estimate)",
        "per person",
    ),
    Indicator(
        "PRV.11",
        "OST coverage",
        SHARE,
        "on OST at the end of the period",
        "clients who are opioid dependent or on OST",
    ),
    Indicator(
        "PRV.11.population",
        "OST coverage of the population",
        SHARE,
        "on OST at the end of the period",
        "people who are opioid dependent (population estimate)",
    ),
    Indicator("PRV.12", "Time on OST", YEARS, unit="person-years"),
    Indicator(
        "PRV.13",
        "Retention on OST at 6 months",
        SHARE,
        "still on OST 182 days after starting",
        "episodes started six months earlier",
    ),
    Indicator(
        "PRV.14",
        "Adequate maintenance dose",
        SHARE,
        "on methadone 60 mg or more, or buprenorphine 8 mg or more",
        "clients on maintenance OST at the end of the period",
    ),
    Indicator(
        "HTS.PWID",
        "Tested for HIV",
        SHARE,
        "had an HIV test with a result",
        "active clients who inject drugs",
    ),
    Indicator("NALOXONE.kits", "Naloxone kits handed out", COUNT, unit="kits"),
    Indicator("OVERDOSE.reported", "Overdoses reported", COUNT, unit="overdoses"),
    Indicator("OVERDOSE.reversed", "Overdoses reversed with naloxone", COUNT, unit="overdoses"),
)
BY_KEY = {indicator.key: indicator for indicator in INDICATORS}

# The steps of the two cascades, as harbour.testing.cascades counts them.
CASCADES: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "HIV.cascade": (
        "HIV cascade",
        (("diagnosed", "Diagnosed"), ("on_art", "On ART"), ("suppressed", "Virally suppressed")),
    ),
    "HCV.cascade": (
        "Hepatitis C cascade",
        (
            ("antibody_positive", "Antibody positive"),
            ("rna_tested", "RNA tested"),
            ("rna_positive", "RNA positive"),
            ("treated", "Treated"),
            ("cured", "Cured"),
        ),
    ),
}

GENDER_NAMES = {
    "female": "Female",
    "male": "Male",
    "transgender": "Transgender",
    "other": "Other",
    "unknown": "Not known",
}
AGE_NAMES = {"<25": "Under 25", "25+": "25 and over", "unknown": "Age not known"}
DISAGGREGATED = ("PRV.8", "PRV.11", "HTS.PWID")


# --- numbers for people -----------------------------------------------------------


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def count_text(value: Figure) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def figure_text(value: Figure, kind: str) -> str:
    """A value as shown: "84.3%", "331.8", "17.08", "422"; "–" without one."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if kind == SHARE:
        return f"{value * 100:.1f}%"
    if kind == RATE:
        return f"{value:,.1f}"
    if kind == YEARS:
        return f"{value:,.2f}"
    return count_text(value)


def change_text(now: Figure, before: Figure, kind: str, since: str) -> str:
    """ "Up 2.1 points from 2025Q2", "Down 3 from 2025Q2", "Same as 2025Q2"; "" if unknown."""
    if not is_number(now) or not is_number(before):
        return ""
    assert now is not None and before is not None and not isinstance(now, str)
    assert not isinstance(before, str)
    if kind == SHARE:
        difference = round((now - before) * 100, 1)
        amount = f"{abs(difference):.1f} points"
    elif kind in (RATE, YEARS):
        difference = round(now - before, 2 if kind == YEARS else 1)
        amount = f"{abs(difference):,.{2 if kind == YEARS else 1}f}"
    else:
        difference = now - before
        amount = f"{abs(difference):,}"
    if not difference:
        return f"Same as {since}"
    return f"{'Up' if difference > 0 else 'Down'} {amount} from {since}"


# --- tables: one shape for the page, the PDF, the XLSX and the CSV ------------------


@dataclass(frozen=True)
class Cell:
    """A table cell: the raw figure (a number, a marker, a label) and how it reads."""

    value: Figure
    text: str
    kind: str = "text"  # "text", COUNT, SHARE, RATE or YEARS: how a spreadsheet formats it

    @property
    def numeric(self) -> bool:
        return self.kind != "text"


def text_cell(text: str) -> Cell:
    return Cell(text, text)


def number_cell(value: Figure, kind: str = COUNT) -> Cell:
    if kind == COUNT:
        return Cell(value, count_text(value), COUNT)
    return Cell(value, figure_text(value, kind), kind)


@dataclass(frozen=True)
class Table:
    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""

    @property
    def columns(self) -> list[tuple[str, bool]]:
        """(header, numeric) for each column: numeric when its cells are figures."""
        return [
            (header, bool(self.rows) and all(row[index].numeric for row in self.rows))
            for index, header in enumerate(self.headers)
        ]

    @property
    def labelled_rows(self) -> list[list[tuple[str, Cell]]]:
        """Each row's cells with their column's header (a phone shows it beside the cell)."""
        return [list(zip(self.headers, row, strict=True)) for row in self.rows]


# --- the tiles ----------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    indicator: Indicator
    value: Figure
    numerator: Figure
    denominator: Figure
    shown: str  # "84.3%"
    detail: str  # "376 of 446 active clients who inject drugs"
    change: str  # "Up 2.1 points from 2025Q2"
    band: targets.Band | None  # None for an indicator without bands

    @property
    def level(self) -> str:
        return self.band.level if self.band and self.band.level else ""

    @property
    def band_word(self) -> str:
        """ "High coverage", "No band": never a colour alone."""
        if self.band is None:
            return ""
        if self.band.level is None:
            return "No figure to band"
        return f"{targets.LEVEL_NAMES[self.band.level]} coverage"

    @property
    def band_figure(self) -> str:
        """The figure as banded, when it differs from the value: "1,327 per person a year"."""
        band = self.band
        if band is None or band.annualised_value is None or self.indicator.kind != RATE:
            return ""
        return f"{band.annualised_value:,.0f} {band.unit}"

    @property
    def target_text(self) -> str:
        band = self.band
        if band is None or band.target is None:
            return ""
        if band.unit == "%":
            return f"Target {targets.shown(band.target)}%"
        return f"Target {targets.shown(band.target)} {band.unit}"

    @property
    def bands_text(self) -> str:
        band = self.band
        if band is None or band.low is None or band.high is None:
            return ""
        low, high = targets.shown(band.low), targets.shown(band.high)
        if band.unit == "%":
            return f"Low below {low}%, high above {high}%"
        return f"Low below {low}, high above {high}"


def target_cell(band: targets.Band | None) -> Cell:
    """A target as a number: a fraction for a coverage (0.9 for 90 %), else per year."""
    if band is None or band.target is None:
        return text_cell("")
    if band.unit == "%":
        return Cell(float(band.target) / 100, f"{targets.shown(band.target)}%", SHARE)
    return Cell(float(band.target), f"{targets.shown(band.target)} {band.unit}", RATE)


def band_for(key: str, value: Figure, period: Period) -> targets.Band | None:
    if key not in targets.MEASURES:
        return None
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    return targets.band(key, number, period)


# --- stock --------------------------------------------------------------------------


@dataclass(frozen=True)
class StockRow:
    item: str
    on_hand: int
    per_week: float  # handed out per week, at the rate of the last RATE_DAYS days
    weeks_left: float | None  # None when nothing was handed out recently
    sites: int  # sites holding the item
    low_sites: tuple[str, ...]  # sites that will run out before their warning time

    @property
    def weeks_text(self) -> str:
        if self.weeks_left is None:
            return "–"
        return f"{self.weeks_left:,.1f}"


def stock_rows(site_ids: Iterable[int] | None, today: dt.date) -> list[StockRow]:
    """Stock on hand today at the sites (None: all), by item, in three queries.

    A site is low, as on the stock page (harbour.stock.services.levels), when it has
    nothing left or fewer days left at its own recent rate than its warning time.
    """
    since = today - dt.timedelta(days=RATE_DAYS)
    balances = Balance.objects.all()
    moved = Movement.objects.filter(
        kind=Movement.Kind.DISTRIBUTION, date__gt=since, date__lte=today
    )
    if site_ids is not None:
        ids = list(site_ids)
        balances = balances.filter(site_id__in=ids)
        moved = moved.filter(site_id__in=ids)
    used = {
        (site_id, item_id): -(total or 0)
        for site_id, item_id, total in moved.order_by()
        .values("site_id", "item_id")
        .annotate(total=Sum("delta"))
        .values_list("site_id", "item_id", "total")
    }
    names = dict(Site.objects.values_list("id", "name"))
    totals: dict[int, dict[str, Any]] = {}
    for site_id, item_id, on_hand, warn_days in balances.values_list(
        "site_id", "item_id", "on_hand", "warn_days"
    ):
        row = totals.setdefault(item_id, {"on_hand": 0, "used": 0, "sites": 0, "low": []})
        per_day = used.get((site_id, item_id), 0) / RATE_DAYS
        row["on_hand"] += on_hand
        row["used"] += used.get((site_id, item_id), 0)
        row["sites"] += 1
        if on_hand <= 0 or (per_day > 0 and on_hand / per_day < warn_days):
            row["low"].append(names.get(site_id, str(site_id)))
    rows = []
    for item in CatalogueItem.objects.filter(pk__in=totals):
        row = totals[item.pk]
        per_week = row["used"] / RATE_DAYS * 7
        weeks_left = row["on_hand"] / per_week if per_week > 0 else None
        rows.append(
            StockRow(
                item.name,
                row["on_hand"],
                per_week,
                max(weeks_left, 0.0) if weeks_left is not None else None,
                row["sites"],
                tuple(sorted(row["low"], key=str.lower)),
            )
        )
    return rows


# --- the dashboard ------------------------------------------------------------------


@dataclass
class Dashboard:
    period: Period
    site_code: str | None  # None: the whole programme
    place: str  # "Whole programme", or the site's name
    periods: list[Period]  # the trend, oldest first; the last is ``period``
    reports: list[dict[str, Any]]  # compute()'s output for each of ``periods``
    stock: list[StockRow]
    stock_day: dt.date
    programme: str
    suppressed: bool = False
    made: dt.datetime = field(default_factory=timezone.now)

    @property
    def current(self) -> dict[str, Any]:
        return self.reports[-1]["indicators"]

    @property
    def previous(self) -> dict[str, Any] | None:
        return self.reports[-2]["indicators"] if len(self.reports) > 1 else None

    @property
    def made_day(self) -> dt.date:
        return timezone.localdate(self.made)

    @property
    def period_text(self) -> str:
        return describe_period(self.period)

    @property
    def first(self) -> Period:
        return self.periods[0]

    def shown_indicators(self) -> list[Indicator]:
        """The indicators of the definitions present for the period, in their order."""
        return [indicator for indicator in INDICATORS if indicator.key in self.current]

    def series(self, key: str, part: str = "value") -> list[Figure]:
        """``part`` of indicator ``key`` in each period of the trend; None where absent."""
        found: list[Figure] = []
        for report in self.reports:
            obj = report["indicators"].get(key)
            found.append(obj.get(part) if isinstance(obj, dict) else None)
        return found

    def has_series(self, key: str) -> bool:
        return any(value is not None for value in self.series(key))

    def tiles(self) -> list[Tile]:
        previous = self.previous
        since = self.periods[-2].code if len(self.periods) > 1 else ""
        made = []
        for indicator in self.shown_indicators():
            obj = self.current[indicator.key]
            value = obj.get("value")
            numerator, denominator = obj.get("numerator"), obj.get("denominator")
            before = previous.get(indicator.key, {}).get("value") if previous else None
            made.append(
                Tile(
                    indicator,
                    value,
                    numerator,
                    denominator,
                    figure_text(value, indicator.kind),
                    detail_text(indicator, numerator, denominator),
                    change_text(value, before, indicator.kind, since) if since else "",
                    band_for(indicator.key, value, self.period),
                )
            )
        return made

    def cascade(self, key: str) -> list[tuple[str, Figure]]:
        _title, steps = CASCADES[key]
        counts = self.current.get(key, {})
        return [(label, counts.get(step)) for step, label in steps]

    # --- tables -------------------------------------------------------------------

    def indicator_table(self) -> Table:
        rows = []
        for tile in self.tiles():
            indicator = tile.indicator
            band = text_cell(tile.band_word)
            if tile.band_figure:
                band = text_cell(f"{tile.band_word} ({tile.band_figure})")
            rows.append(
                (
                    text_cell(indicator.key),
                    text_cell(indicator.name),
                    number_cell(tile.numerator) if indicator.counted else text_cell(""),
                    number_cell(tile.denominator) if indicator.among else text_cell(""),
                    number_cell(tile.value, indicator.kind),
                    band,
                    target_cell(tile.band),
                )
            )
        return Table(
            f"Indicators, {self.period.code}",
            ("Key", "Indicator", "Numerator", "Denominator", "Value", "Band", "Target"),
            tuple(rows),
        )

    def disaggregation_table(self) -> Table:
        rows = []
        for key in DISAGGREGATED:
            obj = self.current.get(key)
            if not obj or "by" not in obj:
                continue
            for dimension, names in (("gender", GENDER_NAMES), ("age", AGE_NAMES)):
                for group, label in names.items():
                    cell = obj["by"].get(dimension, {}).get(group)
                    if cell is None:
                        continue
                    rows.append(
                        (
                            text_cell(key),
                            text_cell(label),
                            number_cell(cell["numerator"]),
                            number_cell(cell["denominator"]),
                            number_cell(cell["value"], SHARE),
                        )
                    )
        return Table(
            f"By gender and age, {self.period.code}",
            ("Key", "Group", "Numerator", "Denominator", "Value"),
            tuple(rows),
        )

    def trend_table(self, keys: Sequence[str], caption: str, note: str = "") -> Table:
        present = [key for key in keys if key in BY_KEY and self.has_series(key)]
        columns = [self.series(key) for key in present]
        rows = tuple(
            (
                text_cell(period.code),
                *(
                    number_cell(column[index], BY_KEY[key].kind)
                    for key, column in zip(present, columns, strict=True)
                ),
            )
            for index, period in enumerate(self.periods)
        )
        return Table(caption, ("Period", *(BY_KEY[key].name for key in present)), rows, note)

    def cascade_table(self, key: str) -> Table:
        title, _steps = CASCADES[key]
        steps = self.cascade(key)
        first = steps[0][1] if steps else None
        rows = []
        for label, count in steps:
            share: Figure = None
            if is_number(first) and is_number(count) and first:
                assert isinstance(first, int | float) and isinstance(count, int | float)
                share = round(count / first, 4)
            rows.append((text_cell(label), number_cell(count), number_cell(share, SHARE)))
        return Table(
            f"{title}, as of {day_text(self.period.end)}",
            ("Step", "People", "Of the first step"),
            tuple(rows),
        )

    def stock_table(self) -> Table:
        rows = tuple(
            (
                text_cell(row.item),
                number_cell(row.on_hand),
                number_cell(round(row.per_week, 1), RATE),
                number_cell(round(row.weeks_left, 1) if row.weeks_left is not None else None, RATE),
                number_cell(row.sites),
                text_cell(", ".join(row.low_sites) if row.low_sites else "None"),
            )
            for row in self.stock
        )
        return Table(
            f"Stock on {day_text(self.stock_day)}",
            (
                "Item",
                "On hand",
                "Handed out a week",
                "Weeks left",
                "Sites holding it",
                "Sites running low",
            ),
            rows,
            f"Handed out a week: the average of the last {RATE_DAYS} days. "
            "Weeks left: on hand at that rate. Stock is today's, whatever the period.",
        )


# --- methods, for the files ---------------------------------------------------------

METHODS: tuple[tuple[str, str], ...] = (
    (
        "Definitions",
        f"Harbour indicators, version {DEFINITIONS_VERSION} (docs/indicators.md). Names follow "
        "WHO's 2022 consolidated guidelines on person-centred HIV strategic information "
        "(PRV.8 to PRV.14, HTS) and UNAIDS Global AIDS Monitoring. A period is written as "
        "DHIS2 writes it; its first and last day both count.",
    ),
    (
        "Sites",
        "A site's figures count the site and every site below it. A contact, what was "
        "handed out in it, a test and an overdose count where they were recorded; an OST "
        "episode where it is held. The cascades count the people registered at or linked "
        "to the sites, with all their tests and treatments.",
    ),
    (
        "Cascades",
        "Counted as of the period's last day, with every record up to that day. Virally "
        "suppressed: on ART for 182 days or more and the latest viral load of the last 365 "
        "days below 1000 copies/mL. Cured: treatment completed and hepatitis C not "
        "detected 84 days or more after its end.",
    ),
    (
        "Coverage bands",
        "Low, medium and high as set on the targets page; by default the bands of the "
        "WHO, UNODC and UNAIDS technical guide (2009, revised 2012). Needles and syringes "
        "per person are annualised before banding (times 12, divided by the months of "
        "the period); a coverage is not.",
    ),
    (
        "Trend",
        "The same indicators for the periods of the same kind before this one: 8 "
        "quarters, 12 months, 6 half years or 5 years.",
    ),
    (
        "Stock",
        f"Stock on hand on the day the report was made, whatever its period; handed out "
        f"a week is the average of the last {RATE_DAYS} days. A site is running low when "
        "it has nothing left, or fewer days left at its own rate than its warning time.",
    ),
)


def copy_note(dashboard: Dashboard) -> str:
    """What kind of figures a file holds: exact, or suppressed for sharing."""
    if dashboard.suppressed:
        return (
            "Small counts suppressed for sharing outside the programme: a count from 1 to 4 "
            "reads <5, and a figure that would let one be worked out reads *."
        )
    return (
        "Exact counts, for the programme's own use. Do not publish them: a small count "
        "can identify a person. To share the report, download the copy with small "
        "counts suppressed."
    )


def detail_text(indicator: Indicator, numerator: Figure, denominator: Figure) -> str:
    if indicator.kind == SHARE:
        return f"{count_text(numerator)} of {count_text(denominator)} {indicator.among}"
    if indicator.kind == RATE:
        return (
            f"{count_text(numerator)} {indicator.counted}, "
            f"{count_text(denominator)} {indicator.among}"
        )
    return indicator.unit


def place_name(site: Site | None) -> str:
    return "Whole programme" if site is None else site.name


def build(
    period: str | Period,
    site: Site | None = None,
    *,
    today: dt.date | None = None,
    length: int | None = None,
    suppressed: bool = False,
) -> Dashboard:
    """The dashboard of ``site`` and the sites below it (None: the whole programme)."""
    from harbour.sites.models import Organisation

    found = parse_period(period) if isinstance(period, str) else period
    today = today or timezone.localdate()
    periods = trend_periods(found, length)
    code = site.code if site is not None else None
    reports = [compute(p.code, code) for p in periods]
    if suppressed:
        reports = [suppress_report(report) for report in reports]
    site_ids = sites_below(site.code) if site is not None else None
    return Dashboard(
        period=found,
        site_code=code,
        place=place_name(site),
        periods=periods,
        reports=reports,
        stock=stock_rows(site_ids, today),
        stock_day=today,
        programme=Organisation.get().name,
        suppressed=suppressed,
    )
