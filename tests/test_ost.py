"""Opioid agonist therapy: starting, prescribing, ending, adequacy and the travel letter.

Dispensing and its safety rules are in tests/test_ost_dispensing.py.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import shutil
import subprocess
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client as HttpClient
from django.utils import timezone

from harbour.accounts.models import Role, User
from harbour.audit.models import AuditEvent
from harbour.clients.models import Client
from harbour.ost import services
from harbour.ost.models import EndReason, Episode, Phase, Prescription
from harbour.sites.models import Site
from tests.factory import Cast, login, make_cast, make_client, make_user

_people = itertools.count()


def today() -> dt.date:
    return timezone.localdate()


def days_ago(n: int) -> dt.date:
    return today() - dt.timedelta(days=n)


def new_person(site: Site, **profile: Any) -> Client:
    """A client with a UIC of their own, so a test can register as many as it needs."""
    n = next(_people)
    mother = chr(65 + n // 26 % 26) + chr(65 + n % 26)
    return make_client(site, mother=mother, father="ZZ", **profile)


def on_ost(
    cast: Cast,
    *,
    client: Client | None = None,
    site: Site | None = None,
    medication: str = "methadone",
    dose: str = "60",
    phase: str = Phase.MAINTENANCE,
    started: int = 10,
    take_home_days: list[int] | None = None,
) -> Episode:
    """A person on OST since ``started`` days ago, enrolled by the clinician."""
    site = site or cast.north
    clinician = cast["clinician"]
    if site != cast.north:
        # The cast's clinician works at North only.
        clinician = User.objects.filter(username=f"clinician_{site.code}").first() or make_user(
            f"clinician_{site.code}", Role.CLINICIAN, site
        )
    episode = services.enrol(
        clinician,
        client or new_person(site),
        site,
        medication=medication,
        start_date=days_ago(started),
        consent_on=days_ago(started),
        dose_mg=Decimal(dose),
        phase=phase,
    )
    if take_home_days:
        services.prescribe(
            clinician,
            episode,
            dose_mg=Decimal(dose),
            phase=phase,
            valid_from=days_ago(started),
            reason="Stable; the person asked for take-home doses",
            take_home_days=take_home_days,
        )
    return episode


def page(response: Any) -> str:
    return str(response.content.decode())


def audited(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def in_parallel(*jobs: Callable[[], None]) -> list[BaseException]:
    """Run the jobs at the same moment, each thread on its own database connection."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], None]) -> None:
        try:
            start.wait()
            job()
        except BaseException as exc:  # reported by the test, not lost in a thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.fixture
def person(cast: Cast) -> Client:
    return new_person(cast.north, birth_year=1989)


# -- starting treatment ---------------------------------------------------------


