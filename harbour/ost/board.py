"""The dispensing board: everyone expected at a site today, built in a handful of queries.

A nurse may give 200 doses in a morning; the board must not cost one query per person.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q

from harbour.ost.models import Dose, Episode, Prescription, Review
from harbour.ost.services import MISSED_BEFORE_REVIEW
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
    episodes = list(
        Episode.objects.filter(site=site, start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .select_related("client")
        .order_by("client__code")
    )
    ids = [e.pk for e in episodes]
    current: dict[object, Prescription] = {}
    for p in (
        Prescription.objects.filter(episode_id__in=ids, valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .order_by("valid_from", "created_at")
    ):
        current[p.episode_id] = p  # the latest valid one wins
    last_review = dict(
        Review.objects.filter(episode_id__in=ids).order_by("at").values_list("episode_id", "at")
    )
    history: dict[object, list[tuple[dt.date, str, dt.datetime]]] = defaultdict(list)
    today_doses: dict[object, list[Dose]] = defaultdict(list)
    for dose in Dose.objects.filter(
        episode_id__in=ids, date__gte=on - dt.timedelta(days=LOOKBACK_DAYS), date__lte=on
    ).order_by("-date", "-recorded_at"):
        if dose.date == on:
            today_doses[dose.episode_id].append(dose)
        else:
            history[dose.episode_id].append((dose.date, dose.taken, dose.recorded_at))
    rows = []
    for episode in episodes:
        prescription = current.get(episode.pk)
        if prescription is None:
            continue
        missed = 0
        reviewed = last_review.get(episode.pk)
        for _, taken, recorded_at in history[episode.pk]:
            if taken != Dose.Taken.MISSED or (reviewed is not None and recorded_at <= reviewed):
                break
            missed += 1
        row = Row(episode, prescription, today_doses[episode.pk], missed)
        row.today = on
        rows.append(row)
    return rows
