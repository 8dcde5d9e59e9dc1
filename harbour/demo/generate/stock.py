"""Stock deliveries, sized from what was handed out: the stock stream, drawn last."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence

from harbour.demo.generate.plans import DeliveryPlan
from harbour.demo.generate.sites import NSP_KINDS, SitePlan

# What each kind of site keeps in stock, with the units a delivery comes in.
PACK = {
    "needle_syringe": 100,
    "naloxone_kit": 10,
    "swab": 100,
    "water_ampoule": 100,
    "cooker": 50,
    "filter": 50,
    "sharps_container": 10,
    "smoking_kit": 20,
    "fentanyl_strip": 50,
    "condom": 100,
    "lubricant": 50,
    "hiv_self_test": 10,
    "information_leaflet": 50,
}
_PRISON_ITEMS = ("information_leaflet", "condom", "lubricant", "hiv_self_test", "naloxone_kit")
# At the main site these run low near the end, so the overview has an order to warn about.
RUNNING_LOW = ("naloxone_kit", "water_ampoule")


def plan_deliveries(
    rng: random.Random,
    *,
    sites: Sequence[SitePlan],
    catalogue: Iterable[str],
    usage: Mapping[tuple[str, str], list[int]],
    main_site: str,
    start: dt.date,
    days: int,
) -> Iterator[DeliveryPlan]:
    """Opening stock and monthly deliveries, sized from what was handed out.

    ``usage``: units handed out per (site, item) and day. Each delivery tops the shelf
    up to a little more than the next month needs, so no balance goes below zero; the
    last leaves weeks of stock at the end, except for the items that run low at the
    main site.
    """
    for site in sites:
        stocked = PACK if site.kind in NSP_KINDS else _PRISON_ITEMS
        for code in catalogue:
            used = usage.get((site.code, code))
            if code not in stocked and used is None:
                continue
            low = site.code == main_site and code in RUNNING_LOW
            yield from _deliveries_of(rng, site.code, code, used or [0] * days, low, start)


def _deliveries_of(
    rng: random.Random,
    site: str,
    code: str,
    usage: list[int],
    low: bool,
    start: dt.date,
) -> Iterator[DeliveryPlan]:
    days = len(usage)  # one entry per day of the programme
    pack = PACK.get(code, 10)
    delivery_days = [0]
    while (next_day := delivery_days[-1] + 30 + rng.randint(-3, 3)) < days:
        delivery_days.append(next_day)
    # What leaves the shelf per day over the last 30 days, as the stock page works it out.
    rate = sum(usage[-30:]) / 30
    on_hand = 0
    for index, day in enumerate(delivery_days):
        last = index == len(delivery_days) - 1
        until = days if last else delivery_days[index + 1]
        needed = sum(usage[day:until])
        if not last:
            wanted = math.ceil(needed * rng.uniform(1.2, 1.5))
        elif low:
            wanted = needed + math.floor(rate * rng.uniform(3, 8))
        else:
            wanted = needed + math.ceil(rate * rng.uniform(25, 75))
        quantity = wanted - on_hand
        if not low:
            quantity = max(pack if index == 0 else 0, math.ceil(quantity / pack) * pack)
        if quantity > 0:
            on_hand += quantity
            yield DeliveryPlan(
                site,
                code,
                start + dt.timedelta(days=day),
                quantity,
                "Opening stock" if index == 0 else "Monthly delivery",
            )
        on_hand -= needed
