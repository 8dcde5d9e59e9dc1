"""viral_loads.csv: HIV and hepatitis C viral loads, keyed on (client, condition, date).

The file has no id: a client has at most one viral load per condition and sample
date (as in Harbour, ``viral_load_unique_per_day``). A row whose key is in Harbour
with the same copies/mL is unchanged, with another value a conflict; two rows with
one key in the file are an error. ``copies_per_ml`` is a whole number from 0 (not
detected) up to ``MAX_COPIES``.

Lookups are batched and loads written in bulk; no audit entry per load (the import's
summary entry counts them).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from harbour.exchange import values as v
from harbour.exchange.bundle import Table
from harbour.exchange.importers.base import Context, Importer
from harbour.exchange.importers.clients import ClientsImporter
from harbour.exchange.importers.contacts import (
    ClientRef,
    People,
    bulk_create,
    chunks,
    once_per_text,
    sort_by_line,
)
from harbour.exchange.importers.tests import clients_by_code, required_client
from harbour.testing.models import ViralLoad

CONDITIONS = ("hiv", "hcv")
# More than any assay reports (10^7 and above are rare): a larger number is a typing error.
MAX_COPIES = 1_000_000_000


@dataclass(slots=True)
class LoadRow:
    line: int
    client: ClientRef
    condition: str
    date: dt.date
    copies_per_ml: int


class ViralLoadsImporter(Importer):
    file_name = "viral_loads.csv"
    required = ("uic", "date", "condition", "copies_per_ml")

    def __init__(self) -> None:
        super().__init__()
        self.new: list[LoadRow] = []
        self._bundle_clients: ClientsImporter | None = None

    def see_earlier(self, earlier: Sequence[Importer]) -> None:
        self._bundle_clients = next((i for i in earlier if isinstance(i, ClientsImporter)), None)

    def check(self, table: Table, ctx: Context) -> None:
        start = len(ctx.errors), len(ctx.conflicts)
        people = People(ctx, self._bundle_clients)
        parse_client = required_client(people)
        date = once_per_text(lambda text: v.iso_date(text, not_after=ctx.today))

        def copies(text: str) -> int:
            return v.whole_number(text, minimum=0, maximum=MAX_COPIES)

        parsed: list[tuple[int, str, tuple[str, dt.date, int]]] = []
        for row in table.rows:
            before = len(ctx.errors)
            ctx.cell(table, row, "uic", parse_client)
            when = ctx.cell(table, row, "date", date)
            condition = ctx.cell(table, row, "condition", lambda t: v.choice(t, CONDITIONS))
            value = ctx.cell(table, row, "copies_per_ml", copies)
            if len(ctx.errors) > before:
                continue
            assert when is not None and condition is not None and value is not None
            parsed.append((row.line, row["uic"], (condition, when, value)))
        people.find(p for _, uic, _ in parsed if (p := people.parse(uic)) is not None)
        rows: list[LoadRow] = []
        first: dict[tuple[str, str, dt.date], int] = {}
        for line, uic, (condition, when, value) in parsed:
            try:
                client = people.client(uic)
            except v.Invalid as exc:
                ctx.error(table.name, line, "uic", str(exc))
                continue
            assert client is not None
            key = (client.code, condition, when)
            if key in first:
                ctx.error(
                    table.name,
                    line,
                    "date",
                    f"the same client, condition and date as line {first[key]}.",
                )
                continue
            first[key] = line
            rows.append(LoadRow(line, client, condition, when, value))
        self._compare(table, ctx, rows)
        sort_by_line(ctx.errors, start[0])
        sort_by_line(ctx.conflicts, start[1])

    def _compare(self, table: Table, ctx: Context, rows: list[LoadRow]) -> None:
        ids = {row.client.id for row in rows if row.client.id is not None}
        stored: dict[tuple[uuid.UUID, str, dt.date], int] = {}
        for chunk in chunks(ids):
            for client_id, condition, when, value in ViralLoad.objects.filter(
                client_id__in=chunk
            ).values_list("client_id", "condition", "date", "copies_per_ml"):
                stored[(client_id, condition, when)] = value
        for row in rows:
            found = None
            if row.client.id is not None:
                found = stored.get((row.client.id, row.condition, row.date))
            if found is None:
                self.new.append(row)
                self.counts.created += 1
            elif found == row.copies_per_ml:
                self.counts.unchanged += 1
            else:
                self.counts.conflicts += 1
                ctx.conflict(
                    table.name,
                    row.line,
                    "copies_per_ml",
                    f"the {row.condition} viral load of {row.date.isoformat()} for client "
                    f"{row.client.code} is {found} copies/mL "
                    f"here; the bundle says {row.copies_per_ml}.",
                )

    def apply(self, ctx: Context) -> None:
        found = clients_by_code(row.client.code for row in self.new)

        def loads() -> Iterator[ViralLoad]:
            for row in self.new:
                client_id, _ = found[row.client.code]
                yield ViralLoad(
                    client_id=client_id,
                    condition=row.condition,
                    date=row.date,
                    copies_per_ml=row.copies_per_ml,
                )

        bulk_create(ViralLoad, loads())
