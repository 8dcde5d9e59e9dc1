"""tests.csv: a client's HIV, hepatitis and TB tests, keyed on ``id``.

This module also holds what treatments.csv shares with it (an ``id`` and a required
``uic``, but no site): ``ClientRecordsImporter``, the base of both. The format has
no site column for them, so an imported test or treatment is recorded at the
client's registration site (``Client.site``), the site responsible for the person.

An imported test has ``consent`` set: the programme tested the person with their
consent, as Harbour requires of any test. A reactive screening result (a positive
rapid or self-test, or a positive hepatitis C antibody) needs confirmation, as
harbour.testing.services computes it, unless the same client's history (their
tests in Harbour and in this file) has a confirmatory test after it; see
``TestsImporter._confirm`` and docs/exchange-import.md.

As for contacts, lookups are batched, records are written in bulk, and there is no
audit entry per test: the import's summary entry counts them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.db import models

from harbour.clients.models import Client
from harbour.exchange import values as v
from harbour.exchange.bundle import Row, Table
from harbour.exchange.importers.base import Context, Importer
from harbour.exchange.importers.clients import ClientsImporter
from harbour.exchange.importers.contacts import (
    MAX_ID_LENGTH,
    ClientRef,
    People,
    bulk_create,
    chunks,
    find_existing,
    once_per_text,
    record_pk,
    sort_by_line,
)
from harbour.testing.models import Result, Test, TestKind, TestType
from harbour.testing.services import CONFIRMED_BY, _needs_confirmation

TEST_TYPES = tuple(TestType.values)
RESULTS = tuple(Result.values)
KINDS = tuple(TestKind.values)
# Results that settle a reactive screening test, as harbour.testing.services has it.
SETTLING = (Result.POSITIVE, Result.NEGATIVE)


@dataclass(slots=True)
class ClientRecord:
    line: int
    id: str  # the exchange id
    client: ClientRef | None  # set once the uic cell is found
    values: dict[str, Any]  # the file's own columns, by model field, compared on re-import
    pk: uuid.UUID  # derived from the id for a new record, else the existing record's
    new: bool = False
    conflicting: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # fields set on creation only


def clients_by_code(codes: Iterable[str]) -> dict[str, tuple[uuid.UUID, int]]:
    """Client id and registration site by code, for clients in Harbour (or just written)."""
    found: dict[str, tuple[uuid.UUID, int]] = {}
    for chunk in chunks(sorted(set(codes))):
        for code, pk, site_id in Client.objects.filter(code__in=chunk).values_list(
            "code", "id", "site_id"
        ):
            found[code] = (pk, site_id)
    return found


def client_codes(ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    codes: dict[uuid.UUID, str] = {}
    for chunk in chunks(set(ids)):
        codes.update(Client.objects.filter(pk__in=chunk).values_list("id", "code"))
    return codes


def required_client(people: People) -> Any:
    def parse(text: str) -> Any:
        return people.parse(v.required(text))

    return parse


def shown(value: Any) -> str:
    if value is None or value == "":
        return "(blank)"
    return value.isoformat() if isinstance(value, dt.date) else str(value)


class ClientRecordsImporter(Importer):
    """A file of a client's records with an id and a required uic, and no site."""

    model: ClassVar[type[models.Model]]
    noun: ClassVar[str]  # "test", in messages and in derived primary keys
    fields: ClassVar[tuple[str, ...]]  # the file's own columns, named as the model's fields

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, ClientRecord] = {}  # the valid rows, by exchange id
        self.seen: dict[str, int] = {}  # every id in the file -> its line
        self._bundle_clients: ClientsImporter | None = None
        self.date = self.date_parser(dt.date.max)

    @staticmethod
    def date_parser(today: dt.date) -> Callable[[str], dt.date]:
        """Dates, not in the future; each distinct text worked out once."""
        return once_per_text(lambda text: v.iso_date(text, not_after=today))

    def see_earlier(self, earlier: Sequence[Importer]) -> None:
        self._bundle_clients = next((i for i in earlier if isinstance(i, ClientsImporter)), None)

    @abstractmethod
    def parse_values(self, table: Table, row: Row, ctx: Context) -> dict[str, Any]:
        """The file's own columns by field; errors are recorded in ctx."""

    def plan(self, table: Table, ctx: Context) -> None:
        """After the rows are found and compared: checks across rows, more planning."""

    @abstractmethod
    def build(self, row: ClientRecord, client_id: uuid.UUID, site_id: int, ctx: Context) -> Any:
        """The model instance for a new row."""

    def check(self, table: Table, ctx: Context) -> None:
        start = len(ctx.errors), len(ctx.conflicts)
        people = People(ctx, self._bundle_clients)
        parse_client = required_client(people)
        self.date = self.date_parser(ctx.today)

        def record_id(text: str) -> str:
            return v.text(text, max_length=MAX_ID_LENGTH)

        parsed: list[tuple[ClientRecord, str]] = []
        for row in table.rows:
            before = len(ctx.errors)
            exchange_id = ctx.cell(table, row, "id", record_id)
            ctx.cell(table, row, "uic", parse_client)
            values = self.parse_values(table, row, ctx)
            if exchange_id is not None:
                if exchange_id in self.seen:
                    ctx.error(
                        table.name,
                        row.line,
                        "id",
                        f"{exchange_id} is already on line {self.seen[exchange_id]}.",
                    )
                    continue
                self.seen[exchange_id] = row.line
            if len(ctx.errors) > before:
                continue
            assert exchange_id is not None
            pk = record_pk(self.noun, exchange_id)
            parsed.append((ClientRecord(row.line, exchange_id, None, values, pk), row["uic"]))
        people.find(p for _, uic in parsed if (p := people.parse(uic)) is not None)
        for record, uic in parsed:
            try:
                record.client = people.client(uic)
            except v.Invalid as exc:
                ctx.error(table.name, record.line, "uic", str(exc))
                continue
            self.rows[record.id] = record
        self._compare(table, ctx)
        self.plan(table, ctx)
        sort_by_line(ctx.errors, start[0])
        sort_by_line(ctx.conflicts, start[1])

    def _compare(self, table: Table, ctx: Context) -> None:
        existing = find_existing(self.model, self.rows.keys(), ("client_id", *self.fields))
        differing: list[tuple[ClientRecord, list[tuple[str, Any, Any]]]] = []
        for row in self.rows.values():
            found = existing.get(row.id)
            if found is None:
                row.new = True
                self.counts.created += 1
                continue
            row.pk = found["pk"]
            assert row.client is not None
            diff: list[tuple[str, Any, Any]] = []
            if found["client_id"] != row.client.id:
                diff.append(("uic", found["client_id"], row.client))
            for name in self.fields:
                if found[name] != row.values[name]:
                    diff.append((name, found[name], row.values[name]))
            if diff:
                row.conflicting = True
                differing.append((row, diff))
                self.counts.conflicts += 1
            else:
                self.counts.unchanged += 1
        codes = client_codes(mine for _, diff in differing for c, mine, _ in diff if c == "uic")
        for row, diff in differing:
            for column, mine, theirs in diff:
                if column == "uic":
                    message = (
                        f"is for client {codes.get(mine, '?')} here; "
                        f"in the bundle it is for client {theirs.code}."
                    )
                else:
                    message = (
                        f"has {column.replace('_', ' ')} {shown(mine)} here; "
                        f"the bundle says {shown(theirs)}."
                    )
                ctx.conflict(table.name, row.line, column, f"{self.noun} {row.id} {message}")

    def apply(self, ctx: Context) -> None:
        new = [row for row in self.rows.values() if row.new]
        # Clients this bundle registers were written by the clients importer already.
        found = clients_by_code(row.client.code for row in new if row.client is not None)

        def records() -> Iterator[Any]:
            for row in new:
                assert row.client is not None
                client_id, site_id = found[row.client.code]
                yield self.build(row, client_id, site_id, ctx)

        bulk_create(self.model, records())


