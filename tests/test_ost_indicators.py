"""The OST indicators PRV.11–PRV.14, each figure computed by hand from a few records.

The period is 2025Q1 unless a test says otherwise: S = 2025-01-01, E = 2025-03-31.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from harbour.clients.models import Client
from harbour.lib.periods import period_bounds
from harbour.ost import indicators
from harbour.ost.models import Dose, Episode
from harbour.sites.models import Site, SiteKind
from harbour.visits.models import Contact, Overdose
from tests.factory import make_client, make_site

D = dt.date
S, E = D(2025, 1, 1), D(2025, 3, 31)
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_names = itertools.product(LETTERS, LETTERS)


@dataclass
class Sites:
    region: Site
    north: Site
    north_outreach: Site  # below North, two levels under the region
    south: Site
    other_region: Site
    east: Site


@pytest.fixture
def sites(db: None) -> Sites:
    region = make_site("REG-A", SiteKind.REGION)
    north = make_site("NTH-01", parent=region)
    outreach = make_site("NTH-OUT", SiteKind.OUTREACH, parent=north)
    south = make_site("STH-01", SiteKind.DROP_IN, parent=region)
    other = make_site("REG-B", SiteKind.REGION)
    east = make_site("EST-01", parent=other)
    return Sites(region, north, outreach, south, other, east)


def person(site: Site, **profile: Any) -> Client:
    """A client with a UIC of their own; profile as in tests.factory.make_client."""
    first, second = next(_names)
    return make_client(site, mother=first + second, father=second + first, **profile)


def episode(
    client: Client,
    start: dt.date,
    end: dt.date | None = None,
    site: Site | None = None,
    medication: str = "methadone",
) -> Episode:
    return Episode.objects.create(
        client=client,
        site=site or client.site,
        medication=medication,
        start_date=start,
        end_date=end,
        consent_on=start,
    )


def dose(
    client: Client,
    day: dt.date,
    mg: str = "60",
    medication: str = "methadone",
    phase: str = "maintenance",
    taken: str = "observed",
    site: Site | None = None,
    recorded_at: dt.datetime | None = None,
) -> Dose:
    treatment = Episode.objects.filter(client=client).order_by("-start_date").first()
    assert treatment is not None, "a dose belongs to an episode: create one first"
    given = Dose.objects.create(
        episode=treatment,
        client=client,
        site=site or treatment.site,
        date=day,
        medication=medication,
        dose_mg=Decimal(mg),
        phase=phase,
        taken=taken,
    )
    if recorded_at is not None:
        Dose.objects.filter(pk=given.pk).update(recorded_at=recorded_at)
    return given


def contact(site: Site, day: dt.date, client: Client | None = None) -> Contact:
    return Contact.objects.create(site=site, date=day, client=client)


def at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


# --- on OST at a date -------------------------------------------------------------


def test_on_ost_at_a_date_counts_episodes_running_that_day_including_both_ends(
    sites: Sites,
) -> None:
    ends_on_e = person(sites.north)
    episode(ends_on_e, D(2024, 6, 1), E)
    starts_on_e = person(sites.north)
    episode(starts_on_e, E)
    ongoing = person(sites.north)
    episode(ongoing, D(2020, 1, 1))
    ended_day_before = person(sites.north)
    episode(ended_day_before, D(2024, 6, 1), E - dt.timedelta(days=1))
    starts_day_after = person(sites.north)
    episode(starts_day_after, E + dt.timedelta(days=1))

    assert set(indicators.on_ost_at(E)) == {ends_on_e.pk, starts_on_e.pk, ongoing.pk}


def test_a_client_with_two_running_episodes_is_on_ost_once(sites: Sites) -> None:
    twice = person(sites.north)
    episode(twice, D(2024, 1, 1), site=sites.north)
    episode(twice, D(2024, 2, 1), site=sites.south)
    assert list(indicators.on_ost_at(E)) == [twice.pk]


def test_the_site_filter_counts_a_region_and_every_site_below_it(sites: Sites) -> None:
    below = indicators.sites_below("REG-A")
    assert below == {sites.region.pk, sites.north.pk, sites.north_outreach.pk, sites.south.pk}
    assert indicators.sites_below("NTH-OUT") == {sites.north_outreach.pk}
    with pytest.raises(ValueError, match="NOPE"):
        indicators.sites_below("NOPE")

    deep, south, east = person(sites.north), person(sites.south), person(sites.east)
    episode(deep, D(2024, 1, 1), site=sites.north_outreach)
    episode(south, D(2024, 1, 1))
    episode(east, D(2024, 1, 1))

    assert set(indicators.on_ost_at(E, below)) == {deep.pk, south.pk}
    assert set(indicators.on_ost_at(E, indicators.sites_below("REG-B"))) == {east.pk}
    assert set(indicators.on_ost_at(E, None)) == {deep.pk, south.pk, east.pk}


def test_an_episode_counts_for_the_site_where_it_is_held_not_the_clients_site(
    sites: Sites,
) -> None:
    registered_north = person(sites.north)
    episode(registered_north, D(2024, 1, 1), site=sites.east)
    assert list(indicators.on_ost_at(E, indicators.sites_below("REG-A"))) == []
    assert list(indicators.on_ost_at(E, {sites.east.pk})) == [registered_north.pk]


# --- active clients ---------------------------------------------------------------


def test_a_named_contact_or_a_taken_dose_in_the_period_makes_a_client_active(
    sites: Sites,
) -> None:
    contacted = person(sites.north)
    contact(sites.north, S, contacted)
    observed, taken_home, missed = person(sites.north), person(sites.north), person(sites.north)
    for client, taken in ((observed, "observed"), (taken_home, "take_home"), (missed, "missed")):
        episode(client, D(2024, 1, 1), D(2024, 12, 31))
        dose(client, E, taken=taken)
    before, after = person(sites.north), person(sites.north)
    contact(sites.north, S - dt.timedelta(days=1), before)
    contact(sites.north, E + dt.timedelta(days=1), after)
    contact(sites.north, S)  # anonymous: it has nobody to make active

    active = set(indicators.active_clients(S, E).values_list("pk", flat=True))
    assert active == {contacted.pk, observed.pk, taken_home.pk}


def test_with_a_site_filter_only_records_made_at_those_sites_make_a_client_active(
    sites: Sites,
) -> None:
    seen_north, seen_east = person(sites.north), person(sites.north)
    contact(sites.north_outreach, S, seen_north)
    contact(sites.east, S, seen_east)
    dosed_east = person(sites.north)
    episode(dosed_east, D(2024, 1, 1), site=sites.north)
    dose(dosed_east, S, site=sites.east)

    region_a = indicators.sites_below("REG-A")
    active = set(indicators.active_clients(S, E, region_a).values_list("pk", flat=True))
    assert active == {seen_north.pk}


def test_a_record_source_appended_to_the_list_makes_its_clients_active(
    sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new kind of record joins "record of a client" by being appended to the list."""
    assert [
        indicators.contact_records,
        indicators.dose_records,
        indicators.test_records,
        indicators.treatment_records,
    ] == indicators.RECORD_SOURCES
    reported = person(sites.north, opioid_dependent="yes")
    Overdose.objects.create(site=sites.north, date=S, client=reported)
    assert not indicators.active_clients(S, E).exists()

    def overdose_records(start: dt.date, end: dt.date, site_ids: Any) -> Any:
        return indicators.at_sites(Overdose.objects.filter(date__range=(start, end)), site_ids)

    monkeypatch.setattr(
        indicators, "RECORD_SOURCES", [*indicators.RECORD_SOURCES, overdose_records]
    )
    assert list(indicators.active_clients(S, E)) == [reported]
    assert indicators.prv11(S, E)["denominator"] == 1


