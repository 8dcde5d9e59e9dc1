"""Writing a generated programme's rows, a batch at a time, through a sink.

``harbour.demo.services.seed`` drives it inside one transaction; nothing here checks
that the database is empty or creates users. The sink (``harbour.demo.sink``) is the
ORM's bulk_create, or, to seed a national programme in minutes rather than hours,
prepared INSERTs on SQLite and COPY on PostgreSQL; the rows are the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db import reset_queries
from django.db.models import Sum
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
)
from harbour.demo.generate.ost import dose_window
from harbour.demo.sink import OrmSink
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
    """Turns plans into rows, table by table, and hands them to a sink in batches.

    Rows are tuples in the column order each table names below, already in the
    sink's form (``OrmSink``: Python values; the fast sinks: what the database
    stores). Every batch is written parents first (clients before their contacts,
    contacts before what was handed out in them), so a foreign key always finds its
    row.
    """

    def __init__(
        self,
        programme: Programme,
        site_ids: dict[str, int],
        item_ids: dict[str, int],
        batch_size: int,
        *,
        author: User,
        prescriber: User | None,
        sink: OrmSink | None = None,
    ) -> None:
        self.start = programme.start
        self.end = programme.end
        self.main_site = programme.main_site.code
        self.author_id = author.pk
        self.prescriber_id = prescriber.pk if prescriber is not None else None
        self.site_ids = site_ids
        self.item_ids = item_ids
        self.sink = sink or OrmSink(batch_size)
        self.key = ps.current_key()
        self.codes: set[str] = set()
        self.session_ids = _write_sessions(programme, site_ids)
        table = self.sink.table
        # Parents first: the order of the writes.
        self.clients = table(Client, CLIENT_COLUMNS)
        self.partials = table(ClientPartial, ("client_id", "position", "digest"))
        self.links = table(ClientLink, ("client_id", "site_id", "since"))
        self.contacts = table(Contact, CONTACT_COLUMNS)
        self.consumption = table(
            ConsumptionSession, ("contact_id", "started", "ended", "overdose", "response")
        )
        self.distributions = table(
            Distribution, ("contact_id", "item_id", "option", "quantity", "secondary")
        )
        self.movements = table(
            Movement, ("site_id", "item_id", "kind", "delta", "date", "contact_id", "reason")
        )
        self.overdoses = table(Overdose, OVERDOSE_COLUMNS)
        self.episodes = table(Episode, EPISODE_COLUMNS)
        self.prescriptions = table(Prescription, PRESCRIPTION_COLUMNS)
        self.doses = table(Dose, DOSE_COLUMNS)
        self.tests = table(Test, TEST_COLUMNS)
        self.treatments = table(Treatment, TREATMENT_COLUMNS)
        self.viral_loads = table(ViralLoad, ("client_id", "date", "condition", "copies_per_ml"))
        self.tables = (
            self.clients,
            self.partials,
            self.links,
            self.contacts,
            self.consumption,
            self.distributions,
            self.movements,
            self.overdoses,
            self.episodes,
            self.prescriptions,
            self.doses,
            self.tests,
            self.treatments,
            self.viral_loads,
        )
        self.held = 0  # rows held since the last flush
        self.sink.prepare(self.tables)

    def add_client(self, plan: ClientPlan) -> None:
        d = ps.digests(plan.parts, self.key)
        code = ps.client_code(d.pseudonym)
        if code in self.codes:  # about one in a quadrillion pairs; never silently
            raise SeedError("Two generated clients got the same client code; try another seed.")
        self.codes.add(code)
        sink = self.sink
        client_id = sink.uuid(plan.id)
        site_id = self.site_ids[plan.site]
        registered_on = sink.date(plan.registered_on)
        self.clients.rows.append(
            (
                client_id,
                code,
                d.pseudonym,
                d.key_id,
                plan.gender,
                plan.birth_year,
                plan.injects,
                plan.opioid_dependent,
                site_id,
                registered_on,
                registered_on,
            )
        )
        self.partials.rows.extend((client_id, i, digest) for i, digest in enumerate(d.partials))
        self.links.rows.append((client_id, site_id, registered_on))
        held = 2 + len(d.partials)
        if plan.second_site and plan.second_since is not None:
            self.links.rows.append(
                (client_id, self.site_ids[plan.second_site], sink.date(plan.second_since))
            )
            held += 1
        self.held += held
        for contact in plan.contacts:
            self._contact(contact, client_id)
        for episode in plan.episodes:
            self.add_episode(episode, client_id)
        self.add_care(client_id, plan.care)
        if self.held >= self.sink.flush_at or len(self.clients.rows) >= self.sink.batch_size:
            self.flush()

    def add_contact(self, plan: ContactPlan, client_id: Any) -> None:
        """An anonymous contact (``client_id`` None), or a client's, already converted."""
        self._contact(plan, client_id)
        self._check()

    def _contact(self, plan: ContactPlan, client_id: Any) -> None:
        sink = self.sink
        site_id = self.site_ids[plan.site]
        contact_id = sink.uuid(plan.id)
        date = sink.date(plan.date)
        self.contacts.rows.append(
            (
                contact_id,
                date,
                site_id,
                client_id,
                self.session_ids.get(plan.site) if plan.women_only else None,
                plan.returned_equipment,
                sink.json(plan.info_topics),
                plan.naloxone_training,
                sink.json(plan.dropin_services),
            )
        )
        distributions = self.distributions.rows
        movements = self.movements.rows
        item_ids = self.item_ids
        for line in plan.lines:
            item_id = item_ids[line.item]
            distributions.append((contact_id, item_id, line.option, line.quantity, line.secondary))
            # The same ledger entry record_contact writes for each line.
            movements.append((site_id, item_id, DISTRIBUTION, -line.quantity, date, contact_id, ""))
        held = 1 + 2 * len(plan.lines)
        if plan.consumption is not None:
            c = plan.consumption
            self.consumption.rows.append(
                (contact_id, sink.time(c.started), sink.time(c.ended), c.overdose, c.response)
            )
            held += 1
        self.held += held
        for overdose in plan.overdoses:
            self._overdose(overdose)

    def add_overdose(self, plan: OverdosePlan) -> None:
        self._overdose(plan)
        self._check()

    def _overdose(self, plan: OverdosePlan) -> None:
        uuid = self.sink.uuid
        self.overdoses.rows.append(
            (
                uuid(plan.id),
                self.sink.date(plan.date),
                self.site_ids[plan.site],
                uuid(plan.client),
                uuid(plan.contact),
                plan.source,
                plan.naloxone_doses,
                plan.outcome,
                plan.ems_called,
            )
        )
        self.held += 1

    def add_episode(self, plan: EpisodePlan, client_id: Any) -> None:
        """The episode, its prescriptions and every dose it had in the history."""
        sink = self.sink
        date = sink.date
        site_id = self.site_ids[plan.site]
        episode_id = sink.uuid(plan.id)
        start_date = date(plan.start_date)
        self.episodes.rows.append(
            (
                episode_id,
                client_id,
                site_id,
                plan.medication,
                start_date,
                date(plan.end_date),
                plan.end_reason,
                plan.start_context,
                plan.linked_service,
                start_date,
                self.prescriber_id if plan.site == self.main_site else None,
            )
        )
        self.prescriptions.rows.extend(
            (
                episode_id,
                p.dose_mg,
                p.phase,
                date(p.valid_from),
                date(p.valid_to),
                sink.json(p.take_home_days),
                p.reason,
                self.author_id,
            )
            for p in plan.prescriptions
        )
        before = len(self.doses.rows)
        self.doses.rows.extend(
            _dose_rows(plan, self.start, self.end, episode_id, client_id, site_id, sink)
        )
        self.held += 1 + len(plan.prescriptions) + len(self.doses.rows) - before

    def add_care(self, client_id: Any, plan: CarePlan) -> None:
        """A client's tests, treatments and viral loads."""
        sink = self.sink
        uuid, date, site_ids = sink.uuid, sink.date, self.site_ids
        self.tests.rows.extend(
            (
                uuid(t.id),
                client_id,
                site_ids[t.site],
                date(t.date),
                t.test,
                t.kind,
                t.result,
                True,  # consent: testing is voluntary, no consent, no test
                t.counselling,
                t.needs_confirmation,
                uuid(t.confirms),
            )
            for t in plan.tests
        )
        self.treatments.rows.extend(
            (
                uuid(t.id),
                client_id,
                site_ids[t.site],
                t.condition,
                date(t.start_date),
                date(t.end_date),
                t.outcome,
                t.provider,
                t.reason,
            )
            for t in plan.treatments
        )
        self.viral_loads.rows.extend(
            (client_id, date(v.date), v.condition, v.copies_per_ml) for v in plan.viral_loads
        )
        self.held += len(plan.tests) + len(plan.treatments) + len(plan.viral_loads)

    def add_delivery(self, plan: DeliveryPlan) -> None:
        self.movements.rows.append(
            (
                self.site_ids[plan.site],
                self.item_ids[plan.item],
                Movement.Kind.DELIVERY.value,
                plan.quantity,
                self.sink.date(plan.date),
                None,
                plan.reason,
            )
        )
        self.held += 1
        self._check()

    def _check(self) -> None:
        if self.held >= self.sink.flush_at:
            self.flush()

    def flush(self) -> None:
        """Write every held row, parents first."""
        for table in self.tables:
            if table.rows:
                self.sink.write(table)
                table.written += len(table.rows)
                table.rows.clear()
        self.held = 0
        # With DEBUG on, Django keeps the last 9,000 statements: long INSERTs, hundreds of MB.
        reset_queries()

    def finish(self) -> dict[str, int]:
        """Write what is left and put the sink's indexes back; the rows of each table."""
        self.flush()
        self.sink.finish()
        return {table.name: table.written for table in self.tables}


