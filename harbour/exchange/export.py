"""``export_bundle``: write the whole programme as an exchange bundle, pseudonymised.

The inverse of the importers (harbour.exchange.importers): every file of the format
that Harbour holds, with the format's headers and value formats, so that the export
imports again (docs/exchange-export.md). The ``uic`` column holds each client's
pseudonymous code, never a raw UIC, which Harbour does not have anyway.

Written for national scale (ten million contacts): each file is one query read with
``iterator()`` a chunk at a time and written row by row with the csv module; only
one day's rows of a file are in memory at once, to sort them.

Row order is fixed, so that exporting the same records twice, or exporting what an
import of an export wrote, gives the same bytes: each file is in order of its date
(sites by code, population estimates by year) and, within a day, in order of the
rows' text, column by column, which is where the exchange ``id`` comes first.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import itertools
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, Protocol

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Model

from harbour.audit.services import record
from harbour.clients.models import Client
from harbour.exchange.bundle import SPEC_FILES
from harbour.ost.models import Dose, Episode
from harbour.sites.models import Site
from harbour.testing.models import Test, Treatment, ViralLoad
from harbour.visits.models import Contact, Distribution, Overdose

# Rows per database round trip; with PostgreSQL, rows per fetch of a server-side cursor.
CHUNK = 2000
# Characters gathered before they are encoded, hashed and written in one go.
WRITE_BUFFER = 256 * 1024
# Zip entries carry this date, not the time of the export, so that the same records
# give the same .zip byte for byte (the format's dates are in the files).
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

# The format's columns, in the order of its specification (shared/spec/exchange-format.md).
# The importers hold the same names as required and optional columns (in another
# order for two files); tests/test_export_bundle.py checks that they agree.
COLUMNS: dict[str, tuple[str, ...]] = {
    "sites.csv": ("code", "name", "kind", "parent"),
    "clients.csv": (
        "uic",
        "gender",
        "birth_year",
        "injects",
        "opioid_dependent",
        "registered_on",
        "site",
    ),
    "contacts.csv": ("id", "date", "site", "uic"),
    "distributions.csv": ("contact_id", "item", "quantity", "secondary"),
    "ost_episodes.csv": ("id", "uic", "medication", "start_date", "end_date", "end_reason"),
    "ost_doses.csv": ("uic", "date", "medication", "dose_mg", "phase", "taken"),
    "tests.csv": ("id", "uic", "date", "test", "result", "kind"),
    "treatments.csv": ("id", "uic", "condition", "start_date", "end_date", "outcome"),
    "viral_loads.csv": ("uic", "date", "condition", "copies_per_ml"),
    "overdoses.csv": (
        "id",
        "date",
        "site",
        "uic",
        "naloxone_doses",
        "outcome",
        "ems_called",
    ),
    "population_estimates.csv": ("population", "year", "site", "estimate"),
}

Line = list[str]


class ExportError(Exception):
    """The bundle cannot be written where asked; nothing was exported."""


@dataclass
class ExportResult:
    path: Path
    files: dict[str, int] = field(default_factory=dict)  # rows written per file
    # Rows Harbour holds that the format cannot carry, per file (tests awaiting a result).
    left_out: dict[str, int] = field(default_factory=dict)
    fingerprint: str = ""  # as harbour.exchange.bundle.Bundle.fingerprint of the bundle
    # Files already in the folder (written into with force) that are not the bundle's:
    # import-bundle refuses a bundle holding them.
    foreign: list[str] = field(default_factory=list)


def export_bundle(path: Path, actor: Any, *, force: bool = False) -> ExportResult:
    """Write every file of the format to ``path``: a folder, or a .zip when it ends so.

    Raises ExportError when ``path`` cannot be written, or holds something already
    and ``force`` is not given.
    """
    target = _target(path, force)
    result = ExportResult(path)
    digests: dict[str, bytes] = {}
    try:
        with _snapshot():
            codes = _ClientCodes()
            for name in SPEC_FILES:
                rows = _rows(name, codes, result)
                if rows is None:
                    continue
                with target.open(name) as out:
                    sink = _Sink(out)
                    result.files[name] = _write(sink, COLUMNS[name], rows)
                    digests[name] = sink.close()
        target.commit()
    except OSError as exc:
        target.abort()
        raise ExportError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    except BaseException:
        target.abort()
        raise
    result.fingerprint = _fingerprint(digests)
    result.foreign = target.foreign(set(result.files))
    # After the snapshot: it is a read-only transaction.
    record(
        actor,
        "export.bundle",
        object_type="bundle",
        object_id=result.fingerprint,
        detail={"bundle": path.name, "files": result.files, "left_out": result.left_out},
    )
    return result


def _rows(name: str, codes: _ClientCodes, result: ExportResult) -> Iterator[Line] | None:
    """The rows of one file, or None when Harbour has no records of that kind."""
    if name == "tests.csv":
        # The format has no blank result: a laboratory test still awaiting its result
        # cannot be written, and would be refused on import. It is counted instead.
        awaited = Test.objects.filter(result="").count()
        if awaited:
            result.left_out[name] = awaited
    if name == "population_estimates.csv":
        try:
            estimates = apps.get_model("reports", "PopulationEstimate")
        except LookupError:
            return None
        return _population_estimates(estimates)
    return WRITERS[name](codes)


def _write(sink: _Sink, columns: Sequence[str], rows: Iterable[Line]) -> int:
    # "\n" rather than the csv module's "\r\n": the same bytes on every system, and
    # lines that grep, wc and diff count as written.
    writer = csv.writer(sink, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


# ---------------------------------------------------------------------------
# The files, as the importers read them


class _ClientCodes:
    """The code a record's ``uic`` cell holds: a merged record's is its survivor's.

    clients.services.merge moves a person's records to the record kept, and clients.csv
    lists only records that are not merged, so this matters only for a record added
    to a merged client afterwards. Merges are rare: one lookup each, as in
    clients.services.find.
    """

    def __init__(self) -> None:
        self.survivor: dict[str, str] = {
            client.code: client.active_record.code
            for client in Client.objects.filter(merged_into__isnull=False).iterator(
                chunk_size=CHUNK
            )
        }

    def __call__(self, code: str | None) -> str:
        if code is None:
            return ""
        return self.survivor.get(code, code)


def _day_by_day(rows: Iterable[tuple[Any, ...]], line: Callable[..., Line]) -> Iterator[Line]:
    """Lines of rows read in order of their first value (a date): sorted within each day."""
    for _, day in itertools.groupby(rows, key=itemgetter(0)):
        yield from sorted(line(*row) for row in day)


def _read(model: type[Model], order: str, *fields: str) -> Iterator[tuple[Any, ...]]:
    # No select_related or model instances: values_list of a join, a chunk at a time.
    query = model._default_manager.order_by(order).values_list(order, *fields)
    return query.iterator(chunk_size=CHUNK)


def _id(external_id: str | None, pk: Any) -> str:
    """The exchange id: the one it was imported with, else Harbour's own id (a UUID).

    The importers read a UUID as the record with that id (importers.contacts.find_existing),
    so a re-import of records entered at a counter finds them instead of copying them.
    """
    return external_id if external_id is not None else str(pk)


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value is not None else ""


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _mg(value: Decimal) -> str:
    # 60.00 → "60", 7.50 → "7.5": the shortest text that is the same number.
    return f"{value.normalize():f}"


def _sites(codes: _ClientCodes) -> Iterator[Line]:
    # Sites are few (hundreds at most), so they are sorted here, by code, rather than
    # in the database, whose text collation may differ from one server to the next.
    rows = Site.objects.values_list("code", "name", "kind", "parent__code")
    lines = [
        [code, name, kind, parent or ""]
        for code, name, kind, parent in rows.iterator(chunk_size=CHUNK)
    ]
    return iter(sorted(lines))


def _clients(codes: _ClientCodes) -> Iterator[Line]:
    # A merged record is part of the record kept, which stands for the person.
    rows = Client.objects.filter(merged_into__isnull=True).order_by("registered_on")
    values = rows.values_list(
        "registered_on",
        "code",
        "gender",
        "birth_year",
        "injects",
        "opioid_dependent",
        "site__code",
    )

    def line(
        registered_on: dt.date,
        code: str,
        gender: str,
        birth_year: int | None,
        injects: str,
        opioid_dependent: str,
        site: str,
    ) -> Line:
        year = str(birth_year) if birth_year is not None else ""
        return [code, gender, year, injects, opioid_dependent, _date(registered_on), site]

    return _day_by_day(values.iterator(chunk_size=CHUNK), line)


def _contacts(codes: _ClientCodes) -> Iterator[Line]:
    def line(
        date: dt.date, external_id: str | None, pk: Any, site: str, client: str | None
    ) -> Line:
        return [_id(external_id, pk), _date(date), site, codes(client)]

    rows = _read(Contact, "date", "external_id", "pk", "site__code", "client__code")
    return _day_by_day(rows, line)


def _distributions(codes: _ClientCodes) -> Iterator[Line]:
    # In the order of their contacts in contacts.csv: by the contact's date, then id.
    def line(
        date: dt.date,
        external_id: str | None,
        contact: Any,
        item: str,
        quantity: int,
        secondary: bool,
    ) -> Line:
        return [_id(external_id, contact), item, str(quantity), _yes_no(secondary)]

    rows = _read(
        Distribution,
        "contact__date",
        "contact__external_id",
        "contact_id",
        "item__code",
        "quantity",
        "secondary",
    )
    return _day_by_day(rows, line)


def _overdoses(codes: _ClientCodes) -> Iterator[Line]:
    def line(
        date: dt.date,
        external_id: str | None,
        pk: Any,
        site: str,
        client: str | None,
        naloxone_doses: int,
        outcome: str,
        ems_called: str,
    ) -> Line:
        return [
            _id(external_id, pk),
            _date(date),
            site,
            codes(client),
            str(naloxone_doses),
            outcome,
            ems_called,
        ]

    rows = _read(
        Overdose,
        "date",
        "external_id",
        "pk",
        "site__code",
        "client__code",
        "naloxone_doses",
        "outcome",
        "ems_called",
    )
    return _day_by_day(rows, line)


def _ost_episodes(codes: _ClientCodes) -> Iterator[Line]:
    def line(
        start: dt.date,
        external_id: str | None,
        pk: Any,
        client: str,
        medication: str,
        end: dt.date | None,
        end_reason: str,
    ) -> Line:
        return [
            _id(external_id, pk),
            codes(client),
            medication,
            _date(start),
            _date(end),
            end_reason,
        ]

    rows = _read(
        Episode,
        "start_date",
        "external_id",
        "pk",
        "client__code",
        "medication",
        "end_date",
        "end_reason",
    )
    return _day_by_day(rows, line)


def _ost_doses(codes: _ClientCodes) -> Iterator[Line]:
    def line(
        date: dt.date, client: str, medication: str, dose_mg: Decimal, phase: str, taken: str
    ) -> Line:
        return [codes(client), _date(date), medication, _mg(dose_mg), phase, taken]

    rows = _read(Dose, "date", "client__code", "medication", "dose_mg", "phase", "taken")
    return _day_by_day(rows, line)


def _tests(codes: _ClientCodes) -> Iterator[Line]:
    def line(
        date: dt.date,
        external_id: str | None,
        pk: Any,
        client: str,
        test: str,
        result: str,
        kind: str,
    ) -> Line:
        return [_id(external_id, pk), codes(client), _date(date), test, result, kind]

    rows = (
        Test.objects.exclude(result="")
        .order_by("date")
        .values_list("date", "external_id", "pk", "client__code", "test", "result", "kind")
    )
    return _day_by_day(rows.iterator(chunk_size=CHUNK), line)


def _treatments(codes: _ClientCodes) -> Iterator[Line]:
    def line(
        start: dt.date,
        external_id: str | None,
        pk: Any,
        client: str,
        condition: str,
        end: dt.date | None,
        outcome: str,
    ) -> Line:
        return [_id(external_id, pk), codes(client), condition, _date(start), _date(end), outcome]

    rows = _read(
        Treatment,
        "start_date",
        "external_id",
        "pk",
        "client__code",
        "condition",
        "end_date",
        "outcome",
    )
    return _day_by_day(rows, line)


def _viral_loads(codes: _ClientCodes) -> Iterator[Line]:
    def line(date: dt.date, client: str, condition: str, copies: int) -> Line:
        return [codes(client), _date(date), condition, str(copies)]

    rows = _read(ViralLoad, "date", "client__code", "condition", "copies_per_ml")
    return _day_by_day(rows, line)


def _population_estimates(model: type[Model]) -> Iterator[Line]:
    def line(year: int, population: str, site: str | None, estimate: int) -> Line:
        return [population, str(year), site or "", str(estimate)]

    return _day_by_day(_read(model, "year", "population", "site__code", "estimate"), line)


WRITERS: dict[str, Callable[[_ClientCodes], Iterator[Line]]] = {
    "sites.csv": _sites,
    "clients.csv": _clients,
    "contacts.csv": _contacts,
    "distributions.csv": _distributions,
    "overdoses.csv": _overdoses,
    "ost_episodes.csv": _ost_episodes,
    "ost_doses.csv": _ost_doses,
    "tests.csv": _tests,
    "treatments.csv": _treatments,
    "viral_loads.csv": _viral_loads,
}


# ---------------------------------------------------------------------------
# Reading one moment, writing bytes


@contextmanager
def _snapshot() -> Iterator[None]:
    """Read every file from one consistent view of the database.

    Counters keep recording during an export of millions of rows; a contact and its
    distributions written between two files would leave distributions.csv naming a
    contact that contacts.csv lacks, and the bundle would not import again.
    """
    if connection.in_atomic_block:
        yield  # the caller's transaction is the view (as in tests)
        return
    if connection.vendor == "sqlite":
        # Harbour's SQLite transactions are IMMEDIATE: they take the write lock at
        # BEGIN, which for a long export would hold up every counter. A plain
        # (deferred) BEGIN only reads, from one snapshot of the WAL, and writers go on.
        connection.ensure_connection()
        mode = connection.transaction_mode  # type: ignore[attr-defined]
        connection.transaction_mode = None  # type: ignore[attr-defined]
        try:
            with transaction.atomic():
                connection.transaction_mode = mode  # type: ignore[attr-defined]
                yield
        finally:
            connection.transaction_mode = mode  # type: ignore[attr-defined]
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Each statement of a READ COMMITTED transaction sees a new moment.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


class _Sink:
    """What csv.writer writes to: UTF-8 bytes, hashed as they go out, in large writes."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._parts: list[str] = []
        self._size = 0
        self._digest = hashlib.sha256()

    def write(self, text: str) -> int:
        self._parts.append(text)
        self._size += len(text)
        if self._size >= WRITE_BUFFER:
            self._flush()
        return len(text)

    def _flush(self) -> None:
        data = "".join(self._parts).encode("utf-8")
        self._digest.update(data)
        self._out.write(data)
        self._parts, self._size = [], 0

    def close(self) -> bytes:
        """Write what is left; the SHA-256 of everything written."""
        self._flush()
        return self._digest.digest()


