"""``Programme``: the streams of a seeded programme, drawn in a fixed order."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Mapping, Sequence

from harbour.clients.models import Gender, YesNoUnknown
from harbour.demo.generate.care import CarePlanner
from harbour.demo.generate.casework import plan_casework
from harbour.demo.generate.clients import draw_clients
from harbour.demo.generate.contacts import ANONYMOUS_SHARE, draw_anonymous, plan_services
from harbour.demo.generate.ost import OstPlanner, dose_count
from harbour.demo.generate.overdoses import RECENT_DAYS, recent_cluster
from harbour.demo.generate.plans import (
    CaseworkPlan,
    ClientPlan,
    ContactPlan,
    Counts,
    DeliveryPlan,
    LinePlan,
    OverdosePlan,
)
from harbour.demo.generate.rng import stream
from harbour.demo.generate.scale import Rates
from harbour.demo.generate.sites import SessionPlan, plan_sessions, site_layout
from harbour.demo.generate.stock import PACK, plan_deliveries
from harbour.sites.models import SiteKind


class Programme:
    """The plan of a seeded programme.

    Iterate ``clients()`` once, then ``anonymous_contacts()``, ``recent_overdoses()``
    and ``deliveries()``, in that order: each stream picks up where the last left off;
    then, for the demo, ``casework()``. Each client comes with their OST episodes
    (``ost.doses`` gives an episode's doses) and their tests, treatments and viral loads.
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
        rates: Rates | None = None,
    ) -> None:
        """``catalogue``: the active catalogue's codes, in order, with their options;
        ``rates``: how busy it is (``scale.Rates``; the demo's unless given)."""
        if sites < 1:
            raise ValueError("A programme needs at least one site.")
        if clients < 0 or days < 1:
            raise ValueError("Clients cannot be negative and days must be at least 1.")
        self.seed = seed
        self.rates = rates or Rates()
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
                catalogue if catalogue is not None else {c: [] for c in PACK}
            ).items()
        }
        self.sessions: list[SessionPlan] = plan_sessions(self.service_sites)
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
        self._client_rng = stream(seed, "clients")
        self._anon_rng = stream(seed, "anonymous")
        self._services_rng = stream(seed, "services")
        self._overdose_rng = stream(seed, "overdoses")
        self._stock_rng = stream(seed, "stock")
        self._ost = OstPlanner(
            stream(seed, "ost"),
            sites=self.service_sites,
            main_site=self.main_site.code,
            start=self.start,
            end=end,
            rates=self.rates,
        )
        self._care = CarePlanner(stream(seed, "care"), main_site=self.main_site.code, end=end)
        # The main site's clients (id, registered on), for the demo's caseload.
        self._main_clients: list[tuple[uuid.UUID, dt.date]] = []

    def clients(self) -> Iterator[ClientPlan]:
        drawn = draw_clients(
            self._client_rng,
            count=self.client_count,
            near_duplicates=self.near_duplicate_count,
            sites=self.service_sites,
            start=self.start,
            end=self.end,
            rates=self.rates,
        )
        for index, plan in enumerate(drawn):
            for contact in plan.contacts:
                self._plan_services(contact, plan.id, plan.injects, plan.gender)
            plan.episodes = self._ost.episodes(plan)
            for episode in plan.episodes:
                if episode.end_date is None:
                    self.counts.episodes_ongoing += 1
                else:
                    self.counts.episodes_ended += 1
                self.counts.prescriptions += len(episode.prescriptions)
                self.counts.doses += dose_count(episode, self.start, self.end)
            plan.care = self._care.plan(plan)
            self.counts.tests += len(plan.care.tests)
            self.counts.treatments += len(plan.care.treatments)
            self.counts.viral_loads += len(plan.care.viral_loads)
            if plan.site == self.main_site.code and plan.near_duplicate_of is None:
                self._main_clients.append((plan.id, plan.registered_on))
            self.uics.append("".join(plan.parts))
            self.counts.clients += 1
            self.counts.client_contacts += len(plan.contacts)
            if plan.second_site:
                self.counts.second_site_links += 1
            if plan.near_duplicate_of is not None:
                self.counts.near_duplicates += 1
                self.near_duplicate_pairs.append((index, plan.near_duplicate_of))
            yield plan

    def anonymous_contacts(self) -> Iterator[ContactPlan]:
        """About ANONYMOUS_SHARE of all contacts; call after ``clients()`` is exhausted."""
        total = round(self.counts.client_contacts * ANONYMOUS_SHARE / (1 - ANONYMOUS_SHARE))
        drawn = draw_anonymous(
            self._anon_rng, total=total, sites=self.service_sites, start=self.start, days=self.days
        )
        for contact in drawn:
            self.counts.anonymous_contacts += 1
            self._plan_services(contact, None, YesNoUnknown.UNKNOWN, Gender.UNKNOWN)
            yield contact

    def _plan_services(
        self, contact: ContactPlan, client: uuid.UUID | None, injects: str, gender: str
    ) -> None:
        lines = plan_services(
            self._services_rng,
            contact,
            kind=self._by_code[contact.site].kind,
            client=client,
            injects=injects,
            gender=gender,
            women_only_day=self._women_only_day.get(contact.site),
            needle_options=self.catalogue.get("needle_syringe", []),
            start=self.start,
        )
        self._account(contact, lines, client)

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

    def recent_overdoses(self) -> Iterator[OverdosePlan]:
        """A cluster at the main site over the last fortnight, as when a stronger batch
        reaches town; call after ``anonymous_contacts()``."""
        cluster = recent_cluster(
            self._overdose_rng,
            site=self.main_site.code,
            recent=self._recent,
            end=self.end,
            days=self.days,
        )
        for overdose in cluster:
            self.counts.overdoses += 1
            yield overdose

    def deliveries(self) -> Iterator[DeliveryPlan]:
        """Opening stock and monthly deliveries (see ``stock.plan_deliveries``); call last."""
        planned = plan_deliveries(
            self._stock_rng,
            sites=self.service_sites,
            catalogue=self.catalogue,
            usage=self._usage,
            main_site=self.main_site.code,
            start=self.start,
            days=self.days,
        )
        for delivery in planned:
            self.counts.deliveries += 1
            yield delivery

    def casework(self) -> CaseworkPlan:
        """The demo case manager's partners, caseload, referrals and appointments at the
        main site; call after ``clients()`` is exhausted."""
        plan = plan_casework(
            stream(self.seed, "casework"),
            site=self.main_site.code,
            candidates=self._main_clients,
            end=self.end,
        )
        c = self.counts
        c.partner_services, c.caseload = len(plan.partners), len(plan.caseload)
        c.referrals, c.appointments = len(plan.referrals), len(plan.appointments)
        return plan
