"""Import drug checking results exported by the UNC Opioid Data Lab (the North Carolina
"nc_analysis_dataset.csv" and "nc_lab_detail.csv" files): one sample per analysis row,
one laboratory analysis per sample from its lab rows. See docs/drug-checking.md.

All or nothing, like the exchange import: both files are read and checked first, and a
structural problem (a missing file or column, a date that cannot be read, a primary
flag other than 0/1) refuses the import with ``file:line: column: message`` before
anything is written. Lab rows whose sample is not in the analysis file are a drift
between two exports, not an error: they are skipped and reported.

The rows carry no identity. The files also hold where each sample was collected
(``location``, ``lat``, ``lon``): never read, because a county is all an alert needs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone

from harbour.audit.services import Entry, record_many
from harbour.clients.models import YesNoUnknown
from harbour.drugchecking import rules, services
from harbour.drugchecking.dictionary import Lookup, ensure_dictionary, normalise, split_expected
from harbour.drugchecking.models import (
    Alert,
    Analysis,
    FindingRole,
    Method,
    Sample,
    SampleForm,
    Signal,
    Substance,
)
from harbour.exchange.bundle import NO_COLUMN, WHOLE_FILE, Problem, Row, Table, read_table
from harbour.sites.models import Site

T = TypeVar("T")

SAMPLES_FILE = "nc_analysis_dataset.csv"
LAB_FILE = "nc_lab_detail.csv"
SOURCE = "unc"
SOURCE_KEY = "unc-lab"

SAMPLE_COLUMNS = (
    "sampleid",
    "county",
    "date_collect",
    "expectedsubstance",
    "texture",
    "tar",
    "pill",
    "powder",
    "plant",
    "crystals",
    "color",
    "sensations",
    "overdose",
    "od",
)
LAB_COLUMNS = ("sampleid", "substance", "method", "date_complete", "primary")

# What the lab writes when it found nothing it reports on.
NOTHING_DETECTED = "no compounds of interest detected"

# The lab's method codes as people read them; an unknown code is kept as written.
TECHNIQUES = {"gcms": "GC-MS", "derivatized gcms": "derivatized GC-MS", "ftir": "FTIR"}

# Texture words, after the flags, by precedence. The tar flag is the lab's own reading
# of an oily or waxy sample as tar (black tar heroin): it wins over "oil/wax".
TEXTURE_FORMS = (
    ({"pill", "fake pill"}, SampleForm.PILL),
    ({"plant/leaf", "plant"}, SampleForm.PLANT),
    ({"crystals", "rock"}, SampleForm.CRYSTAL),
    ({"powder"}, SampleForm.POWDER),
    ({"oil/wax", "liquid"}, SampleForm.LIQUID),
    ({"paper blotter"}, SampleForm.PAPER),
)
FLAG_FORMS = (
    ("tar", SampleForm.TAR),
    ("pill", SampleForm.PILL),
    ("plant", SampleForm.PLANT),
    ("crystals", SampleForm.CRYSTAL),
    ("powder", SampleForm.POWDER),
)

OVERDOSE_YES = {"involved in od", "overdose reported"}
OVERDOSE_NO = {"not overdose related", "not involved"}
NOT_USED = "sample not used by participant"
NO_NOTE = {"", "?"}

MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_LAB_DATE = re.compile(r"^(\d{1,2})([A-Za-z]{3})(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")

SHOWN_SKIPPED_IDS = 10


class SourceError(Exception):
    """The path is not a folder that could hold the export at all."""


class Invalid(ValueError):
    pass


# Reading --------------------------------------------------------------------------------


def parse_date(text: str, *, today: dt.date) -> dt.date | None:
    """``28Sep2021`` or ``04mar2022`` as the lab writes them (also ``2021-09-28``)."""
    if not text:
        return None
    try:
        if match := _LAB_DATE.match(text):
            day, month, year = match.groups()
            if month.lower() not in MONTHS:
                raise Invalid("not a date; write it like 28Sep2021.")
            value = dt.date(int(year), MONTHS[month.lower()], int(day))
        elif match := _ISO_DATE.match(text):
            value = dt.date(*(int(part) for part in match.groups()))
        else:
            raise Invalid("not a date; write it like 28Sep2021.")
    except ValueError as error:
        if isinstance(error, Invalid):
            raise
        raise Invalid("not a real date.") from None
    if value > today:
        raise Invalid(f"is in the future (after {today.isoformat()}).")
    return value


def parse_flag(text: str) -> bool:
    if text in ("", "0"):
        return False
    if text == "1":
        return True
    raise Invalid("use 1, 0 or leave the cell blank.")


def bounded(max_length: int, *, required: bool = False) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if required and not text:
            raise Invalid("required; the cell is blank.")
        if len(text) > max_length:
            raise Invalid(f"use at most {max_length} characters.")
        return text

    return parse


def form_of(row: Row, flags: dict[str, bool]) -> str:
    for column, form in FLAG_FORMS:
        if flags[column]:
            return form
    words = {w.strip().lower() for w in row["texture"].split(";")}
    for texture, form in TEXTURE_FORMS:
        if words & texture:
            return form
    return ""


def overdose_of(*cells: str) -> str:
    words = {w.strip().lower() for cell in cells for w in cell.split(";")}
    if words & OVERDOSE_YES:
        return YesNoUnknown.YES
    if words & OVERDOSE_NO:
        return YesNoUnknown.NO
    return YesNoUnknown.UNKNOWN


def effects_of(sensations: str, notes: str) -> tuple[str, str]:
    """What the person felt, and whether they had used the drug already.

    Only the survey's own words (``sensations``: "stronger; more down") are kept. The
    free-text notes hold personal remarks (one mentions a probation officer): they are
    read to learn whether the sample was used, and never stored.
    """
    if notes.strip().lower() == NOT_USED or sensations.strip().lower() == NOT_USED:
        return "", YesNoUnknown.NO
    felt = sensations.strip()
    if felt.lower() in NO_NOTE:
        felt = ""
    if felt or notes.strip().lower() not in NO_NOTE:
        return felt[:300], YesNoUnknown.YES
    return "", YesNoUnknown.UNKNOWN


@dataclass
class SampleRow:
    line: int
    number: str
    date: dt.date | None
    region: str
    expected_text: str
    form: str
    colour: str
    used_already: str
    effects: str
    overdose: str


@dataclass
class LabRow:
    line: int
    number: str
    name: str
    technique: str
    date: dt.date | None
    primary: bool
    nothing: bool


@dataclass
class Parsed:
    samples: list[SampleRow] = field(default_factory=list)
    lab: list[LabRow] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)  # SHA-256 by file, for the audit


class Reader:
    """Cells parsed one by one, each problem recorded with its file, line and column."""

    def __init__(self, table: Table, errors: list[Problem]) -> None:
        self.table, self.errors = table, errors

    def cell(self, row: Row, column: str, parse: Callable[[str], T], default: T) -> T:
        try:
            return parse(row[column])
        except Invalid as exc:
            self.errors.append(Problem(self.table.name, row.line, column, str(exc)))
            return default


def _table(folder: Path, name: str, required: Iterable[str], parsed: Parsed) -> Table | None:
    path = folder / name
    errors = parsed.errors
    if not path.is_file():
        errors.append(Problem(name, WHOLE_FILE, NO_COLUMN, "required file is missing."))
        return None
    data = path.read_bytes()
    parsed.fingerprints[name] = hashlib.sha256(data).hexdigest()
    table = read_table(name, data, errors)
    if table is None:
        return None
    missing = [c for c in required if c not in table.columns]
    for column in missing:
        errors.append(Problem(name, 1, column, "required column is missing."))
    return None if missing else table


def read(folder: Path, *, today: dt.date) -> Parsed:
    """Both files, every row checked. Touches no database."""
    if not folder.is_dir():
        raise SourceError(f"{folder} is not a folder.")
    parsed = Parsed()
    errors = parsed.errors
    samples = _table(folder, SAMPLES_FILE, SAMPLE_COLUMNS, parsed)
    lab = _table(folder, LAB_FILE, LAB_COLUMNS, parsed)

    def date(text: str) -> dt.date | None:
        return parse_date(text, today=today)

    if samples is not None:
        cells = Reader(samples, errors)
        first_line: dict[str, int] = {}
        for row in samples.rows:
            number = cells.cell(row, "sampleid", bounded(40, required=True), "")
            if number and number in first_line:
                errors.append(
                    Problem(
                        SAMPLES_FILE,
                        row.line,
                        "sampleid",
                        f"sample {number} is already on line {first_line[number]}.",
                    )
                )
            first_line.setdefault(number, row.line)
            flags = {c: cells.cell(row, c, parse_flag, False) for c, _ in FLAG_FORMS}
            effects, used = effects_of(row["sensations"], row["sensation_notes"])
            parsed.samples.append(
                SampleRow(
                    line=row.line,
                    number=number,
                    date=cells.cell(row, "date_collect", date, None),
                    region=cells.cell(row, "county", bounded(80), ""),
                    # Blank is refused: services.take_sample needs what was expected.
                    expected_text=cells.cell(
                        row, "expectedsubstance", bounded(200, required=True), ""
                    ),
                    form=form_of(row, flags),
                    colour=cells.cell(row, "color", bounded(60), ""),
                    used_already=used,
                    effects=effects,
                    overdose=overdose_of(row["overdose"], row["od"]),
                )
            )
    if lab is not None:
        cells = Reader(lab, errors)
        for row in lab.rows:
            number = cells.cell(row, "sampleid", bounded(40, required=True), "")
            name = cells.cell(row, "substance", bounded(120, required=True), "")
            primary = cells.cell(row, "primary", parse_flag, False)
            cells.cell(row, "trace", parse_flag, False)  # checked; "primary" decides
            null = cells.cell(row, "lab_null", parse_flag, False)
            code = row["method"]
            parsed.lab.append(
                LabRow(
                    line=row.line,
                    number=number,
                    name=name,
                    technique=TECHNIQUES.get(normalise(code), code),
                    date=cells.cell(row, "date_complete", date, None),
                    primary=primary,
                    nothing=null or normalise(name) == NOTHING_DETECTED,
                )
            )
    return parsed


# Planning ---------------------------------------------------------------------------------


@dataclass
class LabResult:
    """One sample's laboratory analysis, gathered from its rows."""

    date: dt.date | None = None  # the latest date a result was completed
    techniques: set[str] = field(default_factory=set)
    found: dict[str, LabRow] = field(default_factory=dict)  # by normalised name

    @property
    def technique(self) -> str:
        """ "GC-MS; derivatized GC-MS", in the same order whatever the rows' order."""
        known = list(TECHNIQUES.values())
        ordered = sorted(
            self.techniques, key=lambda t: (known.index(t) if t in known else len(known), t)
        )
        return "; ".join(ordered)[:40]


