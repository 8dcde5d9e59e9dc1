"""`harbour import-bundle` with a programme's history: contacts, distributions, overdoses.

The cast's tree is in Harbour (North NTH-01, South STH-01 in region REG-A); each
bundle adds East (EST-01) and registers three people (see test_import_bundle). Of
them, the first is seen twice at East and has an overdose; the second once at North.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest

from harbour.audit.models import AuditEvent
from harbour.clients import services
from harbour.clients.models import Client
from harbour.sites.models import Site
from harbour.stock import services as stock
from harbour.stock.models import Balance, Movement
from harbour.visits import services as visits
from harbour.visits.models import CatalogueItem, Contact, Distribution, Overdose
from tests.factory import Cast, make_cast, make_client, parts
from tests.test_import_bundle import (
    CLIENTS,
    CLIENTS_HEADER,
    RAW_UIC,
    SITES,
    bundle,
    database_contains,
    run,
    run_failing,
)

# c1 and c4: the first client (written two ways); c2: anonymous; c3: the second client.
CONTACTS = """id,date,site,uic
c1,2024-02-01,EST-01,ANJOF891
c2,2024-02-01,EST-01,
c3,2024-02-03,NTH-01,bekam752
c4,2024-02-08,EST-01,an jo f 89 1
"""

DISTRIBUTIONS = """contact_id,item,quantity,secondary
c1,needle_syringe,10,no
c1,needle_syringe,20,yes
c1,swab,30,no
c2,naloxone_kit,1,no
c3,condom,12,No
c4,needle_syringe,5,no
"""

OVERDOSES = """id,date,site,uic,naloxone_doses,outcome,ems_called
o1,2024-02-02,EST-01,ANJOF891,2,survived,yes
o2,2024-02-05,NTH-01,,0,unknown,unknown
"""

HISTORY = {
    "sites": SITES,
    "clients": CLIENTS,
    "contacts": CONTACTS,
    "distributions": DISTRIBUTIONS,
    "overdoses": OVERDOSES,
}


def history(folder: Path, **changed: str) -> Path:
    """The whole bundle above, with some files replaced (or left out when given "")."""
    files = {name: text for name, text in {**HISTORY, **changed}.items() if text}
    return bundle(folder, **files)


def everything() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (Site, Client, Contact, Distribution, Overdose, Movement, Balance)
    )


def on_hand(site_code: str, item: str) -> int:
    balance = Balance.objects.filter(site__code=site_code, item__code=item).first()
    return balance.on_hand if balance else 0


def handed_out(contact: Contact) -> list[tuple[str, int, bool]]:
    return sorted((d.item.code, d.quantity, d.secondary) for d in contact.distributions.all())


def test_a_bundle_with_a_programmes_history_imports_contacts_distributions_and_overdoses(
    cast: Cast, tmp_path: Path
) -> None:
    outcome = run(history(tmp_path))

    assert "contacts.csv: 4 created, 0 unchanged, 0 conflicting" in outcome.stdout
    assert "distributions.csv: 6 created, 0 unchanged, 0 conflicting" in outcome.stdout
    assert "overdoses.csv: 2 created, 0 unchanged, 0 conflicting" in outcome.stdout
    first = services.find(parts()).client
    assert first is not None
    c1 = Contact.objects.get(external_id="c1")
    assert (c1.date, c1.site.code, c1.client) == (dt.date(2024, 2, 1), "EST-01", first)
    assert Contact.objects.get(external_id="c4").client == first  # the same UIC, spaced out
    assert Contact.objects.get(external_id="c2").anonymous
    assert Contact.objects.get(external_id="c3").client == Client.objects.get(gender="male")
    assert handed_out(c1) == [
        ("needle_syringe", 10, False),
        ("needle_syringe", 20, True),
        ("swab", 30, False),
    ]
    assert handed_out(Contact.objects.get(external_id="c3")) == [("condom", 12, False)]
    o1 = Overdose.objects.get(external_id="o1")
    assert (o1.date, o1.site.code, o1.client, o1.naloxone_doses) == (
        dt.date(2024, 2, 2),
        "EST-01",
        first,
        2,
    )
    assert (o1.outcome, o1.ems_called, o1.source) == ("survived", "yes", "staff")
    o2 = Overdose.objects.get(external_id="o2")
    assert (o2.client, o2.naloxone_doses, o2.outcome) == (None, 0, "unknown")


def test_importing_the_same_history_twice_changes_nothing_the_second_time(
    cast: Cast, tmp_path: Path
) -> None:
    path = history(tmp_path)
    run(path)
    before = everything(), list(Balance.objects.values_list("site", "item", "on_hand"))

    outcome = run(path)

    assert "contacts.csv: 0 created, 4 unchanged, 0 conflicting" in outcome.stdout
    assert "distributions.csv: 0 created, 6 unchanged, 0 conflicting" in outcome.stdout
    assert "overdoses.csv: 0 created, 2 unchanged, 0 conflicting" in outcome.stdout
    assert outcome.stderr == ""
    assert (everything(), list(Balance.objects.values_list("site", "item", "on_hand"))) == before


def test_one_bad_distribution_row_writes_nothing_at_all_and_names_file_line_and_column(
    cast: Cast, tmp_path: Path
) -> None:
    distributions = DISTRIBUTIONS + (
        "c1,clean_needles,5,no\nc2,condom,0,no\nc9,condom,3,no\nc3,condom,3,maybe\n"
    )
    before = everything()

    outcome = run_failing(history(tmp_path, distributions=distributions))

    assert outcome.lines[0].startswith(
        "distributions.csv:8: item: unknown catalogue item clean_needles; "
        "add it to Harbour's catalogue first, or use one of condom, cooker,"
    )
    assert outcome.lines[1:] == [
        "distributions.csv:9: quantity: must be between 1 and 1000000.",
        "distributions.csv:10: contact_id: no contact with this id in contacts.csv nor in Harbour.",
        "distributions.csv:11: secondary: use one of yes, no.",
    ]
    assert outcome.error == "4 errors in the bundle; nothing was written."
    # Not even the sites and clients, which were valid.
    assert everything() == before
    assert not AuditEvent.objects.filter(action="import.bundle").exists()


def test_an_unknown_uic_in_contacts_is_an_error_that_never_shows_the_uic(
    cast: Cast, tmp_path: Path
) -> None:
    contacts = CONTACTS + f"c5,2024-02-09,EST-01,{RAW_UIC}\nc6,2024-02-09,EST-01,7KX2M-Q9RTA\n"

    outcome = run_failing(history(tmp_path, contacts=contacts), "--format", "json")

    assert outcome.lines == [
        "contacts.csv:6: uic: no client with this UIC; add them to clients.csv.",
        "contacts.csv:7: uic: no client with this client code; add them to clients.csv.",
    ]
    assert json.loads(outcome.stdout)["errors"] == outcome.lines
    assert "QWZX" not in outcome.stdout + outcome.stderr
    assert Contact.objects.count() == 0


def test_a_uic_that_does_not_fit_the_scheme_is_reported_without_showing_it(
    cast: Cast, tmp_path: Path
) -> None:
    overdoses = OVERDOSES + f"o3,2024-02-05,NTH-01,{RAW_UIC}9,0,unknown,unknown\n"

    outcome = run_failing(history(tmp_path, overdoses=overdoses))

    assert outcome.lines == [
        "overdoses.csv:4: uic: must have 8 characters in this programme's scheme."
    ]
    assert "QWZX" not in outcome.stdout + outcome.stderr


def test_a_contact_of_a_client_already_in_harbour_is_theirs_by_uic_or_client_code(
    cast: Cast, tmp_path: Path
) -> None:
    person = make_client(cast.north)  # the same UIC as the bundle's first client
    contacts = (
        f"id,date,site,uic\nc1,2024-02-01,NTH-01,ANJOF891\nc2,2024-02-02,NTH-01,{person.code}\n"
    )

    run(bundle(tmp_path, sites=SITES, clients=f"{CLIENTS_HEADER}\n", contacts=contacts))

    assert [c.client for c in Contact.objects.order_by("date")] == [person, person]


def test_contacts_of_a_merged_record_go_to_the_record_kept(cast: Cast, tmp_path: Path) -> None:
    kept = make_client(cast.north, mother="ZE")
    duplicate = make_client(cast.north)
    services.merge(cast["admin"], kept, duplicate)
    contacts = "id,date,site,uic\nc1,2024-02-01,NTH-01,ANJOF891\n"

    run(bundle(tmp_path, sites=SITES, clients=f"{CLIENTS_HEADER}\n", contacts=contacts))

    assert Contact.objects.get().client == kept


def test_a_contact_changed_since_it_was_imported_is_a_conflict_and_not_applied(
    cast: Cast, tmp_path: Path
) -> None:
    run(history(tmp_path / "first"))
    # Only the changed contact: the others, and their distributions, are found in Harbour.
    contacts = "id,date,site,uic\nc1,2024-02-04,EST-01,\n"

    outcome = run(history(tmp_path / "second", contacts=contacts))

    first = services.find(parts()).client
    assert first is not None
    assert outcome.lines == [
        "Conflicting rows, not applied:",
        "contacts.csv:2: date: conflict: contact c1 has date 2024-02-01 here; "
        "the bundle says 2024-02-04.",
        f"contacts.csv:2: uic: conflict: contact c1 is for client {first.code} here; "
        "in the bundle it is anonymous.",
    ]
    assert "contacts.csv: 0 created, 0 unchanged, 1 conflicting" in outcome.stdout
    # Its distributions are still what Harbour holds for it: unchanged.
    assert "distributions.csv: 0 created, 6 unchanged, 0 conflicting" in outcome.stdout
    c1 = Contact.objects.get(external_id="c1")
    assert (c1.date, c1.client) == (dt.date(2024, 2, 1), first)


def test_other_distributions_for_a_contact_already_imported_are_a_conflict(
    cast: Cast, tmp_path: Path
) -> None:
    run(history(tmp_path / "first"))
    distributions = DISTRIBUTIONS.replace("c3,condom,12,No", "c3,condom,12,yes")

    outcome = run(history(tmp_path / "second", distributions=distributions), "--format", "json")

    report = json.loads(outcome.stdout)
    assert report["conflicts"] == [
        "distributions.csv:6: contact_id: conflict: contact c3 has condom × 12 here; "
        "the bundle says condom × 12 (secondary)."
    ]
    assert report["files"]["distributions.csv"] == {"created": 0, "unchanged": 5, "conflicts": 1}
    assert handed_out(Contact.objects.get(external_id="c3")) == [("condom", 12, False)]


def test_distributions_for_a_contact_recorded_with_nothing_handed_out_are_a_conflict(
    cast: Cast, tmp_path: Path
) -> None:
    contact, _ = visits.record_contact(None, cast.north, date=dt.date(2024, 2, 1))
    distributions = f"contact_id,item,quantity,secondary\n{contact.pk},condom,3,no\n"

    outcome = run(bundle(tmp_path, sites=SITES, clients=CLIENTS, distributions=distributions))

    assert outcome.lines[1] == (
        f"distributions.csv:2: contact_id: conflict: contact {contact.pk} has nothing handed "
        "out here; the bundle says condom × 3."
    )
    assert not Distribution.objects.exists()


def test_a_contact_recorded_in_harbour_and_exported_imports_again_unchanged(
    cast: Cast, tmp_path: Path
) -> None:
    # What export-bundle writes for a contact entered at the counter: its own UUID.
    person = make_client(cast.north)
    condom = CatalogueItem.objects.get(code="condom")
    visits.record_contact(None, cast.north, person, date=dt.date(2024, 1, 31))
    contact, _ = visits.record_contact(
        None,
        cast.north,
        person,
        date=dt.date(2024, 2, 1),
        lines=[visits.Line(condom, 3)],
    )
    contacts = f"id,date,site,uic\n{contact.pk},2024-02-01,NTH-01,{person.code}\n"
    distributions = f"contact_id,item,quantity,secondary\n{contact.pk},condom,3,no\n"

    outcome = run(
        bundle(
            tmp_path,
            sites=SITES,
            clients=f"{CLIENTS_HEADER}\n",
            contacts=contacts,
            distributions=distributions,
        )
    )

    assert "contacts.csv: 0 created, 1 unchanged, 0 conflicting" in outcome.stdout
    assert "distributions.csv: 0 created, 1 unchanged, 0 conflicting" in outcome.stdout
    assert Contact.objects.count() == 2


def test_a_changed_overdose_is_a_conflict_and_not_applied(cast: Cast, tmp_path: Path) -> None:
    run(history(tmp_path / "first"))
    overdoses = OVERDOSES.replace("2,survived,yes", "3,died,yes")

    outcome = run(history(tmp_path / "second", overdoses=overdoses))

    assert outcome.lines[1:] == [
        "overdoses.csv:2: naloxone_doses: conflict: overdose o1 has naloxone doses 2 here; "
        "the bundle says 3.",
        "overdoses.csv:2: outcome: conflict: overdose o1 has outcome survived here; "
        "the bundle says died.",
    ]
    assert Overdose.objects.get(external_id="o1").outcome == "survived"


def test_a_date_in_the_future_is_an_error(cast: Cast, tmp_path: Path) -> None:
    today = dt.date.today()
    tomorrow = today + dt.timedelta(days=1)
    contacts = CONTACTS + f"c5,{tomorrow},EST-01,\n"
    overdoses = OVERDOSES + f"o3,{tomorrow},EST-01,,0,unknown,unknown\n"

    outcome = run_failing(history(tmp_path, contacts=contacts, overdoses=overdoses))

    assert outcome.lines == [
        f"contacts.csv:6: date: is in the future (after {today.isoformat()}).",
        f"overdoses.csv:4: date: is in the future (after {today.isoformat()}).",
    ]


def test_every_error_in_the_history_files_is_listed(cast: Cast, tmp_path: Path) -> None:
    contacts = CONTACTS + "c1,2024-02-09,EST-01,\nc5,09/02/2024,REG-A,\nc6,2024-02-09,XYZ-01,\n"
    overdoses = OVERDOSES + "o3,2024-02-05,NTH-01,,-1,fine,sometimes\n"

    outcome = run_failing(history(tmp_path, contacts=contacts, overdoses=overdoses))

    assert outcome.lines == [
        "contacts.csv:6: id: c1 is already on line 2.",
        "contacts.csv:7: date: use a date written YYYY-MM-DD.",
        "contacts.csv:7: site: REG-A is a region; contacts happen at a site.",
        "contacts.csv:8: site: unknown site XYZ-01: not in sites.csv nor in Harbour.",
        "overdoses.csv:4: naloxone_doses: use a whole number written with digits only, such as 10.",
        "overdoses.csv:4: outcome: use one of survived, died, unknown.",
        "overdoses.csv:4: ems_called: use one of yes, no, unknown.",
    ]


def test_a_contact_row_with_an_error_is_not_reported_again_by_its_distributions(
    cast: Cast, tmp_path: Path
) -> None:
    contacts = CONTACTS.replace("c3,2024-02-03,NTH-01,", "c3,2024-02-30,NTH-01,")

    outcome = run_failing(history(tmp_path, contacts=contacts))

    assert outcome.lines == ["contacts.csv:4: date: not a real date."]


def test_a_contacts_file_without_a_uic_column_holds_anonymous_contacts(
    cast: Cast, tmp_path: Path
) -> None:
    contacts = "date,id,site\n2024-02-01,a1,NTH-01\n2024-02-02,a2,STH-01\n"

    outcome = run(bundle(tmp_path, sites=SITES, clients=CLIENTS, contacts=contacts))

    assert "contacts.csv: 2 created" in outcome.stdout
    assert all(contact.anonymous for contact in Contact.objects.all())


def test_stock_balances_go_down_by_what_the_imported_contacts_handed_out(
    cast: Cast, tmp_path: Path
) -> None:
    stock.deliver(None, cast.north, CatalogueItem.objects.get(code="condom"), 100)

    run(history(tmp_path))

    assert on_hand("NTH-01", "condom") == 100 - 12
    # East had no stock entered yet: its balances go below zero until it is counted.
    assert on_hand("EST-01", "needle_syringe") == -(10 + 20 + 5)
    assert on_hand("EST-01", "swab") == -30
    assert on_hand("EST-01", "naloxone_kit") == -1
    c1 = Contact.objects.get(external_id="c1")
    ledger = Movement.objects.filter(contact=c1, kind=Movement.Kind.DISTRIBUTION)
    assert sorted(ledger.values_list("item__code", "delta")) == [
        ("needle_syringe", -20),
        ("needle_syringe", -10),
        ("swab", -30),
    ]
    assert {m.date for m in ledger} == {c1.date}


def test_the_import_is_audited_in_one_summary_entry_not_one_entry_per_contact(
    cast: Cast, tmp_path: Path
) -> None:
    run(history(tmp_path))

    summary = AuditEvent.objects.get(action="import.bundle")
    assert summary.detail["files"]["contacts.csv"] == {"created": 4, "unchanged": 0, "conflicts": 0}
    assert summary.detail["files"]["overdoses.csv"]["created"] == 2
    assert not AuditEvent.objects.filter(action__in=["contact.create", "overdose.report"]).exists()


def test_a_dry_run_of_a_history_writes_nothing(cast: Cast, tmp_path: Path) -> None:
    before = everything()

    outcome = run(history(tmp_path), "--dry-run")

    assert "distributions.csv: 6 created" in outcome.stdout
    assert everything() == before


def test_distributions_of_contacts_in_harbour_need_no_contacts_file(
    cast: Cast, tmp_path: Path
) -> None:
    run(history(tmp_path / "first"))

    outcome = run(history(tmp_path / "second", contacts="", overdoses=""))

    assert "distributions.csv: 0 created, 6 unchanged, 0 conflicting" in outcome.stdout


def test_imported_contacts_keep_their_ids_from_one_import_to_the_next(
    cast: Cast, tmp_path: Path
) -> None:
    run(history(tmp_path))
    pk = Contact.objects.get(external_id="c1").pk
    Contact.objects.all().delete()  # as if into another Harbour

    run(history(tmp_path))

    assert Contact.objects.get(external_id="c1").pk == pk
    assert isinstance(pk, uuid.UUID) and pk.version == 5


@pytest.mark.django_db(transaction=True)
def test_the_raw_uic_is_nowhere_in_the_database_after_importing_contacts(tmp_path: Path) -> None:
    make_cast()
    clients = f"{CLIENTS_HEADER}\n{RAW_UIC},male,1965,yes,yes,2023-05-01,NTH-01\n"
    contacts = f"id,date,site,uic\nc1,2024-02-01,NTH-01,{RAW_UIC}\n"
    overdoses = f"id,date,site,uic,naloxone_doses,outcome,ems_called\no1,2024-02-01,NTH-01,{RAW_UIC},1,survived,no\n"

    outcome = run(
        bundle(tmp_path, sites=SITES, clients=clients, contacts=contacts, overdoses=overdoses)
    )

    assert "contacts.csv: 1 created" in outcome.stdout
    code = Client.objects.get().code
    assert Contact.objects.get().client.code == code  # type: ignore[union-attr]
    assert database_contains(code)
    assert not database_contains(RAW_UIC)
    assert not database_contains("QWZX")
