"""The figures Harbour publishes: the community dashboard and ``harbour indicators --public``.

The dashboard shows the main indicators region by region (a region counts every site
below it, as ``compute(period, region_code)`` does) with the whole programme as each
column's total. Published figures pass through small-cell suppression (indicator
definitions, "Published figures"; harbour.lib.suppression): a count from 1 to k−1 is
``<k``, and complementary cells are hidden (``*``) so no small count can be worked
out by subtraction.

Everything that is published is suppressed in one ``Publication``, as the suppression
module asks: the programme's whole report (what ``harbour indicators --public``
prints, ``by`` groups and all), and each region's dashboard figures, with these
relations between them:

- within each report, the relations ``suppress_indicators`` knows (a numerator within
  its denominator, a cascade's steps, ``by`` groups adding up, figures that count the
  same people);
- each figure of the programme is the total of the regions' (and a region with
  regions below it, the total of theirs). Distinct people do not always add up: a
  person served in two regions is one person in the programme, and people at sites
  outside any region are in the programme only. ``Publication.adds_up`` models the
  gap as an unseen count of its own and protects it too.

So the programme figures on the page and in the command's JSON are the same, hidden
the same way: a figure shown in one and hidden in the other would give the hidden
cell away. With no region, the output is exactly ``suppress_report``'s.

Only complete quarters go on the dashboard: a year or a month overlapping a published
quarter would make figures that add up over time (needles and syringes, naloxone
kits, overdoses) totals of each other, and those totals are not protected here.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Min

from harbour.lib.periods import Period, parse_period
from harbour.lib.suppression import (
    DEFAULT_K,
    HIDDEN,
    NOT_NESTED,
    SAME,
    SAME_BY,
    WITHIN,
    Publication,
    Shown,
)
from harbour.reports.indicators import compute
from harbour.sites.models import Site, SiteKind
from harbour.visits.models import Contact

# How long a computed dashboard is kept: the page is public, and each view would
# otherwise compute every indicator for every region.
CACHE_SECONDS = 300
# Quarters offered by the period chooser, at most (ten years).
MAX_QUARTERS = 40

Scope = tuple[str, ...]  # ("programme",) or ("region", code)
PROGRAMME: Scope = ("programme",)
# A region's figure not shown at all, as statistics offices mark a confidential cell.
WITHHELD = "x"


def min_cell() -> int:
    """k: the smallest count published as itself (settings.PUBLIC_MIN_CELL, default 5)."""
    return int(getattr(settings, "PUBLIC_MIN_CELL", DEFAULT_K))


def check_k(k: int) -> int:
    """``k`` if suppression can use it; a ValueError saying why otherwise."""
    Publication(k)
    return k


@dataclass(frozen=True)
class Figure:
    """One figure of the dashboard, a column of its table and of the CSV."""

    key: str  # the CSV column: "PRV.8.numerator", "HIV.cascade.on_art"
    indicator: str  # "PRV.8"
    part: str  # "numerator", "denominator", "value", or a cascade's step

    @property
    def is_count(self) -> bool:
        """A count of people or of things handed out; a ratio's value is not one."""
        return self.part != "value" or self.indicator in COUNT_VALUES


def _ratio(indicator: str) -> tuple[Figure, ...]:
    return tuple(
        Figure(f"{indicator}.{part}", indicator, part)
        for part in ("numerator", "denominator", "value")
    )


def _value(indicator: str) -> Figure:
    return Figure(f"{indicator}.value", indicator, "value")


def _cascade(indicator: str, steps: Iterable[str]) -> tuple[Figure, ...]:
    return tuple(Figure(f"{indicator}.{step}", indicator, step) for step in steps)


RATIOS = ("PRV.8", "PRV.10", "PRV.11", "HTS.PWID")
COUNT_VALUES = ("NALOXONE.kits", "OVERDOSE.reported", "OVERDOSE.reversed")
CASCADES = {
    "HIV.cascade": ("diagnosed", "on_art", "suppressed"),
    "HCV.cascade": ("antibody_positive", "rna_tested", "rna_positive", "treated", "cured"),
}

