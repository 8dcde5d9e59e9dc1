"""`harbour import-bundle`: a programme's records arrive as a bundle of CSV files.

The cast's tree is already in Harbour: region REG-A with North (NTH-01) and South
(STH-01). Bundles below add region REG-B with East (EST-01) and register people.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import zipfile
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from harbour.audit.models import AuditEvent
from harbour.clients import services
from harbour.clients.models import Client, ClientLink, ClientPartial
from harbour.exchange import bundle as bundle_module
from harbour.exchange import services as exchange_services
from harbour.exchange.importers import IMPORTERS
from harbour.exchange.pseudonyms import code_only_pseudonym
from harbour.lib.keys import parse_ring
from harbour.sites.models import Site, SiteKind
from tests.factory import Cast, make_cast, make_client, parts

CLIENTS_HEADER = "uic,gender,birth_year,injects,opioid_dependent,registered_on,site"

SITES = """code,name,kind,parent
REG-B,Region B,region,
EST-01,East Centre,fixed,REG-B
"""

# Three people; the first is the same UIC as tests.factory.make_client's default.
CLIENTS = f"""{CLIENTS_HEADER}
ANJOF891,female,1989,yes,unknown,2023-05-01,EST-01
BEKAM752,male,1975,no,yes,2023-06-12,NTH-01
CODUX003,other,,unknown,no,2024-01-20,EST-01
"""

# Never in the database, the output or the audit log: only in the bundle on disk.
RAW_UIC = "QWZXM654"


@dataclass
class Outcome:
    stdout: str
    stderr: str
    error: str = ""  # the CommandError's message, when the command failed

    @property
    def lines(self) -> list[str]:
        return self.stderr.splitlines()


def bundle(folder: Path, **files: str) -> Path:
    """A bundle folder with ``name=text`` files, e.g. bundle(tmp_path, sites=..., clients=...)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def run(path: Path, *args: str) -> Outcome:
    out, err = StringIO(), StringIO()
    call_command("import-bundle", str(path), *args, stdout=out, stderr=err)
    return Outcome(out.getvalue(), err.getvalue())


def run_failing(path: Path, *args: str) -> Outcome:
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("import-bundle", str(path), *args, stdout=out, stderr=err)
    return Outcome(out.getvalue(), err.getvalue(), str(failure.value))


def counts() -> tuple[int, int]:
    return Site.objects.count(), Client.objects.count()


def database_contains(text: str) -> bool:
    """Look for ``text`` in everything the database holds, as someone with the file would."""
    connection.close()  # SQLite keeps recent pages in the -wal file; closing checkpoints it
    if connection.vendor == "sqlite":
        name = Path(connection.settings_dict["NAME"])
        files = [name, Path(f"{name}-wal"), Path(f"{name}-shm")]
        return any(text.encode() in p.read_bytes() for p in files if p.exists())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' "
            "AND data_type IN ('text', 'character varying', 'jsonb', 'json')"
        )
        for table, column in cursor.fetchall():
            cursor.execute(
                f'SELECT 1 FROM "{table}" WHERE "{column}"::text ILIKE %s LIMIT 1',
                [f"%{text}%"],
            )
            if cursor.fetchone():
                return True
    return False


def test_a_valid_bundle_creates_its_sites_and_clients(cast: Cast, tmp_path: Path) -> None:
    outcome = run(bundle(tmp_path, sites=SITES, clients=CLIENTS))

    assert "sites.csv: 2 created, 0 unchanged, 0 conflicting" in outcome.stdout
    assert "clients.csv: 3 created, 0 unchanged, 0 conflicting" in outcome.stdout
    east = Site.objects.get(code="EST-01")
    assert (east.name, east.kind, east.parent) == (
        "East Centre",
        SiteKind.FIXED,
        Site.objects.get(code="REG-B", kind=SiteKind.REGION),
    )
    client = Client.objects.get(site=east, gender="female")
    assert (client.birth_year, client.injects, client.opioid_dependent) == (1989, "yes", "unknown")
    # Registered by the programme, which registers people only with their consent.
    assert client.registered_on == client.consent_on == dt.date(2023, 5, 1)
    assert ClientPartial.objects.filter(client=client).count() == 5
    assert ClientLink.objects.filter(client=client, site=east).exists()
    assert Client.objects.get(gender="other").birth_year is None


def test_an_imported_client_is_found_by_uic_like_one_registered_at_the_counter(
    cast: Cast, tmp_path: Path
) -> None:
    run(bundle(tmp_path, sites=SITES, clients=CLIENTS))

    found = services.find(parts())
    assert found.client is not None and found.client.site.code == "EST-01"
    # Partials are written as at the counter, so near-duplicates are flagged.
    assert services.find(parts(order="2")).possible_duplicates == [found.client]