# --- PRV.11 OST coverage ----------------------------------------------------------


def test_prv11_counts_clients_on_ost_at_e_over_active_opioid_dependent_clients_or_on_ost(
    sites: Sites,
) -> None:
    # On OST at E; age 2025 − 2001 = 24.
    young_man = person(sites.north, gender="male", birth_year=2001)
    episode(young_man, D(2024, 6, 1))
    # Active and opioid dependent, not on OST; exactly 25 in E's year.
    turning_25 = person(sites.north, gender="female", birth_year=2000, opioid_dependent="yes")
    contact(sites.north, D(2025, 2, 14), turning_25)
    # Active through a dose only, her episode ended before E; no birth year.
    no_birth_year = person(sites.south, gender="female", birth_year=None, opioid_dependent="yes")
    episode(no_birth_year, D(2024, 10, 1), D(2025, 2, 15))
    dose(no_birth_year, D(2025, 2, 10))
    # On OST at E though not recorded as opioid dependent.
    on_ost_no = person(sites.south, gender="female", birth_year=1980, opioid_dependent="no")
    episode(on_ost_no, D(2023, 1, 1))

    # Not counted: no record in the period; not opioid dependent; only a missed dose.
    quiet = person(sites.north, opioid_dependent="yes")
    contact(sites.north, D(2024, 12, 31), quiet)
    not_dependent = person(sites.north, opioid_dependent="no")
    contact(sites.north, S, not_dependent)
    only_missed = person(sites.north, opioid_dependent="yes")
    episode(only_missed, D(2024, 10, 1), D(2025, 1, 20))
    dose(only_missed, D(2025, 1, 10), taken="missed")
    contact(sites.north, S)  # anonymous

    result = indicators.prv11(S, E, None)
    assert (result["numerator"], result["denominator"], result["value"]) == (2, 4, 0.5)
    by_gender = result["by"]["gender"]
    assert by_gender["male"] == {"numerator": 1, "denominator": 1, "value": 1.0}
    assert by_gender["female"] == {"numerator": 1, "denominator": 3, "value": 0.3333}
    assert by_gender["transgender"] == {"numerator": 0, "denominator": 0, "value": None}
    assert set(by_gender) == {"female", "male", "transgender", "other", "unknown"}
    assert result["by"]["age"] == {
        "<25": {"numerator": 1, "denominator": 1, "value": 1.0},
        "25+": {"numerator": 1, "denominator": 2, "value": 0.5},
        "unknown": {"numerator": 0, "denominator": 1, "value": 0.0},
    }


