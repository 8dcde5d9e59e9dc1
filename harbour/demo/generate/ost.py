"""OST episodes with their prescriptions and the days people did not come: the ost stream.

About a quarter of the opioid-dependent clients registered where OST is dispensed
(fixed sites, drop-ins, pharmacies, prisons) have an episode there. Each episode is
drawn whole when its client is drawn: how it started, its prescriptions, how it
ended, and the days the person missed. Doses are not drawn: ``doses`` derives each
day's dose from the plan, so the millions of a national programme stream to the
database a batch at a time and never shift a draw.

The main site gets what its dispensing board should show on the last day: two or
three people who missed the three days before and wait for a clinician's review,
people not dosed yet, and people in maintenance below an adequate dose.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator, Sequence
from decimal import Decimal

from harbour.clients.models import YesNoUnknown
from harbour.demo.generate.plans import ClientPlan, DosePlan, EpisodePlan, PrescriptionPlan
from harbour.demo.generate.rng import draw_uuid, pick
from harbour.demo.generate.scale import Rates
from harbour.demo.generate.sites import SitePlan
from harbour.ost.models import Dose, EndReason, Medication, Phase, StartContext
from harbour.ost.services import ADEQUATE_MG, MISSED_BEFORE_REVIEW
from harbour.sites.models import SiteKind

DISPENSING_KINDS = frozenset({SiteKind.FIXED, SiteKind.DROP_IN, SiteKind.PHARMACY, SiteKind.PRISON})
# Of the opioid-dependent clients of those sites; a few start only after the last
# day, so a little more than the quarter or so on OST (the demo's rate: see
# ``scale.Rates`` for a national programme's).
OST_SHARE = Rates.ost_share
# Of the days, in runs of one or two: three in a row would need a review.
MISSED_SHARE = 0.04
# Of the people in maintenance, below ADEQUATE_MG: the adequacy list has people to review.
BELOW_ADEQUATE_SHARE = 0.2
# Of those expected on the last day, not dosed yet: it is "today" for the board.
NOT_YET_DOSED_SHARE = 0.3
# At the main site, whatever the seed.
BLOCKED_AT_MAIN = (2, 3)
NOT_YET_DOSED_AT_MAIN = 3
BELOW_ADEQUATE_AT_MAIN = 2

_ONE_DAY = dt.timedelta(days=1)
_MEAN_WAIT_DAYS = 45.0  # from registering to starting, for a new start
_MEAN_CHANGE_DAYS = 150.0  # between dose changes in maintenance, after the first fortnight

_MEDICATIONS = (Medication.METHADONE, Medication.BUPRENORPHINE, Medication.DIACETYLMORPHINE)
_MEDICATION_WEIGHTS = (75, 25, 0)
# Diacetylmorphine is prescribed at the main site only, to a few.
_MAIN_MEDICATION_WEIGHTS = (70, 24, 6)

_CONTEXTS = (
    StartContext.NEW,
    StartContext.TRANSFER_IN,
    StartContext.FROM_PRISON,
    StartContext.RESTART,
)
_CONTEXT_WEIGHTS = (60, 15, 10, 15)
_PRISON_CONTEXT_WEIGHTS = (50, 40, 0, 10)
_CONTINUING = (StartContext.TRANSFER_IN, StartContext.FROM_PRISON)

_END_REASONS = (
    EndReason.COMPLETED_TAPER,
    EndReason.TRANSFERRED,
    EndReason.STOPPED,
    EndReason.INCARCERATED,
    EndReason.LOST,
    EndReason.DIED,
)
_END_WEIGHTS = (12, 15, 22, 10, 38, 3)
# In prison, going to prison is release to a service outside, and nobody is lost.
_IN_PRISON = {EndReason.INCARCERATED: EndReason.TRANSFERRED, EndReason.LOST: EndReason.STOPPED}
# A taper follows at least this many days of treatment (and takes up to 16 weeks).
_TAPER_AFTER_DAYS = 190

_SERVICES = (
    "Eastwick community drug service",
    "Brinmouth GP practice",
    "Torrin opioid treatment clinic",
    "Halden community pharmacy",
)
_PRISON = "Riverton prison health service"  # when the programme has no prison of its own

_TAKE_HOME_DAYS = ((5, 6), (4, 5, 6), (1, 3, 5, 6), (0, 1, 2, 4, 5, 6))
_TAKE_HOME_WEIGHTS = (55, 20, 15, 10)
_TAKE_HOME_SHARE = 0.5  # of the people three months into maintenance

_START_REASON: dict[str, str] = {
    StartContext.NEW: "Starting dose, agreed with the person",
    StartContext.RESTART: "Restarting treatment: starting dose agreed with the person",
    StartContext.TRANSFER_IN: "Continuing the dose prescribed by the previous service",
    StartContext.FROM_PRISON: "Continuing the dose given in prison",
}
_MAINTENANCE = "Induction complete: maintenance dose agreed with the person"
_HIGHER = "Person asks for a higher dose: still in withdrawal in the evening"
_LOWER = "Person asks for a lower dose: feels drowsy after the dose"
_TAKE_HOME = "Stable for three months: take-home doses agreed with the person"
_TAPER = "Planned taper agreed with the person"
_TAPER_STEP = "Next step of the planned taper"

# mg: induction (low, high), maintenance (low, high, most common), below adequate
# (low, high), and the step doses move by.
_SCALES: dict[str, tuple[tuple[int, int], tuple[int, int, int], tuple[int, int], int]] = {
    Medication.METHADONE: ((20, 40), (60, 120, 80), (30, 55), 5),
    Medication.BUPRENORPHINE: ((4, 8), (8, 24, 12), (4, 6), 2),
    Medication.DIACETYLMORPHINE: ((50, 100), (150, 450, 250), (150, 150), 10),
}


class OstPlanner:
    """Draws each client's OST episodes, in client order, from the ost stream."""

    def __init__(
        self,
        rng: random.Random,
        *,
        sites: Sequence[SitePlan],
        main_site: str,
        start: dt.date,
        end: dt.date,
        rates: Rates | None = None,
    ) -> None:
        self.rng = rng
        self.rates = rates or Rates()
        self.kinds = {s.code: s.kind for s in sites}
        self.main_site = main_site
        self.start = start
        self.end = end
        self.prisons = [s.name for s in sites if s.kind == SiteKind.PRISON] or [_PRISON]
        self.blocked_wanted = rng.randint(*BLOCKED_AT_MAIN)
        self.due_wanted = NOT_YET_DOSED_AT_MAIN
        self.low_wanted = BELOW_ADEQUATE_AT_MAIN

    def episodes(self, client: ClientPlan) -> list[EpisodePlan]:
        if (
            self.kinds[client.site] not in DISPENSING_KINDS
            or client.opioid_dependent != YesNoUnknown.YES
            or client.near_duplicate_of is not None  # the same person, already counted
        ):
            return []
        rng = self.rng
        if rng.random() >= self.rates.ost_share:
            return []
        main = client.site == self.main_site
        prison = self.kinds[client.site] == SiteKind.PRISON
        medication = pick(
            rng, _MEDICATIONS, _MAIN_MEDICATION_WEIGHTS if main else _MEDICATION_WEIGHTS
        )
        context = pick(rng, _CONTEXTS, _PRISON_CONTEXT_WEIGHTS if prison else _CONTEXT_WEIGHTS)
        if context in _CONTINUING:
            wait = rng.randrange(3)
            linked = rng.choice(self.prisons if context == StartContext.FROM_PRISON else _SERVICES)
        else:
            wait, linked = int(rng.expovariate(1 / _MEAN_WAIT_DAYS)), ""
        length = int(rng.expovariate(1 / self.rates.mean_episode_days))
        end_reason = pick(rng, _END_REASONS, _END_WEIGHTS)
        low = rng.random() < BELOW_ADEQUATE_SHARE and medication in ADEQUATE_MG
        not_yet_dosed = rng.random() < NOT_YET_DOSED_SHARE
        start = client.registered_on + dt.timedelta(days=wait)
        if start > self.end:
            return []  # starts after the last day
        episode = EpisodePlan(draw_uuid(rng), client.id, client.site, medication, start, context)
        episode.linked_service = linked
        end_date = start + dt.timedelta(days=length)
        tail = 0  # missed days in a row before the last day (or the end, when lost)
        if end_date < self.end:
            if prison:
                end_reason = _IN_PRISON.get(end_reason, end_reason)
            if end_reason == EndReason.COMPLETED_TAPER and length < _TAPER_AFTER_DAYS:
                end_reason = EndReason.STOPPED
            episode.end_date, episode.end_reason = end_date, end_reason
            if end_reason in (EndReason.TRANSFERRED, EndReason.INCARCERATED):
                pool = _SERVICES if end_reason == EndReason.TRANSFERRED else self.prisons
                episode.linked_service = rng.choice(pool)
            elif end_reason == EndReason.LOST:
                tail = rng.randint(7, 21)  # closed after weeks without a dose
        else:
            settled = start <= self.end - dt.timedelta(days=20)  # in maintenance by the end
            if main and settled and self.blocked_wanted:
                self.blocked_wanted -= 1
                tail = MISSED_BEFORE_REVIEW + rng.randrange(2)
                not_yet_dosed = True
            elif main and (not_yet_dosed or self.due_wanted):
                self.due_wanted = max(0, self.due_wanted - 1)
                not_yet_dosed = True
            if main and settled and self.low_wanted and medication in ADEQUATE_MG:
                low = True
            episode.dosed_on_end = not not_yet_dosed
        episode.prescriptions = _prescriptions(rng, episode, low, self.end)
        if low and main and episode.end_date is None and self.low_wanted:
            self.low_wanted -= episode.prescriptions[-1].phase == Phase.MAINTENANCE
        episode.missed = _missed(rng, episode, self.start, self.end, tail)
        return [episode]


