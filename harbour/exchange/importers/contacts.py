"""contacts.csv: service contacts (a visit, an outreach encounter), keyed on ``id``.

This module also holds what overdoses.csv shares with it (an ``id``, a ``date``, a
``site`` and an optional ``uic``): ``RecordsImporter``, the base of both, and
``People``, which finds the client a ``uic`` cell names.

Written for national scale (millions of rows): each distinct UIC is pseudonymised
once however many rows give it, lookups go to the database in chunks, and records
are written in bulk. There is no audit entry per contact: contacts are service
records, not client records, and the import's summary entry counts them per file
(docs/exchange-import.md).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from abc import abstractmethod
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from itertools import islice
from typing import Any, ClassVar, TypeVar

from django.db import models

from harbour.clients import pseudonym as ps
from harbour.clients.models import Client
from harbour.clients.uic import UICError
from harbour.exchange import values as v
from harbour.exchange.bundle import Problem, Row, Table
from harbour.exchange.importers.base import Context, Importer
from harbour.exchange.importers.clients import ClientsImporter
from harbour.exchange.pseudonyms import looks_like_code, parse_code
from harbour.sites.models import SiteKind
from harbour.visits.models import Contact

T = TypeVar("T")

CHUNK = 500  # values per lookup query: well under SQLite's limit on query parameters
BATCH = 1000  # rows per INSERT
MAX_ID_LENGTH = 100  # the length of Contact.external_id and Overdose.external_id

# Fixed for good: an imported record's primary key is derived from its exchange id,
# so the same row always names the same record, whichever Harbour imports it.
RECORD_NAMESPACE = uuid.UUID("8b1b5cd1-1026-49d5-9863-c2e5e7178b8a")

_UUID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")


def record_pk(noun: str, external_id: str) -> uuid.UUID:
    return uuid.uuid5(RECORD_NAMESPACE, f"{noun}:{external_id}")


def chunks(values: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


def bulk_create(model: type[models.Model], objects: Iterable[models.Model]) -> None:
    # Built lazily and written a batch at a time, so millions of rows never sit in
    # memory as model instances all at once.
    for batch in chunks(objects, BATCH):
        model._default_manager.bulk_create(batch)


def once_per_text(parse: Callable[[str], T]) -> Callable[[str], T]:
    """``parse`` that works out each distinct cell text once.

    A million contacts name a few sites and a few thousand dates; checking a site
    code runs a regular expression and looks up the tree, a date two parsers.
    """
    values: dict[str, T] = {}
    problems: dict[str, str] = {}  # what is wrong with the text

    def parse_once(text: str) -> T:
        if text in values:
            return values[text]
        if text not in problems:
            try:
                value = values[text] = parse(text)
                return value
            except v.Invalid as exc:
                problems[text] = str(exc)
        raise v.Invalid(problems[text])

    return parse_once


def sort_by_line(problems: list[Problem], start: int) -> None:
    """Put the problems one file added since ``start`` in line order.

    Some are found in a second pass (after the batched lookups), but a person fixing
    the file reads it from the top. The sort is stable: columns keep their order.
    """
    problems[start:] = sorted(problems[start:], key=lambda p: p.line)


def find_existing(
    model: type[models.Model], ids: Collection[str], fields: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The records of ``model`` the exchange ``ids`` name, with ``pk`` and ``fields``.

    An id names the record imported with it (``external_id``), or, when it is a UUID,
    the record with that primary key: what an export of records entered in Harbour
    itself carries, so that such an export imports again without copies.
    """
    manager = model._default_manager
    columns = ("pk", "external_id", *fields)
    by_uuid = {uuid.UUID(text): text for text in ids if _UUID.match(text)}
    found: dict[str, dict[str, Any]] = {}
    total = manager.count() if ids else 0
    if total == 0:
        return found  # a first import: no query per chunk for nothing
    if total <= len(ids):
        # Fewer records in Harbour than in the file: reading them all is fewer queries.
        wanted = ids if isinstance(ids, AbstractSet) else set(ids)
        for values in manager.values(*columns).iterator(chunk_size=2000):
            _keep(found, values, wanted, by_uuid)
        return found
    for chunk in chunks(ids):
        for values in manager.filter(external_id__in=chunk).values(*columns):
            found[values["external_id"]] = values
    for uuids in chunks(by_uuid):
        for values in manager.filter(pk__in=uuids).values(*columns):
            found.setdefault(by_uuid[values["pk"]], values)
    return found