def test_prv11_with_a_site_filter_counts_episodes_and_records_at_the_sites_below(
    sites: Sites,
) -> None:
    here = person(sites.north)
    episode(here, D(2024, 1, 1), site=sites.north_outreach)
    there = person(sites.north)
    episode(there, D(2024, 1, 1), site=sites.east)
    seen_here = person(sites.east, opioid_dependent="yes")
    contact(sites.south, S, seen_here)
    seen_there = person(sites.north, opioid_dependent="yes")
    contact(sites.east, S, seen_there)

    region_a = indicators.prv11(S, E, indicators.sites_below("REG-A"))
    assert (region_a["numerator"], region_a["denominator"], region_a["value"]) == (1, 2, 0.5)
    everywhere = indicators.prv11(S, E, None)
    assert (everywhere["numerator"], everywhere["denominator"]) == (2, 4)


def test_prv11_with_nobody_to_count_has_no_value_rather_than_an_error(db: None) -> None:
    result = indicators.prv11(S, E, None)
    assert (result["numerator"], result["denominator"], result["value"]) == (0, 0, None)
    assert all(group["value"] is None for group in result["by"]["age"].values())


def test_prv11_population_uses_the_estimate_and_is_absent_without_one(sites: Sites) -> None:
    for _ in range(3):
        episode(person(sites.north), D(2024, 1, 1))
    assert indicators.prv11_population(S, E, None, 8) == {
        "numerator": 3,
        "denominator": 8,
        "value": 0.375,
    }
    assert indicators.prv11_population(S, E, None, None) is None
    assert indicators.prv11_population(S, E, None, 0)["value"] is None  # type: ignore[index]


def test_values_are_rounded_to_four_decimals_with_halves_rounding_up() -> None:
    assert indicators.ratio(2, 3) == 0.6667
    assert indicators.ratio(1, 32) == 0.0313  # 0.03125
    assert indicators.ratio(0, 5) == 0.0
    assert indicators.ratio(3, 0) is None


# --- PRV.12 person-years on OST ---------------------------------------------------


def test_prv12_an_episode_spanning_the_whole_quarter_is_90_days_or_a_quarter_year(
    sites: Sites,
) -> None:
    episode(person(sites.north), D(2024, 12, 1))
    assert indicators.ost_days(S, E) == 90
    assert indicators.prv12(S, E) == {"value": 0.25}  # 90 / 365.25 = 0.2464


