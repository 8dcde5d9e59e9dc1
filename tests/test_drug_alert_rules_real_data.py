"""The drug alert rules on real data: 451 samples checked in North Carolina by the UNC
Opioid Data Lab (tests/data/drugchecking-unc), imported with `harbour import-drugchecking`.

What each rule should have done is worked out here again, straight from the CSV files
with the csv module and from the dictionary's data file, never through the importer or
the rules, so the two can disagree. Each expectation also asserts that the set of
samples it checks is not empty, so that no check passes for want of cases.

The rules one by one, on samples built by hand, are in test_drug_alert_rules.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

from harbour.drugchecking import rules, services
from harbour.drugchecking.dictionary import DATA as DICTIONARY_FILE
from harbour.drugchecking.dictionary import ensure_dictionary
from harbour.drugchecking.models import (
    Alert,
    AlertSettings,
    AlertStatus,
    Rule,
    Sample,
    Signal,
)
from tests.factory import Cast, make_cast

DATA = Path(__file__).parent / "data" / "drugchecking-unc"
NOTHING = "no compounds of interest detected"
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


# The files, read by hand ---------------------------------------------------------------------


def plain(name: str) -> str:
    return " ".join(name.split()).lower()


def day(text: str) -> dt.date | None:
    if not text:
        return None
    return dt.date(int(text[5:]), MONTHS.index(text[2:5].lower()) + 1, int(text[:2]))


@dataclass(frozen=True)
class Entry:
    name: str
    drug_class: str
    generic: bool
    noteworthy: bool


def dictionary() -> dict[str, Entry]:
    """Every name and synonym in the shipped dictionary, plain, to its entry."""
    by_name: dict[str, Entry] = {}
    for item in json.loads(DICTIONARY_FILE.read_text(encoding="utf-8")):
        entry = Entry(item["name"], item["class"], item.get("generic", False), item["noteworthy"])
        for name in [item["name"], *item.get("synonyms", [])]:
            by_name.setdefault(plain(name), entry)
    return by_name


WORDS = dictionary()


@dataclass
class CsvSample:
    number: str
    date: dt.date | None
    county: str
    expected_words: set[str]  # the person's words, plain: "heroin", "crack", "unknown"
    lab: dict[str, bool]  # the lab's names, plain -> found as a main component


def read_samples() -> dict[str, CsvSample]:
    with (DATA / "nc_analysis_dataset.csv").open(encoding="utf-8-sig", newline="") as f:
        samples = {
            r["sampleid"]: CsvSample(
                r["sampleid"],
                day(r["date_collect"]),
                r["county"],
                {plain(w) for w in r["expectedsubstance"].split(";") if w.strip()},
                {},
            )
            for r in csv.DictReader(f)
        }
    with (DATA / "nc_lab_detail.csv").open(encoding="utf-8-sig", newline="") as f:
        for r in csv.DictReader(f):
            sample = samples.get(r["sampleid"])
            if sample is not None and plain(r["substance"]) != NOTHING:
                name = plain(r["substance"])
                sample.lab[name] = sample.lab.get(name, False) or r["primary"] == "1"
    return samples


CSV = read_samples()


def entry(name: str) -> Entry:
    found = WORDS.get(plain(name))
    assert found is not None, f"{name!r} is not in the dictionary"
    return found


def expected_entries(sample: CsvSample) -> list[Entry]:
    return [WORDS[w] for w in sample.expected_words if w in WORDS]


def unexpected_by_hand() -> set[tuple[str, str]]:
    """(sample, substance) for every noteworthy substance the person did not name, nor
    its family: what the "unexpected" rule must flag, traces included."""
    flagged: set[tuple[str, str]] = set()
    for sample in CSV.values():
        expected = expected_entries(sample)
        for name in sample.lab:
            found = entry(name)
            if not found.noteworthy:
                continue
            named = any(
                e.name == found.name
                or ((e.generic or found.generic) and e.drug_class == found.drug_class)
                for e in expected
            )
            if not named:
                flagged.add((sample.number, found.name))
    return flagged


def signals(rule: str) -> set[tuple[str, str]]:
    return set(Signal.objects.filter(rule=rule).values_list("sample__number", "substance__name"))


# One import for the module ----------------------------------------------------------------------


@dataclass
class Imported:
    cast: Cast
    stdout: str


def run_import() -> str:
    out = StringIO()
    call_command("import-drugchecking", str(DATA), "--site", "NTH-01", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="class")
def imported(django_db_setup: None, django_db_blocker: Any) -> Iterator[Imported]:
    with django_db_blocker.unblock(), transaction.atomic():
        ensure_dictionary()
        cast = make_cast()
        yield Imported(cast, run_import())
        transaction.set_rollback(True)


@pytest.fixture
def real(imported: Imported, db: None) -> Imported:
    return imported


class TestTheRulesOnTheRealFiles:
    def test_heroin_or_cocaine_holding_fentanyl_or_xylazine_raises_an_alert(
        self, real: Imported
    ) -> None:
        """The issue's own example: (a)."""
        cases: set[tuple[str, str]] = set()
        for sample in CSV.values():
            said = {"cocaine" if w == "crack" else w for w in sample.expected_words}
            if said and said <= {"heroin", "cocaine"}:
                cases |= {(sample.number, s) for s in ("fentanyl", "xylazine") if s in sample.lab}
        print(f"\n(a) {len(cases)} heroin or cocaine samples holding fentanyl or xylazine")
        assert len(cases) >= 90
        assert {s for _, s in cases} == {"fentanyl", "xylazine"}
        flagged = set(
            Signal.objects.filter(rule=Rule.UNEXPECTED, alert__isnull=False).values_list(
                "sample__number", "substance__name"
            )
        )
        assert cases - flagged == set()

    def test_a_sample_holding_only_what_was_expected_raises_nothing(self, real: Imported) -> None:
        """(b): impurities and cuts aside, the lab found only what the person named."""
        as_expected = {
            s.number
            for s in CSV.values()
            if (main := {n for n in s.lab if entry(n).drug_class not in ("impurity", "cut")})
            and main <= s.expected_words
        }
        nothing_found = {s.number for s in CSV.values() if not s.lab}
        print(f"\n(b) {len(as_expected)} samples held only what was expected")
        assert len(as_expected) >= 100
        assert len(nothing_found) == 6
        # Some of them hold noteworthy substances the person named: fentanyl, xylazine.
        assert sum(1 for n in as_expected if "fentanyl" in CSV[n].lab) >= 20
        quiet = as_expected | nothing_found
        assert not Signal.objects.filter(sample__number__in=quiet, rule=Rule.UNEXPECTED).exists()
        assert not Signal.objects.filter(sample__number__in=nothing_found).exists()

    def test_the_unexpected_rule_flags_exactly_what_a_person_would(self, real: Imported) -> None:
        by_hand = unexpected_by_hand()
        print(f"\n{len(by_hand)} unexpected (sample, substance) pairs by hand")
        assert len(by_hand) >= 300
        assert signals(Rule.UNEXPECTED) == by_hand

    def test_alerts_gather_samples_one_draft_per_substance_and_county(self, real: Imported) -> None:
        """(c): "fentanyl in heroin" in Guilford County is one alert with many samples."""
        for rule in (Rule.UNEXPECTED, Rule.NEW_SUBSTANCE):
            keys = list(
                Alert.objects.filter(rule=rule, status=AlertStatus.DRAFT).values_list(
                    "substance__name", "region"
                )
            )
            assert keys and len(keys) == len(set(keys)), rule
        for signal in Signal.objects.select_related("alert", "sample"):
            assert signal.alert is not None
            assert (signal.alert.rule, signal.alert.substance_id, signal.alert.region) == (
                signal.rule,
                signal.substance_id,
                signal.sample.region,
            )
        guilford = {
            n
            for n, s in unexpected_by_hand()
            if s == "fentanyl" and CSV[n].county == "Guilford County"
        }
        assert len(guilford) >= 50
        alert = Alert.objects.get(
            rule=Rule.UNEXPECTED, substance__name="fentanyl", region="Guilford County"
        )
        assert set(alert.signals.values_list("sample__number", flat=True)) == guilford
        assert alert.title.startswith("Fentanyl found in ")
        assert alert.title.endswith(" in Guilford County")
        assert alert.message.startswith(f"{len(guilford)} samples collected in Guilford County")

    def test_clusters_are_three_samples_in_a_county_within_fourteen_days(
        self, real: Imported
    ) -> None:
        """(d): every sample in a 14-day window holding three or more samples with the same
        unexpected substance in its county is in a cluster, and no other."""
        settings = AlertSettings.get()
        assert (settings.cluster_samples, settings.cluster_days) == (3, 14)
        groups: dict[tuple[str, str], list[tuple[dt.date, str]]] = defaultdict(list)
        for number, substance in unexpected_by_hand():
            sample = CSV[number]
            if sample.county and sample.date:
                groups[(sample.county, substance)].append((sample.date, number))
        by_hand: set[tuple[str, str]] = set()
        span = dt.timedelta(days=13)
        for (_, substance), members in groups.items():
            for start, _ in members:
                window = [n for d, n in members if start <= d <= start + span]
                if len(window) >= 3:
                    by_hand |= {(n, substance) for n in window}
        print(f"\n(d) {len(by_hand)} (sample, substance) pairs in clusters")
        assert len(by_hand) >= 100
        assert len({s for _, s in by_hand}) >= 3
        assert signals(Rule.CLUSTER) == by_hand
        clusters = Alert.objects.filter(rule=Rule.CLUSTER)
        assert clusters.exists()
        for alert in clusters:
            counties = set(alert.signals.values_list("sample__region", flat=True))
            assert counties == {alert.region}

    def test_a_new_substance_is_flagged_once_the_programme_knows_what_is_usual(
        self, real: Imported
    ) -> None:
        """(e): only after ``new_substance_after`` analysed samples, and only on the first
        sample (by date, then number) that held the substance."""
        after = AlertSettings.get().new_substance_after
        assert after == 50
        classes = {
            "opioid",
            "nitazene",
            "benzodiazepine",
            "stimulant",
            "dissociative",
            "psychedelic",
            "cannabinoid",
            "adulterant",
        }
        in_order = sorted((s for s in CSV.values() if s.date), key=lambda s: (s.date, s.number))
        first: dict[str, tuple[int, str]] = {}
        for position, sample in enumerate(in_order):
            for name in sample.lab:
                found = entry(name)
                if found.drug_class in classes and not found.generic:
                    first.setdefault(found.name, (position, sample.number))
        by_hand = {(n, s) for s, (position, n) in first.items() if position >= after}
        too_early = {s for s, (position, _) in first.items() if position < after}
        print(f"\n(e) {len(by_hand)} new substances; {len(too_early)} seen in the first {after}")
        assert len(by_hand) >= 20
        assert len(too_early) >= 10
        assert signals(Rule.NEW_SUBSTANCE) == by_hand

    def test_a_dismissed_alert_is_not_raised_again(self, real: Imported) -> None:
        """(f): neither a second import nor running the rules again brings it back."""
        reviewer = real.cast["alert_reviewer"]
        unexpected = Alert.objects.get(
            rule=Rule.UNEXPECTED, substance__name="fentanyl", region="Guilford County"
        )
        cluster = Alert.objects.filter(rule=Rule.CLUSTER).first()
        assert cluster is not None
        for alert in (unexpected, cluster):
            services.close(reviewer, alert, reason="Known to every outreach team already.")
        alerts = set(Alert.objects.values_list("pk", "status"))
        evidence = set(Signal.objects.values_list("pk", "alert"))

        output = run_import()

        assert "0 new, 0 changed, 451 unchanged" in output
        assert "Alerts raised: none." in output
        for sample in Sample.objects.filter(signals__alert__in=[unexpected, cluster]).distinct():
            rules.evaluate(sample)
        assert set(Alert.objects.values_list("pk", "status")) == alerts
        assert set(Signal.objects.values_list("pk", "alert")) == evidence
        assert not Alert.objects.filter(
            rule=Rule.UNEXPECTED,
            substance__name="fentanyl",
            region="Guilford County",
            status=AlertStatus.DRAFT,
        ).exists()

    def test_alert_words_name_a_family_as_people_say_it(self, real: Imported) -> None:
        assert any(
            "benzodiazepine" in CSV[n].expected_words
            for n in Alert.objects.filter(rule=Rule.UNEXPECTED).values_list(
                "signals__sample__number", flat=True
            )
        )
        words = " ".join(
            f"{a.title} {a.message}" for a in Alert.objects.filter(status=AlertStatus.DRAFT)
        )
        assert "(unspecified)" not in words


def test_no_cluster_when_more_samples_are_needed_than_the_data_holds(cast: Cast) -> None:
    """(d), the other way: with a cluster needing more samples than any county has,
    the same data raises unexpected alerts but no cluster."""
    settings = AlertSettings.get()
    settings.cluster_samples = 10_000
    settings.save()
    output = run_import()
    assert re.search(
        r"Alerts raised, awaiting review: \d+ \(new_substance \d+, unexpected \d+\)", output
    )
    assert Alert.objects.filter(rule=Rule.UNEXPECTED).exists()
    assert not Alert.objects.filter(rule=Rule.CLUSTER).exists()
    assert not Signal.objects.filter(rule=Rule.CLUSTER).exists()