def gather(rows: Iterable[LabRow]) -> dict[str, LabResult]:
    results: dict[str, LabResult] = {}
    for row in rows:
        result = results.setdefault(row.number, LabResult())
        if row.date and (result.date is None or row.date > result.date):
            result.date = row.date
        if row.technique:
            result.techniques.add(row.technique)
        if row.nothing:
            continue
        key = normalise(row.name)
        if key not in result.found or (row.primary and not result.found[key].primary):
            result.found[key] = row
    return results


# Writing ----------------------------------------------------------------------------------


@dataclass
class Result:
    samples_new: int = 0
    samples_changed: int = 0
    samples_unchanged: int = 0
    analyses_new: int = 0
    analyses_changed: int = 0
    findings: int = 0  # written by this run, in new or changed analyses
    nothing_detected: int = 0  # analyses with no finding
    awaiting: int = 0  # samples with no lab rows
    undated: int = 0
    no_county: int = 0
    new_substances: list[str] = field(default_factory=list)
    expected_not_understood: list[str] = field(default_factory=list)
    skipped_rows: int = 0
    skipped_ids: list[str] = field(default_factory=list)
    signals: int = 0
    alerts: dict[str, int] = field(default_factory=dict)  # new drafts, by rule
    history: bool = False  # alerts raised from this import were closed, not sent
    errors: list[Problem] = field(default_factory=list)
    applied: bool = False
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "samples": {
                "new": self.samples_new,
                "changed": self.samples_changed,
                "unchanged": self.samples_unchanged,
                "undated": self.undated,
                "without_county": self.no_county,
                "awaiting_result": self.awaiting,
            },
            "analyses": {
                "new": self.analyses_new,
                "changed": self.analyses_changed,
                "nothing_detected": self.nothing_detected,
            },
            "findings": self.findings,
            "new_substances": len(self.new_substances),
            "expected_not_understood": len(self.expected_not_understood),
            "skipped_lab_rows": self.skipped_rows,
            "skipped_samples": len(self.skipped_ids),
            "signals": self.signals,
            "alerts": self.alerts,
            "alerts_closed_as_history": self.history,
        }