@dataclass(slots=True)
class _Entry:
    """One test in a client's history, for finding confirmations."""

    pk: uuid.UUID
    test: str
    kind: str
    result: str
    date: dt.date
    flagged: bool  # needs confirmation
    order: tuple[dt.date, int, int]  # (date, 0 in Harbour / 1 in the file, line)
    row: ClientRecord | None  # the new row, None for a test already in Harbour


class TestsImporter(ClientRecordsImporter):
    __test__ = False  # an importer, not something for pytest to collect

    file_name = "tests.csv"
    required = ("id", "uic", "date", "test", "result", "kind")
    model = Test
    noun = "test"
    fields = ("date", "test", "result", "kind")

    def __init__(self) -> None:
        super().__init__()
        self.to_clear: list[uuid.UUID] = []  # tests in Harbour a new test confirms

    def parse_values(self, table: Table, row: Row, ctx: Context) -> dict[str, Any]:
        return {
            "date": ctx.cell(table, row, "date", self.date),
            "test": ctx.cell(table, row, "test", lambda t: v.choice(t, TEST_TYPES)),
            "result": ctx.cell(table, row, "result", lambda t: v.choice(t, RESULTS)),
            "kind": ctx.cell(table, row, "kind", lambda t: v.choice(t, KINDS)),
        }

    def plan(self, table: Table, ctx: Context) -> None:
        new = [row for row in self.rows.values() if row.new]
        for row in new:
            values = row.values
            row.extra["needs_confirmation"] = _needs_confirmation(
                values["test"], values["kind"], values["result"]
            )
            row.extra["confirms_id"] = None
        self._confirm(new)

    def _confirm(self, new: list[ClientRecord]) -> None:
        """Clear (and link) reactive screening tests that a later test confirms.

        In one client's history (their tests in Harbour and the new rows of this file),
        a test C confirms a flagged test S when C is another test of a type that
        confirms S's (CONFIRMED_BY), not a self-test, with a positive or negative
        result, dated on or after S; and, when C is itself a reactive screening test,
        after S (a later date, or the same date and a later line; a test already in
        Harbour comes before the file's on its date), so that two same-day reactive
        rapid tests do not confirm each other. S is then no longer flagged, and C, when
        it is new, is linked to the first S it confirms (``Test.confirms``). Only
        pairs with at least one new test change anything.
        """
        # Nothing to do when no new test awaits confirmation nor could confirm one (a
        # new confirmation may settle a test already in Harbour).
        if not any(
            r.extra["needs_confirmation"] or _can_confirm(r.values["kind"], r.values["result"])
            for r in new
        ):
            return
        history: dict[str, list[_Entry]] = {}
        for row in new:
            assert row.client is not None
            v_ = row.values
            history.setdefault(row.client.code, []).append(
                _Entry(
                    row.pk,
                    v_["test"],
                    v_["kind"],
                    v_["result"],
                    v_["date"],
                    row.extra["needs_confirmation"],
                    (v_["date"], 1, row.line),
                    row,
                )
            )
        by_id = {row.client.id: row.client.code for row in new if row.client and row.client.id}
        for chunk in chunks(by_id):
            stored = Test.objects.filter(client_id__in=chunk).values_list(
                "pk", "client_id", "test", "kind", "result", "date", "needs_confirmation"
            )
            for pk, client_id, test, kind, result, date, flagged in stored:
                history[by_id[client_id]].append(
                    _Entry(pk, test, kind, result, date, flagged, (date, 0, 0), None)
                )
        for entries in history.values():
            entries.sort(key=lambda e: e.order)
            for s in entries:
                if not s.flagged:
                    continue
                c = next((c for c in entries if _confirms(c, s) and (s.row or c.row)), None)
                if c is None:
                    continue
                if s.row is not None:
                    s.row.extra["needs_confirmation"] = False
                else:
                    self.to_clear.append(s.pk)
                if c.row is not None and c.row.extra["confirms_id"] is None:
                    c.row.extra["confirms_id"] = s.pk

    def build(self, row: ClientRecord, client_id: uuid.UUID, site_id: int, ctx: Context) -> Test:
        return Test(
            id=row.pk,
            client_id=client_id,
            site_id=site_id,
            consent=True,
            external_id=row.id,
            created_by=ctx.actor_user,
            **row.values,
            **row.extra,
        )

    def apply(self, ctx: Context) -> None:
        super().apply(ctx)
        for chunk in chunks(self.to_clear):
            Test.objects.filter(pk__in=chunk).update(needs_confirmation=False)


def _can_confirm(kind: str, result: str) -> bool:
    return kind != TestKind.SELF and result in SETTLING


def _confirms(c: _Entry, s: _Entry) -> bool:
    if c.pk == s.pk or c.test not in CONFIRMED_BY.get(TestType(s.test), set()):
        return False
    if not _can_confirm(c.kind, c.result) or c.date < s.date:
        return False
    screening = _needs_confirmation(c.test, c.kind, c.result)
    return not screening or c.order > s.order