def _fingerprint(digests: dict[str, bytes]) -> str:
    # The same as harbour.exchange.bundle.Bundle.fingerprint, so that the audit entry
    # of an import of this bundle names it as this export's does.
    total = hashlib.sha256()
    for name in sorted(digests):
        total.update(name.encode("utf-8") + b"\0")
        total.update(digests[name])
    return total.hexdigest()


class _Target(Protocol):
    def open(self, name: str) -> Any: ...  # a context manager giving a binary file
    def commit(self) -> None: ...
    def abort(self) -> None: ...
    def foreign(self, written: set[str]) -> list[str]: ...


def _target(path: Path, force: bool) -> _Target:
    if path.suffix.lower() == ".zip":
        if path.is_dir():
            raise ExportError(f"{path} is a folder; a path ending in .zip names a file to write.")
        if path.exists() and not force:
            raise ExportError(f"{path} already exists; use --force to replace it.")
        return _ZipTarget(path)
    if path.exists() and not path.is_dir():
        raise ExportError(
            f"{path} is a file, not a folder; give a folder, or a path ending in .zip."
        )
    if path.is_dir() and any(path.iterdir()) and not force:
        raise ExportError(
            f"{path} is not empty; use --force to write into it anyway "
            "(files of the bundle's names are replaced)."
        )
    return _FolderTarget(path)


