"""overdoses.csv: overdoses witnessed by staff or reported to the programme, keyed on ``id``.

The same shape as contacts.csv (see importers/contacts.py) with three columns of its
own. An imported overdose has the model's default source ("witnessed by staff"),
as the format has no column for it, and no link to a contact.

There is no audit entry per overdose, as for contacts: the import's summary entry
counts them (docs/exchange-import.md).
"""

from __future__ import annotations

import uuid
from typing import Any

from harbour.exchange import values as v
from harbour.exchange.bundle import Row, Table
from harbour.exchange.importers.base import Context
from harbour.exchange.importers.contacts import RecordRow, RecordsImporter
from harbour.visits.models import Overdose

# Overdose.naloxone_doses is a small integer; more than this is surely a typing error.
MAX_NALOXONE_DOSES = 100
OUTCOMES = tuple(Overdose.Outcome.values)


class OverdosesImporter(RecordsImporter):
    file_name = "overdoses.csv"
    required = ("id", "date", "site", "naloxone_doses", "outcome", "ems_called")
    # Blank when the person is not registered; a file with none may leave it out.
    optional = ("uic",)
    model = Overdose
    noun = "overdose"
    at_a_site = "overdoses are reported at a site"
    extra_fields = ("naloxone_doses", "outcome", "ems_called")

    def parse_extra(self, table: Table, row: Row, ctx: Context) -> tuple[Any, ...]:
        doses = ctx.cell(
            table,
            row,
            "naloxone_doses",
            lambda t: v.whole_number(t, minimum=0, maximum=MAX_NALOXONE_DOSES),
        )
        outcome = ctx.cell(table, row, "outcome", lambda t: v.choice(t, OUTCOMES))
        ems_called = ctx.cell(table, row, "ems_called", v.yes_no_unknown)
        return (doses, outcome, ems_called)

    def build(
        self, row: RecordRow, site_id: int, client_id: uuid.UUID | None, ctx: Context
    ) -> Overdose:
        doses, outcome, ems_called = row.extra
        return Overdose(
            id=row.pk,
            date=row.date,
            site_id=site_id,
            client_id=client_id,
            naloxone_doses=doses,
            outcome=outcome,
            ems_called=ems_called,
            external_id=row.id,
            created_by=ctx.actor_user,
        )
