"""What a programme yields: plain plans that ``harbour.demo.writer`` writes."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple


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


@dataclass(frozen=True)
class PrescriptionPlan:
    valid_from: dt.date
    valid_to: dt.date | None  # the day before the next one; the end date for the last
    dose_mg: Decimal
    phase: str
    take_home_days: tuple[int, ...]
    reason: str


@dataclass
class EpisodePlan:
    id: uuid.UUID
    client: uuid.UUID
    site: str
    medication: str
    start_date: dt.date
    start_context: str
    linked_service: str = ""
    end_date: dt.date | None = None
    end_reason: str = ""
    prescriptions: list[PrescriptionPlan] = field(default_factory=list)  # by valid_from
    missed: frozenset[dt.date] = frozenset()
    dosed_on_end: bool = True  # False: still due (or waiting for a review) on the last day


class DosePlan(NamedTuple):
    date: dt.date
    prescription: PrescriptionPlan
    taken: str


@dataclass(frozen=True)
class TestPlan:
    id: uuid.UUID
    site: str
    date: dt.date
    test: str
    kind: str
    result: str  # blank while a laboratory result is awaited
    counselling: bool
    needs_confirmation: bool = False
    confirms: uuid.UUID | None = None


@dataclass(frozen=True)
class TreatmentPlan:
    id: uuid.UUID
    site: str
    condition: str
    start_date: dt.date
    end_date: dt.date | None
    outcome: str
    provider: str = ""  # blank: on site
    reason: str = ""


class ViralLoadPlan(NamedTuple):
    date: dt.date
    condition: str
    copies_per_ml: int


@dataclass
class CarePlan:
    """A client's tests, treatments and viral loads (the care stream)."""

    tests: list[TestPlan] = field(default_factory=list)
    treatments: list[TreatmentPlan] = field(default_factory=list)
    viral_loads: list[ViralLoadPlan] = field(default_factory=list)


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
    episodes: list[EpisodePlan] = field(default_factory=list)  # OST
    care: CarePlan = field(default_factory=CarePlan)


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
    episodes_ongoing: int = 0
    episodes_ended: int = 0
    prescriptions: int = 0
    doses: int = 0
    tests: int = 0
    treatments: int = 0
    viral_loads: int = 0
    partner_services: int = 0
    caseload: int = 0
    referrals: int = 0
    appointments: int = 0


@dataclass(frozen=True)
class PartnerPlan:
    name: str
    kind: str
    friendly: bool
    address: str
    phone: str  # made up ("+000 …") or blank: never a real number
    hours: str
    notes: str = ""


@dataclass(frozen=True)
class ReferralPlan:
    id: uuid.UUID
    client: uuid.UUID
    kind: str
    service: str | None  # a partner's name
    made_on: dt.date
    status: str
    status_on: dt.date | None
    reason: str = ""


@dataclass(frozen=True)
class AppointmentPlan:
    id: uuid.UUID
    client: uuid.UUID
    at: dt.datetime  # naive, in the programme's time zone
    purpose: str
    referral: uuid.UUID | None = None
    attended: bool | None = None


@dataclass
class CaseworkPlan:
    """The demo case manager's work at the main site (the casework stream)."""

    site: str
    partners: list[PartnerPlan] = field(default_factory=list)
    caseload: list[tuple[uuid.UUID, dt.date]] = field(default_factory=list)  # (client, since)
    referrals: list[ReferralPlan] = field(default_factory=list)
    appointments: list[AppointmentPlan] = field(default_factory=list)
    phones: dict[uuid.UUID, str] = field(default_factory=dict)  # who agreed to reminders
