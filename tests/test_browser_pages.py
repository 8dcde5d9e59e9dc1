"""Every screen, at phone and desktop width, held to the rules every page keeps.

``Screen.check`` fails a page with a console error (a CSP violation is one), a
server error, a horizontal scroll, or an input without a visible label, and saves
the screenshot that people review. Other browser tests check what the screens do.
"""

from __future__ import annotations

import datetime as dt
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from harbour.accounts.models import Membership, Role
from harbour.clients import services
from harbour.visits import services as visits
from tests.factory import Cast, make_cast, make_client

if TYPE_CHECKING:
    from tests.browser import Screen

pytest_plugins = ["tests.browser"]  # the browser, phone and desktop fixtures
pytestmark = pytest.mark.browser


@pytest.fixture(params=["phone", "desktop"])
def screen(request: pytest.FixtureRequest, live_server: object, transactional_db: None) -> Screen:
    # live_server and transactional_db are named here, not only inside phone/desktop,
    # so the test is known to need a flushed database before its fixtures are made.
    return request.getfixturevalue(request.param)


def test_the_stylesheet_script_and_icon_are_served(live_server: object) -> None:
    """Every screen depends on them; without them the other browser tests fail on a 404."""
    for name in ("harbour.css", "harbour.js", "favicon.svg"):
        url = f"{live_server}/static/harbour/{name}"
        try:
            with urllib.request.urlopen(url) as response:  # noqa: S310 - our own live server
                assert response.status == 200
        except urllib.error.HTTPError as exc:
            pytest.fail(
                f"{url} answers {exc.code}: the static files finders do not see "
                "harbour/static/ (STATICFILES_DIRS in harbour/settings.py)"
            )


def _world() -> Cast:
    cast = make_cast()
    staff = cast["staff"]
    keep = make_client(cast.north, staff, order="1")
    make_client(cast.north, staff, order="2")  # a possible duplicate of keep
    gone = make_client(cast.north, staff, order="3", gender="male", birth_year=1990)
    services.merge(cast["case_manager"], keep, gone, "Same person, another birth order")
    for days in (0, 3, 40):
        visits.record_contact(staff, cast.north, keep, date=dt.date.today() - dt.timedelta(days))
    # The case manager also works at South: the header offers a choice of site.
    Membership.objects.create(user=cast["case_manager"], role=Role.STAFF, site=cast.south)
    return cast


def test_every_front_line_screen(screen: Screen) -> None:
    cast = _world()
    page = screen.page
    keep = services.find(["AN", "JO", "F", "89", "1"]).client
    assert keep is not None
    screen.sign_in(cast["case_manager"], name="front-line")
    screen.check("find")
    expect(page.get_by_label("Working at")).to_have_value(str(cast.north.pk))

    # A mistake in the code is pointed out at the part that is wrong.
    page.get_by_label("Mother's first name: first two letters").fill("A1")
    page.get_by_label("Father's first name: first two letters").fill("JO")
    page.get_by_label("Sex at birth").select_option("F")
    page.get_by_label("Year of birth: last two digits").fill("89")
    page.get_by_label("Birth order, or a digit the person chooses").fill("4")
    screen.submit(page.get_by_role("button", name="Find", exact=True))
    expect(page.locator(".has-error .error")).to_contain_text("Use letters only")
    expect(page.get_by_label("Mother's first name: first two letters")).to_be_focused()
    screen.check("find-invalid-code")

    page.get_by_label("Mother's first name: first two letters").fill("AN")
    screen.submit(page.get_by_role("button", name="Find", exact=True))
    expect(page.locator(".warning")).to_contain_text("Possible duplicates")
    screen.check("find-not-found-duplicates")

    # Registering without consent is refused, and says why.
    screen.submit(page.get_by_role("button", name="Register"))
    expect(page.get_by_label("The person agrees that Harbour keeps this record")).to_be_focused()
    screen.check("find-register-no-consent")

    screen.goto(f"/clients/{keep.pk}/")
    expect(page.get_by_role("heading", name=f"Client {keep.code}")).to_be_visible()
    screen.check("profile")
    screen.submit(page.get_by_role("link", name="Edit"))
    screen.check("client-edit")
    screen.goto(f"/clients/{keep.pk}/")
    screen.submit(page.get_by_role("link", name="Client card"))
    expect(page.locator(".client-card")).to_contain_text(keep.code)
    screen.check("client-card")
    screen.goto(f"/clients/{keep.pk}/merge/")
    screen.check("client-merge")
    screen.goto("/clients/00000000-0000-0000-0000-000000000000/")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    screen.check("not-found")

    # Switching site from the header.
    screen.goto("/clients/")
    with page.expect_navigation():
        page.get_by_label("Working at").select_option(label=cast.south.name)
    expect(page.get_by_role("status")).to_contain_text("You are now working at South Drop-in")
    screen.check("find-site-switched")


def test_every_management_screen(screen: Screen) -> None:
    cast = _world()
    page = screen.page
    screen.sign_in(cast["site_manager"], name="manager")
    screen.goto("/sites/summary/")
    expect(page.get_by_role("heading", name="Summary by site")).to_be_visible()
    screen.check("summary")
    screen.submit(page.get_by_role("button", name="Sign out"))

    screen.sign_in(cast["admin"], name="admin")
    screen.goto("/sites/")
    screen.check("site-list")
    screen.goto(f"/sites/{cast.north.pk}/")
    screen.check("site-edit")
    screen.goto("/sites/new/")
    screen.check("site-new")
    screen.goto("/account/users/")
    screen.check("user-list")
    screen.goto(f"/account/users/{cast['staff'].pk}/")
    screen.check("user-edit")
    screen.goto("/account/users/new/")
    screen.check("user-new")
    screen.goto("/audit/")
    screen.check("audit-log")
    screen.submit(page.get_by_role("button", name="Check the chain"))
    screen.check("audit-verify")
    screen.goto("/clients/")  # administrators do not read client records
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    screen.check("not-allowed")


def test_a_locked_account_is_told_why_and_for_how_long(screen: Screen) -> None:
    cast = make_cast()
    page = screen.page
    screen.goto("/account/login/")
    for _ in range(5):
        page.get_by_label("Username").fill(cast["staff"].username)
        page.get_by_label("Password").fill("wrong password")
        screen.submit(page.get_by_role("button", name="Sign in"))
    expect(page.get_by_role("heading", name="This account is locked for now")).to_be_visible()
    screen.check("locked-out")


def test_a_person_with_no_role_is_told_to_ask_for_one(phone: Screen) -> None:
    cast = make_cast()
    phone.sign_in(cast.nobody)
    expect(phone.page.get_by_role("heading", name="No role yet")).to_be_visible(timeout=1000)
    phone.check("no-role")
