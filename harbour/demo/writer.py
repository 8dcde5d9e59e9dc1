"""Writing a generated programme's rows, with bulk_create a batch at a time.

``harbour.demo.services.seed`` drives it inside one transaction; nothing here checks
that the database is empty or creates users.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import reset_queries
from django.db.models import Model, Sum
from django.utils import timezone

from harbour.accounts.models import User
from harbour.casework.models import (
    Appointment,
    CaseAssignment,
    PartnerService,
    Referral,
)
from harbour.clients import pseudonym as ps
from harbour.clients.models import Client, ClientLink, ClientPartial
from harbour.demo.generate import (
    DISPENSING_KINDS,
    CarePlan,
    CaseworkPlan,
    ClientPlan,
    ContactPlan,
    DeliveryPlan,
    EpisodePlan,
    OverdosePlan,
    Programme,
    dose_id,
    doses,
)
from harbour.ost.models import DayClosed, Dose, Episode, Prescription
from harbour.sites.models import Site
from harbour.stock.models import Balance, Movement
from harbour.testing.models import Test, Treatment, ViralLoad
from harbour.visits.models import (
    ConsumptionSession,
    Contact,
    Distribution,
    Overdose,
    SiteSession,
)

# Days before the last one that day end (ost.services.close_past_days) looks back on.
DAY_END_LOOKBACK = 14


class SeedError(Exception):
    pass


def write_sites(programme: Programme) -> dict[str, int]:
    Site.objects.bulk_create(
        Site(code=p.code, name=p.name, kind=p.kind) for p in programme.sites if not p.region
    )
    ids = dict(Site.objects.values_list("code", "id"))
    Site.objects.bulk_create(
        Site(code=p.code, name=p.name, kind=p.kind, parent_id=ids[p.region])
        for p in programme.sites
        if p.region
    )
    return dict(Site.objects.values_list("code", "id"))


class Writer:
    """Collects rows and writes them with bulk_create, a batch at a time."""

    def __init__(
        self,
        programme: Programme,
        site_ids: dict[str, int],
        item_ids: dict[str, int],
        batch_size: int,
        *,
        author: User,
        prescriber: User | None,
    ) -> None:
        self.start = programme.start
        self.end = programme.end
        self.main_site = programme.main_site.code
        self.author = author
        self.prescriber = prescriber
        self.site_ids = site_ids
        self.item_ids = item_ids
        self.batch_size = batch_size
        self.key = ps.current_key()
        self.codes: set[str] = set()
        self.session_ids = _write_sessions(programme, site_ids)
        self.clients: list[Client] = []
        self.partials: list[ClientPartial] = []
        self.links: list[ClientLink] = []
        self.contacts: list[Contact] = []
        self.consumption: list[ConsumptionSession] = []
        self.distributions: list[Distribution] = []
        self.movements: list[Movement] = []
        self.overdoses: list[Overdose] = []
        self.episodes: list[Episode] = []
        self.prescriptions: list[Prescription] = []
        self.doses: list[Dose] = []
        self.tests: list[Test] = []
        self.treatments: list[Treatment] = []
        self.viral_loads: list[ViralLoad] = []

    def add_client(self, plan: ClientPlan) -> None:
        d = ps.digests(plan.parts, self.key)
        code = ps.client_code(d.pseudonym)
        if code in self.codes:  # about one in a quadrillion pairs; never silently
            raise SeedError("Two generated clients got the same client code; try another seed.")
        self.codes.add(code)
        site_id = self.site_ids[plan.site]
        self.clients.append(
            Client(
                id=plan.id,
                code=code,
                pseudonym=d.pseudonym,
                key_id=d.key_id,
                gender=plan.gender,
                birth_year=plan.birth_year,
                injects=plan.injects,
                opioid_dependent=plan.opioid_dependent,
                site_id=site_id,
                registered_on=plan.registered_on,
                consent_on=plan.registered_on,
            )
        )
        self.partials.extend(
            ClientPartial(client_id=plan.id, position=i, digest=digest)
            for i, digest in enumerate(d.partials)
        )
        self.links.append(ClientLink(client_id=plan.id, site_id=site_id, since=plan.registered_on))
        if plan.second_site and plan.second_since is not None:
            self.links.append(
                ClientLink(
                    client_id=plan.id,
                    site_id=self.site_ids[plan.second_site],
                    since=plan.second_since,
                )
            )
        for contact in plan.contacts:
            self.add_contact(contact, plan.id, check=False)
        for episode in plan.episodes:
            self.add_episode(episode)
        self.add_care(plan.id, plan.care)
        if len(self.clients) >= self.batch_size:
            self.flush()
        else:
            self._check()

    def add_contact(self, plan: ContactPlan, client_id: Any, *, check: bool = True) -> None:
        site_id = self.site_ids[plan.site]
        self.contacts.append(
            Contact(
                id=plan.id,
                date=plan.date,
                site_id=site_id,
                client_id=client_id,
                session_id=self.session_ids.get(plan.site) if plan.women_only else None,
                returned_equipment=plan.returned_equipment,
                info_topics=plan.info_topics,
                naloxone_training=plan.naloxone_training,
                dropin_services=plan.dropin_services,
            )
        )
        for line in plan.lines:
            item_id = self.item_ids[line.item]
            self.distributions.append(
                Distribution(
                    contact_id=plan.id,
                    item_id=item_id,
                    option=line.option,
                    quantity=line.quantity,
                    secondary=line.secondary,
                )
            )
            # The same ledger entry record_contact writes for each line.
            self.movements.append(
                Movement(
                    site_id=site_id,
                    item_id=item_id,
                    kind=Movement.Kind.DISTRIBUTION,
                    delta=-line.quantity,
                    date=plan.date,
                    contact_id=plan.id,
                )
            )
        if plan.consumption is not None:
            c = plan.consumption
            self.consumption.append(
                ConsumptionSession(
                    contact_id=plan.id,
                    started=c.started,
                    ended=c.ended,
                    overdose=c.overdose,
                    response=c.response,
                )
            )
        for overdose in plan.overdoses:
            self.add_overdose(overdose, check=False)
        if check:
            self._check()

    def add_overdose(self, plan: OverdosePlan, *, check: bool = True) -> None:
        self.overdoses.append(
            Overdose(
                id=plan.id,
                date=plan.date,
                site_id=self.site_ids[plan.site],
                client_id=plan.client,
                contact_id=plan.contact,
                source=plan.source,
                naloxone_doses=plan.naloxone_doses,
                outcome=plan.outcome,
                ems_called=plan.ems_called,
            )
        )
        if check:
            self._check()

    def add_episode(self, plan: EpisodePlan) -> None:
        """The episode, its prescriptions and every dose it had in the history."""
        site_id = self.site_ids[plan.site]
        self.episodes.append(
            Episode(
                id=plan.id,
                client_id=plan.client,
                site_id=site_id,
                medication=plan.medication,
                start_date=plan.start_date,
                end_date=plan.end_date,
                end_reason=plan.end_reason,
                start_context=plan.start_context,
                linked_service=plan.linked_service,
                consent_on=plan.start_date,
                prescriber=self.prescriber if plan.site == self.main_site else None,
            )
        )
        self.prescriptions.extend(
            Prescription(
                episode_id=plan.id,
                dose_mg=p.dose_mg,
                phase=p.phase,
                valid_from=p.valid_from,
                valid_to=p.valid_to,
                take_home_days=list(p.take_home_days),
                reason=p.reason,
                author=self.author,
            )
            for p in plan.prescriptions
        )
        self.doses.extend(
            Dose(
                id=dose_id(plan.id, dose.date),
                episode_id=plan.id,
                client_id=plan.client,
                site_id=site_id,
                date=dose.date,
                medication=plan.medication,
                dose_mg=dose.prescription.dose_mg,
                phase=dose.prescription.phase,
                taken=dose.taken,
            )
            for dose in doses(plan, self.start, self.end)
        )

    def add_care(self, client_id: Any, plan: CarePlan) -> None:
        """A client's tests, treatments and viral loads."""
        self.tests.extend(
            Test(
                id=t.id,
                client_id=client_id,
                site_id=self.site_ids[t.site],
                date=t.date,
                test=t.test,
                kind=t.kind,
                result=t.result,
                consent=True,  # testing is voluntary: no consent, no test
                counselling=t.counselling,
                needs_confirmation=t.needs_confirmation,
                confirms_id=t.confirms,
            )
            for t in plan.tests
        )
        self.treatments.extend(
            Treatment(
                id=t.id,
                client_id=client_id,
                site_id=self.site_ids[t.site],
                condition=t.condition,
                start_date=t.start_date,
                end_date=t.end_date,
                outcome=t.outcome,
                provider=t.provider,
                reason=t.reason,
            )
            for t in plan.treatments
        )
        self.viral_loads.extend(
            ViralLoad(
                client_id=client_id,
                date=v.date,
                condition=v.condition,
                copies_per_ml=v.copies_per_ml,
            )
            for v in plan.viral_loads
        )

    def add_delivery(self, plan: DeliveryPlan) -> None:
        self.movements.append(
            Movement(
                site_id=self.site_ids[plan.site],
                item_id=self.item_ids[plan.item],
                kind=Movement.Kind.DELIVERY,
                delta=plan.quantity,
                date=plan.date,
                reason=plan.reason,
            )
        )
        self._check()

    def _check(self) -> None:
        # Distributions and their ledger rows outnumber contacts about five to one;
        # one person on OST brings a dose a day.
        rows = len(self.contacts) + len(self.movements) + len(self.doses) + len(self.tests)
        if rows >= 20 * self.batch_size:
            self.flush()

    def flush(self) -> None:
        # Parents first, although foreign keys are only checked at commit.
        batches: tuple[tuple[type[Model], list[Any]], ...] = (
            (Client, self.clients),
            (ClientPartial, self.partials),
            (ClientLink, self.links),
            (Contact, self.contacts),
            (ConsumptionSession, self.consumption),
            (Distribution, self.distributions),
            (Movement, self.movements),
            (Overdose, self.overdoses),
            (Episode, self.episodes),
            (Prescription, self.prescriptions),
            (Dose, self.doses),
            (Test, self.tests),
            (Treatment, self.treatments),
            (ViralLoad, self.viral_loads),
        )
        for model, rows in batches:
            model._default_manager.bulk_create(rows, batch_size=self.batch_size)
            rows.clear()
        # With DEBUG on, Django keeps the last 9,000 statements: long INSERTs, hundreds of MB.
        reset_queries()


