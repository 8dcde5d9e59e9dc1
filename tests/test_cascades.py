"""The HIV and hepatitis C cascades, each count worked out by hand from a few records.

E, the "as of" day, is 2025-03-31 unless a test says otherwise. E − 182 days is
2024-09-30 and E − 365 days is 2024-03-31.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import pytest
from django.urls import Resolver404, include, path, resolve
from django.utils.html import strip_tags

from harbour import urls as root_urls
from harbour.accounts.models import Membership
from harbour.clients.models import Client, ClientLink
from harbour.ost.indicators import sites_below
from harbour.sites.models import Site, SiteKind
from harbour.testing import cascade_views
from harbour.testing.cascades import cascades_by_site, hcv_cascade, hiv_cascade, hiv_steps
from harbour.testing.models import Test as LabTest
from harbour.testing.models import Treatment, ViralLoad
from tests.factory import Cast, login, make_client, make_site

D = dt.date
E = D(2025, 3, 31)
DAY = dt.timedelta(days=1)
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_names = itertools.product(LETTERS, LETTERS)
PAGE = "/testing/cascades/"
LONG_ON_ART = D(2023, 1, 1)  # well over 182 days before E
RNA_DAY = D(2024, 1, 10)


def _mounted() -> bool:
    try:
        return resolve(PAGE).func is cascade_views.cascades
    except Resolver404:
        return False


# The page's tests run on the project's URLs, with the cascades page mounted at
# /testing/cascades/ if the project does not mount it (yet).
urlpatterns = list(root_urls.urlpatterns)
if not _mounted():
    urlpatterns.append(path("testing/cascades/", include("harbour.testing.cascade_urls")))


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


def person(site: Site) -> Client:
    """A client with a UIC of their own, registered at ``site``."""
    first, second = next(_names)
    return make_client(site, mother=first + second, father=second + first)


def took_test(
    client: Client,
    day: dt.date,
    test: str = "hiv",
    result: str = "positive",
    site: Site | None = None,
) -> LabTest:
    return LabTest.objects.create(
        client=client,
        site=site or client.site,
        date=day,
        test=test,
        kind="laboratory",
        result=result,
    )


def treated(
    client: Client,
    start: dt.date,
    end: dt.date | None = None,
    condition: str = "hiv",
    outcome: str = "ongoing",
    site: Site | None = None,
) -> Treatment:
    return Treatment.objects.create(
        client=client,
        site=site or client.site,
        condition=condition,
        start_date=start,
        end_date=end,
        outcome=outcome,
    )


def load(client: Client, day: dt.date, copies: int, condition: str = "hiv") -> ViralLoad:
    return ViralLoad.objects.create(
        client=client, date=day, condition=condition, copies_per_ml=copies
    )


def on_art(client: Client, since: dt.date = LONG_ON_ART) -> Client:
    """Diagnosed before ``since`` and on ART from ``since``, still running."""
    took_test(client, since - DAY)
    treated(client, since)
    return client


def rna_positive(client: Client, day: dt.date = RNA_DAY) -> Client:
    """Antibody positive, then RNA positive, both before ``day``."""
    took_test(client, day - 10 * DAY, "hcv_antibody")
    took_test(client, day, "hcv_rna")
    return client


# --- HIV: diagnosed -----------------------------------------------------------------


def test_diagnosed_counts_people_with_a_positive_hiv_test_dated_up_to_e(sites: Sites) -> None:
    on_e = person(sites.north)
    took_test(on_e, E)
    twice = person(sites.north)
    took_test(twice, D(2020, 5, 1))
    took_test(twice, D(2024, 5, 1))
    after_e = person(sites.north)
    took_test(after_e, E + DAY)
    negative = person(sites.north)
    took_test(negative, D(2024, 5, 1), result="negative")
    awaited = person(sites.north)
    took_test(awaited, D(2024, 5, 1), result="")
    other_test = person(sites.north)
    took_test(other_test, D(2024, 5, 1), test="hbsag")

    # on_e and twice (once): 2 people.
    assert hiv_cascade(E) == {"diagnosed": 2, "on_art": 0, "suppressed": 0}


# --- HIV: on ART --------------------------------------------------------------------


def test_on_art_needs_an_hiv_treatment_started_by_e_and_not_ended_before_e(
    sites: Sites,
) -> None:
    on_art(person(sites.north))  # running
    ends_on_e = person(sites.north)
    took_test(ends_on_e, D(2022, 1, 1))
    treated(ends_on_e, D(2022, 2, 1), E)
    starts_on_e = person(sites.north)
    took_test(starts_on_e, D(2022, 1, 1))
    treated(starts_on_e, E)
    ended_before = person(sites.north)
    took_test(ended_before, D(2022, 1, 1))
    treated(ended_before, D(2022, 2, 1), E - DAY, outcome="stopped")
    starts_after = person(sites.north)
    took_test(starts_after, D(2022, 1, 1))
    treated(starts_after, E + DAY)
    hcv_only = person(sites.north)
    took_test(hcv_only, D(2022, 1, 1))
    treated(hcv_only, D(2022, 2, 1), condition="hcv")
    two_treatments = on_art(person(sites.north))
    treated(two_treatments, D(2024, 1, 1), site=sites.south)

    # Diagnosed: all 7. On ART: running, ends_on_e, starts_on_e and two_treatments (once).
    counts = hiv_cascade(E)
    assert (counts["diagnosed"], counts["on_art"]) == (7, 4)


def test_a_person_on_art_but_not_diagnosed_in_harbour_is_not_counted_on_art(
    sites: Sites,
) -> None:
    never_tested = person(sites.north)
    treated(never_tested, D(2023, 1, 1))
    load(never_tested, E - DAY, 20)
    diagnosed_after_e = person(sites.north)
    treated(diagnosed_after_e, D(2023, 1, 1))
    took_test(diagnosed_after_e, E + DAY)
    negative = person(sites.north)
    took_test(negative, D(2022, 12, 1), result="negative")
    treated(negative, D(2023, 1, 1))

    assert hiv_cascade(E) == {"diagnosed": 0, "on_art": 0, "suppressed": 0}


# --- HIV: suppressed ----------------------------------------------------------------


def test_suppressed_needs_treatment_started_at_least_182_days_before_e(sites: Sites) -> None:
    exactly_182 = on_art(person(sites.north), since=E - 182 * DAY)  # 2024-09-30
    load(exactly_182, E - DAY, 20)
    only_181 = on_art(person(sites.north), since=E - 181 * DAY)
    load(only_181, E - DAY, 20)

    assert hiv_cascade(E) == {"diagnosed": 2, "on_art": 2, "suppressed": 1}


def test_suppression_is_judged_on_the_treatment_running_at_e(sites: Sites) -> None:
    """Years of ART that ended, then a restart 30 days ago: not yet six months on ART."""
    restarted = person(sites.north)
    took_test(restarted, D(2019, 1, 1))
    treated(restarted, D(2019, 2, 1), D(2024, 12, 1), outcome="stopped")
    treated(restarted, E - 30 * DAY)
    load(restarted, E - DAY, 20)

    assert hiv_cascade(E) == {"diagnosed": 1, "on_art": 1, "suppressed": 0}


def test_suppressed_judges_the_latest_viral_load_of_the_last_365_days(sites: Sites) -> None:
    then_unsuppressed = on_art(person(sites.north))
    load(then_unsuppressed, D(2024, 6, 1), 40)
    load(then_unsuppressed, D(2025, 1, 15), 5000)
    then_suppressed = on_art(person(sites.north))
    load(then_suppressed, D(2024, 6, 1), 5000)
    load(then_suppressed, D(2025, 1, 15), 40)
    later_than_e_ignored = on_art(person(sites.north))
    load(later_than_e_ignored, D(2025, 1, 15), 40)
    load(later_than_e_ignored, E + DAY, 90000)
    on_art(person(sites.north))  # no viral load: not suppressed
    load(on_art(person(sites.north)), E - 365 * DAY, 40)  # 2024-03-31: outside (E − 365, E]
    a_year_less_a_day = on_art(person(sites.north))
    load(a_year_less_a_day, E - 364 * DAY, 40)
    window_edge = on_art(person(sites.north))
    load(window_edge, E - 365 * DAY, 40)  # outside: does not count
    load(window_edge, E - 364 * DAY, 5000)  # the latest in the window
    load(on_art(person(sites.north)), E - DAY, 0, condition="hcv")  # not an HIV load

    assert hiv_cascade(E) == {"diagnosed": 8, "on_art": 8, "suppressed": 3}
    assert set(hiv_steps(E).ids("suppressed")) == {
        then_suppressed.pk,
        later_than_e_ignored.pk,
        a_year_less_a_day.pk,
    }


def test_suppressed_means_below_1000_copies_so_999_counts_and_1000_does_not(
    sites: Sites,
) -> None:
    load(on_art(person(sites.north)), E, 999)
    load(on_art(person(sites.north)), E, 1000)
    load(on_art(person(sites.north)), E, 0)

    assert hiv_cascade(E)["suppressed"] == 2


def test_suppressed_people_must_be_on_art_at_e(sites: Sites) -> None:
    stopped = person(sites.north)
    took_test(stopped, D(2022, 1, 1))
    treated(stopped, D(2022, 2, 1), E - DAY, outcome="stopped")
    load(stopped, E - 10 * DAY, 20)

    assert hiv_cascade(E) == {"diagnosed": 1, "on_art": 0, "suppressed": 0}


# --- hepatitis C --------------------------------------------------------------------


def test_antibody_positive_counts_positive_antibody_tests_dated_up_to_e(sites: Sites) -> None:
    twice = person(sites.north)
    took_test(twice, D(2023, 1, 1), "hcv_antibody")
    took_test(twice, D(2024, 1, 1), "hcv_antibody")
    took_test(person(sites.north), E, "hcv_antibody")
    took_test(person(sites.north), E + DAY, "hcv_antibody")
    took_test(person(sites.north), D(2024, 1, 1), "hcv_antibody", result="negative")
    took_test(person(sites.north), D(2024, 1, 1), "hcv_rna")  # RNA alone: not antibody

    assert hcv_cascade(E)["antibody_positive"] == 2


def test_rna_tested_counts_antibody_positive_people_with_an_rna_test_of_any_result(
    sites: Sites,
) -> None:
    for result in ("positive", "negative", "indeterminate", ""):
        client = person(sites.north)
        took_test(client, D(2024, 1, 1), "hcv_antibody")
        took_test(client, D(2024, 2, 1), "hcv_rna", result=result)
    rna_after_e = person(sites.north)
    took_test(rna_after_e, D(2024, 1, 1), "hcv_antibody")
    took_test(rna_after_e, E + DAY, "hcv_rna")
    no_rna = person(sites.north)
    took_test(no_rna, D(2024, 1, 1), "hcv_antibody")
    rna_without_antibody = person(sites.north)
    took_test(rna_without_antibody, D(2024, 2, 1), "hcv_rna")
    rna_with_negative_antibody = person(sites.north)
    took_test(rna_with_negative_antibody, D(2024, 1, 1), "hcv_antibody", result="negative")
    took_test(rna_with_negative_antibody, D(2024, 2, 1), "hcv_rna")

    counts = hcv_cascade(E)
    assert counts["antibody_positive"] == 6
    assert counts["rna_tested"] == 4
    # Only the first of the four RNA tests was positive.
    assert counts["rna_positive"] == 1


def test_rna_positive_needs_a_positive_rna_test_dated_up_to_e(sites: Sites) -> None:
    rna_positive(person(sites.north))
    negative_then_positive_after_e = person(sites.north)
    took_test(negative_then_positive_after_e, D(2024, 1, 1), "hcv_antibody")
    took_test(negative_then_positive_after_e, D(2024, 2, 1), "hcv_rna", result="negative")
    took_test(negative_then_positive_after_e, E + DAY, "hcv_rna")

    counts = hcv_cascade(E)
    assert (counts["rna_tested"], counts["rna_positive"]) == (2, 1)


def test_treated_counts_rna_positive_people_with_an_hcv_treatment_started_by_e(
    sites: Sites,
) -> None:
    started_on_e = rna_positive(person(sites.north))
    treated(started_on_e, E, condition="hcv")
    ended_long_ago = rna_positive(person(sites.north), D(2022, 1, 1))
    treated(ended_long_ago, D(2022, 2, 1), D(2022, 5, 1), "hcv", "completed")
    starts_after_e = rna_positive(person(sites.north))
    treated(starts_after_e, E + DAY, condition="hcv")
    hiv_treatment = rna_positive(person(sites.north))
    treated(hiv_treatment, D(2024, 3, 1), condition="hiv")
    # Treated without a positive RNA test in Harbour: not in the cascade's treated step.
    antibody_only = person(sites.north)
    took_test(antibody_only, D(2024, 1, 1), "hcv_antibody")
    treated(antibody_only, D(2024, 3, 1), condition="hcv")

    counts = hcv_cascade(E)
    assert counts["antibody_positive"] == 5
    assert counts["rna_positive"] == 4
    assert counts["treated"] == 2


def test_cured_needs_a_completed_treatment_and_an_hcv_viral_load_of_0_from_84_days_after_its_end(
    sites: Sites,
) -> None:
    end = D(2024, 10, 1)
    cases = {
        "day_83": (end + 83 * DAY, 0, "completed"),
        "day_84": (end + 84 * DAY, 0, "completed"),  # 2024-12-24: cured
        "on_e": (E, 0, "completed"),  # cured
        "after_e": (E + DAY, 0, "completed"),
        "detected": (end + 100 * DAY, 15, "completed"),
        "stopped": (end + 100 * DAY, 0, "stopped"),
    }
    for day, copies, outcome in cases.values():
        client = rna_positive(person(sites.north))
        treated(client, D(2024, 7, 1), end, "hcv", outcome)
        load(client, day, copies, condition="hcv")
    hiv_load = rna_positive(person(sites.north))
    treated(hiv_load, D(2024, 7, 1), end, "hcv", "completed")
    load(hiv_load, end + 100 * DAY, 0, condition="hiv")
    no_end_date = rna_positive(person(sites.north))
    treated(no_end_date, D(2024, 7, 1), None, "hcv", "completed")
    load(no_end_date, end + 100 * DAY, 0, condition="hcv")

    assert hcv_cascade(E) == {
        "antibody_positive": 8,
        "rna_tested": 8,
        "rna_positive": 8,
        "treated": 8,
        "cured": 2,
    }


def test_cured_pairs_a_viral_load_with_any_completed_treatment_of_the_person(
    sites: Sites,
) -> None:
    """A first course completed long ago and cleared; a second course still running."""
    retreated = rna_positive(person(sites.north), D(2022, 1, 1))
    treated(retreated, D(2022, 2, 1), D(2022, 5, 1), "hcv", "completed")
    load(retreated, D(2022, 9, 1), 0, condition="hcv")
    treated(retreated, D(2025, 1, 1), None, "hcv", "ongoing")
    # A viral load of 0 before the end of the only completed course: not cured.
    early = rna_positive(person(sites.north))
    treated(early, D(2024, 3, 1), D(2024, 6, 1), "hcv", "completed")
    load(early, D(2024, 5, 1), 0, condition="hcv")

    assert hcv_cascade(E)["cured"] == 1


def test_cured_only_counts_people_of_the_treated_step(sites: Sites) -> None:
    """A completed course and a viral load of 0, but no positive RNA test in Harbour."""
    antibody_only = person(sites.north)
    took_test(antibody_only, D(2023, 1, 1), "hcv_antibody")
    treated(antibody_only, D(2023, 2, 1), D(2023, 5, 1), "hcv", "completed")
    load(antibody_only, D(2023, 10, 1), 0, condition="hcv")

    assert hcv_cascade(E) == {
        "antibody_positive": 1,
        "rna_tested": 0,
        "rna_positive": 0,
        "treated": 0,
        "cured": 0,
    }


# --- site scope and empty data ------------------------------------------------------


def test_a_site_counts_people_registered_or_linked_at_it_or_below_it_once(
    sites: Sites,
) -> None:
    on_art(person(sites.north_outreach))
    on_art(person(sites.south))
    on_art(person(sites.east))
    linked_to_north = on_art(person(sites.east))
    ClientLink.objects.create(client=linked_to_north, site=sites.north, since=D(2024, 1, 1))
    # Registered and linked in region A: one person, counted once there.
    both = on_art(person(sites.south))
    ClientLink.objects.create(client=both, site=sites.north_outreach, since=D(2024, 1, 1))
    # Tested and treated at East, registered at North: counted at North.
    elsewhere = person(sites.north)
    took_test(elsewhere, D(2023, 1, 1), site=sites.east)
    treated(elsewhere, D(2023, 2, 1), site=sites.east)

    region_a = sites_below("REG-A")
    assert hiv_cascade(E, region_a) == {"diagnosed": 5, "on_art": 5, "suppressed": 0}
    # North: deep (below it), linked_to_north, both (linked below it), elsewhere.
    assert hiv_cascade(E, sites_below("NTH-01"))["on_art"] == 4
    assert hiv_cascade(E, {sites.south.pk})["on_art"] == 2
    # East: east and linked_to_north (registered there).
    assert hiv_cascade(E, sites_below("REG-B"))["on_art"] == 2
    assert hiv_cascade(E, None)["on_art"] == 6


def test_counts_by_site_give_each_site_alone_what_a_query_for_that_site_gives(
    sites: Sites,
) -> None:
    north = on_art(person(sites.north))
    load(north, E - DAY, 20)
    took_test(person(sites.north), D(2024, 1, 1))  # diagnosed, not on ART
    linked = on_art(person(sites.east))
    ClientLink.objects.create(client=linked, site=sites.north, since=D(2024, 1, 1))
    # Registering links a person to the site too: that link adds nobody.
    assert ClientLink.objects.filter(client=north, site=sites.north).exists()
    deep = on_art(person(sites.north_outreach))
    ClientLink.objects.create(client=deep, site=sites.south, since=D(2024, 1, 1))
    cured = rna_positive(person(sites.south))
    treated(cured, D(2024, 2, 1), D(2024, 5, 1), "hcv", "completed")
    load(cured, D(2024, 9, 1), 0, condition="hcv")
    rna_positive(person(sites.east))

    ids = [sites.north.pk, sites.north_outreach.pk, sites.south.pk, sites.east.pk]
    by_site = cascades_by_site(E, ids)
    assert by_site[sites.north.pk]["hiv"] == {"diagnosed": 3, "on_art": 2, "suppressed": 1}
    assert by_site[sites.north_outreach.pk]["hiv"] == {"diagnosed": 1, "on_art": 1, "suppressed": 0}
    assert by_site[sites.south.pk]["hcv"] == {
        "antibody_positive": 1,
        "rna_tested": 1,
        "rna_positive": 1,
        "treated": 1,
        "cured": 1,
    }
    for site_id in ids:
        assert by_site[site_id] == {
            "hiv": hiv_cascade(E, {site_id}),
            "hcv": hcv_cascade(E, {site_id}),
        }
    assert cascades_by_site(E, []) == {}


def test_hepatitis_c_follows_the_same_site_scope(sites: Sites) -> None:
    linked = rna_positive(person(sites.east))
    ClientLink.objects.create(client=linked, site=sites.south, since=D(2024, 1, 1))
    rna_positive(person(sites.north_outreach))
    rna_positive(person(sites.east))

    assert hcv_cascade(E, sites_below("REG-A"))["rna_positive"] == 2
    assert hcv_cascade(E, sites_below("REG-B"))["rna_positive"] == 2
    assert hcv_cascade(E, {sites.north.pk})["rna_positive"] == 0


def test_without_any_records_every_step_is_zero(sites: Sites) -> None:
    person(sites.north)
    assert hiv_cascade(E) == {"diagnosed": 0, "on_art": 0, "suppressed": 0}
    assert hiv_cascade(E, sites_below("REG-A")) == {"diagnosed": 0, "on_art": 0, "suppressed": 0}
    assert hcv_cascade(E, {sites.east.pk}) == {
        "antibody_positive": 0,
        "rna_tested": 0,
        "rna_positive": 0,
        "treated": 0,
        "cured": 0,
    }


# --- the page -----------------------------------------------------------------------


def test_the_drop_sentence_speaks_of_the_people_lost_between_two_steps() -> None:
    hiv = cascade_views.HIV_STAGES
    assert cascade_views.drop_sentence(hiv[1], hiv[0], 40, 28) == (
        "12 of 40 diagnosed are not on ART"
    )
    assert cascade_views.drop_sentence(hiv[2], hiv[1], 28, 27) == (
        "1 of 28 on ART is not virally suppressed"
    )
    assert cascade_views.drop_sentence(hiv[1], hiv[0], 5, 5) == "All 5 diagnosed are on ART"
    assert cascade_views.drop_sentence(hiv[1], hiv[0], 0, 0) == ""
    hcv = cascade_views.HCV_STAGES
    assert cascade_views.drop_sentence(hcv[3], hcv[2], 9, 2) == (
        "7 of 9 RNA positive have not started treatment"
    )


def _world(cast: Cast) -> None:
    """At North, as of E: 4 diagnosed, 3 on ART, 1 suppressed; 2 antibody positive."""
    suppressed = on_art(person(cast.north))
    load(suppressed, E - DAY, 30)
    on_art(person(cast.north))
    on_art(person(cast.north))
    took_test(person(cast.north), D(2024, 6, 1))
    for _ in range(2):
        took_test(person(cast.north), D(2024, 6, 1), "hcv_antibody")
    # At South, outside the North M&E officer's scope.
    on_art(person(cast.south))


@pytest.mark.urls(__name__)
def test_an_me_officer_sees_where_people_are_lost_at_their_sites(cast: Cast) -> None:
    _world(cast)
    response = login(cast["me_officer"]).get(PAGE, {"end": E.isoformat()})
    assert response.status_code == 200
    page = response.content.decode()
    assert "31 Mar 2025" in page
    assert "1 of 4 diagnosed is not on ART" in page
    assert "2 of 3 on ART are not virally suppressed" in page
    assert "2 of 2 antibody positive have had no RNA test" in page
    assert "75% of diagnosed" in strip_tags(page)
    # North is the officer's whole scope: one block, named for it; South is not shown.
    assert "North Centre" in page
    assert "South Drop-in" not in page
    assert page.count('class="card cascade-block"') == 1


@pytest.mark.urls(__name__)
def test_a_regional_view_has_a_block_for_the_region_and_one_per_site(cast: Cast) -> None:
    _world(cast)
    Membership.objects.filter(user=cast["me_officer"]).update(site=cast.region)
    response = login(cast["me_officer"]).get(PAGE, {"end": E.isoformat()})
    page = response.content.decode()
    assert page.count('class="card cascade-block"') == 3  # Region A, North, South
    assert "All 1 diagnosed are on ART" not in page
    assert "The one person diagnosed is on ART" in page  # South's block
    assert "1 of 5 diagnosed is not on ART" in page  # Region A's block


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("role", ["outreach", "staff", "clinician", "case_manager"])
def test_front_line_roles_without_aggregates_are_refused(cast: Cast, role: str) -> None:
    assert login(cast[role]).get(PAGE).status_code == 403


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("role", ["site_manager", "me_officer", "admin"])
def test_roles_that_see_aggregates_reach_the_page(cast: Cast, role: str) -> None:
    assert login(cast[role]).get(PAGE).status_code == 200


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("31/03/2025", "is not a date"),
        ("2025-02-30", "is not a date"),
        ("3000-01-01", "is after today"),
        ("1900-01-01", "Choose a date from 1 Jan 1980 on"),
    ],
)
def test_an_invalid_as_of_date_is_explained_and_today_is_used(
    cast: Cast, value: str, says: str
) -> None:
    response = login(cast["me_officer"]).get(PAGE, {"end": value})
    assert response.status_code == 200
    page = response.content.decode()
    assert says in page
    assert 'role="alert"' in page
    assert f'value="{dt.date.today().isoformat()}"' in page


@pytest.mark.urls(__name__)
def test_without_an_as_of_date_the_page_counts_up_to_today(cast: Cast) -> None:
    took_test(person(cast.north), dt.date.today())
    page = login(cast["me_officer"]).get(PAGE).content.decode()
    assert 'role="alert"' not in page
    assert "No positive HIV test recorded" not in page
    assert "No positive hepatitis C antibody test recorded" in page
