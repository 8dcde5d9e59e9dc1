"""The HIV and hepatitis C cascades as charts: where people are lost, site by site.

Counts only, no client records: the page needs Cap.AGGREGATES, and shows one block
for the user's whole scope, then one per site in it (a site whose block would repeat
the whole scope's is left out).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import dateformat, timezone

from harbour.accounts import access
from harbour.accounts.access import Cap, requires
from harbour.ost.indicators import SiteIds
from harbour.sites.models import Site, descendants_map
from harbour.testing.cascades import cascades_by_site, hcv_cascade, hiv_cascade

# The earliest "as of" date the page accepts: HIV was first described in 1981, and the
# windows of the definitions reach a year back from E.
EARLIEST = dt.date(1980, 1, 1)


@dataclass(frozen=True)
class Stage:
    """A step of a cascade, and how to speak of the people lost on the way to it."""

    key: str
    label: str
    note: str  # what the step means, in a few words
    group: str  # the people of this step, after "12 of 40 …": "diagnosed", "on ART"
    # From the step before to this one, of the people of the step before:
    lost_one: str = ""  # "1 of 40 diagnosed is not on ART"
    lost_many: str = ""  # "12 of 40 diagnosed are not on ART"
    all_one: str = ""  # "The one person diagnosed is on ART"
    all_many: str = ""  # "All 40 diagnosed are on ART"
    # Not a loss: people without a positive RNA result have no infection to treat.
    neutral: bool = False


HIV_STAGES = (
    Stage("diagnosed", "Diagnosed", "a positive HIV test", "diagnosed"),
    Stage(
        "on_art",
        "On ART",
        "HIV treatment running on the day",
        "on ART",
        "is not on ART",
        "are not on ART",
        "is on ART",
        "are on ART",
    ),
    Stage(
        "suppressed",
        "Virally suppressed",
        "on ART 6 months or more, latest viral load of the last 12 months below 1000 copies/mL",
        "suppressed",
        "is not virally suppressed",
        "are not virally suppressed",
        "is virally suppressed",
        "are virally suppressed",
    ),
)

HCV_STAGES = (
    Stage(
        "antibody_positive", "Antibody positive", "a positive antibody test", "antibody positive"
    ),
    Stage(
        "rna_tested",
        "RNA tested",
        "an RNA test, any result",
        "RNA tested",
        "has had no RNA test",
        "have had no RNA test",
        "has had an RNA test",
        "have had an RNA test",
    ),
    Stage(
        "rna_positive",
        "RNA positive",
        "a positive RNA test: a current infection",
        "RNA positive",
        "had no positive RNA result",
        "had no positive RNA result",
        "had a positive RNA result",
        "had a positive RNA result",
        neutral=True,
    ),
    Stage(
        "treated",
        "Treated",
        "hepatitis C treatment started",
        "treated",
        "has not started treatment",
        "have not started treatment",
        "has started treatment",
        "have started treatment",
    ),
    Stage(
        "cured",
        "Cured",
        "treatment completed, not detected 12 weeks or more after its end",
        "cured",
        "is not confirmed cured",
        "are not confirmed cured",
        "is confirmed cured",
        "are confirmed cured",
    ),
)


def day_text(day: dt.date) -> str:
    return dateformat.format(day, "j M Y")


def percent(part: int, whole: int) -> int:
    """part / whole as a whole percentage, halves rounding up; 0 without a whole."""
    if not whole:
        return 0
    exact = Decimal(100 * part) / Decimal(whole)
    return int(exact.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def bar_width(part: int, whole: int) -> int:
    """A bar's width class (0–100): never 0 for someone, never 100 for less than all."""
    if not whole or not part:
        return 0
    return min(max(percent(part, whole), 1), 100 if part >= whole else 99)


def drop_sentence(stage: Stage, before: Stage, previous: int, count: int) -> str:
    """ "12 of 40 diagnosed are not on ART"; empty when nobody reached the step before."""
    if not previous:
        return ""
    lost = previous - count
    if lost == 0:
        if previous == 1:
            return f"The one person {before.group} {stage.all_one}"
        return f"All {previous} {before.group} {stage.all_many}"
    verb = stage.lost_one if lost == 1 else stage.lost_many
    return f"{lost} of {previous} {before.group} {verb}"


@dataclass
class StepRow:
    stage: Stage
    count: int
    share: str  # of the first step, e.g. "70%"; "" for the first step itself
    track: int  # the bar's track: the step before, as a share of the first step
    fill: int  # the people of this step, as a share of the track
    drop: str  # the sentence on the people lost since the step before
    lost: int
    last: bool


