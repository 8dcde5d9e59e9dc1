"""The reports pages on a phone: an M&E officer estimates the number of people who
inject drugs from two lists, fixes a mistyped line and keeps the estimate; an
administrator reads the coverage bands.

Every screen is photographed into test-artifacts/screens/ and /tmp/tgt-shots/.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from harbour.reports.models import Population, PopulationEstimate
from tests.factory import make_cast

if TYPE_CHECKING:
    from tests.browser import Screen

pytest_plugins = ["tests.browser"]  # the browser, phone and desktop fixtures
pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/tgt-shots")
FIRST = ["ANJOF891", "BEPAM902", "CAREF851", "DILUM773", "ELMAF994", "FRTOM881", "GISAF012"]
SECOND = ["DILUM773", "ELMAF994", "FRTOM881", "GISAF012", "HAVIM923", "IRKAF874", "JUNOM955"]


def shot(screen: Screen, name: str) -> None:
    """Hold the page to the rules every page keeps, and keep a copy of its picture."""
    screen.check(name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    screen.page.screenshot(path=str(SHOTS / f"{name}-{screen.kind}.png"), full_page=True)


def test_an_me_officer_estimates_the_population_from_two_lists_on_a_phone(
    phone: Screen,
) -> None:
    cast = make_cast()
    page = phone.page
    phone.sign_in(cast["me_officer"])
    phone.goto("/reports/capture-recapture/")
    shot(phone, "capture-empty")

    # A line mistyped: the error names the list and the line, and the list stays there.
    page.get_by_label("First list: paste its UICs").fill(
        "\n".join([*FIRST[:3], "ANJO", *FIRST[3:]])
    )
    page.get_by_label("Second list: paste its UICs").fill("\n".join(SECOND))
    phone.submit(page.get_by_role("button", name="Match the lists and estimate"))
    expect(page.get_by_text("The first list: line 4 is not a UIC")).to_be_visible()
    shot(phone, "capture-error")

    page.get_by_label("First list: paste its UICs").fill("\n".join(FIRST))
    phone.submit(page.get_by_role("button", name="Match the lists and estimate"))
    # n1 = n2 = 7, m = 4: 8·8/5 − 1 = 11.8, about 12 people; 10 seen.
    expect(page.get_by_role("heading", name="About 12 people")).to_be_visible()
    assert page.get_by_label("First list: paste its UICs").input_value() == ""
    shot(phone, "capture-result")

    page.get_by_label("Where").select_option(label="North Centre (NTH-01)")
    phone.submit(page.get_by_role("button", name="Save as the population estimate"))
    year = timezone.localdate().year
    assert f"Saved 12 as the number of people who inject drugs in {year}" in phone.message()
    shot(phone, "capture-saved")
    saved = PopulationEstimate.objects.get()
    assert (saved.population, saved.site, saved.estimate) == (Population.PWID, cast.north, 12)


def test_an_administrator_reads_the_coverage_bands_on_a_phone(phone: Screen) -> None:
    cast = make_cast()
    phone.sign_in(cast["admin"])
    phone.goto("/reports/targets/")
    expect(phone.page.get_by_role("heading", name="Coverage bands and targets")).to_be_visible()
    shot(phone, "targets")
