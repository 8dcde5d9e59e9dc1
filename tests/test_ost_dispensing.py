"""Dispensing OST: the board, day end, take-home doses and the safety rules clinicians rely on.

1. A second dose on the same day is refused unless a reason is given.
2. A dose never exceeds the current prescription.
3. After three or more missed doses in a row, the next dose waits for a clinician's review.
4. A dose change above the step needs a clinician (tests/test_ost.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from harbour.accounts.models import Role
from harbour.ost import board, services
from harbour.ost.models import DayClosed, Dose, EndReason, Episode, Phase, Review
from tests.factory import Cast, login, make_cast, make_user
from tests.test_ost import audited, days_ago, in_parallel, new_person, on_ost, page, today


def doses(episode: Episode, taken: str | None = None) -> list[Dose]:
    qs = Dose.objects.filter(episode=episode).order_by("date", "recorded_at")
    return list(qs.filter(taken=taken) if taken else qs)


def missed_on(episode: Episode, *ago: int) -> None:
    """Missed marks for those past days, as day end would have recorded them."""
    p = services.current_prescription(episode, days_ago(max(ago)))
    assert p is not None
    for n in ago:
        Dose.objects.create(
            episode=episode,
            client=episode.client,
            site=episode.site,
            date=days_ago(n),
            medication=episode.medication,
            dose_mg=p.dose_mg,
            phase=p.phase,
            taken=Dose.Taken.MISSED,
        )


def taken_on(episode: Episode, *ago: int) -> None:
    for n in ago:
        Dose.objects.create(
            episode=episode,
            client=episode.client,
            site=episode.site,
            date=days_ago(n),
            medication=episode.medication,
            dose_mg=Decimal("60"),
            phase=Phase.MAINTENANCE,
            taken=Dose.Taken.OBSERVED,
        )


def close(site: Any, *ago: int) -> None:
    for n in ago:
        services.close_day(site, days_ago(n))


def give(http: HttpClient, episode: Episode, **data: str) -> Any:
    """The board's Give button."""
    return http.post(
        f"/ost/episodes/{episode.pk}/dispense/", {"taken": "observed", **data}, follow=True
    )


# -- rule 1: one dose a day unless a reason is written ----------------------------------


def test_a_second_dose_the_same_day_is_refused_without_a_reason(cast: Cast) -> None:
    episode = on_ost(cast, started=0)
    http = login(cast["staff"])
    give(http, episode)
    response = give(http, episode)
    assert response.redirect_chain[-1][0] == f"/ost/episodes/{episode.pk}/"
    assert "A second dose needs a written reason." in page(response)
    assert len(doses(episode)) == 1
    with pytest.raises(services.OSTError) as refused:
        services.dispense(cast["staff"], episode, site=cast.north)
    assert refused.value.code == "second_dose"


def test_a_second_dose_with_a_written_reason_is_given_and_audited(cast: Cast) -> None:
    episode = on_ost(cast, started=0)
    http = login(cast["staff"])
    give(http, episode)
    reason = "Vomited within 15 minutes of the first dose"
    response = give(http, episode, justification=reason)
    assert f"{episode.client.code}: 60" in page(response)
    second = doses(episode)[-1]
    assert len(doses(episode)) == 2 and second.justification == reason
    [event] = audited("ost.second_dose")
    assert event.detail == {"client": episode.client.code, "reason_given": True}
    assert reason not in str(event.detail)  # clinical text stays out of the audit log
    assert event.actor == cast["staff"]
    assert f"second dose: {reason}" in page(http.get(f"/ost/episodes/{episode.pk}/"))


def test_a_reason_written_for_a_first_dose_does_not_make_it_a_second_dose(cast: Cast) -> None:
    episode = on_ost(cast, started=0)
    give(login(cast["staff"]), episode, justification="typed by mistake")
    [dose] = doses(episode)
    assert dose.justification == ""
    assert not audited("ost.second_dose")


# -- rule 2: never above the prescription ----------------------------------------------


def test_a_dose_above_the_prescription_is_refused(cast: Cast) -> None:
    episode = on_ost(cast, dose="60", started=0)
    with pytest.raises(services.OSTError) as refused:
        services.dispense(cast["clinician"], episode, site=cast.north, dose_mg=Decimal("70"))
    assert refused.value.code == "over_prescription"
    assert "70 mg is more than the prescribed 60" in str(refused.value)
    assert doses(episode) == []


