"""What a programme yields: plain plans that ``harbour.demo.services`` writes."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field


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
