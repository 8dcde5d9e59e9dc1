"""`harbour seed`, `harbour demo-logins` and `harbour demo-otp`."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import F, Sum
from django_otp.plugins.otp_totp.models import TOTPDevice

from harbour.accounts.models import TWO_FACTOR_ROLES, Role, User
from harbour.audit.models import AuditEvent
from harbour.casework.models import Appointment, CaseAssignment, PartnerService, Referral
from harbour.casework.services import caseload, send_reminders, stale_referrals, todays_appointments
from harbour.clients import pseudonym as ps
from harbour.clients import services as client_services
from harbour.clients.models import Client, ClientLink, ClientPartial
from harbour.clients.uic import DEFAULT_SCHEME
from harbour.demo import services
from harbour.demo.generate import NATIONAL_RATES, RECENT_DAYS, WOMEN_ONLY_SESSION
from harbour.ost import board
from harbour.ost.models import DayClosed, Dose, Episode, Prescription
from harbour.ost.services import ADEQUATE_MG, below_adequate, close_day
from harbour.sites.models import Site, SiteKind
from harbour.stock.models import Balance, Movement
from harbour.stock.services import levels
from harbour.testing.cascades import hcv_cascade, hiv_cascade
from harbour.testing.models import Test, Treatment, ViralLoad
from harbour.testing.services import awaiting_confirmation, due_for_test
from harbour.visits.models import (
    CatalogueItem,
    ConsumptionSession,
    Contact,
    Distribution,
    Overdose,
    SiteSession,
)
from tests.factory import make_user
from tests.test_privacy import database_contains

END = dt.date(2026, 6, 30)
SMALL_CLIENTS = 80


def seed_small(seed: int, batch_size: int = 1000) -> services.SeedResult:
    return services.seed(
        seed=seed, sites=5, clients=SMALL_CLIENTS, days=30, end=END, batch_size=batch_size
    )


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def seed_demo() -> str:
    return run("seed", "--demo", "--clients", "60", "--days", "14", "--end-date", END.isoformat())


def rows(queryset: Any, *fields: str) -> list[str]:
    """Rows as text, sorted: database ids differ between runs, so they are left out."""
    return sorted(repr(row) for row in queryset.values_list(*fields))


def fingerprint() -> tuple[list[str], int, int, str]:
    """Client codes, the numbers of contacts and doses, and a digest of everything seeded."""
    codes = sorted(Client.objects.values_list("code", flat=True))
    contacts = rows(
        Contact.objects,
        *("id", "date", "site__code", "client__code", "session__weekday"),
        *("returned_equipment", "info_topics", "naloxone_training", "dropin_services"),
    )
    everything = (
        contacts,
        rows(Distribution.objects, "contact", "item__code", "option", "quantity", "secondary"),
        rows(ConsumptionSession.objects, "contact", "started", "ended", "overdose", "response"),
        rows(
            Overdose.objects,
            *("id", "date", "site__code", "client__code", "contact", "source"),
            *("naloxone_doses", "outcome", "ems_called"),
        ),
        rows(Movement.objects, "site__code", "item__code", "kind", "delta", "date", "contact"),
        rows(Balance.objects, "site__code", "item__code", "on_hand"),
        rows(
            Episode.objects,
            *("id", "client__code", "site__code", "medication", "start_date", "end_date"),
            *("end_reason", "start_context", "linked_service", "consent_on"),
        ),
        rows(
            Prescription.objects,
            *("episode", "dose_mg", "phase", "valid_from", "valid_to", "take_home_days"),
            *("reason", "author__username"),
        ),
        doses := rows(
            Dose.objects,
            *("id", "episode", "client__code", "site__code", "date", "medication"),
            *("dose_mg", "phase", "taken"),
        ),
        rows(DayClosed.objects, "site__code", "date"),
        rows(
            Test.objects,
            *("id", "client__code", "site__code", "date", "test", "kind", "result"),
            *("consent", "counselling", "needs_confirmation", "confirms"),
        ),
        rows(
            Treatment.objects,
            *("id", "client__code", "site__code", "condition", "start_date", "end_date"),
            *("outcome", "provider", "reason"),
        ),
        rows(ViralLoad.objects, "client__code", "date", "condition", "copies_per_ml"),
        rows(PartnerService.objects, "name", "kind", "friendly", "phone"),
        rows(CaseAssignment.objects, "client__code", "case_manager__username", "since"),
        rows(
            Referral.objects,
            *("id", "client__code", "service__name", "kind", "made_on", "status"),
            *("status_on", "reason"),
        ),
        rows(Appointment.objects, "id", "client__code", "at", "purpose", "referral", "attended"),
    )
    digest = hashlib.sha256(repr(everything).encode()).hexdigest()
    return codes, len(contacts), len(doses), digest


def seed_and_roll_back(seed: int, batch_size: int = 1000) -> tuple[list[str], int, int, str]:
    with transaction.atomic():
        seed_small(seed, batch_size)
        result = fingerprint()
        transaction.set_rollback(True)
    return result


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_programme() -> None:
    first = seed_and_roll_back(7)
    again = seed_and_roll_back(7)
    other = seed_and_roll_back(8)
    assert first[1] > 0
    assert first[2] > 0
    assert first == again
    assert other[0] != first[0]
    assert other[3] != first[3]


@pytest.mark.django_db
def test_the_programme_does_not_depend_on_the_batch_size() -> None:
    assert seed_and_roll_back(7, batch_size=3) == seed_and_roll_back(7)


@pytest.mark.django_db
def test_no_raw_uic_reaches_the_database() -> None:
    result = seed_small(3)
    uics = result.programme.uics
    assert len(uics) == SMALL_CLIENTS
    stored: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            stored.extend(str(value) for row in cursor.fetchall() for value in row)
    text = "\n".join(stored).upper()
    assert not [uic for uic in uics if uic in text]


@pytest.mark.django_db
def test_every_client_has_partials_and_a_link_to_the_site_of_registration() -> None:
    seed_small(4)
    clients = Client.objects.count()
    assert ClientPartial.objects.count() == clients * len(DEFAULT_SCHEME.components)
    assert ClientLink.objects.filter(site_id=F("client__site_id")).count() == clients
    anonymous = Contact.objects.filter(client=None).count()
    assert 0.15 < anonymous / Contact.objects.count() < 0.30


@pytest.mark.django_db
def test_planted_near_duplicates_are_flagged_when_the_person_is_looked_up() -> None:
    result = seed_small(5)
    programme = result.programme
    assert len(programme.near_duplicate_pairs) >= 2
    for duplicate, original in programme.near_duplicate_pairs:
        parts = DEFAULT_SCHEME.split(programme.uics[original])
        original_code = ps.client_code(ps.digests(parts, ps.current_key()).pseudonym)
        found = client_services.find(DEFAULT_SCHEME.split(programme.uics[duplicate]))
        assert original_code in [c.code for c in found.possible_duplicates]


@pytest.mark.django_db
def test_most_contacts_hand_out_equipment_and_some_take_it_for_others() -> None:
    seed_small(9)
    contacts = Contact.objects.exclude(site__kind=SiteKind.PRISON)
    with_needles = contacts.filter(distributions__item__code="needle_syringe").distinct()
    assert with_needles.count() > 0.5 * contacts.count()
    anonymous = Contact.objects.filter(client=None)
    assert anonymous.filter(distributions__isnull=False).distinct().count() > 0.5 * len(anonymous)
    for_others = contacts.filter(distributions__secondary=True).distinct().count()
    assert 0.04 < for_others / contacts.count() < 0.25
    options = CatalogueItem.objects.get(code="needle_syringe").options
    given = [
        d.option for d in Distribution.objects.filter(item__code="needle_syringe", secondary=False)
    ]
    assert set(given) <= set(options)
    assert max(set(given), key=given.count) == options[0]


@pytest.mark.django_db
def test_every_balance_is_the_sum_of_its_ledger() -> None:
    seed_small(10)
    handed_out = Distribution.objects.aggregate(total=Sum("quantity"))["total"]
    ledger = Movement.objects.filter(kind=Movement.Kind.DISTRIBUTION)
    assert ledger.count() == Distribution.objects.count()
    assert ledger.aggregate(total=Sum("delta"))["total"] == -handed_out
    totals = {
        (row["site"], row["item"]): row["total"]
        for row in Movement.objects.values("site", "item").annotate(total=Sum("delta")).order_by()
    }
    balances = {(b.site_id, b.item_id): b.on_hand for b in Balance.objects.all()}
    assert balances == totals
    assert min(balances.values()) >= 0
    delivered_to = set(
        Movement.objects.filter(kind=Movement.Kind.DELIVERY).values_list("site", flat=True)
    )
    assert delivered_to == set(
        Site.objects.exclude(kind=SiteKind.REGION).values_list("id", flat=True)
    )


@pytest.mark.django_db
def test_contacts_show_information_drop_in_services_sessions_and_consumption() -> None:
    seed_small(11)
    contacts = Contact.objects.all()
    total = contacts.count()
    assert 0.08 < contacts.exclude(info_topics=[]).count() / total < 0.35
    drop_in = contacts.filter(site__kind=SiteKind.DROP_IN)
    assert drop_in.exclude(dropin_services=[]).count() > 0.3 * drop_in.count()
    assert not contacts.exclude(site__kind=SiteKind.DROP_IN).exclude(dropin_services=[]).exists()
    dcr = contacts.filter(site__kind=SiteKind.DCR)
    sessions = ConsumptionSession.objects.all()
    assert sessions.filter(contact__site__kind=SiteKind.DCR).count() == sessions.count()
    assert sessions.count() > 0.5 * dcr.count()
    assert all(s.ended is not None and s.ended > s.started for s in sessions)
    assert contacts.filter(returned_equipment__gt=0).exists()
    with_sessions = Site.objects.filter(kind__in=[SiteKind.FIXED, SiteKind.DROP_IN])
    women_only = SiteSession.objects.filter(women_only=True, name=WOMEN_ONLY_SESSION)
    assert sorted(women_only.values_list("site", flat=True)) == sorted(
        with_sessions.values_list("id", flat=True)
    )
    linked = list(contacts.filter(session__isnull=False).select_related("client", "session"))
    assert linked
    for contact in linked:
        assert contact.session is not None and contact.client is not None
        assert contact.client.gender in ("female", "transgender")
        assert contact.date.weekday() == contact.session.weekday


@pytest.mark.django_db
def test_the_demos_main_site_had_overdoses_lately_and_is_running_low() -> None:
    output = seed_demo()
    for words in ("distributions", "consumption sessions", "overdoses", "stock movements"):
        assert words in output
    main = Site.objects.get(code="DAR-01")
    recent = Overdose.objects.filter(site=main, date__gt=END - dt.timedelta(days=RECENT_DAYS))
    assert recent.exists()
    assert Overdose.objects.count() < Contact.objects.count() / 10
    low = [line.item.code for line in levels(main, END) if line.warning]
    assert "naloxone_kit" in low or "water_ampoule" in low
    elsewhere = [
        line
        for site in Site.objects.exclude(kind=SiteKind.REGION).exclude(pk=main.pk)
        for line in levels(site, END)
        if line.on_hand and line.warning
    ]
    assert not elsewhere


@pytest.mark.django_db
def test_seeding_writes_one_summary_audit_entry() -> None:
    seed_small(6)
    entries = list(AuditEvent.objects.all())
    assert [e.action for e in entries] == ["demo.seed"]
    assert entries[0].detail["clients"] == SMALL_CLIENTS
    assert entries[0].detail["seed"] == 6


@pytest.mark.django_db
def test_the_demo_has_one_user_per_role_with_a_working_password() -> None:
    output = seed_demo()
    assert f"{len(Role)} demo users" in output
    users = services.demo_users()
    assert {role for u in users for role in u.roles()} == {r.value for r in Role}
    for user in users:
        assert user.check_password(services.demo_password(user.username))
        assert services.is_demo_user(user)
        has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        assert has_device == bool(user.roles() & TWO_FACTOR_ROLES)
    staff = User.objects.get(username="staff")
    assert staff.memberships.count() == 2  # so the site switcher shows
    assert User.objects.get(username="me").memberships.get().site is None


@pytest.mark.django_db
def test_the_demo_runs_a_drug_checking_service_with_sent_and_waiting_alerts() -> None:
    from harbour.drugchecking.models import Alert, AlertStatus, Sample

    output = seed_demo()
    assert "drug checking samples raising" in output
    assert Sample.objects.filter(analyses__isnull=False).exists()
    assert Sample.objects.filter(analyses__isnull=True).exists()  # awaiting a result
    statuses = set(Alert.objects.values_list("status", flat=True))
    assert {AlertStatus.PUBLISHED, AlertStatus.DRAFT} <= statuses
    nitazene = Sample.objects.filter(markings="M | 30")
    assert nitazene.count() == 3 and all(s.photo.jpeg for s in nitazene)
    # And a DHIS2 mapping for the M&E officer's screen.
    from harbour.dhis2.models import Mapping

    assert Mapping.objects.exists()


@pytest.mark.django_db
def test_seeding_the_demo_again_changes_nothing() -> None:
    seed_demo()
    before = (Client.objects.count(), Contact.objects.count(), User.objects.count())
    output = seed_demo()
    assert "already here" in output
    assert (Client.objects.count(), Contact.objects.count(), User.objects.count()) == before


@pytest.mark.django_db
def test_seeding_refuses_a_database_that_already_holds_a_programme(cast: Any) -> None:
    with pytest.raises(CommandError, match="already holds"):
        run("seed", "--clients", "10")
    assert Client.objects.count() == 0


@pytest.mark.django_db
def test_demo_logins_lists_every_demo_user_with_password_and_two_factor_hint() -> None:
    assert "No demo users" in run("demo-logins")
    seed_demo()
    output = run("demo-logins")
    assert "http://127.0.0.1:8000/" in output
    for spec in services.DEMO_USERS:
        assert spec.username in output
        assert services.demo_password(spec.username) in output
    assert ".venv/bin/harbour demo-otp <username>" in output


@pytest.mark.django_db
def test_demo_otp_prints_a_code_the_device_accepts() -> None:
    seed_demo()
    code = run("demo-otp", "sitemanager").strip()
    assert len(code) == 6
    assert code.isdigit()
    device = TOTPDevice.objects.get(user__username="sitemanager")
    assert device.verify_token(code)


@pytest.mark.django_db
def test_demo_otp_refuses_a_user_who_is_not_a_demo_user() -> None:
    real = make_user("admin", Role.ADMIN, None, email="admin@example.org")
    TOTPDevice.objects.create(user=real, name=services.DEVICE_NAME, confirmed=True)
    with pytest.raises(CommandError, match="not a demo user"):
        run("demo-otp", "admin")
    with pytest.raises(CommandError, match="not a demo user"):
        run("demo-otp", "nobody-at-all")


@pytest.mark.django_db
def test_seeding_the_demo_refuses_when_a_real_account_has_a_demo_name() -> None:
    make_user("staff", Role.STAFF, None, email="staff@example.org")
    with pytest.raises(CommandError, match="already taken"):
        seed_demo()
    assert Client.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "command", [("seed", "--demo"), ("seed",), ("demo-logins",), ("demo-otp", "admin")]
)
def test_demo_commands_refuse_to_run_in_production(settings: Any, command: tuple[str]) -> None:
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        run(*command)
    assert Client.objects.count() == 0


# -- OST ------------------------------------------------------------------------------


def seed_ost_demo() -> str:
    """The demo, with enough people at the main site for its dispensing board."""
    return run("seed", "--demo", "--clients", "600", "--days", "30", "--end-date", END.isoformat())


@pytest.mark.django_db
def test_the_demos_main_site_has_people_on_ost_with_a_dose_history() -> None:
    output = seed_ost_demo()
    assert "OST episodes" in output
    main = Site.objects.get(code="DAR-01")
    clinician = User.objects.get(username="clinician")
    ongoing = Episode.objects.filter(site=main, end_date=None)
    assert ongoing.count() >= 5
    assert set(ongoing.values_list("prescriber", flat=True)) == {clinician.pk}
    assert Dose.objects.filter(site=main, date__lt=END).count() > 20 * ongoing.count()
    assert Episode.objects.exclude(end_date=None).exists()
    assert set(Prescription.objects.values_list("author", flat=True)) == {clinician.pk}
    for episode in Episode.objects.all():
        assert episode.consent_on == episode.start_date
    # Someone in maintenance at the main site below 60 mg methadone or 8 mg buprenorphine.
    low = below_adequate(main, END)
    assert low
    assert all(p.dose_mg < ADEQUATE_MG[e.medication] for e, p in low)


@pytest.mark.django_db
def test_the_board_on_the_last_day_shows_people_waiting_for_a_review() -> None:
    seed_ost_demo()
    main = Site.objects.get(code="DAR-01")
    statuses = [row.status for row in board.build(main, END)]
    assert statuses.count("blocked") >= 2
    assert statuses.count("due") >= 2
    assert statuses.count("given") >= 2
    # Elsewhere nobody missed three days in a row: missed days come in short runs.
    for site in Site.objects.exclude(pk=main.pk).exclude(kind=SiteKind.REGION):
        assert "blocked" not in [row.status for row in board.build(site, END)]
    # The seeded days are closed: day end finds nothing more to record.
    assert close_day(main, END - dt.timedelta(days=1)) == 0
    assert close_day(main, END - dt.timedelta(days=29)) == 0  # the first day


@pytest.mark.django_db
def test_every_dose_follows_its_prescription_within_its_episode() -> None:
    seed_ost_demo()
    start = END - dt.timedelta(days=29)
    prescriptions: dict[Any, list[Prescription]] = {}
    for p in Prescription.objects.order_by("valid_from"):
        prescriptions.setdefault(p.episode_id, []).append(p)
    episodes = {e.pk: e for e in Episode.objects.all()}
    dates: dict[Any, list[dt.date]] = {}
    doses = list(Dose.objects.order_by("date"))
    for dose in doses:
        episode = episodes[dose.episode_id]
        assert episode.start_date <= dose.date <= (episode.end_date or END)
        assert start <= dose.date
        valid = [
            p
            for p in prescriptions[episode.pk]
            if p.valid_from <= dose.date and (p.valid_to is None or dose.date <= p.valid_to)
        ]
        assert len(valid) == 1
        assert (dose.dose_mg, dose.phase) == (valid[0].dose_mg, valid[0].phase)
        assert dose.medication == episode.medication
        assert dose.site_id == episode.site_id
        if dose.taken == Dose.Taken.TAKE_HOME:
            assert dose.date.weekday() in valid[0].take_home_days
        dates.setdefault(episode.pk, []).append(dose.date)
    # One dose for each day before the last, none missing, none twice.
    for pk, days in dates.items():
        episode = episodes[pk]
        first = max(episode.start_date, start)
        last = min(episode.end_date or END, END - dt.timedelta(days=1))
        expected = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
        assert [d for d in days if d < END] == expected
    missed = sum(d.taken == Dose.Taken.MISSED for d in doses)
    assert 0.02 < missed / len(doses) < 0.08
    assert any(d.taken == Dose.Taken.TAKE_HOME for d in doses)


@pytest.mark.django_db
def test_seeding_without_the_demo_authors_prescriptions_as_an_inactive_seed_user() -> None:
    summary = seed_small(12).summary()
    author = User.objects.get(username=services.SEED_USERNAME)
    assert not author.is_active
    assert not author.has_usable_password()
    assert set(Prescription.objects.values_list("author", flat=True)) == {author.pk}
    assert not Episode.objects.exclude(prescriber=None).exists()
    assert summary["ost_doses"] == Dose.objects.count() > 0
    assert summary["ost_episodes_ongoing"] == Episode.objects.filter(end_date=None).count()
    assert summary["ost_episodes"] == Episode.objects.count()


# -- testing and casework -------------------------------------------------------------


@pytest.mark.django_db
def test_seeding_without_the_demo_records_tests_and_treatments_but_no_casework() -> None:
    summary = seed_small(13).summary()
    assert summary["tests"] == Test.objects.count() > 0
    assert summary["treatments"] == Treatment.objects.count()
    assert summary["viral_loads"] == ViralLoad.objects.count()
    assert not Test.objects.filter(consent=False).exists()
    assert not Referral.objects.exists()
    assert not CaseAssignment.objects.exists()
    # Every confirmation is a laboratory test of the same person.
    for test in Test.objects.exclude(confirms=None).select_related("confirms"):
        assert test.kind == "laboratory"
        assert test.confirms is not None and test.confirms.client_id == test.client_id


@pytest.mark.django_db
def test_the_main_sites_cascades_show_every_step_with_losses() -> None:
    seed_ost_demo()
    main = Site.objects.get(code="DAR-01")
    for cascade in (hiv_cascade(END, [main.pk]), hcv_cascade(END, [main.pk])):
        counts = list(cascade.values())
        assert counts[-1] > 0, cascade
        assert all(later < earlier for earlier, later in itertools.pairwise(counts)), cascade
    here = Client.objects.filter(site=main)
    assert due_for_test(here, END)
    assert awaiting_confirmation(here).filter(test="hiv").count() >= 2


@pytest.mark.django_db
def test_the_case_managers_morning_lists_have_work_and_reminders_go_out() -> None:
    seed_ost_demo()
    people = caseload(User.objects.get(username="casemanager"))
    assert 20 <= people.count() <= 25
    assert set(people.values_list("site__code", flat=True)) == {"DAR-01"}
    assert stale_referrals(people, END)
    assert todays_appointments(people, END)
    statuses = set(Referral.objects.values_list("status", flat=True))
    assert {"made", "accepted", "attended", "not_attended"} <= statuses
    assert not Referral.objects.filter(status="not_attended", reason="").exists()
    assert PartnerService.objects.count() >= 8
    assert people.filter(reminders=True).exclude(phone="").exists()
    tomorrow = Appointment.objects.filter(
        at__date=END + dt.timedelta(days=1), client__reminders=True
    )
    now = min(a.at for a in tomorrow) - dt.timedelta(hours=12)
    assert send_reminders(now=now) > 0


@pytest.mark.django_db(transaction=True)
def test_no_phone_number_is_stored_in_the_clear() -> None:
    seed_demo()
    phones = list(Client.objects.exclude(phone="").values_list("phone", flat=True))
    assert phones
    # Committed: search what the database holds, as someone with the file would
    # (SQLite: the file and its write-ahead log; PostgreSQL: every text column).
    assert database_contains("casemanager")  # the search does see the seeded data
    for phone in phones:
        assert not database_contains(phone)


# -- the fast writer and the national scale -------------------------------------------


def stored_rows(tables: list[str]) -> dict[str, list[str]]:
    """Every stored value of these tables, as the database holds it, rows sorted.

    Left out: integer ids (the order of the writes gives them) and timestamps (the
    moment of seeding); the sites, sessions and users a row points to are named, as
    PostgreSQL's sequences number them anew for each seeding. On SQLite each value
    comes with its storage class, so that a date stored as text and as a number, or
    80 and "80.00", differ.
    """
    named = {
        "site_id": dict(Site.objects.values_list("pk", "code")),
        "other_site_id": dict(Site.objects.values_list("pk", "code")),
        "session_id": {
            s.pk: f"{s.site.code} {s.weekday}" for s in SiteSession.objects.select_related("site")
        },
        "author_id": dict(User.objects.values_list("pk", "username")),
        "prescriber_id": dict(User.objects.values_list("pk", "username")),
    }
    if connection.vendor == "sqlite":  # the values come typed: "integer:12"
        named = {
            column: {f"integer:{pk}": label for pk, label in labels.items()}
            for column, labels in named.items()
        }
    found: dict[str, list[str]] = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {quote(table)} WHERE 1 = 0")
            names = [column[0] for column in cursor.description]
            kept = [n for n in names if n != "id" and not n.endswith("_at")]
            if table == Client._meta.db_table:
                kept = [n for n in names if not n.endswith("_at")]
            if connection.vendor == "sqlite":
                columns = ", ".join(f"typeof({quote(n)}) || ':' || quote({quote(n)})" for n in kept)
            else:
                columns = ", ".join(quote(n) for n in kept)
            cursor.execute(f"SELECT {columns} FROM {quote(table)}")
            found[table] = sorted(
                repr(tuple(named.get(n, {}).get(v, v) for n, v in zip(kept, row, strict=True)))
                for row in cursor.fetchall()
            )
    return found


def seed_with(fast: bool) -> tuple[dict[str, int], dict[str, list[str]]]:
    with transaction.atomic():
        result = services.seed(
            seed=21, sites=9, clients=120, days=40, end=END, batch_size=50, fast=fast
        )
        stored = stored_rows(sorted(result.rows))
        transaction.set_rollback(True)
    return result.rows, stored


@pytest.mark.django_db
def test_the_fast_writer_stores_exactly_what_the_orm_stores() -> None:
    orm_rows, orm = seed_with(fast=False)
    fast_rows, fast = seed_with(fast=True)
    assert orm_rows == fast_rows
    assert orm_rows["visits_contact"] > 0 and orm_rows["ost_dose"] > 0
    for table in orm:
        assert fast[table] == orm[table], table


@pytest.mark.django_db
def test_dose_rows_follow_the_plans_doses_day_by_day() -> None:
    from harbour.demo.generate import Programme, dose_id, doses
    from harbour.demo.sink import OrmSink
    from harbour.demo.writer import _dose_rows

    programme = Programme(seed=4, sites=8, clients=300, days=60, end=END)
    episodes = [e for plan in programme.clients() for e in plan.episodes]
    assert episodes
    for episode in episodes:
        expected = [
            (
                dose_id(episode.id, d.date),
                d.date,
                d.prescription.dose_mg,
                d.prescription.phase,
                d.taken,
            )
            for d in doses(episode, programme.start, programme.end)
        ]
        rows = _dose_rows(episode, programme.start, programme.end, "e", "c", 1, OrmSink(10))
        assert [(r[0], r[4], r[6], r[7], r[8]) for r in rows] == expected


def schema() -> list[str]:
    """The indexes and foreign keys of the tables the seeder writes in bulk."""
    tables = [
        m._meta.db_table
        for m in (Client, ClientPartial, ClientLink, Contact, Distribution, Movement, Dose, Test)
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            found = []
            for table in tables:
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s",
                    [table],
                )
                found += [repr(row) for row in cursor.fetchall()]
                cursor.execute(f"PRAGMA foreign_key_list({connection.ops.quote_name(table)})")
                found += [f"{table}: {row!r}" for row in cursor.fetchall()]
            return sorted(found)
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [tables]
        )
        found = [repr(row) for row in cursor.fetchall()]
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s)",
            [tables],
        )
        return sorted(found + [repr(row) for row in cursor.fetchall()])


@pytest.mark.django_db(transaction=True)
def test_seeding_puts_back_every_index_and_key_and_the_connections_settings() -> None:
    """Outside any transaction, as ``harbour seed`` runs: the bulk path in full."""
    before = schema()
    pragmas = ("synchronous", "journal_mode", "cache_size", "foreign_keys")

    def settings_now() -> list[Any]:
        with connection.cursor() as cursor:
            if connection.vendor != "sqlite":
                return []
            values = []
            for name in pragmas:
                cursor.execute(f"PRAGMA {name}")
                values.append(cursor.fetchone()[0])
            return values

    settings = settings_now()
    result = seed_small(22)
    assert result.rows["visits_contact"] == Contact.objects.count() > 0
    assert schema() == before
    assert settings_now() == settings
    # Every row has its parents: the keys hold.
    assert not Distribution.objects.exclude(contact__in=Contact.objects.all()).exists()
    assert Dose.objects.filter(episode__client_id=F("client_id")).count() == Dose.objects.count()


@pytest.mark.django_db
def test_the_national_scale_is_50_sites_100000_clients_and_two_years() -> None:
    from harbour.demo.generate import NATIONAL_RATES, SCALES

    national = SCALES["national"]
    assert (national.sites, national.clients, national.days) == (50, 100_000, 730)
    assert national.rates is NATIONAL_RATES
    output = run("seed", "--scale", "national", "--dry-run", "--clients", "5", "--seed", "3")
    assert output.startswith("Would seed 2 regions, 50 sites, 5 clients")
    assert "over 730 days" in output
    assert not Client.objects.exists() and not Site.objects.exists()  # nothing written


@pytest.mark.django_db
def test_the_national_rates_give_ten_million_contacts_and_20000_people_on_ost() -> None:
    """Drawn for 1,500 of the 100,000 clients, and scaled up: the plan, not a build."""
    from harbour.demo.generate import SCALES

    national = SCALES["national"]
    sample = 1_500
    programme = services.plan(
        seed=1,
        sites=national.sites,
        clients=sample,
        days=national.days,
        end=dt.date(2025, 12, 31),
        rates=national.rates,
    )
    scale = national.clients / sample
    counts = programme.counts
    contacts = (counts.client_contacts + counts.anonymous_contacts) * scale
    on_ost = (counts.episodes_ongoing + counts.episodes_ended) * scale
    assert 8_500_000 < contacts < 11_500_000
    assert 16_000 < on_ost < 24_000
    assert counts.doses * scale > 6_000_000
    # The demo's rates are untouched: the same seed draws the same demo as ever.
    assert services.plan(seed=1, sites=8, clients=50, days=14, end=END).rates.name == "demo"


@pytest.mark.django_db
def test_explicit_sizes_override_the_scales() -> None:
    output = run(
        "seed", "--scale", "national", "--dry-run", "--sites", "4", "--clients", "3", "--days", "9"
    )
    assert "4 sites, 3 clients" in output
    assert "over 9 days" in output


@pytest.mark.django_db
def test_the_whole_programmes_query_shapes_count_what_the_sites_shapes_count() -> None:
    """compute() asks each client for the whole programme and semi-joins for a site:
    on a seeded programme, all its sites together give the same figures, and PRV.8
    and PRV.10 are what the definitions say, counted here in Python."""
    from harbour.ost import indicators as ost_indicators
    from harbour.reports import indicators
    from harbour.testing.models import Test

    year = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
    services.seed(seed=5, sites=9, clients=150, days=500, end=year[1], rates=NATIONAL_RATES)
    everywhere = set(Site.objects.values_list("pk", flat=True))
    for months in (12, 3):
        whole = indicators.pwid_indicators(*year, None, months=months)
        sites = indicators.pwid_indicators(*year, everywhere, months=months)
        assert whole == sites
    assert indicators.handed_out(*year) == indicators.handed_out(*year, everywhere)
    assert ost_indicators.prv11(*year) == ost_indicators.prv11(*year, everywhere)
    assert set(ost_indicators.active_clients(*year).values_list("pk", flat=True)) == set(
        ost_indicators.active_clients(*year, everywhere).values_list("pk", flat=True)
    )
    # PRV.8 and PRV.10 by hand.
    in_year = Contact.objects.filter(date__range=year)
    ns_lines = Distribution.objects.filter(
        contact__in=in_year, item__code="needle_syringe", quantity__gt=0
    )
    receivers = set(
        ns_lines.exclude(contact__client=None).values_list("contact__client", flat=True)
    )
    active = (
        set(in_year.exclude(client=None).values_list("client", flat=True))
        | set(
            Dose.objects.filter(date__range=year)
            .exclude(taken="missed")
            .values_list("client", flat=True)
        )
        | set(Test.objects.filter(date__range=year).values_list("client", flat=True))
        | set(Treatment.objects.filter(start_date__range=year).values_list("client", flat=True))
    )
    pwid = set(Client.objects.filter(injects="yes").values_list("pk", flat=True))
    report = indicators.compute("2025")["indicators"]
    assert (report["PRV.8"]["numerator"], report["PRV.8"]["denominator"]) == (
        len(receivers & pwid),
        len(active & pwid),
    )
    assert report["PRV.10"]["numerator"] == sum(ns_lines.values_list("quantity", flat=True))
    assert report["PRV.10"]["denominator"] == len(receivers) > 0