def test_every_creation_is_in_the_audit_log_with_a_summary_of_the_import(
    cast: Cast, tmp_path: Path
) -> None:
    run(bundle(tmp_path, sites=SITES, clients=CLIENTS))

    created = AuditEvent.objects.filter(action="client.create", actor_name="import")
    assert created.count() == 3
    for event in created:
        client = Client.objects.get(pk=event.object_id)
        assert event.object_type == "client"
        assert event.site_id == client.site_id
        assert event.detail == {"code": client.code, "source": "import"}
    assert AuditEvent.objects.filter(action="site.create").count() == 2
    summary = AuditEvent.objects.get(action="import.bundle")
    assert summary.detail["files"]["clients.csv"] == {"created": 3, "unchanged": 0, "conflicts": 0}


def test_the_user_option_names_the_person_importing_in_the_audit_log(
    cast: Cast, tmp_path: Path
) -> None:
    run(bundle(tmp_path, sites=SITES, clients=CLIENTS), "--user", cast["admin"].username)

    event = AuditEvent.objects.filter(action="client.create").first()
    assert event is not None and event.actor == cast["admin"]
    assert Client.objects.filter(created_by=cast["admin"]).count() == 3


def test_importing_the_same_bundle_twice_changes_nothing_the_second_time(
    cast: Cast, tmp_path: Path
) -> None:
    path = bundle(tmp_path, sites=SITES, clients=CLIENTS)
    run(path)
    before = counts(), list(Client.objects.values_list("pk", "code", "pseudonym", "updated_at"))

    outcome = run(path)

    assert "sites.csv: 0 created, 2 unchanged, 0 conflicting" in outcome.stdout
    assert "clients.csv: 0 created, 3 unchanged, 0 conflicting" in outcome.stdout
    after = counts(), list(Client.objects.values_list("pk", "code", "pseudonym", "updated_at"))
    assert after == before
    assert AuditEvent.objects.filter(action="client.create").count() == 3


def test_a_bundle_with_one_bad_row_writes_nothing_and_names_file_line_and_column(
    cast: Cast, tmp_path: Path
) -> None:
    bad = CLIENTS.replace("CODUX003,other,,", "CODUX003,other,89,")
    before = counts()

    outcome = run_failing(bundle(tmp_path, sites=SITES, clients=bad))

    assert outcome.lines == ["clients.csv:4: birth_year: use four digits, or leave the cell blank."]
    assert outcome.error == "1 error in the bundle; nothing was written."
    assert counts() == before
    assert not AuditEvent.objects.filter(action__in=["client.create", "import.bundle"]).exists()


def test_every_error_in_every_file_is_listed_not_only_the_first(cast: Cast, tmp_path: Path) -> None:
    today = dt.date.today()
    sites = SITES + "WST-01,West,warehouse,REG-B\n"
    clients = f"""{CLIENTS_HEADER}
ANJOF891,woman,1989,yes,unknown,2023-05-01,EST-01
BEKAM752,male,1850,maybe,yes,23/06/2023,NTH-01
CODUX003,other,,unknown,no,{today + dt.timedelta(days=1)},EST-01
"""
    outcome = run_failing(bundle(tmp_path, sites=sites, clients=clients))

    assert outcome.lines == [
        "sites.csv:4: kind: use one of region, fixed, outreach, drop_in, dcr, pharmacy, "
        "prison, mobile.",
        "clients.csv:2: gender: use one of female, male, transgender, other, unknown.",
        f"clients.csv:3: birth_year: must be between 1900 and {today.year}.",
        "clients.csv:3: injects: use one of yes, no, unknown.",
        "clients.csv:3: registered_on: use a date written YYYY-MM-DD.",
        f"clients.csv:4: registered_on: is in the future (after {today.isoformat()}).",
    ]
    assert outcome.error == "6 errors in the bundle; nothing was written."


def test_an_unknown_column_is_an_error(cast: Cast, tmp_path: Path) -> None:
    clients = CLIENTS.replace("site\n", "site,notes\n", 1).replace("EST-01\n", "EST-01,x\n")
    clients = clients.replace("NTH-01\n", "NTH-01,x\n")

    outcome = run_failing(bundle(tmp_path, sites=SITES, clients=clients))

    assert outcome.lines[0].startswith("clients.csv:1: notes: unknown column")
    assert counts() == (3, 0)


