"""`harbour import-drugchecking`: real drug checking results from the UNC Opioid Data Lab
(tests/data/drugchecking-unc, 451 samples) arrive as samples taken at North.

Most tests read one import of the real files, made once for the module and rolled
back at its end; each test's own changes are rolled back after it.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from harbour.audit.models import AuditEvent
from harbour.drugchecking import importer, services
from harbour.drugchecking.dictionary import ensure_dictionary, resolve
from harbour.drugchecking.models import (
    Alert,
    AlertStatus,
    Analysis,
    Finding,
    Method,
    Rule,
    Sample,
    Signal,
    Substance,
    SubstanceClass,
    SubstanceName,
)
from harbour.exchange.bundle import Row
from tests.factory import Cast, make_cast

DATA = Path(__file__).parent / "data" / "drugchecking-unc"
SAMPLES = DATA / "nc_analysis_dataset.csv"
LAB = DATA / "nc_lab_detail.csv"


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


SAMPLE_ROWS = read_csv(SAMPLES)
LAB_ROWS = read_csv(LAB)
SAMPLE_IDS = {r["sampleid"] for r in SAMPLE_ROWS}
LAB_ONLY_IDS = {r["sampleid"] for r in LAB_ROWS} - SAMPLE_IDS


@dataclass
class Outcome:
    stdout: str
    stderr: str
    error: str = ""


def run(path: Path, *args: str, site: str = "NTH-01") -> Outcome:
    out, err = StringIO(), StringIO()
    call_command("import-drugchecking", str(path), "--site", site, *args, stdout=out, stderr=err)
    return Outcome(out.getvalue(), err.getvalue())


def run_failing(path: Path, *args: str, site: str = "NTH-01") -> Outcome:
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as failure:
        call_command(
            "import-drugchecking", str(path), "--site", site, *args, stdout=out, stderr=err
        )
    return Outcome(out.getvalue(), err.getvalue(), str(failure.value))


def table_counts() -> dict[str, int]:
    """Every drug checking table, so "nothing changed" means nothing at all."""
    return {
        "samples": Sample.objects.count(),
        "expected": Sample.expected.through.objects.count(),
        "analyses": Analysis.objects.count(),
        "findings": Finding.objects.count(),
        "signals": Signal.objects.count(),
        "alerts": Alert.objects.count(),
        "substances": Substance.objects.count(),
        "names": SubstanceName.objects.count(),
    }


def write_copy(
    folder: Path,
    *,
    ids: set[str] | None = None,
    samples: Callable[[list[dict[str, str]]], list[dict[str, str]]] = lambda rows: rows,
    lab: Callable[[list[dict[str, str]]], list[dict[str, str]]] = lambda rows: rows,
) -> Path:
    """A copy of the real files, cut down to ``ids`` and edited row by row."""
    folder.mkdir(parents=True, exist_ok=True)
    for path, rows, edit in ((SAMPLES, SAMPLE_ROWS, samples), (LAB, LAB_ROWS, lab)):
        kept = [dict(r) for r in rows if ids is None or r["sampleid"] in ids]
        kept = edit(kept)
        columns = list(kept[0]) if kept else list(rows[0])
        with (folder / path.name).open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(kept)
    return folder


def lab_rows(number: str) -> list[dict[str, str]]:
    return [r for r in LAB_ROWS if r["sampleid"] == number]


def findings_of(sample: Sample) -> dict[str, tuple[str, str]]:
    analysis = sample.analyses.get(source_key="unc-lab")
    return {f.reported_as: (f.substance.name, f.role) for f in analysis.findings.all()}


def names(sample: Sample) -> set[str]:
    return set(sample.expected.values_list("name", flat=True))


@dataclass
class Imported:
    cast: Cast
    first: Outcome
    seconds: float


@pytest.fixture(scope="class")
def imported(django_db_setup: None, django_db_blocker: Any) -> Iterator[Imported]:
    """One import of the real files at North, undone after the class's last test."""
    with django_db_blocker.unblock(), transaction.atomic():
        ensure_dictionary()
        cast = make_cast()
        started = time.perf_counter()
        first = run(DATA)
        seconds = time.perf_counter() - started
        print(f"\nImporting {len(SAMPLE_ROWS)} samples took {seconds:.2f} s")
        yield Imported(cast, first, seconds)
        transaction.set_rollback(True)


@pytest.fixture
def real(imported: Imported, db: None) -> Imported:
    return imported