def test_prv12_counts_only_the_days_inside_the_period_with_both_ends_inclusive(
    sites: Sites,
) -> None:
    episode(person(sites.north), D(2024, 11, 15), D(2025, 1, 10))  # 1–10 January: 10
    episode(person(sites.north), D(2025, 3, 20))  # 20–31 March, blank end: 12
    episode(person(sites.north), D(2025, 2, 1), D(2025, 2, 1))  # one day: 1
    episode(person(sites.north), D(2025, 2, 10), D(2025, 4, 30))  # 10–28 Feb and March: 19 + 31
    episode(person(sites.north), D(2024, 1, 1), D(2024, 12, 31))  # before S: 0
    episode(person(sites.north), D(2025, 4, 1))  # after E: 0
    assert indicators.ost_days(S, E) == 10 + 12 + 1 + 50
    assert indicators.prv12(S, E) == {"value": 0.2}  # 73 / 365.25 = 0.1999


def test_prv12_sums_person_time_across_sites_below_the_filter_and_a_leap_year(
    sites: Sites,
) -> None:
    episode(person(sites.north), D(2023, 6, 1), site=sites.north_outreach)
    episode(person(sites.north), D(2024, 7, 1), D(2024, 12, 31), site=sites.east)
    year_2024 = period_bounds("2024")
    assert indicators.ost_days(*year_2024, site_ids=indicators.sites_below("REG-A")) == 366
    assert indicators.prv12(*year_2024, site_ids=indicators.sites_below("REG-A")) == {"value": 1.0}
    assert indicators.ost_days(*year_2024) == 366 + 184
    assert indicators.prv12(*year_2024) == {"value": 1.51}  # 550 / 365.25 = 1.5058


def test_prv12_with_no_episodes_is_zero(db: None) -> None:
    assert indicators.prv12(S, E) == {"value": 0.0}


# --- PRV.13 retention at 6 months -------------------------------------------------


@pytest.mark.parametrize(
    ("period", "cohort_start", "cohort_end"),
    [
        ("2025Q1", D(2024, 7, 1), D(2024, 9, 30)),
        ("202502", D(2024, 8, 1), D(2024, 8, 31)),
        ("2025", D(2024, 7, 1), D(2025, 6, 30)),
    ],
)
def test_prv13_counts_cohort_episodes_still_running_182_days_after_their_start(
    sites: Sites, period: str, cohort_start: dt.date, cohort_end: dt.date
) -> None:
    days = dt.timedelta
    # In the cohort: ended on day 181 (not retained), on day 182 (retained), still going.
    episode(person(sites.north), cohort_start, cohort_start + days(181))
    episode(person(sites.north), cohort_end, cohort_end + days(182))
    episode(person(sites.north), cohort_start)
    # Outside the cohort window by one day on either side.
    episode(person(sites.north), cohort_start - days(1))
    episode(person(sites.north), cohort_end + days(1))

    result = indicators.prv13(*period_bounds(period))
    assert result == {"numerator": 2, "denominator": 3, "value": 0.6667}


def test_prv13_counts_episodes_not_clients_and_follows_the_site_filter(sites: Sites) -> None:
    days = dt.timedelta
    twice = person(sites.north)
    episode(twice, D(2024, 7, 1), D(2024, 7, 20))  # stopped after 19 days
    episode(twice, D(2024, 8, 1), site=sites.north_outreach)  # restarted, still going
    episode(person(sites.east), D(2024, 7, 5), D(2024, 7, 5) + days(200))

    assert indicators.prv13(S, E, indicators.sites_below("NTH-01")) == {
        "numerator": 1,
        "denominator": 2,
        "value": 0.5,
    }
    assert indicators.prv13(S, E) == {"numerator": 2, "denominator": 3, "value": 0.6667}


def test_prv13_with_an_empty_cohort_has_no_value(sites: Sites) -> None:
    episode(person(sites.north), D(2025, 1, 1))  # starts in the period itself, not the cohort
    assert indicators.prv13(S, E) == {"numerator": 0, "denominator": 0, "value": None}


# --- PRV.14 adequate maintenance dose ---------------------------------------------


def on_ost(sites: Sites, **profile: Any) -> Client:
    client = person(sites.north, **profile)
    episode(client, D(2024, 1, 1))
    return client


def test_prv14_judges_buprenorphine_8_mg_adequate_and_methadone_59_5_mg_not(
    sites: Sites,
) -> None:
    buprenorphine = on_ost(sites)
    dose(buprenorphine, D(2025, 3, 30), mg="8", medication="buprenorphine")
    methadone = on_ost(sites)
    dose(methadone, D(2025, 3, 30), mg="59.5")
    assert indicators.prv14(S, E) == {"numerator": 1, "denominator": 2, "value": 0.5}


