"""ost_episodes.csv: opioid agonist therapy episodes, keyed on ``id``.

An episode is held at its client's registration site (the format has no site
column), its consent date is its start date (a programme enrols only with consent),
and it has no prescription: the format carries doses, not prescriptions. A clinician
records a current prescription for each ongoing episode on the episode page before
the person appears on the dispensing board (docs/exchange-import.md).

Two episodes of one client may not share a day, except the day one ends and the next
starts (a switch of medication, a restart): a person is on one treatment at a time,
person-time (PRV.12) would be counted twice, and a dose would have two episodes.

Written for national scale as contacts.csv is: UICs are pseudonymised once each,
lookups go to the database in chunks, episodes are written in bulk, and there is no
audit entry per episode (the import's summary entry counts them).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from harbour.clients.models import Client
from harbour.exchange import values as v
from harbour.exchange.bundle import Row, Table
from harbour.exchange.importers.base import Context, Importer
from harbour.exchange.importers.clients import ClientsImporter
from harbour.exchange.importers.contacts import (
    MAX_ID_LENGTH,
    ClientRef,
    People,
    _shown,
    bulk_create,
    chunks,
    client_ids,
    find_existing,
    once_per_text,
    record_pk,
    sort_by_line,
)
from harbour.ost.models import EndReason, Episode, Medication

MEDICATIONS = tuple(Medication.values)
END_REASONS = tuple(EndReason.values)
COMPARED = ("client_id", "medication", "start_date", "end_date", "end_reason")


@dataclass(slots=True)
class EpisodeSpan:
    """An episode as doses and overlaps see it: in Harbour, or created by this bundle."""

    pk: uuid.UUID
    client: str  # the client's code
    medication: str
    start: dt.date
    end: dt.date | None  # None while ongoing
    # Where it is held: a site id for an episode in Harbour, else the client's
    # registration site, as an id or (a site this bundle creates) a code.
    site_id: int | None
    site_code: str
    name: str  # how a message names it

    def holds(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def site(self, ctx: Context) -> int:
        site_id = self.site_id if self.site_id is not None else ctx.sites[self.site_code].id
        assert site_id is not None, "the sites importer creates sites first"
        return site_id


@dataclass(slots=True)
class EpisodeRow:
    line: int
    id: str
    client: ClientRef
    medication: str
    start_date: dt.date
    end_date: dt.date | None
    end_reason: str
    pk: uuid.UUID
    new: bool = False


class OstEpisodesImporter(Importer):
    file_name = "ost_episodes.csv"
    required = ("id", "uic", "medication", "start_date")
    # A file of ongoing episodes only may leave the end columns out.
    optional = ("end_date", "end_reason")

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, EpisodeRow] = {}  # the valid rows, by exchange id
        self.seen: dict[str, int] = {}  # every id in the file -> its line
        # Every episode of the file's clients as it will be once applied, by client code.
        self.spans: dict[str, list[EpisodeSpan]] = {}
        self._bundle_clients: ClientsImporter | None = None

    def see_earlier(self, earlier: Sequence[Importer]) -> None:
        """Called before check with the importers of the files before this one."""
        self._bundle_clients = next((i for i in earlier if isinstance(i, ClientsImporter)), None)

    def check(self, table: Table, ctx: Context) -> None:
        start = len(ctx.errors), len(ctx.conflicts)
        people = People(ctx, self._bundle_clients)
        parsed = [r for r in (self._parse(table, row, ctx, people) for row in table.rows) if r]
        people.find(p for _, uic in parsed if (p := people.parse(uic)) is not None)
        for row, uic in parsed:
            try:
                client = people.client(uic)
            except v.Invalid as exc:
                ctx.error(table.name, row.line, "uic", str(exc))
                continue
            assert client is not None  # the cell is required
            row.client = client
            self.rows[row.id] = row
        self._compare(table, ctx)
        self.spans = harbour_spans({r.client for r in self.rows.values()})
        self._add_new(table, ctx)
        sort_by_line(ctx.errors, start[0])
        sort_by_line(ctx.conflicts, start[1])

    def _parse(
        self, table: Table, row: Row, ctx: Context, people: People
    ) -> tuple[EpisodeRow, str] | None:
        before = len(ctx.errors)
        exchange_id = ctx.cell(table, row, "id", lambda t: v.text(t, max_length=MAX_ID_LENGTH))
        ctx.cell(table, row, "uic", lambda t: people.parse(v.required(t)))
        medication = ctx.cell(table, row, "medication", _medication)
        started = ctx.cell(table, row, "start_date", lambda t: _date(t, ctx.today))
        ended = ctx.cell(table, row, "end_date", lambda t: _date(t, ctx.today) if t else None)
        reason = ctx.cell(table, row, "end_reason", _end_reason)
        if started is not None and ended is not None and ended < started:
            ctx.error(table.name, row.line, "end_date", "is before the start_date.")
        if reason and not row["end_date"]:
            ctx.error(
                table.name,
                row.line,
                "end_reason",
                "an ongoing episode has no end reason; give the end_date, or leave this blank.",
            )
        if exchange_id is not None:
            if exchange_id in self.seen:
                ctx.error(
                    table.name,
                    row.line,
                    "id",
                    f"{exchange_id} is already on line {self.seen[exchange_id]}.",
                )
                return None
            self.seen[exchange_id] = row.line
        if len(ctx.errors) > before:
            return None
        assert exchange_id is not None and medication is not None and started is not None
        episode = EpisodeRow(
            line=row.line,
            id=exchange_id,
            client=ClientRef("", None),  # set once every uic is looked up
            medication=medication,
            start_date=started,
            end_date=ended,
            end_reason=reason or "",
            pk=record_pk("ost_episode", exchange_id),
        )
        return episode, row["uic"]

    def _compare(self, table: Table, ctx: Context) -> None:
        existing = find_existing(Episode, self.rows.keys(), COMPARED)
        differing: list[tuple[EpisodeRow, list[tuple[str, Any, Any]]]] = []
        for row in self.rows.values():
            found = existing.get(row.id)
            if found is None:
                row.new = True
                self.counts.created += 1
                continue
            row.pk = found["pk"]
            given = {
                "client_id": row.client.id,
                "medication": row.medication,
                "start_date": row.start_date,
                "end_date": row.end_date,
                "end_reason": row.end_reason,
            }
            diff = [(c, found[c], given[c]) for c in COMPARED if found[c] != given[c]]
            if diff:
                differing.append((row, diff))
                self.counts.conflicts += 1
            else:
                self.counts.unchanged += 1
        codes: dict[uuid.UUID, str] = {}
        shown = {mine for _, diff in differing for c, mine, _ in diff if c == "client_id"}
        for chunk in chunks(shown):
            codes.update(Client.objects.filter(pk__in=chunk).values_list("id", "code"))
        for row, diff in differing:
            for column, mine, theirs in diff:
                if column == "client_id":
                    column = "uic"
                    message = (
                        f"is for client {codes.get(mine, '?')} here; "
                        f"in the bundle it is for client {row.client.code}."
                    )
                else:
                    message = (
                        f"has {column.replace('_', ' ')} {_shown(mine)} here; "
                        f"the bundle says {_shown(theirs)}."
                    )
                ctx.conflict(table.name, row.line, column, f"episode {row.id} {message}")

    def _add_new(self, table: Table, ctx: Context) -> None:
        """Add the new episodes to ``spans``; one that overlaps another is an error."""
        sites = _registration_sites(self.rows.values(), self._bundle_clients, ctx)
        for row in sorted(self.rows.values(), key=lambda r: r.line):
            if not row.new:
                continue  # in Harbour already: unchanged, or a conflict and Harbour's is kept
            site_id, site_code = sites[row.client.code]
            span = EpisodeSpan(
                pk=row.pk,
                client=row.client.code,
                medication=row.medication,
                start=row.start_date,
                end=row.end_date,
                site_id=site_id,
                site_code=site_code,
                name=f"episode {row.id} (line {row.line})",
            )
            others = self.spans.setdefault(row.client.code, [])
            clash = next((o for o in others if _overlap(o, span)), None)
            if clash is not None:
                ctx.error(
                    table.name,
                    row.line,
                    "start_date",
                    f"overlaps {clash.name} of the same client, from "
                    f"{clash.start.isoformat()} to "
                    f"{clash.end.isoformat() if clash.end else 'ongoing'}; "
                    "a person is on one OST episode at a time.",
                )
                continue
            others.append(span)

    def apply(self, ctx: Context) -> None:
        new = [row for row in self.rows.values() if row.new]
        ids = client_ids(r.client.code for r in new if r.client.id is None)
        spans = {s.pk: s for found in self.spans.values() for s in found}

        def episodes() -> Iterator[Episode]:
            for row in new:
                yield Episode(
                    id=row.pk,
                    client_id=row.client.id or ids[row.client.code],
                    site_id=spans[row.pk].site(ctx),
                    medication=row.medication,
                    start_date=row.start_date,
                    end_date=row.end_date,
                    end_reason=row.end_reason,
                    # The programme enrolled the person with their consent, that day.
                    consent_on=row.start_date,
                    external_id=row.id,
                    created_by=ctx.actor_user,
                )

        bulk_create(Episode, episodes())


def harbour_spans(clients: set[ClientRef]) -> dict[str, list[EpisodeSpan]]:
    """The episodes Harbour holds of these clients, by client code, in a few queries.

    Clients this bundle registers have none yet.
    """
    by_id = {ref.id: ref.code for ref in clients if ref.id is not None}
    spans: dict[str, list[EpisodeSpan]] = {}
    for chunk in chunks(by_id):
        rows = Episode.objects.filter(client_id__in=chunk).values_list(
            "pk", "client_id", "medication", "start_date", "end_date", "site_id", "external_id"
        )
        for pk, client_id, medication, start, end, site_id, external_id in rows:
            name = f"episode {external_id}" if external_id else "an episode"
            spans.setdefault(by_id[client_id], []).append(
                EpisodeSpan(pk, by_id[client_id], medication, start, end, site_id, "", name)
            )
    return spans


def _registration_sites(
    rows: Any, bundle_clients: ClientsImporter | None, ctx: Context
) -> dict[str, tuple[int | None, str]]:
    """Each client's registration site, by client code: (site id, "") or (None, site code)."""
    sites: dict[str, tuple[int | None, str]] = {}
    in_bundle = {r.code: r.site for r in bundle_clients.new} if bundle_clients else {}
    by_id: dict[uuid.UUID, str] = {}
    for row in rows:
        if row.client.id is None:
            code = in_bundle[row.client.code]
            sites[row.client.code] = (ctx.sites[code].id, code)
        else:
            by_id[row.client.id] = row.client.code
    for chunk in chunks(by_id):
        for pk, site_id in Client.objects.filter(pk__in=chunk).values_list("id", "site_id"):
            sites[by_id[pk]] = (site_id, "")
    return sites


def _overlap(a: EpisodeSpan, b: EpisodeSpan) -> bool:
    """Whether two episodes share a day other than one's last and the other's first."""
    far = dt.date.max
    return a.start == b.start or (a.start < (b.end or far) and b.start < (a.end or far))


@once_per_text
def _medication(text: str) -> str:
    return v.choice(text, MEDICATIONS)


def _end_reason(text: str) -> str:
    return v.choice(text, END_REASONS) if text else ""


def _date(text: str, today: dt.date) -> dt.date:
    return v.iso_date(text, not_after=today)
