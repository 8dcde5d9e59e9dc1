"""OST in the browser: the dispensing board at a counter, and the clinician's screens.

The first test is the issue's promise, measured through the real screens: a nurse
types the start of a client code, presses Enter, and is back on the board with the
keyboard in the filter, ready for the next person. 200 doses in a morning means no
waiting on the screen: the average time per dose is printed.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from harbour.clients.models import Client
from harbour.ost.models import Dose, Episode, Phase, Review
from harbour.ost.services import mg
from tests.factory import Cast, make_cast
from tests.test_ost import new_person, on_ost
from tests.test_ost_dispensing import next_weekday, taken_on, today

if TYPE_CHECKING:
    from playwright.sync_api import Locator

    from tests.browser import Screen

pytest_plugins = ["tests.browser"]  # the browser, phone and desktop fixtures
pytestmark = pytest.mark.browser

KEY_DELAY_MS = 60  # between keystrokes: a practised nurse's pace, not a machine's
PEOPLE = 20  # expected at North this morning
IN_A_ROW = 10  # doses given by keyboard, one after the other
ONE_MATCH = "One person: press Enter to give the dose."


@pytest.fixture(params=["phone", "desktop"])
def screen(request: pytest.FixtureRequest, live_server: object, transactional_db: None) -> Screen:
    return request.getfixturevalue(request.param)


def bare(code: str) -> str:
    return code.replace("-", "")


def prefix(code: str, others: list[str], shortest: int = 3) -> str:
    """The first characters of ``code`` that no other code starts with, as a nurse types them."""
    for n in range(shortest, len(bare(code)) + 1):
        start = bare(code)[:n]
        if not any(bare(o).startswith(start) for o in others if o != code):
            return start
    raise AssertionError(f"{code} is not unique")  # pragma: no cover


def shared_start(codes: list[str]) -> str:
    """The longest start that two or more codes share: a partial code matching several."""
    best = ""
    for a in codes:
        for b in codes:
            if a == b:
                continue
            n = 0
            while n < len(bare(a)) and bare(a)[n] == bare(b)[n]:
                n += 1
            if n > len(best):
                best = bare(a)[:n]
    return best


def filter_box(screen: Screen) -> Locator:
    return screen.page.get_by_label("Client code")


def row(screen: Screen, client: Client) -> Locator:
    return screen.page.locator(f'.dispense-row[data-code="{client.code}"]')


def open_board(screen: Screen) -> None:
    screen.submit(screen.page.get_by_role("link", name="OST", exact=True))
    expect(screen.page.get_by_role("heading", name="Dispensing at North Centre")).to_be_visible()


def doses_today(episode: Episode) -> list[Dose]:
    return list(Dose.objects.filter(episode=episode, date=today()).order_by("recorded_at"))


def morning(cast: Cast, people: int = PEOPLE) -> list[Episode]:
    """People on methadone at North who started today: nobody has a missed day yet."""
    return [on_ost(cast, started=0, dose=str(40 + 5 * (n % 6))) for n in range(people)]


# -- 1. the timed flow -------------------------------------------------------------------


def test_a_nurse_gives_ten_doses_in_a_row_by_keyboard_at_the_counter(phone: Screen) -> None:
    cast = make_cast()
    episodes = morning(cast)
    codes = [e.client.code for e in episodes]
    page = phone.page
    phone.sign_in(cast["staff"])
    open_board(phone)
    expect(page.locator(".dispense-row")).to_have_count(PEOPLE)
    expect(page.locator(".lead")).to_contain_text(f"{PEOPLE} due · 0 given")
    expect(filter_box(phone)).to_be_focused()

    # A partial code several people share: the list narrows to them, Enter gives nothing.
    several = shared_start(codes)
    assert several, "twenty codes share no first character"
    sharing = [c for c in codes if bare(c).startswith(several)]
    page.keyboard.type(several, delay=KEY_DELAY_MS)
    expect(page.locator(".dispense-row:visible")).to_have_count(len(sharing))
    expect(page.locator("[data-filter-status]")).to_have_text(f"{len(sharing)} people match.")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)  # time enough for a form to go
    assert page.url == phone.url("/ost/"), "Enter with several matches gives no dose"
    assert not Dose.objects.exists()
    expect(filter_box(phone)).to_be_focused()
    phone.check("ost-dispensing-filtered")
    filter_box(phone).fill("")

    timings: list[float] = []
    for episode in episodes[:IN_A_ROW]:
        code = episode.client.code
        typed = prefix(code, codes)
        assert 3 <= len(typed) <= 5, f"{code} needs {len(typed)} characters"
        given = f"{mg(episode.prescriptions.get().dose_mg)} mg observed"
        start = time.monotonic()
        page.keyboard.type(typed, delay=KEY_DELAY_MS)
        expect(page.locator(".dispense-row:visible")).to_have_count(1)
        expect(page.locator("[data-filter-status]")).to_have_text(ONE_MATCH)
        page.wait_for_timeout(KEY_DELAY_MS)
        phone.press("Enter")
        expect(page.get_by_role("status")).to_have_text(f"{code}: {given}.")
        expect(filter_box(phone)).to_be_focused()
        timings.append(time.monotonic() - start)
        expect(row(phone, episode.client)).to_contain_text(f"Given · {given}")

    average = sum(timings) / len(timings)
    print(
        f"\nkeyboard-only OST dose, code typed to board ready for the next: "
        f"{average:.2f} s on average over {IN_A_ROW} (slowest {max(timings):.2f} s)"
    )
    expect(page.locator(".lead")).to_contain_text(f"{PEOPLE - IN_A_ROW} due · {IN_A_ROW} given")

    # Enter pressed twice while the page loads gives one dose, not a refused second one.
    eleventh = episodes[IN_A_ROW]
    page.keyboard.type(prefix(eleventh.client.code, codes), delay=KEY_DELAY_MS)
    with page.expect_navigation():
        page.keyboard.press("Enter")
        page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text(
        f"{eleventh.client.code}: {mg(eleventh.prescriptions.get().dose_mg)} mg observed."
    )
    assert len(doses_today(eleventh)) == 1

    for episode in episodes[:IN_A_ROW]:
        [dose] = doses_today(episode)
        assert (dose.taken, dose.site, dose.recorded_by) == ("observed", cast.north, cast["staff"])
        assert dose.dose_mg == episode.prescriptions.get().dose_mg
    for episode in episodes[IN_A_ROW + 1 :]:
        assert doses_today(episode) == []
    phone.check("ost-dispensing-after-ten")


# -- 2. three missed days wait for a clinician -------------------------------------------


def test_after_three_missed_days_a_clinician_reviews_before_the_next_dose(
    phone: Screen, desktop: Screen
) -> None:
    cast = make_cast()
    others = morning(cast, 3)
    # Started three days ago and has not come since: day end records the missed days.
    away = on_ost(cast, started=3)
    person = away.client
    page = phone.page
    phone.sign_in(cast["staff"])
    open_board(phone)
    waiting = row(phone, person)
    expect(waiting).to_contain_text("3 missed: clinician review")
    expect(waiting.get_by_role("button")).to_have_count(0)
    assert Dose.objects.filter(episode=away, taken="missed").count() == 3

    # Enter on the person's code gives nothing: it goes to the way to a review.
    page.keyboard.type(prefix(person.code, [e.client.code for e in [*others, away]]))
    expect(page.locator(".dispense-row:visible")).to_have_count(1)
    expect(page.locator("[data-filter-status]")).to_have_text(
        "One person, waiting for a clinician's review."
    )
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert page.url == phone.url("/ost/")
    expect(waiting.get_by_role("link", name="3 missed: clinician review")).to_be_focused()
    phone.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("3 doses missed in a row")
    page.get_by_text("Give a dose today").click()
    expect(page.locator("details", has_text="Give a dose today")).to_contain_text(
        "The next dose is given once a clinician has seen the person and recorded a review."
    )
    expect(page.get_by_role("button", name="Give dose")).to_have_count(0)
    phone.check("ost-episode-waiting-for-review")
    expect(page.get_by_role("button", name="Record review")).to_have_count(0)
    assert doses_today(away) == []

    clinician = desktop.page
    desktop.sign_in(cast["clinician"])
    desktop.goto(f"/ost/episodes/{away.pk}/")
    expect(clinician.get_by_role("alert")).to_contain_text(
        "a clinician must review the person before the next dose"
    )
    clinician.get_by_label("What the review found").fill(
        "Tolerance checked with the person; restarting at 30 mg"
    )
    desktop.submit(clinician.get_by_role("button", name="Record review"))
    expect(clinician.get_by_role("status")).to_have_text(
        "Review recorded: the next dose can be given."
    )
    expect(clinician.get_by_role("alert")).to_have_count(0)
    assert Review.objects.get(episode=away).by == cast["clinician"]

    phone.goto("/ost/")
    expect(row(phone, person).get_by_role("button")).to_have_text("Give 60 mg")
    page.keyboard.type(prefix(person.code, [e.client.code for e in [*others, away]]))
    expect(page.locator("[data-filter-status]")).to_have_text(ONE_MATCH)
    phone.press("Enter")
    expect(page.get_by_role("status")).to_have_text(f"{person.code}: 60 mg observed.")
    assert [d.taken for d in doses_today(away)] == ["observed"]


# -- 3. take-home doses ------------------------------------------------------------------


def test_take_home_doses_are_given_on_the_board_and_issued_for_the_weekend(
    phone: Screen,
) -> None:
    cast = make_cast()
    saturday = next_weekday(5)
    sunday = saturday + dt.timedelta(days=1)
    episode = on_ost(cast, started=2, take_home_days=sorted({today().weekday(), 5, 6}))
    taken_on(episode, 2, 1)
    page = phone.page
    phone.sign_in(cast["staff"])
    open_board(phone)
    person = row(phone, episode.client)
    expect(person).to_contain_text("take-home day")
    phone.submit(person.get_by_role("button", name="Give take-home"))
    expect(page.get_by_role("status")).to_have_text(f"{episode.client.code}: 60 mg taken home.")
    expect(person).to_contain_text("Given · 60 mg taken home")

    phone.submit(person.get_by_role("link", name=episode.client.code))
    page.get_by_text("Issue take-home doses").click()
    page.get_by_label("First take-home date").fill(saturday.isoformat())
    page.get_by_label("Number of days").fill("2")
    phone.check("ost-episode-take-homes")
    phone.submit(page.get_by_role("button", name="Issue"))
    expect(page.get_by_role("status")).to_have_text(
        f"2 take-home dose(s) issued: {saturday:%a %d %b}, {sunday:%a %d %b}"
    )
    doses = page.locator("section", has_text="Recent doses")
    expect(doses).to_contain_text(f"{saturday:%a} {saturday.day} {saturday:%b} · Taken home")
    expect(doses).to_contain_text(f"{sunday:%a} {sunday.day} {sunday:%b} · Taken home")
    assert list(
        Dose.objects.filter(episode=episode, date__gt=today())
        .order_by("date")
        .values_list("date", "taken")
    ) == [(saturday, "take_home"), (sunday, "take_home")]


# -- 4. a second dose the same day ---------------------------------------------------------


def test_a_second_dose_is_refused_without_a_reason_and_given_with_one(phone: Screen) -> None:
    cast = make_cast()
    episode = on_ost(cast, started=0)
    code = episode.client.code
    page = phone.page
    phone.sign_in(cast["staff"])
    open_board(phone)
    page.keyboard.type(bare(code)[:4], delay=KEY_DELAY_MS)
    phone.press("Enter")
    expect(row(phone, episode.client)).to_contain_text("Given · 60 mg observed")

    phone.submit(row(phone, episode.client).get_by_role("link", name=code))
    give = page.locator("details", has_text="Give a dose today")
    expect(give).to_have_attribute("open", "")
    phone.submit(give.get_by_role("button", name="Give dose"))
    expect(page.get_by_role("status")).to_contain_text(
        "A dose was already given for this day. A second dose needs a written reason."
    )
    assert len(doses_today(episode)) == 1
    phone.check("ost-episode-second-dose-refused")

    reason = "Vomited within 15 minutes of the first dose"
    page.get_by_label("Reason for a second dose today").fill(reason)
    phone.submit(page.get_by_role("button", name="Give dose"))
    expect(page.get_by_role("status")).to_have_text(f"{code}: 60 mg observed.")
    assert [d.justification for d in doses_today(episode)] == ["", reason]
    phone.goto(f"/ost/episodes/{episode.pk}/")
    expect(page.locator("section", has_text="Recent doses")).to_contain_text(
        f"second dose: {reason}"
    )


# -- 5. starting treatment -----------------------------------------------------------------


def test_a_clinician_starts_ost_from_the_profile_with_the_persons_consent(
    screen: Screen,
) -> None:
    cast = make_cast()
    person = new_person(cast.north)
    page = screen.page
    screen.sign_in(cast["clinician"])
    screen.goto(f"/clients/{person.pk}/")
    expect(page.locator("section", has_text="Opioid agonist therapy")).to_contain_text(
        "Not on OST with this programme."
    )
    screen.submit(page.get_by_role("link", name="Start OST"))
    expect(
        page.get_by_role("heading", name=f"Start opioid agonist therapy for {person.code}")
    ).to_be_visible()
    screen.check("ost-enrol")

    page.get_by_label("Medication").select_option(label="Buprenorphine")
    page.get_by_label("Starting dose (mg)").fill("4")
    screen.submit(page.get_by_role("button", name="Start treatment"))
    expect(page.locator(".error")).to_contain_text(
        "Treatment starts only with the person's consent."
    )
    assert not Episode.objects.exists()
    screen.check("ost-enrol-no-consent")

    page.get_by_label("The person chooses this treatment and agrees to it").check()
    screen.submit(page.get_by_role("button", name="Start treatment"))
    episode = Episode.objects.get(client=person)
    assert page.url == screen.url(f"/ost/episodes/{episode.pk}/")
    expect(page.get_by_role("status")).to_have_text("Treatment started.")
    expect(page.locator("dl.facts")).to_contain_text("4 mg")
    assert (episode.medication, episode.site, episode.prescriber) == (
        "buprenorphine",
        cast.north,
        cast["clinician"],
    )


# -- 6. the adequacy review ----------------------------------------------------------------


def test_the_dose_review_lists_a_person_on_40_mg_methadone_maintenance(screen: Screen) -> None:
    cast = make_cast()
    low = on_ost(cast, started=0, dose="40", phase=Phase.MAINTENANCE)
    fine = on_ost(cast, started=0, dose="80", phase=Phase.MAINTENANCE)
    page = screen.page
    screen.sign_in(cast["clinician"])
    screen.goto("/ost/")
    screen.submit(page.get_by_role("link", name="Doses to review for adequacy"))
    listed = page.get_by_role("row", name=low.client.code)
    expect(listed).to_contain_text("Methadone")
    expect(listed).to_contain_text("40 mg")
    expect(page.get_by_role("row", name=fine.client.code)).to_have_count(0)
    screen.check("ost-dose-review")


# -- 7. the travel letter ------------------------------------------------------------------


def test_a_clinician_downloads_the_travel_letter_as_a_pdf(desktop: Screen) -> None:
    cast = make_cast()
    episode = on_ost(cast, started=0)
    page = desktop.page
    desktop.sign_in(cast["clinician"])
    desktop.goto(f"/ost/episodes/{episode.pk}/")
    link = page.get_by_role("link", name="Travel letter (PDF)")
    response = page.request.get(desktop.url(str(link.get_attribute("href"))))
    assert response.ok
    assert response.headers["content-type"] == "application/pdf"
    assert episode.client.code in response.headers["content-disposition"]
    assert response.body().startswith(b"%PDF")


def test_a_nurse_is_not_offered_the_travel_letter(phone: Screen) -> None:
    cast = make_cast()
    episode = on_ost(cast, started=0)
    phone.sign_in(cast["staff"])
    phone.goto(f"/ost/episodes/{episode.pk}/")
    expect(phone.page.get_by_role("link", name="Travel letter (PDF)")).to_have_count(0)


# -- 8. every OST screen at both widths ----------------------------------------------------


def test_every_ost_screen(screen: Screen) -> None:
    cast = make_cast()
    given, due, take_home = (
        on_ost(cast, started=2),
        on_ost(cast, started=2, dose="7.5", medication="buprenorphine"),
        on_ost(cast, started=2, take_home_days=[today().weekday()]),
    )
    for episode in (given, due, take_home):
        taken_on(episode, 2, 1)
    blocked = on_ost(cast, started=3, dose="40")
    induction = on_ost(cast, started=0, dose="30", phase=Phase.INDUCTION)
    page = screen.page
    screen.sign_in(cast["clinician"])
    screen.goto("/ost/")
    screen.submit(row(screen, given.client).get_by_role("button", name="Give 60 mg"))
    expect(row(screen, given.client)).to_contain_text("Given · 60 mg observed")
    screen.submit(row(screen, take_home.client).get_by_role("button", name="Give take-home"))
    expect(row(screen, take_home.client)).to_contain_text("Given · 60 mg taken home")
    expect(row(screen, due.client)).to_contain_text("Give 7.5 mg")
    expect(row(screen, blocked.client)).to_contain_text("3 missed: clinician review")
    expect(row(screen, induction.client)).to_contain_text("Give 30 mg")
    screen.check("ost-dispensing")

    screen.goto(f"/ost/episodes/{take_home.pk}/")
    expect(page.locator("section", has_text="Recent doses").locator("li")).to_have_count(3)
    screen.check("ost-episode")
    for summary in ("Issue take-home doses", "Change the prescription", "End this episode"):
        page.locator("summary", has_text=summary).click()
    screen.check("ost-episode-open")

    screen.goto(f"/ost/episodes/{blocked.pk}/")
    expect(page.get_by_role("alert")).to_be_visible()
    screen.check("ost-episode-review")

    screen.goto(f"/ost/enrol/{new_person(cast.north).pk}/")
    screen.check("ost-enrol")
    screen.goto("/ost/dose-review/")
    screen.check("ost-dose-review")