def import_drugchecking(
    folder: Path, site: Site, actor: Any, *, dry_run: bool = False, history: bool = False
) -> Result:
    """Import the export in ``folder`` as samples taken at ``site``.

    With ``history`` (a first import of past results) the rules still run and keep their
    evidence, so later clusters and "new to the programme" see the past; but an alert
    raised only from this history is closed as not sent: nobody needs warning today
    about a sample from two years ago.

    Nothing is written unless ``Result.applied``. Raises SourceError when ``folder``
    is not a folder.
    """
    today = timezone.localdate()
    parsed = read(folder, today=today)
    result = Result(errors=parsed.errors, dry_run=dry_run, history=history)
    if result.errors:
        return result
    with transaction.atomic():
        ensure_dictionary()
        _check_existing(parsed, site, result)
        if not result.errors:
            try:
                _write(parsed, site, actor, result)
            except services.DrugCheckingError as error:
                # The checks above should leave nothing for the services to refuse.
                result.errors.append(Problem(SAMPLES_FILE, WHOLE_FILE, NO_COLUMN, str(error)))
        if result.errors or dry_run:
            transaction.set_rollback(True)
        else:
            result.applied = True
    return result


def _check_existing(parsed: Parsed, site: Site, result: Result) -> None:
    """A sample number already used by another sample is refused, not overwritten."""
    numbers = {row.number: row.line for row in parsed.samples}
    taken = Sample.objects.filter(number__in=numbers).exclude(source=SOURCE, site=site)
    for number, source, code in taken.values_list("number", "source", "site__code"):
        where = (
            f"imported from {source} at site {code}; import it with --site {code}"
            if source == SOURCE
            else f"taken at site {code} and recorded in Harbour"
        )
        result.errors.append(
            Problem(
                SAMPLES_FILE,
                numbers[number],
                "sampleid",
                f"sample number {number} is already used by a sample {where}.",
            )
        )


