"""The DHIS2 pages: an M&E officer for the whole programme looks at a quarter's values,
downloads them, checks them with DHIS2, sends them, and sets up the server and the
mapping; nobody ever sees the password again, and the audit log never holds it.

DHIS2 is the stub of test_dhis2_stub. The indicators are real, from a few records.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.urls import reverse

from harbour.accounts.models import Role, User
from harbour.audit.models import AuditEvent
from harbour.dhis2.models import Dhis2Server, Level, Mapping
from harbour.dhis2.payload import ADX_NAMESPACE
from harbour.dhis2.views import last_quarter
from harbour.sites.models import Organisation
from harbour.visits.models import CatalogueItem, Contact, Distribution
from tests.factory import Cast, login, make_client, make_user
from tests.test_dhis2_stub import PASSWORD, StubDhis2, point_at, refused_url, running

HOME = reverse("dhis2:home")
PUSH = reverse("dhis2:push")
MAPPING = reverse("dhis2:mapping")
SERVER = reverse("dhis2:server")
NORTH_OU = "NthCentre01"
PROGRAMME_OU = "PrgHarbour1"


@pytest.fixture
def dhis2_stub() -> Iterator[StubDhis2]:
    yield from running()


@pytest.fixture
def officer(cast: Cast) -> User:
    """An M&E officer for the whole programme (a membership with no site)."""
    return make_user("me_programme", Role.ME_OFFICER, None)


@pytest.fixture
def quarter(cast: Cast, dhis2_stub: StubDhis2) -> Cast:
    """2025Q1 at North: one person given needles and syringes, one without; South has
    no DHIS2 id. Three figures mapped; the server is the stub."""
    org = Organisation.get()
    org.dhis2_org_unit = PROGRAMME_OU
    org.save()
    cast.north.dhis2_org_unit = NORTH_OU
    cast.north.save()
    for indicator, part, element, level in (
        ("PRV.8", "numerator", "DeNspCover1", Level.ALL),
        ("PRV.8", "denominator", "DeNspActive", Level.ALL),
        ("PRV.8", "value", "DeNspRatio1", Level.PROGRAMME),
        ("PRV.13", "value", "DeRetRatio1", Level.SITES),
    ):
        Mapping.objects.create(indicator=indicator, part=part, data_element=element, level=level)
    needles, _ = CatalogueItem.objects.get_or_create(
        code="needle_syringe", defaults={"name": "N/S"}
    )
    given = make_client(cast.north, mother="AA", father="BB")
    contact = Contact.objects.create(site=cast.north, date=dt.date(2025, 2, 3), client=given)
    Distribution.objects.create(contact=contact, item=needles, quantity=10)
    other = make_client(cast.north, mother="CC", father="DD")
    Contact.objects.create(site=cast.north, date=dt.date(2025, 2, 4), client=other)
    point_at(dhis2_stub.url)
    return cast


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def audit(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def no_password_in_the_audit_log() -> None:
    for event in AuditEvent.objects.all():
        assert PASSWORD not in json.dumps(event.detail)


# --- looking ------------------------------------------------------------------------


def test_the_page_offers_the_last_quarter_and_lists_the_mapping(
    quarter: Cast, officer: User
) -> None:
    page = text(login(officer).get(HOME))
    assert f'value="{last_quarter(dt.date.today())}"' in page
    assert "PRV.8 NSP coverage: numerator" in page
    assert "DeNspCover1" in page
    assert "Programme only" in page


def test_a_quarters_values_are_shown_per_org_unit_with_what_was_left_out(
    quarter: Cast, officer: User
) -> None:
    response = login(officer).get(HOME, {"period": "2025q1"})
    page = text(response)
    assert response.status_code == 200
    assert "2025Q1: 5 values" in page
    assert "North Centre" in page
    assert "1 site without a DHIS2 id" in page
    assert "South Drop-in" in page
    # North's PRV.13 has nobody in its cohort: left out, with the reason.
    assert 'PRV.13 OST retention at 6 months: value: <span class="muted">denominator is 0' in page
    assert "Check with DHIS2 (dry run)" in page


def test_a_bad_period_is_named_on_the_form(quarter: Cast, officer: User) -> None:
    response = login(officer).get(HOME, {"period": "2025Q5"})
    assert response.status_code == 400
    page = text(response)
    assert "&#x27;2025Q5&#x27; is not a period (a quarter is Q1 to Q4)" in page
    assert 'id="id_period_error"' in page


# --- downloading --------------------------------------------------------------------


def test_the_json_download_is_the_dataValueSets_body(quarter: Cast, officer: User) -> None:
    response = login(officer).get(reverse("dhis2:export_json"), {"period": "2025Q1"})
    assert response["Content-Disposition"] == 'attachment; filename="harbour-dhis2-2025Q1.json"'
    body = json.loads(response.content)
    assert body["dataSet"] == "pBOMPrpg1QX"
    assert {(v["orgUnit"], v["dataElement"]): v["value"] for v in body["dataValues"]} == {
        (PROGRAMME_OU, "DeNspCover1"): 1,
        (PROGRAMME_OU, "DeNspActive"): 2,
        (PROGRAMME_OU, "DeNspRatio1"): 0.5,
        (NORTH_OU, "DeNspCover1"): 1,
        (NORTH_OU, "DeNspActive"): 2,
    }
    assert audit("dhis2.export")[0].detail == {
        "period": "2025Q1",
        "format": "json",
        "values": 5,
        "left_out": 1,
    }


def test_the_adx_download_is_adx(quarter: Cast, officer: User) -> None:
    response = login(officer).get(reverse("dhis2:export_adx"), {"period": "2025Q1"})
    assert response["Content-Type"] == "application/adx+xml"
    assert response["Content-Disposition"].endswith('filename="harbour-dhis2-2025Q1.adx.xml"')
    root = ET.fromstring(response.content)  # noqa: S314 - our own server's output
    assert root.tag == f"{{{ADX_NAMESPACE}}}adx"
    assert len(root) == 2


def test_a_download_with_a_bad_period_shows_the_page_with_the_error(
    quarter: Cast, officer: User
) -> None:
    response = login(officer).get(reverse("dhis2:export_json"), {"period": "Q1"})
    assert response.status_code == 400
    assert "is not a period" in text(response)


# --- checking and sending -----------------------------------------------------------


def test_a_dry_run_shows_dhis2s_summary_and_is_audited(
    quarter: Cast, officer: User, dhis2_stub: StubDhis2
) -> None:
    http = login(officer)
    response = http.post(PUSH, {"period": "2025Q1", "mode": "dry_run"})
    assert response.status_code == 302
    assert response["Location"] == f"{HOME}?period=2025Q1#result"

    page = text(http.get(response["Location"]))

    assert "Dry run for 2025Q1" in page
    assert "DHIS2 would take all 5 values. Nothing was saved" in page
    assert "<dt>Imported</dt><dd>5</dd>" in page
    assert dhis2_stub.requests[0].dry_run
    assert dhis2_stub.stored == {}
    assert dhis2_stub.problems == []
    (event,) = audit("dhis2.dry_run")
    assert event.actor == officer
    assert event.detail == {
        "period": "2025Q1",
        "dry_run": True,
        "org_units": 2,
        "values": 5,
        "left_out": 1,
        "status": "SUCCESS",
        "imported": 5,
        "updated": 0,
        "ignored": 0,
        "deleted": 0,
        "conflicts": 0,
        "http_status": 200,
    }
    # The summary is shown once, not on every later visit.
    assert "Dry run for 2025Q1" not in text(http.get(response["Location"]))


def test_sending_shows_the_conflicts_with_the_harbour_figures_they_are_about(
    quarter: Cast, officer: User, dhis2_stub: StubDhis2
) -> None:
    dhis2_stub.known_elements = {"DeNspCover1", "DeNspActive"}
    http = login(officer)

    response = http.post(PUSH, {"period": "2025Q1", "mode": "send"}, follow=True)

    page = text(response)
    assert "Sent 2025Q1 to DHIS2" in page
    assert "DHIS2 did not take every value" in page
    assert "Data element not found or not accessible: `DeNspRatio1`" in page
    assert "Harbour programme: PRV.8 NSP coverage: value" in page
    assert len(dhis2_stub.stored) == 4
    (event,) = audit("dhis2.push")
    assert (event.detail["status"], event.detail["conflicts"]) == ("WARNING", 1)
    assert event.detail["http_status"] == 409


def test_a_refused_password_is_said_plainly_and_audited(
    quarter: Cast, officer: User, dhis2_stub: StubDhis2
) -> None:
    point_at(dhis2_stub.url, password="not-the-password")
    page = text(login(officer).post(PUSH, {"period": "2025Q1", "mode": "send"}, follow=True))
    assert "DHIS2 did not accept the user name “harbour” or its password (HTTP 401)" in page
    assert "not-the-password" not in page
    (event,) = audit("dhis2.push")
    assert event.detail["status"] == "FAILED"
    assert event.detail["http_status"] == 401
    assert "not-the-password" not in json.dumps(event.detail)


def test_an_error_inside_dhis2_is_said_plainly(
    quarter: Cast, officer: User, dhis2_stub: StubDhis2
) -> None:
    dhis2_stub.fail_with = 500
    page = text(login(officer).post(PUSH, {"period": "2025Q1", "mode": "send"}, follow=True))
    assert "DHIS2 failed with an error of its own (HTTP 500)" in page
    assert "Traceback" not in page


def test_an_unreachable_server_is_said_plainly(quarter: Cast, officer: User) -> None:
    point_at(refused_url())
    page = text(login(officer).post(PUSH, {"period": "2025Q1", "mode": "dry_run"}, follow=True))
    assert "the connection was refused. Is the DHIS2 address right" in page
    assert audit("dhis2.dry_run")[0].detail["status"] == "FAILED"


def test_sending_is_a_post_only(quarter: Cast, officer: User, dhis2_stub: StubDhis2) -> None:
    assert login(officer).get(PUSH, {"period": "2025Q1", "mode": "send"}).status_code == 405
    assert dhis2_stub.requests == []


def test_the_buttons_wait_for_the_settings(cast: Cast, officer: User) -> None:
    Mapping.objects.create(indicator="NALOXONE.kits", part="value", data_element="DeNaloxone1")
    cast.north.dhis2_org_unit = NORTH_OU
    cast.north.save()
    page = text(login(officer).get(HOME, {"period": "2025Q1"}))
    assert "Before sending, set the DHIS2 address, the user name, the password" in page
    assert 'value="send" disabled' in page


# --- the server settings: the password is write-only --------------------------------


def server_form(**changes: Any) -> dict[str, Any]:
    data = {
        "base_url": "https://dhis2.example.org",
        "username": "harbour",
        "new_password": "",
        "data_set": "pBOMPrpg1QX",
        "org_unit": PROGRAMME_OU,
        "attribute_option_combo": "",
        "timeout": "60",
    }
    data.update(changes)
    return data


def test_the_password_is_saved_encrypted_and_never_shown_again(cast: Cast, officer: User) -> None:
    http = login(officer)
    response = http.post(
        SERVER, server_form(base_url="https://dhis2.example.org/", new_password=PASSWORD)
    )
    assert response.status_code == 302

    server = Dhis2Server.get()
    assert server.password == PASSWORD
    assert server.base_url == "https://dhis2.example.org"
    assert Organisation.get().dhis2_org_unit == PROGRAMME_OU
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM dhis2_dhis2server")
        (stored,) = cursor.fetchone()
    assert PASSWORD not in stored
    for path in (SERVER, HOME, f"{HOME}?period=2025Q1"):
        page = http.get(path).content.decode()
        assert PASSWORD not in page
        assert stored not in page
    assert "A password is saved. Leave this blank to keep it." in text(http.get(SERVER))
    (event,) = audit("dhis2.server.update")
    assert "password" in event.detail["fields"]
    no_password_in_the_audit_log()


def test_a_blank_password_keeps_the_saved_one_and_it_can_be_forgotten(
    cast: Cast, officer: User
) -> None:
    point_at("https://dhis2.example.org")
    http = login(officer)
    http.post(SERVER, server_form(username="harbour2", timeout="10"))
    assert (Dhis2Server.get().username, Dhis2Server.get().password) == ("harbour2", PASSWORD)
    assert audit("dhis2.server.update")[0].detail["fields"] == ["programme_org_unit", "username"]

    http.post(SERVER, server_form(username="harbour2", timeout="10", forget_password="on"))
    assert Dhis2Server.get().password == ""
    assert audit("dhis2.server.update")[-1].detail["fields"] == ["password"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"base_url": "ftp://dhis2.example.org"}, "base_url", "starts with https://"),
        ({"base_url": "https://me:pw@dhis2.example.org"}, "base_url", "in their own fields"),
        ({"data_set": "pBOMPrpg1Q"}, "data_set", "A DHIS2 id is 11 letters or digits"),
        ({"org_unit": "12345678901"}, "org_unit", "the first a letter"),
        ({"timeout": "0"}, "timeout", "greater than or equal to 1"),
    ],
)
def test_bad_settings_are_named_on_the_field(
    cast: Cast, officer: User, changes: dict[str, str], field: str, message: str
) -> None:
    response = login(officer).post(SERVER, server_form(**changes))
    assert response.status_code == 422
    page = text(response)
    assert f'id="id_{field}_error"' in page
    assert message in page


def test_plain_http_is_allowed_with_a_warning(cast: Cast, officer: User) -> None:
    page = text(
        login(officer).post(SERVER, server_form(base_url="http://localhost:8080"), follow=True)
    )
    assert "the password and the figures travel unencrypted" in page


# --- the mapping --------------------------------------------------------------------


def mapping_form(rows: list[dict[str, str]], initial: int = 0) -> dict[str, str]:
    data = {
        "form-TOTAL_FORMS": str(len(rows)),
        "form-INITIAL_FORMS": str(initial),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "500",
    }
    for i, row in enumerate(rows):
        for name, value in row.items():
            data[f"form-{i}-{name}"] = value
    return data


def test_rows_are_added_changed_and_removed(cast: Cast, officer: User) -> None:
    http = login(officer)
    response = http.post(
        MAPPING,
        mapping_form(
            [
                {
                    "figure": "PRV.8|numerator|gender=female",
                    "level": "sites",
                    "data_element": "DeNspCoverG",
                    "category_option_combo": "CocFemale01",
                },
                {"figure": "HIV.cascade|on_art|", "level": "all", "data_element": "DeHivOnArt1"},
                {"figure": "", "level": "all", "data_element": ""},
            ]
        ),
    )
    assert response.status_code == 302
    rows = {
        (m.indicator, m.part, m.group, m.level, m.data_element, m.category_option_combo)
        for m in Mapping.objects.all()
    }
    assert rows == {
        ("PRV.8", "numerator", "gender=female", "sites", "DeNspCoverG", "CocFemale01"),
        ("HIV.cascade", "on_art", "", "all", "DeHivOnArt1", ""),
    }
    page = text(http.get(MAPPING))
    assert "Remove this row" in page
    assert "selected>PRV.8 NSP coverage: numerator, gender female</option>" in page

    first, second = Mapping.objects.order_by("pk")
    response = http.post(
        MAPPING,
        mapping_form(
            [
                {
                    "id": str(second.pk),
                    "figure": "HIV.cascade|suppressed|",
                    "level": "all",
                    "data_element": "DeHivOnArt1",
                },
                {
                    "id": str(first.pk),
                    "figure": first.figure_key,
                    "level": "sites",
                    "data_element": "DeNspCoverG",
                    "category_option_combo": "CocFemale01",
                    "DELETE": "on",
                },
            ],
            initial=2,
        ),
    )
    assert response.status_code == 302
    assert [(m.indicator, m.part) for m in Mapping.objects.all()] == [("HIV.cascade", "suppressed")]
    assert [e.detail for e in audit("dhis2.mapping.update")] == [
        {"added": 2, "changed": 0, "removed": 0, "rows": 2},
        {"added": 0, "changed": 1, "removed": 1, "rows": 1},
    ]


def test_two_rows_for_one_dhis2_cell_are_refused(cast: Cast, officer: User) -> None:
    response = login(officer).post(
        MAPPING,
        mapping_form(
            [
                {"figure": "PRV.8|numerator|", "level": "all", "data_element": "DeNspCover1"},
                {"figure": "PRV.9|numerator|", "level": "all", "data_element": "DeNspCover1"},
            ]
        ),
    )
    assert response.status_code == 422
    assert "Two rows fill the same DHIS2 cell" in text(response)
    assert not Mapping.objects.exists()


def test_a_bad_id_in_a_row_is_named(cast: Cast, officer: User) -> None:
    response = login(officer).post(
        MAPPING,
        mapping_form([{"figure": "PRV.8|numerator|", "level": "all", "data_element": "DE-1"}]),
    )
    assert response.status_code == 422
    page = text(response)
    assert 'id="id_form-0-data_element_error"' in page
    assert "A DHIS2 id is 11 letters or digits" in page


# --- who may --------------------------------------------------------------------------


def test_a_site_manager_sees_why_dhis2_reporting_is_not_theirs(quarter: Cast) -> None:
    http = login(quarter["site_manager"])
    page = text(http.get(HOME, {"period": "2025Q1"}))
    assert "needs a role held for the whole programme" in page
    assert "DeNspCover1" in page  # the mapping, no figures
    assert "2025Q1: " not in page
    for path in (reverse("dhis2:export_json"), reverse("dhis2:export_adx"), MAPPING, SERVER):
        assert http.get(path, {"period": "2025Q1"}).status_code == 403
    assert http.post(PUSH, {"period": "2025Q1", "mode": "send"}).status_code == 403


def test_a_role_without_aggregates_is_refused(quarter: Cast) -> None:
    http = login(quarter["staff"])
    assert http.get(HOME).status_code == 403
    assert http.post(PUSH, {"period": "2025Q1", "mode": "send"}).status_code == 403


def test_signed_out_people_are_sent_to_sign_in(quarter: Cast) -> None:
    response = HttpClient().get(HOME)
    assert response.status_code == 302
    assert "/account/login/" in response["Location"]


@pytest.mark.parametrize("role", [Role.ME_OFFICER, Role.ADMIN])
def test_a_programme_wide_me_officer_or_administrator_reaches_every_dhis2_page(
    quarter: Cast, dhis2_stub: StubDhis2, role: str
) -> None:
    http = login(make_user(f"{role}_programme", role, None))
    for name in (
        "dhis2:home",
        "dhis2:export_json",
        "dhis2:export_adx",
        "dhis2:mapping",
        "dhis2:server",
    ):
        assert http.get(reverse(name), {"period": "2025Q1"}).status_code == 200, name
    assert http.post(PUSH, {"period": "2025Q1", "mode": "dry_run"}).status_code == 302


def test_a_programme_wide_site_manager_sees_the_figures_but_cannot_send_them(
    quarter: Cast, dhis2_stub: StubDhis2
) -> None:
    """Where the figures go is the M&E officer's and the administrator's decision."""
    http = login(make_user("manager_programme", Role.SITE_MANAGER, None))
    for name in ("dhis2:home", "dhis2:export_json", "dhis2:export_adx"):
        assert http.get(reverse(name), {"period": "2025Q1"}).status_code == 200, name
    for name in ("dhis2:mapping", "dhis2:server"):
        assert http.get(reverse(name)).status_code == 403, name
    assert http.post(PUSH, {"period": "2025Q1", "mode": "dry_run"}).status_code == 403
    assert dhis2_stub.requests == []
