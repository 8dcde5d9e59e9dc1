"""clients.csv: registered people, keyed on their UIC.

The raw UIC is split under the programme's scheme and pseudonymised at once; it
is never stored, logged or repeated in a message (an error names the ``uic``
column and what is wrong, never the value). A ``uic`` cell holding a Harbour
client code instead (what ``export-bundle`` writes) is matched on that code; see
harbour.exchange.pseudonyms.

Written for large bundles (100 000 clients): lookups go to the database in
chunks, and new clients, their partial digests, links and audit entries are
written in bulk rather than through clients.services.register one by one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from harbour.audit.services import Entry
from harbour.clients import pseudonym as ps
from harbour.clients import services
from harbour.clients.models import Client, ClientLink, ClientPartial, Gender
from harbour.clients.uic import UICError
from harbour.exchange import values as v
from harbour.exchange.bundle import Row, Table
from harbour.exchange.importers.base import Context, Importer
from harbour.exchange.pseudonyms import code_only_pseudonym, looks_like_code, parse_code
from harbour.sites.models import SiteKind

# Well under SQLite's limit on query parameters, and a sensible batch for PostgreSQL.
CHUNK = 500
EARLIEST_BIRTH_YEAR = 1900

# Columns compared with an existing client, in the order conflicts are reported.
COMPARED = ("gender", "birth_year", "injects", "opioid_dependent", "registered_on", "site")


@dataclass
class ClientRow:
    line: int
    # UIC components, in memory only, for the rare re-keying of a client found under
    # an old key. None when the cell held a client code.
    parts: list[str] | None
    digests: list[ps.Digests]  # under every key of the ring, newest first; [] for a code
    given_code: str  # the client code from the cell, "" for a UIC
    gender: str
    birth_year: int | None
    injects: str
    opioid_dependent: str
    registered_on: dt.date
    site: str
    client: Client | None = None  # the existing client, once matched
    old_key: bool = False  # found under an old key: re-key it, as clients.services.find does

    @property
    def code(self) -> str:
        """The client code this row has, or will have once created."""
        if self.client is not None:
            return self.client.code
        return self.given_code or ps.client_code(self.digests[0].pseudonym)

    @property
    def values(self) -> dict[str, Any]:
        return {
            "gender": self.gender,
            "birth_year": self.birth_year,
            "injects": self.injects,
            "opioid_dependent": self.opioid_dependent,
            "registered_on": self.registered_on,
            "site": self.site,
        }


class ClientsImporter(Importer):
    file_name = "clients.csv"
    required = (
        "uic",
        "gender",
        "birth_year",
        "injects",
        "opioid_dependent",
        "registered_on",
        "site",
    )
    mandatory = True

    def __init__(self) -> None:
        super().__init__()
        self.new: list[ClientRow] = []
        self.rekey: list[ClientRow] = []

    def check(self, table: Table, ctx: Context) -> None:
        rows = [r for r in (self._parse(table, row, ctx) for row in table.rows) if r is not None]
        _match(rows)
        site_codes = {ref.id: code for code, ref in ctx.sites.items() if ref.id is not None}
        first_line: dict[str, int] = {}
        for row in rows:
            # Two rows for one person (the same UIC, or a UIC and its code) is an error
            # in the file, not a conflict: which one would be right?
            if row.code in first_line:
                ctx.error(
                    table.name, row.line, "uic", f"the same client as line {first_line[row.code]}."
                )
                continue
            first_line[row.code] = row.line
            if row.client is None:
                self.new.append(row)
                self.counts.created += 1
                continue
            if row.old_key:
                self.rekey.append(row)
            existing = _values_of(row.client, site_codes)
            differing = [c for c in COMPARED if existing[c] != row.values[c]]
            for column in differing:
                mine, theirs = _shown(existing[column]), _shown(row.values[column])
                ctx.conflict(
                    table.name,
                    row.line,
                    column,
                    f"client {row.code} has {column.replace('_', ' ')} {mine} here; "
                    f"the bundle says {theirs}.",
                )
            if differing:
                self.counts.conflicts += 1
            else:
                self.counts.unchanged += 1

    def _parse(self, table: Table, row: Row, ctx: Context) -> ClientRow | None:
        before = len(ctx.errors)
        key = ctx.cell(table, row, "uic", lambda t: _uic(t, ctx))
        gender = ctx.cell(table, row, "gender", lambda t: v.choice(t, Gender.values))
        birth_year = ctx.cell(
            table,
            row,
            "birth_year",
            lambda t: v.optional_year(t, earliest=EARLIEST_BIRTH_YEAR, latest=ctx.today.year),
        )
        injects = ctx.cell(table, row, "injects", v.yes_no_unknown)
        opioid_dependent = ctx.cell(table, row, "opioid_dependent", v.yes_no_unknown)
        registered_on = ctx.cell(
            table, row, "registered_on", lambda t: v.iso_date(t, not_after=ctx.today)
        )
        site = ctx.cell(table, row, "site", lambda t: _site(t, ctx))
        if len(ctx.errors) > before:
            return None
        assert key is not None and gender is not None and injects is not None
        assert opioid_dependent is not None and registered_on is not None and site is not None
        parts, given_code = key
        return ClientRow(
            line=row.line,
            parts=parts,
            digests=ps.all_digests(parts) if parts is not None else [],
            given_code=given_code,
            gender=gender,
            birth_year=birth_year,
            injects=injects,
            opioid_dependent=opioid_dependent,
            registered_on=registered_on,
            site=site,
        )

    def apply(self, ctx: Context) -> None:
        for row in self.rekey:
            assert row.parts is not None
            services.find(row.parts)  # re-keys the client found under an old key
        key = ps.current_key()
        clients: list[Client] = []
        partials: list[ClientPartial] = []
        links: list[ClientLink] = []
        for row in self.new:
            site_id = ctx.sites[row.site].id
            assert site_id is not None, "the sites importer creates sites first"
            if row.parts is not None:
                current = row.digests[0]
                pseudonym = current.pseudonym
                partial_digests: tuple[str, ...] = current.partials
            else:
                pseudonym, partial_digests = code_only_pseudonym(row.given_code, key), ()
            client = Client(
                id=uuid.uuid4(),
                code=row.code,
                pseudonym=pseudonym,
                key_id=key.id,
                gender=row.gender,
                birth_year=row.birth_year,
                injects=row.injects,
                opioid_dependent=row.opioid_dependent,
                site_id=site_id,
                registered_on=row.registered_on,
                # clients.csv has no consent column: the programme registered the person,
                # which it does only with consent, on that day (docs/exchange-import.md).
                consent_on=row.registered_on,
                created_by=ctx.actor_user,
            )
            clients.append(client)
            # The same digests, positions and link that clients.services.register writes.
            partials.extend(
                ClientPartial(client_id=client.pk, position=i, digest=digest)
                for i, digest in enumerate(partial_digests)
            )
            links.append(ClientLink(client_id=client.pk, site_id=site_id, since=row.registered_on))
            ctx.audit.append(
                Entry(
                    action="client.create",
                    object_type="client",
                    object_id=str(client.pk),
                    site_id=site_id,
                    detail={"code": client.code, "source": "import"},
                )
            )
        Client.objects.bulk_create(clients, batch_size=CHUNK)
        ClientPartial.objects.bulk_create(partials, batch_size=CHUNK)
        ClientLink.objects.bulk_create(links, batch_size=CHUNK)


def _uic(text: str, ctx: Context) -> tuple[list[str] | None, str]:
    """(UIC components, "") or (None, client code). Messages never show the cell."""
    text = v.required(text)
    if looks_like_code(text):
        return None, parse_code(text)
    try:
        return ctx.scheme.split(text), ""
    except UICError as exc:
        where = "" if exc.component == "uic" else f"{exc.component}: "
        raise v.Invalid(where + exc.message) from None


def _site(text: str, ctx: Context) -> str:
    code = v.site_code(text)
    ref = ctx.sites.get(code)
    if ref is None:
        raise v.Invalid(f"unknown site {code}: not in sites.csv nor in Harbour.")
    if ref.kind == SiteKind.REGION:
        raise v.Invalid(f"{code} is a region; clients are registered at a site.")
    return code


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _match(rows: list[ClientRow]) -> None:
    """Find the existing client of every row, a few queries per thousand rows."""
    by_pseudonym: dict[str, Client] = {}
    for chunk in _chunks([d.pseudonym for row in rows for d in row.digests]):
        by_pseudonym.update((c.pseudonym, c) for c in Client.objects.filter(pseudonym__in=chunk))
    by_code: dict[str, Client] = {}
    for chunk in _chunks([row.given_code for row in rows if row.given_code]):
        by_code.update((c.code, c) for c in Client.objects.filter(code__in=chunk))
    current_key_id = ps.current_key().id
    for row in rows:
        client = by_code.get(row.given_code) if row.given_code else None
        for d in row.digests:
            if d.pseudonym in by_pseudonym:
                client = by_pseudonym[d.pseudonym]
                row.old_key = d.key_id != current_key_id
                break
        # A merged record stands for its survivor, as in clients.services.find.
        if client is not None and client.merged_into_id is not None:
            client = client.active_record
        row.client = client


def _values_of(client: Client, site_codes: dict[int, str]) -> dict[str, Any]:
    return {
        "gender": client.gender,
        "birth_year": client.birth_year,
        "injects": client.injects,
        "opioid_dependent": client.opioid_dependent,
        "registered_on": client.registered_on,
        "site": site_codes.get(client.site_id, ""),
    }


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "(blank)"
    return value.isoformat() if isinstance(value, dt.date) else str(value)
