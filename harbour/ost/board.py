"""The dispensing board: everyone expected at a site today, built in a handful of queries.

A nurse may give 200 doses in a morning; the board must not cost one query per person.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from harbour.ost.models import Dose, Episode, Prescription, Review
from harbour.ost.services import MISSED_BEFORE_REVIEW, expected_on
from harbour.sites.models import Site

LOOKBACK_DAYS = 30


@dataclass
class Row:
    episode: Episode
    prescription: Prescription
    doses_today: list[Dose] = field(default_factory=list)
    missed_in_a_row: int = 0

    @property
    def given_today(self) -> bool:
        return any(d.taken != Dose.Taken.MISSED for d in self.doses_today)

    @property
    def blocked(self) -> bool:
        return self.missed_in_a_row >= MISSED_BEFORE_REVIEW

    today: dt.date = dt.date.min

    @property
    def take_home_today(self) -> bool:
        return self.today.weekday() in set(self.prescription.take_home_days or [])

    @property
    def status(self) -> str:
        if self.given_today:
            return "given"
        if self.blocked:
            return "blocked"
        return "due"


def build(site: Site, on: dt.date) -> list[Row]:
    expected = expected_on(site, on)
    ids = [episode.pk for episode, _ in expected]
    last_review = dict(
        Review.objects.filter(episode_id__in=ids).order_by("at").values_list("episode_id", "at")
    )
    # History as plain tuples: the board only needs the run of missed doses before today.
    history: dict[object, list[tuple[str, dt.datetime]]] = defaultdict(list)
    for episode_id, taken, recorded_at in (
        Dose.objects.filter(
            episode_id__in=ids, date__gte=on - dt.timedelta(days=LOOKBACK_DAYS), date__lt=on
        )
        .order_by("-date", "-recorded_at")
        .values_list("episode_id", "taken", "recorded_at")
    ):
        history[episode_id].append((taken, recorded_at))
    today_doses: dict[object, list[Dose]] = defaultdict(list)
    for dose in Dose.objects.filter(episode_id__in=ids, date=on).order_by("recorded_at"):
        today_doses[dose.episode_id].append(dose)
    rows = []
    for episode, prescription in expected:
        missed = 0
        reviewed = last_review.get(episode.pk)
        for taken, recorded_at in history[episode.pk]:
            if taken != Dose.Taken.MISSED or (reviewed is not None and recorded_at <= reviewed):
                break
            missed += 1
        row = Row(episode, prescription, today_doses[episode.pk], missed)
        row.today = on
        rows.append(row)
    return rows