class _FolderTarget:
    """Each file is written under a hidden name and renamed once every file is written.

    A failed export so leaves no file that looks like part of a bundle (import-bundle
    ignores hidden files).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.written: list[tuple[Path, Path]] = []

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        self.path.mkdir(parents=True, exist_ok=True)
        partial = self.path / f".{name}.partial"
        with partial.open("wb") as out:
            self.written.append((partial, self.path / name))
            yield out

    def commit(self) -> None:
        for partial, final in self.written:
            partial.replace(final)

    def abort(self) -> None:
        for partial, _ in self.written:
            with suppress(OSError):
                partial.unlink()

    def foreign(self, written: set[str]) -> list[str]:
        return sorted(
            p.name
            for p in self.path.iterdir()
            if p.name not in written and not p.name.startswith(".")
        )


class _ZipTarget:
    """A .zip with the files at its top, written under a hidden name, then renamed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(f".{path.name}.partial")
        self.archive: zipfile.ZipFile | None = None

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        if self.archive is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.archive = zipfile.ZipFile(self.partial, "w", compression=zipfile.ZIP_DEFLATED)
        entry = zipfile.ZipInfo(name, date_time=ZIP_DATE)
        entry.compress_type = zipfile.ZIP_DEFLATED
        entry.external_attr = 0o644 << 16  # rw-r--r-- once unpacked
        # force_zip64: a national contacts.csv may pass 2 GB, unknown until written.
        with self.archive.open(entry, "w", force_zip64=True) as out:
            yield out

    def commit(self) -> None:
        if self.archive is not None:
            self.archive.close()
            self.partial.replace(self.path)

    def abort(self) -> None:
        if self.archive is not None:
            with suppress(OSError):
                self.archive.close()
        with suppress(OSError):
            self.partial.unlink()

    def foreign(self, written: set[str]) -> list[str]:
        return []