def _write(parsed: Parsed, site: Site, actor: Any, result: Result) -> None:
    lookup = Lookup.load()
    audit: list[Entry] = []
    touched: dict[str, Sample] = {}  # new or changed: the rules run on these
    samples = _write_samples(parsed.samples, site, actor, lookup, result, audit, touched)
    _write_analyses(parsed.lab, samples, actor, lookup, result, touched)
    new_alerts = _evaluate(touched.values(), result)
    if result.history:
        for alert in new_alerts:
            services.close(actor, alert, reason=HISTORY_REASON)
    audit.append(_summary(parsed, site, result))
    record_many(actor, audit)


def _write_samples(
    rows: list[SampleRow],
    site: Site,
    actor: Any,
    lookup: Lookup,
    result: Result,
    audit: list[Entry],
    touched: dict[str, Sample],
) -> dict[str, Sample]:
    existing = {
        s.number: s
        for s in Sample.objects.filter(number__in=[r.number for r in rows]).prefetch_related(
            "expected"
        )
    }
    samples: dict[str, Sample] = {}
    not_understood: set[str] = set()
    for row in rows:
        expected, unknown_words, did_not_know = split_expected(row.expected_text, lookup)
        not_understood.update(unknown_words)
        sample = existing.get(row.number)
        if sample is None:
            sample, _ = services.take_sample(
                actor,
                site,
                date=row.date,  # imported history may be undated
                number=row.number,
                source=SOURCE,
                expected=expected,
                expected_as_said=row.expected_text,
                expected_unknown=did_not_know,
                form=row.form,
                colour=row.colour,
                region=row.region,
                used_already=row.used_already,
                effects=row.effects,
                overdose=row.overdose,
            )
            result.samples_new += 1
            touched[row.number] = sample
        elif _update(sample, row, did_not_know, expected, audit):
            result.samples_changed += 1
            touched[row.number] = sample
        else:
            result.samples_unchanged += 1
        samples[row.number] = sample
        result.undated += row.date is None
        result.no_county += not row.region
    result.expected_not_understood = sorted(not_understood)
    return samples


