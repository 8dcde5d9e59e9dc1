"""The dashboards in a browser, on a small seeded programme (`harbour seed --demo`).

An M&E officer who works for the whole programme opens the programme's dashboard,
changes the period with the keyboard and opens a chart's table; the site manager of the
main site is sent to their own site's dashboard. Both at desktop and phone width: the
tiles, the charts (served as SVG images) and their tables must load without a CSP
error, without sideways scrolling, and with every band said in words.

Every screen is photographed into test-artifacts/screens/ and /tmp/dash-shots/.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from harbour.accounts.models import User
from harbour.demo import services as demo
from harbour.reports.charts import CHARTS
from harbour.reports.dashboard import last_complete_quarter, shifted
from tests.factory import reference_data

if TYPE_CHECKING:
    from tests.browser import Screen

pytest_plugins = ["tests.browser"]  # the browser, phone and desktop fixtures
pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/dash-shots")

# Loaded means drawn: an <img> whose SVG failed or was refused has no natural width.
_BROKEN_IMAGES = """
() => Array.from(document.images)
  .filter((img) => !(img.complete && img.naturalWidth > 0))
  .map((img) => img.currentSrc || img.src)
"""


def shot(screen: Screen, name: str) -> None:
    """Hold the page to the rules every page keeps, and keep a copy of its picture."""
    screen.page.wait_for_load_state("networkidle")
    assert screen.page.evaluate(_BROKEN_IMAGES) == [], f"{name}: charts did not load"
    screen.check(name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    screen.page.screenshot(path=str(SHOTS / f"{name}-{screen.kind}.png"), full_page=True)


def seed() -> None:
    # A browser test before this one in the worker may have flushed the catalogue.
    reference_data()
    # In a transaction of our own: seeding outside one switches SQLite's journal mode,
    # which another open connection to the test database refuses ("database is locked").
    with transaction.atomic():
        demo.seed(seed=1, sites=4, clients=150, days=400, demo=True, end=timezone.localdate())


def sign_in(screen: Screen, username: str) -> None:
    screen.sign_in(User.objects.get(username=username), demo.demo_password(username))


def read_programme_dashboard(screen: Screen) -> None:
    page = screen.page
    quarter = last_complete_quarter(timezone.localdate())
    sign_in(screen, "me")
    screen.goto("/dashboards/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("whole programme")
    expect(page.get_by_label("Period")).to_have_value(quarter.code)
    tiles = page.locator(".dash-tile")
    assert tiles.count() >= 11
    # The dashboard's styles are there (harbour.css is shared: a lost section shows here).
    assert page.locator(".dash-tiles").evaluate("e => getComputedStyle(e).display") == "grid"
    # A band is never a colour alone: each coloured tile says its band in words.
    banded = 0
    for level in ("low", "medium", "high"):
        for tile in page.locator(f".dash-tile.dash-{level}").all():
            expect(tile.locator(".dash-band")).to_have_text(f"{level.capitalize()} coverage")
            banded += 1
    texts = page.locator(".dash-tile").all_inner_texts()
    assert banded >= 3, texts  # PRV.8, PRV.10 and PRV.11 at least
    assert page.locator("figure.dash-chart img").count() == len(CHARTS)
    shot(screen, "dashboard-programme")

    # A chart's figures, as a table, from the keyboard.
    summary = page.locator("figure.dash-chart summary").first
    summary.focus()
    page.keyboard.press("Enter")
    table = page.locator("figure.dash-chart table").first
    expect(table).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(8)  # the trend's eight quarters
    shot(screen, "dashboard-programme-table")

    # The period before, chosen with the keyboard alone.
    before = shifted(quarter, -1).code
    select = page.get_by_label("Period")
    select.focus()
    select.select_option(before)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Show")).to_be_focused()
    screen.press("Enter")
    assert f"period={before}" in page.url
    expect(page.locator(".lead")).to_contain_text(before)
    shot(screen, "dashboard-programme-earlier")


def read_site_dashboard(screen: Screen) -> None:
    page = screen.page
    sign_in(screen, "sitemanager")
    screen.goto("/dashboards/")
    assert "/dashboards/site/" in page.url  # sent to their own site
    expect(page.locator(".dash-tile").first).to_be_visible()
    expect(page.get_by_role("link", name="PDF report")).to_be_visible()
    shot(screen, "dashboard-site")


def test_the_dashboards_on_a_desktop(desktop: Screen) -> None:
    seed()
    read_programme_dashboard(desktop)
    desktop.page.context.clear_cookies()
    read_site_dashboard(desktop)


def test_the_dashboards_on_a_phone(phone: Screen) -> None:
    seed()
    read_programme_dashboard(phone)
    phone.page.context.clear_cookies()
    read_site_dashboard(phone)
