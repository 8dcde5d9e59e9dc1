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


def test_a_synced_contact_carries_what_was_handed_out_and_takes_it_off_the_stock(
    cast: Cast,
) -> None:
    from harbour.stock.models import Balance

    client = make_client(cast.north)
    body = {
        "id": str(uuid.uuid4()),
        "site": "NTH-01",
        "date": "2026-11-20",
        "client": str(client.pk),
        "distributions": [
            {"item": "needle_syringe", "quantity": 20, "option": "1 ml 29G"},
            {"item": "needle_syringe", "quantity": 10, "secondary": True},
            {"item": "naloxone_kit", "quantity": 1},
        ],
        "info_topics": ["overdose"],
        "naloxone_training": True,
        "dropin_services": ["shower"],
    }
    http = login(cast["outreach"])
    status, answer = post(http, "/api/v1/contacts/", body)
    assert status == 201
    assert len(answer["distributions"]) == 3
    post(http, "/api/v1/contacts/", body)  # a second sync changes nothing
    syringes = Balance.objects.get(site=cast.north, item__code="needle_syringe")
    assert syringes.on_hand == -30
    contact = Contact.objects.get()
    assert contact.naloxone_training and contact.dropin_services == ["shower"]


def test_an_unknown_item_or_option_is_refused_naming_it(cast: Cast) -> None:
    status, answer = post(
        login(cast["outreach"]),
        "/api/v1/contacts/",
        {
            "site": "NTH-01",
            "distributions": [
                {"item": "teaspoon", "quantity": 1},
                {"item": "needle_syringe", "quantity": 1, "option": "9 ml"},
            ],
        },
    )
    assert status == 400
    fields = {e["field"] for e in answer["errors"]}
    assert {"distributions[0].item", "distributions[1].option"} <= fields
    assert not Contact.objects.exists()


def test_an_overdose_report_syncs_once(cast: Cast) -> None:
    from harbour.visits.models import Overdose

    http = login(cast["outreach"])
    body = {
        "id": str(uuid.uuid4()),
        "site": "NTH-01",
        "date": "2026-11-20",
        "naloxone_doses": 2,
        "outcome": "survived",
        "ems_called": "yes",
    }
    assert post(http, "/api/v1/overdoses/", body)[0] == 201
    assert post(http, "/api/v1/overdoses/", body)[0] == 200
    assert Overdose.objects.get().naloxone_doses == 2
    status, answer = post(
        http, "/api/v1/overdoses/", {**body, "id": str(uuid.uuid4()), "date": "2999-01-01"}
    )
    assert status == 400 and answer["errors"][0]["field"] == "date"
