"""Service contacts, overdoses, stock and their set-up, driven as people at a site would.

The first test is the issue's promise, measured end to end through the real screens:
a trained worker records a typical needle and syringe contact with the keyboard
alone in under 15 seconds, from typing the client's code to the saved contact.
"""

from __future__ import annotations

import datetime as dt
import time
from importlib import import_module
from typing import TYPE_CHECKING

import pytest
from django.apps import apps
from playwright.sync_api import expect

from harbour.accounts.models import Role
from harbour.sites.models import SiteKind
from harbour.stock import services as stock
from harbour.stock.models import Balance
from harbour.visits import services as visits
from harbour.visits.models import CatalogueItem, ConsumptionSession, Contact, Overdose, SiteSession
from tests.factory import make_cast, make_client, make_site, make_user, today

if TYPE_CHECKING:
    from tests.browser import Screen

pytest_plugins = ["tests.browser"]  # the browser, phone and desktop fixtures
pytestmark = pytest.mark.browser

KEY_DELAY_MS = 60  # between keystrokes: a practised worker's pace, not a machine's
TIME_LIMIT_S = 15.0  # the promise for a typical contact


@pytest.fixture(params=["phone", "desktop"])
def screen(request: pytest.FixtureRequest, live_server: object, transactional_db: None) -> Screen:
    return request.getfixturevalue(request.param)


def default_catalogue() -> None:
    """The catalogue every programme starts with, from its data migration.

    A transactional test's flush empties every table, the migration's rows too.
    """
    import_module("harbour.visits.migrations.0003_default_catalogue").add(apps, None)


def item(code: str) -> CatalogueItem:
    return CatalogueItem.objects.get(code=code)


def stock_up(site: object, **quantities: int) -> None:
    for code, quantity in quantities.items():
        stock.deliver(None, site, item(code), quantity)


def strokes(screen: Screen, *keys: str) -> None:
    """Type as a person does: text key by key, and Tab as a key, with a pause after each."""
    keyboard = screen.page.keyboard
    for key in keys:
        if key == "Tab":
            keyboard.press(key)
        else:
            keyboard.type(key, delay=KEY_DELAY_MS)
        screen.page.wait_for_timeout(KEY_DELAY_MS)


def tab_to(screen: Screen, name: str, limit: int = 40) -> None:
    """Press Tab until the keyboard is on ``name``: proof it is reachable without a mouse."""
    for _ in range(limit):
        if screen.focused().startswith(name):
            return
        screen.page.keyboard.press("Tab")
    pytest.fail(f"{name!r} cannot be reached with Tab (stuck at {screen.focused()!r})")


def handed_out(contact: Contact) -> set[tuple[str, int, str, bool]]:
    return {
        (d.item.code, d.quantity, d.option, d.secondary)
        for d in contact.distributions.select_related("item")
    }


# -- 1. the timed flow -------------------------------------------------------------------