class TestTheRealFiles:
    """The 451 samples of tests/data/drugchecking-unc, imported at North."""

    # The real files -------------------------------------------------------------------------

    def test_every_sample_of_the_analysis_file_is_taken_in_at_north(self, real: Imported) -> None:
        samples = Sample.objects.filter(source="unc")
        assert samples.count() == len(SAMPLE_ROWS) == 451
        assert set(samples.values_list("number", flat=True)) == SAMPLE_IDS
        assert set(samples.values_list("site", flat=True)) == {real.cast.north.pk}
        assert "Samples at NTH-01: 451 new, 0 changed, 0 unchanged." in real.first.stdout
        assert "Imported." in real.first.stdout

    def test_each_sample_with_lab_rows_has_one_laboratory_analysis(self, real: Imported) -> None:
        with_lab = SAMPLE_IDS & {r["sampleid"] for r in LAB_ROWS}
        analyses = Analysis.objects.filter(source_key="unc-lab")
        assert analyses.count() == len(with_lab) == 451
        assert set(analyses.values_list("method", flat=True)) == {Method.LAB}
        assert set(analyses.values_list("sample__number", flat=True)) == with_lab
        assert f"Laboratory analyses: {len(with_lab)} new, 0 changed" in real.first.stdout
        assert "0 awaiting a result" in real.first.stdout

    def test_lab_rows_of_samples_missing_from_the_analysis_file_are_skipped_and_reported(
        self,
        real: Imported,
    ) -> None:
        skipped_rows = [r for r in LAB_ROWS if r["sampleid"] not in SAMPLE_IDS]
        assert len(LAB_ONLY_IDS) == 125
        assert not Sample.objects.filter(number__in=LAB_ONLY_IDS).exists()
        first_ids = list(dict.fromkeys(r["sampleid"] for r in skipped_rows))[:10]
        assert (
            f"Skipped {len(skipped_rows)} lab rows of 125 samples that are not in "
            f"nc_analysis_dataset.csv: {', '.join(first_ids)} and 115 more." in real.first.stdout
        )

    def test_undated_samples_are_kept_undated_and_counted(self, real: Imported) -> None:
        undated = {r["sampleid"] for r in SAMPLE_ROWS if not r["date_collect"]}
        assert len(undated) == 14
        assert set(Sample.objects.filter(date__isnull=True).values_list("number", flat=True)) == (
            undated
        )
        assert "14 without a collection date" in real.first.stdout

    def test_every_lab_name_is_in_the_dictionary(self, real: Imported) -> None:
        assert "New substances: none" in real.first.stdout
        assert not Substance.objects.filter(drug_class=SubstanceClass.UNCLASSIFIED).exists()

    def test_the_import_is_audited_without_what_people_said(self, real: Imported) -> None:
        summary = AuditEvent.objects.get(action="import.drugchecking")
        assert summary.detail["samples"]["new"] == 451
        assert summary.detail["skipped_lab_rows"] == sum(
            1 for r in LAB_ROWS if r["sampleid"] not in SAMPLE_IDS
        )
        assert set(summary.detail["files"]) == {SAMPLES.name, LAB.name}
        assert AuditEvent.objects.filter(action="sample.taken").count() == 451
        assert AuditEvent.objects.filter(action="sample.analysed").count() == 451
        # What a person said about their drug use stays in the sample, never in the log.
        log = " ".join(str(e.detail) for e in AuditEvent.objects.all())
        assert "tranquilizer" not in log
        assert "light brown" not in log

    # One sample, field by field ---------------------------------------------------------------

    def test_sample_200249_is_its_csv_rows(self, real: Imported) -> None:
        row = next(r for r in SAMPLE_ROWS if r["sampleid"] == "200249")
        assert (row["date_collect"], row["county"], row["expectedsubstance"]) == (
            "28Sep2021",
            "Guilford County",
            "heroin; fentanyl",
        )
        sample = Sample.objects.get(number="200249")
        assert sample.source == "unc"
        assert sample.date == dt.date(2021, 9, 28)
        assert sample.region == "Guilford County"
        assert names(sample) == {"heroin", "fentanyl"}
        assert sample.expected_as_said == "heroin; fentanyl"
        assert sample.expected_unknown is False
        assert sample.form == "powder"  # texture "powder", powder flag 1
        assert sample.colour == "light brown"
        assert sample.used_already == "yes"  # sensations "typical"
        assert sample.effects == "typical"
        assert sample.overdose == "unknown"  # overdose "unknown", od blank
        assert sample.client is None
        analysis = sample.analyses.get()
        assert (analysis.method, analysis.technique, analysis.date) == (
            Method.LAB,
            "GC-MS",
            dt.date(2022, 1, 26),
        )
        assert [(r["substance"], r["primary"]) for r in lab_rows("200249")] == [
            ("methamphetamine", "1"),
            ("fentanyl", "1"),
            ("lidocaine", "1"),
            ("tramadol", "1"),
            ("dimethyl sulfone (methylsulfonylmethane MSM)", "0"),
            ("4-ANPP", "1"),
        ]
        assert findings_of(sample) == {
            "methamphetamine": ("methamphetamine", "primary"),
            "fentanyl": ("fentanyl", "primary"),
            "lidocaine": ("lidocaine", "primary"),
            "tramadol": ("tramadol", "primary"),
            "dimethyl sulfone (methylsulfonylmethane MSM)": ("dimethyl sulfone (MSM)", "trace"),
            "4-ANPP": ("4-ANPP", "primary"),
        }

    def test_sample_300358_a_fake_pill_involved_in_an_overdose(self, real: Imported) -> None:
        row = next(r for r in SAMPLE_ROWS if r["sampleid"] == "300358")
        assert row["texture"] == "crystals; pill; fake pill; chunky"
        assert (row["pill"], row["crystals"]) == ("1", "1")
        assert (row["overdose"], row["od"]) == ("involved in OD", "Overdose reported")
        sample = Sample.objects.get(number="300358")
        assert sample.date == dt.date(2022, 6, 15)
        assert sample.region == "Cumberland County"
        assert sample.form == "pill"  # a pill that looked crystalline is still a pill
        assert sample.colour == "purple; pink"
        assert names(sample) == {"heroin", "fentanyl", "xylazine", "benzodiazepine (unspecified)"}
        assert sample.expected_unknown is True  # "…; unknown"
        assert sample.expected_as_said == row["expectedsubstance"]
        assert sample.used_already == "yes"
        # The survey's words only: free-text notes are personal and never kept.
        assert sample.effects == "stronger; more down"
        assert row["sensation_notes"] not in sample.effects
        assert sample.overdose == "yes"
        expected_findings = {
            r["substance"]: "primary" if r["primary"] == "1" else "trace"
            for r in lab_rows("300358")
        }
        assert {k: role for k, (_, role) in findings_of(sample).items()} == expected_findings

    def test_black_tar_is_tar_and_techniques_are_joined(self, real: Imported) -> None:
        sample = Sample.objects.get(number="300291")  # texture oil/wax, tar flag 1
        assert sample.form == "tar"
        assert sample.overdose == "no"  # "not overdose related" / "not involved"
        assert sample.analyses.get().technique == "GC-MS; derivatized GC-MS"
        dmt = Sample.objects.get(number="300487")  # oil/wax without the tar flag
        assert dmt.form == "liquid"

    def test_the_same_substance_twice_is_one_finding(self, real: Imported) -> None:
        rows = lab_rows("300458")
        assert [r["substance"] for r in rows].count("methamphetamine") == 2
        analysis = Sample.objects.get(number="300458").analyses.get()
        assert analysis.findings.filter(substance__name="methamphetamine").count() == 1
        assert analysis.findings.count() == len({r["substance"] for r in rows})

    def test_no_compounds_of_interest_is_an_analysis_with_nothing_found(
        self, real: Imported
    ) -> None:
        assert [r["substance"] for r in lab_rows("300107")] == ["no compounds of interest detected"]
        analysis = Sample.objects.get(number="300107").analyses.get()
        assert analysis.findings.count() == 0
        assert "6 with nothing detected" in real.first.stdout

    def test_a_sample_not_used_is_not_marked_used(self, real: Imported) -> None:
        row = next(r for r in SAMPLE_ROWS if r["sensations"] == "sample not used by participant")
        sample = Sample.objects.get(number=row["sampleid"])
        assert (sample.used_already, sample.effects) == ("no", "")

    def test_where_the_sample_was_collected_is_never_kept(self, real: Imported) -> None:
        row = next(r for r in SAMPLE_ROWS if r["sampleid"] == "200249")
        sample = Sample.objects.get(number="200249")
        stored = " ".join(str(getattr(sample, f.attname)) for f in Sample._meta.concrete_fields)
        for value in (row["location"], row["lat"], row["lon"]):
            assert value and value not in stored

    # Importing again -----------------------------------------------------------------------------

    def test_a_second_import_changes_nothing(self, real: Imported) -> None:
        before = table_counts()
        last_event = AuditEvent.objects.order_by("id").last()
        assert last_event is not None
        second = run(DATA)
        assert table_counts() == before
        assert "Samples at NTH-01: 0 new, 0 changed, 451 unchanged." in second.stdout
        assert "Laboratory analyses: 0 new, 0 changed" in second.stdout
        assert "Alerts raised: none." in second.stdout
        new_events = AuditEvent.objects.filter(id__gt=last_event.id).order_by("id")
        assert [e.action for e in new_events] == ["import.drugchecking"]

    def test_a_row_changed_in_the_export_changes_the_sample(
        self, real: Imported, tmp_path: Path
    ) -> None:
        def recolour(rows: list[dict[str, str]]) -> list[dict[str, str]]:
            for r in rows:
                if r["sampleid"] == "200249":
                    r["color"] = "beige"
            return rows

        def tramadol_a_trace(rows: list[dict[str, str]]) -> list[dict[str, str]]:
            for r in rows:
                if r["sampleid"] == "200249" and r["substance"] == "tramadol":
                    r["primary"], r["trace"] = "0", "1"
            return rows

        before = table_counts()
        outcome = run(write_copy(tmp_path, samples=recolour, lab=tramadol_a_trace))
        assert "0 new, 1 changed, 450 unchanged" in outcome.stdout
        assert "Laboratory analyses: 0 new, 1 changed (6 substances found" in outcome.stdout
        sample = Sample.objects.get(number="200249")
        assert sample.colour == "beige"
        assert findings_of(sample)["tramadol"] == ("tramadol", "trace")
        assert table_counts() == before
        event = AuditEvent.objects.get(action="sample.imported_again")
        assert event.detail == {"number": "200249", "source": "unc", "changed": ["colour"]}

    def test_a_dismissed_alert_stays_dismissed_when_the_files_come_again(
        self, real: Imported, tmp_path: Path
    ) -> None:
        alert = Alert.objects.filter(rule="unexpected", region="Guilford County").first()
        assert alert is not None
        services.close(real.cast["alert_reviewer"], alert, reason="Known for months.")
        alerts = Alert.objects.count()
        run(DATA)
        assert Alert.objects.count() == alerts

    def test_the_same_numbers_at_another_site_are_refused(self, real: Imported) -> None:
        before = table_counts()
        outcome = run_failing(DATA, site="STH-01")
        assert "nothing was written" in outcome.error
        assert (
            "nc_analysis_dataset.csv:2: sampleid: sample number 200249 is already used by a "
            "sample imported from unc at site NTH-01; import it with --site NTH-01."
        ) in outcome.stderr
        assert table_counts() == before


