"""Every create, update, merge and view of a client record is audited, and the log
cannot be changed without it showing."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from harbour.audit.models import AppendOnly, AuditEvent
from harbour.audit.services import record, verify_chain
from harbour.clients import services
from tests.factory import Cast, form_data, login, make_client


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


def test_registering_viewing_editing_and_merging_a_client_are_all_audited(cast: Cast) -> None:
    http = login(cast["case_manager"])
    http.post(
        "/clients/",
        {
            **form_data(),
            "register": "1",
            "gender": "male",
            "injects": "yes",
            "opioid_dependent": "yes",
            "consent": "on",
        },
    )
    client = services.find(__import__("tests.factory").factory.parts()).client
    assert client is not None
    http.get(f"/clients/{client.pk}/")
    http.post(
        f"/clients/{client.pk}/edit/",
        {
            "gender": "male",
            "birth_year": "1990",
            "injects": "yes",
            "opioid_dependent": "no",
            "consent_on": str(client.consent_on),
            "phone": "",
        },
    )
    twin = make_client(cast.north, order="2")
    http.post(f"/clients/{client.pk}/merge/", {"duplicate": twin.code, "confirm": "on"})
    got = actions()
    for expected in ["client.create", "client.view", "client.update", "client.merge"]:
        assert expected in got
    view = AuditEvent.objects.filter(action="client.view").first()
    assert view is not None
    assert view.actor_name == "case_manager_north"
    assert view.site == cast.north
    assert view.object_id == str(client.pk)


def test_an_api_read_of_a_client_is_audited(cast: Cast) -> None:
    client = make_client(cast.north)
    login(cast["outreach"]).get(f"/api/v1/clients/{client.pk}/")
    assert AuditEvent.objects.filter(action="client.view", object_id=str(client.pk)).exists()


def test_audit_entries_cannot_be_changed_or_deleted_through_harbour(cast: Cast) -> None:
    event = record(cast["admin"], "test.event", object_type="x", object_id="1")
    event.action = "changed"
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()
    with pytest.raises(AppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(action="changed")
    with pytest.raises(AppendOnly):
        AuditEvent.objects.all().delete()


def test_the_database_refuses_raw_updates_and_deletes_of_audit_entries(cast: Cast) -> None:
    event = record(cast["admin"], "test.event", object_type="x", object_id="1")
    for sql in [
        "UPDATE audit_auditevent SET action = 'x' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ]:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"


def _drop_triggers() -> None:
    """What an attacker with full database access can do; the chain must still tell."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER audit_no_update")
            cursor.execute("DROP TRIGGER audit_no_delete")
        else:
            cursor.execute("DROP TRIGGER audit_no_change ON audit_auditevent")


def test_changing_a_past_entry_is_detected(cast: Cast) -> None:
    client = make_client(cast.north)
    for _ in range(3):
        services.viewed(cast["staff"], client, cast.north)
    assert verify_chain() == []
    victim = AuditEvent.objects.filter(action="client.view").order_by("id")[1]
    _drop_triggers()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET actor_name = 'someone_else' WHERE id = %s", [victim.pk]
        )
    problems = verify_chain()
    assert [p.event_id for p in problems] == [victim.pk]
    with pytest.raises(CommandError):
        call_command("verify-audit")


def test_removing_a_past_entry_is_detected(cast: Cast) -> None:
    client = make_client(cast.north)
    for _ in range(3):
        services.viewed(cast["staff"], client, cast.north)
    ids = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    _drop_triggers()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [ids[1]])
    problems = verify_chain()
    assert problems and problems[0].event_id == ids[2]


def test_removing_the_newest_entries_is_detected(cast: Cast) -> None:
    client = make_client(cast.north)
    services.viewed(cast["staff"], client, cast.north)
    _drop_triggers()
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM audit_auditevent WHERE id = %s", [AuditEvent.objects.latest("id").pk]
        )
    assert verify_chain()


def test_an_administrator_can_browse_filter_export_and_check_the_log(cast: Cast) -> None:
    client = make_client(cast.north)
    services.viewed(cast["staff"], client, cast.north)
    http = login(cast["admin"])
    page = http.get("/audit/", {"actor": "staff_north", "action": "client.view"})
    assert page.status_code == 200
    assert client.code in page.content.decode()
    by_code = http.get("/audit/", {"object_id": client.code}).content.decode()
    assert "client.view" in by_code
    export = http.get("/audit/export.csv", {"action": "client.view"})
    body = b"".join(export.streaming_content).decode()  # type: ignore[attr-defined]
    assert body.splitlines()[0].startswith("id,at,actor")
    assert "staff_north" in body
    verdict = http.post("/audit/verify/").content.decode()
    assert "intact" in verdict
    assert AuditEvent.objects.filter(action="audit.export").exists()


def test_the_audit_log_holds_no_raw_uic(cast: Cast) -> None:
    http = login(cast["staff"])
    http.post(
        "/clients/",
        {
            **form_data(mother="QW", father="ZX"),
            "register": "1",
            "gender": "male",
            "injects": "yes",
            "opioid_dependent": "yes",
            "consent": "on",
        },
    )
    for event in AuditEvent.objects.all():
        assert "QWZX" not in str(event.detail)