def test_a_missing_required_column_is_an_error(cast: Cast, tmp_path: Path) -> None:
    sites = "code,name,parent\nEST-01,East Centre,\n"

    outcome = run_failing(bundle(tmp_path, sites=sites, clients=CLIENTS))

    assert "sites.csv:1: kind: required column is missing." in outcome.lines


def test_columns_may_come_in_any_order_and_the_file_may_start_with_a_bom(
    cast: Cast, tmp_path: Path
) -> None:
    sites = "\ufeffparent,kind,name,code\nREG-A,outreach,Van,VAN-1\n"
    clients = f"\ufeffsite,uic,{CLIENTS_HEADER.rsplit(',', 1)[0].split(',', 1)[1]}\n"
    clients += "VAN-1,ANJOF891,female,1989,yes,unknown,2023-05-01\n"

    outcome = run(bundle(tmp_path, sites=sites, clients=clients))

    assert "clients.csv: 1 created" in outcome.stdout
    assert Client.objects.get().site.code == "VAN-1"


def test_a_missing_required_file_is_an_error(cast: Cast, tmp_path: Path) -> None:
    outcome = run_failing(bundle(tmp_path, sites=SITES))

    assert "clients.csv:0: -: required file is missing." in outcome.lines
    assert counts() == (3, 0)


