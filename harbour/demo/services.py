"""Writing a seeded programme to the database, and the demo's sign-in helpers.

Seeding refuses any database that already holds sites, clients or contacts: the
audit log is append-only, so "start again" means a new, empty database rather than
deleting rows here. It runs in one transaction, so a failed seed leaves nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.db import reset_queries, transaction
from django.db.models import Model, Sum
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from harbour.accounts.models import TWO_FACTOR_ROLES, Membership, Role, User
from harbour.audit.services import record
from harbour.clients import pseudonym as ps
from harbour.clients.models import Client, ClientLink, ClientPartial
from harbour.clients.uic import DEFAULT_SCHEME
from harbour.demo.generate import (
    ClientPlan,
    ContactPlan,
    DeliveryPlan,
    OverdosePlan,
    Programme,
)
from harbour.sites.models import Organisation, Site, SiteKind
from harbour.stock.models import Balance, Movement
from harbour.visits.models import (
    CatalogueItem,
    ConsumptionSession,
    Contact,
    Distribution,
    Overdose,
    SiteSession,
)

DEMO_ORGANISATION = "Harbour demo programme"
BENCHMARK_ORGANISATION = "Harbour benchmark programme"
DEMO_EMAIL_DOMAIN = "demo.invalid"
DEVICE_NAME = "Demo authenticator"
SEED_ACTOR = "harbour seed"

# Defaults for `harbour seed --demo`: small enough to seed in seconds, big enough
# for every screen to have something to show.
DEMO_SITES = 8
DEMO_CLIENTS = 800
DEMO_DAYS = 90
DEMO_SEED = 1


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    where: str  # "front" (the main site), "both" (main and second site), "all" (programme)


DEMO_USERS = (
    DemoUser("outreach", Role.OUTREACH, "front"),
    DemoUser("staff", Role.STAFF, "both"),
    DemoUser("clinician", Role.CLINICIAN, "front"),
    DemoUser("casemanager", Role.CASE_MANAGER, "front"),
    DemoUser("sitemanager", Role.SITE_MANAGER, "front"),
    DemoUser("me", Role.ME_OFFICER, "all"),
    DemoUser("admin", Role.ADMIN, "all"),
)
DEMO_USERNAMES = tuple(u.username for u in DEMO_USERS)


def demo_password(username: str) -> str:
    return f"harbour-demo-{username}"


class SeedError(Exception):
    pass


# -- who is a demo user ---------------------------------------------------------------


def is_demo_user(user: User) -> bool:
    """Both marks, so a real account that happens to be called "admin" never qualifies."""
    return user.username in DEMO_USERNAMES and user.email.lower().endswith("@" + DEMO_EMAIL_DOMAIN)


def demo_users() -> list[User]:
    found = User.objects.filter(
        username__in=DEMO_USERNAMES, email__iendswith="@" + DEMO_EMAIL_DOMAIN
    ).prefetch_related("memberships__site")
    by_name = {u.username: u for u in found}
    return [by_name[name] for name in DEMO_USERNAMES if name in by_name]


def demo_present() -> bool:
    return bool(demo_users())


def holds_programme() -> bool:
    return Site.objects.exists() or Client.objects.exists() or Contact.objects.exists()


# -- seeding --------------------------------------------------------------------------


@dataclass
class SeedResult:
    programme: Programme
    sites: int
    regions: int
    users: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def summary(self) -> dict[str, Any]:
        c = self.programme.counts
        return {
            "seed": self.programme.seed,
            "regions": self.regions,
            "sites": self.sites,
            "clients": c.clients,
            "near_duplicates": c.near_duplicates,
            "second_site_links": c.second_site_links,
            "contacts": c.client_contacts + c.anonymous_contacts,
            "anonymous_contacts": c.anonymous_contacts,
            "distributions": c.distributions,
            "secondary_distributions": c.secondary_distributions,
            "consumption_sessions": c.consumption_sessions,
            "overdoses": c.overdoses,
            "stock_movements": c.distributions + c.deliveries,
            "days": self.programme.days,
            "end": self.programme.end.isoformat(),
            "users": self.users,
        }


def seed(
    *,
    seed: int,
    sites: int,
    clients: int,
    days: int,
    demo: bool = False,
    end: dt.date | None = None,
    batch_size: int = 1000,
) -> SeedResult:
    """Write a generated programme to an empty database, in one transaction."""
    started = time.monotonic()
    if demo and sites < 2:
        raise SeedError("The demo needs at least two sites.")
    with transaction.atomic():
        catalogue = list(CatalogueItem.objects.filter(active=True).order_by("sort_order", "code"))
        programme = Programme(
            seed=seed,
            sites=sites,
            clients=clients,
            days=days,
            end=end or timezone.localdate(),
            catalogue={i.code: [str(o) for o in i.options or [] if o] for i in catalogue},
        )
        _check_empty(demo)
        org = Organisation.get()
        org.name = DEMO_ORGANISATION if demo else BENCHMARK_ORGANISATION
        org.save(update_fields=["name"])
        site_ids = _write_sites(programme)
        writer = _Writer(programme, site_ids, {i.code: i.pk for i in catalogue}, batch_size)
        for plan in programme.clients():
            writer.add_client(plan)
        for contact in programme.anonymous_contacts():
            writer.add_contact(contact, None)
        for overdose in programme.recent_overdoses():
            writer.add_overdose(overdose)
        for delivery in programme.deliveries():
            writer.add_delivery(delivery)
        writer.flush()
        _settle_balances(batch_size)
        result = SeedResult(
            programme,
            sites=len(programme.service_sites),
            regions=len(programme.sites) - len(programme.service_sites),
        )
        if demo:
            result.users = _create_demo_users(programme, site_ids)
        result.elapsed = time.monotonic() - started
        # One summary entry: per-row entries would be noise, and made-up people
        # have no history to account for.
        record(
            SEED_ACTOR,
            "demo.seed",
            org,
            detail={"demo": demo, **result.summary()},
        )
    return result


def _check_empty(demo: bool) -> None:
    if holds_programme():
        raise SeedError(
            "This database already holds sites, clients or contacts. Seed an empty "
            "database: point HARBOUR_VAR_DIR or DATABASE_URL at a new one (for the "
            "local demo: make clean-demo && make demo)."
        )
    if Organisation.get().uic_scheme != DEFAULT_SCHEME.to_json():
        raise SeedError("This programme has its own UIC scheme; seeding uses the default one.")
    if demo:
        taken = sorted(
            User.objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True)
        )
        if taken:
            raise SeedError(
                "These user names are already taken by real accounts: " + ", ".join(taken) + "."
            )


def _write_sites(programme: Programme) -> dict[str, int]:
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


class _Writer:
    """Collects rows and writes them with bulk_create, a batch at a time."""

    def __init__(
        self,
        programme: Programme,
        site_ids: dict[str, int],
        item_ids: dict[str, int],
        batch_size: int,
    ) -> None:
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
        # Distributions and their ledger rows outnumber contacts about five to one.
        if len(self.contacts) + len(self.movements) >= 20 * self.batch_size:
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


def _settle_balances(batch_size: int) -> None:
    """Each balance is the sum of its ledger, worked out once at the end."""
    totals = Movement.objects.values("site", "item").annotate(total=Sum("delta")).order_by()
    Balance.objects.bulk_create(
        [Balance(site_id=t["site"], item_id=t["item"], on_hand=t["total"]) for t in totals],
        batch_size=batch_size,
        update_conflicts=True,
        unique_fields=["site", "item"],
        update_fields=["on_hand"],
    )


def _create_demo_users(programme: Programme, site_ids: dict[str, int]) -> list[str]:
    sites = programme.service_sites
    front = programme.main_site
    second = next(
        (s for s in sites if s.kind == SiteKind.DROP_IN and s.code != front.code),
        next(s for s in sites if s.code != front.code),
    )
    where: dict[str, list[int | None]] = {
        "front": [site_ids[front.code]],
        "both": [site_ids[front.code], site_ids[second.code]],
        "all": [None],
    }
    created = []
    for spec in DEMO_USERS:
        user = User(
            username=spec.username,
            email=f"{spec.username}@{DEMO_EMAIL_DOMAIN}",
            first_name=Role(spec.role).label,
            last_name="(demo)",
        )
        password = demo_password(spec.username)
        validate_password(password, user)
        user.set_password(password)
        user.save()
        Membership.objects.bulk_create(
            Membership(user=user, role=spec.role, site_id=site_id) for site_id in where[spec.where]
        )
        if spec.role in TWO_FACTOR_ROLES:
            TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
        created.append(spec.username)
    return created


# -- one-time codes for the demo ------------------------------------------------------


def demo_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, name=DEVICE_NAME, confirmed=True).first()


@dataclass(frozen=True)
class Code:
    token: str
    seconds_left: int
    used: bool  # this step's code was already accepted once: wait for the next one


def current_code(device: TOTPDevice, now: float | None = None) -> Code:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if now is None else now
    seconds_left = device.step - int(totp.time - device.t0) % device.step
    token = str(totp.token()).zfill(device.digits)
    return Code(token, seconds_left, used=totp.t() <= device.last_t)