DISTRIBUTION = Movement.Kind.DISTRIBUTION.value
CLIENT_COLUMNS = (
    *("id", "code", "pseudonym", "key_id", "gender", "birth_year", "injects"),
    *("opioid_dependent", "site_id", "registered_on", "consent_on"),
)
CONTACT_COLUMNS = (
    *("id", "date", "site_id", "client_id", "session_id", "returned_equipment"),
    *("info_topics", "naloxone_training", "dropin_services"),
)
OVERDOSE_COLUMNS = (
    *("id", "date", "site_id", "client_id", "contact_id", "source", "naloxone_doses"),
    *("outcome", "ems_called"),
)
EPISODE_COLUMNS = (
    *("id", "client_id", "site_id", "medication", "start_date", "end_date", "end_reason"),
    *("start_context", "linked_service", "consent_on", "prescriber_id"),
)
PRESCRIPTION_COLUMNS = (
    *("episode_id", "dose_mg", "phase", "valid_from", "valid_to", "take_home_days"),
    *("reason", "author_id"),
)
DOSE_COLUMNS = (
    *("id", "episode_id", "client_id", "site_id", "date", "medication", "dose_mg"),
    *("phase", "taken"),
)
TEST_COLUMNS = (
    *("id", "client_id", "site_id", "date", "test", "kind", "result", "consent"),
    *("counselling", "needs_confirmation", "confirms_id"),
)
TREATMENT_COLUMNS = (
    *("id", "client_id", "site_id", "condition", "start_date", "end_date", "outcome"),
    *("provider", "reason"),
)