def _write_sessions(programme: Programme, site_ids: dict[str, int]) -> dict[str, int]:
    sessions = [
        SiteSession(
            site_id=site_ids[p.site],
            name=p.name,
            weekday=p.weekday,
            starts=p.starts,
            ends=p.ends,
            women_only=p.women_only,
        )
        for p in programme.sessions
    ]
    SiteSession.objects.bulk_create(sessions)
    return dict(SiteSession.objects.filter(women_only=True).values_list("site__code", "id"))


def settle_balances(batch_size: int) -> None:
    """Each balance is the sum of its ledger, worked out once at the end."""
    totals = Movement.objects.values("site", "item").annotate(total=Sum("delta")).order_by()
    Balance.objects.bulk_create(
        [Balance(site_id=t["site"], item_id=t["item"], on_hand=t["total"]) for t in totals],
        batch_size=batch_size,
        update_conflicts=True,
        unique_fields=["site", "item"],
        update_fields=["on_hand"],
    )


def close_past_days(programme: Programme, site_ids: dict[str, int], batch_size: int) -> None:
    """Every day before the last, at every site that dispenses, is closed.

    The seeded missed doses are already there: were the days left open, day end
    would record a second missed dose for each of them (and, before the history,
    for everyone).
    """
    first = min(programme.start, programme.end - dt.timedelta(days=DAY_END_LOOKBACK))
    days = [first + dt.timedelta(days=n) for n in range((programme.end - first).days)]
    for site in programme.service_sites:
        if site.kind in DISPENSING_KINDS:
            DayClosed.objects.bulk_create(
                (DayClosed(site_id=site_ids[site.code], date=day) for day in days),
                batch_size=batch_size,
            )


