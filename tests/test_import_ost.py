"""`harbour import-bundle` with a programme's OST history: episodes and doses.

The cast's tree is in Harbour (North NTH-01, South STH-01 in region REG-A); each
bundle adds East (EST-01) and registers three people (see test_import_bundle). The
first, registered at East, is on methadone from 2025-01-01, still ongoing; the
second, registered at North, took buprenorphine in the first half of 2024 and is seen
at North in February 2025 without being on OST.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from harbour.clients import services
from harbour.clients.models import Client
from harbour.ost import indicators
from harbour.ost import services as ost
from harbour.ost.models import Dose, Episode, Prescription
from tests.factory import Cast, make_client, parts
from tests.test_import_bundle import CLIENTS, RAW_UIC, SITES, bundle, run, run_failing

EPISODES = """id,uic,medication,start_date,end_date,end_reason
e1,ANJOF891,methadone,2025-01-01,,
e2,bekam752,Buprenorphine,2024-01-10,2024-06-30,completed_taper
"""

DOSES = """uic,date,medication,dose_mg,phase,taken
ANJOF891,2025-01-01,methadone,30,induction,observed
ANJOF891,2025-01-02,methadone,7.5,induction,take_home
ANJOF891,2025-01-03,methadone,40.25,maintenance,missed
BEKAM752,2024-03-01,buprenorphine,8,maintenance,observed
"""

CONTACTS = """id,date,site,uic
c1,2025-02-01,NTH-01,BEKAM752
"""

HISTORY = {
    "sites": SITES,
    "clients": CLIENTS,
    "contacts": CONTACTS,
    "ost_episodes": EPISODES,
    "ost_doses": DOSES,
}

Q1_2025 = (dt.date(2025, 1, 1), dt.date(2025, 3, 31))


def history(folder: Path, **changed: str) -> Path:
    files = {name: text for name, text in {**HISTORY, **changed}.items() if text}
    return bundle(folder, **files)


def everything() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Client, Episode, Dose, Prescription))


def test_a_bundle_with_clients_episodes_and_doses_imports_them(cast: Cast, tmp_path: Path) -> None:
    outcome = run(history(tmp_path))

    assert "ost_episodes.csv: 2 created, 0 unchanged, 0 conflicting" in outcome.stdout
    assert "ost_doses.csv: 4 created, 0 unchanged, 0 conflicting" in outcome.stdout
    first = services.find(parts()).client
    assert first is not None
    e1 = Episode.objects.get(external_id="e1")
    assert (e1.client, e1.medication, e1.start_date, e1.end_date, e1.end_reason) == (
        first,
        "methadone",
        dt.date(2025, 1, 1),
        None,
        "",
    )
    # Held at the client's registration site; consent given when treatment started.
    assert (e1.site.code, e1.consent_on, e1.start_context) == ("EST-01", e1.start_date, "new")
    e2 = Episode.objects.get(external_id="e2")
    assert (e2.site.code, e2.end_date, e2.end_reason) == (
        "NTH-01",
        dt.date(2024, 6, 30),
        "completed_taper",
    )
    # The format carries no prescriptions: a clinician records one for e1.
    assert not Prescription.objects.exists()
    doses = list(e1.doses.order_by("date"))
    assert [(d.date.day, d.dose_mg, d.phase, d.taken) for d in doses] == [
        (1, Decimal("30"), "induction", "observed"),
        (2, Decimal("7.5"), "induction", "take_home"),
        (3, Decimal("40.25"), "maintenance", "missed"),
    ]
    assert {(d.client, d.site.code, d.medication) for d in doses} == {
        (first, "EST-01", "methadone")
    }
    assert e2.doses.get().dose_mg == Decimal("8")


def test_importing_the_same_ost_history_twice_changes_nothing_the_second_time(
    cast: Cast, tmp_path: Path
) -> None:
    path = history(tmp_path)
    run(path)
    before = everything()

    outcome = run(path)

    assert "ost_episodes.csv: 0 created, 2 unchanged, 0 conflicting" in outcome.stdout
    assert "ost_doses.csv: 0 created, 4 unchanged, 0 conflicting" in outcome.stdout
    assert outcome.stderr == ""
    assert everything() == before


def test_a_dose_outside_any_episode_is_an_error_naming_file_line_and_column_and_writes_nothing(
    cast: Cast, tmp_path: Path
) -> None:
    doses = DOSES + (
        "ANJOF891,2024-12-31,methadone,30,induction,observed\n"  # before e1 starts
        "BEKAM752,2024-07-01,buprenorphine,8,taper,observed\n"  # after e2 ends
        "ANJOF891,2025-01-04,buprenorphine,8,maintenance,observed\n"  # e1 is methadone
    )
    before = everything()

    outcome = run_failing(history(tmp_path, ost_doses=doses))

    assert outcome.lines == [
        "ost_doses.csv:6: date: no OST episode of methadone on this date.",
        "ost_doses.csv:7: date: no OST episode of buprenorphine on this date.",
        "ost_doses.csv:8: date: no OST episode of buprenorphine on this date.",
    ]
    assert everything() == before


def test_a_changed_episode_is_a_conflict_and_harbours_episode_is_kept(
    cast: Cast, tmp_path: Path
) -> None:
    run(history(tmp_path / "first"))
    episodes = EPISODES.replace("2024-06-30,completed_taper", "2024-07-31,stopped")

    outcome = run(history(tmp_path / "second", ost_episodes=episodes))

    assert "ost_episodes.csv: 0 created, 1 unchanged, 1 conflicting" in outcome.stdout
    assert outcome.lines[1:] == [
        "ost_episodes.csv:3: end_date: conflict: episode e2 has end date 2024-06-30 here; "
        "the bundle says 2024-07-31.",
        "ost_episodes.csv:3: end_reason: conflict: episode e2 has end reason completed_taper "
        "here; the bundle says stopped.",
    ]
    e2 = Episode.objects.get(external_id="e2")
    assert (e2.end_date, e2.end_reason) == (dt.date(2024, 6, 30), "completed_taper")


def test_a_changed_dose_is_a_conflict_and_harbours_doses_are_kept(
    cast: Cast, tmp_path: Path
) -> None:
    run(history(tmp_path / "first"))
    doses = DOSES.replace("7.5,induction,take_home", "10,induction,observed")

    outcome = run(history(tmp_path / "second", ost_doses=doses))

    assert "ost_doses.csv: 0 created, 3 unchanged, 1 conflicting" in outcome.stdout
    code = services.find(parts()).client.code  # type: ignore[union-attr]
    assert outcome.lines[1:] == [
        f"ost_doses.csv:3: date: conflict: client {code} has 7.5 mg induction take_home of "
        "methadone on 2025-01-02 here; the bundle says 10 mg induction observed."
    ]
    assert Dose.objects.get(date=dt.date(2025, 1, 2)).taken == "take_home"


def test_an_end_date_before_the_start_date_is_an_error(cast: Cast, tmp_path: Path) -> None:
    episodes = EPISODES.replace("2024-06-30,completed_taper", "2023-12-31,completed_taper")

    outcome = run_failing(history(tmp_path, ost_episodes=episodes, ost_doses=""))

    assert outcome.lines == ["ost_episodes.csv:3: end_date: is before the start_date."]
    assert not Episode.objects.exists()


def test_unknown_medications_phases_and_bad_doses_are_errors(cast: Cast, tmp_path: Path) -> None:
    episodes = EPISODES + "e3,CODUX003,morphine,2024-02-01,,\n"
    doses = DOSES + "ANJOF891,2025-01-05,methadone,7.555,maintenance,observed\n"
    doses += "ANJOF891,2025-01-06,methadone,0,stable,eaten\n"

    outcome = run_failing(history(tmp_path, ost_episodes=episodes, ost_doses=doses))

    assert outcome.lines == [
        "ost_episodes.csv:4: medication: use one of methadone, buprenorphine, "
        "diacetylmorphine, other.",
        "ost_doses.csv:6: dose_mg: use a number of milligrams with at most two decimals "
        "after a point, such as 7.5.",
        "ost_doses.csv:7: dose_mg: must be more than 0 and at most 99999.99.",
        "ost_doses.csv:7: phase: use one of induction, maintenance, taper.",
        "ost_doses.csv:7: taken: use one of observed, take_home, missed.",
    ]
    assert not Episode.objects.exists()


def test_an_end_reason_needs_an_end_date_but_an_end_date_may_go_without_a_reason(
    cast: Cast, tmp_path: Path
) -> None:
    episodes = EPISODES.replace("2024-06-30,completed_taper", "2024-06-30,")
    run(history(tmp_path / "ok", ost_episodes=episodes))
    assert Episode.objects.get(external_id="e2").end_reason == ""

    episodes = EPISODES + "e3,CODUX003,other,2024-02-01,,lost\n"
    outcome = run_failing(history(tmp_path / "bad", ost_episodes=episodes))

    assert outcome.lines == [
        "ost_episodes.csv:4: end_reason: an ongoing episode has no end reason; "
        "give the end_date, or leave this blank."
    ]


def test_overlapping_episodes_of_one_client_are_an_error_but_a_handover_day_is_not(
    cast: Cast, tmp_path: Path
) -> None:
    overlapping = EPISODES + "e4,ANJOF891,buprenorphine,2025-03-01,,\n"
    outcome = run_failing(history(tmp_path / "bad", ost_episodes=overlapping, ost_doses=""))

    assert outcome.lines == [
        "ost_episodes.csv:4: start_date: overlaps episode e1 (line 2) of the same client, "
        "from 2025-01-01 to ongoing; a person is on one OST episode at a time."
    ]
    # The second client switches to methadone on the day buprenorphine ends: fine.
    handover = EPISODES + "e3,BEKAM752,methadone,2024-06-30,2024-08-01,stopped\n"
    handover_dose = DOSES + "BEKAM752,2024-06-30,methadone,20,induction,observed\n"
    run(history(tmp_path / "ok", ost_episodes=handover, ost_doses=handover_dose))
    assert Episode.objects.count() == 2 + 1
    dose = Dose.objects.get(date=dt.date(2024, 6, 30))
    assert dose.episode == Episode.objects.get(external_id="e3")


def test_an_episode_overlapping_an_ongoing_episode_in_harbour_is_an_error(
    cast: Cast, tmp_path: Path
) -> None:
    client = make_client(cast.north)
    ost.enrol(
        cast["clinician"],
        client,
        cast.north,
        medication="methadone",
        start_date=dt.date(2025, 6, 1),
        consent_on=dt.date(2025, 6, 1),
        dose_mg=Decimal("30"),
    )
    episodes = "id,uic,medication,start_date\nx1,ANJOF891,buprenorphine,2025-05-01\n"

    outcome = run_failing(history(tmp_path, ost_episodes=episodes, ost_doses=""))

    assert outcome.lines == [
        "ost_episodes.csv:2: start_date: overlaps an episode of the same client, "
        "from 2025-06-01 to ongoing; a person is on one OST episode at a time."
    ]


def test_doses_of_a_client_in_harbour_go_to_their_episode_in_harbour(
    cast: Cast, tmp_path: Path
) -> None:
    client = make_client(cast.north)
    episode = ost.enrol(
        cast["clinician"],
        client,
        cast.south,
        medication="methadone",
        start_date=dt.date(2025, 6, 1),
        consent_on=dt.date(2025, 6, 1),
        dose_mg=Decimal("30"),
    )
    doses = "uic,date,medication,dose_mg,phase,taken\nANJOF891,2025-06-02,methadone,30,induction,observed\n"

    run(history(tmp_path, ost_episodes="", ost_doses=doses))

    dose = Dose.objects.get()
    assert (dose.episode, dose.client, dose.site.code) == (episode, client, "STH-01")


def test_prv11_and_prv12_give_the_hand_computed_values_on_imported_ost_history(
    cast: Cast, tmp_path: Path
) -> None:
    run(history(tmp_path))

    # PRV.12: e1 runs the whole of 2025Q1, 90 days: 90 / 365.25 = 0.2464.
    assert indicators.prv12(*Q1_2025) == {"value": 0.25}
    # 2024: e2 from 10 January to 30 June inclusive is 173 days: 0.4736.
    assert indicators.prv12(dt.date(2024, 1, 1), dt.date(2024, 12, 31)) == {"value": 0.47}
    # PRV.11: the first client is on OST at E; the second, opioid dependent and seen at
    # North in February, is not: 1 / 2.
    result = indicators.prv11(*Q1_2025)
    assert (result["numerator"], result["denominator"], result["value"]) == (1, 2, 0.5)


def test_a_dry_run_writes_nothing_and_json_counts_ost_files(cast: Cast, tmp_path: Path) -> None:
    before = everything()

    outcome = run(history(tmp_path), "--dry-run", "--format", "json")

    files = json.loads(outcome.stdout)["files"]
    assert files["ost_episodes.csv"] == {"created": 2, "unchanged": 0, "conflicts": 0}
    assert files["ost_doses.csv"] == {"created": 4, "unchanged": 0, "conflicts": 0}
    assert everything() == before


def test_an_unknown_uic_is_an_error_that_never_shows_the_uic(cast: Cast, tmp_path: Path) -> None:
    episodes = EPISODES + f"e3,{RAW_UIC},methadone,2024-02-01,,\n"
    doses = DOSES + f"{RAW_UIC},2024-02-02,methadone,30,induction,observed\n"

    outcome = run_failing(history(tmp_path, ost_episodes=episodes, ost_doses=doses))

    assert outcome.lines == [
        "ost_episodes.csv:4: uic: no client with this UIC; add them to clients.csv.",
        "ost_doses.csv:6: uic: no client with this UIC; add them to clients.csv.",
    ]
    assert RAW_UIC not in outcome.stdout + outcome.stderr