_ONE_DAY = dt.timedelta(days=1)
_MISSED, _TAKE_HOME, _OBSERVED = (
    Dose.Taken.MISSED.value,
    Dose.Taken.TAKE_HOME.value,
    Dose.Taken.OBSERVED.value,
)
# The version bits of a version-4 UUID (RFC 4122), as uuid.UUID(version=4) sets them.
_UUID_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_UUID_SET = (0x8000 << 48) | (4 << 76)


def _dose_rows(
    plan: EpisodePlan,
    start: dt.date,
    end: dt.date,
    episode_id: Any,
    client_id: Any,
    site_id: int,
    sink: OrmSink,
) -> Iterator[tuple[Any, ...]]:
    """The rows of ``generate.doses(plan, start, end)``, with the ids of ``dose_id``.

    The same days, prescriptions and ``taken`` as ``doses``, a day at a time without
    a plan object per dose: a national programme has millions.
    """
    day, last = dose_window(plan, start, end)
    if day > last:
        return
    date, uuid_int = sink.date, sink.uuid_int
    base = plan.id.int
    missed = plan.missed
    medication = plan.medication
    prescriptions = iter(plan.prescriptions)
    p = next(prescriptions)
    home = frozenset(p.take_home_days)
    while day <= last:
        while p.valid_to is not None and p.valid_to < day:
            p = next(prescriptions)
            home = frozenset(p.take_home_days)
        if day in missed:
            taken = _MISSED
        elif day.weekday() in home:
            taken = _TAKE_HOME
        else:
            taken = _OBSERVED
        ordinal = day.toordinal()
        dose_id = (((base + ordinal) % (1 << 128)) & _UUID_CLEAR) | _UUID_SET
        yield (
            uuid_int(dose_id),
            episode_id,
            client_id,
            site_id,
            date(day),
            medication,
            p.dose_mg,
            p.phase,
            taken,
        )
        day += _ONE_DAY


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