def test_a_dose_below_the_prescription_is_given(cast: Cast) -> None:
    episode = on_ost(cast, dose="60", started=0)
    dose = services.dispense(cast["staff"], episode, site=cast.north, dose_mg=Decimal("40"))
    assert dose.dose_mg == Decimal("40") and dose.taken == Dose.Taken.OBSERVED
    assert dose.recorded_by == cast["staff"]


def test_the_dose_given_is_the_one_prescribed_that_day(cast: Cast) -> None:
    episode = on_ost(cast, dose="60", started=5)
    services.prescribe(
        cast["staff"],
        episode,
        dose_mg=Decimal("65"),
        phase="maintenance",
        valid_from=today(),
        reason="Afternoon withdrawal",
    )
    taken_on(episode, 5, 4, 3, 2, 1)
    give(login(cast["staff"]), episode)
    assert doses(episode)[-1].dose_mg == Decimal("65")


# -- rule 3: three missed in a row wait for a clinician ---------------------------------


@pytest.fixture
def after_three_missed(cast: Cast) -> Episode:
    """Came on day -4, then missed three days, which day end recorded."""
    episode = on_ost(cast, dose="80", started=4)
    taken_on(episode, 4)
    close(cast.north, 3, 2, 1)
    assert len(doses(episode, "missed")) == 3
    return episode


def test_after_three_missed_doses_the_next_waits_for_a_clinicians_review(
    cast: Cast, after_three_missed: Episode
) -> None:
    episode = after_three_missed
    with pytest.raises(services.OSTError) as refused:
        services.dispense(cast["staff"], episode, site=cast.north)
    assert refused.value.code == "needs_review"
    assert "3 doses were missed in a row" in str(refused.value)

    http = login(cast["staff"])
    board_page = page(http.get("/ost/"))
    assert "status-blocked" in board_page and "3 missed: clinician review" in board_page
    assert f'action="/ost/episodes/{episode.pk}/dispense/"' not in board_page
    response = give(http, episode)
    assert response.redirect_chain[-1][0] == f"/ost/episodes/{episode.pk}/"
    assert "a clinician must review the person before the next dose" in page(response).lower()
    assert "3 doses missed in a row." in page(response)
    assert doses(episode, "observed") == doses(episode)[:1]


def test_a_nurse_cannot_release_a_blocked_dose(cast: Cast, after_three_missed: Episode) -> None:
    episode = after_three_missed
    with pytest.raises(services.OSTError) as refused:
        services.review(cast["staff"], episode, "Looked fine to me")
    assert refused.value.code == "needs_clinician"
    response = login(cast["staff"]).post(
        f"/ost/episodes/{episode.pk}/review/", {"note": "Looked fine to me"}
    )
    assert response.status_code == 403
    assert not Review.objects.exists()


def test_after_a_clinicians_review_the_dose_is_given(
    cast: Cast, after_three_missed: Episode
) -> None:
    episode = after_three_missed
    response = login(cast["clinician"]).post(
        f"/ost/episodes/{episode.pk}/review/",
        {"note": "Tolerance checked; restarting at 40 mg today"},
        follow=True,
    )
    assert "Review recorded: the next dose can be given." in page(response)
    [event] = audited("ost.review")
    assert event.actor == cast["clinician"]

    nurse = login(cast["staff"])
    assert "status-blocked" not in page(nurse.get("/ost/"))
    give(nurse, episode)
    [given] = [d for d in doses(episode, "observed") if d.date == today()]
    assert given.recorded_by == cast["staff"]


def test_missed_days_that_nobody_closed_yet_still_block_the_next_dose(cast: Cast) -> None:
    """Day end runs when the board opens; a dose given from the episode screen must not skip it."""
    episode = on_ost(cast, dose="80", started=4)
    taken_on(episode, 4)
    assert not DayClosed.objects.exists()
    response = give(login(cast["staff"]), episode)
    assert "a clinician must review the person" in page(response).lower()
    assert doses(episode, "observed") == doses(episode)[:1]
    assert len(doses(episode, "missed")) == 3


def test_the_episode_screen_shows_missed_days_nobody_closed_yet(cast: Cast) -> None:
    episode = on_ost(cast, dose="80", started=4)
    taken_on(episode, 4)
    text = page(login(cast["clinician"]).get(f"/ost/episodes/{episode.pk}/"))
    assert "3 doses missed in a row." in text
    assert "a clinician must review the person before the next dose" in text


def test_a_review_before_the_days_are_closed_still_releases_the_dose(cast: Cast) -> None:
    """After a long weekend the clinician reviews first thing; the nurse opens the board after."""
    episode = on_ost(cast, dose="80", started=4)
    taken_on(episode, 4)
    assert not DayClosed.objects.exists()
    services.review(cast["clinician"], episode, "Missed three days; restarting at 40 mg")
    nurse = login(cast["staff"])
    assert "status-blocked" not in page(nurse.get("/ost/"))
    give(nurse, episode)
    assert [d.date for d in doses(episode, "observed")] == [days_ago(4), today()]