def _keep(
    found: dict[str, dict[str, Any]],
    values: dict[str, Any],
    ids: Collection[str],
    by_uuid: dict[uuid.UUID, str],
) -> None:
    # A match on the external id wins over a match on the primary key.
    if values["external_id"] in ids:
        found[values["external_id"]] = values
    elif values["pk"] in by_uuid:
        found.setdefault(by_uuid[values["pk"]], values)


@dataclass(frozen=True, slots=True)
class Person:
    """Who a ``uic`` cell names: a UIC's pseudonyms under every key, or a client code."""

    pseudonyms: tuple[str, ...] = ()  # newest key first
    code: str = ""


@dataclass(frozen=True, slots=True)
class ClientRef:
    code: str
    id: uuid.UUID | None  # None for a client this bundle registers, until it is written


class People:
    """The clients ``uic`` cells name: in Harbour, or registered by this bundle's clients.csv.

    Raw UICs stay in memory only, as they already are in the bundle's rows; what is
    looked up is their pseudonyms. A UIC is pseudonymised once per distinct cell text.
    """

    def __init__(self, ctx: Context, bundle_clients: ClientsImporter | None) -> None:
        self._ctx = ctx
        self._bundle_clients = bundle_clients
        self._parsed: dict[str, Person | str] = {}  # cell text -> person, or what is wrong
        self._found: dict[Person, ClientRef] = {}

    def parse(self, text: str) -> Person | None:
        """The person a cell names, None when it is blank. Messages never show the cell."""
        if not text:
            return None
        parsed = self._parsed.get(text)
        if parsed is None:
            parsed = self._parsed[text] = self._parse(text)
        if isinstance(parsed, str):
            raise v.Invalid(parsed)
        return parsed

    def _parse(self, text: str) -> Person | str:
        try:
            if looks_like_code(text):
                return Person(code=parse_code(text))
            parts = self._ctx.scheme.split(text)
        except v.Invalid as exc:
            return str(exc)
        except UICError as exc:
            return ("" if exc.component == "uic" else f"{exc.component}: ") + exc.message
        return Person(pseudonyms=tuple(d.pseudonym for d in ps.all_digests(parts)))

    def find(self, persons: Iterable[Person]) -> None:
        """Look up every person at once; ``client`` then answers for each."""
        wanted = set(persons) - self._found.keys()
        by_pseudonym = _clients("pseudonym", {p for person in wanted for p in person.pseudonyms})
        by_code = _clients("code", {person.code for person in wanted if person.code})
        if self._bundle_clients is not None:
            # Harbour's own record wins: a client both in Harbour and in clients.csv is
            # the existing one (unchanged or a conflict there), not a new one.
            for row in self._bundle_clients.new:
                new = ClientRef(row.code, None)  # a property, worked out each time
                by_code.setdefault(new.code, new)
                if row.digests:
                    by_pseudonym.setdefault(row.digests[0].pseudonym, new)
        for person in wanted:
            if person.code:
                ref = by_code.get(person.code)
            else:
                ref = next((by_pseudonym[p] for p in person.pseudonyms if p in by_pseudonym), None)
            if ref is not None:
                self._found[person] = ref

    def client(self, text: str) -> ClientRef | None:
        """The client a cell names (after ``find``), None when blank; Invalid when unknown."""
        person = self.parse(text)
        if person is None:
            return None
        ref = self._found.get(person)
        if ref is None:
            what = "client code" if person.code else "UIC"
            raise v.Invalid(f"no client with this {what}; add them to clients.csv.")
        return ref