# What the dashboard shows for each region and the programme: the indicators a
# community of people who use drugs asks about first.
FIGURES: tuple[Figure, ...] = (
    *itertools.chain.from_iterable(_ratio(key) for key in RATIOS),
    *(_value(key) for key in COUNT_VALUES),
    *itertools.chain.from_iterable(_cascade(key, steps) for key, steps in CASCADES.items()),
)
BY_KEY = {f.key: f for f in FIGURES}


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    parent: str | None  # the code of the nearest region above it, if any


@dataclass
class Published:
    """The dashboard's figures for one period, suppressed together."""

    period: Period
    k: int
    regions: list[Region]
    rows: dict[str, dict[str, Any]]  # region code → figure key → shown
    total: dict[str, Any]  # the programme's figures, as on the page
    report: dict[str, Any]  # the programme's whole JSON, as ``--public`` prints it
    computed_at: dt.datetime
    # Figures whose regions' cells are withheld (WITHHELD): see ``withheld_columns``.
    withheld: list[str] = field(default_factory=list)
    unavoidable: list[str] = field(default_factory=list)  # see Publication.unavoidable


# --- regions ----------------------------------------------------------------------


def regions() -> list[Region]:
    """Every active region, each with the nearest region above it, by name."""
    rows = list(Site.objects.values_list("pk", "code", "name", "kind", "parent_id", "active"))
    by_id = {pk: (code, kind, parent) for pk, code, _name, kind, parent, _active in rows}

    def region_above(parent_id: int | None) -> str | None:
        seen: set[int] = set()
        while parent_id is not None and parent_id not in seen:
            seen.add(parent_id)
            code, kind, parent_id_next = by_id[parent_id]
            if kind == SiteKind.REGION:
                return code
            parent_id = parent_id_next
        return None

    found = [
        Region(code, name, region_above(parent))
        for _pk, code, name, kind, parent, active in rows
        if kind == SiteKind.REGION and active
    ]
    return sorted(found, key=lambda r: (r.name.lower(), r.code))


# --- periods ----------------------------------------------------------------------