# Small copies -----------------------------------------------------------------------------------

FEW = {"200249", "201082", "300291", "300107", "300458"}


def test_dry_run_reports_the_figures_and_stores_nothing(cast: Cast, tmp_path: Path) -> None:
    before, events = table_counts(), AuditEvent.objects.count()
    outcome = run(write_copy(tmp_path, ids=FEW), "--dry-run")
    assert "Samples at NTH-01: 5 new, 0 changed, 0 unchanged." in outcome.stdout
    assert "Laboratory analyses: 5 new, 0 changed" in outcome.stdout
    # Sold as heroin: 300291 (Guilford) held fentanyl and p-fluorofentanyl, 300458
    # (Randolph) fentanyl and xylazine.
    assert "Alerts raised, awaiting review: 4 (unexpected 4)." in outcome.stdout
    assert "Dry run: nothing was written." in outcome.stdout
    assert "Imported." not in outcome.stdout
    assert table_counts() == before
    assert AuditEvent.objects.count() == events


def test_past_results_imported_as_history_keep_their_evidence_but_send_nothing(
    cast: Cast, tmp_path: Path
) -> None:
    outcome = run(write_copy(tmp_path, ids=FEW), "--history")
    assert "Alerts raised from history, closed as not sent: 4 (unexpected 4)." in outcome.stdout
    assert Signal.objects.filter(rule=Rule.UNEXPECTED).count() >= 4
    assert not Alert.objects.filter(status=AlertStatus.DRAFT).exists()
    assert set(Alert.objects.values_list("status", "closed_reason")) == {
        (AlertStatus.DISMISSED, "Raised from past results imported as history; not sent.")
    }