def test_a_needle_and_syringe_contact_takes_under_15_seconds_by_keyboard(phone: Screen) -> None:
    cast = make_cast()
    default_catalogue()
    client = make_client(cast.north, cast["staff"])  # AN JO F 89 1
    stock_up(cast.north, needle_syringe=1000, swab=1000, water_ampoule=1000)
    page = phone.page
    phone.sign_in(cast["staff"])
    assert page.url == phone.url("/clients/"), "staff start on the find page"
    assert phone.focused() == "uic_mother", "the find page starts in the first part of the code"

    paused = 0.0  # the screenshot of the filled form is ours, not the worker's time
    loading = 0.0  # the part of the time spent waiting for Harbour, not typing

    def enter() -> None:
        nonlocal loading
        before = time.monotonic()
        phone.press("Enter")
        loading += time.monotonic() - before

    start = time.monotonic()

    # The code, with Tab after each part out of habit: a complete part moves on by
    # itself, and the Tab right after such a move is not taken twice.
    strokes(phone, "an", "Tab", "jo", "Tab", "f", "Tab", "89", "Tab", "1")
    assert phone.focused() == "uic_order"
    enter()

    expect(page.get_by_role("heading", name=f"Client {client.code}")).to_be_visible()
    expect(page.get_by_role("link", name="Record a contact")).to_be_focused()
    enter()

    # 20 needles and syringes (usual size), 20 swabs, 20 water ampoules. The size
    # select is not in the way: Tab goes from one quantity to the next.
    expect(page.get_by_role("heading", name=f"Contact with {client.code}")).to_be_visible()
    assert phone.focused() == "qty_needle_syringe", "the form opens on the first quantity"
    strokes(phone, "20", "Tab")
    assert phone.focused() == "qty_swab", "Tab goes straight to the next quantity"
    strokes(phone, "20", "Tab")
    assert phone.focused() == "qty_water_ampoule"
    strokes(phone, "20")

    before = time.monotonic()
    phone.check("contact-form-filled")
    paused += time.monotonic() - before
    assert phone.focused() == "qty_water_ampoule"

    enter()
    expect(page.get_by_role("status")).to_contain_text(
        f"Contact saved for {client.code}: 60 items handed out."
    )
    elapsed = time.monotonic() - start - paused
    print(
        f"\nkeyboard-only NSP contact, code to saved contact: {elapsed:.2f} s "
        f"({loading:.2f} s of it waiting for the three pages to load)"
    )

    assert page.url == phone.url(f"/clients/{client.pk}/")
    expect(page.get_by_role("link", name="Record a contact")).to_be_focused()
    phone.check("contact-saved")
    assert elapsed < TIME_LIMIT_S, f"the contact took {elapsed:.1f} s, over {TIME_LIMIT_S} s"

    contact = Contact.objects.get()
    assert (contact.client, contact.site, contact.created_by) == (
        client,
        cast.north,
        cast["staff"],
    )
    assert handed_out(contact) == {
        ("needle_syringe", 20, "1 ml 29G", False),
        ("swab", 20, "", False),
        ("water_ampoule", 20, "", False),
    }
    assert Balance.objects.get(site=cast.north, item__code="needle_syringe").on_hand == 980


# -- 2. an anonymous contact with equipment for others and a drop-in service --------------


def test_an_anonymous_contact_records_equipment_for_others_and_a_shower(phone: Screen) -> None:
    cast = make_cast()
    default_catalogue()
    page = phone.page
    phone.sign_in(cast["outreach"])
    page.get_by_role("link", name="Record anonymous contact").focus()
    phone.press("Enter")

    expect(page.get_by_role("heading", name="Contact with an anonymous person")).to_be_visible()
    assert phone.focused() == "qty_needle_syringe"
    # Another size than the usual one: Shift+Tab reaches it, right before the quantity.
    page.keyboard.press("Shift+Tab")
    assert phone.focused() == "option_needle_syringe"
    page.keyboard.press("ArrowDown")  # 1 ml 27G
    page.keyboard.press("Tab")
    strokes(phone, "10")

    # "For others" opens from the keyboard, and its first input is next in line.
    tab_to(phone, "For others")
    page.keyboard.press("Enter")
    expect(page.locator("details", has_text="For others")).to_have_attribute("open", "")
    page.keyboard.press("Tab")
    assert phone.focused() == "secondary_needle_syringe"
    strokes(phone, "30")

    tab_to(phone, "Other services in this contact")
    page.keyboard.press("Enter")
    tab_to(phone, "dropin_services")  # Meal, then Shower
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    shower = page.get_by_label("Shower")
    expect(shower).to_be_checked()
    page.get_by_label("Naloxone training given").check()
    page.get_by_label("Referral note").fill("Hepatitis C test at the clinic")
    phone.check("contact-anonymous-filled")

    phone.submit(page.get_by_role("button", name="Save contact").last)
    expect(page.get_by_role("status")).to_contain_text(
        "Contact saved for an anonymous person: 40 items handed out."
    )
    assert page.url == phone.url("/clients/")
    phone.check("contact-anonymous-saved")

    contact = Contact.objects.get()
    assert contact.client is None
    assert handed_out(contact) == {
        ("needle_syringe", 10, "1 ml 27G", False),
        ("needle_syringe", 30, "1 ml 27G", True),
    }
    assert contact.dropin_services == ["shower"]
    assert contact.naloxone_training is True
    assert contact.referral_note == "Hepatitis C test at the clinic"


