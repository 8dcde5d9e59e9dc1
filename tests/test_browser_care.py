"""A week of testing, treatment and case management, driven through the real screens.

A tester records a rapid HIV test with the person's consent and counselling; a reactive
result asks for confirmation, and a clinician's laboratory test linked to it clears the
flag. A clinician starts and ends treatment; the lists show who left it and who is due
for a test. An M&E officer reads both cascades. A case manager takes a person on,
refers, closes referrals, books an appointment and turns reminders on; the reminder in
the outbox says when and nothing else. Every screen is looked at on a phone and a desk.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from harbour.casework.models import OutboxMessage, PartnerService, Referral, ServiceKind
from harbour.clients.models import Client
from harbour.sites.models import Organisation, Site
from harbour.testing.models import Test, Treatment, ViralLoad
from tests.factory import make_cast, make_client

if TYPE_CHECKING:
    from playwright.sync_api import Locator

    from tests.browser import Screen

pytest_plugins = ["tests.browser"]  # the browser, phone and desktop fixtures
pytestmark = pytest.mark.browser

_people = itertools.count()
PHONE = "+44 7700 900456"
# Words a reminder must never carry: they would tell whoever sees the phone too much.
REVEALING = {
    "hiv", "hepatitis", "hcv", "tb", "ost", "methadone", "buprenorphine", "opioid",
    "drug", "drugs", "inject", "needle", "syringe", "naloxone", "harm", "reduction",
    "test", "testing", "treatment", "clinic", "housing", "legal", "viral", "dose",
    "case", "referral", "health", "centre",
}  # fmt: skip


@pytest.fixture(params=["phone", "desktop"])
def screen(request: pytest.FixtureRequest, live_server: object, transactional_db: None) -> Screen:
    return request.getfixturevalue(request.param)


def today() -> dt.date:
    return timezone.localdate()


def days_ago(n: int) -> dt.date:
    return today() - dt.timedelta(days=n)


def new_person(site: Site) -> Client:
    n = next(_people)
    return make_client(site, mother=chr(65 + n // 26 % 26) + chr(65 + n % 26), father="BC")


def took_test(client: Client, day: dt.date, test: str = "hiv", result: str = "positive") -> Test:
    return Test.objects.create(
        client=client,
        site=client.site,
        date=day,
        test=test,
        kind="laboratory",
        result=result,
        consent=True,
        counselling=True,
    )


def details(screen: Screen, summary: str, within: Locator | None = None) -> Locator:
    """Open the <details> whose summary reads ``summary`` and return it."""
    scope = within if within is not None else screen.page.locator("body")
    box = scope.locator("details", has=screen.page.locator("summary", has_text=summary)).first
    if box.get_attribute("open") is None:
        box.locator("summary").first.click()
    return box


# -- 1. a test, its 5 Cs, and its confirmation ----------------------------------------


def test_a_tester_records_a_reactive_rapid_test_and_a_clinician_confirms_it(
    screen: Screen,
) -> None:
    cast = make_cast()
    person = new_person(cast.north)
    page = screen.page
    screen.sign_in(cast["outreach"])
    screen.goto(f"/clients/{person.pk}/")
    screen.submit(page.get_by_role("link", name="Open tests and treatment"))
    assert page.url.startswith(screen.url(f"/testing/client/{person.pk}/"))
    screen.check("testing-client-empty")

    # Without consent ticked, nothing is recorded and the consent field says why.
    form = page.locator("#record-test")
    form.get_by_label("Test", exact=True).select_option("hiv")
    form.get_by_label("How").select_option("rapid")
    form.get_by_label("Result").select_option("positive")
    form.get_by_label("Counselling given").check()
    screen.submit(form.get_by_role("button", name="Record test"))
    expect(page.locator("#test_consent_error")).to_contain_text(
        "A test is only done with the person's consent."
    )
    assert not Test.objects.exists()
    screen.check("testing-client-no-consent")

    form = page.locator("#record-test")
    form.get_by_label("The person chooses to be tested and agrees to it").check()
    screen.submit(form.get_by_role("button", name="Record test"))
    expect(page.locator(".messages")).to_contain_text("It needs a confirmatory test (HIV).")
    expect(page.get_by_role("alert")).to_contain_text("Needs confirmation:")
    expect(page.locator(".tag.warn", has_text="needs confirmation")).to_have_count(1)
    screening = Test.objects.get()
    assert (screening.consent, screening.counselling, screening.needs_confirmation) == (
        True,
        True,
        True,
    )
    screen.check("testing-client-reactive")

    # The clinician records the laboratory's confirmation, linked to the rapid test.
    screen.page.context.clear_cookies()
    screen.sign_in(cast["clinician"])
    screen.goto(f"/testing/client/{person.pk}/")
    form = details(screen, "Record a test")
    form.get_by_label("Test", exact=True).select_option("hiv")
    form.get_by_label("How").select_option("laboratory")
    form.get_by_label("Result").select_option("positive")
    form.get_by_label("Confirms an earlier reactive test").select_option(str(screening.pk))
    form.get_by_label("The person chooses to be tested and agrees to it").check()
    form.get_by_label("Counselling given").check()
    screen.check("testing-client-confirming")
    screen.submit(form.get_by_role("button", name="Record test"))
    expect(page.locator(".messages")).to_contain_text("recorded: positive (reactive).")
    expect(page.get_by_text("Needs confirmation:")).to_have_count(0)
    expect(page.locator(".tag.warn", has_text="needs confirmation")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("confirms the rapid test of")
    screening.refresh_from_db()
    assert not screening.needs_confirmation
    screen.check("testing-client-confirmed")


# -- 2. treatment, the lists -----------------------------------------------------------


def test_a_clinician_starts_art_records_a_viral_load_and_ends_a_treatment_as_lost(
    screen: Screen,
) -> None:
    cast = make_cast()
    person = new_person(cast.north)
    took_test(person, days_ago(60))
    due = new_person(cast.north)
    took_test(due, days_ago(200), result="negative")
    page = screen.page
    screen.sign_in(cast["clinician"])
    screen.goto(f"/testing/client/{person.pk}/")

    form = details(screen, "Start a treatment")
    form.get_by_label("Condition").select_option("hiv")
    form.get_by_label("Start date").fill(days_ago(30).isoformat())
    form.get_by_label("Treated").select_option("on_site")
    screen.submit(form.get_by_role("button", name="Start treatment"))
    expect(page.locator(".messages")).to_contain_text("HIV treatment started.")

    form = details(screen, "Record a viral load")
    form.get_by_label("Condition").select_option("hiv")
    form.get_by_label("Copies per mL").fill("40")
    screen.submit(form.get_by_role("button", name="Record viral load"))
    expect(page.locator(".messages")).to_contain_text("Viral load recorded.")
    assert ViralLoad.objects.get(client=person).copies_per_ml == 40
    screen.check("testing-client-on-art")

    form = details(screen, "End this treatment")
    form.get_by_label("Outcome").select_option("lost")
    form.get_by_label("Reason, when known").fill("Moved away, no phone")
    screen.check("testing-client-ending")
    screen.submit(form.get_by_role("button", name="End treatment"))
    expect(page.locator(".messages")).to_contain_text("HIV treatment: lost to follow-up.")
    assert Treatment.objects.get(client=person).outcome == "lost"
    screen.check("testing-client-lost")

    screen.submit(page.get_by_role("link", name="Testing", exact=True))
    off = page.locator("section", has=page.get_by_role("heading", name="Stopped treatment"))
    expect(off.locator("tbody tr")).to_have_count(1)
    expect(off).to_contain_text(person.code)
    expect(off).to_contain_text("lost to follow-up")
    expect(off).to_contain_text("Moved away, no phone")
    due_list = page.locator("section", has=page.get_by_role("heading", name="Due for a test"))
    expect(due_list.locator("tbody tr")).to_have_count(1)
    expect(due_list).to_contain_text(due.code)
    expect(due_list).to_contain_text("200")
    screen.check("testing-lists")


# -- 3. the cascades ---------------------------------------------------------------------


def test_an_me_officer_reads_both_cascades_with_where_people_are_lost(screen: Screen) -> None:
    cast = make_cast()
    on_art, not_on_art = new_person(cast.north), new_person(cast.north)
    for p in (on_art, not_on_art):
        took_test(p, days_ago(400))
    Treatment.objects.create(
        client=on_art, site=cast.north, condition="hiv", start_date=days_ago(300)
    )
    ViralLoad.objects.create(client=on_art, date=days_ago(20), condition="hiv", copies_per_ml=0)
    rna, no_rna = new_person(cast.north), new_person(cast.north)
    for p in (rna, no_rna):
        took_test(p, days_ago(100), test="hcv_antibody")
    took_test(rna, days_ago(90), test="hcv_rna")

    page = screen.page
    screen.sign_in(cast["me_officer"])
    screen.submit(page.get_by_role("link", name="Cascades"))
    main = page.locator("main")
    expect(page.get_by_role("heading", name="HIV", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Hepatitis C", exact=True)).to_be_visible()
    expect(main).to_contain_text("1 of 2 diagnosed is not on ART")
    expect(main).to_contain_text("The one person on ART is virally suppressed")
    expect(main).to_contain_text("1 of 2 antibody positive has had no RNA test")
    expect(main).to_contain_text("50% of diagnosed")
    screen.check("cascades")
    details(screen, "How each step is counted")
    screen.check("cascades-notes")


# -- 4. a case manager's week ------------------------------------------------------------


def referral_item(screen: Screen, text: str) -> Locator:
    return screen.page.locator(".referral-list > li", has_text=text)


def step(screen: Screen, item: Locator, button: str, reason: str = "") -> None:
    box = details(screen, "Record what happened", within=item)
    if reason:
        box.get_by_label("Why, if it did not happen").fill(reason)
    screen.submit(box.get_by_role("button", name=button, exact=True))


def test_a_case_manager_takes_a_person_on_refers_books_and_reminds(screen: Screen) -> None:
    cast = make_cast()
    clinic = PartnerService.objects.create(
        name="Hope HIV Clinic", kind=ServiceKind.HIV, address="1 Quay Street", friendly=True
    )
    person = new_person(cast.north)
    person.phone, person.reminders = PHONE, False
    person.save()
    page = screen.page
    screen.sign_in(cast["case_manager"])
    screen.submit(page.get_by_role("link", name="Cases"))
    expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible()
    screen.check("casework-morning-empty")

    screen.goto(f"/clients/{person.pk}/")
    screen.submit(page.get_by_role("link", name="Referrals, appointments and reminders"))
    screen.check("casework-client-new")
    screen.submit(page.get_by_role("button", name="Take into my caseload"))
    expect(page.locator(".messages")).to_contain_text(
        f"{person.code} is now in the caseload of you"
    )
    expect(page.locator("#case-manager")).to_contain_text("You, since")

    # A referral to the partner clinic: made, accepted, attended.
    form = details(screen, "Make a referral")
    form.get_by_label("Partner service").select_option(str(clinic.pk))
    screen.submit(form.get_by_role("button", name="Record the referral"))
    expect(page.locator(".messages")).to_contain_text("Referral to Hope HIV Clinic recorded.")
    step(screen, referral_item(screen, "Hope HIV Clinic"), "Accepted")
    expect(referral_item(screen, "Hope HIV Clinic")).to_contain_text("accepted")
    step(screen, referral_item(screen, "Hope HIV Clinic"), "Attended")
    expect(referral_item(screen, "Hope HIV Clinic")).to_contain_text("attended")

    # A referral that did not happen needs a reason.
    form = details(screen, "Make a referral")
    form.get_by_label("Kind of help").select_option("housing")
    screen.submit(form.get_by_role("button", name="Record the referral"))
    step(screen, referral_item(screen, "Housing"), "Did not attend")
    housing = referral_item(screen, "Housing")
    expect(housing.locator(".has-error .error")).to_contain_text("Say why, when known")
    assert Referral.objects.get(kind="housing").status == "made"
    screen.check("casework-client-reason-needed")
    step(screen, housing, "Did not attend", reason="Asked for ID at the door")
    expect(referral_item(screen, "Housing")).to_contain_text("did not attend")
    expect(referral_item(screen, "Housing")).to_contain_text("Asked for ID at the door")
    assert Referral.objects.get(kind="housing").reason == "Asked for ID at the door"

    # An appointment tomorrow (within the next 24 hours), and the person wants reminders.
    at = (timezone.localtime() + dt.timedelta(hours=23)).replace(second=0, microsecond=0)
    form = details(screen, "Book an appointment")
    form.get_by_label("Date and time").fill(at.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("What it is for").fill("HIV clinic visit with the housing worker")
    screen.submit(form.get_by_role("button", name="Book"))
    expect(page.locator(".messages")).to_contain_text("Appointment booked for")
    screen.submit(page.get_by_role("button", name="The person wants text reminders"))
    expect(page.locator(".messages")).to_contain_text("the person gets text reminders")
    expect(page.locator("#reminders")).not_to_contain_text(PHONE)
    screen.check("casework-client-worked")

    screen.submit(page.get_by_role("link", name="Back to cases"))
    expect(page.locator("section", has_text="My caseload")).to_contain_text(person.code)
    screen.check("casework-morning")

    call_command("send-reminders", stdout=open("/dev/null", "w"))  # noqa: SIM115
    [message] = OutboxMessage.objects.all()
    assert message.to == PHONE
    words = set(re.findall(r"[a-z]+", message.body.lower()))
    assert words.isdisjoint(REVEALING), words & REVEALING
    names = f"{clinic.name} {cast.north.name} {cast.north.code} {Organisation.get().name}"
    for word in re.findall(r"[a-z]+", names.lower()):
        assert word not in words, word
    screen.goto(f"/casework/client/{person.pk}/")
    expect(page.locator("#appointments")).to_contain_text("reminder sent")


# -- 5. the partner directory ------------------------------------------------------------


def test_a_site_manager_adds_a_partner_and_a_case_manager_reads_it(screen: Screen) -> None:
    cast = make_cast()
    page = screen.page
    screen.sign_in(cast["site_manager"])
    screen.goto("/casework/partners/")
    screen.check("partners-empty")
    screen.submit(page.get_by_role("link", name="Add a partner service"))
    page.get_by_label("Name").fill("Harbourside Housing Advice")
    page.get_by_label("Kind of help").select_option("housing")
    page.get_by_label("Known to welcome people who use drugs").check()
    page.get_by_label("Address").fill("12 Dock Road")
    page.get_by_label("Phone").fill("+44 20 7946 0000")
    page.get_by_label("Opening hours").fill("Mon–Fri 10:00–16:00")
    page.get_by_label("Notes").fill("Bring any letter from the council; no ID needed.")
    screen.check("partner-form")
    screen.submit(page.get_by_role("button", name="Save"))
    expect(page.locator(".messages")).to_contain_text("Saved Harbourside Housing Advice.")
    assert PartnerService.objects.get().kind == "housing"
    screen.check("partners-manager")

    page.context.clear_cookies()
    screen.sign_in(cast["case_manager"])
    screen.goto("/casework/")
    screen.submit(page.get_by_role("link", name="Partner services"))
    housing = page.locator("section", has=page.get_by_role("heading", name="Housing"))
    expect(housing).to_contain_text("Harbourside Housing Advice")
    expect(housing).to_contain_text("welcomes people who use drugs")
    expect(housing).to_contain_text("12 Dock Road")
    expect(page.get_by_role("link", name="Add a partner service")).to_have_count(0)
    screen.check("partners")
