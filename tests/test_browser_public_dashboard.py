"""The community dashboard in a browser, signed out: on a phone passed round at a
meeting, and on a desktop projected on a wall, with the keyboard alone.

Region A has 3 people who inject drugs who got needles and syringes in the last
complete quarter (shown as "<5"), Region B 12 (hidden as "*", or 15 − 12 would give
Region A's away). In the quarter before, Region B alone had 6.

Every screen is photographed into test-artifacts/screens/ and /tmp/pub-shots/.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from harbour.reports.public_dashboard import last_complete_quarter
from harbour.sites.models import SiteKind
from tests.factory import make_cast, make_site
from tests.test_public_dashboard import came

if TYPE_CHECKING:
    from harbour.lib.periods import Period
    from tests.browser import Screen

pytest_plugins = ["tests.browser"]  # the browser, phone and desktop fixtures
pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/pub-shots")
PAGE = "/public/dashboard/"


def shot(screen: Screen, name: str) -> None:
    """Hold the page to the rules every page keeps, and keep a copy of its picture."""
    screen.check(name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    screen.page.screenshot(path=str(SHOTS / f"{name}-{screen.kind}.png"), full_page=True)


def programme() -> tuple[Period, Period]:
    """The last complete quarter and the one before it, with people in both."""
    cache.clear()
    cast = make_cast()
    east = make_site(
        "EST-01",
        parent=make_site("REG-B", SiteKind.REGION, name="Region B"),
        name="East Harbour Centre",
    )
    latest = last_complete_quarter(timezone.localdate())
    before = last_complete_quarter(latest.start)
    day = latest.start + dt.timedelta(days=10)
    came(cast.north, 3, 7, day)
    came(east, 12, 8, day)
    came(east, 6, 6, before.start + dt.timedelta(days=10))
    return latest, before


def test_a_community_meeting_reads_the_dashboard_on_a_phone(phone: Screen) -> None:
    latest, before = programme()
    page = phone.page
    phone.goto(PAGE)
    expect(page.get_by_role("heading", level=1)).to_contain_text("our work in numbers")
    expect(page.get_by_label("Period")).to_have_value(latest.code)
    legend = page.get_by_role("complementary", name="What the signs mean")
    expect(legend).to_contain_text("<5 means between 1 and 4 people")
    expect(legend).to_contain_text("* means hidden so a small number cannot be worked out")
    needles = page.locator("#needles")
    expect(needles.locator(".community-number").first).to_have_text("50%")
    table = needles.get_by_role("table", name="People who inject drugs who got needles")
    expect(table.get_by_role("row", name="Region A")).to_contain_text("<5")
    expect(table.get_by_role("row", name="Region B")).to_contain_text("*")
    expect(table.get_by_role("row", name="Whole programme")).to_contain_text("15")
    # Nothing of a person, a site or a worker.
    for secret in ("North Centre", "NTH-01", "East Harbour", "EST-01", "Sign out"):
        expect(page.locator("main")).not_to_contain_text(secret)
    shot(phone, "community-dashboard")

    # The quarter before: Region B's 6 is shown, Region A had nobody.
    page.get_by_label("Period").select_option(before.code)
    phone.submit(page.get_by_role("button", name="Show"))
    assert f"period={before.code}" in page.url
    table = page.locator("#needles").get_by_role("table").first
    expect(table.get_by_role("row", name="Region B")).to_contain_text("6")
    expect(table.get_by_role("row", name="Region A")).to_contain_text("0")
    shot(phone, "community-dashboard-before")

    # A quarter still running is refused, naming the field.
    phone.goto(f"{PAGE}?period=2099Q1")
    expect(page.get_by_role("alert")).to_contain_text("Period: 2099Q1 is not over yet")
    shot(phone, "community-dashboard-error")


def test_the_dashboard_projected_at_a_meeting_works_with_the_keyboard(desktop: Screen) -> None:
    _latest, before = programme()
    page = desktop.page
    desktop.goto(PAGE)
    expect(page.locator("#hiv-care")).to_be_visible()
    shot(desktop, "community-dashboard")

    # From the top: the skip link, the brand, then the period and its button.
    page.get_by_label("Period").focus()
    page.keyboard.press("ArrowDown")  # the list is newest first: the quarter before
    page.keyboard.press("Tab")
    assert desktop.focused() == "Show"
    desktop.press("Enter")
    expect(page.get_by_label("Period")).to_have_value(before.code)
    # The topics jump to their section.
    page.get_by_role("link", name="Hepatitis C care").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#hcv-care")).to_be_in_viewport()
    shot(desktop, "community-dashboard-before")

    # The same table to take away.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download this table (CSV)").click()
    assert download.value.suggested_filename == f"harbour-community-{before.code}.csv"
