"""population_estimates.csv: size estimates, keyed on (population, year, site).

The denominators of PRV.10.population and PRV.11.population (harbour.reports). The
file has no id: a programme has one estimate per population, year and site, and a
blank site is the whole programme. A row whose key is in Harbour with the same
estimate is unchanged, with another estimate a conflict; two rows with one key in
the file are an error. The site may be a region, as a region may have an estimate
of its own.

Estimates are few (a handful per year and site): they are compared in memory and
written with one bulk insert, with no audit entry each (the import's summary entry
counts them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harbour.exchange import values as v
from harbour.exchange.bundle import Table
from harbour.exchange.importers.base import Context, Importer
from harbour.reports.models import Population, PopulationEstimate

POPULATIONS = tuple(Population.values)
EARLIEST_YEAR = 1900
# Fits PopulationEstimate.estimate; a larger number is surely a typing error.
MAX_ESTIMATE = 1_000_000_000
_YEAR = re.compile(r"^\d{4}$")

Key = tuple[str, int, str]  # population, year, site code ("" for the whole programme)


@dataclass(slots=True)
class EstimateRow:
    line: int
    population: str
    year: int
    site: str
    estimate: int


class PopulationEstimatesImporter(Importer):
    file_name = "population_estimates.csv"
    required = ("population", "year", "estimate")
    # Blank for the whole programme; a file of programme estimates may leave it out.
    optional = ("site",)

    def __init__(self) -> None:
        super().__init__()
        self.new: list[EstimateRow] = []

    def check(self, table: Table, ctx: Context) -> None:
        latest = ctx.today.year + 10

        def year(text: str) -> int:
            if not _YEAR.match(v.required(text)):
                raise v.Invalid("use four digits, such as 2024.")
            value = int(text)
            if not EARLIEST_YEAR <= value <= latest:
                raise v.Invalid(f"must be between {EARLIEST_YEAR} and {latest}.")
            return value

        def site(text: str) -> str:
            code = v.optional_site_code(text)
            if code and code not in ctx.sites:
                raise v.Invalid(f"unknown site {code}: not in sites.csv nor in Harbour.")
            return code

        def estimate(text: str) -> int:
            return v.whole_number(text, minimum=1, maximum=MAX_ESTIMATE)

        rows: list[EstimateRow] = []
        first: dict[Key, int] = {}
        for row in table.rows:
            before = len(ctx.errors)
            population = ctx.cell(table, row, "population", lambda t: v.choice(t, POPULATIONS))
            when = ctx.cell(table, row, "year", year)
            where = ctx.cell(table, row, "site", site)
            value = ctx.cell(table, row, "estimate", estimate)
            if len(ctx.errors) > before:
                continue
            assert population is not None and when is not None
            assert where is not None and value is not None
            key = (population, when, where)
            if key in first:
                ctx.error(
                    table.name,
                    row.line,
                    "population",
                    f"the same population, year and site as line {first[key]}.",
                )
                continue
            first[key] = row.line
            rows.append(EstimateRow(row.line, population, when, where, value))
        self._compare(table, ctx, rows)

    def _compare(self, table: Table, ctx: Context, rows: list[EstimateRow]) -> None:
        stored: dict[Key, int] = {
            (population, year, code or ""): value
            for population, year, code, value in PopulationEstimate.objects.values_list(
                "population", "year", "site__code", "estimate"
            )
        }
        for row in rows:
            found = stored.get((row.population, row.year, row.site))
            if found is None:
                self.new.append(row)
                self.counts.created += 1
            elif found == row.estimate:
                self.counts.unchanged += 1
            else:
                self.counts.conflicts += 1
                where = f"site {row.site}" if row.site else "the whole programme"
                ctx.conflict(
                    table.name,
                    row.line,
                    "estimate",
                    f"the {row.population} estimate of {row.year} for {where} is {found} "
                    f"here; the bundle says {row.estimate}.",
                )

    def apply(self, ctx: Context) -> None:
        estimates = []
        for row in self.new:
            site_id = ctx.sites[row.site].id if row.site else None
            assert site_id is not None or not row.site, "the sites importer creates sites first"
            estimates.append(
                PopulationEstimate(
                    population=row.population,
                    year=row.year,
                    site_id=site_id,
                    estimate=row.estimate,
                )
            )
        PopulationEstimate.objects.bulk_create(estimates)
