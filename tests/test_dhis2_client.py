"""Sending to DHIS2: the import summary in both of DHIS2's shapes, and every failure a
person can act on (tested against the stub DHIS2 of test_dhis2_stub)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harbour.dhis2 import client
from harbour.dhis2.client import Conflict, ImportSummary, PushError, parse_summary
from harbour.dhis2.models import Dhis2Server
from tests.test_dhis2_stub import (
    GOOD,
    PASSWORD,
    StubDhis2,
    point_at,
    refused_url,
    running,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def dhis2_stub() -> Iterator[StubDhis2]:
    yield from running()


UNKNOWN = "f7n9E0hX8qk"


def test_a_push_reads_the_summary_dhis2_wraps_in_a_web_message(dhis2_stub: StubDhis2) -> None:
    summary = client.push(point_at(dhis2_stub.url), GOOD, dry_run=False)

    assert summary == ImportSummary(
        status="SUCCESS",
        imported=1,
        description="Import process completed successfully",
        http_status=200,
    )
    assert summary.succeeded
    request = dhis2_stub.requests[0]
    assert request.path == "/api/dataValueSets"
    assert request.query == {
        "dryRun": "false",
        "importStrategy": "CREATE_AND_UPDATE",
        "idScheme": "UID",
    }
    assert (request.content_type, request.authorised, request.body) == (
        "application/json",
        True,
        GOOD,
    )
    assert dhis2_stub.problems == []


def test_a_push_reads_the_plain_summary_of_older_dhis2_versions(dhis2_stub: StubDhis2) -> None:
    dhis2_stub.shape = "plain"
    summary = client.push(point_at(dhis2_stub.url), GOOD, dry_run=False)
    assert (summary.status, summary.imported, summary.http_status) == ("SUCCESS", 1, 200)


def test_a_dry_run_asks_dhis2_to_save_nothing(dhis2_stub: StubDhis2) -> None:
    summary = client.push(point_at(dhis2_stub.url), GOOD, dry_run=True)
    assert summary.imported == 1
    assert dhis2_stub.requests[0].query["dryRun"] == "true"
    assert dhis2_stub.stored == {}


@pytest.mark.parametrize("shape", ["wrapped", "plain"])
def test_conflicts_come_back_in_either_shape(dhis2_stub: StubDhis2, shape: str) -> None:
    dhis2_stub.shape = shape
    dhis2_stub.known_elements = set()

    summary = client.push(point_at(dhis2_stub.url), GOOD, dry_run=False)

    assert summary.status == "WARNING"
    assert (summary.imported, summary.ignored) == (0, 1)
    assert summary.http_status == (409 if shape == "wrapped" else 200)
    assert summary.conflicts == [
        Conflict(
            object=UNKNOWN,
            value=f"Data element not found or not accessible: `{UNKNOWN}`",
            error_code="E7610",
            property="dataElement",
            indexes=[0],
        )
    ]
    assert not summary.succeeded


@pytest.mark.parametrize("suffix", ["/", "/api", "/api/"])
def test_the_address_may_end_in_a_slash_or_api(dhis2_stub: StubDhis2, suffix: str) -> None:
    client.push(point_at(dhis2_stub.url + suffix), GOOD, dry_run=False)
    assert dhis2_stub.requests[0].path == "/api/dataValueSets"


# --- what goes wrong, said plainly ----------------------------------------------------


def refused(server: Dhis2Server) -> PushError:
    with pytest.raises(PushError) as caught:
        client.push(server, GOOD, dry_run=False)
    assert PASSWORD not in caught.value.message
    assert "wrong-password" not in caught.value.message
    return caught.value


def test_a_refused_password_says_so(dhis2_stub: StubDhis2) -> None:
    error = refused(point_at(dhis2_stub.url, password="wrong-password"))
    assert error.message == (
        "DHIS2 did not accept the user name “harbour” or its password (HTTP 401). "
        "Check them under DHIS2 server settings."
    )
    assert error.http_status == 401


def test_an_internal_error_of_dhis2_says_so_with_dhis2s_message(dhis2_stub: StubDhis2) -> None:
    dhis2_stub.fail_with = 500
    error = refused(point_at(dhis2_stub.url))
    assert error.message == (
        "DHIS2 failed with an error of its own (HTTP 500). DHIS2 said: "
        "“java.lang.NullPointerException” Try again later; if it goes on, tell the DHIS2 "
        "administrators."
    )


def test_a_refused_connection_says_where_and_what_to_check(db: None) -> None:
    url = refused_url()
    error = refused(point_at(url))
    host = url.removeprefix("http://")
    assert error.message == (
        f"Could not connect to {host}: the connection was refused. Is the DHIS2 address "
        "right, and is the server running?"
    )
    assert error.http_status is None


def test_a_server_that_does_not_exist_says_so(db: None) -> None:
    error = refused(point_at("https://dhis2.invalid"))
    assert error.message == "Could not find the server dhis2.invalid: check the DHIS2 address."


def test_a_slow_server_times_out_with_a_clear_message(dhis2_stub: StubDhis2) -> None:
    dhis2_stub.delay = 2
    error = refused(point_at(dhis2_stub.url, timeout=1))
    assert "did not answer within 1 second. Try again later" in error.message


def test_a_redirect_to_the_sign_in_page_is_not_followed(dhis2_stub: StubDhis2) -> None:
    dhis2_stub.redirect_to = "/dhis-web-commons/security/login.action"
    error = refused(point_at(dhis2_stub.url))
    assert error.message.startswith("DHIS2 asked to sign in instead (HTTP 302)")
    assert len(dhis2_stub.requests) == 1  # not repeated as a GET


def test_a_redirect_elsewhere_names_where(dhis2_stub: StubDhis2) -> None:
    dhis2_stub.redirect_to = "/dhis2/"
    error = refused(point_at(dhis2_stub.url))
    assert error.message.startswith(
        f"DHIS2 sent the request elsewhere (HTTP 302 to {dhis2_stub.url}/dhis2/)."
    )


def test_a_web_page_instead_of_a_summary_is_not_taken_for_success(dhis2_stub: StubDhis2) -> None:
    dhis2_stub.html = True
    error = refused(point_at(dhis2_stub.url))
    assert "answered, but not with a DHIS2 import summary" in error.message


def test_a_wrong_path_says_there_is_no_web_api_there(dhis2_stub: StubDhis2) -> None:
    error = refused(point_at(dhis2_stub.url + "/dhis"))
    assert error.message == (
        f"There is no DHIS2 Web API at {dhis2_stub.url}/dhis (HTTP 404): check the DHIS2 address."
    )


def test_nothing_is_sent_before_the_settings_are_complete(dhis2_stub: StubDhis2) -> None:
    server = point_at(dhis2_stub.url, password="")
    server.data_set = ""
    error = refused(server)
    assert error.message == ("Set the password, the data set id under DHIS2 server settings first.")
    assert dhis2_stub.requests == []


@pytest.mark.parametrize("answer", [None, [], "OK", {"status": "OK"}, {"response": "x"}])
def test_an_answer_without_an_import_summary_is_not_one(answer: object) -> None:
    assert parse_summary(answer) is None