def write_casework(
    plan: CaseworkPlan, site_ids: dict[str, int], case_manager: User, batch_size: int
) -> None:
    """The demo case manager's partners, caseload, referrals, appointments and reminders."""
    PartnerService.objects.bulk_create(
        PartnerService(
            name=p.name,
            kind=p.kind,
            friendly=p.friendly,
            address=p.address,
            phone=p.phone,
            hours=p.hours,
            notes=p.notes,
        )
        for p in plan.partners
    )
    partner_ids = dict(PartnerService.objects.values_list("name", "id"))
    site_id = site_ids[plan.site]
    CaseAssignment.objects.bulk_create(
        (
            CaseAssignment(client_id=client, case_manager=case_manager, since=since)
            for client, since in plan.caseload
        ),
        batch_size=batch_size,
    )
    Referral.objects.bulk_create(
        (
            Referral(
                id=r.id,
                client_id=r.client,
                site_id=site_id,
                service_id=partner_ids[r.service] if r.service else None,
                kind=r.kind,
                made_on=r.made_on,
                status=r.status,
                status_on=r.status_on,
                reason=r.reason,
                made_by=case_manager,
            )
            for r in plan.referrals
        ),
        batch_size=batch_size,
    )
    Appointment.objects.bulk_create(
        (
            Appointment(
                id=a.id,
                client_id=a.client,
                site_id=site_id,
                at=timezone.make_aware(a.at),
                purpose=a.purpose,
                referral_id=a.referral,
                attended=a.attended,
                created_by=case_manager,
            )
            for a in plan.appointments
        ),
        batch_size=batch_size,
    )
    # The phone field encrypts on the way in: no number is stored in the clear.
    Client.objects.bulk_update(
        [Client(id=client, phone=phone, reminders=True) for client, phone in plan.phones.items()],
        ["phone", "reminders"],
        batch_size=batch_size,
    )
