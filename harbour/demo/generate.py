"""A made-up harm reduction programme, drawn from a seeded random generator.

Nothing here touches the database: ``Programme`` yields plans (sites, clients with
their contacts, anonymous contacts, a recent cluster of overdoses, stock deliveries)
that ``harbour.demo.services`` writes in batches. Everything comes from
``random.Random`` seeded with the programme's seed, in a fixed order that does not
depend on batch sizes, so the same seed, end date and catalogue always give the same
programme, whether it has 50 clients or 100,000.

What happens in each contact (equipment handed out, information, drop-in services,
consumption sessions, overdoses) is drawn from its own stream, so it never shifts the
clients and contact dates drawn before it.

The raw UICs exist only in memory here (``Programme.uics``, for tests to check that
none of them reaches the database); the writer stores keyed digests only.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from harbour.clients.models import Gender, YesNoUnknown
from harbour.sites.models import SiteKind
from harbour.visits.models import Overdose
from harbour.visits.services import DROPIN_SERVICES, INFO_TOPICS

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


# -- what happens in a contact ----------------------------------------------------------

# Sites with a needle and syringe programme. Prisons here hand out information,
# condoms and tests, not injecting equipment.
_NSP_KINDS = frozenset(SiteKind) - {SiteKind.REGION, SiteKind.PRISON}
# What each kind of site keeps in stock, with the units a delivery comes in.
_PACK = {
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
# Overdoses: about one per 450 contacts, plus those in consumption sessions.
_OVERDOSE_PER_CONTACT = 1 / 450
_DCR_SESSION_SHARE = 0.8
_DCR_OVERDOSE_PER_SESSION = 0.005
# The main site's recent fortnight: the overview shows overdoses per day over 14 days.
RECENT_DAYS = 14

_TOPIC_WEIGHT = {
    "safer_injecting": 5,
    "overdose": 5,
    "drug_checking": 2,
    "vein_care": 4,
    "hiv_hepatitis": 3,
    "sexual_health": 2,
    "rights": 1,
    "ost": 2,
}
_TOPICS = [code for code, _ in INFO_TOPICS]
_TOPIC_WEIGHTS = [_TOPIC_WEIGHT.get(code, 1) for code in _TOPICS]
# Chance that a drop-in visitor uses each service.
_DROPIN_SHARE = {
    "meal": 0.7,
    "shower": 0.35,
    "laundry": 0.2,
    "rest": 0.3,
    "computer": 0.2,
    "childcare": 0.03,
}
_DROPIN = [(code, _DROPIN_SHARE.get(code, 0.1)) for code, _ in DROPIN_SERVICES]
# Weekday of the women-only afternoon, in turn for each fixed site and drop-in.
_WOMEN_ONLY_DAYS = (1, 3, 0, 2, 4)  # Tuesday, Thursday, Monday, Wednesday, Friday
WOMEN_ONLY_SESSION = "Women-only afternoon"


@dataclass(frozen=True)
class LinePlan:
    item: str  # catalogue code
    quantity: int
    option: str = ""
    secondary: bool = False  # taken to pass on to others


@dataclass(frozen=True)
class ConsumptionPlan:
    started: dt.time
    ended: dt.time
    overdose: bool = False
    response: str = ""


@dataclass(frozen=True)
class OverdosePlan:
    id: uuid.UUID
    date: dt.date
    site: str
    client: uuid.UUID | None
    contact: uuid.UUID | None
    source: str
    naloxone_doses: int
    outcome: str
    ems_called: str


@dataclass(frozen=True)
class SessionPlan:
    site: str
    name: str
    weekday: int
    starts: dt.time
    ends: dt.time
    women_only: bool


@dataclass(frozen=True)
class DeliveryPlan:
    site: str
    item: str
    date: dt.date
    quantity: int
    reason: str


@dataclass
class ContactPlan:
    id: uuid.UUID
    date: dt.date
    site: str  # site code
    lines: list[LinePlan] = field(default_factory=list)
    info_topics: list[str] = field(default_factory=list)
    naloxone_training: bool = False
    dropin_services: list[str] = field(default_factory=list)
    returned_equipment: int | None = None
    women_only: bool = False  # in the site's women-only session
    consumption: ConsumptionPlan | None = None
    overdoses: list[OverdosePlan] = field(default_factory=list)


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
    distributions: int = 0
    secondary_distributions: int = 0
    consumption_sessions: int = 0
    overdoses: int = 0
    deliveries: int = 0


class Programme:
    """The plan of a seeded programme.

    Iterate ``clients()`` once, then ``anonymous_contacts()``, ``recent_overdoses()``
    and ``deliveries()``, in that order: each stream picks up where the last left off.
    """

    def __init__(
        self,
        *,
        seed: int,
        sites: int,
        clients: int,
        days: int,
        end: dt.date,
        near_duplicates: int | None = None,
        catalogue: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """``catalogue``: the active catalogue's codes, in order, with their options."""
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
        # Where the demo's front-line users work, and where the recent story happens.
        self.main_site = next(
            (s for s in self.service_sites if s.kind == SiteKind.FIXED), self.service_sites[0]
        )
        self.catalogue = {
            code: list(options)
            for code, options in (
                catalogue if catalogue is not None else {c: [] for c in _PACK}
            ).items()
        }
        self.sessions = self._plan_sessions()
        self._women_only_day = {s.site: s.weekday for s in self.sessions if s.women_only}
        # Units handed out per (site, item) and day, for sizing the deliveries.
        self._usage: dict[tuple[str, str], list[int]] = {}
        # Contacts at the main site in its recent fortnight: (contact, date, client).
        self._recent: list[tuple[uuid.UUID, dt.date, uuid.UUID | None]] = []
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
        self._services_rng = random.Random(f"{seed}:services")  # noqa: S311 - demo data, not secrets
        self._overdose_rng = random.Random(f"{seed}:overdoses")  # noqa: S311 - demo data, not secrets
        self._stock_rng = random.Random(f"{seed}:stock")  # noqa: S311 - demo data, not secrets

    def _plan_sessions(self) -> list[SessionPlan]:
        with_sessions = [
            s for s in self.service_sites if s.kind in (SiteKind.FIXED, SiteKind.DROP_IN)
        ]
        return [
            SessionPlan(
                site.code,
                WOMEN_ONLY_SESSION,
                _WOMEN_ONLY_DAYS[index % len(_WOMEN_ONLY_DAYS)],
                dt.time(14),
                dt.time(17),
                women_only=True,
            )
            for index, site in enumerate(with_sessions)
        ]

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
            for contact in plan.contacts:
                self._plan_services(contact, plan.id, plan.injects, plan.gender)
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
            contact = ContactPlan(_uuid(rng), day, site)
            self._plan_services(contact, None, YesNoUnknown.UNKNOWN, Gender.UNKNOWN)
            yield contact

    # -- what happens in a contact ---------------------------------------------------

    def _plan_services(
        self, contact: ContactPlan, client: uuid.UUID | None, injects: str, gender: str
    ) -> None:
        rng = self._services_rng
        kind = self._by_code[contact.site].kind
        if injects == YesNoUnknown.UNKNOWN:
            injecting = rng.random() < 0.7
        else:
            injecting = injects == YesNoUnknown.YES
        lines: list[LinePlan] = []
        if kind in _NSP_KINDS:
            self._nsp_lines(rng, contact, lines, injecting, kind)
            topics_share = 0.18
        else:
            _prison_lines(rng, lines)
            topics_share = 0.6
        if rng.random() < topics_share:
            count = _pick(rng, (1, 2, 3), (70, 25, 5))
            contact.info_topics = sorted(
                {_pick(rng, _TOPICS, _TOPIC_WEIGHTS) for _ in range(count)}
            )
        if rng.random() < 0.03:
            contact.naloxone_training = True  # and the kit that goes with it
            if not any(line.item == "naloxone_kit" for line in lines):
                lines.append(LinePlan("naloxone_kit", 1))
        if kind == SiteKind.DROP_IN and rng.random() < 0.5:
            chosen = [code for code, share in _DROPIN if rng.random() < share]
            contact.dropin_services = chosen or [_DROPIN[0][0]]
        if kind == SiteKind.DCR and rng.random() < _DCR_SESSION_SHARE:
            self._consumption(rng, contact, client)
        women_day = self._women_only_day.get(contact.site)
        if (
            women_day == contact.date.weekday()
            and gender in (Gender.FEMALE, Gender.TRANSGENDER)
            and rng.random() < 0.6
        ):
            contact.women_only = True
        if rng.random() < _OVERDOSE_PER_CONTACT:
            overdose = self._reported_overdose(rng, contact, client)
            contact.overdoses.append(overdose)
            # Someone who used their naloxone kit on a person gets a new one.
            if (
                overdose.source != Overdose.Source.STAFF
                and overdose.naloxone_doses
                and kind in _NSP_KINDS
                and not any(line.item == "naloxone_kit" for line in lines)
            ):
                lines.append(LinePlan("naloxone_kit", 1))
        self._account(contact, lines, client)

    def _nsp_lines(
        self,
        rng: random.Random,
        contact: ContactPlan,
        lines: list[LinePlan],
        injecting: bool,
        kind: str,
    ) -> None:
        if injecting:
            if rng.random() < 0.88:
                needles = 5 * rng.randint(2, 8)
                options = self.catalogue.get("needle_syringe", [])
                first = _option(rng.random(), options)
                lines.append(LinePlan("needle_syringe", needles, first))
                if rng.random() < 0.15:  # a second size, e.g. for another site of injection
                    other = _option(rng.random(), options)
                    if other != first:
                        lines.append(LinePlan("needle_syringe", 5 * rng.randint(1, 4), other))
                if rng.random() < 0.92:
                    lines.append(LinePlan("swab", max(5, needles + 5 * rng.randint(-1, 2))))
                if rng.random() < 0.85:
                    lines.append(
                        LinePlan("water_ampoule", max(5, needles + 5 * rng.randint(-2, 1)))
                    )
                cookers = rng.random() < 0.35
                if cookers:
                    lines.append(LinePlan("cooker", 5 * rng.randint(1, 4)))
                if rng.random() < (0.8 if cookers else 0.15):
                    lines.append(LinePlan("filter", 5 * rng.randint(1, 4)))
                if rng.random() < 0.08:
                    lines.append(LinePlan("sharps_container", 1))
                if rng.random() < 0.3:  # used equipment brought back, never a condition
                    contact.returned_equipment = max(1, round(needles * rng.uniform(0.3, 1.3)))
                if rng.random() < 0.12:
                    others = 10 * rng.randint(2, 10)
                    lines.append(
                        LinePlan("needle_syringe", others, _option(rng.random(), options), True)
                    )
                    lines.append(LinePlan("swab", others, secondary=True))
                    if rng.random() < 0.2:
                        lines.append(LinePlan("naloxone_kit", 1, secondary=True))
            if rng.random() < 0.08:
                lines.append(LinePlan("smoking_kit", rng.randint(1, 3)))
        else:
            if rng.random() < 0.7:
                lines.append(LinePlan("smoking_kit", rng.randint(1, 4)))
            if rng.random() < 0.12:
                lines.append(LinePlan("smoking_kit", 5 * rng.randint(1, 3), secondary=True))
        if rng.random() < 0.15:
            lines.append(LinePlan("fentanyl_strip", rng.choice((2, 5, 5, 10))))
        if rng.random() < 0.45:
            lines.append(LinePlan("condom", rng.choice((5, 10, 10, 20))))
            if rng.random() < 0.3:
                lines.append(LinePlan("lubricant", rng.choice((2, 5, 5, 10))))
        if rng.random() < 0.02:
            lines.append(LinePlan("naloxone_kit", 1))
        if rng.random() < 0.1:
            lines.append(LinePlan("information_leaflet", 1))
        if kind in (SiteKind.FIXED, SiteKind.DROP_IN) and rng.random() < 0.02:
            lines.append(LinePlan("hiv_self_test", 1))

    def _consumption(
        self, rng: random.Random, contact: ContactPlan, client: uuid.UUID | None
    ) -> None:
        start = dt.datetime.combine(
            contact.date, dt.time(rng.randint(9, 19), 5 * rng.randrange(12))
        )
        end = start + dt.timedelta(minutes=rng.randint(15, 60))
        if rng.random() >= _DCR_OVERDOSE_PER_SESSION:
            contact.consumption = ConsumptionPlan(start.time(), end.time())
            return
        # Staff are right there: oxygen first, naloxone when breathing does not come back.
        doses = _pick(rng, (0, 1, 2), (45, 40, 15))
        ems = _pick(rng, (YesNoUnknown.YES, YesNoUnknown.NO), (25, 75))
        response = "oxygen and naloxone" if doses else "oxygen and rescue breathing"
        if ems == YesNoUnknown.YES:
            response += ", ambulance called"
        contact.consumption = ConsumptionPlan(start.time(), end.time(), True, response)
        contact.overdoses.append(
            OverdosePlan(
                _uuid(rng),
                contact.date,
                contact.site,
                client,
                contact.id,
                Overdose.Source.STAFF,
                doses,
                Overdose.Outcome.SURVIVED,
                ems,
            )
        )

    def _reported_overdose(
        self, rng: random.Random, contact: ContactPlan, client: uuid.UUID | None
    ) -> OverdosePlan:
        """An overdose seen by staff at the contact, or told about by the client or a peer."""
        source = _pick(rng, list(Overdose.Source), (40, 35, 25))
        date = contact.date
        if source != Overdose.Source.STAFF:
            date = max(self.start, date - dt.timedelta(days=rng.randrange(7)))
        doses, outcome, ems = _overdose_details(rng)
        # A peer tells of someone else; a death is not tied to a client who still visits.
        if source == Overdose.Source.PEER or outcome == Overdose.Outcome.DIED or rng.random() < 0.3:
            client = None
        return OverdosePlan(
            _uuid(rng), date, contact.site, client, contact.id, source, doses, outcome, ems
        )

    def _account(
        self, contact: ContactPlan, lines: list[LinePlan], client: uuid.UUID | None
    ) -> None:
        # Drawn whether or not the item is in the catalogue, so retiring one item
        # does not change everything drawn after it.
        contact.lines = [line for line in lines if line.item in self.catalogue]
        day = (contact.date - self.start).days
        for line in contact.lines:
            usage = self._usage.setdefault((contact.site, line.item), [0] * self.days)
            usage[day] += line.quantity
            self.counts.secondary_distributions += line.secondary
        self.counts.distributions += len(contact.lines)
        self.counts.consumption_sessions += contact.consumption is not None
        self.counts.overdoses += len(contact.overdoses)
        if contact.site == self.main_site.code and day >= self.days - RECENT_DAYS:
            self._recent.append((contact.id, contact.date, client))

    # -- the main site's recent fortnight ---------------------------------------------

    def recent_overdoses(self) -> Iterator[OverdosePlan]:
        """A cluster at the main site over the last fortnight, as when a stronger batch
        reaches town; call after ``anonymous_contacts()``."""
        rng = self._overdose_rng
        window = min(RECENT_DAYS, self.days)
        # A handful, fewer where the site saw few people: never most of its contacts.
        for _ in range(min(rng.randint(4, 7), max(2, len(self._recent) // 25))):
            doses, outcome, ems = _overdose_details(rng)
            if self._recent and rng.random() < 0.5:
                contact, date, client = rng.choice(self._recent)
                source = Overdose.Source.STAFF
            else:
                contact, client = None, None
                date = self.end - dt.timedelta(days=rng.randrange(window))
                source = _pick(rng, (Overdose.Source.STAFF, Overdose.Source.PEER), (60, 40))
            if outcome == Overdose.Outcome.DIED:
                client = None
            self.counts.overdoses += 1
            yield OverdosePlan(
                _uuid(rng),
                date,
                self.main_site.code,
                client,
                contact,
                source,
                doses,
                outcome,
                ems,
            )

    # -- stock ------------------------------------------------------------------------

    def deliveries(self) -> Iterator[DeliveryPlan]:
        """Opening stock and monthly deliveries, sized from what was handed out.

        Each delivery tops the shelf up to a little more than the next month needs, so
        no balance goes below zero; the last leaves weeks of stock at the end, except
        for the items that run low at the main site. Call after everything else.
        """
        rng = self._stock_rng
        for site in self.service_sites:
            stocked = _PACK if site.kind in _NSP_KINDS else _PRISON_ITEMS
            for code in self.catalogue:
                usage = self._usage.get((site.code, code))
                if code not in stocked and usage is None:
                    continue
                low = site.code == self.main_site.code and code in RUNNING_LOW
                yield from self._deliveries_of(rng, site.code, code, usage, low)

    def _deliveries_of(
        self,
        rng: random.Random,
        site: str,
        code: str,
        usage: list[int] | None,
        low: bool,
    ) -> Iterator[DeliveryPlan]:
        usage = usage or [0] * self.days
        pack = _PACK.get(code, 10)
        days = [0]
        while (next_day := days[-1] + 30 + rng.randint(-3, 3)) < self.days:
            days.append(next_day)
        # What leaves the shelf per day over the last 30 days, as the stock page works it out.
        rate = sum(usage[-30:]) / 30
        on_hand = 0
        for index, day in enumerate(days):
            last = index == len(days) - 1
            until = self.days if last else days[index + 1]
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
                self.counts.deliveries += 1
                yield DeliveryPlan(
                    site,
                    code,
                    self.start + dt.timedelta(days=day),
                    quantity,
                    "Opening stock" if index == 0 else "Monthly delivery",
                )
            on_hand -= needed


def _prison_lines(rng: random.Random, lines: list[LinePlan]) -> None:
    if rng.random() < 0.6:
        lines.append(LinePlan("information_leaflet", rng.randint(1, 2)))
    if rng.random() < 0.5:
        lines.append(LinePlan("condom", rng.choice((3, 5, 5, 10))))
        if rng.random() < 0.3:
            lines.append(LinePlan("lubricant", rng.choice((2, 5))))
    if rng.random() < 0.12:
        lines.append(LinePlan("hiv_self_test", 1))
    if rng.random() < 0.03:  # the weeks after release are when overdoses are most deadly
        lines.append(LinePlan("naloxone_kit", 1))


def _overdose_details(rng: random.Random) -> tuple[int, str, str]:
    """Naloxone doses, outcome and whether an ambulance was called."""
    outcome = _pick(
        rng,
        (Overdose.Outcome.SURVIVED, Overdose.Outcome.DIED, Overdose.Outcome.UNKNOWN),
        (86, 5, 9),
    )
    if outcome == Overdose.Outcome.SURVIVED:
        doses = _pick(rng, (0, 1, 2, 3), (8, 45, 35, 12))
    elif outcome == Overdose.Outcome.DIED:
        doses = _pick(rng, (0, 1, 2, 3), (30, 30, 25, 15))
    else:
        doses = _pick(rng, (0, 1, 2), (40, 40, 20))
    ems = _pick(rng, (YesNoUnknown.YES, YesNoUnknown.NO, YesNoUnknown.UNKNOWN), (45, 35, 20))
    return doses, outcome, ems


def _option(draw: float, options: Sequence[str]) -> str:
    """Mostly the first option (the usual choice), else one of the others."""
    if not options:
        return ""
    if draw < 0.65 or len(options) == 1:
        return options[0]
    return options[1 + int((draw - 0.65) / 0.35 * (len(options) - 1))]


def _pick(rng: random.Random, values: Sequence[T], weights: Sequence[float]) -> T:
    return rng.choices(values, weights)[0]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)