# -- 3. a drug consumption room ------------------------------------------------------------


def test_a_consumption_room_records_the_supervised_session(screen: Screen) -> None:
    cast = make_cast()
    default_catalogue()
    room = make_site("DCR-01", SiteKind.DCR, parent=cast.region, name="Harbour Room")
    worker = make_user("dana_dcr", Role.STAFF, room)
    client = make_client(room, worker)
    page = screen.page
    screen.sign_in(worker)
    screen.goto(f"/clients/{client.pk}/")
    screen.submit(page.get_by_role("link", name="Record a contact"))

    session = page.locator("details", has_text="Supervised consumption session")
    expect(session).to_have_attribute("open", "")
    page.get_by_label("Needles and syringes", exact=True).fill("2")
    page.get_by_label("Consumption session started").fill("14:05")
    page.get_by_label("Ended").fill("14:40")
    page.get_by_label("Overdose during the session").check()
    page.get_by_label("Response (oxygen, naloxone, ambulance…)").fill("Oxygen; stayed with them")
    screen.check("contact-dcr")
    screen.submit(page.get_by_role("button", name="Save contact").first)
    expect(page.get_by_role("status")).to_contain_text(f"Contact saved for {client.code}")

    saved = ConsumptionSession.objects.get()
    assert (saved.contact.client, saved.contact.site) == (client, room)
    assert (saved.started, saved.ended) == (dt.time(14, 5), dt.time(14, 40))
    assert saved.overdose is True
    assert saved.response == "Oxygen; stayed with them"


def test_a_contact_at_a_fixed_site_has_no_consumption_fields(phone: Screen) -> None:
    cast = make_cast()
    default_catalogue()
    phone.sign_in(cast["staff"])
    phone.goto("/visits/contact/")
    expect(phone.page.get_by_label("Consumption session started")).to_have_count(0)


# -- 4. overdoses and the site's day --------------------------------------------------------


def test_an_overdose_report_shows_on_the_sites_day(phone: Screen, desktop: Screen) -> None:
    cast = make_cast()
    default_catalogue()
    staff = cast["staff"]
    client = make_client(cast.north, staff)
    for days_ago, outcome in ((2, "survived"), (5, "survived"), (5, "unknown"), (20, "died")):
        visits.report_overdose(
            staff, cast.north, date=today() - dt.timedelta(days_ago), outcome=outcome
        )
    visits.report_overdose(staff, cast.south, date=today())  # another site: not counted here
    page = phone.page
    phone.sign_in(staff)
    phone.submit(page.get_by_role("link", name="Today", exact=True))
    expect(page.get_by_role("heading", name="North Centre today")).to_be_visible()
    phone.submit(page.get_by_role("link", name="Report an overdose"))

    page.get_by_label("How we know").select_option(label="Reported by a peer")
    page.get_by_label("Client code, if the person is registered").fill(client.code.lower())
    page.get_by_label("Naloxone doses given").fill("2")
    page.get_by_label("Outcome").select_option(label="Survived")
    page.get_by_label("Ambulance called").select_option(label="Yes")
    phone.check("overdose-form")
    phone.submit(page.get_by_role("button", name="Save report"))

    expect(page.get_by_role("status")).to_contain_text("Overdose report saved")
    tile = page.locator(".tile", has_text="Overdoses, last 14 days")
    expect(tile.locator(".big")).to_have_text("4")  # 3 this fortnight + today's; not South's
    expect(tile).to_contain_text("1 reversed with naloxone")
    expect(page.locator(".bar-col")).to_have_count(14)
    expect(page.locator(".bar-col").last.locator(".bar-value")).to_have_text("1")
    expect(page.locator(".bar.h100")).to_have_count(1)  # the day with two is the highest
    phone.check("site-overview")

    reported = Overdose.objects.get(naloxone_doses=2)
    assert (reported.client, reported.site, reported.source) == (client, cast.north, "peer")
    assert (reported.outcome, reported.ems_called) == ("survived", "yes")

    desktop.sign_in(staff)
    desktop.goto("/visits/site/")
    expect(desktop.page.locator(".tile .big").nth(1)).to_have_text("4")
    desktop.check("site-overview")