def test_prv14_judges_methadone_60_mg_adequate_and_buprenorphine_under_8_not(
    sites: Sites,
) -> None:
    dose(on_ost(sites), D(2025, 3, 1), mg="60")
    dose(on_ost(sites), D(2025, 3, 1), mg="7.99", medication="buprenorphine")
    assert indicators.prv14(S, E) == {"numerator": 1, "denominator": 2, "value": 0.5}


def test_prv14_leaves_out_a_client_whose_latest_dose_is_a_taper_or_diacetylmorphine(
    sites: Sites,
) -> None:
    tapering = on_ost(sites)
    dose(tapering, D(2025, 3, 1), mg="80")
    dose(tapering, D(2025, 3, 2), mg="70", phase="taper")
    inducting = on_ost(sites)
    dose(inducting, D(2025, 3, 2), mg="30", phase="induction")
    heroin_assisted = on_ost(sites)
    dose(heroin_assisted, D(2025, 3, 2), mg="200", medication="diacetylmorphine")
    assert indicators.prv14(S, E) == {"numerator": 0, "denominator": 0, "value": None}


def test_prv14_never_judges_a_missed_dose_or_a_dose_outside_the_period(sites: Sites) -> None:
    missed_last = on_ost(sites)
    dose(missed_last, D(2025, 3, 1), mg="60")
    dose(missed_last, D(2025, 3, 2), mg="30", taken="missed")
    taper_after_e = on_ost(sites)
    dose(taper_after_e, D(2025, 3, 31), mg="65", taken="take_home")
    dose(taper_after_e, D(2025, 4, 2), mg="50", phase="taper")
    only_before_s = on_ost(sites)
    dose(only_before_s, D(2024, 12, 31), mg="100")
    assert indicators.prv14(S, E) == {"numerator": 2, "denominator": 2, "value": 1.0}


def test_prv14_counts_only_clients_on_ost_at_e_at_the_filtered_sites(sites: Sites) -> None:
    ended = person(sites.north)
    episode(ended, D(2024, 1, 1), D(2025, 3, 30))
    dose(ended, D(2025, 3, 30), mg="100")
    elsewhere = person(sites.east)
    episode(elsewhere, D(2024, 1, 1))
    dose(elsewhere, D(2025, 3, 30), mg="100")
    guest_dose = on_ost(sites)
    dose(guest_dose, D(2025, 3, 30), mg="40", site=sites.east)  # still this client's dose

    assert indicators.prv14(S, E, indicators.sites_below("REG-A")) == {
        "numerator": 0,
        "denominator": 1,
        "value": 0.0,
    }
    assert indicators.prv14(S, E) == {"numerator": 1, "denominator": 2, "value": 0.5}


def test_prv14_judges_the_later_recorded_dose_when_two_share_the_latest_date(
    sites: Sites,
) -> None:
    topped_up = on_ost(sites)
    dose(topped_up, E, mg="40", recorded_at=at(E, 9))
    dose(topped_up, E, mg="70", recorded_at=at(E, 15))
    reduced = on_ost(sites)
    dose(reduced, E, mg="70", recorded_at=at(E, 9))
    dose(reduced, E, mg="40", recorded_at=at(E, 15))
    assert indicators.prv14(S, E) == {"numerator": 1, "denominator": 2, "value": 0.5}
    judged = {d.client_id: d.dose_mg for d in indicators.latest_doses(S, E)}
    assert judged == {topped_up.pk: Decimal("70"), reduced.pk: Decimal("40")}


def test_a_test_or_a_treatment_start_makes_a_client_active(sites: Sites) -> None:
    from harbour.ost.indicators import active_client_ids
    from harbour.testing.models import Test, Treatment

    tested = make_client(sites.north, mother="TE")
    treated = make_client(sites.north, mother="TR")
    Test.objects.create(
        client=tested,
        site=sites.north,
        date=dt.date(2025, 2, 3),
        test="hiv",
        kind="rapid",
        result="negative",
    )
    Treatment.objects.create(
        client=treated, site=sites.north, condition="hcv", start_date=dt.date(2025, 3, 31)
    )
    active = set(active_client_ids(dt.date(2025, 1, 1), dt.date(2025, 3, 31), None))
    assert {tested.pk, treated.pk} <= active
    assert not set(active_client_ids(dt.date(2025, 4, 1), dt.date(2025, 6, 30), None))
