"""The raw UIC and contact details never reach the database in clear."""

from __future__ import annotations

import base64
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from harbour.clients import services
from harbour.clients.models import Client
from harbour.lib.keys import parse_ring
from tests.factory import Cast, form_data, login, make_client, parts

RAW_UIC = "ZQXWF731"  # mother ZQ, father XW, female, born ..73, first child
UIC_PARTS = {"mother": "ZQ", "father": "XW", "sex": "F", "year": "73", "order": "1"}
PHONE = "+255 712 987 654"


def database_contains(text: str) -> bool:
    """Look for ``text`` in everything the database holds, as an attacker with the file would."""
    connection.close()  # flush: SQLite keeps recent pages in the WAL file
    if connection.vendor == "sqlite":
        name = Path(connection.settings_dict["NAME"])
        blobs = [p.read_bytes() for p in [name, Path(f"{name}-wal")] if p.exists()]
        return any(text.encode() in blob for blob in blobs)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb')"
        )
        for table, column in cursor.fetchall():
            cursor.execute(
                f'SELECT 1 FROM "{table}" WHERE "{column}"::text LIKE %s LIMIT 1',
                [f"%{text}%"],
            )
            if cursor.fetchone():
                return True
    return False


@pytest.mark.django_db(transaction=True)
def test_registering_at_the_counter_leaves_no_raw_uic_or_phone_in_the_database() -> None:
    from tests.factory import make_cast

    cast = make_cast()
    http = login(cast["staff"])
    form = {f"uic_{k}": v for k, v in UIC_PARTS.items()}
    response = http.post(
        "/clients/",
        {
            **form,
            "register": "1",
            "gender": "female",
            "birth_year": "1973",
            "injects": "yes",
            "opioid_dependent": "no",
            "consent": "on",
            "phone": PHONE,
        },
    )
    assert response.status_code == 302
    client = Client.objects.get()
    assert client.phone == PHONE  # readable through Harbour, with the key
    profile = http.get(response["Location"]).content.decode()
    assert RAW_UIC not in profile
    assert not database_contains(RAW_UIC)
    assert not database_contains("ZQXW")
    assert not database_contains("712 987 654")


def test_the_pseudonym_depends_on_the_key(cast: Cast, settings: object) -> None:
    client = make_client(cast.north)
    settings.PSEUDONYM_KEYS = parse_ring(  # type: ignore[attr-defined]
        "other:" + base64.urlsafe_b64encode(b"x" * 32).decode(), "test"
    )
    assert services.find(parts()).client is None
    assert client.pseudonym not in {c.pseudonym for c in Client.objects.exclude(pk=client.pk)}


def test_a_client_registered_under_an_old_key_is_found_and_rekeyed(
    cast: Cast, settings: object
) -> None:
    client = make_client(cast.north)
    old_ring = settings.PSEUDONYM_KEYS  # type: ignore[attr-defined]
    new_key = "k2:" + base64.urlsafe_b64encode(b"n" * 32).decode()
    settings.PSEUDONYM_KEYS = parse_ring(new_key, "test") + old_ring  # type: ignore[attr-defined]
    found = services.find(parts())
    assert found.client == client
    client.refresh_from_db()
    assert client.key_id == "k2"
    # The card code never changes, whatever the key.
    assert found.client is not None and found.client.code == client.code
    call_command("pseudonym-keys")


def test_parts_are_normalised_so_small_differences_do_not_split_a_person(cast: Cast) -> None:
    client = make_client(cast.north, mother="AN", father="JO")
    assert services.find(parts(mother="án", father=" jo")).client == client


def test_a_code_differing_in_one_part_is_flagged_as_a_possible_duplicate(cast: Cast) -> None:
    first = make_client(cast.north, order="1")
    found = services.find(parts(order="2"))
    assert found.client is None
    assert found.possible_duplicates == [first]
    assert services.find(parts(order="2", year="90")).possible_duplicates == []


def test_the_phone_is_stored_encrypted_and_survives_key_rotation(
    cast: Cast, settings: object
) -> None:
    client = make_client(cast.north)
    services.update(cast["case_manager"], client, cast.north, phone=PHONE)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone FROM clients_client WHERE id = %s",
            [client.pk.hex if connection.vendor == "sqlite" else client.pk],
        )
        stored = cursor.fetchone()[0]
    assert PHONE not in stored and stored.startswith("gAAAA")
    new = "f2:" + base64.urlsafe_b64encode(b"r" * 32).decode()
    from harbour.dhis2.models import Dhis2Server

    server = Dhis2Server.get()
    server.password = "district-secret"
    server.save()
    settings.FIELD_ENCRYPTION_KEYS = parse_ring(new, "t") + settings.FIELD_ENCRYPTION_KEYS  # type: ignore[attr-defined]
    out = StringIO()
    call_command("rotate-field-keys", stdout=out)
    assert "clients.Client.phone: re-encrypted 1 value(s)" in out.getvalue()
    assert "dhis2.Dhis2Server.password: re-encrypted 1 value(s)" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = parse_ring(new, "t")  # type: ignore[attr-defined]
    # Only the newest key is left: every encrypted field must still read.
    assert Client.objects.get(pk=client.pk).phone == PHONE
    assert Dhis2Server.get().password == "district-secret"


def test_the_phone_never_appears_in_lists_or_to_roles_without_need(cast: Cast) -> None:
    client = make_client(cast.north)
    services.update(cast["case_manager"], client, cast.north, phone=PHONE)
    assert PHONE in login(cast["case_manager"]).get(f"/clients/{client.pk}/").content.decode()
    assert PHONE not in login(cast["outreach"]).get(f"/clients/{client.pk}/").content.decode()
    assert PHONE not in login(cast["staff"]).get(f"/api/v1/clients/{client.pk}/").content.decode()


def test_uic_parts_are_not_echoed_once_a_client_is_found(cast: Cast) -> None:
    make_client(cast.north, mother="ZQ", father="XW")
    http = login(cast["staff"])
    response = http.post("/clients/", form_data(mother="ZQ", father="XW"), follow=True)
    page = response.content.decode()
    assert 'value="ZQ"' not in page and 'value="XW"' not in page