def test_an_unknown_client_code_in_an_overdose_report_is_pointed_out(phone: Screen) -> None:
    cast = make_cast()
    page = phone.page
    phone.sign_in(cast["staff"])
    phone.goto("/visits/overdose/")
    page.get_by_label("Client code, if the person is registered").fill("ZZZZZ-ZZZZZ")
    phone.submit(page.get_by_role("button", name="Save report"))
    expect(page.locator(".has-error .error")).to_contain_text("No client with that code")
    expect(page.get_by_label("Client code, if the person is registered")).to_be_focused()
    phone.check("overdose-form-error")
    assert not Overdose.objects.exists()


# -- 5. stock ------------------------------------------------------------------------------


def test_staff_record_stock_and_a_manager_is_warned_before_it_runs_out(
    phone: Screen, desktop: Screen
) -> None:
    cast = make_cast()
    default_catalogue()
    staff = cast["staff"]
    # 60 needles and syringes and 30 swabs handed out over the last 30 days: 2 and 1 a day.
    stock_up(cast.north, needle_syringe=80, swab=1000)
    for days_ago in (1, 5, 9):
        visits.record_contact(
            staff,
            cast.north,
            date=today() - dt.timedelta(days_ago),
            lines=[visits.Line(item("needle_syringe"), 20), visits.Line(item("swab"), 10)],
        )
    page = phone.page
    phone.sign_in(staff)
    phone.submit(page.get_by_role("link", name="Stock", exact=True))
    expect(page.get_by_role("heading", name="Stock at North Centre")).to_be_visible()
    phone.check("stock")

    page.get_by_role("link", name="Record a delivery or a count").click()  # down to the form
    expect(page.get_by_role("heading", name="Record a stock movement")).to_be_in_viewport()
    page.get_by_label("What happened").select_option(label="Delivery received")
    page.get_by_label("Item").select_option(label="Water ampoules")
    page.get_by_label("Quantity").fill("500")
    page.get_by_label("Reason or note").fill("Monthly delivery")
    phone.submit(page.get_by_role("button", name="Save"))
    expect(page.get_by_role("status")).to_contain_text("Stock of Water ampoules updated.")

    page.get_by_label("What happened").select_option(label="Stock count")
    page.get_by_label("Item").select_option(label="Alcohol swabs")
    page.get_by_label("Quantity").fill("950")
    phone.submit(page.get_by_role("button", name="Save"))
    expect(page.get_by_role("status")).to_contain_text("Stock of Alcohol swabs updated.")
    expect(page.locator(".movements")).to_contain_text("counted 950")
    phone.check("stock-recorded")
    assert Balance.objects.get(site=cast.north, item__code="water_ampoule").on_hand == 500
    assert Balance.objects.get(site=cast.north, item__code="swab").on_hand == 950

    for screen in (phone, desktop):
        page = screen.page
        if screen is phone:
            screen.submit(page.get_by_role("button", name="Sign out"))
        screen.sign_in(cast["site_manager"])
        screen.goto("/stock/")
        needles = page.get_by_role("row", name="Needles and syringes")
        expect(needles).to_contain_text("Running out: order more")
        expect(needles).to_contain_text("10")  # 20 on hand at 2 a day
        expect(page.get_by_role("row", name="Alcohol swabs")).to_contain_text("Enough")
        screen.check("stock-warning")
        screen.goto("/visits/site/")
        expect(page.locator("li.warn", has_text="Needles and syringes")).to_contain_text(
            "order more"
        )
        screen.check("site-overview-stock-warning")


def test_a_front_line_worker_without_stock_duties_only_reads_the_levels(phone: Screen) -> None:
    cast = make_cast()
    default_catalogue()
    phone.sign_in(cast["outreach"])
    phone.goto("/stock/")
    expect(phone.page.get_by_role("heading", name="Stock at North Centre")).to_be_visible()
    expect(phone.page.get_by_label("What happened")).to_have_count(0)
    phone.check("stock-read-only")


# -- 6. set-up: the catalogue and sessions ----------------------------------------------------


