"""Signing in through the real forms, with two-factor for the roles that need it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.factory import PASSWORD, make_cast

if TYPE_CHECKING:
    from tests.browser import Screen

pytest_plugins = ["tests.browser"]  # the browser, phone and desktop fixtures
pytestmark = pytest.mark.browser


def test_staff_sign_in_with_username_and_password(phone: Screen) -> None:
    cast = make_cast()
    phone.sign_in(cast["staff"], name="staff")
    expect(phone.page.get_by_role("heading", name="Find or register a client")).to_be_visible()
    expect(phone.page.get_by_role("banner")).to_contain_text("staff_north at North Centre")
    expect(phone.page.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_wrong_password_says_so_and_keeps_the_person_on_the_form(phone: Screen) -> None:
    cast = make_cast()
    page = phone.page
    phone.goto("/account/login/")
    page.get_by_label("Username").fill(cast["staff"].username)
    page.get_by_label("Password").fill("not the password")
    phone.submit(page.get_by_role("button", name="Sign in"))
    phone.check("login-wrong-password")
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page.get_by_label("Username")).to_have_value("staff_north")
    expect(page.get_by_label("Password")).to_have_value("")


def test_a_site_manager_sets_up_two_factor_then_is_asked_for_a_code(phone: Screen) -> None:
    cast = make_cast()
    manager = cast["site_manager"]
    page = phone.page

    phone.goto("/account/login/")
    page.get_by_label("Username").fill(manager.username)
    page.get_by_label("Password").fill(PASSWORD)
    phone.submit(page.get_by_role("button", name="Sign in"))
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    expect(page.locator(".qr svg")).to_be_visible()
    phone.check("two-factor-setup")
    # The key typed by hand is the device's key.
    device = TOTPDevice.objects.get(user=manager)
    assert not device.confirmed
    assert page.locator("code.secret").inner_text() in device.config_url

    # A wrong code is refused, clearly.
    page.get_by_label("6-digit code").fill(
        "000000" if phone.totp_code(manager) != "000000" else "111111"
    )
    phone.submit(page.get_by_role("button", name="Check code"))
    expect(page.locator(".has-error .error")).to_contain_text("That code is not right")
    phone.check("two-factor-wrong-code")
    page.wait_for_timeout(1100)  # one wrong code makes the device wait a second

    page.get_by_label("6-digit code").fill(phone.totp_code(manager))
    phone.submit(page.get_by_role("button", name="Check code"))
    expect(page.get_by_role("heading", name="Find or register a client")).to_be_visible()
    device.refresh_from_db()
    assert device.confirmed

    phone.submit(page.get_by_role("button", name="Sign out"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    # Later sign-ins: no QR code any more, just the code.
    page.get_by_label("Username").fill(manager.username)
    page.get_by_label("Password").fill(PASSWORD)
    phone.submit(page.get_by_role("button", name="Sign in"))
    expect(page.get_by_role("heading", name="Two-factor check")).to_be_visible()
    expect(page.locator(".qr")).to_have_count(0)
    phone.check("two-factor-check")
    page.get_by_label("6-digit code").fill(phone.totp_code(manager))
    phone.submit(page.get_by_role("button", name="Check code"))
    expect(page.get_by_role("heading", name="Find or register a client")).to_be_visible()