def test_a_file_of_the_format_this_version_cannot_import_yet_is_refused(
    cast: Cast, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # This version imports every file of the format: a later version of the format
    # adding one (made up here) must see it refused, never silently skipped.
    monkeypatch.setattr(
        exchange_services, "SPEC_FILES", (*bundle_module.SPEC_FILES, "needle_returns.csv")
    )
    returns = "contact_id,quantity\nc1,40\n"

    outcome = run_failing(bundle(tmp_path, sites=SITES, clients=CLIENTS, needle_returns=returns))

    assert outcome.lines[0].startswith("needle_returns.csv:0: -: not supported yet by this version")
    assert counts() == (3, 0)


def test_every_file_of_the_format_has_an_importer() -> None:
    assert {cls.file_name for cls in IMPORTERS} == set(bundle_module.SPEC_FILES)


def test_a_file_the_format_does_not_know_is_refused(cast: Cast, tmp_path: Path) -> None:
    outcome = run_failing(bundle(tmp_path, sites=SITES, clients=CLIENTS, Clients_old="x\n"))

    assert outcome.lines[0].startswith("Clients_old.csv:0: -: unknown file")


def test_a_file_not_saved_as_utf8_is_refused_at_its_first_bad_line(
    cast: Cast, tmp_path: Path
) -> None:
    path = bundle(tmp_path, clients=CLIENTS)
    (path / "sites.csv").write_bytes(SITES.replace("East", "\u00c9ast").encode("latin-1"))

    outcome = run_failing(path)

    assert "sites.csv:3: -: not UTF-8 text; save the file as UTF-8 CSV." in outcome.lines


def test_a_client_at_an_unknown_site_is_an_error(cast: Cast, tmp_path: Path) -> None:
    clients = CLIENTS.replace("NTH-01", "NTH-99")

    outcome = run_failing(bundle(tmp_path, sites=SITES, clients=clients))

    assert (
        "clients.csv:3: site: unknown site NTH-99: not in sites.csv nor in Harbour."
        in outcome.lines
    )


def test_a_client_cannot_be_registered_at_a_region(cast: Cast, tmp_path: Path) -> None:
    clients = CLIENTS.replace("NTH-01", "REG-A")

    outcome = run_failing(bundle(tmp_path, sites=SITES, clients=clients))

    assert (
        "clients.csv:3: site: REG-A is a region; clients are registered at a site." in outcome.lines
    )


def test_a_parent_listed_later_in_the_file_is_found(cast: Cast, tmp_path: Path) -> None:
    sites = """code,name,kind,parent
EST-02,East Pharmacy,pharmacy,EST-01
EST-01,East Centre,fixed,REG-B
REG-B,Region B,region,REG-A
"""
    run(bundle(tmp_path, sites=sites, clients=CLIENTS))

    pharmacy = Site.objects.get(code="EST-02")
    assert [s.code for s in pharmacy.ancestors()] == ["EST-01", "REG-B", "REG-A"]


def test_parents_that_form_a_cycle_are_reported(cast: Cast, tmp_path: Path) -> None:
    sites = """code,name,kind,parent
EST-01,East Centre,fixed,REG-B
REG-B,Region B,region,REG-C
REG-C,Region C,region,EST-01
OTH-01,Other,fixed,REG-A
"""
    outcome = run_failing(bundle(tmp_path, sites=sites, clients=CLIENTS))

    cycle = "parent: the parents form a cycle: EST-01 → REG-B → REG-C → EST-01."
    assert [line for line in outcome.lines if "cycle" in line] == [
        f"sites.csv:2: {cycle}",
        f"sites.csv:3: {cycle}",
        f"sites.csv:4: {cycle}",
    ]
    assert not Site.objects.filter(code="OTH-01").exists()


def test_the_same_site_code_twice_in_a_file_is_an_error(cast: Cast, tmp_path: Path) -> None:
    outcome = run_failing(
        bundle(tmp_path, sites=SITES + "EST-01,East again,fixed,\n", clients=CLIENTS)
    )

    assert "sites.csv:4: code: EST-01 is already on line 3." in outcome.lines


def test_the_same_person_twice_in_a_file_is_an_error(cast: Cast, tmp_path: Path) -> None:
    clients = CLIENTS + "anjo f 89 1,female,1989,yes,unknown,2023-05-01,EST-01\n"

    outcome = run_failing(bundle(tmp_path, sites=SITES, clients=clients))

    assert "clients.csv:5: uic: the same client as line 2." in outcome.lines


def test_a_uic_that_does_not_fit_the_scheme_is_reported_without_showing_it(
    cast: Cast, tmp_path: Path
) -> None:
    clients = f"{CLIENTS_HEADER}\nQWZXQ654,male,1965,yes,yes,2023-05-01,NTH-01\n"
    clients += f"{RAW_UIC}9,male,1965,yes,yes,2023-05-01,NTH-01\n"

    outcome = run_failing(bundle(tmp_path, sites=SITES, clients=clients), "--format", "json")

    assert "clients.csv:2: uic: sex: choose one of the options." in outcome.lines
    assert "clients.csv:3: uic: must have 8 characters in this programme's scheme." in outcome.lines
    assert "QWZX" not in outcome.stdout + outcome.stderr


def test_a_conflicting_row_is_reported_and_skipped_while_the_other_rows_are_applied(
    cast: Cast, tmp_path: Path
) -> None:
    # Registered at the counter as a woman born in 1989 who injects (factory defaults).
    existing = make_client(cast.north)
    clients = CLIENTS.replace(
        "female,1989,yes,unknown,2023-05-01,EST-01",
        (f"male,1989,yes,unknown,{existing.registered_on},NTH-01"),
    )

    outcome = run(bundle(tmp_path, sites=SITES, clients=clients))

    assert outcome.lines == [
        "Conflicting rows, not applied:",
        f"clients.csv:2: gender: conflict: client {existing.code} has gender female here; "
        "the bundle says male.",
    ]
    assert "clients.csv: 2 created, 0 unchanged, 1 conflicting" in outcome.stdout
    existing.refresh_from_db()
    assert existing.gender == "female"
    assert Client.objects.count() == 3


def test_a_site_that_differs_from_harbours_is_a_conflict(cast: Cast, tmp_path: Path) -> None:
    sites = SITES + "NTH-01,North Centre,dcr,REG-A\n"

    outcome = run(bundle(tmp_path, sites=sites, clients=CLIENTS))

    assert (
        "sites.csv:4: kind: conflict: site NTH-01 has kind fixed here; the bundle says dcr."
        in outcome.lines
    )
    assert Site.objects.get(code="NTH-01").kind == SiteKind.FIXED


def test_fail_on_conflict_writes_nothing_when_a_row_conflicts(cast: Cast, tmp_path: Path) -> None:
    make_client(cast.north)
    before = counts()

    outcome = run_failing(bundle(tmp_path, sites=SITES, clients=CLIENTS), "--fail-on-conflict")

    assert any(line.startswith("clients.csv:2: registered_on: conflict:") for line in outcome.lines)
    assert outcome.error == "2 conflicts and --fail-on-conflict; nothing was written."
    assert counts() == before


def test_a_dry_run_reports_what_would_happen_and_writes_nothing(cast: Cast, tmp_path: Path) -> None:
    outcome = run(bundle(tmp_path, sites=SITES, clients=CLIENTS), "--dry-run")

    assert "clients.csv: 3 created" in outcome.stdout
    assert "Dry run: nothing was written." in outcome.stdout
    assert counts() == (3, 0)
    assert not AuditEvent.objects.filter(action="import.bundle").exists()


@pytest.mark.django_db(transaction=True)
def test_the_raw_uic_is_nowhere_in_the_database_after_an_import(tmp_path: Path) -> None:
    make_cast()
    clients = f"{CLIENTS_HEADER}\n{RAW_UIC},male,1965,yes,yes,2023-05-01,NTH-01\n"

    outcome = run(bundle(tmp_path, sites=SITES, clients=clients))

    code = Client.objects.get().code
    assert RAW_UIC not in outcome.stdout + outcome.stderr
    assert database_contains(code)  # the search does see what was written
    assert not database_contains(RAW_UIC)
    assert not database_contains("QWZX")


def test_a_zipped_bundle_imports_like_its_folder(cast: Cast, tmp_path: Path) -> None:
    folder = bundle(tmp_path / "programme-2024", sites=SITES, clients=CLIENTS)
    archive = tmp_path / "programme-2024.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in folder.iterdir():
            # As a file manager's "compress folder" does: the folder is in the zip.
            zf.write(path, f"programme-2024/{path.name}")

    outcome = run(archive)

    assert "clients.csv: 3 created" in outcome.stdout
    assert counts() == (5, 3)


def test_a_client_code_in_the_uic_column_matches_the_existing_client(
    cast: Cast, tmp_path: Path
) -> None:
    existing = make_client(cast.north)  # female, 1989, injects, registered today
    clients = f"{CLIENTS_HEADER}\n"
    clients += f"{existing.code.lower()},female,1989,yes,unknown,{existing.registered_on},NTH-01\n"

    outcome = run(bundle(tmp_path, sites=SITES, clients=clients))

    assert "clients.csv: 0 created, 1 unchanged, 0 conflicting" in outcome.stdout
    assert Client.objects.count() == 1


def test_a_client_code_unknown_here_creates_a_client_known_only_by_that_code(
    cast: Cast, tmp_path: Path
) -> None:
    clients = f"{CLIENTS_HEADER}\n7KX2M-Q9RTA,female,1989,yes,unknown,2023-05-01,NTH-01\n"
    path = bundle(tmp_path, sites=SITES, clients=clients)

    run(path)

    client = Client.objects.get()
    assert client.code == "7KX2M-Q9RTA"
    assert client.pseudonym == code_only_pseudonym("7KX2M-Q9RTA")
    assert not ClientPartial.objects.filter(client=client).exists()
    assert "1 unchanged" in run(path).stdout


def test_a_client_found_under_an_old_key_is_rekeyed_and_unchanged(
    cast: Cast, tmp_path: Path, settings: object
) -> None:
    existing = make_client(cast.north)
    new_key = "k2:" + base64.urlsafe_b64encode(b"n" * 32).decode()
    old_ring = settings.PSEUDONYM_KEYS  # type: ignore[attr-defined]
    settings.PSEUDONYM_KEYS = parse_ring(new_key, "test") + old_ring  # type: ignore[attr-defined]
    clients = (
        f"{CLIENTS_HEADER}\nANJOF891,female,1989,yes,unknown,{existing.registered_on},NTH-01\n"
    )

    outcome = run(bundle(tmp_path, sites=SITES, clients=clients))

    assert "clients.csv: 0 created, 1 unchanged" in outcome.stdout
    existing.refresh_from_db()
    assert existing.key_id == "k2"


def test_the_json_format_reports_counts_conflicts_and_errors_for_machines(
    cast: Cast, tmp_path: Path
) -> None:
    existing = make_client(cast.north)

    outcome = run(bundle(tmp_path, sites=SITES, clients=CLIENTS), "--format", "json")

    report = json.loads(outcome.stdout)
    assert report["files"] == {
        "sites.csv": {"created": 2, "unchanged": 0, "conflicts": 0},
        "clients.csv": {"created": 2, "unchanged": 0, "conflicts": 1},
    }
    assert report["errors"] == []
    assert [c.split(": conflict:")[0] for c in report["conflicts"]] == [
        "clients.csv:2: registered_on",
        "clients.csv:2: site",
    ]
    assert existing.code in report["conflicts"][0]

    failed = run_failing(bundle(tmp_path / "bad", sites=SITES), "--format", "json")
    assert json.loads(failed.stdout.strip())["errors"] == [
        "clients.csv:0: -: required file is missing."
    ]


def test_an_unknown_user_is_refused_before_anything_is_read(cast: Cast, tmp_path: Path) -> None:
    outcome = run_failing(bundle(tmp_path, sites=SITES, clients=CLIENTS), "--user", "nobody-here")

    assert outcome.error == "No user named 'nobody-here'."
    assert counts() == (3, 0)


def test_a_path_that_is_not_a_bundle_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")

    assert "neither a folder nor a .zip" in run_failing(tmp_path / "notes.txt").error
    assert "does not exist" in run_failing(tmp_path / "missing").error
