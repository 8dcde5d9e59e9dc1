"""Seeding a generated programme into the database, and the demo's sign-in helpers.

Seeding refuses any database that already holds sites, clients or contacts: the
audit log is append-only, so "start again" means a new, empty database rather than
deleting rows here. It runs in one transaction, so a failed seed leaves nothing.

The rows go through ``harbour.demo.sink``: prepared INSERTs on SQLite, COPY on
PostgreSQL (or the ORM's bulk_create, the reference the tests hold them to), so a
national programme (``--scale national``, docs/scale.md) is seeded in minutes. On
SQLite, ``bulk_loading`` adjusts the seeding connection's settings while it writes.

A prescription needs an author. In the demo it is the demo clinician (who is also
the prescriber of the main site's episodes); without ``--demo`` there are no demo
users, so seeding creates one inactive user, ``harbour-seed``, with no usable
password, to author them: nobody can sign in as it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.db import connection, transaction
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from harbour.accounts.models import TWO_FACTOR_ROLES, Membership, Role, User
from harbour.audit.services import record
from harbour.clients.models import Client
from harbour.clients.uic import DEFAULT_SCHEME
from harbour.demo.drugchecking import alert_count, demo_sites, write_drugchecking
from harbour.demo.generate import Programme, Rates
from harbour.demo.sink import sink_for
from harbour.demo.writer import (
    SeedError,
    Writer,
    close_past_days,
    settle_balances,
    write_casework,
    write_sites,
)
from harbour.dhis2.demo import configure_demo as configure_dhis2_demo
from harbour.sites.models import Organisation, Site, SiteKind
from harbour.visits.models import CatalogueItem, Contact

DEMO_ORGANISATION = "Harbour demo programme"
BENCHMARK_ORGANISATION = "Harbour benchmark programme"
DEMO_EMAIL_DOMAIN = "demo.invalid"
DEVICE_NAME = "Demo authenticator"
SEED_ACTOR = "harbour seed"
# Authors the prescriptions of a programme seeded without --demo; never signs in.
SEED_USERNAME = "harbour-seed"

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
    DemoUser("alerts", Role.ALERT_REVIEWER, "all"),
    DemoUser("admin", Role.ADMIN, "all"),
)
DEMO_USERNAMES = tuple(u.username for u in DEMO_USERS)


def demo_password(username: str) -> str:
    return f"harbour-demo-{username}"


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
    rows: dict[str, int] = field(default_factory=dict)  # rows written per bulk table
    samples: int = 0
    alerts: int = 0

    def summary(self) -> dict[str, Any]:
        c = self.programme.counts
        return {
            "seed": self.programme.seed,
            "rates": self.programme.rates.name,
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
            "ost_episodes": c.episodes_ongoing + c.episodes_ended,
            "ost_episodes_ongoing": c.episodes_ongoing,
            "ost_episodes_ended": c.episodes_ended,
            "ost_prescriptions": c.prescriptions,
            "ost_doses": c.doses,
            "tests": c.tests,
            "treatments": c.treatments,
            "viral_loads": c.viral_loads,
            "partner_services": c.partner_services,
            "caseload": c.caseload,
            "referrals": c.referrals,
            "appointments": c.appointments,
            "drug_checking_samples": self.samples,
            "drug_alerts": self.alerts,
            "days": self.programme.days,
            "end": self.programme.end.isoformat(),
            "users": self.users,
            # Rows written to the bulk tables (none for a dry run).
            "rows_written": sum(self.rows.values()),
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
    rates: Rates | None = None,
    fast: bool = True,
) -> SeedResult:
    """Write a generated programme to an empty database, in one transaction.

    ``rates``: how busy the programme is (``generate.Rates``; the demo's unless
    given). ``fast``: write the bulk tables with prepared INSERTs (SQLite) or COPY
    (PostgreSQL) rather than the ORM's bulk_create; the rows are the same.
    """
    started = time.monotonic()
    if demo and sites < 2:
        raise SeedError("The demo needs at least two sites.")
    with bulk_loading(), transaction.atomic():
        catalogue = _catalogue()
        programme = Programme(
            seed=seed,
            sites=sites,
            clients=clients,
            days=days,
            end=end or timezone.localdate(),
            catalogue={i.code: [str(o) for o in i.options or [] if o] for i in catalogue},
            rates=rates,
        )
        _check_empty(demo)
        org = Organisation.get()
        org.name = DEMO_ORGANISATION if demo else BENCHMARK_ORGANISATION
        org.save(update_fields=["name"])
        site_ids = write_sites(programme)
        users = _create_demo_users(programme, site_ids) if demo else []
        # The demo clinician works at the main site and prescribes there; elsewhere
        # (and without the demo) no prescriber is on record.
        author = _demo_user(Role.CLINICIAN) if demo else _seed_user()
        writer = Writer(
            programme,
            site_ids,
            {i.code: i.pk for i in catalogue},
            batch_size,
            author=author,
            prescriber=author if demo else None,
            sink=sink_for(batch_size, fast=fast),
        )
        for plan in programme.clients():
            writer.add_client(plan)
        for contact in programme.anonymous_contacts():
            writer.add_contact(contact, None)
        for overdose in programme.recent_overdoses():
            writer.add_overdose(overdose)
        for delivery in programme.deliveries():
            writer.add_delivery(delivery)
        rows = writer.finish()
        if demo:
            # Casework needs the demo case manager; a benchmark has none.
            write_casework(
                programme.casework(), site_ids, _demo_user(Role.CASE_MANAGER), batch_size
            )
            samples = write_drugchecking(
                demo_sites(site_ids, programme.main_site.code),
                programme.start,
                programme.end,
                seed,
                _demo_user(Role.STAFF),
                _demo_user(Role.ALERT_REVIEWER),
            )
            # A DHIS2 mapping to show (the server address never resolves).
            configure_dhis2_demo()
        settle_balances(batch_size)
        close_past_days(programme, site_ids, batch_size)
        result = SeedResult(
            programme,
            sites=len(programme.service_sites),
            regions=len(programme.sites) - len(programme.service_sites),
            users=users,
            rows=rows,
        )
        if demo:
            result.samples, result.alerts = samples, alert_count()
        result.elapsed = time.monotonic() - started
        # One summary entry: per-row entries would be noise, and made-up people
        # have no history to account for.
        record(
            SEED_ACTOR,
            "demo.seed",
            org,
            detail={"demo": demo, **result.summary()},
        )
    if connection.vendor == "postgresql":
        # What autovacuum would do in a while: statistics for the planner and, outside
        # a transaction, the visibility map that lets index-only scans skip the rows.
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            for table in result.rows:
                cursor.execute(f"{command} {connection.ops.quote_name(table)}")
    return result


def _catalogue() -> list[CatalogueItem]:
    return list(CatalogueItem.objects.filter(active=True).order_by("sort_order", "code"))


def plan(
    *,
    seed: int,
    sites: int,
    clients: int,
    days: int,
    end: dt.date | None = None,
    rates: Rates | None = None,
) -> Programme:
    """Draw the whole programme ``seed`` would write, and write nothing.

    The programme's ``counts`` then hold every table's rows (the demo's casework and
    drug checking aside); ``plan_summary`` gives them as ``SeedResult.summary`` does.
    """
    programme = Programme(
        seed=seed,
        sites=sites,
        clients=clients,
        days=days,
        end=end or timezone.localdate(),
        catalogue={i.code: [str(o) for o in i.options or [] if o] for i in _catalogue()},
        rates=rates,
    )
    for client in programme.clients():
        client.contacts.clear()  # counted: let them go
    for stream in (
        programme.anonymous_contacts(),
        programme.recent_overdoses(),
        programme.deliveries(),
    ):
        for _ in stream:
            pass
    return programme


def plan_summary(programme: Programme) -> dict[str, Any]:
    return SeedResult(
        programme,
        sites=len(programme.service_sites),
        regions=len(programme.sites) - len(programme.service_sites),
    ).summary()


@contextmanager
def bulk_loading() -> Iterator[None]:
    """SQLite settings for loading millions of rows, on this connection, restored after.

    - ``synchronous=OFF``: no fsync; the load is one transaction and, should the
      machine crash in the middle, the database is a made-up programme to seed again;
    - ``journal_mode=DELETE`` instead of WAL: in WAL mode every page of a
      multi-gigabyte transaction is written twice (log, then checkpoint), while a
      rollback journal only keeps the few pages the database had before;
    - a page cache of up to 1 GB (SQLite's default is 2 MB) for the primary-key
      indexes, whose keys are random UUIDs.

    Only when no transaction is open (a transaction cannot change the journal mode;
    under a test, nothing changes), and only on SQLite: PostgreSQL's settings are
    the server's.
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    before = {
        name: raw.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("synchronous", "journal_mode", "cache_size")
    }
    changed: list[str] = []
    for name, value in (
        ("synchronous", "OFF"),
        ("journal_mode", "DELETE"),
        ("cache_size", -1000000),
    ):
        try:
            raw.execute(f"PRAGMA {name} = {value}")
            changed.append(name)
        except sqlite3.OperationalError:
            # Another connection has the database open (a server, a test's thread):
            # leaving WAL is refused then. Seed in WAL mode, only slower.
            continue
    try:
        yield
    finally:
        for name in changed:
            try:
                raw.execute(f"PRAGMA {name} = {before[name]}")
            except sqlite3.OperationalError:
                # Another connection opened meanwhile; every new connection sets WAL
                # again (settings.py), so nothing is lost but this one's setting.
                continue


def _check_empty(demo: bool) -> None:
    if holds_programme():
        raise SeedError(
            "This database already holds sites, clients or contacts. Seed an empty "
            "database: point HARBOUR_VAR_DIR or DATABASE_URL at a new one (for the "
            "local demo: make clean-demo && make demo)."
        )
    if Organisation.get().uic_scheme != DEFAULT_SCHEME.to_json():
        raise SeedError("This programme has its own UIC scheme; seeding uses the default one.")
    seed_user = User.objects.filter(username=SEED_USERNAME).first()
    if not demo and seed_user and (seed_user.is_active or seed_user.has_usable_password()):
        raise SeedError(f"The user name {SEED_USERNAME} is already taken by a real account.")
    if demo:
        taken = sorted(
            User.objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True)
        )
        if taken:
            raise SeedError(
                "These user names are already taken by real accounts: " + ", ".join(taken) + "."
            )


def _demo_user(role: str) -> User:
    name = next(u.username for u in DEMO_USERS if u.role == role)
    return User.objects.get(username=name)


def _seed_user() -> User:
    user, created = User.objects.get_or_create(
        username=SEED_USERNAME,
        defaults={"is_active": False, "first_name": "Harbour", "last_name": "(seed)"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


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