def test_an_administrator_adds_an_item_with_options_to_the_catalogue(screen: Screen) -> None:
    cast = make_cast()
    default_catalogue()
    page = screen.page
    screen.sign_in(cast["admin"])
    screen.submit(page.get_by_role("link", name="Catalogue"))
    expect(page.get_by_role("heading", name="What the programme hands out")).to_be_visible()
    screen.check("catalogue")

    screen.submit(page.get_by_role("link", name="Add an item"))
    page.get_by_label("Code").fill("pipe_mouthpiece")
    page.get_by_label("Name").fill("Pipe mouthpieces")
    page.get_by_label("Sort order").fill("85")
    page.get_by_label("Options (sizes, gauges…)").fill("Small\nLarge")
    screen.check("catalogue-item-new")
    screen.submit(page.get_by_role("button", name="Save"))

    expect(page.get_by_role("status")).to_contain_text("Saved Pipe mouthpieces.")
    row = page.get_by_role("row", name="Pipe mouthpieces")
    expect(row).to_contain_text("Small, Large")
    added = CatalogueItem.objects.get(code="pipe_mouthpiece")
    assert (added.name, added.options, added.active) == (
        "Pipe mouthpieces",
        ["Small", "Large"],
        True,
    )

    screen.submit(row.get_by_role("link", name="Pipe mouthpieces"))
    expect(page.get_by_label("Code")).to_be_disabled()
    screen.check("catalogue-item-edit")


def test_a_site_manager_adds_a_women_only_session(screen: Screen) -> None:
    cast = make_cast()
    default_catalogue()
    page = screen.page
    screen.sign_in(cast["site_manager"])
    screen.submit(page.get_by_role("link", name="Sessions"))
    expect(page.get_by_role("heading", name="Sessions at North Centre")).to_be_visible()
    screen.check("sessions")

    page.get_by_label("Name").fill("Women's afternoon")
    page.get_by_label("Day").select_option(label="Tuesday")
    page.get_by_label("Starts").fill("14:00")
    page.get_by_label("Ends").fill("17:00")
    page.get_by_label("Women only").check()
    screen.submit(page.get_by_role("button", name="Add"))

    expect(page.get_by_role("status")).to_contain_text("Session “Women's afternoon” added.")
    row = page.get_by_role("row", name="Women's afternoon")
    expect(row).to_contain_text("Tuesday 14:00–17:00")
    expect(row.get_by_role("cell").nth(2)).to_have_text("yes")
    screen.check("sessions-added")
    session = SiteSession.objects.get()
    assert (session.site, session.weekday, session.women_only) == (cast.north, 1, True)

    screen.submit(row.get_by_role("link", name="Women's afternoon"))
    expect(page.get_by_label("Women only")).to_be_checked()
    screen.check("session-edit")

    # The session is offered on the contact form.
    screen.goto("/visits/contact/")
    page.get_by_text("Date and session").click()
    expect(page.get_by_label("Session").locator("option")).to_contain_text(
        ["No particular session", "Women's afternoon"]
    )


# -- 7. every contact screen at both widths ---------------------------------------------------


def test_every_contact_screen(screen: Screen) -> None:
    cast = make_cast()
    default_catalogue()
    client = make_client(cast.north, cast["staff"])
    SiteSession.objects.create(site=cast.north, name="Women's afternoon", women_only=True)
    page = screen.page
    screen.sign_in(cast["staff"])
    screen.goto(f"/visits/contact/{client.pk}/")
    screen.check("contact-form")
    for summary in ("For others", "Other services in this contact", "Date and session"):
        page.locator("summary", has_text=summary).click()
    screen.check("contact-form-open")

    # A typing error is pointed out at the item, and the keyboard is put there.
    page.get_by_label("Alcohol swabs", exact=True).fill("5000")
    screen.submit(page.get_by_role("button", name="Save contact").first)
    expect(page.locator(".equipment-row.has-error")).to_contain_text("Alcohol swabs:")
    expect(page.get_by_label("Alcohol swabs", exact=True)).to_be_focused()
    screen.check("contact-form-error")
    assert not Contact.objects.exists()

    screen.goto("/visits/overdose/")
    screen.check("overdose-form")
    screen.goto("/visits/site/")
    screen.check("site-overview-quiet")
    screen.goto("/stock/")
    screen.check("stock")
