"""Finding, registering, editing and merging clients, as staff at a counter do it."""

from __future__ import annotations

from harbour.clients import services
from harbour.clients.models import Client
from harbour.visits.models import Contact
from tests.factory import Cast, form_data, login, make_client, parts

REGISTRATION = {
    "register": "1",
    "gender": "female",
    "birth_year": "1992",
    "injects": "yes",
    "opioid_dependent": "no",
    "consent": "on",
}


def test_a_new_person_is_registered_from_the_uic_parts_and_gets_a_client_code(cast: Cast) -> None:
    http = login(cast["staff"])
    searched = http.post("/clients/", {**form_data(), "find": "1"})
    assert "No client with this code" in searched.content.decode()
    response = http.post("/clients/", {**form_data(), **REGISTRATION})
    client = Client.objects.get()
    assert response["Location"] == f"/clients/{client.pk}/"
    assert client.site == cast.north
    assert client.birth_year == 1992 and client.injects == "yes"
    assert len(client.code) == 11 and client.code[5] == "-"
    assert client.code in http.get(response["Location"]).content.decode()


def test_a_returning_person_is_found_by_giving_the_same_parts(cast: Cast) -> None:
    client = make_client(cast.north)
    response = login(cast["outreach"]).post("/clients/", form_data())
    assert response["Location"] == f"/clients/{client.pk}/"


def test_a_person_with_a_card_is_found_by_the_client_code(cast: Cast) -> None:
    client = make_client(cast.north)
    typed = client.code.lower().replace("-", " ")
    response = login(cast["staff"]).post("/clients/code/", {"code": typed})
    assert response["Location"] == f"/clients/{client.pk}/"


def test_registration_without_consent_is_refused_and_anonymous_service_is_offered(
    cast: Cast,
) -> None:
    http = login(cast["staff"])
    data = {**form_data(), **REGISTRATION}
    del data["consent"]
    response = http.post("/clients/", data)
    page = response.content.decode()
    assert response.status_code == 422
    assert "Ask the person for consent" in page
    assert "Record anonymous contact" in page
    assert not Client.objects.exists()


def test_a_bad_uic_part_gets_an_error_naming_the_part(cast: Cast) -> None:
    response = login(cast["staff"]).post("/clients/", form_data(year="8x"))
    assert response.status_code == 422
    assert "Year of birth: last two digits" in response.content.decode()
    assert "digit" in response.content.decode()


def test_an_anonymous_contact_is_recorded_and_counted(cast: Cast) -> None:
    http = login(cast["outreach"])
    http.post("/clients/anonymous/")
    contact = Contact.objects.get()
    assert contact.client is None and contact.site == cast.north
    summary = login(cast["me_officer"]).get("/sites/summary/").content.decode()
    assert "North Centre" in summary


def test_possible_duplicates_are_shown_when_a_code_differs_in_one_part(cast: Cast) -> None:
    first = make_client(cast.north, order="1")
    page = login(cast["staff"]).post("/clients/", form_data(order="3")).content.decode()
    assert "Possible duplicate" in page and first.code in page


def test_possible_duplicates_at_other_sites_are_not_revealed(cast: Cast) -> None:
    other = make_client(cast.south, order="1")
    page = login(cast["staff"]).post("/clients/", form_data(order="3")).content.decode()
    assert other.code not in page


def test_merging_moves_contacts_and_the_old_code_still_finds_the_person(cast: Cast) -> None:
    keep = make_client(cast.north, order="1")
    dupe = make_client(cast.north, order="2")
    http = login(cast["case_manager"])
    http.post(f"/clients/{dupe.pk}/contact/")
    http.post(f"/clients/{keep.pk}/merge/", {"duplicate": dupe.code, "confirm": "on"})
    assert Contact.objects.get().client == keep
    assert services.find(parts(order="2")).client == keep
    assert http.post("/clients/code/", {"code": dupe.code})["Location"] == f"/clients/{keep.pk}/"
    assert http.get(f"/clients/{dupe.pk}/").status_code == 404


def test_a_merge_can_be_undone_and_everything_goes_back(cast: Cast) -> None:
    keep = make_client(cast.north, order="1")
    dupe = make_client(cast.south, order="2")
    http = login(cast["site_manager"])
    services.link(cast["site_manager"], dupe, cast.north)
    login(cast.sam).post(f"/clients/{dupe.pk}/contact/")
    http.post(f"/clients/{keep.pk}/merge/", {"duplicate": dupe.code, "confirm": "on"})
    assert keep.links.filter(site=cast.south).exists()
    assert Contact.objects.get().client == keep
    merge = keep.merges_kept.get()
    http.post(f"/clients/merges/{merge.pk}/undo/")
    dupe.refresh_from_db()
    assert dupe.merged_into is None
    assert Contact.objects.get().client == dupe
    assert not keep.links.filter(site=cast.south).exists()
    assert services.find(parts(order="2")).client == dupe


def test_merging_needs_a_confirmation_and_a_known_code(cast: Cast) -> None:
    keep = make_client(cast.north)
    http = login(cast["case_manager"])
    no_confirm = http.post(f"/clients/{keep.pk}/merge/", {"duplicate": "ZZZZZ-ZZZZZ"})
    assert no_confirm.status_code == 422
    unknown = http.post(f"/clients/{keep.pk}/merge/", {"duplicate": "ZZZZZ-ZZZZZ", "confirm": "on"})
    assert "No record with that code" in unknown.content.decode()
    self_merge = http.post(f"/clients/{keep.pk}/merge/", {"duplicate": keep.code, "confirm": "on"})
    assert "cannot be merged with itself" in self_merge.content.decode()


def test_editing_a_client_keeps_what_was_stored_when_the_input_is_bad(cast: Cast) -> None:
    client = make_client(cast.north, birth_year=1980)
    http = login(cast["staff"])
    response = http.post(
        f"/clients/{client.pk}/edit/",
        {
            "gender": "female",
            "birth_year": "1850",
            "injects": "yes",
            "opioid_dependent": "no",
            "consent_on": "2999-01-01",
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Consent" in page and "future" in page
    client.refresh_from_db()
    assert client.birth_year == 1980


def test_pressing_record_twice_records_one_contact(cast: Cast) -> None:
    client = make_client(cast.north)
    http = login(cast["staff"])
    form_id = "0b9f3a52-3e51-4f55-9d1e-6a0a1c7d2e11"
    http.post(f"/clients/{client.pk}/contact/", {"contact_id": form_id})
    again = http.post(f"/clients/{client.pk}/contact/", {"contact_id": form_id}, follow=True)
    assert Contact.objects.count() == 1
    assert "already recorded" in again.content.decode()
    http.post("/clients/anonymous/", {"contact_id": "5d7c1b0e-8a61-4a8e-b8a5-2f0f3b9d6c40"})
    http.post("/clients/anonymous/", {"contact_id": "5d7c1b0e-8a61-4a8e-b8a5-2f0f3b9d6c40"})
    assert Contact.objects.filter(client__isnull=True).count() == 1


def test_a_client_card_shows_the_code_and_nothing_else_about_the_person(cast: Cast) -> None:
    client = make_client(cast.north, birth_year=1977)
    page = login(cast["outreach"]).get(f"/clients/{client.pk}/card/").content.decode()
    card = page.split('class="client-card"')[1]
    assert client.code in card
    assert "1977" not in card and "Female" not in card