def test_two_missed_doses_in_a_row_do_not_block(cast: Cast) -> None:
    episode = on_ost(cast, started=3)
    taken_on(episode, 3)
    close(cast.north, 2, 1)
    assert services.dispense(cast["staff"], episode, site=cast.north).taken == "observed"


def test_a_dose_taken_between_missed_ones_starts_the_count_again(cast: Cast) -> None:
    episode = on_ost(cast, started=6)
    missed_on(episode, 6, 5, 3, 2, 1)
    taken_on(episode, 4)
    assert services.consecutive_missed(episode, today()) == 3
    Dose.objects.filter(episode=episode, date=days_ago(1)).delete()
    taken_on(episode, 1)
    assert services.consecutive_missed(episode, today()) == 0
    assert services.dispense(cast["staff"], episode, site=cast.north).taken == "observed"


def test_missed_doses_again_after_a_review_block_again(cast: Cast) -> None:
    episode = on_ost(cast, started=8)
    missed_on(episode, 8, 7, 6)
    review = services.review(cast["clinician"], episode, "Restart at 40 mg")
    Review.objects.filter(pk=review.pk).update(at=review.at - dt.timedelta(days=4))
    missed_on(episode, 3, 2, 1)
    with pytest.raises(services.OSTError) as refused:
        services.dispense(cast["staff"], episode, site=cast.north)
    assert refused.value.code == "needs_review"


# -- two nurses at the same moment ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_nurses_pressing_give_at_the_same_moment_give_one_dose() -> None:
    cast = make_cast()
    second_nurse = make_user("nurse_two", Role.STAFF, cast.north)
    episode = on_ost(cast, started=0)
    statuses: list[int] = []

    def press(nurse: Any) -> Callable[[], None]:
        def job() -> None:
            http = login(nurse, HttpClient(raise_request_exception=True))
            response = http.post(f"/ost/episodes/{episode.pk}/dispense/", {"taken": "observed"})
            statuses.append(response.status_code)

        return job

    assert in_parallel(press(cast["staff"]), press(second_nurse)) == []
    assert statuses == [302, 302]
    assert Dose.objects.filter(episode=episode).count() == 1


# -- day end ----------------------------------------------------------------------------


def test_day_end_records_a_missed_dose_for_each_expected_person_without_one(cast: Cast) -> None:
    came = on_ost(cast, started=3)
    took_home = on_ost(cast, started=3, take_home_days=[days_ago(1).weekday()])
    stayed_away = on_ost(cast, started=3)
    came_to_south = on_ost(cast, started=3)
    taken_on(came, 1)
    Dose.objects.create(
        episode=took_home,
        client=took_home.client,
        site=cast.north,
        date=days_ago(1),
        medication="methadone",
        dose_mg=Decimal("60"),
        phase=Phase.MAINTENANCE,
        taken=Dose.Taken.TAKE_HOME,
    )
    Dose.objects.create(
        episode=came_to_south,
        client=came_to_south.client,
        site=cast.south,
        date=days_ago(1),
        medication="methadone",
        dose_mg=Decimal("60"),
        phase=Phase.MAINTENANCE,
        taken=Dose.Taken.OBSERVED,
    )

    assert services.close_day(cast.north, days_ago(1)) == 1
    [mark] = doses(stayed_away, "missed")
    assert (mark.date, mark.dose_mg, mark.site) == (days_ago(1), Decimal("60"), cast.north)
    assert mark.recorded_by is None
    for episode in (came, took_home, came_to_south):
        assert doses(episode, "missed") == []
    # Closing the day again changes nothing.
    assert services.close_day(cast.north, days_ago(1)) == 0
    assert len(doses(stayed_away, "missed")) == 1


def test_closing_a_day_twice_records_each_missed_dose_once(cast: Cast) -> None:
    episode = on_ost(cast, started=3)
    assert services.close_day(cast.north, days_ago(2)) == 1
    assert services.close_day(cast.north, days_ago(2)) == 0
    assert DayClosed.objects.filter(site=cast.north, date=days_ago(2)).count() == 1
    assert len(doses(episode, "missed")) == 1