def _clients(field: str, values: set[str]) -> dict[str, ClientRef]:
    """Clients by ``field`` (pseudonym or code); a merged record stands for its survivor."""
    found: dict[str, ClientRef] = {}
    merged: dict[str, uuid.UUID] = {}
    for chunk in chunks(sorted(values)):
        rows = Client.objects.filter(**{f"{field}__in": chunk})
        for key, pk, code, merged_into in rows.values_list(field, "id", "code", "merged_into_id"):
            if merged_into is None:
                found[key] = ClientRef(code, pk)
            else:
                merged[key] = pk
    # Merges are rare: one lookup per merged client found, as clients.services.find does.
    survivors: dict[uuid.UUID, ClientRef] = {}
    for key, pk in merged.items():
        if pk not in survivors:
            survivor = Client.objects.get(pk=pk).active_record
            survivors[pk] = ClientRef(survivor.code, survivor.pk)
        found[key] = survivors[pk]
    return found


def client_ids(codes: Iterable[str]) -> dict[str, uuid.UUID]:
    """The ids of clients by code: for the clients this bundle has just written."""
    found: dict[str, uuid.UUID] = {}
    for chunk in chunks(sorted(set(codes))):
        found.update(Client.objects.filter(code__in=chunk).values_list("code", "id"))
    return found


@dataclass(slots=True)
class RecordRow:
    line: int
    id: str  # the exchange id
    date: dt.date
    site: str
    client: ClientRef | None  # None: anonymous
    extra: tuple[Any, ...]  # the file's own columns, in the order of extra_fields
    pk: uuid.UUID  # derived from the id for a new record, else the existing record's
    new: bool = False