def _write_analyses(
    rows: list[LabRow],
    samples: dict[str, Sample],
    actor: Any,
    lookup: Lookup,
    result: Result,
    touched: dict[str, Sample],
) -> None:
    results = gather(r for r in rows if r.number in samples)
    skipped = [r for r in rows if r.number not in samples]
    result.skipped_rows = len(skipped)
    result.skipped_ids = list(dict.fromkeys(r.number for r in skipped))
    result.awaiting = sum(1 for n in samples if n not in results)
    analysed = set(
        Analysis.objects.filter(
            sample__in=[samples[n] for n in results], source_key=SOURCE_KEY
        ).values_list("sample_id", flat=True)
    )
    for number, lab in results.items():
        sample = samples[number]
        named: list[tuple[Substance, LabRow]] = []
        for row in sorted(lab.found.values(), key=lambda r: r.line):
            substance, added = lookup.find_or_add(row.name)
            if added:
                result.new_substances.append(substance.name)
            named.append((substance, row))
        found = _one_each(named)
        _, changed = services.record_analysis(
            actor,
            sample,
            method=Method.LAB,
            found=found,
            date=lab.date,
            technique=lab.technique,
            source_key=SOURCE_KEY,
            evaluate=False,  # the rules run afterwards, in the order samples were collected
        )
        if changed:
            if sample.pk in analysed:
                result.analyses_changed += 1
            else:
                result.analyses_new += 1
            result.findings += len(found)
            result.nothing_detected += not found
            touched[number] = sample


def _one_each(found: list[tuple[Substance, LabRow]]) -> list[services.FoundIn]:
    """One finding per substance: two lab names for one substance ("non-specific sugar"
    and "non-specific sugars") are one finding, the main component winning."""
    by_substance: dict[int, services.FoundIn] = {}
    for substance, row in found:
        role = FindingRole.PRIMARY if row.primary else FindingRole.TRACE
        kept = by_substance.get(substance.pk)
        if kept is None or (role == FindingRole.PRIMARY and kept.role != FindingRole.PRIMARY):
            by_substance[substance.pk] = services.FoundIn(
                substance=substance, role=role, reported_as=row.name
            )
    return list(by_substance.values())


def _update(
    sample: Sample,
    row: SampleRow,
    expected_unknown: bool,
    expected: list[Substance],
    audit: list[Entry],
) -> bool:
    """The export says something else about a sample imported before: take its word."""
    values: dict[str, Any] = {
        "date": row.date,
        "region": row.region,
        "expected_as_said": row.expected_text,
        "expected_unknown": expected_unknown,
        "form": row.form,
        "colour": row.colour,
        "used_already": row.used_already,
        "effects": row.effects,
        "overdose": row.overdose,
    }
    changed = [name for name, value in values.items() if getattr(sample, name) != value]
    if {s.pk for s in sample.expected.all()} != {s.pk for s in expected}:
        sample.expected.set(expected)
        changed.append("expected")
    if not changed:
        return False
    for name, value in values.items():
        setattr(sample, name, value)
    sample.save(update_fields=[n for n in changed if n != "expected"])
    # Field names only: the values may hold what a person said about their drug use.
    audit.append(
        Entry(
            action="sample.imported_again",
            object_type="sample",
            object_id=str(sample.pk),
            site_id=sample.site_id,
            detail={"number": sample.number, "source": SOURCE, "changed": sorted(changed)},
        )
    )
    return True


HISTORY_REASON = "Raised from past results imported as history; not sent."


def _evaluate(samples: Iterable[Sample], result: Result) -> list[Alert]:
    """Run the alert rules in the order the samples were collected, so that "new to the
    programme" and clusters see the history as it happened. Undated samples come last."""
    before_alerts = set(Alert.objects.values_list("pk", flat=True))
    before_signals = Signal.objects.count()
    ids = [s.pk for s in samples]
    fresh = Sample.objects.filter(pk__in=ids).prefetch_related(
        "expected", "analyses__findings__substance"
    )
    for sample in sorted(fresh, key=lambda s: (s.date is None, s.date or dt.date.min, s.number)):
        rules.evaluate(sample)
    result.signals = Signal.objects.count() - before_signals
    new = list(Alert.objects.exclude(pk__in=before_alerts))
    result.alerts = dict(sorted(Counter(a.rule for a in new).items()))
    return new


def _summary(parsed: Parsed, site: Site, result: Result) -> Entry:
    return Entry(
        action="import.drugchecking",
        object_type="site",
        object_id=str(site.pk),
        site_id=site.pk,
        detail={"source": SOURCE, "files": parsed.fingerprints, **result.as_dict()},
    )
