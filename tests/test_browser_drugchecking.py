"""Drug checking through the real screens: a peer takes a sample in on a phone with the
keyboard alone, tests it with a fentanyl strip and opens the result for the person;
at a desk, a laboratory result with three substances is entered and read back.

Every screen is photographed into test-artifacts/screens/ and /tmp/dcs-shots/.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from harbour.drugchecking import services
from harbour.drugchecking.dictionary import ensure_dictionary, resolve
from harbour.drugchecking.models import Analysis, Sample
from tests.factory import make_cast

if TYPE_CHECKING:
    from tests.browser import Screen

pytest_plugins = ["tests.browser"]  # the browser, phone and desktop fixtures
pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/dcs-shots")


def shot(screen: Screen, name: str) -> None:
    """Hold the page to the rules every page keeps, and keep a copy of its picture."""
    screen.check(name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    screen.page.screenshot(path=str(SHOTS / f"{name}-{screen.kind}.png"), full_page=True)


def tab_to(screen: Screen, name: str, limit: int = 60) -> None:
    """Press Tab until the keyboard is on ``name``: proof it is reachable without a mouse."""
    for _ in range(limit):
        if screen.focused().startswith(name):
            return
        screen.page.keyboard.press("Tab")
    pytest.fail(f"{name!r} cannot be reached with Tab (stuck at {screen.focused()!r})")


def test_a_peer_takes_in_and_checks_a_sample_on_a_phone_by_keyboard(phone: Screen) -> None:
    cast = make_cast()
    ensure_dictionary()  # a transactional test's flush empties the migration's rows
    page, keys = phone.page, phone.page.keyboard
    phone.sign_in(cast["outreach"])
    phone.goto("/drug-checking/")
    shot(phone, "dc-list-empty")

    tab_to(phone, "Take in a sample")
    phone.press("Enter")
    expect(page.get_by_role("heading", name="Take in a sample")).to_be_visible()
    assert phone.focused() == "expected", "the form opens on what the person expected"

    # A typing error is pointed out, and the keyboard is put back on the field.
    keys.type("herion")
    tab_to(phone, "Take in the sample")
    phone.press("Enter")
    expect(page.locator("#id_expected_error")).to_contain_text("Did you mean heroin?")
    assert phone.focused() == "expected"
    shot(phone, "dc-intake-error")

    keys.press("Control+a")
    keys.type("heroin")
    keys.press("Escape")  # close the list of names the browser offers
    keys.press("Tab")
    assert phone.focused() == "expected_unknown"
    keys.press("Tab")
    assert phone.focused() == "form"
    keys.press("Space")  # powder, the first form
    keys.press("Tab")
    assert phone.focused() == "colour"
    keys.type("brown")
    shot(phone, "dc-intake-filled")
    tab_to(phone, "Take in the sample")
    phone.press("Enter")

    sample = Sample.objects.get()
    assert sample.form == "powder" and sample.colour == "brown"
    assert [s.name for s in sample.expected.all()] == ["heroin"]
    expect(page.locator(".bag-number")).to_have_text(sample.number)
    shot(phone, "dc-sample-new")

    tab_to(phone, "Add a test strip result")
    phone.press("Enter")
    expect(page.get_by_role("heading", name=f"Test strips · {sample.number}")).to_be_visible()
    tab_to(phone, "fentanyl")
    keys.press("ArrowRight")  # from "Not done" to "Positive: found"
    expect(page.get_by_label("Positive: found").first).to_be_checked()
    shot(phone, "dc-strip-filled")
    tab_to(phone, "Record the strips")
    phone.press("Enter")
    expect(page.locator(".messages")).to_contain_text("Strip results recorded: fentanyl positive.")
    strip = Analysis.objects.get(sample=sample)
    assert (strip.strip_target, strip.strip_outcome) == ("fentanyl", "positive")
    shot(phone, "dc-sample-strip")

    tab_to(phone, "Print the result for the person")
    phone.press("Enter")
    result = page.locator(".dc-result")
    expect(result).to_contain_text(sample.number)
    expect(result).to_contain_text("Fentanyl: found")
    expect(result.locator(".dc-flag")).to_have_text("Not what you expected")
    expect(result).to_contain_text("Something you did not expect was found")
    expect(result).to_contain_text("Fentanyl or a drug like it was found")
    shot(phone, "dc-result")

    phone.goto(f"/drug-checking/samples/{sample.pk}/analysis/")
    shot(phone, "dc-analysis")

    phone.goto("/drug-checking/")
    expect(page.locator("table")).to_contain_text("fentanyl strip positive")
    shot(phone, "dc-list")


def test_a_laboratory_result_with_three_substances_at_a_desk(desktop: Screen) -> None:
    cast = make_cast()
    ensure_dictionary()
    heroin = resolve("heroin")
    assert heroin is not None
    sample, _ = services.take_sample(
        cast["staff"], cast.north, date=timezone.localdate(), expected=[heroin], form="powder"
    )
    page = desktop.page
    desktop.sign_in(cast["staff"])
    desktop.goto(f"/drug-checking/samples/{sample.pk}/")
    shot(desktop, "dc-sample-waiting")
    desktop.submit(page.get_by_role("link", name="Add FTIR or laboratory result"))
    page.get_by_label("Laboratory (e.g. GC-MS)").check()
    page.get_by_label("Technique").fill("GC-MS")
    rows = [("heroin", "primary", "35"), ("fentanly", "trace", ""), ("mannitol", "primary", "50")]
    for number, (name, role, percent) in enumerate(rows, start=1):
        row = page.get_by_role("group", name=f"Row {number}")
        row.get_by_label("Substance").fill(name)
        row.get_by_label("Main or trace").select_option(role)
        row.get_by_label("Percent").fill(percent)
    desktop.submit(page.get_by_role("button", name="Record the result"))

    # The typing error is said with its row, and the keyboard is put on it.
    expect(page.get_by_role("alert")).to_contain_text("Row 2, substance: “fentanly”")
    assert desktop.focused() == "c-1-substance"
    expect(page.get_by_role("group", name="Row 3").get_by_label("Percent")).to_have_value("50")
    shot(desktop, "dc-analysis-error")
    page.keyboard.press("Control+a")
    page.keyboard.type("fentanyl")
    shot(desktop, "dc-analysis-filled")
    desktop.submit(page.get_by_role("button", name="Record the result"))
    expect(page.locator(".messages")).to_contain_text(
        "Laboratory (e.g. GC-MS) result recorded: 3 substances."
    )
    findings = Analysis.objects.get(sample=sample).findings.all()
    assert sorted(f.substance.name for f in findings) == ["fentanyl", "heroin", "mannitol"]
    shot(desktop, "dc-sample-lab")

    desktop.submit(page.get_by_role("link", name="Print the result for the person"))
    result = page.locator(".dc-result")
    fentanyl = result.locator(".dc-found li", has_text="fentanyl")
    expect(fentanyl).to_contain_text("a small amount (trace)")
    expect(fentanyl).to_contain_text("Not what you expected")
    expect(result.locator(".dc-also")).to_contain_text("mannitol")
    shot(desktop, "dc-result-lab")

    desktop.submit(page.get_by_role("link", name="Back to the sample"))
    desktop.submit(page.get_by_role("button", name="Result given back"))
    expect(page.locator(".messages")).to_contain_text(f"Result of {sample.number} given back.")
    sample.refresh_from_db()
    assert sample.given_back_at is not None
