"""`harbour indicators`: every indicator of the definitions, each figure counted by hand.

The period is 2025Q1 unless a test says otherwise: S = 2025-01-01, E = 2025-03-31,
three calendar months. Ages are E's year minus the birth year: born 2001 is 24
(`<25`), born 2000 is 25 (`25+`). The cast's tree (REG-A with North NTH-01 and
South STH-01) gets an outreach site below North (NTH-OUT) and a second region
REG-B with East (EST-01).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import dataclass
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from harbour.clients.models import Client
from harbour.reports.indicators import PeriodError, SiteError, compute
from harbour.reports.models import PopulationEstimate
from harbour.sites.models import Site, SiteKind
from harbour.testing.models import Test as LabTest
from harbour.testing.models import Treatment, ViralLoad
from harbour.visits.models import CatalogueItem, Contact, Distribution, Overdose
from tests.factory import Cast, make_client, make_site
from tests.test_ost_indicators import dose, episode

D = dt.date
DAY = dt.timedelta(days=1)
S, E = D(2025, 1, 1), D(2025, 3, 31)
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_names = itertools.product(LETTERS, LETTERS)

NONE = {"numerator": 0, "denominator": 0, "value": None}
GENDERS = ("female", "male", "transgender", "other", "unknown")
AGES = ("<25", "25+", "unknown")


@dataclass
class World:
    region: Site
    north: Site
    north_outreach: Site  # below North
    south: Site
    other_region: Site
    east: Site


@pytest.fixture
def world(cast: Cast) -> World:
    outreach = make_site("NTH-OUT", SiteKind.OUTREACH, parent=cast.north)
    other = make_site("REG-B", SiteKind.REGION)
    east = make_site("EST-01", parent=other)
    return World(cast.region, cast.north, outreach, cast.south, other, east)


def person(site: Site, **profile: Any) -> Client:
    """A client with a UIC of their own. By default: female, born 1989, injects drugs."""
    first, second = next(_names)
    return make_client(site, mother=first + second, father=second + first, **profile)


def item(code: str) -> CatalogueItem:
    found, _ = CatalogueItem.objects.get_or_create(code=code, defaults={"name": code})
    return found


def visit(
    site: Site,
    day: dt.date,
    client: Client | None = None,
    *,
    secondary: bool = False,
    **handed_out: int,
) -> Contact:
    """A contact, anonymous without ``client``, with what was handed out: needle_syringe=10."""
    contact = Contact.objects.create(site=site, date=day, client=client)
    for code, quantity in handed_out.items():
        Distribution.objects.create(
            contact=contact, item=item(code), quantity=quantity, secondary=secondary
        )
    return contact


def hiv_test(client: Client, day: dt.date, result: str = "negative", test: str = "hiv") -> None:
    LabTest.objects.create(
        client=client, site=client.site, date=day, test=test, kind="rapid", result=result
    )


def overdose(site: Site, day: dt.date, naloxone_doses: int, outcome: str) -> None:
    Overdose.objects.create(site=site, date=day, naloxone_doses=naloxone_doses, outcome=outcome)


def estimate(population: str, year: int, value: int, site: Site | None = None) -> None:
    PopulationEstimate.objects.create(population=population, year=year, site=site, estimate=value)


def indicators(period: str = "2025Q1", site: str | None = None) -> dict[str, Any]:
    return compute(period, site)["indicators"]


def ratio(result: dict[str, Any]) -> tuple[int, int, float | None]:
    return result["numerator"], result["denominator"], result["value"]


# --- PRV.8 NSP coverage -----------------------------------------------------------


def test_prv8_counts_active_pwid_clients_who_received_needles_and_syringes(world: World) -> None:
    north = world.north
    young = person(north, gender="female", birth_year=2001)  # 24: <25
    visit(north, D(2025, 1, 10), young, needle_syringe=10)
    turning_25 = person(north, gender="male", birth_year=2000)  # 25: 25+
    visit(north, D(2025, 2, 1), turning_25, condom=12)  # active, no N/S
    no_birth_year = person(north, gender="female", birth_year=None)
    # Secondary distribution: handed to them to pass on; they still received it.
    visit(north, D(2025, 3, 31), no_birth_year, secondary=True, needle_syringe=20)
    tested_only = person(north, gender="male", birth_year=1980)
    hiv_test(tested_only, D(2025, 2, 2))  # a test makes them active

    # Not counted at all:
    does_not_inject = person(north, injects="no")
    visit(north, D(2025, 1, 10), does_not_inject, needle_syringe=10)
    injects_unknown = person(north, injects="unknown")
    visit(north, D(2025, 1, 10), injects_unknown, needle_syringe=10)
    before_s = person(north)
    visit(north, S - DAY, before_s, needle_syringe=10)
    only_a_missed_dose = person(north)
    episode(only_a_missed_dose, D(2024, 1, 1), D(2025, 1, 31))
    dose(only_a_missed_dose, D(2025, 1, 5), taken="missed")
    visit(north, D(2025, 1, 10), needle_syringe=50)  # anonymous

    result = indicators()["PRV.8"]
    # Active PWID: young, turning_25, no_birth_year, tested_only = 4; with N/S: young and
    # no_birth_year = 2. 2 / 4 = 0.5.
    assert ratio(result) == (2, 4, 0.5)
    assert result["by"]["gender"] == {
        "female": {"numerator": 2, "denominator": 2, "value": 1.0},
        "male": {"numerator": 0, "denominator": 2, "value": 0.0},
        "transgender": NONE,
        "other": NONE,
        "unknown": NONE,
    }
    assert result["by"]["age"] == {
        "<25": {"numerator": 1, "denominator": 1, "value": 1.0},
        "25+": {"numerator": 0, "denominator": 2, "value": 0.0},
        "unknown": {"numerator": 1, "denominator": 1, "value": 1.0},
    }


# --- PRV.9 regular NSP access -----------------------------------------------------


@pytest.fixture
def regulars(world: World) -> None:
    """Six PWID clients at North with N/S on these days of 2025."""
    north = world.north
    three_months = person(north)
    for day in (D(2025, 1, 5), D(2025, 2, 5), D(2025, 3, 5)):
        visit(north, day, three_months, needle_syringe=10)
    same_day_twice = person(north)
    for day in (D(2025, 1, 5), D(2025, 1, 5), D(2025, 2, 5)):  # two distinct dates
        visit(north, day, same_day_twice, needle_syringe=10)
    third_date_without = person(north)
    visit(north, D(2025, 1, 10), third_date_without, needle_syringe=10)
    visit(north, D(2025, 2, 10), third_date_without, needle_syringe=10)
    visit(north, D(2025, 3, 10), third_date_without, condom=5)  # a date, but no N/S
    all_in_january = person(north)
    for day in (D(2025, 1, 1), D(2025, 1, 2), D(2025, 1, 3)):
        visit(north, day, all_in_january, needle_syringe=10)
    never_ns = person(north)
    visit(north, D(2025, 2, 20), never_ns, condom=5)
    every_month = person(north)
    for month in range(1, 13):
        visit(north, D(2025, month, 15), every_month, needle_syringe=10)


@pytest.mark.usefixtures("regulars")
def test_prv9_in_a_quarter_needs_n_s_on_three_distinct_contact_dates() -> None:
    # Active: all six. Three dates or more in Q1: three_months, all_in_january (the
    # months need not differ) and every_month (15 Jan, Feb, Mar). 3 / 6 = 0.5.
    assert indicators("2025Q1")["PRV.9"] == {"numerator": 3, "denominator": 6, "value": 0.5}


@pytest.mark.usefixtures("regulars")
def test_prv9_in_a_month_needs_one_contact_date_with_n_s() -> None:
    # Active in January: all but never_ns (20 Feb); each has N/S on a January date.
    assert indicators("202501")["PRV.9"] == {"numerator": 5, "denominator": 5, "value": 1.0}


@pytest.mark.usefixtures("regulars")
def test_prv9_in_a_year_needs_twelve_and_in_a_half_year_six() -> None:
    # 2025: only every_month has 12 dates; 1 / 6 = 0.1667. 2025S1: every_month has 6
    # (15 Jan…15 Jun), three_months only 3. Both periods: all six active.
    assert indicators("2025")["PRV.9"] == {"numerator": 1, "denominator": 6, "value": 0.1667}
    assert indicators("2025S1")["PRV.9"] == {"numerator": 1, "denominator": 6, "value": 0.1667}


# --- PRV.10 N/S per person and PRV.10.population ----------------------------------


def test_prv10_counts_every_n_s_handed_out_over_the_clients_who_received_them(
    world: World,
) -> None:
    north, south = world.north, world.south
    twice = person(north)
    visit(north, D(2025, 1, 10), twice, needle_syringe=10, naloxone_kit=1)
    visit(world.north_outreach, D(2025, 2, 10), twice, needle_syringe=5)
    passing_on = person(north)
    visit(north, D(2025, 3, 1), passing_on, secondary=True, needle_syringe=20)
    not_injecting = person(south, injects="no")  # PRV.10 counts every client
    visit(south, D(2025, 3, 2), not_injecting, needle_syringe=30)
    visit(north, D(2025, 3, 3), needle_syringe=50)  # anonymous: in the total only
    visit(north, D(2025, 3, 3), person(north), condom=100)  # not N/S
    visit(north, E + DAY, twice, needle_syringe=1000)  # after E

    # 10 + 5 + 20 + 30 + 50 = 115 over twice, passing_on, not_injecting = 3: 38.3333.
    assert indicators()["PRV.10"] == {"numerator": 115, "denominator": 3, "value": 38.3333}


def test_prv10_with_n_s_handed_out_only_anonymously_has_no_value(world: World) -> None:
    visit(world.north, D(2025, 1, 10), needle_syringe=50)
    assert indicators()["PRV.10"] == {"numerator": 50, "denominator": 0, "value": None}


def test_population_indicators_use_the_estimate_for_es_year(world: World) -> None:
    visit(world.north, D(2024, 12, 1), person(world.north), needle_syringe=30)
    visit(world.north, D(2025, 1, 10), person(world.north), needle_syringe=40)
    episode(person(world.north), D(2024, 1, 1))  # on OST through both periods
    estimate("pwid", 2024, 600)
    estimate("pwid", 2025, 800)
    estimate("opioid_dependent", 2025, 8)
    estimate("pwid", 2025, 5, site=world.north)  # a site's estimate: not the programme's

    q1 = indicators("2025Q1")
    assert q1["PRV.10.population"] == {"numerator": 40, "denominator": 800, "value": 0.05}
    assert q1["PRV.11.population"] == {"numerator": 1, "denominator": 8, "value": 0.125}
    q4 = indicators("2024Q4")
    assert q4["PRV.10.population"] == {"numerator": 30, "denominator": 600, "value": 0.05}
    # No opioid_dependent estimate for 2024: the key is absent, not null.
    assert "PRV.11.population" not in q4
    # A year's E is 31 December: 2025's estimates, 40 N/S in the year.
    assert indicators("2025")["PRV.10.population"]["denominator"] == 800


def test_population_keys_are_absent_without_an_estimate(world: World) -> None:
    visit(world.north, D(2025, 1, 10), person(world.north), needle_syringe=40)
    estimate("pwid", 2024, 600)  # another year

    result = indicators()
    assert "PRV.10.population" not in result
    assert "PRV.11.population" not in result
    assert "PRV.10" in result and "PRV.11" in result


# --- PRV.11 OST coverage and PRV.12–PRV.14 through compute -------------------------


def test_prv11_counts_an_episode_ending_on_e_and_one_starting_on_e(world: World) -> None:
    ends_on_e = person(world.north)
    episode(ends_on_e, D(2024, 6, 1), E)
    starts_on_e = person(world.north, gender="male", birth_year=2003)
    episode(starts_on_e, E)
    ended_the_day_before = person(world.north, opioid_dependent="yes")
    episode(ended_the_day_before, D(2024, 6, 1), E - DAY)
    dose(ended_the_day_before, D(2025, 3, 1))  # active: a taken dose is a record
    only_missed = person(world.north, opioid_dependent="yes")
    episode(only_missed, D(2024, 6, 1), D(2025, 1, 31))
    dose(only_missed, D(2025, 1, 20), taken="missed")  # not a record: not active
    starts_after_e = person(world.north)
    episode(starts_after_e, E + DAY)

    result = indicators()["PRV.11"]
    # On OST at E: ends_on_e, starts_on_e. Denominator: those and ended_the_day_before.
    assert ratio(result) == (2, 3, 0.6667)
    assert result["by"]["gender"]["male"] == {"numerator": 1, "denominator": 1, "value": 1.0}
    assert result["by"]["gender"]["female"] == {"numerator": 1, "denominator": 2, "value": 0.5}
    assert result["by"]["age"]["<25"] == {"numerator": 1, "denominator": 1, "value": 1.0}


def test_prv12_sums_the_days_on_ost_inside_the_period(world: World) -> None:
    episode(person(world.north), D(2024, 12, 1))  # all of Q1: 90 days
    episode(person(world.north), D(2025, 3, 22), D(2025, 4, 30))  # 22–31 March: 10 days
    # 100 / 365.25 = 0.2738 → 0.27
    assert indicators()["PRV.12"] == {"value": 0.27}


@pytest.mark.parametrize(
    ("period", "cohort_start", "cohort_end"),
    [
        ("2025Q1", D(2024, 7, 1), D(2024, 9, 30)),
        ("202502", D(2024, 8, 1), D(2024, 8, 31)),
        ("2025", D(2024, 7, 1), D(2025, 6, 30)),
    ],
)
def test_prv13_takes_its_cohort_from_the_same_length_period_six_months_earlier(
    world: World, period: str, cohort_start: dt.date, cohort_end: dt.date
) -> None:
    days = dt.timedelta
    episode(person(world.north), cohort_start, cohort_start + days(181))  # left on day 181
    episode(person(world.north), cohort_end, cohort_end + days(182))  # retained: day 182
    episode(person(world.north), cohort_start)  # still running
    episode(person(world.north), cohort_start - days(1))  # before the cohort
    episode(person(world.north), cohort_end + days(1))  # after it
    # Cohort: 3; retained: 2. 2 / 3 = 0.6667.
    assert indicators(period)["PRV.13"] == {"numerator": 2, "denominator": 3, "value": 0.6667}


def test_prv14_judges_the_latest_dose_taken_and_never_a_missed_one(world: World) -> None:
    lowered = person(world.north)
    episode(lowered, D(2024, 1, 1))
    dose(lowered, D(2025, 3, 1), mg="60")
    dose(lowered, D(2025, 3, 20), mg="40")  # the latest: 40 mg, not adequate
    missed_last = person(world.north)
    episode(missed_last, D(2024, 1, 1))
    dose(missed_last, D(2025, 3, 1), mg="60")  # judged: 60 mg methadone, adequate
    dose(missed_last, D(2025, 3, 20), mg="30", taken="missed")
    buprenorphine = person(world.north)
    episode(buprenorphine, D(2024, 1, 1), medication="buprenorphine")
    dose(buprenorphine, D(2025, 3, 30), mg="8", medication="buprenorphine", taken="take_home")
    tapering = person(world.north)
    episode(tapering, D(2024, 1, 1))
    dose(tapering, D(2025, 3, 1), mg="90")
    dose(tapering, D(2025, 3, 2), mg="80", phase="taper")  # latest is taper: left out

    # Denominator: lowered, missed_last, buprenorphine. Adequate: missed_last, buprenorphine.
    assert indicators()["PRV.14"] == {"numerator": 2, "denominator": 3, "value": 0.6667}


# --- HTS.PWID ---------------------------------------------------------------------


def test_hts_pwid_counts_active_pwid_clients_with_a_positive_or_negative_hiv_test(
    world: World,
) -> None:
    north = world.north
    positive = person(north, gender="female", birth_year=1990)
    hiv_test(positive, D(2025, 1, 10), "positive")
    negative = person(north, gender="male", birth_year=2003)
    hiv_test(negative, E, "negative")
    indeterminate = person(north, gender="female", birth_year=None)
    hiv_test(indeterminate, D(2025, 2, 1), "indeterminate")
    hepatitis_only = person(north, gender="male", birth_year=1990)
    hiv_test(hepatitis_only, D(2025, 2, 1), "negative", test="hcv_antibody")
    tested_before_s = person(north, gender="transgender", birth_year=1985)
    hiv_test(tested_before_s, S - DAY, "negative")
    visit(north, D(2025, 2, 1), tested_before_s, condom=5)
    awaited = person(north, gender="other", birth_year=1985)
    hiv_test(awaited, D(2025, 2, 1), "")
    not_injecting = person(north, injects="no")
    hiv_test(not_injecting, D(2025, 2, 1), "negative")

    result = indicators()["HTS.PWID"]
    # Active PWID: positive, negative, indeterminate, hepatitis_only, tested_before_s,
    # awaited = 6. Positive or negative HIV test in Q1: positive and negative. 2 / 6.
    assert ratio(result) == (2, 6, 0.3333)
    assert result["by"]["gender"] == {
        "female": {"numerator": 1, "denominator": 2, "value": 0.5},
        "male": {"numerator": 1, "denominator": 2, "value": 0.5},
        "transgender": {"numerator": 0, "denominator": 1, "value": 0.0},
        "other": {"numerator": 0, "denominator": 1, "value": 0.0},
        "unknown": NONE,
    }
    # 25+: positive (35), hepatitis_only (35), tested_before_s (40), awaited (40).
    assert result["by"]["age"] == {
        "<25": {"numerator": 1, "denominator": 1, "value": 1.0},
        "25+": {"numerator": 1, "denominator": 4, "value": 0.25},
        "unknown": {"numerator": 0, "denominator": 1, "value": 0.0},
    }


# --- NALOXONE.kits and OVERDOSE ---------------------------------------------------


def test_naloxone_kits_count_every_kit_handed_out_in_the_period(world: World) -> None:
    north = world.north
    visit(north, D(2025, 1, 10), person(north), naloxone_kit=2, needle_syringe=10)
    visit(north, D(2025, 2, 10), naloxone_kit=3)  # anonymous
    visit(north, E, person(north), secondary=True, naloxone_kit=1)
    visit(north, S - DAY, person(north), naloxone_kit=7)  # before S
    # 2 + 3 + 1 = 6
    assert indicators()["NALOXONE.kits"] == {"value": 6}


def test_overdoses_reported_and_reversed_with_naloxone(world: World) -> None:
    north = world.north
    overdose(north, S, 1, "survived")  # reversed
    overdose(north, D(2025, 2, 1), 0, "survived")  # survived without naloxone
    overdose(north, D(2025, 2, 2), 2, "died")
    overdose(north, E, 1, "unknown")
    overdose(north, S - DAY, 1, "survived")  # before S
    overdose(north, E + DAY, 1, "survived")  # after E

    result = indicators()
    assert result["OVERDOSE.reported"] == {"value": 4}
    assert result["OVERDOSE.reversed"] == {"value": 1}


# --- the cascades, as of E ----------------------------------------------------------


def test_the_hiv_cascade_at_its_boundaries(world: World) -> None:
    # E − 182 days = 2024-09-30; (E − 365 days, E] = (2024-03-31, 2025-03-31].
    north = world.north
    diagnosed_on_e = person(north)
    hiv_test(diagnosed_on_e, E, "positive")
    diagnosed_after_e = person(north)
    hiv_test(diagnosed_after_e, E + DAY, "positive")
    suppressed = person(north)
    hiv_test(suppressed, D(2022, 1, 1), "positive")
    Treatment.objects.create(
        client=suppressed, site=north, condition="hiv", start_date=D(2024, 9, 30)
    )
    ViralLoad.objects.create(
        client=suppressed, date=D(2024, 4, 1), condition="hiv", copies_per_ml=500
    )
    too_recent = person(north)
    hiv_test(too_recent, D(2022, 1, 1), "positive")
    Treatment.objects.create(
        client=too_recent, site=north, condition="hiv", start_date=D(2024, 10, 1)
    )
    ViralLoad.objects.create(client=too_recent, date=E, condition="hiv", copies_per_ml=20)
    load_too_old = person(north)
    hiv_test(load_too_old, D(2022, 1, 1), "positive")
    Treatment.objects.create(
        client=load_too_old, site=north, condition="hiv", start_date=D(2022, 2, 1), end_date=E
    )
    ViralLoad.objects.create(
        client=load_too_old, date=D(2024, 3, 31), condition="hiv", copies_per_ml=20
    )
    stopped = person(north)
    hiv_test(stopped, D(2022, 1, 1), "positive")
    Treatment.objects.create(
        client=stopped, site=north, condition="hiv", start_date=D(2022, 2, 1), end_date=E - DAY
    )

    # Diagnosed: all but diagnosed_after_e = 5. On ART at E: suppressed, too_recent,
    # load_too_old (ends on E) = 3. Suppressed: only suppressed.
    assert indicators()["HIV.cascade"] == {"diagnosed": 5, "on_art": 3, "suppressed": 1}


def test_the_hepatitis_c_cascade_at_its_boundaries(world: World) -> None:
    north = world.north

    def path(
        *, rna: str = "positive", treatment_start: dt.date | None, cleared: dt.date | None
    ) -> None:
        client = person(north)
        hiv_test(client, D(2024, 1, 1), "positive", test="hcv_antibody")
        hiv_test(client, D(2024, 1, 15), rna, test="hcv_rna")
        if treatment_start is not None:
            Treatment.objects.create(
                client=client,
                site=north,
                condition="hcv",
                start_date=treatment_start,
                end_date=D(2024, 5, 1) if treatment_start <= E else None,
                outcome="completed" if treatment_start <= E else "ongoing",
            )
        if cleared is not None:
            ViralLoad.objects.create(client=client, date=cleared, condition="hcv", copies_per_ml=0)

    # Treatment ends 2024-05-01; + 84 days = 2024-07-24.
    path(treatment_start=D(2024, 2, 1), cleared=D(2024, 7, 24))  # cured
    path(treatment_start=D(2024, 2, 1), cleared=D(2024, 7, 23))  # 83 days: not cured
    path(rna="negative", treatment_start=None, cleared=None)  # RNA tested only
    path(treatment_start=E + DAY, cleared=None)  # RNA positive, treatment after E
    antibody_after_e = person(north)
    hiv_test(antibody_after_e, E + DAY, "positive", test="hcv_antibody")

    assert indicators()["HCV.cascade"] == {
        "antibody_positive": 4,
        "rna_tested": 4,
        "rna_positive": 3,
        "treated": 2,
        "cured": 1,
    }


# --- site scope -------------------------------------------------------------------


@pytest.fixture
def three_sites(world: World) -> World:
    """N/S, naloxone, overdoses and OST at North (and below it), South and East."""
    north_client = person(world.north)
    visit(world.north, D(2025, 1, 10), north_client, needle_syringe=10)
    visit(world.east, D(2025, 1, 20), north_client, needle_syringe=3)  # served in East
    outreach_client = person(world.north)
    visit(world.north_outreach, D(2025, 2, 1), outreach_client, needle_syringe=5)
    episode(outreach_client, D(2024, 1, 1), site=world.north_outreach)
    visit(world.north_outreach, D(2025, 2, 1), needle_syringe=40, naloxone_kit=2)  # anonymous
    overdose(world.north_outreach, D(2025, 2, 1), 1, "survived")
    south_client = person(world.south)
    visit(world.south, D(2025, 3, 1), south_client, needle_syringe=7)
    east_client = person(world.east)
    visit(world.east, D(2025, 3, 1), east_client, needle_syringe=100, naloxone_kit=5)
    episode(east_client, D(2024, 1, 1), site=world.east)
    overdose(world.east, D(2025, 3, 1), 1, "survived")
    estimate("pwid", 2025, 1000)
    estimate("pwid", 2025, 50, site=world.north)
    return world


@pytest.mark.usefixtures("three_sites")
def test_a_site_counts_itself_and_the_sites_below_it_with_its_own_estimate() -> None:
    north = compute("2025Q1", "NTH-01")
    assert north["site"] == "NTH-01"
    result = north["indicators"]
    # Active PWID at North or NTH-OUT: north_client, outreach_client; both got N/S.
    assert ratio(result["PRV.8"]) == (2, 2, 1.0)
    # 10 + 5 + 40 (anonymous) = 55 over north_client and outreach_client: 27.5.
    assert result["PRV.10"] == {"numerator": 55, "denominator": 2, "value": 27.5}
    assert result["PRV.10.population"] == {"numerator": 55, "denominator": 50, "value": 1.1}
    assert ratio(result["PRV.11"]) == (1, 1, 1.0)  # outreach_client's episode at NTH-OUT
    assert result["NALOXONE.kits"] == {"value": 2}
    assert (result["OVERDOSE.reported"], result["OVERDOSE.reversed"]) == (
        {"value": 1},
        {"value": 1},
    )


@pytest.mark.usefixtures("three_sites")
def test_another_region_counts_only_what_happened_there() -> None:
    result = indicators("2025Q1", "REG-B")
    # East: east_client and north_client (served there). 100 + 3 = 103 over 2: 51.5.
    assert ratio(result["PRV.8"]) == (2, 2, 1.0)
    assert result["PRV.10"] == {"numerator": 103, "denominator": 2, "value": 51.5}
    assert "PRV.10.population" not in result  # the programme's estimate is not REG-B's
    assert ratio(result["PRV.11"]) == (1, 1, 1.0)
    assert result["NALOXONE.kits"] == {"value": 5}
    assert result["OVERDOSE.reported"] == {"value": 1}


@pytest.mark.usefixtures("three_sites")
def test_the_whole_programme_counts_every_site_with_the_programme_estimate() -> None:
    result = indicators()
    assert ratio(result["PRV.8"]) == (4, 4, 1.0)
    # 10 + 3 + 5 + 40 + 7 + 100 = 165 over 4 clients: 41.25; over the estimate 1000.
    assert result["PRV.10"] == {"numerator": 165, "denominator": 4, "value": 41.25}
    assert result["PRV.10.population"] == {"numerator": 165, "denominator": 1000, "value": 0.165}
    assert ratio(result["PRV.11"]) == (2, 2, 1.0)
    assert result["NALOXONE.kits"] == {"value": 7}
    assert result["OVERDOSE.reported"] == {"value": 2}


# --- errors -----------------------------------------------------------------------


def test_an_unknown_period_or_site_is_an_error_naming_it(world: World) -> None:
    with pytest.raises(PeriodError, match="2025Q5"):
        compute("2025Q5", None)
    with pytest.raises(SiteError, match="NOPE"):
        compute("2025Q1", "NOPE")


def run(*args: str) -> dict[str, Any]:
    out = StringIO()
    call_command("indicators", *args, stdout=out)
    parsed: dict[str, Any] = json.loads(out.getvalue())
    return parsed


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--period", "2025W10"), "--period: '2025W10' is not a period"),
        (("--period", "202513"), "--period: '202513' is not a period (a month is 01 to 12)"),
        (("--period", "2025Q1", "--site", "NOPE"), "--site: There is no site with the code 'NOPE'"),
    ],
)
def test_the_command_refuses_a_bad_period_or_site_naming_the_option(
    world: World, args: tuple[str, ...], says: str
) -> None:
    with pytest.raises(CommandError, match="^" + says.replace("(", r"\(").replace(")", r"\)")):
        run(*args)


def test_the_command_needs_a_period(world: World) -> None:
    with pytest.raises(CommandError, match="--period"):
        run("--format", "json")


# --- the JSON object --------------------------------------------------------------


def by_nobody() -> dict[str, Any]:
    return {
        "gender": {gender: NONE for gender in GENDERS},
        "age": {group: NONE for group in AGES},
    }


def test_the_command_prints_every_key_with_null_values_for_zero_denominators(
    world: World,
) -> None:
    estimate("pwid", 2025, 1200)
    estimate("opioid_dependent", 2025, 900)

    printed = run("--period", "2025q1", "--format", "json")

    assert printed == {
        "period": "2025Q1",
        "start": "2025-01-01",
        "end": "2025-03-31",
        "site": None,
        "indicators": {
            "PRV.8": {**NONE, "by": by_nobody()},
            "PRV.9": NONE,
            "PRV.10": NONE,
            "PRV.10.population": {"numerator": 0, "denominator": 1200, "value": 0.0},
            "PRV.11": {**NONE, "by": by_nobody()},
            "PRV.11.population": {"numerator": 0, "denominator": 900, "value": 0.0},
            "PRV.12": {"value": 0.0},
            "PRV.13": NONE,
            "PRV.14": NONE,
            "HTS.PWID": {**NONE, "by": by_nobody()},
            "NALOXONE.kits": {"value": 0},
            "OVERDOSE.reported": {"value": 0},
            "OVERDOSE.reversed": {"value": 0},
            "HIV.cascade": {"diagnosed": 0, "on_art": 0, "suppressed": 0},
            "HCV.cascade": {
                "antibody_positive": 0,
                "rna_tested": 0,
                "rna_positive": 0,
                "treated": 0,
                "cured": 0,
            },
        },
    }


def test_the_command_prints_a_sites_figures_as_json(world: World) -> None:
    client = person(world.north, gender="male", birth_year=1999)
    visit(world.north_outreach, D(2025, 2, 1), client, needle_syringe=12)
    hiv_test(client, D(2025, 2, 1), "negative")
    visit(world.east, D(2025, 2, 1), person(world.east), needle_syringe=99)

    printed = run("--period", "202502", "--site", "NTH-01", "--format", "json")

    assert (printed["period"], printed["start"], printed["end"], printed["site"]) == (
        "202502",
        "2025-02-01",
        "2025-02-28",
        "NTH-01",
    )
    result = printed["indicators"]
    assert list(result) == [
        "PRV.8",
        "PRV.9",
        "PRV.10",
        "PRV.11",
        "PRV.12",
        "PRV.13",
        "PRV.14",
        "HTS.PWID",
        "NALOXONE.kits",
        "OVERDOSE.reported",
        "OVERDOSE.reversed",
        "HIV.cascade",
        "HCV.cascade",
    ]
    # One active PWID client (male, 26), with N/S on one date in a one-month period.
    assert result["PRV.8"]["by"]["gender"]["male"] == {
        "numerator": 1,
        "denominator": 1,
        "value": 1.0,
    }
    assert result["PRV.8"]["by"]["age"]["25+"] == {"numerator": 1, "denominator": 1, "value": 1.0}
    assert result["PRV.9"] == {"numerator": 1, "denominator": 1, "value": 1.0}
    assert result["PRV.10"] == {"numerator": 12, "denominator": 1, "value": 12.0}
    assert ratio(result["HTS.PWID"]) == (1, 1, 1.0)
