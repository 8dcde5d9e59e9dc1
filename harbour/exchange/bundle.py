"""Reading an exchange bundle: a folder, or a .zip of that folder, of UTF-8 CSV files.

Nothing here knows what a file means; the importers do. This module only turns
bytes into tables of rows with their physical line numbers, and says precisely
where a file cannot be read, in the ``file:line: column: message`` form that the
exchange format promises (docs/exchange-import.md).
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

# Every file name the exchange format defines (shared/spec/exchange-format.md),
# implemented or not: a known-but-unimplemented file must be refused loudly, never
# skipped, or a programme would believe its OST records had arrived.
SPEC_FILES: tuple[str, ...] = (
    "sites.csv",
    "clients.csv",
    "contacts.csv",
    "distributions.csv",
    "ost_episodes.csv",
    "ost_doses.csv",
    "tests.csv",
    "treatments.csv",
    "viral_loads.csv",
    "overdoses.csv",
    "population_estimates.csv",
)

# Line 0 and column "-" stand for "the file as a whole" and "no single column".
WHOLE_FILE = 0

# Bundles are read into memory; a zip that unpacks to more is refused, not tried.
MAX_BUNDLE_BYTES = 2 * 1024**3
NO_COLUMN = "-"


class BundleError(Exception):
    """The path cannot be read as a bundle at all (missing, not a folder or a zip)."""


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: {self.message}"


@dataclass(frozen=True)
class Row:
    line: int  # physical line in the file where the row starts; the header is line 1
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        # An optional column the file leaves out reads as blank.
        return self.values.get(column, "")


@dataclass
class Table:
    name: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)


@dataclass
class Bundle:
    name: str
    files: dict[str, bytes]  # entry name inside the bundle -> raw content

    def fingerprint(self) -> str:
        """SHA-256 of the whole bundle, so the audit log says which bundle was imported."""
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(name.encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(self.files[name]).digest())
        return digest.hexdigest()


def _ignored(name: str) -> bool:
    # Operating system litter (.DS_Store, macOS resource forks in zips) is not data.
    parts = name.split("/")
    return parts[0] == "__MACOSX" or any(p.startswith(".") for p in parts)


def read_bundle(path: Path) -> Bundle:
    if path.is_dir():
        files = {
            str(p.relative_to(path).as_posix()): p.read_bytes()
            for p in sorted(path.rglob("*"))
            if p.is_file()
        }
    elif path.is_file() and zipfile.is_zipfile(path):
        files = _read_zip(path)
    elif path.exists():
        raise BundleError(f"{path.name} is neither a folder nor a .zip file.")
    else:
        raise BundleError(f"{path} does not exist.")
    return Bundle(path.name, {n: b for n, b in files.items() if not _ignored(n)})


def _read_zip(path: Path) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(path) as archive:
            entries = [i for i in archive.infolist() if not i.is_dir()]
            if sum(i.file_size for i in entries) > MAX_BUNDLE_BYTES:
                raise BundleError(f"{path.name} unpacks to more than {MAX_BUNDLE_BYTES} bytes.")
            files = {i.filename: archive.read(i) for i in entries}
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleError(f"{path.name} cannot be read as a zip file: {exc}") from None
    kept = [n for n in files if not _ignored(n)]
    # "A .zip of that folder": zipping a folder usually puts one folder at the top.
    tops = {n.split("/", 1)[0] for n in kept}
    if len(tops) == 1 and all("/" in n for n in kept):
        prefix = tops.pop() + "/"
        return {n.removeprefix(prefix): b for n, b in files.items() if n.startswith(prefix)}
    return files


def decode(name: str, data: bytes, problems: list[Problem]) -> str | None:
    """UTF-8 text without its byte order mark, or None with the line that is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(
            Problem(name, line, NO_COLUMN, "not UTF-8 text; save the file as UTF-8 CSV.")
        )
        return None


def read_table(name: str, data: bytes, problems: list[Problem]) -> Table | None:
    """Parse one CSV file. None when it has no usable header (the problem is recorded)."""
    text = decode(name, data, problems)
    if text is None:
        return None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        problems.append(Problem(name, 1, NO_COLUMN, f"the header row is not valid CSV: {exc}."))
        return None
    if header is None or not any(h.strip() for h in header):
        problems.append(Problem(name, 1, NO_COLUMN, "the file needs a header row."))
        return None
    columns = [h.strip().lower() for h in header]
    table = Table(name, columns)
    start = reader.line_num + 1
    try:
        for values in reader:
            line, start = start, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue  # blank lines and ",,,," rows left behind by spreadsheets
            if len(values) != len(columns):
                problems.append(
                    Problem(
                        name,
                        line,
                        NO_COLUMN,
                        f"has {len(values)} values but the header has {len(columns)} columns.",
                    )
                )
                continue
            cells = {c: v.strip() for c, v in zip(columns, values, strict=True)}
            table.rows.append(Row(line, cells))
    except csv.Error as exc:
        # The csv module stops at a broken quote; what follows cannot be trusted.
        problems.append(Problem(name, start, NO_COLUMN, f"not valid CSV from here on: {exc}."))
    return table


def check_columns(
    table: Table, required: Iterable[str], optional: Iterable[str], problems: list[Problem]
) -> bool:
    """Unknown, repeated or missing columns. True when the header is usable."""
    required = tuple(required)
    known = set(required) | set(optional)
    before = len(problems)
    seen: set[str] = set()
    for position, column in enumerate(table.columns, start=1):
        if not column:
            problems.append(
                Problem(table.name, 1, f"(column {position})", "the column has no name.")
            )
        elif column in seen:
            problems.append(Problem(table.name, 1, column, "the column appears twice."))
        elif column not in known:
            problems.append(
                Problem(
                    table.name,
                    1,
                    column,
                    "unknown column; this file's columns are " + ", ".join(sorted(known)) + ".",
                )
            )
        seen.add(column)
    for column in required:
        if column not in seen:
            problems.append(Problem(table.name, 1, column, "required column is missing."))
    return len(problems) == before
