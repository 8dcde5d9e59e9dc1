"""distributions.csv: what was handed out in each contact.

Rows have no id of their own, so a contact's distributions are imported as a
whole, keyed on the contact:

- a contact this bundle creates gets its rows;
- a contact already in Harbour (in contacts.csv or not) is unchanged when its rows
  are, as a multiset of (item, quantity, secondary), what Harbour holds for it, and
  a conflict otherwise (one per contact), not applied. That includes a contact
  recorded with nothing handed out: adding to a contact after the fact is not what
  an import of history is for.

What is handed out leaves the site's shelf: each created row is a stock movement
of kind "distribution" on the contact's date, and the site's balance goes down, as
when a contact is recorded at the counter (harbour.stock.services.move), in bulk.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.db.models import F

from harbour.exchange import values as v
from harbour.exchange.bundle import Table
from harbour.exchange.importers.base import Context, Importer
from harbour.exchange.importers.contacts import (
    MAX_ID_LENGTH,
    ContactsImporter,
    RecordRow,
    bulk_create,
    chunks,
    find_existing,
    sort_by_line,
)
from harbour.stock.models import Balance, Movement
from harbour.visits.models import CatalogueItem, Contact, Distribution

# Distribution.quantity is a 32-bit integer; more than this in one row is a typing error.
MAX_QUANTITY = 1_000_000
# A conflict message lists at most this many of a contact's items on each side.
SHOWN_ITEMS = 10

Handed = tuple[int, int, bool]  # item id, quantity, secondary


@dataclass(slots=True)
class DistributionRow:
    line: int
    contact_id: str
    item_id: int
    quantity: int
    secondary: bool

    @property
    def handed(self) -> Handed:
        return (self.item_id, self.quantity, self.secondary)


class DistributionsImporter(Importer):
    file_name = "distributions.csv"
    required = ("contact_id", "item", "quantity", "secondary")

    def __init__(self) -> None:
        super().__init__()
        self.new: list[tuple[RecordRow, list[DistributionRow]]] = []  # contacts created now
        self._contacts: ContactsImporter | None = None
        self._item_codes: dict[int, str] = {}

    def see_earlier(self, earlier: Sequence[Importer]) -> None:
        """Called before check with the importers of the files before this one."""
        self._contacts = next((i for i in earlier if isinstance(i, ContactsImporter)), None)

    def check(self, table: Table, ctx: Context) -> None:
        start = len(ctx.errors), len(ctx.conflicts)
        groups = self._parse(table, ctx)
        in_bundle = self._contacts.rows if self._contacts else {}
        seen = self._contacts.seen if self._contacts else {}
        # Contacts only in Harbour are looked up in one go, as are the stored rows of
        # every contact already in Harbour.
        elsewhere = find_existing(Contact, [c for c in groups if c not in seen], ())
        pks: dict[str, uuid.UUID] = {c: found["pk"] for c, found in elsewhere.items()}
        for contact_id in groups:
            contact = in_bundle.get(contact_id)
            if contact is not None and not contact.new:
                pks[contact_id] = contact.pk
        stored = _stored(list(pks.values()))
        for contact_id, rows in groups.items():
            contact = in_bundle.get(contact_id)
            if contact is not None and contact.new:
                self.new.append((contact, rows))
                self.counts.created += len(rows)
            elif contact_id in pks:
                self._compare(table, ctx, contact_id, rows, stored.get(pks[contact_id], Counter()))
            elif contact_id not in seen:
                for row in rows:
                    ctx.error(
                        table.name,
                        row.line,
                        "contact_id",
                        "no contact with this id in contacts.csv nor in Harbour.",
                    )
            # else: the contact's own row in contacts.csv is invalid, and reported there.
        sort_by_line(ctx.errors, start[0])
        sort_by_line(ctx.conflicts, start[1])

    def _parse(self, table: Table, ctx: Context) -> dict[str, list[DistributionRow]]:
        """Valid rows grouped by contact, in the order contacts first appear."""
        items = dict(CatalogueItem.objects.values_list("code", "id"))
        self._item_codes = {pk: code for code, pk in items.items()}

        def contact_id(text: str) -> str:
            return v.text(text, max_length=MAX_ID_LENGTH)

        def item(text: str) -> int:
            # Active or not: an item no longer handed out was handed out back then.
            found = items.get(v.required(text))
            if found is None:
                raise v.Invalid(
                    f"unknown catalogue item {text}; add it to Harbour's catalogue first, "
                    "or use one of " + ", ".join(sorted(items)) + "."
                )
            return found

        def quantity(text: str) -> int:
            return v.whole_number(text, minimum=1, maximum=MAX_QUANTITY)

        def secondary(text: str) -> bool:
            # The format says `yes`, "else `no`": a blank or `unknown` is not a no.
            return v.choice(text, ("yes", "no")) == "yes"

        groups: dict[str, list[DistributionRow]] = {}
        for row in table.rows:
            before = len(ctx.errors)
            contact = ctx.cell(table, row, "contact_id", contact_id)
            item_id = ctx.cell(table, row, "item", item)
            number = ctx.cell(table, row, "quantity", quantity)
            passed_on = ctx.cell(table, row, "secondary", secondary)
            if len(ctx.errors) > before:
                continue
            assert contact is not None and item_id is not None
            assert number is not None and passed_on is not None
            groups.setdefault(contact, []).append(
                DistributionRow(row.line, contact, item_id, number, passed_on)
            )
        return groups

    def _compare(
        self,
        table: Table,
        ctx: Context,
        contact_id: str,
        rows: list[DistributionRow],
        mine: Counter[Handed],
    ) -> None:
        theirs = Counter(row.handed for row in rows)
        if theirs == mine:
            self.counts.unchanged += len(rows)
            return
        self.counts.conflicts += len(rows)
        ctx.conflict(
            table.name,
            rows[0].line,
            "contact_id",
            f"contact {contact_id} has {self._shown(mine)} here; "
            f"the bundle says {self._shown(theirs)}.",
        )

    def _shown(self, handed: Counter[Handed]) -> str:
        if not handed:
            return "nothing handed out"
        entries = sorted(
            (self._item_codes[item], secondary, quantity)
            for item, quantity, secondary in handed.elements()
        )
        shown = [
            f"{code} × {quantity}{' (secondary)' if secondary else ''}"
            for code, secondary, quantity in entries[:SHOWN_ITEMS]
        ]
        more = len(entries) - SHOWN_ITEMS
        return ", ".join(shown) + (f" and {more} more" if more > 0 else "")

    def apply(self, ctx: Context) -> None:
        actor = ctx.actor_user
        taken: Counter[tuple[int, int]] = Counter()  # (site id, item id) -> units handed out

        def site_of(contact: RecordRow) -> int:
            site_id = ctx.sites[contact.site].id
            assert site_id is not None, "the sites importer creates sites first"
            return site_id

        def distributions() -> Iterator[Distribution]:
            for contact, rows in self.new:
                for row in rows:
                    yield Distribution(
                        contact_id=contact.pk,
                        item_id=row.item_id,
                        quantity=row.quantity,
                        secondary=row.secondary,
                    )

        def movements() -> Iterator[Movement]:
            # One ledger line per row, as harbour.stock.services.move writes at the counter.
            for contact, rows in self.new:
                site_id = site_of(contact)
                for row in rows:
                    taken[site_id, row.item_id] += row.quantity
                    yield Movement(
                        site_id=site_id,
                        item_id=row.item_id,
                        kind=Movement.Kind.DISTRIBUTION,
                        delta=-row.quantity,
                        reason="import",
                        date=contact.date,
                        contact_id=contact.pk,
                        created_by=actor,
                    )

        bulk_create(Distribution, distributions())
        bulk_create(Movement, movements())
        _take_off_balances(taken)


def _stored(pks: list[uuid.UUID]) -> dict[uuid.UUID, Counter[Handed]]:
    """What Harbour holds as handed out in each of these contacts."""
    stored: dict[uuid.UUID, Counter[Handed]] = {}
    for chunk in chunks(pks):
        rows = Distribution.objects.filter(contact_id__in=chunk)
        for contact, item, quantity, secondary in rows.values_list(
            "contact_id", "item_id", "quantity", "secondary"
        ):
            stored.setdefault(contact, Counter())[item, quantity, secondary] += 1
    return stored


def _take_off_balances(taken: Counter[tuple[int, int]]) -> None:
    """One UPDATE per (site, item), however many rows: a balance is a running sum."""
    if not taken:
        return
    sites = {site for site, _ in taken}
    items = {item for _, item in taken}
    have = set(
        Balance.objects.filter(site_id__in=sites, item_id__in=items).values_list(
            "site_id", "item_id"
        )
    )
    # ignore_conflicts: a counter may create the same balance row at this moment.
    Balance.objects.bulk_create(
        [Balance(site_id=s, item_id=i) for s, i in taken if (s, i) not in have],
        ignore_conflicts=True,
    )
    for (site, item), quantity in taken.items():
        # Arithmetic in the database, as stock.services does: counters recording
        # contacts during the import add up instead of overwriting.
        Balance.objects.filter(site_id=site, item_id=item).update(on_hand=F("on_hand") - quantity)
