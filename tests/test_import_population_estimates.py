"""`harbour import-bundle` with population_estimates.csv: the denominators of PRV.10.population
and PRV.11.population.

The cast's tree is in Harbour (REG-A with North NTH-01 and South STH-01); the bundle
adds region REG-B with East (EST-01).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from harbour.reports.indicators import compute
from harbour.reports.models import PopulationEstimate
from harbour.sites.models import Site
from tests.factory import Cast
from tests.test_import_bundle import CLIENTS, SITES, bundle, run, run_failing

ESTIMATES = """population,year,site,estimate
pwid,2024,,12000
opioid_dependent,2024,,9000
pwid,2024,NTH-01,800
PWID,2025,REG-B,1500
opioid_dependent,2025,EST-01,400
"""


def estimates_bundle(folder: Path, estimates: str = ESTIMATES) -> Path:
    return bundle(folder, sites=SITES, clients=CLIENTS, population_estimates=estimates)


def stored() -> set[tuple[str, int, str | None, int]]:
    return set(
        PopulationEstimate.objects.values_list("population", "year", "site__code", "estimate")
    )


def test_estimates_for_the_programme_a_region_and_sites_are_imported(
    cast: Cast, tmp_path: Path
) -> None:
    outcome = run(estimates_bundle(tmp_path))

    assert "population_estimates.csv: 5 created, 0 unchanged, 0 conflicting" in outcome.stdout
    # A blank site is the whole programme; REG-B and EST-01 come from the bundle itself.
    assert stored() == {
        ("pwid", 2024, None, 12000),
        ("opioid_dependent", 2024, None, 9000),
        ("pwid", 2024, "NTH-01", 800),
        ("pwid", 2025, "REG-B", 1500),
        ("opioid_dependent", 2025, "EST-01", 400),
    }


def test_importing_the_same_estimates_twice_changes_nothing(cast: Cast, tmp_path: Path) -> None:
    run(estimates_bundle(tmp_path))

    outcome = run(estimates_bundle(tmp_path), "--format", "json")

    assert json.loads(outcome.stdout)["files"]["population_estimates.csv"] == {
        "created": 0,
        "unchanged": 5,
        "conflicts": 0,
    }
    assert PopulationEstimate.objects.count() == 5


def test_another_estimate_for_the_same_population_year_and_site_is_a_conflict(
    cast: Cast, tmp_path: Path
) -> None:
    run(estimates_bundle(tmp_path / "first"))
    changed = ESTIMATES.replace("pwid,2024,,12000", "pwid,2024,,13000").replace(
        "pwid,2024,NTH-01,800", "pwid,2024,NTH-01,850"
    )
    more = changed + "pwid,2023,,11000\n"

    outcome = run(estimates_bundle(tmp_path / "second", more))

    assert outcome.lines[1:] == [
        "population_estimates.csv:2: estimate: conflict: the pwid estimate of 2024 for the "
        "whole programme is 12000 here; the bundle says 13000.",
        "population_estimates.csv:4: estimate: conflict: the pwid estimate of 2024 for site "
        "NTH-01 is 800 here; the bundle says 850.",
    ]
    assert "population_estimates.csv: 1 created, 3 unchanged, 2 conflicting" in outcome.stdout
    # Harbour's estimates are kept; the new year is added.
    assert ("pwid", 2024, None, 12000) in stored()
    assert ("pwid", 2024, "NTH-01", 800) in stored()
    assert ("pwid", 2023, None, 11000) in stored()


def test_every_invalid_row_is_listed_and_nothing_at_all_is_written(
    cast: Cast, tmp_path: Path
) -> None:
    bad = """population,year,site,estimate
people_who_use_drugs,2024,,100
pwid,24,,100
pwid,2024,NTH-99,100
pwid,2025,,0
opioid_dependent,2025,,1.5e3
pwid,2026,STH-01,300
pwid,2026,STH-01,310
opioid_dependent,1850,,
"""

    outcome = run_failing(estimates_bundle(tmp_path, bad))

    assert outcome.lines == [
        "population_estimates.csv:2: population: use one of pwid, opioid_dependent.",
        "population_estimates.csv:3: year: use four digits, such as 2024.",
        "population_estimates.csv:4: site: unknown site NTH-99: not in sites.csv nor in Harbour.",
        "population_estimates.csv:5: estimate: must be between 1 and 1000000000.",
        "population_estimates.csv:6: estimate: use a whole number written with digits only, "
        "such as 10.",
        "population_estimates.csv:8: population: the same population, year and site as line 7.",
        f"population_estimates.csv:9: year: must be between 1900 and {dt.date.today().year + 10}.",
        "population_estimates.csv:9: estimate: required; the cell is blank.",
    ]
    assert "nothing was written" in outcome.error
    # All or nothing: not even the bundle's valid sites, clients or estimates.
    assert PopulationEstimate.objects.count() == 0
    assert not Site.objects.filter(code="EST-01").exists()


def test_a_file_of_programme_estimates_may_leave_out_the_site_column(
    cast: Cast, tmp_path: Path
) -> None:
    run(estimates_bundle(tmp_path, "population,year,estimate\npwid,2025,5000\n"))

    assert stored() == {("pwid", 2025, None, 5000)}


def test_an_unknown_column_in_the_estimates_is_refused(cast: Cast, tmp_path: Path) -> None:
    outcome = run_failing(
        estimates_bundle(tmp_path, "population,year,site,estimate,method\npwid,2025,,5000,RDS\n")
    )

    assert outcome.lines[0] == (
        "population_estimates.csv:1: method: unknown column; this file's columns are "
        "estimate, population, site, year."
    )


def test_a_dry_run_writes_no_estimate(cast: Cast, tmp_path: Path) -> None:
    outcome = run(estimates_bundle(tmp_path), "--dry-run")

    assert "population_estimates.csv: 5 created" in outcome.stdout
    assert PopulationEstimate.objects.count() == 0


def test_imported_estimates_are_the_denominators_of_the_population_indicators(
    cast: Cast, tmp_path: Path
) -> None:
    run(estimates_bundle(tmp_path))

    # No N/S and nobody on OST: numerators 0 over the 2024 programme estimates.
    indicators = compute("2024Q4")["indicators"]
    assert indicators["PRV.10.population"] == {"numerator": 0, "denominator": 12000, "value": 0.0}
    assert indicators["PRV.11.population"] == {"numerator": 0, "denominator": 9000, "value": 0.0}
    # East has an opioid_dependent estimate for 2025 only, and no pwid one.
    east = compute("2025", "EST-01")["indicators"]
    assert east["PRV.11.population"]["denominator"] == 400
    assert "PRV.10.population" not in east
