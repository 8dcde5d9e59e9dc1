"""sites.csv: the tree of regions and sites, keyed on ``code``.

Kinds are the exchange format's seven plus ``region``, Harbour's kind for the
upper levels of the tree, so that an exported bundle with regions imports again.
A parent may be any site or region in the database or anywhere in the file.
"""

from __future__ import annotations

from dataclasses import dataclass

from harbour.audit.services import Entry
from harbour.exchange import values as v
from harbour.exchange.bundle import Table
from harbour.exchange.importers.base import Context, Importer, SiteRef
from harbour.sites.models import Site, SiteKind

KINDS = tuple(SiteKind.values)


@dataclass
class SiteRow:
    line: int
    code: str
    name: str
    kind: str
    parent: str  # "" for the top level


@dataclass(frozen=True)
class Existing:
    id: int
    name: str
    kind: str
    parent: str


class SitesImporter(Importer):
    file_name = "sites.csv"
    required = ("code", "name", "kind")
    # A programme with no regions may leave the parent column out altogether.
    optional = ("parent",)
    mandatory = True

    def __init__(self) -> None:
        super().__init__()
        self.new: list[SiteRow] = []

    def check(self, table: Table, ctx: Context) -> None:
        existing = _existing_sites()
        for code, known in existing.items():
            ctx.sites[code] = SiteRef(code, known.kind, known.id)
        rows = self._parse(table, ctx)
        self._check_parents(table, ctx, rows)
        for row in rows.values():
            site = existing.get(row.code)
            if site is None:
                self.new.append(row)
                self.counts.created += 1
                continue
            differing = [
                (column, mine, theirs)
                for column, mine, theirs in (
                    ("name", site.name, row.name),
                    ("kind", site.kind, row.kind),
                    ("parent", site.parent, row.parent),
                )
                if mine != theirs
            ]
            for column, mine, theirs in differing:
                ctx.conflict(
                    table.name,
                    row.line,
                    column,
                    f"site {row.code} has {column} {_shown(mine)} here; "
                    f"the bundle says {_shown(theirs)}.",
                )
            if differing:
                self.counts.conflicts += 1
            else:
                self.counts.unchanged += 1

    def _parse(self, table: Table, ctx: Context) -> dict[str, SiteRow]:
        rows: dict[str, SiteRow] = {}
        first_line: dict[str, int] = {}
        for row in table.rows:
            before = len(ctx.errors)
            code = ctx.cell(table, row, "code", v.site_code)
            name = ctx.cell(table, row, "name", lambda t: v.text(t, max_length=200))
            kind = ctx.cell(table, row, "kind", lambda t: v.choice(t, KINDS))
            parent = ctx.cell(table, row, "parent", v.optional_site_code)
            if code is None:
                continue
            if code in first_line:
                ctx.error(
                    table.name, row.line, "code", f"{code} is already on line {first_line[code]}."
                )
                continue
            first_line[code] = row.line
            if code not in ctx.sites:
                # Known even when the row is invalid, so that rows pointing at it are
                # not also reported as pointing at an unknown site.
                ctx.sites[code] = SiteRef(code, kind or "", None)
            if len(ctx.errors) == before:
                assert name is not None and kind is not None
                rows[code] = SiteRow(row.line, code, name, kind, parent or "")
        return rows

    def _check_parents(self, table: Table, ctx: Context, rows: dict[str, SiteRow]) -> None:
        for row in rows.values():
            if row.parent == row.code:
                ctx.error(table.name, row.line, "parent", "a site cannot be its own parent.")
            elif row.parent and row.parent not in ctx.sites:
                ctx.error(
                    table.name,
                    row.line,
                    "parent",
                    f"unknown site {row.parent}: not in this file nor in Harbour.",
                )
        # Only the file's own rows can form a cycle: a site already in the database
        # keeps its parent (a different one would be a conflict, not applied).
        reported: set[str] = set()
        for start in rows.values():
            path: list[str] = []
            code = start.code
            while code in rows and code not in path and code not in reported:
                path.append(code)
                code = rows[code].parent
            if code in path:
                cycle = path[path.index(code) :]
                shown = " → ".join([*cycle, code])
                for member in cycle:
                    ctx.error(
                        table.name,
                        rows[member].line,
                        "parent",
                        f"the parents form a cycle: {shown}.",
                    )
                reported.update(cycle)
            reported.update(path)

    def apply(self, ctx: Context) -> None:
        # Parents first: the file may list a site before its region. Sites are few
        # (hundreds at most), so plain saves in tree order are simpler than bulk.
        pending = {row.code: row for row in self.new}
        for row in self.new:
            self._create(row, pending, ctx)

    def _create(self, row: SiteRow, pending: dict[str, SiteRow], ctx: Context) -> None:
        if row.code not in pending:
            return
        del pending[row.code]
        if row.parent in pending:
            self._create(pending[row.parent], pending, ctx)
        site = Site.objects.create(
            code=row.code,
            name=row.name,
            kind=row.kind,
            parent_id=ctx.sites[row.parent].id if row.parent else None,
        )
        ctx.sites[row.code].id = site.pk
        ctx.audit.append(
            Entry(
                action="site.create",
                object_type="site",
                object_id=str(site.pk),
                site_id=site.pk,
                detail={"code": site.code, "source": "import"},
            )
        )


def _existing_sites() -> dict[str, Existing]:
    rows = list(Site.objects.values_list("id", "code", "name", "kind", "parent_id"))
    code_of = {pk: code for pk, code, *_ in rows}
    return {
        code: Existing(pk, name, kind, code_of.get(parent_id, "") if parent_id else "")
        for pk, code, name, kind, parent_id in rows
    }


def _shown(value: str) -> str:
    return value if value else "(none)"
