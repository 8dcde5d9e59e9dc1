"""A made-up harm reduction programme, drawn from a seeded random generator.

Nothing here touches the database: ``Programme`` yields plans (sites, clients with
their contacts, anonymous contacts) that ``harbour.demo.services`` writes in
batches. Everything comes from ``random.Random`` seeded with the programme's seed,
in a fixed order that does not depend on batch sizes, so the same seed and end date
always give the same programme, whether it has 50 clients or 100,000.

The raw UICs exist only in memory here (``Programme.uics``, for tests to check that
none of them reaches the database); the writer stores keyed digests only.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from harbour.clients.models import Gender, YesNoUnknown
from harbour.sites.models import SiteKind

T = TypeVar("T")

# Clients are registered over the last year (or the whole history, if longer).
REGISTRATION_DAYS = 365
# Share of all contacts where the person stays anonymous.
ANONYMOUS_SHARE = 0.22
# Share of clients who also use a second site of their region.
SECOND_SITE_SHARE = 0.15

REGIONS = (("NORTH", "Northern region"), ("SOUTH", "Southern region"))


@dataclass(frozen=True)
class SitePlan:
    code: str
    name: str
    kind: str
    region: str  # the parent region's code; empty for a region


# The first sites, in order: a small programme already has every kind of site.
_FIRST_SITES = (
    ("DAR-01", "Darrow Harbour Centre", SiteKind.FIXED, "NORTH"),
    ("MIL-01", "Millport Harbour Centre", SiteKind.FIXED, "SOUTH"),
    ("DAR-02", "Quay Street Drop-in, Darrow", SiteKind.DROP_IN, "NORTH"),
    ("MIL-02", "Millport street outreach", SiteKind.OUTREACH, "SOUTH"),
    ("DAR-03", "Darrow drug consumption room", SiteKind.DCR, "NORTH"),
    ("MIL-03", "Station Road Pharmacy, Millport", SiteKind.PHARMACY, "SOUTH"),
    ("KEL-01", "Kelby mobile unit", SiteKind.MOBILE, "NORTH"),
    ("MIL-04", "Millport prison health service", SiteKind.PRISON, "SOUTH"),
)

# Further towns, alternating between the regions.
_TOWNS = (
    ("ASH", "Ashford Vale"),
    ("EAS", "Eastwick"),
    ("BRN", "Brinmouth"),
    ("TOR", "Torrin"),
    ("GLE", "Glenhope"),
    ("HAL", "Halden"),
    ("NEW", "Newmarsh"),
    ("RIV", "Riverton"),
    ("STO", "Stonebridge"),
    ("WES", "Westfold"),
    ("COR", "Corrick"),
    ("FAL", "Falmere"),
    ("LIN", "Linford"),
    ("PEN", "Penhallow"),
    ("SEL", "Selby Cross"),
    ("WIN", "Winterby"),
)
_TOWN_KINDS = (SiteKind.FIXED, SiteKind.OUTREACH, SiteKind.PHARMACY, SiteKind.DROP_IN)
_PHARMACIES = ("High Street Pharmacy", "Market Square Pharmacy", "Bridge Pharmacy")


def _town_site_name(town: str, kind: str, index: int) -> str:
    if kind == SiteKind.FIXED:
        return f"{town} Harbour Centre"
    if kind == SiteKind.OUTREACH:
        return f"{town} street outreach"
    if kind == SiteKind.PHARMACY:
        return f"{_PHARMACIES[index % len(_PHARMACIES)]}, {town}"
    return f"{town} Drop-in"


def site_layout(count: int) -> list[SitePlan]:
    """Two regions, then ``count`` service sites with believable names and codes."""
    plans = [SitePlan(code, name, SiteKind.REGION, "") for code, name in REGIONS]
    for code, name, kind, region in _FIRST_SITES[:count]:
        plans.append(SitePlan(code, name, kind, region))
    extra = count - len(_FIRST_SITES)
    round_ = 0
    while extra > 0:
        for town_index, (prefix, town) in enumerate(_TOWNS):
            region = REGIONS[town_index % 2][0]
            for kind_index, kind in enumerate(_TOWN_KINDS):
                if extra <= 0:
                    break
                number = round_ * len(_TOWN_KINDS) + kind_index + 1
                plans.append(
                    SitePlan(
                        f"{prefix}-{number:02d}",
                        _town_site_name(town, kind, town_index)
                        + (f" {round_ + 1}" if round_ else ""),
                        kind,
                        region,
                    )
                )
                extra -= 1
            if extra <= 0:
                break
        round_ += 1
    return plans


# Where people register, by kind of site.
_REGISTRATION_WEIGHT: dict[str, float] = {
    SiteKind.FIXED: 3.0,
    SiteKind.DROP_IN: 2.5,
    SiteKind.DCR: 1.5,
    SiteKind.OUTREACH: 2.0,
    SiteKind.PHARMACY: 1.0,
    SiteKind.PRISON: 0.6,
    SiteKind.MOBILE: 1.5,
}
# Where anonymous contacts happen: street and pharmacy work is often anonymous.
_ANONYMOUS_WEIGHT: dict[str, float] = {
    SiteKind.FIXED: 1.0,
    SiteKind.DROP_IN: 1.5,
    SiteKind.DCR: 1.0,
    SiteKind.OUTREACH: 3.0,
    SiteKind.PHARMACY: 3.0,
    SiteKind.PRISON: 0.2,
    SiteKind.MOBILE: 2.5,
}

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

# How often a client comes: (share of clients, mean days between contacts).
_PATTERNS = (
    ("regular", 0.30, (2.0, 6.0)),
    ("occasional", 0.45, (8.0, 30.0)),
    ("rare", 0.25, (45.0, 120.0)),
)
# Mean days a client keeps coming after registering.
_MEAN_RETENTION_DAYS = 400.0


@dataclass
class ContactPlan:
    id: uuid.UUID
    date: dt.date
    site: str  # site code


@dataclass
class ClientPlan:
    id: uuid.UUID
    parts: list[str]  # the raw UIC components: in memory only, never stored
    gender: str
    birth_year: int
    injects: str
    opioid_dependent: str
    site: str
    registered_on: dt.date
    second_site: str = ""
    second_since: dt.date | None = None
    near_duplicate_of: int | None = None  # index of the client this record duplicates
    contacts: list[ContactPlan] = field(default_factory=list)


@dataclass
class Counts:
    clients: int = 0
    client_contacts: int = 0
    anonymous_contacts: int = 0
    second_site_links: int = 0
    near_duplicates: int = 0


class Programme:
    """The plan of a seeded programme. Iterate ``clients()`` once, then ``anonymous_contacts()``."""

    def __init__(
        self,
        *,
        seed: int,
        sites: int,
        clients: int,
        days: int,
        end: dt.date,
        near_duplicates: int | None = None,
    ) -> None:
        if sites < 1:
            raise ValueError("A programme needs at least one site.")
        if clients < 0 or days < 1:
            raise ValueError("Clients cannot be negative and days must be at least 1.")
        self.seed = seed
        self.client_count = clients
        self.days = days
        self.end = end
        self.start = end - dt.timedelta(days=days - 1)
        self.sites = site_layout(sites)
        self.service_sites = [s for s in self.sites if s.kind != SiteKind.REGION]
        self._by_code = {s.code: s for s in self.service_sites}
        if near_duplicates is None:
            near_duplicates = clients // 200 if clients >= 400 else min(2, clients // 10)
        self.near_duplicate_count = near_duplicates
        self.uics: list[str] = []  # for tests: what must never appear in storage
        self.near_duplicate_pairs: list[tuple[int, int]] = []  # (duplicate, original) indexes
        self.counts = Counts()
        # One generator per stream, each seeded from the programme's seed, so adding
        # anonymous contacts never shifts the clients drawn before them.
        self._client_rng = random.Random(f"{seed}:clients")  # noqa: S311 - demo data, not secrets
        self._anon_rng = random.Random(f"{seed}:anonymous")  # noqa: S311 - demo data, not secrets

    # -- clients ----------------------------------------------------------------------

    def clients(self) -> Iterator[ClientPlan]:
        rng = self._client_rng
        registration_span = max(REGISTRATION_DAYS, self.days)
        first_registration = self.end - dt.timedelta(days=registration_span - 1)
        weights = [_REGISTRATION_WEIGHT[s.kind] for s in self.service_sites]
        # Near-duplicates come late in the stream, each pointing at an earlier client.
        planted = set(
            rng.sample(range(self.client_count // 2, self.client_count), self.near_duplicate_count)
            if self.near_duplicate_count and self.client_count >= 2
            else []
        )
        seen: set[str] = set()
        kept: list[ClientPlan] = []  # profiles only, for planting duplicates
        for index in range(self.client_count):
            original = None
            if index in planted and kept:
                original_index = rng.randrange(len(kept))
                original = kept[original_index]
                plan = self._near_duplicate(rng, original, seen)
                plan.near_duplicate_of = original_index
                self.near_duplicate_pairs.append((index, original_index))
            else:
                plan = self._new_client(rng, seen, first_registration, weights)
            self._plan_second_site(rng, plan)
            self._plan_contacts(rng, plan)
            self.uics.append("".join(plan.parts))
            self.counts.clients += 1
            self.counts.client_contacts += len(plan.contacts)
            if plan.second_site:
                self.counts.second_site_links += 1
            if original is not None:
                self.counts.near_duplicates += 1
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
        self,
        rng: random.Random,
        seen: set[str],
        first_registration: dt.date,
        weights: list[float],
    ) -> ClientPlan:
        gender = _pick(rng, _GENDERS, _GENDER_WEIGHTS)
        birth_year = min(2005, max(1965, round(rng.triangular(1965, 2005, 1987))))
        while True:
            parts = [
                self._letters(rng, _MOTHERS),
                self._letters(rng, _FATHERS),
                _pick(rng, *_SEX_AT_BIRTH[gender]),
                f"{birth_year % 100:02d}",
                _pick(rng, _ORDER_DIGITS, _ORDER_WEIGHTS),
            ]
            uic = "".join(parts)
            if uic not in seen:  # two people with one UIC: draw again
                seen.add(uic)
                break
        injects = _pick(rng, (YesNoUnknown.YES, YesNoUnknown.NO, YesNoUnknown.UNKNOWN), (76, 19, 5))
        opioid_weights = (68, 20, 12) if injects == YesNoUnknown.YES else (30, 50, 20)
        opioids = _pick(
            rng, (YesNoUnknown.YES, YesNoUnknown.NO, YesNoUnknown.UNKNOWN), opioid_weights
        )
        site = _pick(rng, self.service_sites, weights)
        registered_on = first_registration + dt.timedelta(
            days=rng.randrange((self.end - first_registration).days + 1)
        )
        return ClientPlan(
            id=_uuid(rng),
            parts=parts,
            gender=gender,
            birth_year=birth_year,
            injects=injects,
            opioid_dependent=opioids,
            site=site.code,
            registered_on=registered_on,
        )

    def _near_duplicate(
        self,
        rng: random.Random,
        original: ClientPlan,
        seen: set[str],
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
        others = [s for s in self.service_sites if s.code != original.site] or self.service_sites
        registered_on = original.registered_on + dt.timedelta(
            days=rng.randrange((self.end - original.registered_on).days + 1)
        )
        return ClientPlan(
            id=_uuid(rng),
            parts=parts,
            gender=original.gender,
            birth_year=original.birth_year,
            injects=original.injects,
            opioid_dependent=original.opioid_dependent,
            site=rng.choice(others).code,
            registered_on=registered_on,
        )

    def _letters(self, rng: random.Random, names: Sequence[str]) -> str:
        if rng.random() < 0.1:  # an unknown parent: the person chooses two letters
            return rng.choice(_LETTERS) + rng.choice(_LETTERS)
        return rng.choice(names)[:2].upper()

    def _plan_second_site(self, rng: random.Random, plan: ClientPlan) -> None:
        home = self._by_code[plan.site]
        if home.kind == SiteKind.PRISON or rng.random() >= SECOND_SITE_SHARE:
            return
        nearby = [
            s
            for s in self.service_sites
            if s.code != home.code and s.kind != SiteKind.PRISON and s.region == home.region
        ]
        if not nearby:
            return
        plan.second_site = rng.choice(nearby).code
        span = (self.end - plan.registered_on).days
        plan.second_since = plan.registered_on + dt.timedelta(days=int(span * rng.random() ** 2))

    def _plan_contacts(self, rng: random.Random, plan: ClientPlan) -> None:
        draw = rng.random()
        low, high = _PATTERNS[-1][2]
        cumulative = 0.0
        for _, share, gaps in _PATTERNS:
            cumulative += share
            if draw < cumulative:
                low, high = gaps
                break
        mean_gap = rng.uniform(low, high)
        last = plan.registered_on + dt.timedelta(
            days=int(rng.expovariate(1 / _MEAN_RETENTION_DAYS))
        )
        last = min(last, self.end)
        if plan.registered_on >= self.start:
            day = plan.registered_on  # registration happens at a contact
        else:
            # Visits are memoryless, so the first one in the window is an exponential wait.
            day = self.start + dt.timedelta(days=int(rng.expovariate(1 / mean_gap)))
        while day <= last:
            site = plan.site
            if (
                plan.second_site
                and plan.second_since is not None
                and day >= plan.second_since
                and rng.random() < 0.3
            ):
                site = plan.second_site
            plan.contacts.append(ContactPlan(_uuid(rng), day, site))
            day += dt.timedelta(days=max(1, round(rng.expovariate(1 / mean_gap))))

    # -- anonymous contacts -----------------------------------------------------------

    def anonymous_contacts(self) -> Iterator[ContactPlan]:
        """About ANONYMOUS_SHARE of all contacts; call after ``clients()`` is exhausted."""
        rng = self._anon_rng
        total = round(self.counts.client_contacts * ANONYMOUS_SHARE / (1 - ANONYMOUS_SHARE))
        weights = [_ANONYMOUS_WEIGHT[s.kind] for s in self.service_sites]
        codes = [s.code for s in self.service_sites]
        for _ in range(total):
            day = self.start + dt.timedelta(days=rng.randrange(self.days))
            site = rng.choices(codes, weights)[0]
            self.counts.anonymous_contacts += 1
            yield ContactPlan(_uuid(rng), day, site)


def _pick(rng: random.Random, values: Sequence[T], weights: Sequence[float]) -> T:
    return rng.choices(values, weights)[0]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)
