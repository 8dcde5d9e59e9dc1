"""The counter's first screen, driven like a person at the counter would."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from harbour.clients.models import Client
from harbour.visits.models import Contact
from tests.factory import make_cast, make_client

if TYPE_CHECKING:
    from tests.browser import Screen

pytest_plugins = ["tests.browser"]  # the browser, phone and desktop fixtures
pytestmark = pytest.mark.browser

CLIENT_HEADING = re.compile(r"^Client [A-Z0-9]{5}-[A-Z0-9]{5}$")


def type_uic_with_tab_and_without(screen: Screen) -> None:
    """Type ANJOF891 the way people do: sometimes Tab after a complete part, sometimes not.

    The focus must land on each part in turn either way.
    """
    keys = screen.page.keyboard
    assert screen.focused() == "uic_mother", "the page should start in the first part"
    keys.type("an")
    assert screen.focused() == "uic_father", "a complete part moves on by itself"
    keys.press("Tab")
    assert screen.focused() == "uic_father", "Tab after the move must not skip a part"
    keys.type("jo")
    assert screen.focused() == "uic_sex"
    keys.type("F")  # picks "Female" in the list
    keys.press("Tab")
    assert screen.focused() == "uic_year"
    keys.type("89")
    assert screen.focused() == "uic_order"
    keys.press("Tab")
    assert screen.focused() == "uic_order", "Tab after the move must not skip a part"
    keys.type("1")
    assert screen.focused() == "uic_order", "the last part stays put, ready for Enter"


def test_find_or_register_with_the_keyboard_alone(phone: Screen) -> None:
    cast = make_cast()
    page = phone.page
    phone.sign_in(cast["staff"])
    phone.check("find")

    type_uic_with_tab_and_without(phone)
    expect(page.get_by_label("Mother's first name: first two letters")).to_have_value("AN")
    phone.press("Enter")

    expect(page.get_by_role("heading", name="No client with this code")).to_be_focused()
    phone.check("find-not-found")
    keys = page.keyboard
    keys.press("Tab")
    assert phone.focused() == "gender"
    keys.type("Fe")
    keys.press("Tab")
    assert phone.focused() == "birth_year"
    keys.type("1989")
    keys.press("Tab")
    keys.type("Y")
    keys.press("Tab")
    assert phone.focused() == "opioid_dependent"
    keys.press("Tab")
    assert phone.focused() == "consent"
    keys.press("Space")
    expect(page.get_by_label("The person agrees that Harbour keeps this record")).to_be_checked()
    keys.press("Tab")
    assert phone.focused() == "phone"
    phone.press("Enter")  # registers: Enter in the registration part does not search again

    expect(page.get_by_role("heading", name=CLIENT_HEADING)).to_be_visible()
    client = Client.objects.get()
    expect(page.locator(".messages")).to_contain_text(f"Registered. Client code: {client.code}")
    assert (client.gender, client.birth_year, client.injects) == ("female", 1989, "yes")
    html = page.content()
    assert "ANJOF891" not in html
    assert not re.search(r"AN.?JO.?F.?89.?1", html), "the UIC must never come back in the page"
    phone.check("profile-registered")

    # The same person comes back: the same parts open their record directly.
    phone.submit(page.get_by_role("link", name="Find or register"))
    type_uic_with_tab_and_without(phone)
    phone.press("Enter")
    assert page.url == phone.url(f"/clients/{client.pk}/")
    expect(page.get_by_role("heading", name=f"Client {client.code}")).to_be_visible()
    assert "ANJOF891" not in page.content()
    assert Client.objects.count() == 1


def test_a_code_one_part_away_warns_of_a_possible_duplicate(phone: Screen) -> None:
    cast = make_cast()
    first = make_client(cast.north, cast["staff"])  # AN JO F 89 1
    page = phone.page
    phone.sign_in(cast["staff"])

    page.get_by_label("Mother's first name: first two letters").fill("AN")
    page.get_by_label("Father's first name: first two letters").fill("JO")
    page.get_by_label("Sex at birth").select_option("F")
    page.get_by_label("Year of birth: last two digits").fill("89")
    page.get_by_label("Birth order, or a digit the person chooses").fill("2")
    phone.submit(page.get_by_role("button", name="Find", exact=True))

    expect(page.get_by_role("heading", name="No client with this code")).to_be_visible()
    warning = page.locator(".warning")
    expect(warning).to_contain_text("Possible duplicate")
    expect(warning.get_by_role("link", name=first.code)).to_be_visible()
    phone.check("find-possible-duplicate")

    phone.submit(warning.get_by_role("link", name=first.code))
    assert page.url == phone.url(f"/clients/{first.pk}/")


def test_an_anonymous_visit_is_counted_with_one_button(phone: Screen) -> None:
    cast = make_cast()
    page = phone.page
    phone.sign_in(cast["outreach"])
    phone.submit(page.get_by_role("button", name="Count a visit only"))
    expect(page.get_by_role("status")).to_contain_text("Anonymous contact recorded")
    phone.check("find-anonymous-recorded")
    contact = Contact.objects.get()
    assert contact.client is None
    assert contact.site == cast.north


def test_a_client_card_code_opens_the_record(phone: Screen) -> None:
    cast = make_cast()
    client = make_client(cast.north, cast["staff"])
    page = phone.page
    phone.sign_in(cast["staff"])
    page.get_by_label("Client code from the card").fill(client.code.lower())
    phone.submit(page.get_by_role("button", name="Open"))
    expect(page.get_by_role("heading", name=f"Client {client.code}")).to_be_visible()

    phone.submit(page.get_by_role("button", name="Quick visit, nothing handed out"))
    expect(page.get_by_role("status")).to_contain_text(f"Contact recorded for {client.code}")
    expect(page.locator("section", has_text="Contacts")).to_contain_text("North Centre")
    phone.check("profile-contact-recorded")
