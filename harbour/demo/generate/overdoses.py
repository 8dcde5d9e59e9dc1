"""Overdoses: those reported at a contact, and the main site's recent cluster.

The cluster comes from its own stream (``overdoses``); a reported overdose is drawn
from the stream of the contact it was reported at.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator, Sequence

from harbour.clients.models import YesNoUnknown
from harbour.demo.generate.plans import ContactPlan, OverdosePlan
from harbour.demo.generate.rng import draw_uuid, pick
from harbour.visits.models import Overdose

# The main site's recent fortnight: the overview shows overdoses per day over 14 days.
RECENT_DAYS = 14


def overdose_details(rng: random.Random) -> tuple[int, str, str]:
    """Naloxone doses, outcome and whether an ambulance was called."""
    outcome = pick(
        rng,
        (Overdose.Outcome.SURVIVED, Overdose.Outcome.DIED, Overdose.Outcome.UNKNOWN),
        (86, 5, 9),
    )
    if outcome == Overdose.Outcome.SURVIVED:
        doses = pick(rng, (0, 1, 2, 3), (8, 45, 35, 12))
    elif outcome == Overdose.Outcome.DIED:
        doses = pick(rng, (0, 1, 2, 3), (30, 30, 25, 15))
    else:
        doses = pick(rng, (0, 1, 2), (40, 40, 20))
    ems = pick(rng, (YesNoUnknown.YES, YesNoUnknown.NO, YesNoUnknown.UNKNOWN), (45, 35, 20))
    return doses, outcome, ems


def reported_overdose(
    rng: random.Random, contact: ContactPlan, client: uuid.UUID | None, start: dt.date
) -> OverdosePlan:
    """An overdose seen by staff at the contact, or told about by the client or a peer.

    ``start`` is the programme's first day: a told-about overdose is never before it.
    """
    source = pick(rng, list(Overdose.Source), (40, 35, 25))
    date = contact.date
    if source != Overdose.Source.STAFF:
        date = max(start, date - dt.timedelta(days=rng.randrange(7)))
    doses, outcome, ems = overdose_details(rng)
    # A peer tells of someone else; a death is not tied to a client who still visits.
    if source == Overdose.Source.PEER or outcome == Overdose.Outcome.DIED or rng.random() < 0.3:
        client = None
    return OverdosePlan(
        draw_uuid(rng), date, contact.site, client, contact.id, source, doses, outcome, ems
    )


def recent_cluster(
    rng: random.Random,
    *,
    site: str,
    recent: Sequence[tuple[uuid.UUID, dt.date, uuid.UUID | None]],
    end: dt.date,
    days: int,
) -> Iterator[OverdosePlan]:
    """A cluster at ``site`` over the last fortnight, as when a stronger batch reaches town.

    ``recent``: the site's contacts in that fortnight, as (contact, date, client).
    """
    window = min(RECENT_DAYS, days)
    # A handful, fewer where the site saw few people: never most of its contacts.
    for _ in range(min(rng.randint(4, 7), max(2, len(recent) // 25))):
        doses, outcome, ems = overdose_details(rng)
        if recent and rng.random() < 0.5:
            contact, date, client = rng.choice(recent)
            source = Overdose.Source.STAFF
        else:
            contact, client = None, None
            date = end - dt.timedelta(days=rng.randrange(window))
            source = pick(rng, (Overdose.Source.STAFF, Overdose.Source.PEER), (60, 40))
        if outcome == Overdose.Outcome.DIED:
            client = None
        yield OverdosePlan(draw_uuid(rng), date, site, client, contact, source, doses, outcome, ems)