def _mg(value: float, step: int, low: int, high: int) -> Decimal:
    return Decimal(min(high, max(low, step * round(value / step))))


def _prescriptions(
    rng: random.Random, episode: EpisodePlan, low: bool, end: dt.date
) -> list[PrescriptionPlan]:
    """Induction, maintenance with its changes, and a taper before a completed one."""
    induction, normal, below, step = _SCALES[episode.medication]
    start, last = episode.start_date, episode.end_date or end
    rows: list[tuple[dt.date, Decimal, str, tuple[int, ...], str]] = []

    def add(day: dt.date, mg: Decimal, phase: str, days: tuple[int, ...], reason: str) -> None:
        if rows and rows[-1][0] == day:
            rows.pop()  # two changes on one day: the later one stands
        rows.append((day, mg, phase, days, reason))

    if episode.start_context in _CONTINUING:
        maintenance_from, reason = start, _START_REASON[episode.start_context]
    else:
        mg = _mg(rng.uniform(*induction), step, *induction)
        add(start, mg, Phase.INDUCTION, (), _START_REASON[episode.start_context])
        maintenance_from, reason = start + dt.timedelta(days=rng.randint(7, 14)), _MAINTENANCE
    lowest, highest = below if low else normal[:2]
    dose = _mg(rng.triangular(*(below if low else normal)), step, lowest, highest)
    taper_from = last + _ONE_DAY
    if episode.end_reason == EndReason.COMPLETED_TAPER:
        taper_from = last - dt.timedelta(weeks=rng.randint(6, 16))
    events: list[tuple[dt.date, str]] = []
    if episode.medication != Medication.DIACETYLMORPHINE and rng.random() < _TAKE_HOME_SHARE:
        events.append((maintenance_from + dt.timedelta(days=90 + rng.randrange(60)), "home"))
    day = maintenance_from
    while (
        day := day + dt.timedelta(days=14 + int(rng.expovariate(1 / _MEAN_CHANGE_DAYS)))
    ) < taper_from:
        events.append((day, _HIGHER if rng.random() < 0.6 else _LOWER))
    if maintenance_from <= last:
        add(maintenance_from, dose, Phase.MAINTENANCE, (), reason)
    take_home: tuple[int, ...] = ()
    for day, event in sorted(events):
        if day >= taper_from or day > last:
            continue
        if event == "home":
            take_home = pick(rng, _TAKE_HOME_DAYS, _TAKE_HOME_WEIGHTS)
            add(day, dose, Phase.MAINTENANCE, take_home, _TAKE_HOME)
            continue
        change = step * rng.choice((1, 2))
        new = _mg(float(dose + (change if event == _HIGHER else -change)), step, lowest, highest)
        if new != dose:
            dose = new
            add(day, dose, Phase.MAINTENANCE, take_home, event)
    if taper_from <= last:
        steps = max(1, (last - taper_from).days // 14)
        for index in range(steps):
            mg = _mg(float(dose) * (steps - index) / (steps + 1), step, step, int(dose))
            if index and mg == rows[-1][1]:
                continue  # a step too small to measure out: the next one comes with the next
            day = taper_from + dt.timedelta(weeks=2 * index)
            add(day, mg, Phase.TAPER, take_home, _TAPER if index == 0 else _TAPER_STEP)
    return [
        PrescriptionPlan(
            day,
            rows[i + 1][0] - _ONE_DAY if i + 1 < len(rows) else episode.end_date,
            mg,
            phase,
            days,
            reason,
        )
        for i, (day, mg, phase, days, reason) in enumerate(rows)
    ]


def _missed(
    rng: random.Random, episode: EpisodePlan, start: dt.date, end: dt.date, tail: int
) -> frozenset[dt.date]:
    """Short runs of missed days in the history, then ``tail`` in a row before the end.

    For an ongoing episode the tail ends the day before ``end``; for one lost to
    follow-up, on its end date. A day taken separates the runs from each other and
    from the tail, so only the tail is long enough to need a review.
    """
    first = max(episode.start_date, start)
    last = episode.end_date or end - _ONE_DAY
    tail_days = {last - dt.timedelta(days=k) for k in range(tail)}
    regular_last = last - dt.timedelta(days=tail + 1 if tail else 0)
    rate = rng.uniform(MISSED_SHARE / 4, MISSED_SHARE * 7 / 4)  # some miss more than others
    mean_gap = max(1.0, 1.3 / rate - 2.3)  # runs average 1.3 days, then a day taken
    missed: set[dt.date] = set()
    day = first + dt.timedelta(days=int(rng.expovariate(1 / mean_gap)))
    while day <= regular_last:
        run = 1 if rng.random() < 0.7 else 2
        missed.update(d for d in (day, day + _ONE_DAY)[:run] if d <= regular_last)
        day += dt.timedelta(days=run + 1 + int(rng.expovariate(1 / mean_gap)))
    return frozenset(missed | {d for d in tail_days if d >= first})


def dose_window(episode: EpisodePlan, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day with a dose (missed or not) in the history."""
    last = min(episode.end_date or end, end)
    if last == end and not episode.dosed_on_end:
        last -= _ONE_DAY
    return max(episode.start_date, start), last


def dose_count(episode: EpisodePlan, start: dt.date, end: dt.date) -> int:
    first, last = dose_window(episode, start, end)
    return max(0, (last - first).days + 1)


def doses(episode: EpisodePlan, start: dt.date, end: dt.date) -> Iterator[DosePlan]:
    """One dose a day from ``start`` (or the episode's start) to ``end`` (or its end).

    Missed on the days the person missed, taken home on the prescription's take-home
    weekdays, observed otherwise; none on ``end`` for those not dosed yet.
    """
    day, last = dose_window(episode, start, end)
    prescriptions = iter(episode.prescriptions)
    p = next(prescriptions)
    while day <= last:
        while p.valid_to is not None and p.valid_to < day:
            p = next(prescriptions)
        if day in episode.missed:
            taken = Dose.Taken.MISSED
        elif day.weekday() in p.take_home_days:
            taken = Dose.Taken.TAKE_HOME
        else:
            taken = Dose.Taken.OBSERVED
        yield DosePlan(day, p, taken)
        day += _ONE_DAY


def dose_id(episode: uuid.UUID, day: dt.date) -> uuid.UUID:
    """A dose's id, from its episode and date: the same seed gives the same ids."""
    return uuid.UUID(int=(episode.int + day.toordinal()) % (1 << 128), version=4)
