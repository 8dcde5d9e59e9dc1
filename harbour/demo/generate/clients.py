"""Who the clients are and when they come: the clients stream.

Each client's profile, raw UIC, second site and contact dates are drawn here; what
happens in those contacts comes from the services stream (``contacts``).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence

from harbour.clients.models import Gender, YesNoUnknown
from harbour.demo.generate.plans import ClientPlan, ContactPlan
from harbour.demo.generate.rng import draw_uuid, pick
from harbour.demo.generate.scale import Rates
from harbour.demo.generate.sites import REGISTRATION_WEIGHT, SitePlan
from harbour.sites.models import SiteKind

# Clients are registered over the last year (or the whole history, if longer), at
# the demo's rates (``scale.Rates``; a national programme's are longer).
REGISTRATION_DAYS = Rates.registration_days
# Share of clients who also use a second site of their region.
SECOND_SITE_SHARE = 0.15


# First names the UIC letters come from (the first two letters are what counts).
# As prose, easier to read and extend than a list literal.
_MOTHERS = (  # noqa: SIM905
    "Maria Mary Anna Ana Elena Olga Svetlana Natalia Irina Tatiana Fatima Amina Sarah "
    "Susan Linda Patricia Barbara Margaret Karen Nancy Lisa Elizabeth Jennifer Helen "
    "Joyce Grace Mercy Esther Ruth Rose Agnes Janet Joan Julia Judith Claire Catherine "
    "Carmen Rosa Lucia Teresa Sofia Laura Nadia Leila Zainab Aisha Mariam Hana Yuki "
    "Mei Lan Priya Anita Sunita Deborah Dorothy Brenda Pamela Sandra Donna Carol Ruth "
    "Valentina Galina Lyudmila Nina Vera Zoya Monique Nicole Sylvie Ingrid Astrid"
).split()
_FATHERS = (  # noqa: SIM905
    "John James Robert Michael William David Richard Joseph Thomas Charles Daniel "
    "Paul Mark George Peter Andrew Kenneth Steven Edward Brian Ronald Anthony Kevin "
    "Ivan Sergei Alexander Dmitri Nikolai Vladimir Andrei Yuri Oleg Viktor Mohammed "
    "Ahmed Ali Hassan Omar Yusuf Ibrahim Samuel Emmanuel Joseph Moses Isaac Patrick "
    "Francis Henry Carlos Jose Juan Luis Miguel Antonio Manuel Pedro Rafael Marco "
    "Giovanni Luca Pierre Jean Michel Hans Karl Lars Erik Raj Sanjay Arjun Kenji Wei"
).split()
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORDER_DIGITS = "1234567890"
_ORDER_WEIGHTS = (40, 28, 15, 7, 4, 2, 1.5, 1, 1, 0.5)

_GENDERS = (Gender.MALE, Gender.FEMALE, Gender.TRANSGENDER, Gender.OTHER, Gender.UNKNOWN)
_GENDER_WEIGHTS = (71, 23, 2.5, 1, 2.5)
# Sex at birth, as given for the UIC, by recorded gender.
_SEX_AT_BIRTH = {
    Gender.MALE: (("M", "F", "X"), (98, 1, 1)),
    Gender.FEMALE: (("M", "F", "X"), (1, 98, 1)),
    Gender.TRANSGENDER: (("M", "F", "X"), (70, 25, 5)),
    Gender.OTHER: (("M", "F", "X"), (30, 30, 40)),
    Gender.UNKNOWN: (("M", "F", "X"), (60, 25, 15)),
}

# How often a client comes and how long they keep coming: ``scale.Rates``.


def draw_clients(
    rng: random.Random,
    *,
    count: int,
    near_duplicates: int,
    sites: Sequence[SitePlan],
    start: dt.date,
    end: dt.date,
    rates: Rates | None = None,
) -> Iterator[ClientPlan]:
    """``count`` clients with their contact dates and sites, services not yet planned.

    ``sites`` are the service sites. A near-duplicate's ``near_duplicate_of`` is the
    index of the client it repeats. ``rates``: the demo's unless given.
    """
    rates = rates or Rates()
    registration_span = max(rates.registration_days, (end - start).days + 1)
    first_registration = end - dt.timedelta(days=registration_span - 1)
    weights = [REGISTRATION_WEIGHT[s.kind] for s in sites]
    by_code = {s.code: s for s in sites}
    # Near-duplicates come late in the stream, each pointing at an earlier client.
    planted = set(
        rng.sample(range(count // 2, count), near_duplicates)
        if near_duplicates and count >= 2
        else []
    )
    seen: set[str] = set()
    kept: list[ClientPlan] = []  # profiles only, for planting duplicates
    for index in range(count):
        if index in planted and kept:
            original_index = rng.randrange(len(kept))
            plan = _near_duplicate(rng, kept[original_index], seen, sites, end)
            plan.near_duplicate_of = original_index
        else:
            plan = _new_client(rng, seen, sites, weights, first_registration, end)
        _plan_second_site(rng, plan, by_code[plan.site], sites, end)
        _plan_contacts(rng, plan, start, end, rates)
        kept.append(
            ClientPlan(
                plan.id,
                plan.parts,
                plan.gender,
                plan.birth_year,
                plan.injects,
                plan.opioid_dependent,
                plan.site,
                plan.registered_on,
            )
        )
        yield plan


def _new_client(
    rng: random.Random,
    seen: set[str],
    sites: Sequence[SitePlan],
    weights: list[float],
    first_registration: dt.date,
    end: dt.date,
) -> ClientPlan:
    gender = pick(rng, _GENDERS, _GENDER_WEIGHTS)
    birth_year = min(2005, max(1965, round(rng.triangular(1965, 2005, 1987))))
    while True:
        parts = [
            _letters(rng, _MOTHERS),
            _letters(rng, _FATHERS),
            pick(rng, *_SEX_AT_BIRTH[gender]),
            f"{birth_year % 100:02d}",
            pick(rng, _ORDER_DIGITS, _ORDER_WEIGHTS),
        ]
        uic = "".join(parts)
        if uic not in seen:  # two people with one UIC: draw again
            seen.add(uic)
            break
    injects = pick(rng, (YesNoUnknown.YES, YesNoUnknown.NO, YesNoUnknown.UNKNOWN), (76, 19, 5))
    opioid_weights = (68, 20, 12) if injects == YesNoUnknown.YES else (30, 50, 20)
    opioids = pick(rng, (YesNoUnknown.YES, YesNoUnknown.NO, YesNoUnknown.UNKNOWN), opioid_weights)
    site = pick(rng, sites, weights)
    registered_on = first_registration + dt.timedelta(
        days=rng.randrange((end - first_registration).days + 1)
    )
    return ClientPlan(
        id=draw_uuid(rng),
        parts=parts,
        gender=gender,
        birth_year=birth_year,
        injects=injects,
        opioid_dependent=opioids,
        site=site.code,
        registered_on=registered_on,
    )


def _near_duplicate(
    rng: random.Random,
    original: ClientPlan,
    seen: set[str],
    sites: Sequence[SitePlan],
    end: dt.date,
) -> ClientPlan:
    """The same person registered again with one UIC component typed differently."""
    while True:
        parts = list(original.parts)
        position = rng.choice((0, 1, 1, 3, 4, 4))
        if position in (0, 1):
            parts[position] = parts[position][0] + rng.choice(_LETTERS)
        elif position == 3:
            parts[3] = f"{(int(parts[3]) + rng.choice((-1, 1))) % 100:02d}"
        else:
            parts[4] = rng.choice(_ORDER_DIGITS)
        uic = "".join(parts)
        if uic not in seen:
            seen.add(uic)
            break
    others = [s for s in sites if s.code != original.site] or list(sites)
    registered_on = original.registered_on + dt.timedelta(
        days=rng.randrange((end - original.registered_on).days + 1)
    )
    return ClientPlan(
        id=draw_uuid(rng),
        parts=parts,
        gender=original.gender,
        birth_year=original.birth_year,
        injects=original.injects,
        opioid_dependent=original.opioid_dependent,
        site=rng.choice(others).code,
        registered_on=registered_on,
    )


def _letters(rng: random.Random, names: Sequence[str]) -> str:
    if rng.random() < 0.1:  # an unknown parent: the person chooses two letters
        return rng.choice(_LETTERS) + rng.choice(_LETTERS)
    return rng.choice(names)[:2].upper()


def _plan_second_site(
    rng: random.Random,
    plan: ClientPlan,
    home: SitePlan,
    sites: Sequence[SitePlan],
    end: dt.date,
) -> None:
    if home.kind == SiteKind.PRISON or rng.random() >= SECOND_SITE_SHARE:
        return
    nearby = [
        s
        for s in sites
        if s.code != home.code and s.kind != SiteKind.PRISON and s.region == home.region
    ]
    if not nearby:
        return
    plan.second_site = rng.choice(nearby).code
    span = (end - plan.registered_on).days
    plan.second_since = plan.registered_on + dt.timedelta(days=int(span * rng.random() ** 2))


def _plan_contacts(
    rng: random.Random, plan: ClientPlan, start: dt.date, end: dt.date, rates: Rates
) -> None:
    draw = rng.random()
    low, high = rates.visit_patterns[-1][2]
    cumulative = 0.0
    for _, share, gaps in rates.visit_patterns:
        cumulative += share
        if draw < cumulative:
            low, high = gaps
            break
    mean_gap = rng.uniform(low, high)
    retention = int(rng.expovariate(1 / rates.mean_retention_days))
    last = plan.registered_on + dt.timedelta(days=retention)
    last = min(last, end)
    if plan.registered_on >= start:
        day = plan.registered_on  # registration happens at a contact
    else:
        # Visits are memoryless, so the first one in the window is an exponential wait.
        day = start + dt.timedelta(days=int(rng.expovariate(1 / mean_gap)))
    while day <= last:
        site = plan.site
        if (
            plan.second_site
            and plan.second_since is not None
            and day >= plan.second_since
            and rng.random() < 0.3
        ):
            site = plan.second_site
        plan.contacts.append(ContactPlan(draw_uuid(rng), day, site))
        day += dt.timedelta(days=max(1, round(rng.expovariate(1 / mean_gap))))