def enrol_form(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "medication": "methadone",
        "dose_mg": "30",
        "phase": "induction",
        "start_date": today().isoformat(),
        "start_context": "new",
        "linked_service": "",
        "consent": "on",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def test_a_clinician_starts_treatment_with_consent_the_chosen_medication_and_a_starting_dose(
    cast: Cast, person: Client
) -> None:
    response = login(cast["clinician"]).post(
        f"/ost/enrol/{person.pk}/", enrol_form(medication="buprenorphine", dose_mg="4")
    )
    episode = Episode.objects.get(client=person)
    assert response.status_code == 302 and response["Location"] == f"/ost/episodes/{episode.pk}/"
    assert episode.site == cast.north and episode.ongoing
    assert episode.medication == "buprenorphine"
    assert episode.start_date == today() and episode.consent_on == today()
    assert episode.prescriber == cast["clinician"]
    start = episode.prescriptions.get()
    assert (start.dose_mg, start.phase, start.valid_from) == (Decimal("4"), "induction", today())
    assert start.author == cast["clinician"] and start.reason == "Starting dose"
    [event] = audited("ost.enrol")
    assert event.detail["client"] == person.code and event.detail["dose_mg"] == "4"


def test_treatment_does_not_start_without_the_persons_consent(cast: Cast, person: Client) -> None:
    response = login(cast["clinician"]).post(f"/ost/enrol/{person.pk}/", enrol_form(consent=None))
    assert response.status_code == 422
    assert "Treatment starts only with the person&#x27;s consent." in page(response)
    assert not Episode.objects.exists()


@pytest.mark.parametrize("missing", ["medication", "dose_mg"])
def test_treatment_does_not_start_without_a_medication_and_a_starting_dose(
    cast: Cast, person: Client, missing: str
) -> None:
    response = login(cast["clinician"]).post(
        f"/ost/enrol/{person.pk}/", enrol_form(**{missing: None})
    )
    assert response.status_code == 422
    assert response.context["form"].errors[missing] == ["This field is required."]
    assert not Episode.objects.exists()


def test_a_person_cannot_have_two_ongoing_episodes_but_can_restart_after_one_ends(
    cast: Cast, person: Client
) -> None:
    first = on_ost(cast, client=person)
    http = login(cast["clinician"])
    response = http.post(f"/ost/enrol/{person.pk}/", enrol_form())
    assert response.status_code == 422
    assert "already has an ongoing OST episode" in page(response)
    assert Episode.objects.filter(client=person).count() == 1

    services.end_episode(cast["clinician"], first, end_date=days_ago(1), reason=EndReason.STOPPED)
    response = http.post(f"/ost/enrol/{person.pk}/", enrol_form(start_context="restart"))
    assert response.status_code == 302
    assert Episode.objects.filter(client=person).count() == 2
    assert Episode.objects.get(client=person, end_date__isnull=True).start_context == "restart"


@pytest.mark.django_db(transaction=True)
def test_starting_treatment_twice_at_the_same_moment_opens_one_episode() -> None:
    cast = make_cast()
    person = new_person(cast.north)
    statuses: list[int] = []

    def start() -> None:
        http = login(cast["clinician"], HttpClient(raise_request_exception=True))
        statuses.append(http.post(f"/ost/enrol/{person.pk}/", enrol_form()).status_code)

    assert in_parallel(start, start, start) == []
    assert sorted(statuses) == [302, 422, 422]
    assert Episode.objects.filter(client=person).count() == 1


def test_treatment_cannot_start_in_the_future(cast: Cast, person: Client) -> None:
    tomorrow = today() + dt.timedelta(days=1)
    response = login(cast["clinician"]).post(
        f"/ost/enrol/{person.pk}/", enrol_form(start_date=tomorrow.isoformat())
    )
    assert response.status_code == 422
    assert response.context["form"].errors["start_date"] == [
        "Treatment cannot start in the future."
    ]
    assert not Episode.objects.exists()


def test_consent_is_given_before_treatment_starts(cast: Cast, person: Client) -> None:
    with pytest.raises(services.OSTError, match="Consent is given before"):
        services.enrol(
            cast["clinician"],
            person,
            cast.north,
            medication="methadone",
            start_date=days_ago(3),
            consent_on=days_ago(2),
            dose_mg=Decimal("30"),
        )


@pytest.mark.parametrize("role", [Role.STAFF, Role.CASE_MANAGER, Role.OUTREACH, Role.ME_OFFICER])
def test_only_a_clinician_can_start_treatment(cast: Cast, person: Client, role: str) -> None:
    http = login(cast[role])
    assert http.get(f"/ost/enrol/{person.pk}/").status_code == 403
    assert http.post(f"/ost/enrol/{person.pk}/", enrol_form()).status_code == 403
    assert not Episode.objects.exists()


def test_a_person_continuing_from_prison_starts_with_where_they_come_from(
    cast: Cast, person: Client
) -> None:
    http = login(cast["clinician"])
    http.post(
        f"/ost/enrol/{person.pk}/",
        enrol_form(
            start_context="from_prison",
            linked_service="Northgate prison health unit",
            phase="maintenance",
            dose_mg="70",
            start_date=days_ago(1).isoformat(),
        ),
    )
    episode = Episode.objects.get(client=person)
    assert episode.start_context == "from_prison"
    assert episode.linked_service == "Northgate prison health unit"
    text = page(http.get(f"/ost/episodes/{episode.pk}/"))
    assert "Continuing from prison (Northgate prison health unit)" in text


# -- prescriptions ----------------------------------------------------------------


def prescription_form(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "dose_mg": "65",
        "phase": "maintenance",
        "valid_from": today().isoformat(),
        "reason": "Still in withdrawal in the afternoons",
    }
    data.update(fields)
    return data


def current(episode: Episode) -> Prescription:
    p = services.current_prescription(episode, today())
    assert p is not None
    return p


def test_a_dose_change_keeps_its_reason_and_author_and_closes_the_previous_prescription(
    cast: Cast,
) -> None:
    episode = on_ost(cast, dose="60")
    http = login(cast["staff"])
    response = http.post(f"/ost/episodes/{episode.pk}/prescribe/", prescription_form(), follow=True)
    assert "Prescription saved: 65 mg from" in page(response)
    new = current(episode)
    assert new.dose_mg == Decimal("65")
    assert new.author == cast["staff"]
    assert new.reason == "Still in withdrawal in the afternoons"
    old = episode.prescriptions.get(dose_mg=Decimal("60"))
    assert old.valid_to == days_ago(1)
    assert old.author == cast["clinician"] and old.reason == "Starting dose"
    [event] = audited("ost.prescribe")
    assert event.detail["previous_mg"] == "60.00" and event.detail["dose_mg"] == "65"
    # The history shows both, each with its reason and author.
    history = page(http.get(f"/ost/episodes/{episode.pk}/")).split("Prescription history")[1]
    assert "65 mg · Maintenance · Still in withdrawal in the afternoons · staff_north" in history
    assert "60 mg · Maintenance · Starting dose · clinician_north" in history


@pytest.mark.parametrize("dose", ["80", "40"])
def test_a_nurse_cannot_change_the_dose_by_more_than_the_step(cast: Cast, dose: str) -> None:
    episode = on_ost(cast, dose="60")
    response = login(cast["staff"]).post(
        f"/ost/episodes/{episode.pk}/prescribe/", prescription_form(dose_mg=dose), follow=True
    )
    text = page(response)
    assert "A change of 20" in text
    assert "more than the 10 mg step a nurse may make: a clinician must prescribe it." in text
    assert current(episode).dose_mg == Decimal("60")
    assert episode.prescriptions.count() == 1


def test_a_clinician_may_change_the_dose_by_more_than_the_step(cast: Cast) -> None:
    episode = on_ost(cast, dose="60")
    response = login(cast["clinician"]).post(
        f"/ost/episodes/{episode.pk}/prescribe/", prescription_form(dose_mg="90"), follow=True
    )
    assert "Prescription saved: 90 mg" in page(response)
    assert current(episode).dose_mg == Decimal("90")
    assert current(episode).author == cast["clinician"]


def test_the_step_is_per_medication(cast: Cast) -> None:
    episode = on_ost(cast, medication="buprenorphine", dose="8")
    nurse = cast["staff"]
    services.prescribe(
        nurse, episode, dose_mg=Decimal("10"), phase="maintenance", valid_from=today(), reason="+2"
    )
    with pytest.raises(services.OSTError) as refused:
        services.prescribe(
            nurse,
            episode,
            dose_mg=Decimal("14"),
            phase="maintenance",
            valid_from=today(),
            reason="+4",
        )
    assert refused.value.code == "needs_clinician"
    assert current(episode).dose_mg == Decimal("10")


def test_the_step_a_nurse_may_make_is_configurable(cast: Cast, settings: Any) -> None:
    episode = on_ost(cast, dose="60")
    http = login(cast["staff"])
    settings.OST_DOSE_STEP_MG = {**django_settings.OST_DOSE_STEP_MG, "methadone": Decimal("4")}
    text = page(
        http.post(f"/ost/episodes/{episode.pk}/prescribe/", prescription_form(), follow=True)
    )
    assert "more than the 4 mg step" in text
    assert current(episode).dose_mg == Decimal("60")

    settings.OST_DOSE_STEP_MG = {**django_settings.OST_DOSE_STEP_MG, "methadone": Decimal("25")}
    http.post(f"/ost/episodes/{episode.pk}/prescribe/", prescription_form(dose_mg="80"))
    assert current(episode).dose_mg == Decimal("80")


def test_a_prescription_change_needs_a_reason(cast: Cast) -> None:
    episode = on_ost(cast, dose="60")
    text = page(
        login(cast["clinician"]).post(
            f"/ost/episodes/{episode.pk}/prescribe/", prescription_form(reason=""), follow=True
        )
    )
    assert "Why this change: This field is required." in text
    assert episode.prescriptions.count() == 1


def test_there_are_no_take_home_doses_during_induction(cast: Cast) -> None:
    episode = on_ost(cast, dose="30", phase=Phase.INDUCTION)
    text = page(
        login(cast["clinician"]).post(
            f"/ost/episodes/{episode.pk}/prescribe/",
            prescription_form(dose_mg="30", phase="induction", take_home_days=["5", "6"]),
            follow=True,
        )
    )
    assert "No take-home doses during induction." in text
    assert current(episode).take_home_days == []
    assert episode.prescriptions.count() == 1


def test_take_home_days_are_saved_as_weekdays(cast: Cast) -> None:
    episode = on_ost(cast, dose="60")
    http = login(cast["clinician"])
    http.post(
        f"/ost/episodes/{episode.pk}/prescribe/",
        prescription_form(dose_mg="60", take_home_days=["6", "5"], reason="Stable, works Sat"),
    )
    assert current(episode).take_home_days == [5, 6]
    assert current(episode).take_home_label == "Sat, Sun"
    assert "<dt>Take-home days</dt><dd>Sat, Sun</dd>" in page(
        http.get(f"/ost/episodes/{episode.pk}/")
    )


def test_an_ended_episode_takes_no_new_prescription(cast: Cast) -> None:
    episode = on_ost(cast)
    services.end_episode(cast["clinician"], episode, end_date=today(), reason=EndReason.STOPPED)
    with pytest.raises(services.OSTError, match="This episode has ended"):
        services.prescribe(
            cast["clinician"],
            episode,
            dose_mg=Decimal("60"),
            phase="maintenance",
            valid_from=today(),
            reason="again",
        )


# -- ending an episode --------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "service", "shown"),
    [
        ("transferred", "Southside pharmacy OST programme", "transferred to another service"),
        ("incarcerated", "Northgate prison health unit", "went to prison (continuity arranged)"),
    ],
)
def test_a_transfer_or_prison_stay_ends_the_episode_with_the_service_taking_over(
    cast: Cast, reason: str, service: str, shown: str
) -> None:
    episode = on_ost(cast)
    http = login(cast["clinician"])
    response = http.post(
        f"/ost/episodes/{episode.pk}/end/",
        {"end_date": today().isoformat(), "reason": reason, "linked_service": service},
        follow=True,
    )
    assert "The episode has ended." in page(response)
    episode.refresh_from_db()
    assert (episode.end_date, episode.end_reason, episode.linked_service) == (
        today(),
        reason,
        service,
    )
    assert not episode.prescriptions.filter(valid_to__isnull=True).exists()
    [event] = audited("ost.end")
    assert event.detail["reason"] == reason
    profile = page(http.get(f"/clients/{episode.client.pk}/"))
    assert f"ended {today():%-d %b %Y} ({shown})" in profile


