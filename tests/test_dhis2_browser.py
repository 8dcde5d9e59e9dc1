"""An M&E officer checks a quarter with DHIS2 and sends it, on a phone and a desktop."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from harbour.accounts.models import Role
from harbour.dhis2.demo import configure_demo, demo_uid
from harbour.visits.models import CatalogueItem, Contact, Distribution
from tests.factory import make_cast, make_client, make_user
from tests.test_dhis2_stub import StubDhis2, point_at, running

if TYPE_CHECKING:
    from tests.browser import Screen

pytest_plugins = ["tests.browser"]  # the browser, phone and desktop fixtures
pytestmark = pytest.mark.browser


@pytest.fixture
def dhis2_stub() -> Iterator[StubDhis2]:
    yield from running()


def programme(stub: StubDhis2) -> Screen | None:
    """The demo's mapping on the cast's sites, a few records in 2025Q1, DHIS2 the stub
    (which does not know the data element of hepatitis C cures)."""
    cast = make_cast()
    configure_demo()
    point_at(stub.url)
    stub.known_elements = None
    items = {
        code: CatalogueItem.objects.get_or_create(code=code, defaults={"name": code})[0]
        for code in ("needle_syringe", "naloxone_kit")
    }
    for n, (site, letters) in enumerate(
        [(cast.north, "AB"), (cast.north, "CD"), (cast.north, "EF"), (cast.south, "GH")]
    ):
        client = make_client(site, mother=letters, father=letters[::-1])
        contact = Contact.objects.create(site=site, date=dt.date(2025, 2, 3 + n), client=client)
        Distribution.objects.create(contact=contact, item=items["needle_syringe"], quantity=20)
        Distribution.objects.create(contact=contact, item=items["naloxone_kit"], quantity=1)
    return None


def test_an_officer_checks_a_quarter_with_dhis2_and_sends_it(
    desktop: Screen, dhis2_stub: StubDhis2
) -> None:
    programme(dhis2_stub)
    cured = demo_uid("data element:HCV.cascade|cured")
    dhis2_stub.known_elements = None
    officer = make_user("me_programme", Role.ME_OFFICER, None)
    page = desktop.page
    desktop.sign_in(officer)

    desktop.goto("/dhis2/")
    expect(page.get_by_role("heading", name="DHIS2 reporting")).to_be_visible()
    desktop.check("dhis2-home")

    page.get_by_label("Period", exact=True).fill("2025Q1")
    desktop.press("Enter")  # the keyboard alone: Enter shows the values
    expect(page.get_by_role("heading", name="2025Q1:")).to_be_visible()
    desktop.check("dhis2-values")

    desktop.submit(page.get_by_role("button", name="Check with DHIS2 (dry run)"))
    expect(page.locator("#result")).to_contain_text("DHIS2 would take all")
    desktop.check("dhis2-dry-run")
    assert dhis2_stub.stored == {}

    known = {v["dataElement"] for r in dhis2_stub.requests for v in r.body["dataValues"]}
    dhis2_stub.known_elements = known - {cured}
    desktop.submit(page.get_by_role("button", name="Send to DHIS2"))
    result = page.locator("#result")
    expect(result).to_contain_text("DHIS2 did not take every value")
    expect(result).to_contain_text(f"Data element not found or not accessible: `{cured}`")
    expect(result).to_contain_text("HCV.cascade Hepatitis C cascade: cured")
    desktop.check("dhis2-sent-with-conflicts")
    assert dhis2_stub.problems == []

    desktop.submit(page.get_by_role("link", name="Edit the mapping").first)
    expect(page.get_by_role("heading", name="DHIS2 mapping")).to_be_visible()
    desktop.check("dhis2-mapping")

    desktop.goto("/dhis2/server/")
    expect(page.locator("#id_new_password")).to_have_value("")
    desktop.check("dhis2-server")


def test_the_dhis2_pages_on_a_phone(phone: Screen, dhis2_stub: StubDhis2) -> None:
    programme(dhis2_stub)
    officer = make_user("me_programme", Role.ME_OFFICER, None)
    page = phone.page
    phone.sign_in(officer)

    phone.goto("/dhis2/?period=2025Q1")
    expect(page.get_by_role("heading", name="2025Q1:")).to_be_visible()
    phone.check("dhis2-values")
    phone.submit(page.get_by_role("button", name="Check with DHIS2 (dry run)"))
    expect(page.locator("#result")).to_contain_text("DHIS2 would take all")
    phone.check("dhis2-dry-run")

    phone.goto("/dhis2/mapping/")
    phone.check("dhis2-mapping")
    phone.goto("/dhis2/server/")
    phone.check("dhis2-server")
