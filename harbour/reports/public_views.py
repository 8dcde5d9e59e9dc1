"""The public community dashboard: the main indicators region by region, no sign-in.

Made to be shown at a meeting of people who use drugs, on a projector or a phone.
Nothing finer than a region, and every figure suppressed (harbour.reports.public_dashboard):
never a person, a site below a region, or a worker's name. The page is the same for
everyone, signed in or not, so it can be cached by anyone on the way.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import dateformat, timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from harbour.accounts.access import public
from harbour.lib.periods import Period, parse_period
from harbour.lib.suppression import HIDDEN
from harbour.reports.public_dashboard import (
    CACHE_SECONDS,
    FIGURES,
    WITHHELD,
    Published,
    complete_quarters,
    dashboard,
    last_complete_quarter,
)
from harbour.sites.models import Organisation

# --- what a cell shows ------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    text: str  # as shown: "152", "<5", "*", "74%", "–"
    figure: str  # the figure's key, e.g. "PRV.8.numerator"
    kind: str  # "count", "percent" or "rate"
    # "shown", "small" (<k), "hidden" (*), "withheld" (x) or "none" (nobody to count)
    state: str
    label: str = ""  # in a table, the column's heading (a phone shows it beside the figure)

    @property
    def css(self) -> str:
        return f"pub-{self.state}"


def _round(number: float, places: str) -> Decimal:
    return Decimal(str(number)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def cell(figure: str, value: Any, kind: str, label: str = "") -> Cell:
    """One published figure as the page shows it."""
    if value == HIDDEN:
        return Cell(HIDDEN, figure, kind, "hidden", label)
    if value == WITHHELD:
        return Cell(WITHHELD, figure, kind, "withheld", label)
    if isinstance(value, str):  # "<5"
        return Cell(value, figure, kind, "small", label)
    if value is None:  # a ratio over nobody
        return Cell("–", figure, kind, "none", label)
    if kind == "percent":
        text = f"{_round(value * 100, '1')}%"
    elif kind == "rate":
        text = f"{_round(value, '0.1')}"
    else:
        text = f"{value:,}"
    return Cell(text, figure, kind, "shown", label)


# --- what the page shows ----------------------------------------------------------


@dataclass(frozen=True)
class Column:
    figure: str
    label: str
    kind: str = "count"


@dataclass(frozen=True)
class Headline:
    figure: str  # the big number
    words: str  # what it is, after the number
    kind: str = "count"
    of: tuple[str, str] | None = None  # (numerator, denominator) shown as "152 of 204"
    of_words: str = ""  # after "152 of 204"
    joiner: str = "of"  # between the two: "45,390 handed out to 277 people"


@dataclass(frozen=True)
class TableSpec:
    caption: str
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    note: str  # how it is counted, in plain words; {end} is the period's last day
    headlines: tuple[Headline, ...]
    tables: tuple[TableSpec, ...]


SECTIONS = (
    Section(
        "needles",
        "Needles and syringes",
        "People who inject drugs who came to us at least once in the period, and the "
        "needles and syringes handed out, including those taken to pass on to others.",
        (
            Headline(
                "PRV.8.value",
                "of people who inject drugs we saw got new needles and syringes",
                "percent",
                ("PRV.8.numerator", "PRV.8.denominator"),
                "people",
            ),
            Headline(
                "PRV.10.value",
                "needles and syringes for each person who got them",
                "rate",
                ("PRV.10.numerator", "PRV.10.denominator"),
                "people",
                "handed out to",
            ),
        ),
        (
            TableSpec(
                "People who inject drugs who got needles and syringes, by region",
                (
                    Column("PRV.8.numerator", "Got needles and syringes"),
                    Column("PRV.8.denominator", "People who inject drugs we saw"),
                    Column("PRV.8.value", "Share", "percent"),
                ),
            ),
            TableSpec(
                "Needles and syringes handed out, by region",
                (
                    Column("PRV.10.numerator", "Needles and syringes"),
                    Column("PRV.10.denominator", "People who got them"),
                    Column("PRV.10.value", "Each", "rate"),
                ),
            ),
        ),
    ),
    Section(
        "ost",
        "Opioid substitution treatment",
        "People on opioid substitution treatment (methadone or buprenorphine) on {end}, "
        "of the people who use opioids we saw in the period or who were on treatment.",
        (
            Headline(
                "PRV.11.value",
                "of people who use opioids were on opioid substitution treatment",
                "percent",
                ("PRV.11.numerator", "PRV.11.denominator"),
                "people",
            ),
        ),
        (
            TableSpec(
                "People on opioid substitution treatment, by region",
                (
                    Column("PRV.11.numerator", "On treatment"),
                    Column("PRV.11.denominator", "People who use opioids"),
                    Column("PRV.11.value", "Share", "percent"),
                ),
            ),
        ),
    ),
    Section(
        "hiv-testing",
        "HIV testing",
        "People who inject drugs we saw in the period who had an HIV test with a "
        "result they could act on (positive or negative).",
        (
            Headline(
                "HTS.PWID.value",
                "of people who inject drugs we saw had an HIV test",
                "percent",
                ("HTS.PWID.numerator", "HTS.PWID.denominator"),
                "people",
            ),
        ),
        (
            TableSpec(
                "People who inject drugs tested for HIV, by region",
                (
                    Column("HTS.PWID.numerator", "Tested for HIV"),
                    Column("HTS.PWID.denominator", "People who inject drugs we saw"),
                    Column("HTS.PWID.value", "Share", "percent"),
                ),
            ),
        ),
    ),
    Section(
        "overdoses",
        "Naloxone and overdoses",
        "Naloxone kits handed out, overdoses our teams and partners reported, and those "
        "reversed: naloxone was given and the person survived.",
        (
            Headline("NALOXONE.kits.value", "naloxone kits handed out"),
            Headline("OVERDOSE.reported.value", "overdoses reported"),
            Headline("OVERDOSE.reversed.value", "overdoses reversed with naloxone"),
        ),
        (
            TableSpec(
                "Naloxone and overdoses, by region",
                (
                    Column("NALOXONE.kits.value", "Naloxone kits"),
                    Column("OVERDOSE.reported.value", "Overdoses"),
                    Column("OVERDOSE.reversed.value", "Reversed with naloxone"),
                ),
            ),
        ),
    ),
    Section(
        "hiv-care",
        "HIV care",
        "Everyone who ever tested HIV positive with us, up to {end}: on HIV treatment on "
        "that day, and virally suppressed (on treatment 6 months or more, latest viral "
        "load of the last 12 months below 1000 copies/mL).",
        (
            Headline("HIV.cascade.diagnosed", "people diagnosed with HIV"),
            Headline("HIV.cascade.on_art", "on HIV treatment"),
            Headline("HIV.cascade.suppressed", "virally suppressed"),
        ),
        (
            TableSpec(
                "HIV care, by region",
                (
                    Column("HIV.cascade.diagnosed", "Diagnosed"),
                    Column("HIV.cascade.on_art", "On treatment"),
                    Column("HIV.cascade.suppressed", "Virally suppressed"),
                ),
            ),
        ),
    ),
    Section(
        "hcv-care",
        "Hepatitis C care",
        "Everyone who ever had a positive hepatitis C antibody test with us, up to {end}: "
        "tested for the virus itself (RNA), found with a current infection, treated, "
        "and cured (not detected 12 weeks or more after treatment).",
        (
            Headline("HCV.cascade.antibody_positive", "people with hepatitis C antibodies"),
            Headline("HCV.cascade.rna_positive", "with a current infection"),
            Headline("HCV.cascade.treated", "treated"),
            Headline("HCV.cascade.cured", "cured"),
        ),
        (
            TableSpec(
                "Hepatitis C care, by region",
                (
                    Column("HCV.cascade.antibody_positive", "Antibodies"),
                    Column("HCV.cascade.rna_tested", "Tested for the virus"),
                    Column("HCV.cascade.rna_positive", "Current infection"),
                    Column("HCV.cascade.treated", "Treated"),
                    Column("HCV.cascade.cured", "Cured"),
                ),
            ),
        ),
    ),
)

KIND = {
    column.figure: column.kind
    for section in SECTIONS
    for table in section.tables
    for column in table.columns
}


@dataclass
class Row:
    name: str
    cells: list[Cell]


@dataclass
class Table:
    caption: str
    columns: tuple[Column, ...]
    rows: list[Row]
    total: Row


@dataclass
class BigFigure:
    number: Cell
    words: str
    of: tuple[Cell, Cell] | None
    of_words: str
    joiner: str


@dataclass
class Block:
    anchor: str
    title: str
    note: str
    figures: list[BigFigure]
    tables: list[Table]


def _row(name: str, figures: dict[str, Any], columns: tuple[Column, ...]) -> Row:
    return Row(name, [cell(c.figure, figures[c.figure], c.kind, c.label) for c in columns])


def _big(headline: Headline, total: dict[str, Any]) -> BigFigure:
    of = None
    if headline.of is not None:
        numerator, denominator = headline.of
        of = (
            cell(numerator, total[numerator], "count"),
            cell(denominator, total[denominator], "count"),
        )
    return BigFigure(
        cell(headline.figure, total[headline.figure], headline.kind),
        headline.words,
        of,
        headline.of_words,
        headline.joiner,
    )


def blocks(published: Published) -> list[Block]:
    """The page's sections: the programme's big figures, then a table by region."""
    end = dateformat.format(published.period.end, "j F Y")
    total = published.total
    return [
        Block(
            section.anchor,
            section.title,
            section.note.format(end=end),
            [_big(headline, total) for headline in section.headlines],
            [
                Table(
                    spec.caption,
                    spec.columns,
                    [
                        _row(region.name, published.rows[region.code], spec.columns)
                        for region in published.regions
                    ],
                    _row("Whole programme", total, spec.columns),
                )
                for spec in section.tables
            ],
        )
        for section in SECTIONS
    ]


# --- the period -------------------------------------------------------------------

QUARTER = re.compile(r"\d{4}Q[1-4]")


def quarter_label(period: Period) -> str:
    """ "Jul–Sep 2026" """
    first = dateformat.format(period.start, "M")
    last = dateformat.format(period.end, "M")
    return f"{first}–{last} {period.end.year}"


def choose_period(raw: str, today: dt.date) -> tuple[Period, list[Period], str]:
    """The quarter asked for, the quarters offered, and an error naming the field."""
    offered = complete_quarters(today)
    default = last_complete_quarter(today)
    raw = raw.strip()
    if not raw:
        return default, offered, ""
    shown = raw if len(raw) <= 20 else raw[:20] + "…"
    fallback = f"Showing {quarter_label(default)} instead."
    try:
        asked = parse_period(raw)
    except ValueError:
        return (
            default,
            offered,
            (
                f"Period: “{shown}” is not a quarter. Choose one from the list, "
                f"for example {default.code}. {fallback}"
            ),
        )
    if asked in offered:
        return asked, offered, ""
    if not QUARTER.fullmatch(asked.code):
        # A year or a month overlapping a published quarter would let one work out the
        # other's hidden figures by subtraction.
        why = "is not a quarter: the dashboard shows quarters only"
    elif asked.end >= today:
        why = "is not over yet: the dashboard shows complete quarters only"
    else:
        why = "is not one of the quarters listed"
    return default, offered, f"Period: {asked.code} {why}. {fallback}"


# --- the views --------------------------------------------------------------------


def _cacheable(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, public=True, max_age=CACHE_SECONDS)
    return response


@public
@require_GET
def community_dashboard(request: HttpRequest) -> HttpResponse:
    """The dashboard for one complete quarter (default: the last one)."""
    today = timezone.localdate()
    period, offered, error = choose_period(request.GET.get("period", ""), today)
    published = dashboard(period.code)
    k = published.k
    context = {
        "programme": Organisation.get().name,
        "period": period,
        "period_label": quarter_label(period),
        "offered": [(p.code, f"{quarter_label(p)} ({p.code[:4]} {p.code[4:]})") for p in offered],
        "error": error,
        "k": k,
        "k_less": k - 1,
        "small": f"<{k}",
        "blocks": blocks(published),
        "regions": bool(published.regions),
        "withheld": bool(published.withheld),
        "computed_at": published.computed_at,
        # The page is the same for everyone, and may be cached on the way: nothing of
        # whoever is signed in (their name, their sites, their messages) goes into it.
        "user": AnonymousUser(),
        "messages": [],
    }
    response = render(request, "public/community.html", context)
    return _cacheable(response)


CSV_HEADER = ["period", "start", "end", "region_code", "region", *[f.key for f in FIGURES]]


def _csv_text(text: str) -> str:
    # A name starting like a formula would run as one in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_value(value: Any) -> Any:
    return "" if value is None else value


@public
@require_GET
def community_dashboard_csv(request: HttpRequest) -> HttpResponse:
    """The dashboard's table as CSV: one row per region and one for the whole programme."""
    today = timezone.localdate()
    period, _offered, error = choose_period(request.GET.get("period", ""), today)
    if error:
        return HttpResponse(error + "\n", status=400, content_type="text/plain; charset=utf-8")
    published = dashboard(period.code)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    dates = [period.code, period.start.isoformat(), period.end.isoformat()]
    for region in published.regions:
        row = published.rows[region.code]
        writer.writerow(
            [
                *dates,
                _csv_text(region.code),
                _csv_text(region.name),
                *[_csv_value(row[f.key]) for f in FIGURES],
            ]
        )
    total = published.total
    writer.writerow([*dates, "", "Whole programme", *[_csv_value(total[f.key]) for f in FIGURES]])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="harbour-community-{period.code}.csv"'
    return _cacheable(response)