def test_opening_the_board_closes_the_past_days_nobody_closed(cast: Cast) -> None:
    episode = on_ost(cast, started=2)
    login(cast["staff"]).get("/ost/")
    assert [d.date for d in doses(episode, "missed")] == [days_ago(2), days_ago(1)]
    assert DayClosed.objects.filter(site=cast.north, date=days_ago(1)).exists()
    assert not DayClosed.objects.filter(date=today()).exists()
    # Opening it again records nothing more.
    login(cast["clinician"]).get("/ost/")
    assert len(doses(episode, "missed")) == 2


def test_a_dose_recorded_late_replaces_the_missed_mark(cast: Cast) -> None:
    episode = on_ost(cast, started=2)
    close(cast.north, 1)
    assert [d.date for d in doses(episode, "missed")] == [days_ago(1)]
    services.dispense(cast["staff"], episode, site=cast.north, on=days_ago(1))
    [dose] = [d for d in doses(episode) if d.date == days_ago(1)]
    assert dose.taken == "observed"


def test_people_not_expected_that_day_get_no_missed_dose(cast: Cast) -> None:
    ended = on_ost(cast, started=5)
    services.end_episode(cast["clinician"], ended, end_date=days_ago(3), reason="transferred")
    paused = on_ost(cast, started=5)
    paused.prescriptions.update(valid_to=days_ago(3))
    not_yet = on_ost(cast, started=0)
    at_south = on_ost(cast, site=cast.south, started=5)
    expected = on_ost(cast, started=5)

    assert services.close_day(cast.north, days_ago(1)) == 1
    assert [d.episode for d in Dose.objects.all()] == [expected]
    for episode in (ended, paused, not_yet, at_south):
        assert doses(episode) == []


def test_today_is_never_closed(cast: Cast) -> None:
    episode = on_ost(cast, started=1)
    with pytest.raises(services.OSTError, match="once it is over"):
        services.close_day(cast.north, today())
    login(cast["staff"]).get("/ost/")
    assert [d.date for d in doses(episode, "missed")] == [days_ago(1)]
    assert not Dose.objects.filter(date=today()).exists()


# -- take-home doses ----------------------------------------------------------------------


def next_weekday(weekday: int) -> dt.date:
    ahead = (weekday - today().weekday()) % 7 or 7
    return today() + dt.timedelta(days=ahead)


def test_take_home_doses_are_issued_for_the_prescriptions_take_home_days_with_their_dates(
    cast: Cast,
) -> None:
    episode = on_ost(cast, take_home_days=[5, 6], started=0)
    saturday = next_weekday(5)
    response = login(cast["staff"]).post(
        f"/ost/episodes/{episode.pk}/take-homes/",
        {"start": saturday.isoformat(), "days": "2"},
        follow=True,
    )
    sunday = saturday + dt.timedelta(days=1)
    assert f"2 take-home dose(s) issued: {saturday:%a %d %b}, {sunday:%a %d %b}" in page(response)
    issued = doses(episode)
    assert [(d.date, d.taken, d.dose_mg) for d in issued] == [
        (saturday, "take_home", Decimal("60")),
        (sunday, "take_home", Decimal("60")),
    ]
    assert {d.recorded_by for d in issued} == {cast["staff"]}
    # On the day, the board shows the dose as given.
    [row] = board.build(cast.north, saturday)
    assert row.status == "given"


def test_take_home_doses_are_refused_for_other_days(cast: Cast) -> None:
    episode = on_ost(cast, take_home_days=[5, 6], started=0)
    friday = next_weekday(4)
    response = login(cast["staff"]).post(
        f"/ost/episodes/{episode.pk}/take-homes/",
        {"start": friday.isoformat(), "days": "2"},
        follow=True,
    )
    assert f"Not a take-home day in the prescription: {friday.isoformat()}" in page(response)
    assert doses(episode) == []


def test_a_dose_is_not_handed_out_as_take_home_outside_the_prescriptions_take_home_days(
    cast: Cast,
) -> None:
    episode = on_ost(cast, phase=Phase.INDUCTION, dose="30", started=0)
    response = give(login(cast["staff"]), episode, taken="take_home")
    assert f"{today():%A} is not a take-home day in the prescription." in page(response)
    assert doses(episode) == []


def test_a_take_home_day_shows_on_the_board(cast: Cast) -> None:
    episode = on_ost(cast, take_home_days=[today().weekday()])
    taken_on(episode, 3, 2, 1)
    text = page(login(cast["staff"]).get("/ost/"))
    assert "take-home day" in text and "Give take-home" in text


# -- the dispensing board -----------------------------------------------------------------


