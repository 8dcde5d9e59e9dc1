"""An administrator sets up a site and a person, then checks the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from harbour.accounts.models import Membership, User
from harbour.sites.models import Site
from tests.factory import make_cast

if TYPE_CHECKING:
    from tests.browser import Screen

pytest_plugins = ["tests.browser"]  # the browser, phone and desktop fixtures
pytestmark = pytest.mark.browser


def test_an_administrator_adds_a_site_and_a_person_and_checks_the_audit_log(
    phone: Screen,
) -> None:
    cast = make_cast()
    page = phone.page
    phone.sign_in(cast["admin"], name="admin")  # first sign-in: two-factor set-up

    # Sites
    phone.submit(page.get_by_role("link", name="Sites"))
    expect(page.get_by_role("heading", name="Regions and sites")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("North Centre")
    phone.check("site-list")
    phone.submit(page.get_by_role("link", name="Add a site or region"))
    page.get_by_label("Code").fill("EST-01")
    page.get_by_label("Name").fill("East Outreach")
    page.get_by_label("Kind").select_option(label="Outreach")
    page.get_by_label("Parent").select_option(label="Region A (REG-A)")
    phone.check("site-form")
    phone.submit(page.get_by_role("button", name="Save"))
    expect(page.get_by_role("status")).to_contain_text("Saved East Outreach.")
    expect(page.get_by_role("table")).to_contain_text("East Outreach")
    east = Site.objects.get(code="EST-01")
    assert east.parent == cast.region

    # People
    phone.submit(page.get_by_role("link", name="People"))
    expect(page.get_by_role("heading", name="People who work here")).to_be_visible()
    phone.check("user-list")
    phone.submit(page.get_by_role("link", name="Add a person"))
    page.get_by_label("Username").fill("riley")
    page.get_by_label("First name").fill("Riley")
    page.get_by_label("New password").fill("a long enough passphrase")
    page.get_by_label("Role").first.select_option(label="Site staff")
    page.get_by_label("Site").first.select_option(label="East Outreach (EST-01)")
    phone.check("user-form")
    phone.submit(page.get_by_role("button", name="Save"))
    expect(page.get_by_role("status")).to_contain_text("Saved riley.")
    expect(page.get_by_role("row", name="riley")).to_contain_text("Site staff · EST-01")
    riley = User.objects.get(username="riley")
    assert list(Membership.objects.filter(user=riley).values_list("role", "site")) == [
        ("staff", east.pk)
    ]

    # Audit log, filtered to the site just made
    phone.submit(page.get_by_role("link", name="Audit log"))
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("user.create")
    phone.check("audit-log")
    page.get_by_text("Filter the log").click()
    page.get_by_label("Action").fill("site.create")
    phone.submit(page.get_by_role("button", name="Filter"))
    table = page.get_by_role("table")
    expect(table).to_contain_text("site.create")
    expect(table).to_contain_text("EST-01")
    expect(table).not_to_contain_text("user.create")
    phone.check("audit-log-filtered")

    phone.submit(page.get_by_role("button", name="Check the chain"))
    expect(page.get_by_role("heading", name="Audit chain check")).to_be_visible()
    expect(page.locator("main")).to_contain_text("intact")
    phone.check("audit-verify")