def test_every_end_reason_of_the_issue_can_be_recorded() -> None:
    assert {value for value, _ in EndReason.choices} == {
        "completed_taper",
        "transferred",
        "stopped",
        "incarcerated",
        "died",
        "lost",
        "other",
    }


def test_an_episode_cannot_end_before_it_started_or_end_twice(cast: Cast) -> None:
    episode = on_ost(cast, started=3)
    clinician = cast["clinician"]
    with pytest.raises(services.OSTError, match="cannot end before it started"):
        services.end_episode(clinician, episode, end_date=days_ago(4), reason="stopped")
    services.end_episode(clinician, episode, end_date=today(), reason="stopped")
    with pytest.raises(services.OSTError, match="already ended"):
        services.end_episode(clinician, episode, end_date=today(), reason="other")


def test_only_a_clinician_ends_an_episode(cast: Cast) -> None:
    episode = on_ost(cast)
    response = login(cast["staff"]).post(
        f"/ost/episodes/{episode.pk}/end/",
        {"end_date": today().isoformat(), "reason": "stopped"},
    )
    assert response.status_code == 403
    episode.refresh_from_db()
    assert episode.ongoing


# -- dose adequacy --------------------------------------------------------------------


def test_people_in_maintenance_below_an_adequate_dose_are_listed_for_review(cast: Cast) -> None:
    low_methadone = on_ost(cast, medication="methadone", dose="50")
    low_buprenorphine = on_ost(cast, medication="buprenorphine", dose="6")
    adequate = [
        on_ost(cast, medication="methadone", dose="60"),
        on_ost(cast, medication="buprenorphine", dose="8"),
        on_ost(cast, medication="methadone", dose="30", phase=Phase.INDUCTION),
        on_ost(cast, medication="methadone", dose="20", phase=Phase.TAPER),
        on_ost(cast, medication="diacetylmorphine", dose="200"),
    ]
    elsewhere = on_ost(cast, site=cast.south, medication="methadone", dose="40")
    ended = on_ost(cast, medication="methadone", dose="40")
    services.end_episode(cast["clinician"], ended, end_date=days_ago(1), reason="lost")

    listed = {e.pk for e, _ in services.below_adequate(cast.north)}
    assert listed == {low_methadone.pk, low_buprenorphine.pk}

    text = page(login(cast["staff"]).get("/ost/dose-review/"))
    assert low_methadone.client.code in text and "50 mg" in text
    assert low_buprenorphine.client.code in text and "6 mg" in text
    for episode in [*adequate, elsewhere, ended]:
        assert episode.client.code not in text


