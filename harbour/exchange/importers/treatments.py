"""treatments.csv: HIV, hepatitis C and TB treatment episodes, keyed on ``id``.

The same shape as tests.csv (see importers/tests.py): an imported treatment is
recorded at the client's registration site, as the format has no site column.

Rules beyond each cell's own (docs/exchange-import.md):

- ``end_date`` is blank exactly when ``outcome`` is ``ongoing``: every other outcome
  (completed, stopped, transferred, died, lost) ended the episode on a day, as
  harbour.testing.services.end_treatment records it; for ``lost`` that is the last
  day the person was known to be on treatment. A "lost" episode without an end date
  would count as running for ever (on ART in the HIV cascade).
- ``end_date`` is not before ``start_date``; neither is in the future.
- A client has at most one ongoing episode per condition, as at the counter: a
  second one, in the file or beside one already in Harbour, is an error.
"""

from __future__ import annotations

import uuid
from typing import Any

from harbour.exchange import values as v
from harbour.exchange.bundle import Row, Table
from harbour.exchange.importers.base import Context
from harbour.exchange.importers.contacts import chunks
from harbour.exchange.importers.tests import ClientRecord, ClientRecordsImporter
from harbour.testing.models import Condition, Outcome, Treatment

CONDITIONS = tuple(Condition.values)
OUTCOMES = tuple(Outcome.values)


class TreatmentsImporter(ClientRecordsImporter):
    file_name = "treatments.csv"
    required = ("id", "uic", "condition", "start_date", "end_date", "outcome")
    model = Treatment
    noun = "treatment"
    fields = ("condition", "start_date", "end_date", "outcome")

    def parse_values(self, table: Table, row: Row, ctx: Context) -> dict[str, Any]:
        condition = ctx.cell(table, row, "condition", lambda t: v.choice(t, CONDITIONS))
        start = ctx.cell(table, row, "start_date", self.date)
        end = ctx.cell(table, row, "end_date", lambda t: self.date(t) if t else None)
        outcome = ctx.cell(table, row, "outcome", lambda t: v.choice(t, OUTCOMES))
        if outcome is not None and row["end_date"] and outcome == Outcome.ONGOING:
            ctx.error(
                table.name, row.line, "end_date", "must be blank while the outcome is ongoing."
            )
        elif outcome is not None and not row["end_date"] and outcome != Outcome.ONGOING:
            ctx.error(
                table.name,
                row.line,
                "end_date",
                f"required when the outcome is {outcome}: the last day on treatment.",
            )
        elif start is not None and end is not None and end < start:
            ctx.error(table.name, row.line, "end_date", "is before start_date.")
        return {"condition": condition, "start_date": start, "end_date": end, "outcome": outcome}

    def plan(self, table: Table, ctx: Context) -> None:
        """At most one ongoing episode per client and condition."""
        ongoing: dict[tuple[str, str], int] = {}  # (client code, condition) -> line
        for row in self.rows.values():
            # A conflicting row is not applied: Harbour's record of it stays as it is.
            if row.values["outcome"] == Outcome.ONGOING and not row.conflicting:
                assert row.client is not None
                key = (row.client.code, row.values["condition"])
                if key in ongoing:
                    ctx.error(
                        table.name,
                        row.line,
                        "outcome",
                        f"the client is already on ongoing {key[1]} treatment on line "
                        f"{ongoing[key]}.",
                    )
                else:
                    ongoing[key] = row.line
        # What the file says of a record in Harbour replaces it, unless it conflicts.
        named = {row.pk for row in self.rows.values() if not row.new and not row.conflicting}
        by_id = {r.client.id: r for r in self.rows.values() if r.client and r.client.id}
        for chunk in chunks(by_id):
            stored = Treatment.objects.filter(
                client_id__in=chunk, outcome=Outcome.ONGOING
            ).values_list("pk", "client_id", "condition")
            for pk, client_id, condition in stored:
                code = by_id[client_id].client.code  # type: ignore[union-attr]
                line = ongoing.get((code, condition))
                if pk not in named and line is not None:
                    ctx.error(
                        table.name,
                        line,
                        "outcome",
                        f"the client is already on ongoing {condition} treatment in Harbour; "
                        "give that treatment's end there, or in this file with its id.",
                    )

    def build(
        self, row: ClientRecord, client_id: uuid.UUID, site_id: int, ctx: Context
    ) -> Treatment:
        return Treatment(
            id=row.pk,
            client_id=client_id,
            site_id=site_id,
            external_id=row.id,
            created_by=ctx.actor_user,
            **row.values,
        )
