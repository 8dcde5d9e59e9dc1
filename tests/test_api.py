"""The JSON API: the same rules as the screens, idempotent writes for offline phones."""

from __future__ import annotations

import json
import uuid

from django.test import Client as HttpClient

from harbour.clients.models import Client
from harbour.visits.models import Contact
from tests.factory import Cast, login, make_client, uic


def post(http: HttpClient, path: str, body: dict) -> tuple[int, dict]:
    response = http.post(path, json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def test_the_openapi_document_describes_the_endpoints(cast: Cast) -> None:
    response = login(cast["staff"]).get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ["/api/v1/clients/", "/api/v1/clients/lookup/", "/api/v1/contacts/"]:
        assert path in text


def test_registering_twice_with_the_same_id_creates_one_client(cast: Cast) -> None:
    http = login(cast["outreach"])
    body = {
        "id": str(uuid.uuid4()),
        "site": "NTH-01",
        "uic": uic(),
        "consent": True,
        "gender": "male",
        "injects": "yes",
    }
    first, created = post(http, "/api/v1/clients/", body)
    again, same = post(http, "/api/v1/clients/", body)
    assert (first, again) == (201, 200)
    assert created["id"] == same["id"] == body["id"]
    assert Client.objects.count() == 1
    assert "uic" not in created and "pseudonym" not in created


def test_the_same_id_with_other_content_is_a_conflict_and_changes_nothing(cast: Cast) -> None:
    http = login(cast["outreach"])
    body = {
        "id": str(uuid.uuid4()),
        "site": "NTH-01",
        "uic": uic(),
        "consent": True,
        "gender": "male",
    }
    post(http, "/api/v1/clients/", body)
    status, answer = post(http, "/api/v1/clients/", {**body, "gender": "female"})
    assert status == 409
    assert answer["errors"][0]["field"] == "gender"
    assert Client.objects.get().gender == "male"


def test_an_already_registered_uic_under_a_new_id_is_a_conflict(cast: Cast) -> None:
    client = make_client(cast.north)
    status, answer = post(
        login(cast["staff"]), "/api/v1/clients/", {"site": "NTH-01", "uic": uic(), "consent": True}
    )
    assert status == 409
    assert answer["client"]["code"] == client.code


def test_bad_input_gets_errors_naming_each_field(cast: Cast) -> None:
    status, answer = post(
        login(cast["staff"]),
        "/api/v1/clients/",
        {"site": "NOPE", "uic": {**uic(), "year": "1x"}, "consent": False, "gender": "robot"},
    )
    assert status == 400
    fields = {e["field"] for e in answer["errors"]}
    assert {"site", "uic.year", "consent", "gender"} <= fields
    assert not Client.objects.exists()


def test_lookup_finds_by_uic_and_flags_near_duplicates(cast: Cast) -> None:
    client = make_client(cast.north)
    http = login(cast["outreach"])
    status, found = post(http, "/api/v1/clients/lookup/", {"site": "NTH-01", "uic": uic()})
    assert status == 200 and found["client"]["code"] == client.code
    status, near = post(http, "/api/v1/clients/lookup/", {"site": "NTH-01", "uic": uic(order="5")})
    assert near["client"] is None and near["possible_duplicates"] == [client.code]


def test_contacts_sync_idempotently_and_may_be_anonymous(cast: Cast) -> None:
    http = login(cast["outreach"])
    contact_id = str(uuid.uuid4())
    body = {"id": contact_id, "site": "NTH-01", "date": "2026-11-20", "client": None}
    assert post(http, "/api/v1/contacts/", body)[0] == 201
    assert post(http, "/api/v1/contacts/", body)[0] == 200
    status, answer = post(http, "/api/v1/contacts/", {**body, "date": "2026-11-21"})
    assert status == 409 and answer["errors"][0]["field"] == "date"
    assert Contact.objects.count() == 1


def test_a_contact_for_a_client_of_another_site_is_refused(cast: Cast) -> None:
    other = make_client(cast.south)
    status, answer = post(
        login(cast["outreach"]), "/api/v1/contacts/", {"site": "NTH-01", "client": str(other.pk)}
    )
    assert status == 400 and answer["errors"][0]["field"] == "client"