def test_a_name_the_dictionary_does_not_know_becomes_an_unclassified_substance(
    cast: Cast, tmp_path: Path
) -> None:
    def rename(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        for r in rows:
            if r["sampleid"] == "200249" and r["substance"] == "tramadol":
                r["substance"] = "Zorbazolam"
        return rows

    outcome = run(write_copy(tmp_path, ids=FEW, lab=rename))
    new = Substance.objects.get(name="Zorbazolam")
    assert new.drug_class == SubstanceClass.UNCLASSIFIED
    assert "New substances, not yet classified (1): Zorbazolam." in outcome.stdout
    finding = Finding.objects.get(substance=new)
    assert (finding.analysis.sample.number, finding.reported_as) == ("200249", "Zorbazolam")
    # A second import finds it by name: no second substance.
    again = run(write_copy(tmp_path / "again", ids=FEW, lab=rename))
    assert "New substances: none" in again.stdout
    assert Substance.objects.filter(name__iexact="zorbazolam").count() == 1


def test_the_figures_can_be_read_as_json(cast: Cast, tmp_path: Path) -> None:
    outcome = run(write_copy(tmp_path, ids=FEW), "--format", "json")
    figures = json.loads(outcome.stdout)
    assert figures["applied"] is True
    assert figures["samples"] == {
        "new": 5,
        "changed": 0,
        "unchanged": 0,
        "undated": 0,
        "without_county": 0,
        "awaiting_result": 0,
    }
    assert figures["analyses"] == {"new": 5, "changed": 0, "nothing_detected": 1}
    assert figures["skipped_lab_rows"] == 0


def test_a_sample_without_lab_rows_awaits_its_result(cast: Cast, tmp_path: Path) -> None:
    outcome = run(
        write_copy(
            tmp_path, ids=FEW, lab=lambda rows: [r for r in rows if r["sampleid"] != "201082"]
        )
    )
    assert "1 awaiting a result (no lab rows)" in outcome.stdout
    assert not Sample.objects.get(number="201082").analyses.exists()
    assert Analysis.objects.count() == len(FEW) - 1


def test_a_number_already_used_by_a_sample_recorded_in_harbour_is_refused(
    cast: Cast, tmp_path: Path
) -> None:
    heroin = resolve("heroin")
    assert heroin is not None
    services.take_sample(
        cast["staff"], cast.south, date=dt.date(2026, 1, 5), expected=[heroin], number="300107"
    )
    before = table_counts()
    outcome = run_failing(write_copy(tmp_path, ids=FEW))
    assert "sample number 300107 is already used by a sample taken at site STH-01" in (
        outcome.stderr
    )
    assert table_counts() == before


def line_of(path: Path, number: str) -> int:
    """The physical line of a sample's first row (the header is line 1)."""
    with path.open(encoding="utf-8") as f:
        for line, text in enumerate(f, start=1):
            if text.startswith(f"{number},") or text.startswith(f'"{number}",'):
                return line
    raise AssertionError(number)


def drop_column(column: str) -> Callable[[list[dict[str, str]]], list[dict[str, str]]]:
    def edit(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        for r in rows:
            del r[column]
        return rows

    return edit


def set_cell(
    number: str, column: str, value: str, *, only: str = ""
) -> Callable[[list[dict[str, str]]], list[dict[str, str]]]:
    def edit(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        for r in rows:
            if r["sampleid"] == number and (not only or r["substance"] == only):
                r[column] = value
        return rows

    return edit


MALFORMED = {
    "missing column": (
        {"samples": drop_column("expectedsubstance")},
        "nc_analysis_dataset.csv:1: expectedsubstance: required column is missing.",
    ),
    "missing lab column": (
        {"lab": drop_column("primary")},
        "nc_lab_detail.csv:1: primary: required column is missing.",
    ),
    "unreadable date": (
        {"samples": set_cell("300291", "date_collect", "31Jun2022")},
        "nc_analysis_dataset.csv:{line}: date_collect: not a real date.",
    ),
    "not a date": (
        {"samples": set_cell("300291", "date_collect", "16/06/2022")},
        "nc_analysis_dataset.csv:{line}: date_collect: not a date; write it like 28Sep2021.",
    ),
    "bad primary flag": (
        {"lab": set_cell("300291", "primary", "yes", only="heroin")},
        "nc_lab_detail.csv:{line}: primary: use 1, 0 or leave the cell blank.",
    ),
    "bad trace flag": (
        {"lab": set_cell("300291", "trace", "2", only="heroin")},
        "nc_lab_detail.csv:{line}: trace: use 1, 0 or leave the cell blank.",
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_copy_is_refused_naming_file_line_and_column(
    cast: Cast, tmp_path: Path, case: str
) -> None:
    edits, message = MALFORMED[case]
    folder = write_copy(tmp_path, ids=FEW, **edits)
    if "{line}" in message:
        if message.startswith("nc_lab_detail"):
            with (folder / LAB.name).open(encoding="utf-8") as f:
                line = next(
                    n for n, text in enumerate(f, start=1) if text.startswith("300291,heroin,")
                )
        else:
            line = line_of(folder / SAMPLES.name, "300291")
        message = message.format(line=line)
    before = table_counts()
    outcome = run_failing(folder)
    assert message in outcome.stderr.splitlines()
    assert outcome.error == "1 error in the files; nothing was written."
    assert table_counts() == before
    assert not AuditEvent.objects.filter(action="import.drugchecking").exists()


def test_a_missing_file_is_refused(cast: Cast, tmp_path: Path) -> None:
    folder = write_copy(tmp_path, ids=FEW)
    (folder / LAB.name).unlink()
    outcome = run_failing(folder)
    assert "nc_lab_detail.csv:0: -: required file is missing." in outcome.stderr
    assert not Sample.objects.exists()


def test_a_folder_that_does_not_exist_is_refused(cast: Cast, tmp_path: Path) -> None:
    outcome = run_failing(tmp_path / "nowhere")
    assert "is not a folder" in outcome.error


def test_an_unknown_site_code_is_refused(cast: Cast) -> None:
    outcome = run_failing(DATA, site="NOPE-9")
    assert outcome.error.startswith("No site with code 'NOPE-9'.")
    assert "NTH-01" in outcome.error
    assert not Sample.objects.exists()


def test_a_region_is_not_a_site_where_samples_are_taken(cast: Cast) -> None:
    outcome = run_failing(DATA, site="REG-A")
    assert "REG-A is a region" in outcome.error
    assert not Sample.objects.exists()


def test_the_site_is_required(cast: Cast) -> None:
    with pytest.raises(CommandError, match="--site"):
        call_command("import-drugchecking", str(DATA), stdout=StringIO(), stderr=StringIO())


def test_the_importer_reads_the_labs_dates(cast: Cast) -> None:
    today = dt.date(2026, 1, 1)
    assert importer.parse_date("28Sep2021", today=today) == dt.date(2021, 9, 28)
    assert importer.parse_date("04mar2022", today=today) == dt.date(2022, 3, 4)
    assert importer.parse_date("2022-03-04", today=today) == dt.date(2022, 3, 4)
    assert importer.parse_date("", today=today) is None
    for bad in ("31Feb2022", "4 mar 2022", "04xyz2022", "02Jan2027"):
        with pytest.raises(importer.Invalid):
            importer.parse_date(bad, today=today)


def test_forms_follow_the_flags_then_the_texture(cast: Cast) -> None:
    flags = {"tar": "", "pill": "", "powder": "", "plant": "", "crystals": ""}
    cases = [
        ({"texture": "oil/wax", "tar": "1"}, "tar"),
        ({"texture": "oil/wax"}, "liquid"),
        ({"texture": "crystals; powder", "crystals": "1", "powder": "1"}, "crystal"),
        ({"texture": "rock"}, "crystal"),
        ({"texture": "fake pill", "pill": "1"}, "pill"),
        ({"texture": "plant/leaf", "plant": "1"}, "plant"),
        ({"texture": "paper blotter"}, "paper"),
        ({"texture": "chunky"}, ""),
        ({"texture": ""}, ""),
    ]
    for cells, form in cases:
        row = Row(2, {**flags, **cells})
        parsed = {c: importer.parse_flag(row[c]) for c, _ in importer.FLAG_FORMS}
        assert importer.form_of(row, parsed) == form, cells


def test_overdose_reads_both_columns(cast: Cast) -> None:
    assert importer.overdose_of("involved in OD", "Overdose reported") == "yes"
    assert importer.overdose_of("unknown", "Overdose reported") == "yes"
    assert importer.overdose_of("not overdose related; unknown", "not involved") == "no"
    assert importer.overdose_of("unknown", "") == "unknown"