@dataclass
class Chart:
    title: str
    first_group: str
    empty: str  # said instead of the chart when nobody is at the first step
    rows: list[StepRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.rows[0].count if self.rows else 0


def chart(title: str, stages: tuple[Stage, ...], counts: dict[str, int], empty: str) -> Chart:
    first = counts[stages[0].key]
    made = Chart(title, stages[0].group, empty)
    previous = first
    for index, stage in enumerate(stages):
        count = counts[stage.key]
        share = ""
        if index:
            part = percent(count, first)
            share = "<1%" if count and not part else f"{part}%"
        made.rows.append(
            StepRow(
                stage=stage,
                count=count,
                share=share,
                track=bar_width(previous, first),
                fill=bar_width(count, previous),
                drop=drop_sentence(stage, stages[index - 1], previous, count) if index else "",
                lost=previous - count if index else 0,
                last=index == len(stages) - 1,
            )
        )
        previous = count
    return made


@dataclass
class Block:
    anchor: str
    title: str
    code: str
    hiv: Chart
    hcv: Chart

    @property
    def charts(self) -> tuple[Chart, Chart]:
        return self.hiv, self.hcv


def block(
    anchor: str, title: str, code: str, end: dt.date, hiv: dict[str, int], hcv: dict[str, int]
) -> Block:
    day = day_text(end)
    return Block(
        anchor,
        title,
        code,
        chart("HIV", HIV_STAGES, hiv, f"No positive HIV test recorded up to {day}."),
        chart(
            "Hepatitis C",
            HCV_STAGES,
            hcv,
            f"No positive hepatitis C antibody test recorded up to {day}.",
        ),
    )


def parse_end(raw: str, today: dt.date) -> tuple[dt.date, str]:
    """The "as of" day from the `end` parameter, and an error message (default: today)."""
    raw = raw.strip()
    if not raw:
        return today, ""
    shown = raw if len(raw) <= 30 else raw[:30] + "…"
    fallback = f"Showing the cascades as of today, {day_text(today)}."
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return today, (
            f"“{shown}” is not a date: write it as year-month-day, "
            f"for example {today.isoformat()}. {fallback}"
        )
    if day > today:
        return today, f"{day_text(day)} is after today: a cascade counts what happened. {fallback}"
    if day < EARLIEST:
        return today, f"Choose a date from {day_text(EARLIEST)} on. {fallback}"
    return day, ""


def tree_order(sites: list[Site]) -> list[tuple[int, Site]]:
    """The sites as in the site tree: each under its parent, by name; with their depth."""
    ids = {site.pk for site in sites}
    children: dict[int | None, list[Site]] = {}
    for site in sites:
        # A site whose parent is not listed stands at the top of what is shown.
        children.setdefault(site.parent_id if site.parent_id in ids else None, []).append(site)
    ordered: list[tuple[int, Site]] = []

    def walk(parent: int | None, depth: int) -> None:
        for site in sorted(children.get(parent, []), key=lambda s: (s.name.lower(), s.code)):
            ordered.append((depth, site))
            walk(site.pk, depth + 1)

    walk(None, 0)
    return ordered


@requires(Cap.AGGREGATES)
def cascades(request: HttpRequest) -> HttpResponse:
    """Both cascades as of a day, for the whole scope and for each of its sites."""
    today = timezone.localdate()
    end, error = parse_end(request.GET.get("end", ""), today)
    scope = access.scope(request.user, Cap.AGGREGATES)
    tree = descendants_map()
    listed = tree_order(list(scope.filter(Site.objects.filter(active=True), field="id")))
    whole: SiteIds = None if scope.everywhere else set(scope.site_ids)
    whole_ids = set(tree) if whole is None else whole

    # A site's block repeats the whole scope's when the scope is that site and the sites
    # below it: it then gives the whole block its name instead.
    title = "The whole programme" if scope.everywhere else "All your sites"
    code = ""
    shown: list[tuple[Site, set[int]]] = []
    for _depth, site in listed:
        below = tree.get(site.pk, {site.pk})
        if below == whole_ids:
            title, code = site.name, site.code
        else:
            shown.append((site, below))
    # Sites with nothing below them are counted together, in a few grouped queries;
    # a site with sites below it (a region) counts its people once across them all.
    alone = cascades_by_site(end, [site.pk for site, below in shown if below == {site.pk}])
    blocks = [block("whole", title, code, end, hiv_cascade(end, whole), hcv_cascade(end, whole))]
    for site, below in shown:
        if site.pk in alone:
            hiv, hcv = alone[site.pk]["hiv"], alone[site.pk]["hcv"]
        else:
            hiv, hcv = hiv_cascade(end, below), hcv_cascade(end, below)
        blocks.append(block(f"site-{site.code}", site.name, site.code, end, hiv, hcv))
    return render(
        request,
        "testing/cascades.html",
        {
            "blocks": blocks,
            "end": end,
            "today": today,
            "earliest": EARLIEST,
            "error": error,
        },
    )
