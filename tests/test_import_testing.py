"""`harbour import-bundle` with tests.csv, treatments.csv and viral_loads.csv.

The bundle registers eight people at East (EST-01) and North (NTH-01) and gives each
a path through the HIV and hepatitis C cascades; the cascades computed on the
imported records are checked against a count made by hand (see CASCADE below).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from harbour.clients.models import Client
from harbour.testing.cascades import hcv_cascade, hiv_cascade
from harbour.testing.models import Test, Treatment, ViralLoad
from tests.factory import Cast, make_client
from tests.test_import_bundle import CLIENTS_HEADER, RAW_UIC, SITES, bundle, run, run_failing

CLIENTS = f"""{CLIENTS_HEADER}
ANJOF891,female,1989,yes,unknown,2022-01-10,EST-01
BEKAM752,male,1975,no,yes,2022-01-10,NTH-01
CODUX003,other,,unknown,no,2022-01-10,EST-01
DAMIM804,male,1980,yes,yes,2022-01-10,EST-01
ELNOF905,female,1990,yes,no,2022-01-10,EST-01
FIRAM816,male,1981,yes,yes,2022-01-10,NTH-01
GOSUF927,female,1992,no,no,2022-01-10,EST-01
HAPEM838,male,1983,yes,yes,2022-01-10,EST-01
"""
# People H1…H8 below, in the order of CLIENTS.
H = ("ANJOF891", "BEKAM752", "CODUX003", "DAMIM804", "ELNOF905", "FIRAM816", "GOSUF927")
H8 = "HAPEM838"

E = dt.date(2024, 12, 31)  # the cascades' day: E − 182 days = 2024-07-02, E − 365 = 2024-01-01

TESTS = f"""id,uic,date,test,result,kind
t1,{H[0]},2023-01-10,hiv,positive,rapid
t2,{H[0]},2023-01-12,hiv,positive,laboratory
t3,{H[1]},2024-03-01,hiv,positive,laboratory
t4,{H[2]},2022-05-01,hiv,positive,laboratory
t5,{H[3]},2022-05-01,hiv,positive,laboratory
t6,{H[4]},2023-01-01,hiv,positive,laboratory
t7,{H[5]},2024-06-01,hiv,positive,laboratory
t8,{H[6]},2024-01-01,hiv,negative,rapid
t9,{H8},2025-01-15,hiv,positive,laboratory
a1,{H[0]},2023-03-01,hcv_antibody,positive,rapid
r1,{H[0]},2023-03-15,hcv_rna,positive,laboratory
a2,{H[1]},2024-01-05,hcv_antibody,positive,laboratory
r2,{H[1]},2024-02-01,hcv_rna,positive,laboratory
a3,{H[2]},2024-02-01,hcv_antibody,positive,rapid
r3,{H[2]},2024-02-20,hcv_rna,negative,laboratory
a4,{H[3]},2024-02-01,hcv_antibody,positive,rapid
a5,{H[4]},2024-02-01,hcv_antibody,positive,rapid
r5,{H[4]},2024-03-01,hcv_rna,indeterminate,laboratory
a6,{H[5]},2024-01-01,hcv_antibody,positive,rapid
r6,{H[5]},2024-01-20,hcv_rna,positive,laboratory
a7,{H[6]},2024-01-01,hcv_antibody,positive,rapid
r7,{H[6]},2024-02-01,hcv_rna,positive,laboratory
a8,{H8},2024-01-01,hcv_antibody,negative,rapid
r8,{H8},2024-02-01,hcv_rna,positive,laboratory
"""

TREATMENTS = f"""id,uic,condition,start_date,end_date,outcome
art1,{H[0]},hiv,2023-02-01,,ongoing
art2,{H[1]},hiv,2024-08-01,,ongoing
art3,{H[2]},hiv,2022-06-01,,ongoing
art4,{H[3]},hiv,2022-06-01,2024-12-31,transferred
art5,{H[4]},hiv,2023-02-01,2024-12-30,stopped
art6,{H[5]},hiv,2024-06-02,,ongoing
art7,{H[6]},hiv,2024-01-10,,ongoing
daa1,{H[0]},hcv,2023-04-01,2023-06-24,completed
daa2,{H[1]},hcv,2024-03-01,2024-05-31,completed
daa6,{H[5]},hcv,2024-02-01,,ongoing
daa7,{H[6]},hcv,2024-02-15,2024-10-01,completed
daa8,{H8},hcv,2024-03-01,2024-06-01,completed
"""

VIRAL_LOADS = f"""uic,date,condition,copies_per_ml
{H[0]},2024-06-01,hiv,50
{H[1]},2024-11-01,hiv,0
{H[2]},2024-01-01,hiv,20
{H[3]},2024-01-02,hiv,999
{H[5]},2024-05-01,hiv,100
{H[5]},2024-10-01,hiv,1000
{H[0]},2023-09-16,hcv,0
{H[1]},2024-08-22,hcv,0
{H[6]},2025-01-05,hcv,0
{H8},2024-09-01,hcv,0
"""

# The cascades as of E = 2024-12-31, counted by hand from the files above.
#
# HIV   | positive hiv test ≤ E | hiv treatment running at E  | ≥182 d & latest VL in (E−365, E] < 1000
# ------+-----------------------+-----------------------------+----------------------------------------
# H1    | yes (2023-01-10)      | yes (from 2023-02-01)       | yes: 50 on 2024-06-01
# H2    | yes (2024-03-01)      | yes (from 2024-08-01)       | no: started after E − 182 (2024-07-02)
# H3    | yes (2022-05-01)      | yes (from 2022-06-01)       | no: its VL, 2024-01-01, is E − 365: outside
# H4    | yes (2022-05-01)      | yes: ends on E itself       | yes: 999 on 2024-01-02, first day in
# H5    | yes (2023-01-01)      | no: stopped 2024-12-30      | -
# H6    | yes (2024-06-01)      | yes (from 2024-06-02)       | no: the latest VL is 1000, not below
# H7    | no (negative)         | (on ART, not diagnosed)     | -
# H8    | no: 2025-01-15 > E    | -                           | -
# count | diagnosed 6           | on_art 5                    | suppressed 2
#
# HCV   | antibody +  | RNA tested        | RNA +  | hcv treatment | cured: completed, VL 0 in [end+84, E]
# ------+-------------+-------------------+--------+---------------+-------------------------------------
# H1    | yes         | yes               | yes    | yes           | yes: ends 2023-06-24, 0 on 09-16 (+84)
# H2    | yes         | yes               | yes    | yes           | no: ends 2024-05-31, 0 on 08-22 (+83)
# H3    | yes         | yes (negative)    | no     | -             | -
# H4    | yes         | no                | -      | -             | -
# H5    | yes         | yes (indetermin.) | no     | -             | -
# H6    | yes         | yes               | yes    | yes (ongoing) | no: not completed
# H7    | yes         | yes               | yes    | yes           | no: its 0 is on 2025-01-05, after E
# H8    | no (neg.)   | -                 | -      | -             | (cured, but not antibody positive)
# count | 7           | 6                 | 4      | 4             | 1
CASCADE_HIV = {"diagnosed": 6, "on_art": 5, "suppressed": 2}
CASCADE_HCV = {"antibody_positive": 7, "rna_tested": 6, "rna_positive": 4, "treated": 4, "cured": 1}

FILES = {
    "sites": SITES,
    "clients": CLIENTS,
    "tests": TESTS,
    "treatments": TREATMENTS,
    "viral_loads": VIRAL_LOADS,
}


def records_bundle(folder: Path, **changed: str) -> Path:
    files = {name: text for name, text in {**FILES, **changed}.items() if text}
    return bundle(folder, **files)


def everything() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Client, Test, Treatment, ViralLoad))


def test_a_bundle_with_tests_treatments_and_viral_loads_imports_them(
    cast: Cast, tmp_path: Path
) -> None:
    outcome = run(records_bundle(tmp_path))

    assert "tests.csv: 24 created, 0 unchanged, 0 conflicting" in outcome.stdout
    assert "treatments.csv: 12 created, 0 unchanged, 0 conflicting" in outcome.stdout
    assert "viral_loads.csv: 10 created, 0 unchanged, 0 conflicting" in outcome.stdout
    t3 = Test.objects.get(external_id="t3")
    h2 = Client.objects.get(gender="male", birth_year=1975)
    assert (t3.client, t3.date, t3.test, t3.result, t3.kind) == (
        h2,
        dt.date(2024, 3, 1),
        "hiv",
        "positive",
        "laboratory",
    )
    # The format has no site for a test or a treatment: the client's registration site.
    assert (t3.site.code, t3.consent) == ("NTH-01", True)
    assert Treatment.objects.get(external_id="art2").site.code == "NTH-01"
    assert Test.objects.get(external_id="t4").site.code == "EST-01"
    daa2 = Treatment.objects.get(external_id="daa2")
    assert (daa2.client, daa2.condition, daa2.start_date, daa2.end_date, daa2.outcome) == (
        h2,
        "hcv",
        dt.date(2024, 3, 1),
        dt.date(2024, 5, 31),
        "completed",
    )
    assert Treatment.objects.get(external_id="art1").end_date is None
    load = ViralLoad.objects.get(client=h2, condition="hiv")
    assert (load.date, load.copies_per_ml) == (dt.date(2024, 11, 1), 0)


def test_a_reactive_screening_test_confirmed_later_in_the_history_is_not_left_flagged(
    cast: Cast, tmp_path: Path
) -> None:
    run(records_bundle(tmp_path))

    flagged = set(
        Test.objects.filter(needs_confirmation=True).values_list("external_id", flat=True)
    )
    # a4 is a reactive antibody test never followed by an RNA test, a5 one followed by an
    # indeterminate RNA result, which settles nothing: both await confirmation.
    assert flagged == {"a4", "a5"}
    # The confirmatory test is linked to the test it confirms.
    assert Test.objects.get(external_id="t2").confirms == Test.objects.get(external_id="t1")
    assert Test.objects.get(external_id="r1").confirms == Test.objects.get(external_id="a1")
    assert Test.objects.get(external_id="r3").confirms == Test.objects.get(external_id="a3")
    assert Test.objects.get(external_id="r5").confirms is None
    # A negative rapid test confirms nothing of its own (t8 is H7's only HIV test).
    assert not Test.objects.get(external_id="t8").needs_confirmation


def test_the_cascades_on_imported_records_match_the_count_made_by_hand(
    cast: Cast, tmp_path: Path
) -> None:
    run(records_bundle(tmp_path))

    assert hiv_cascade(E, None) == CASCADE_HIV
    assert hcv_cascade(E, None) == CASCADE_HCV


def test_importing_the_same_bundle_twice_changes_nothing_the_second_time(
    cast: Cast, tmp_path: Path
) -> None:
    path = records_bundle(tmp_path)
    run(path)
    before = everything()

    outcome = run(path)

    assert "tests.csv: 0 created, 24 unchanged, 0 conflicting" in outcome.stdout
    assert "treatments.csv: 0 created, 12 unchanged, 0 conflicting" in outcome.stdout
    assert "viral_loads.csv: 0 created, 10 unchanged, 0 conflicting" in outcome.stdout
    assert outcome.stderr == ""
    assert everything() == before


def test_bad_rows_write_nothing_at_all_and_name_file_line_and_column(
    cast: Cast, tmp_path: Path
) -> None:
    tests = TESTS + f"x1,{H[0]},2024-05-01,syphilis,negative,rapid\n"
    tests += f"x2,{H[0]},2024-05-01,hiv,reactive,rapid\n"
    treatments = TREATMENTS + f"x3,{H[0]},tb,2024-05-01,2024-04-30,completed\n"
    treatments += f"x4,{H[1]},tb,2024-05-01,2024-06-30,ongoing\n"
    treatments += f"x5,{H[2]},tb,2024-05-01,,lost\n"
    loads = VIRAL_LOADS + f"{H[0]},2024-05-01,hiv,-1\n{H[0]},2024-06-01,hiv,70\n"
    before = everything()

    outcome = run_failing(
        records_bundle(tmp_path, tests=tests, treatments=treatments, viral_loads=loads)
    )

    assert outcome.lines == [
        "tests.csv:26: test: use one of hiv, hcv_antibody, hcv_rna, hbsag, tb_screen.",
        "tests.csv:27: result: use one of positive, negative, indeterminate, invalid.",
        "treatments.csv:14: end_date: is before start_date.",
        "treatments.csv:15: end_date: must be blank while the outcome is ongoing.",
        "treatments.csv:16: end_date: required when the outcome is lost: "
        "the last day on treatment.",
        "viral_loads.csv:12: copies_per_ml: use a whole number written with digits only, "
        "such as 10.",
        "viral_loads.csv:13: date: the same client, condition and date as line 2.",
    ]
    assert outcome.error == "7 errors in the bundle; nothing was written."
    assert everything() == before


def test_a_test_changed_under_the_same_id_is_a_conflict_and_not_applied(
    cast: Cast, tmp_path: Path
) -> None:
    run(records_bundle(tmp_path / "first"))
    tests = TESTS.replace(
        "t3,BEKAM752,2024-03-01,hiv,positive", "t3,BEKAM752,2024-03-01,hiv,negative"
    )
    loads = VIRAL_LOADS.replace("2024-11-01,hiv,0", "2024-11-01,hiv,40")

    outcome = run(records_bundle(tmp_path / "second", tests=tests, viral_loads=loads))

    assert "tests.csv: 0 created, 23 unchanged, 1 conflicting" in outcome.stdout
    assert "viral_loads.csv: 0 created, 9 unchanged, 1 conflicting" in outcome.stdout
    code = Client.objects.get(gender="male", birth_year=1975).code
    assert outcome.lines[1:] == [
        "tests.csv:4: result: conflict: test t3 has result positive here; "
        "the bundle says negative.",
        f"viral_loads.csv:3: copies_per_ml: conflict: the hiv viral load of 2024-11-01 "
        f"for client {code} is 0 copies/mL here; the bundle says 40.",
    ]
    assert Test.objects.get(external_id="t3").result == "positive"


def test_an_unknown_uic_is_an_error_that_never_shows_the_uic(cast: Cast, tmp_path: Path) -> None:
    tests = (
        TESTS + f"x1,{RAW_UIC},2024-05-01,hiv,negative,rapid\nx2,,2024-05-01,hiv,negative,rapid\n"
    )
    loads = VIRAL_LOADS + f"{RAW_UIC},2024-05-01,hiv,10\n"

    outcome = run_failing(
        records_bundle(tmp_path, tests=tests, viral_loads=loads), "--format", "json"
    )

    assert outcome.lines == [
        "tests.csv:26: uic: no client with this UIC; add them to clients.csv.",
        "tests.csv:27: uic: required; the cell is blank.",
        "viral_loads.csv:12: uic: no client with this UIC; add them to clients.csv.",
    ]
    assert json.loads(outcome.stdout)["errors"] == outcome.lines
    assert "QWZX" not in outcome.stdout + outcome.stderr
    assert Test.objects.count() == 0


def test_records_of_a_client_already_in_harbour_are_theirs_and_at_their_site(
    cast: Cast, tmp_path: Path
) -> None:
    person = make_client(cast.north)  # ANJOF891, registered at North
    tests = f"id,uic,date,test,result,kind\nt1,{person.code},2024-02-01,hiv,negative,rapid\n"

    outcome = run(
        bundle(tmp_path, sites=SITES, clients=CLIENTS_HEADER + "\n", tests=tests), "--dry-run"
    )
    assert "tests.csv: 1 created" in outcome.stdout
    assert Test.objects.count() == 0

    run(bundle(tmp_path, sites=SITES, clients=CLIENTS_HEADER + "\n", tests=tests))
    t1 = Test.objects.get(external_id="t1")
    assert (t1.client, t1.site) == (person, cast.north)
