"""ost_doses.csv: one row per OST dose due, taken under observation, taken home or missed.

Rows have no id. A row's key is the whole row (client, date, medication, dose_mg,
phase, taken): the same row twice in a file is an error. A client's doses of one
medication on one day are imported as a whole, as a contact's distributions are:

- a day with no dose of that medication in Harbour gets the file's rows;
- a day Harbour holds exactly those doses of (in any order) is unchanged;
- any other difference is one conflict, reported on the day's first row, and nothing
  is added or removed.

Every dose falls within an episode of its medication of the client, in Harbour or in
ost_episodes.csv; it belongs to that episode and is held at the episode's site.
The live dispensing rules (prescription, missed-dose blocks, second doses) are not
applied: an import records history as it happened.

Written for national scale (~14 million doses): each distinct cell text is parsed
once, Harbour's doses are read one chunk of clients at a time, and doses are written
in bulk with no audit entry each.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from harbour.exchange import values as v
from harbour.exchange.bundle import Table
from harbour.exchange.importers.base import Context, Importer
from harbour.exchange.importers.clients import ClientsImporter
from harbour.exchange.importers.contacts import (
    RECORD_NAMESPACE,
    ClientRef,
    People,
    bulk_create,
    chunks,
    client_ids,
    once_per_text,
    sort_by_line,
)
from harbour.exchange.importers.ost_episodes import (
    EpisodeSpan,
    OstEpisodesImporter,
    harbour_spans,
)
from harbour.ost.models import Dose, Medication, Phase

MEDICATIONS = tuple(Medication.values)
PHASES = tuple(Phase.values)
TAKEN = tuple(Dose.Taken.values)
# Dose.dose_mg has 7 digits, 2 after the point.
MAX_MG = Decimal("99999.99")
_MG = re.compile(r"^\d{1,5}(\.\d{1,2})?$")
# A conflict message lists at most this many doses on each side.
SHOWN_DOSES = 5

Given = tuple[Decimal, str, str]  # dose_mg, phase, taken
Day = tuple[str, dt.date, str]  # client code, date, medication


@dataclass(slots=True)
class DayRows:
    client: ClientRef
    lines: list[int]
    given: list[Given]
    episode: EpisodeSpan | None = None


class OstDosesImporter(Importer):
    file_name = "ost_doses.csv"
    required = ("uic", "date", "medication", "dose_mg", "phase", "taken")

    def __init__(self) -> None:
        super().__init__()
        self.new: dict[Day, DayRows] = {}  # the days whose doses this import creates
        self._bundle_clients: ClientsImporter | None = None
        self._episodes: OstEpisodesImporter | None = None

    def see_earlier(self, earlier: Sequence[Importer]) -> None:
        """Called before check with the importers of the files before this one."""
        self._bundle_clients = next((i for i in earlier if isinstance(i, ClientsImporter)), None)
        self._episodes = next((i for i in earlier if isinstance(i, OstEpisodesImporter)), None)

    def check(self, table: Table, ctx: Context) -> None:
        start = len(ctx.errors), len(ctx.conflicts)
        days = self._days(table, ctx)
        spans = harbour_spans({day.client for day in days.values()})
        if self._episodes is not None:
            # The episodes ost_episodes.csv creates; the others are in Harbour already.
            new = {row.pk for row in self._episodes.rows.values() if row.new}
            for code, found in self._episodes.spans.items():
                spans.setdefault(code, []).extend(s for s in found if s.pk in new)
        for (code, date, medication), day in days.items():
            held = [s for s in spans.get(code, ()) if s.medication == medication and s.holds(date)]
            if not held:
                for line in day.lines:
                    ctx.error(
                        table.name, line, "date", f"no OST episode of {medication} on this date."
                    )
                continue
            # On the day one episode hands over to the next, the dose is the new one's.
            day.episode = max(held, key=lambda s: s.start)
        if len(ctx.errors) == start[0]:
            self._compare(table, ctx, days)
        sort_by_line(ctx.errors, start[0])
        sort_by_line(ctx.conflicts, start[1])

    def _days(self, table: Table, ctx: Context) -> dict[Day, DayRows]:
        """Valid rows grouped by client, date and medication."""
        people = People(ctx, self._bundle_clients)
        parsed: list[tuple[int, str, dt.date, str, Given]] = []

        @once_per_text
        def date(text: str) -> dt.date:
            return v.iso_date(text, not_after=ctx.today)

        medication = once_per_text(lambda t: v.choice(t, MEDICATIONS))
        phase = once_per_text(lambda t: v.choice(t, PHASES))
        taken = once_per_text(lambda t: v.choice(t, TAKEN))

        for row in table.rows:
            before = len(ctx.errors)
            ctx.cell(table, row, "uic", lambda t: people.parse(v.required(t)))
            when = ctx.cell(table, row, "date", date)
            drug = ctx.cell(table, row, "medication", medication)
            mg = ctx.cell(table, row, "dose_mg", milligrams)
            stage = ctx.cell(table, row, "phase", phase)
            how = ctx.cell(table, row, "taken", taken)
            if len(ctx.errors) > before:
                continue
            assert when is not None and drug is not None and mg is not None
            assert stage is not None and how is not None
            parsed.append((row.line, row["uic"], when, drug, (mg, stage, how)))

        people.find(p for _, uic, *_ in parsed if (p := people.parse(uic)) is not None)
        days: dict[Day, DayRows] = {}
        first_line: dict[tuple[Day, Given], int] = {}
        for line, uic, when, drug, given in parsed:
            try:
                client = people.client(uic)
            except v.Invalid as exc:
                ctx.error(table.name, line, "uic", str(exc))
                continue
            assert client is not None  # the cell is required
            key = (client.code, when, drug)
            if (key, given) in first_line:
                ctx.error(table.name, line, "-", f"the same dose as line {first_line[key, given]}.")
                continue
            first_line[key, given] = line
            day = days.get(key)
            if day is None:
                day = days[key] = DayRows(client, [], [])
            day.lines.append(line)
            day.given.append(given)
        return days

    def _compare(self, table: Table, ctx: Context, days: dict[Day, DayRows]) -> None:
        # Harbour's doses, one chunk of clients at a time: a re-import of a national
        # history never holds them all in memory.
        in_harbour: dict[uuid.UUID, list[Day]] = {}
        for key, day in days.items():
            if day.client.id is not None:
                in_harbour.setdefault(day.client.id, []).append(key)
            else:
                self._create(key, day)
        if not in_harbour:
            return
        if not Dose.objects.exists():
            for keys in in_harbour.values():
                for key in keys:
                    self._create(key, days[key])
            return
        for chunk in chunks(in_harbour):
            stored: dict[tuple[uuid.UUID, dt.date, str], Counter[Given]] = {}
            rows = Dose.objects.filter(client_id__in=chunk).values_list(
                "client_id", "date", "medication", "dose_mg", "phase", "taken"
            )
            for client_id, date, medication, mg, phase, taken in rows.iterator(chunk_size=5000):
                stored.setdefault((client_id, date, medication), Counter())[mg, phase, taken] += 1
            for client_id in chunk:
                for key in in_harbour[client_id]:
                    day = days[key]
                    mine = stored.get((client_id, key[1], key[2]))
                    if mine is None:
                        self._create(key, day)
                    elif mine == Counter(day.given):
                        self.counts.unchanged += len(day.given)
                    else:
                        self.counts.conflicts += len(day.given)
                        ctx.conflict(
                            table.name,
                            day.lines[0],
                            "date",
                            f"client {key[0]} has {_shown(mine)} of {key[2]} on "
                            f"{key[1].isoformat()} here; the bundle says "
                            f"{_shown(Counter(day.given))}.",
                        )

    def _create(self, key: Day, day: DayRows) -> None:
        self.new[key] = day
        self.counts.created += len(day.given)

    def apply(self, ctx: Context) -> None:
        ids = client_ids(d.client.code for d in self.new.values() if d.client.id is None)
        actor = ctx.actor_user
        sites: dict[uuid.UUID, int] = {}

        def doses() -> Iterator[Dose]:
            for (code, date, medication), day in self.new.items():
                episode = day.episode
                assert episode is not None, "check found every day's episode"
                if episode.pk not in sites:
                    sites[episode.pk] = episode.site(ctx)
                client_id = day.client.id or ids[code]
                for n, (mg, phase, taken) in enumerate(day.given):
                    yield Dose(
                        # The same row always names the same dose, in every import.
                        id=uuid.uuid5(RECORD_NAMESPACE, f"ost_dose:{code}:{date}:{medication}:{n}"),
                        episode_id=episode.pk,
                        client_id=client_id,
                        site_id=sites[episode.pk],
                        date=date,
                        medication=medication,
                        dose_mg=mg,
                        phase=phase,
                        taken=taken,
                        recorded_by=actor,
                    )

        bulk_create(Dose, doses())


@once_per_text
def milligrams(text: str) -> Decimal:
    """A dose in mg: digits, and at most two after a point (``7.5``); more than 0."""
    if not _MG.match(v.required(text)):
        raise v.Invalid(
            "use a number of milligrams with at most two decimals after a point, such as 7.5."
        )
    mg = Decimal(text)
    if not Decimal("0") < mg <= MAX_MG:
        raise v.Invalid(f"must be more than 0 and at most {MAX_MG}.")
    return mg


def _shown(doses: Counter[Given]) -> str:
    entries = sorted(doses.elements())
    shown = [f"{mg.normalize():f} mg {phase} {taken}" for mg, phase, taken in entries[:SHOWN_DOSES]]
    more = len(entries) - SHOWN_DOSES
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")