def quarter_of(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def last_complete_quarter(today: dt.date) -> Period:
    """The latest quarter that ended before ``today``."""
    current = parse_period(quarter_of(today))
    return parse_period(quarter_of(current.start - dt.timedelta(days=1)))


def complete_quarters(today: dt.date) -> list[Period]:
    """The quarters the dashboard offers, newest first: every complete quarter back to
    the one of the earliest contact (at most MAX_QUARTERS), or the last four."""
    first = Contact.objects.aggregate(first=Min("date"))["first"]
    latest = last_complete_quarter(today)
    quarters = [latest]
    while len(quarters) < MAX_QUARTERS:
        earlier = last_complete_quarter(quarters[-1].start)
        if first is None and len(quarters) >= 4:
            break
        if first is not None and earlier.end < first:
            break
        quarters.append(earlier)
    return quarters


# --- the raw figures --------------------------------------------------------------


@dataclass
class Raw:
    """What compute() says for the programme and each region, before suppression."""

    period: Period
    regions: list[Region]
    programme: dict[str, Any]  # the indicators of compute(period)
    by_region: dict[str, dict[str, Any]]  # code → indicators of compute(period, code)


def raw_figures(period: str, region_list: list[Region] | None = None) -> Raw:
    """Raises PeriodError (harbour.reports.indicators) for a period that is not one."""
    whole = compute(period)
    found = parse_period(whole["period"])
    region_list = regions() if region_list is None else region_list
    return Raw(
        period=found,
        regions=region_list,
        programme=whole["indicators"],
        by_region={r.code: compute(found.code, r.code)["indicators"] for r in region_list},
    )


def dashboard_part(indicators: Mapping[str, Any]) -> dict[str, Any]:
    """The dashboard's indicators out of a whole report, without ``by`` groups."""
    part: dict[str, Any] = {}
    for f in FIGURES:
        obj = indicators[f.indicator]
        part.setdefault(f.indicator, {})[f.part] = obj[f.part]
    return part


def figure_values(indicators: Mapping[str, Any]) -> dict[str, Any]:
    """{figure key: value} of the dashboard's figures out of an indicators object."""
    return {f.key: indicators[f.indicator][f.part] for f in FIGURES}


# --- suppression ------------------------------------------------------------------
#
# The relations below are those of harbour.lib.suppression.suppress_indicators, with
# each figure's name prefixed by its scope, so that several reports go into one
# Publication. Counted in the same order, so that a programme without regions is
# suppressed exactly as suppress_report would (tests/test_public_dashboard.py checks).


def _add_report(publication: Publication, scope: Scope, indicators: Mapping[str, Any]) -> None:
    for key, obj in indicators.items():
        _add(publication, (*scope, key), key, obj, nested=key not in NOT_NESTED)
    for one, other in SAME:
        names = [(*scope, *one), (*scope, *other)]
        if all(name in publication for name in names):
            publication.same(*names)
    for first, second in SAME_BY:
        if first in indicators and second in indicators:
            for dimension, groups in indicators[first].get("by", {}).items():
                for group in groups:
                    pair = [
                        (*scope, key, "by", dimension, group, "denominator")
                        for key in (first, second)
                    ]
                    if all(name in publication for name in pair):
                        publication.same(*pair)
    for part, whole in WITHIN:
        names = [(*scope, *part), (*scope, *whole)]
        if all(name in publication for name in names):
            publication.within(*names)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _add(
    publication: Publication,
    prefix: tuple[str, ...],
    key: str,
    obj: Mapping[str, Any],
    *,
    nested: bool,
) -> None:
    if key.endswith(".cascade"):
        for step in obj:
            publication.count((*prefix, step), obj[step])
        for before, after in itertools.pairwise(obj):
            publication.within((*prefix, after), (*prefix, before))
    elif "numerator" in obj:
        unknown = set(obj) - {"numerator", "denominator", "value", "by"}
        if unknown:
            raise ValueError(f"{key}: unknown parts {sorted(unknown)} would be published as is.")
        _add_ratio(publication, prefix, obj, nested=nested)
        for dimension, groups in obj.get("by", {}).items():
            for group, part in groups.items():
                _add_ratio(publication, (*prefix, "by", dimension, group), part, nested=nested)
            for side in ("numerator", "denominator"):
                publication.adds_up(
                    (*prefix, side), [(*prefix, "by", dimension, group, side) for group in groups]
                )
    elif set(obj) == {"value"}:
        if _is_count(obj["value"]):
            publication.count((*prefix, "value"), obj["value"])
    else:
        raise ValueError(f"{key}: not a ratio, a value or a cascade: {sorted(obj)}.")


def _add_ratio(
    publication: Publication, prefix: tuple[str, ...], obj: Mapping[str, Any], *, nested: bool
) -> None:
    for side in ("numerator", "denominator"):
        publication.count((*prefix, side), obj[side])
    if nested:
        publication.within((*prefix, "numerator"), (*prefix, "denominator"))


def _render(
    shown: Mapping[Hashable, Shown], prefix: tuple[str, ...], key: str, obj: Mapping[str, Any]
) -> dict[str, Any]:
    if key.endswith(".cascade"):
        return {step: shown[(*prefix, step)] for step in obj}
    if "numerator" in obj:
        out = _render_ratio(shown, prefix, obj)
        if "by" in obj:
            out["by"] = {
                dimension: {
                    group: _render_ratio(shown, (*prefix, "by", dimension, group), part)
                    for group, part in groups.items()
                }
                for dimension, groups in obj["by"].items()
            }
        return out
    if _is_count(obj["value"]):
        return {"value": shown[(*prefix, "value")]}
    return {"value": obj["value"]}


def _render_ratio(
    shown: Mapping[Hashable, Shown], prefix: tuple[str, ...], obj: Mapping[str, Any]
) -> dict[str, Any]:
    numerator = shown[(*prefix, "numerator")]
    denominator = shown[(*prefix, "denominator")]
    both = _is_count(numerator) and _is_count(denominator)
    return {
        "numerator": numerator,
        "denominator": denominator,
        # A value is shown only where both its figures are: it would give either away.
        "value": obj.get("value") if both else HIDDEN,
    }


def _count_names(scope: Scope) -> list[tuple[str, ...]]:
    """The names of the dashboard's counts in ``scope``: what adds up over regions."""
    return [(*scope, f.indicator, f.part) for f in FIGURES if f.is_count]


def _region(code: str) -> Scope:
    return ("region", code)


def publish(raw: Raw, k: int | None = None) -> Published:
    """Suppress the programme's report and every region's dashboard figures together."""
    k = min_cell() if k is None else k
    publication = Publication(k)
    _add_report(publication, PROGRAMME, raw.programme)
    parts = {r.code: dashboard_part(raw.by_region[r.code]) for r in raw.regions}
    for r in raw.regions:
        _add_report(publication, _region(r.code), parts[r.code])
    # Each figure of the programme (and of a region with regions below it) is the total
    # of the regions' directly below it.
    below: dict[Scope, list[Scope]] = {}
    for r in raw.regions:
        parent = PROGRAMME if r.parent is None or r.parent not in parts else _region(r.parent)
        below.setdefault(parent, []).append(_region(r.code))
    for scope, children in below.items():
        for index, name in enumerate(_count_names(scope)):
            publication.adds_up(name, [_count_names(child)[index] for child in children])

    shown = publication.shown()
    report = {
        key: _render(shown, (*PROGRAMME, key), key, obj) for key, obj in raw.programme.items()
    }
    withheld = withheld_columns(publication.unavoidable)
    rows = {
        r.code: _withhold(
            figure_values(
                {
                    key: _render(shown, (*_region(r.code), key), key, obj)
                    for key, obj in parts[r.code].items()
                }
            ),
            withheld,
        )
        for r in raw.regions
    }
    return Published(
        period=raw.period,
        k=k,
        regions=raw.regions,
        rows=rows,
        total=figure_values(report),
        report=report,
        computed_at=dt.datetime.now(dt.UTC),
        withheld=sorted(withheld),
        unavoidable=sorted(repr(name) for name in publication.unavoidable),
    )


def withheld_columns(unavoidable: Iterable[Hashable]) -> set[str]:
    """The dashboard's figures whose regions' cells are not shown at all.

    Where every figure linked to a small count is already a marker, the markers alone
    can tell it (with k = 5, four regions of ``<5`` and a programme total of ``<5``
    must each be 1), and nothing is left to hide (Publication.unavoidable). The
    regions' cells of that figure are then withheld, all of them, and the programme's
    figure stays as ``--public`` prints it: with the regions unknown, the column no
    longer pins anything. Withholding only takes knowledge away, so no figure that
    was protected becomes exposed.
    """
    found = set()
    for name in unavoidable:
        if not isinstance(name, tuple) or not all(isinstance(part, str) for part in name):
            continue  # people between two figures: their figures are named as well
        scope = name[:1] if name[:1] == PROGRAMME else name[:2]
        if name[0] in ("programme", "region") and len(name) == len(scope) + 2:
            key = f"{name[-2]}.{name[-1]}"
            if key in BY_KEY:
                found.add(key)
    return found


def _withhold(row: dict[str, Any], withheld: set[str]) -> dict[str, Any]:
    for key in withheld:
        row[key] = WITHHELD
        indicator = BY_KEY[key].indicator
        if indicator in RATIOS:  # a value that would give the withheld side away
            row[f"{indicator}.value"] = WITHHELD
    return row


def public_report(period: str, k: int | None = None) -> dict[str, Any]:
    """The JSON of ``harbour indicators --public``: the programme's report, suppressed
    together with the dashboard's regions (see the module's docstring)."""
    published = publish(raw_figures(period), k)
    found = published.period
    return {
        "period": found.code,
        "start": found.start.isoformat(),
        "end": found.end.isoformat(),
        "site": None,
        "indicators": published.report,
    }


def dashboard(period: str, k: int | None = None) -> Published:
    """The dashboard for a period, computed at most once every CACHE_SECONDS."""
    k = min_cell() if k is None else k
    key = f"harbour:community-dashboard:{parse_period(period).code}:{k}"
    found = cache.get(key)
    if isinstance(found, Published):
        return found
    published = publish(raw_figures(period), k)
    cache.set(key, published, CACHE_SECONDS)
    return published