class RecordsImporter(Importer):
    """A file of records with an id, a date, a site and an optional uic."""

    model: ClassVar[type[models.Model]]
    noun: ClassVar[str]  # "contact", in messages and in derived primary keys
    at_a_site: ClassVar[str]  # the end of the message when a site is a region
    # The file's other columns, named as the model's fields, compared on re-import.
    extra_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, RecordRow] = {}  # the valid rows, by exchange id
        self.seen: dict[str, int] = {}  # every id in the file, valid or not -> its line
        self._bundle_clients: ClientsImporter | None = None

    def see_earlier(self, earlier: Sequence[Importer]) -> None:
        """Called before check with the importers of the files before this one."""
        self._bundle_clients = next((i for i in earlier if isinstance(i, ClientsImporter)), None)

    def parse_extra(self, table: Table, row: Row, ctx: Context) -> tuple[Any, ...]:
        """The file's own columns; errors are recorded in ctx."""
        return ()

    @abstractmethod
    def build(self, row: RecordRow, site_id: int, client_id: uuid.UUID | None, ctx: Context) -> Any:
        """The model instance for a new row."""

    def check(self, table: Table, ctx: Context) -> None:
        start = len(ctx.errors), len(ctx.conflicts)
        people = People(ctx, self._bundle_clients)
        parsed = self._parse(table, ctx, people)
        people.find(p for _, uic in parsed if (p := people.parse(uic)) is not None)
        for row, uic in parsed:
            try:
                row.client = people.client(uic)
            except v.Invalid as exc:
                ctx.error(table.name, row.line, "uic", str(exc))
                continue
            self.rows[row.id] = row
        self._compare(table, ctx)
        sort_by_line(ctx.errors, start[0])
        sort_by_line(ctx.conflicts, start[1])

    def _parse(self, table: Table, ctx: Context, people: People) -> list[tuple[RecordRow, str]]:
        """Rows whose cells are valid, each with its uic cell, to be found in one go."""
        parsed: list[tuple[RecordRow, str]] = []

        def record_id(text: str) -> str:
            return v.text(text, max_length=MAX_ID_LENGTH)

        @once_per_text
        def date(text: str) -> dt.date:
            return v.iso_date(text, not_after=ctx.today)

        @once_per_text
        def site(text: str) -> str:
            code = v.site_code(text)
            ref = ctx.sites.get(code)
            if ref is None:
                raise v.Invalid(f"unknown site {code}: not in sites.csv nor in Harbour.")
            if ref.kind == SiteKind.REGION:
                raise v.Invalid(f"{code} is a region; {self.at_a_site}.")
            return code

        for row in table.rows:
            before = len(ctx.errors)
            exchange_id = ctx.cell(table, row, "id", record_id)
            when = ctx.cell(table, row, "date", date)
            where = ctx.cell(table, row, "site", site)
            ctx.cell(table, row, "uic", people.parse)
            extra = self.parse_extra(table, row, ctx)
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
            assert exchange_id is not None and when is not None and where is not None
            pk = record_pk(self.noun, exchange_id)
            record = RecordRow(row.line, exchange_id, when, where, None, extra, pk)
            parsed.append((record, row["uic"]))
        return parsed

    def _compare(self, table: Table, ctx: Context) -> None:
        existing = find_existing(
            self.model, self.rows.keys(), ("date", "site_id", "client_id", *self.extra_fields)
        )
        differing: list[tuple[RecordRow, list[tuple[str, Any, Any]]]] = []
        for row in self.rows.values():
            found = existing.get(row.id)
            if found is None:
                row.new = True
                self.counts.created += 1
                continue
            row.pk = found["pk"]
            diff: list[tuple[str, Any, Any]] = []
            if found["date"] != row.date:
                diff.append(("date", found["date"], row.date))
            if found["site_id"] != ctx.sites[row.site].id:
                diff.append(("site", found["site_id"], row.site))
            if found["client_id"] != (row.client.id if row.client else None):
                diff.append(("uic", found["client_id"], row.client))
            for name, theirs in zip(self.extra_fields, row.extra, strict=True):
                if found[name] != theirs:
                    diff.append((name, found[name], theirs))
            if diff:
                differing.append((row, diff))
                self.counts.conflicts += 1
            else:
                self.counts.unchanged += 1
        self._report(table, ctx, differing)

    def _report(
        self,
        table: Table,
        ctx: Context,
        differing: list[tuple[RecordRow, list[tuple[str, Any, Any]]]],
    ) -> None:
        site_codes = {ref.id: code for code, ref in ctx.sites.items() if ref.id is not None}
        shown = {mine for _, diff in differing for c, mine, _ in diff if c == "uic" and mine}
        codes: dict[uuid.UUID, str] = {}
        for chunk in chunks(shown):
            codes.update(Client.objects.filter(pk__in=chunk).values_list("id", "code"))
        for row, diff in differing:
            for column, mine, theirs in diff:
                if column == "uic":
                    here = f"for client {codes.get(mine, '?')}" if mine else "anonymous"
                    there = f"for client {theirs.code}" if theirs else "anonymous"
                    message = f"is {here} here; in the bundle it is {there}."
                else:
                    if column == "site":
                        mine = site_codes.get(mine, "?")
                    message = (
                        f"has {column.replace('_', ' ')} {_shown(mine)} here; "
                        f"the bundle says {_shown(theirs)}."
                    )
                ctx.conflict(table.name, row.line, column, f"{self.noun} {row.id} {message}")

    def apply(self, ctx: Context) -> None:
        new = [row for row in self.rows.values() if row.new]
        # Clients this bundle registers got their ids when clients.csv was written.
        ids = client_ids(r.client.code for r in new if r.client is not None and r.client.id is None)

        def records() -> Iterator[Any]:
            for row in new:
                site_id = ctx.sites[row.site].id
                assert site_id is not None, "the sites importer creates sites first"
                client_id = None
                if row.client is not None:
                    client_id = row.client.id or ids[row.client.code]
                yield self.build(row, site_id, client_id, ctx)

        bulk_create(self.model, records())


class ContactsImporter(RecordsImporter):
    file_name = "contacts.csv"
    required = ("id", "date", "site")
    # A programme whose contacts were all anonymous may leave the uic column out.
    optional = ("uic",)
    model = Contact
    noun = "contact"
    at_a_site = "contacts happen at a site"

    def build(
        self, row: RecordRow, site_id: int, client_id: uuid.UUID | None, ctx: Context
    ) -> Contact:
        return Contact(
            id=row.pk,
            date=row.date,
            site_id=site_id,
            client_id=client_id,
            external_id=row.id,
            created_by=ctx.actor_user,
        )


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "(blank)"
    return value.isoformat() if isinstance(value, dt.date) else str(value)