def test_the_board_lists_todays_expected_people_at_this_site_with_their_status(
    cast: Cast,
) -> None:
    due = on_ost(cast, dose="60", started=1)
    given = on_ost(cast, dose="45", medication="methadone", started=1)
    blocked = on_ost(cast, dose="80", started=3)
    south = on_ost(cast, site=cast.south, started=1)
    taken_on(due, 1)
    taken_on(given, 1)
    services.dispense(cast["staff"], given, site=cast.north)

    text = page(login(cast["staff"]).get("/ost/"))
    assert "<strong>1</strong> due · 1 given · <strong>1</strong> waiting for a clinician" in text
    rows = {
        episode: text.split(f'data-code="{episode.client.code}"')[1].split("</li>")[0]
        for episode in (due, given, blocked)
    }
    assert "Give 60 mg" in rows[due]
    assert "Given · 45 mg observed" in rows[given]
    assert "3 missed: clinician review" in rows[blocked]
    assert south.client.code not in text


def test_south_sees_its_own_people_only(cast: Cast) -> None:
    north = on_ost(cast, started=0)
    south = on_ost(cast, site=cast.south, started=0)
    assert cast.sam is not None
    text = page(login(cast.sam).get("/ost/"))
    assert south.client.code in text and north.client.code not in text


def test_give_records_an_observed_dose_and_returns_to_the_board(cast: Cast) -> None:
    episode = on_ost(cast, dose="60", started=0)
    response = give(login(cast["staff"]), episode)
    assert response.redirect_chain == [("/ost/", 302)]
    assert f"{episode.client.code}: 60" in page(response) and "mg observed." in page(response)
    [dose] = doses(episode)
    assert (dose.date, dose.taken, dose.site, dose.dose_mg) == (
        today(),
        "observed",
        cast.north,
        Decimal("60"),
    )
    assert dose.recorded_by == cast["staff"]


def test_a_nurse_at_another_site_cannot_give_this_sites_dose(cast: Cast) -> None:
    episode = on_ost(cast, started=0)
    assert cast.sam is not None
    assert login(cast.sam).post(f"/ost/episodes/{episode.pk}/dispense/").status_code == 403
    assert doses(episode) == []


def test_the_board_takes_the_same_few_queries_for_5_or_50_people(cast: Cast) -> None:
    http = login(cast["staff"])
    http.get("/ost/")  # the session and the user's caches, once

    def board_queries() -> tuple[int, int]:
        """The first opening of the day, which closes the past days, then the next one."""
        DayClosed.objects.all().delete()
        Dose.objects.all().delete()
        first, reviewed = Episode.objects.all()[:2]
        taken_on(first, 0)
        Review.objects.create(episode=reviewed, by=cast["clinician"], note="checked")
        with CaptureQueriesContext(connection) as opening:
            assert http.get("/ost/").status_code == 200
        with CaptureQueriesContext(connection) as again:
            assert http.get("/ost/").status_code == 200
        return len(opening), len(again)

    for _ in range(5):
        on_ost(cast, started=3)
    five = board_queries()
    assert Dose.objects.filter(taken="missed").count() == 5 * 3
    for _ in range(45):
        on_ost(cast, started=3)
    fifty = board_queries()
    assert Dose.objects.filter(taken="missed").count() == 50 * 3
    assert fifty == five


# -- ending an episode ----------------------------------------------------------------------


def test_an_ended_episode_is_not_dispensed_after_its_end_date(cast: Cast) -> None:
    episode = on_ost(cast, started=5)
    taken_on(episode, 5, 4, 3, 2, 1)
    services.end_episode(
        cast["clinician"],
        episode,
        end_date=days_ago(1),
        reason=EndReason.INCARCERATED,
        linked_service="Northgate prison health unit",
    )
    with pytest.raises(services.OSTError, match="This episode has ended"):
        services.dispense(cast["staff"], episode, site=cast.north)
    text = page(login(cast["staff"]).get("/ost/"))
    assert episode.client.code not in text
    assert "Nobody is expected on OST at this site today." in text
    assert not any(d.date == today() for d in doses(episode))


def test_the_last_day_of_an_episode_can_still_be_dispensed(cast: Cast) -> None:
    episode = on_ost(cast, started=0)
    services.end_episode(cast["clinician"], episode, end_date=today(), reason=EndReason.TRANSFERRED)
    assert services.dispense(cast["staff"], episode, site=cast.north).date == today()


def test_a_new_person_enrolled_today_is_due_on_the_board(cast: Cast) -> None:
    person = new_person(cast.north)
    episode = on_ost(cast, client=person, started=0, phase=Phase.INDUCTION, dose="30")
    text = page(login(cast["staff"]).get("/ost/"))
    assert person.code in text and "Give 30 mg" in text
    assert doses(episode) == []