def test_the_episode_shows_a_maintenance_dose_below_the_adequate_level(cast: Cast) -> None:
    low = on_ost(cast, dose="45")
    fine = on_ost(cast, dose="60")
    http = login(cast["clinician"])
    assert "below 60 mg: review adequacy" in page(http.get(f"/ost/episodes/{low.pk}/"))
    assert "review adequacy" not in page(http.get(f"/ost/episodes/{fine.pk}/"))


# -- the travel letter -------------------------------------------------------------------


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    source = tmp_path / "letter.pdf"
    source.write_bytes(pdf)
    out = subprocess.run(
        [tool, "-layout", str(source), "-"], check=True, capture_output=True, text=True
    )
    return " ".join(out.stdout.split())


def test_a_clinician_prints_a_travel_letter_with_the_medication_and_dose(
    cast: Cast, person: Client, tmp_path: Path
) -> None:
    episode = on_ost(cast, client=person, dose="85")
    response = login(cast["clinician"]).get(f"/ost/episodes/{episode.pk}/travel-letter.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    [event] = audited("ost.travel_letter")
    assert event.detail == {"client": person.code}
    assert event.actor == cast["clinician"]

    text = pdf_text(response.content, tmp_path)
    assert f"Client code {person.code}" in text
    assert "Medication Methadone" in text
    assert re.search(r"Daily dose 85(\.00)? mg", text)
    assert "1989" not in text  # the birth year stays in Harbour


def test_a_nurse_cannot_print_a_travel_letter(cast: Cast) -> None:
    episode = on_ost(cast)
    response = login(cast["staff"]).get(f"/ost/episodes/{episode.pk}/travel-letter.pdf")
    assert response.status_code == 403
    assert not audited("ost.travel_letter")


def test_an_ended_episode_gets_no_travel_letter(cast: Cast) -> None:
    episode = on_ost(cast)
    services.end_episode(cast["clinician"], episode, end_date=days_ago(1), reason="stopped")
    response = login(cast["clinician"]).get(
        f"/ost/episodes/{episode.pk}/travel-letter.pdf", follow=True
    )
    assert "A travel letter needs an ongoing episode with a prescription." in page(response)
    assert not audited("ost.travel_letter")


# -- who sees what ------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "can_start"), [(Role.STAFF, False), (Role.CLINICIAN, True)])
def test_the_client_profile_shows_the_ost_episode_and_start_button_to_the_right_people(
    cast: Cast, role: str, can_start: bool
) -> None:
    episode = on_ost(cast)
    text = page(login(cast[role]).get(f"/clients/{episode.client.pk}/"))
    assert "Opioid agonist therapy" in text
    assert f'href="/ost/episodes/{episode.pk}/"' in text
    assert "· ongoing" in text
    assert ("Start OST" in text) is can_start


def test_front_line_roles_without_ost_access_see_no_ost_on_the_profile(
    cast: Cast,
) -> None:
    episode = on_ost(cast)
    text = page(login(cast[Role.OUTREACH]).get(f"/clients/{episode.client.pk}/"))
    assert "Opioid agonist therapy" not in text and "Start OST" not in text


@pytest.mark.parametrize("role", [Role.ME_OFFICER, Role.OUTREACH, Role.ADMIN])
def test_people_without_ost_access_cannot_open_an_episode(cast: Cast, role: str) -> None:
    episode = on_ost(cast)
    assert login(cast[role]).get(f"/ost/episodes/{episode.pk}/").status_code == 403


def test_staff_at_another_site_cannot_open_an_episode(cast: Cast) -> None:
    episode = on_ost(cast)
    assert cast.sam is not None
    assert login(cast.sam).get(f"/ost/episodes/{episode.pk}/").status_code == 403


def test_a_case_manager_sees_the_episode_but_cannot_change_it(cast: Cast) -> None:
    episode = on_ost(cast)
    http = login(cast[Role.CASE_MANAGER])
    text = page(http.get(f"/ost/episodes/{episode.pk}/"))
    assert "Current prescription" in text and "Change the prescription" not in text
    response = http.post(f"/ost/episodes/{episode.pk}/prescribe/", prescription_form())
    assert response.status_code == 403


# -- words --------------------------------------------------------------------------------

WORDS_WE_DO_NOT_USE = ["relapse", "dirty", "clean", "abuse", "addict", "punish", "compliance"]


def test_the_ost_templates_use_people_first_words() -> None:
    folder = Path(django_settings.BASE_DIR) / "harbour" / "templates" / "ost"
    templates = sorted(folder.glob("*.html"))
    assert templates
    for template in templates:
        text = template.read_text().lower()
        for word in WORDS_WE_DO_NOT_USE:
            assert word not in text, f"{template.name} says {word!r}"


def test_the_ost_screens_use_people_first_words(cast: Cast) -> None:
    episode = on_ost(cast, dose="40")
    http: HttpClient = login(cast["clinician"])
    screens = [
        "/ost/",
        "/ost/dose-review/",
        f"/ost/episodes/{episode.pk}/",
        f"/ost/enrol/{new_person(cast.north).pk}/",
    ]
    for url in screens:
        text = page(http.get(url)).lower()
        for word in WORDS_WE_DO_NOT_USE:
            assert word not in text, f"{url} says {word!r}"


def test_small_changes_on_one_day_cannot_add_up_past_the_step(cast: Cast) -> None:
    episode = on_ost(cast, dose="60")
    nurse = cast["staff"]
    services.prescribe(
        nurse,
        episode,
        dose_mg=Decimal("70"),
        phase=Phase.MAINTENANCE,
        valid_from=today(),
        reason="Person asks for a little more",
    )
    with pytest.raises(services.OSTError) as refused:
        services.prescribe(
            nurse,
            episode,
            dose_mg=Decimal("80"),
            phase=Phase.MAINTENANCE,
            valid_from=today(),
            reason="And a little more",
        )
    assert refused.value.code == "needs_clinician"
    assert "20 mg" in str(refused.value)


def test_a_nurse_cannot_change_the_phase_or_the_take_home_days(cast: Cast) -> None:
    episode = on_ost(cast, dose="60")
    nurse = cast["staff"]
    with pytest.raises(services.OSTError) as phase:
        services.prescribe(
            nurse,
            episode,
            dose_mg=Decimal("60"),
            phase=Phase.TAPER,
            valid_from=today(),
            reason="Taper",
        )
    assert phase.value.field == "phase"
    with pytest.raises(services.OSTError) as days:
        services.prescribe(
            nurse,
            episode,
            dose_mg=Decimal("60"),
            phase=Phase.MAINTENANCE,
            valid_from=today(),
            reason="Weekend",
            take_home_days=[5, 6],
        )
    assert days.value.field == "take_home_days"
    services.prescribe(
        cast["clinician"],
        episode,
        dose_mg=Decimal("60"),
        phase=Phase.MAINTENANCE,
        valid_from=today(),
        reason="Stable: weekends at home, as the person asked",
        take_home_days=[5, 6],
    )


def test_doses_read_as_people_write_them() -> None:
    assert services.mg(Decimal("60.00")) == "60"
    assert services.mg(Decimal("7.50")) == "7.5"
    assert services.mg(Decimal("120")) == "120"
