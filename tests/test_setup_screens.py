"""Setting up the catalogue and a site's sessions."""

from __future__ import annotations

from harbour.visits.models import CatalogueItem, SiteSession
from tests.factory import Cast, login


def test_an_administrator_adds_an_item_with_options_that_the_contact_form_offers(
    cast: Cast,
) -> None:
    http = login(cast["admin"])
    response = http.post(
        "/visits/catalogue/new/",
        {
            "code": "tourniquet",
            "name": "Tourniquets",
            "sort_order": "200",
            "active": "on",
            "options_text": "Narrow\nWide\n",
        },
    )
    assert response.status_code == 302
    item = CatalogueItem.objects.get(code="tourniquet")
    assert item.options == ["Narrow", "Wide"]
    form = login(cast["staff"]).get("/visits/contact/").content.decode()
    assert "Tourniquets" in form and "Wide" in form


def test_an_item_code_cannot_change_once_made(cast: Cast) -> None:
    item = CatalogueItem.objects.get(code="condom")
    login(cast["admin"]).post(
        f"/visits/catalogue/{item.pk}/",
        {
            "code": "rubber",
            "name": "Condoms",
            "sort_order": "5",
            "active": "on",
            "options_text": "",
        },
    )
    item.refresh_from_db()
    assert item.code == "condom" and item.sort_order == 5


def test_a_retired_item_leaves_the_contact_form(cast: Cast) -> None:
    item = CatalogueItem.objects.get(code="smoking_kit")
    login(cast["admin"]).post(
        f"/visits/catalogue/{item.pk}/",
        {"code": "smoking_kit", "name": item.name, "sort_order": "1", "options_text": ""},
    )
    assert "Safer smoking kit" not in login(cast["staff"]).get("/visits/contact/").content.decode()


def test_a_site_manager_adds_a_women_only_session_at_their_site(cast: Cast) -> None:
    http = login(cast["site_manager"])
    response = http.post(
        "/visits/sessions/",
        {
            "name": "Women only, Tuesday afternoon",
            "weekday": "1",
            "starts": "14:00",
            "ends": "17:00",
            "women_only": "on",
            "active": "on",
        },
    )
    assert response.status_code == 302
    session = SiteSession.objects.get()
    assert session.site == cast.north and session.women_only and session.weekday == 1


def test_a_session_that_ends_before_it_starts_is_refused(cast: Cast) -> None:
    response = login(cast["site_manager"]).post(
        "/visits/sessions/", {"name": "Evening", "starts": "18:00", "ends": "17:00", "active": "on"}
    )
    assert response.status_code == 422
    assert "must end after it starts" in response.content.decode()
    assert not SiteSession.objects.exists()


def test_a_site_manager_cannot_edit_another_sites_session(cast: Cast) -> None:
    south = SiteSession.objects.create(site=cast.south, name="South evening")
    assert login(cast["site_manager"]).get(f"/visits/sessions/{south.pk}/").status_code == 403
