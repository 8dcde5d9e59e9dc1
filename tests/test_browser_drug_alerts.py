"""A drug alert from draft to the street, through the real screens.

The rules raise a draft when fentanyl turns up in heroin. The alert reviewer signs in
with two factors at a desk, reads the evidence and sends the alert with the keyboard
alone. A peer worker on a phone sees the banner and opens the card; anyone, signed
out, reads the card and the results board on a phone. The card prints on one page.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import TYPE_CHECKING

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from harbour.drugchecking import services
from harbour.drugchecking.dictionary import ensure_dictionary, resolve
from harbour.drugchecking.models import Alert, AlertStatus, FindingRole, Sample
from harbour.sites.models import Organisation
from tests.factory import Cast, make_cast

if TYPE_CHECKING:
    from tests.browser import Screen

pytest_plugins = ["tests.browser"]  # the browser, phone and desktop fixtures
pytestmark = pytest.mark.browser


def tab_to(screen: Screen, name: str, limit: int = 40) -> None:
    """Press Tab until the keyboard is on ``name``: proof it is reachable without a mouse."""
    for _ in range(limit):
        if screen.focused().startswith(name):
            return
        screen.page.keyboard.press("Tab")
    pytest.fail(f"{name!r} cannot be reached with Tab (stuck at {screen.focused()!r})")


def picture() -> SimpleUploadedFile:
    image = Image.new("RGB", (480, 360), (236, 231, 222))
    draw = ImageDraw.Draw(image)
    draw.ellipse((150, 110, 330, 250), fill=(214, 200, 178))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return SimpleUploadedFile("sample.jpg", out.getvalue(), content_type="image/jpeg")


def week_of_results(cast: Cast) -> Sample:
    """A few results over the last weeks; the last one holds fentanyl sold as heroin."""
    ensure_dictionary()  # the transactional database starts empty of the shipped data
    Organisation.objects.update_or_create(pk=1, defaults={"name": "Safer Harbour Project"})
    today = timezone.localdate()
    staff = cast["staff"]

    def result(expected: str, found: list[tuple[str, str]], days_ago: int, form: str) -> Sample:
        sample, _ = services.take_sample(
            staff,
            cast.north,
            date=today - dt.timedelta(days=days_ago),
            expected=[resolve(expected)],
            form=form,
        )
        items = [services.FoundIn(resolve(n), role=r) for n, r in found]  # type: ignore[arg-type]
        services.record_analysis(staff, sample, method="ftir", found=items)
        return sample

    result("cocaine", [("cocaine", FindingRole.PRIMARY), ("mannitol", "primary")], 20, "powder")
    result("mdma", [("mdma", FindingRole.PRIMARY)], 12, "crystal")
    sample = result(
        "heroin", [("heroin", FindingRole.PRIMARY), ("fentanyl", FindingRole.TRACE)], 1, "powder"
    )
    services.attach_photo(staff, sample, picture())
    return sample


def test_a_reviewer_sends_an_alert_by_keyboard_and_a_peer_opens_it_on_a_phone(
    desktop: Screen, phone: Screen
) -> None:
    cast = make_cast()
    sample = week_of_results(cast)
    alert = Alert.objects.get(substance__name="fentanyl", rule="unexpected")
    assert alert.status == AlertStatus.DRAFT

    # The reviewer, at a desk, with two factors.
    page = desktop.page
    desktop.sign_in(cast["alert_reviewer"])
    desktop.goto("/drug-checking/alerts/")
    expect(page.locator(".drug-banner")).to_contain_text("1 alert awaits your review")
    expect(page.get_by_role("heading", name="Awaiting your review")).to_contain_text("1")
    desktop.check("dca-alert-list-reviewer")

    tab_to(desktop, alert.title)
    desktop.press("Enter")
    expect(page.get_by_role("heading", name="Evidence")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text(sample.number)
    expect(page.get_by_role("link", name=sample.number)).to_have_attribute(
        "href", f"/drug-checking/samples/{sample.pk}/"
    )
    expect(page.locator("p.why")).to_contain_text("marked noteworthy")
    expect(page.locator(".review-photo img")).to_be_visible()
    desktop.check("dca-review-draft")

    # Keyboard only: on to the title, make it plainer, on to the message, then Send.
    tab_to(desktop, "title")
    page.keyboard.press("Control+a")
    page.keyboard.type("Fentanyl sold as heroin in Region A")
    page.keyboard.press("Tab")
    assert desktop.focused() == "message"
    tab_to(desktop, "action")
    expect(page.get_by_role("button", name="Send alert")).to_be_focused()
    desktop.press("Enter")
    expect(page.locator(".messages")).to_contain_text("The alert is sent")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.PUBLISHED
    assert alert.title == "Fentanyl sold as heroin in Region A"
    expect(page.locator(".drug-banner")).to_contain_text(
        "Drug alert: Fentanyl sold as heroin in Region A"
    )
    expect(page.get_by_role("button", name="Update alert")).to_be_visible()
    desktop.check("dca-review-sent")

    # The rules and the dictionary, as the reviewer sees them.
    desktop.goto("/drug-checking/alerts/rules/")
    expect(page.get_by_label("Count substances found only as a trace")).to_be_checked()
    desktop.check("dca-rules")
    desktop.goto("/drug-checking/alerts/substances/?q=fetty")
    expect(page.get_by_role("link", name="fentanyl", exact=True)).to_be_visible()
    desktop.check("dca-substances")
    desktop.submit(page.get_by_role("link", name="fentanyl", exact=True))
    expect(page.get_by_label("Other names")).to_contain_text("fetty")
    desktop.check("dca-substance-edit")

    # A peer worker, on a phone, sees the banner on the first page after signing in.
    page = phone.page
    phone.sign_in(cast["outreach"])
    banner = page.locator(".drug-banner")
    expect(banner).to_contain_text("Drug alert: Fentanyl sold as heroin in Region A")
    box = banner.bounding_box()
    assert box is not None and box["height"] < 80, "the banner must not crowd a phone"
    phone.check("dca-banner-phone")
    phone.submit(banner.get_by_role("link"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Fentanyl sold as heroin in Region A")
    expect(page.locator(".alert-message")).to_contain_text("What to do")
    expect(page.locator(".alert-photo img")).to_be_visible()
    expect(page.locator(".alert-qr")).to_be_visible()
    phone.check("dca-card-phone")

    # Signed out, on a phone: the card still opens, and the results board.
    page.context.clear_cookies()
    phone.goto(f"/public/alerts/{alert.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Fentanyl sold as heroin in Region A")
    text = page.locator("main").inner_text()
    assert sample.number not in text and "North Centre" not in text
    phone.goto("/public/drug-checking/")
    expect(page.get_by_role("heading", name="Drug alerts now")).to_be_visible()
    expect(page.get_by_role("link", name="Fentanyl sold as heroin in Region A")).to_be_visible()
    rows = page.locator(".board-row")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("fentanyl")
    expect(rows.first).to_contain_text("trace")
    expect(rows.first).to_contain_text("unexpected")
    text = page.locator("main").inner_text()
    assert "Week of" in text and "Region A" in text
    for s in Sample.objects.all():
        assert s.number not in text
    assert "North Centre" not in text and "NTH-01" not in text
    phone.check("dca-board-phone")

    # Filter by what was found, with the keyboard.
    page.get_by_label("Substance found").select_option(label="fentanyl")
    page.get_by_label("Substance found").focus()
    tab_to(phone, "Show")
    phone.press("Enter")
    expect(page.locator(".board-row")).to_have_count(1)
    phone.check("dca-board-filtered-phone")


def test_the_alert_card_prints_on_one_page(desktop: Screen) -> None:
    cast = make_cast()
    week_of_results(cast)
    alert = Alert.objects.get(substance__name="fentanyl", rule="unexpected")
    services.publish(cast["alert_reviewer"], alert, title=alert.title, message=alert.message)
    page = desktop.page
    desktop.goto(f"/public/alerts/{alert.pk}/")
    desktop.check("dca-card-desktop")
    page.emulate_media(media="print")
    desktop.check("dca-card-print")
    from tests.browser import SCREENS  # imported here: the plugin loads the module first

    for size in ("A4", "A5"):
        # The margins a browser prints with by default, about 10 mm.
        margin = {side: "10mm" for side in ("top", "right", "bottom", "left")}
        pdf = page.pdf(format=size, margin=margin, print_background=False)
        (SCREENS / f"dca-card-{size}.pdf").write_bytes(pdf)
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert pages == 1, f"the card takes {pages} {size} pages"
    # Withdrawn, it says so at the top.
    services.close(cast["alert_reviewer"], alert, reason="The laboratory corrected the result.")
    page.emulate_media(media="screen")
    desktop.goto(f"/public/alerts/{alert.pk}/")
    expect(page.get_by_role("status")).to_contain_text("Withdrawn on")
    desktop.check("dca-card-withdrawn")


def test_the_reviewer_screens_fit_a_phone(phone: Screen) -> None:
    cast = make_cast()
    week_of_results(cast)
    alert = Alert.objects.get(substance__name="fentanyl", rule="unexpected")
    page = phone.page
    phone.sign_in(cast["alert_reviewer"])
    phone.goto(f"/drug-checking/alerts/{alert.pk}/review/")
    expect(page.get_by_role("button", name="Send alert")).to_be_visible()
    phone.check("dca-review-draft")
    # Deciding not to send without a reason: the reason field says what is missing.
    page.get_by_text("Do not send", exact=True).first.click()
    phone.submit(page.get_by_role("button", name="Do not send"))
    expect(page.locator("#close_reason_error")).to_contain_text("Say why")
    phone.check("dca-review-no-reason")
    phone.goto("/drug-checking/alerts/rules/")
    phone.check("dca-rules")
    phone.goto("/drug-checking/alerts/substances/")
    phone.check("dca-substances")
    phone.goto("/drug-checking/alerts/substances/new/")
    phone.check("dca-substance-new")
