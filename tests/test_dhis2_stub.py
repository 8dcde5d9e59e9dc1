"""A stub DHIS2 for the push tests, and the tests that show it checks what DHIS2 checks.

``StubDhis2`` serves ``POST /api/dataValueSets`` on 127.0.0.1 (a free port) from a
thread. It checks basic authentication, the content type, ``dryRun`` and the shape of
the body (every data value: an 11-character data element uid, a period, an org unit
and a numeric value), records every request, and answers as DHIS2 does: an import
summary wrapped in a web message (2.38 on; HTTP 409 when there are conflicts) or the
plain summary of older versions, with a conflict for each unknown data element. It can
also answer 500, or answer late.

Other test modules make their own ``dhis2_stub`` fixture with ``running()``, and set
the programme's server settings with ``point_at``.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from harbour.dhis2.models import Dhis2Server

USERNAME = "harbour"
PASSWORD = "Dhis2-s3cret-passphrase"  # the stub's, for tests only
UID = re.compile(r"^[A-Za-z][A-Za-z0-9]{10}$")
PERIOD = re.compile(r"^\d{4}(?:S[12]|Q[1-4]|0[1-9]|1[0-2])?$")
SET_KEYS = {"dataSet", "completeDate", "period", "orgUnit", "attributeOptionCombo", "dataValues"}
VALUE_KEYS = {
    "dataElement",
    "categoryOptionCombo",
    "attributeOptionCombo",
    "period",
    "orgUnit",
    "value",
    "comment",
    "followup",
    "storedBy",
}


def shape_problems(body: Any) -> list[str]:
    """What DHIS2 would reject in a dataValueSets body; empty when it is well formed."""
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    problems = [f"unknown key {k!r}" for k in sorted(set(body) - SET_KEYS)]
    if "dataSet" in body and not UID.match(str(body["dataSet"])):
        problems.append(f"dataSet {body['dataSet']!r} is not a uid")
    values = body.get("dataValues")
    if not isinstance(values, list) or not values:
        return [*problems, "dataValues is missing or empty"]
    for i, dv in enumerate(values):
        if not isinstance(dv, dict):
            problems.append(f"dataValues[{i}] is not an object")
            continue
        problems += [f"dataValues[{i}]: unknown key {k!r}" for k in sorted(set(dv) - VALUE_KEYS)]
        element = dv.get("dataElement")
        if not isinstance(element, str) or not UID.match(element):
            problems.append(f"dataValues[{i}]: dataElement {element!r} is not an 11-character uid")
        for name in ("categoryOptionCombo", "attributeOptionCombo"):
            if name in dv and not UID.match(str(dv[name])):
                problems.append(f"dataValues[{i}]: {name} {dv[name]!r} is not a uid")
        period = dv.get("period", body.get("period"))
        if not isinstance(period, str) or not PERIOD.match(period):
            problems.append(f"dataValues[{i}]: period {period!r} is not a DHIS2 period")
        org_unit = dv.get("orgUnit", body.get("orgUnit"))
        if not isinstance(org_unit, str) or not UID.match(org_unit):
            problems.append(f"dataValues[{i}]: orgUnit {org_unit!r} is not a uid")
        value = dv.get("value")
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if isinstance(value, str):
            try:
                float(value)
                numeric = True
            except ValueError:
                numeric = False
        if not numeric:
            problems.append(f"dataValues[{i}]: value {value!r} is not a number")
    return problems


@dataclass
class Received:
    path: str
    query: dict[str, str]
    content_type: str
    authorised: bool
    body: Any = None

    @property
    def dry_run(self) -> bool:
        return self.query.get("dryRun") == "true"


@dataclass
class StubDhis2:
    known_elements: set[str] | None = None  # None: every data element is known
    shape: str = "wrapped"  # "wrapped" (2.38 on) or "plain" (up to 2.37)
    fail_with: int | None = None  # answer every request with this HTTP status
    delay: float = 0.0  # seconds to wait before answering
    redirect_to: str = ""  # answer 302 to this path, as DHIS2 does without a session
    html: bool = False  # answer 200 with a web page, as a proxy or a wrong address would
    requests: list[Received] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    stored: dict[tuple[str, ...], Any] = field(default_factory=dict)
    url: str = ""
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def start(self) -> StubDhis2:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._send(405, {"httpStatus": "Method Not Allowed", "httpStatusCode": 405})

            def do_POST(self) -> None:
                status, answer = stub.handle(self)
                if stub.delay:
                    time.sleep(stub.delay)
                self._send(status, answer)

            def _send(self, status: int, answer: Any) -> None:
                raw = json.dumps(answer).encode()
                kind = "application/json;charset=UTF-8"
                if stub.html:
                    status, kind = 200, "text/html;charset=UTF-8"
                    raw = b"<!doctype html><title>Welcome</title><p>It works!</p>"
                try:
                    self.send_response(status)
                    if stub.redirect_to:
                        self.send_header("Location", stub.url + stub.redirect_to)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(raw)))
                    if status == 401:
                        self.send_header("WWW-Authenticate", 'Basic realm="DHIS2"')
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the timeout test)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- what DHIS2 does -------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler) -> tuple[int, Any]:
        parts = urlsplit(request.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length)
        content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip()
        expected = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        received = Received(
            parts.path, query, content_type, request.headers.get("Authorization") == expected
        )
        self.requests.append(received)
        if self.redirect_to:
            return 302, {}
        if parts.path != "/api/dataValueSets":
            return 404, web_message(404, "Not Found", f"No resource at {parts.path}")
        if self.fail_with:
            return self.fail_with, web_message(
                self.fail_with, "Internal Server Error", "java.lang.NullPointerException"
            )
        if not received.authorised:
            return 401, web_message(401, "Unauthorized", "Unauthorized")
        if content_type != "application/json":
            return 415, web_message(415, "Unsupported Media Type", content_type)
        if query.get("dryRun") not in ("true", "false"):
            self.problems.append(f"dryRun is {query.get('dryRun')!r}, not true or false")
        try:
            received.body = json.loads(raw)
        except ValueError:
            self.problems.append("the body is not JSON")
            return 400, web_message(400, "Bad Request", "Invalid JSON")
        problems = shape_problems(received.body)
        if problems:
            self.problems += problems
            return 400, web_message(400, "Bad Request", "; ".join(problems))
        return self.import_values(received.body, dry_run=received.dry_run, query=query)

    def import_values(
        self, body: dict[str, Any], *, dry_run: bool, query: dict[str, str]
    ) -> tuple[int, Any]:
        counts = {"imported": 0, "updated": 0, "ignored": 0, "deleted": 0}
        unknown: dict[str, list[int]] = {}
        for i, dv in enumerate(body["dataValues"]):
            element = dv["dataElement"]
            if self.known_elements is not None and element not in self.known_elements:
                unknown.setdefault(element, []).append(i)
                counts["ignored"] += 1
                continue
            key = (
                element,
                dv.get("categoryOptionCombo", "default"),
                dv.get("attributeOptionCombo", "default"),
                dv.get("period", body.get("period")),
                dv.get("orgUnit", body.get("orgUnit")),
            )
            counts["updated" if key in self.stored else "imported"] += 1
            if not dry_run:
                self.stored[key] = dv["value"]
        conflicts = [
            {
                "object": element,
                "objects": {"dataElement": element},
                "value": f"Data element not found or not accessible: `{element}`",
                "errorCode": "E7610",
                "property": "dataElement",
                "indexes": indexes,
            }
            for element, indexes in unknown.items()
        ]
        summary = {
            "responseType": "ImportSummary",
            "status": "WARNING" if conflicts else "SUCCESS",
            "importOptions": {
                "idSchemes": {},
                "dryRun": dry_run,
                "async": False,
                "importStrategy": query.get("importStrategy", "CREATE_AND_UPDATE"),
                "mergeMode": "REPLACE",
                "reportMode": "FULL",
            },
            "description": "Import process completed successfully",
            "importCount": counts,
            "conflicts": conflicts,
            "rejectedIndexes": sorted(i for indexes in unknown.values() for i in indexes),
            "dataSetComplete": "false",
        }
        if self.shape == "plain":
            return 200, summary
        if conflicts:
            return 409, {
                "httpStatus": "Conflict",
                "httpStatusCode": 409,
                "status": "WARNING",
                "message": "One more conflicts encountered, please check import summary.",
                "response": summary,
            }
        return 200, {
            "httpStatus": "OK",
            "httpStatusCode": 200,
            "status": "OK",
            "message": "Import was successful.",
            "response": summary,
        }


def web_message(code: int, status: str, message: str) -> dict[str, Any]:
    return {"httpStatus": status, "httpStatusCode": code, "status": "ERROR", "message": message}


def running() -> Iterator[StubDhis2]:
    """A started stub, stopped afterwards: ``yield from running()`` in a fixture."""
    stub = StubDhis2().start()
    try:
        yield stub
    finally:
        stub.stop()


@pytest.fixture
def dhis2_stub() -> Iterator[StubDhis2]:
    yield from running()


def point_at(url: str, *, password: str = PASSWORD, timeout: int = 10) -> Dhis2Server:
    """The programme's DHIS2 server settings, pointing at ``url``."""
    server = Dhis2Server.get()
    server.base_url = url
    server.username = USERNAME
    server.password = password
    server.data_set = "pBOMPrpg1QX"
    server.timeout = timeout
    server.save()
    return server


def refused_url() -> str:
    """An address on this computer where nothing listens: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- the stub itself ------------------------------------------------------------------


def post(stub: StubDhis2, body: Any, *, password: str = PASSWORD, dry_run: str = "false") -> Any:
    token = base64.b64encode(f"{USERNAME}:{password}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - the stub's http:// address
        f"{stub.url}/api/dataValueSets?dryRun={dry_run}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


GOOD = {
    "dataSet": "pBOMPrpg1QX",
    "period": "2025Q1",
    "dataValues": [
        {"dataElement": "f7n9E0hX8qk", "period": "2025Q1", "orgUnit": "DiszpKrYNg8", "value": 12}
    ],
}


def test_the_stub_imports_a_well_formed_body_and_updates_it_the_second_time(
    dhis2_stub: StubDhis2,
) -> None:
    assert post(dhis2_stub, GOOD)[1]["response"]["importCount"]["imported"] == 1
    status, answer = post(dhis2_stub, GOOD)
    assert status == 200
    assert answer["response"]["importCount"] == {
        "imported": 0,
        "updated": 1,
        "ignored": 0,
        "deleted": 0,
    }
    assert dhis2_stub.problems == []


def test_the_stub_saves_nothing_on_a_dry_run(dhis2_stub: StubDhis2) -> None:
    post(dhis2_stub, GOOD, dry_run="true")
    assert dhis2_stub.stored == {}
    assert dhis2_stub.requests[0].dry_run


def test_the_stub_refuses_a_wrong_password(dhis2_stub: StubDhis2) -> None:
    status, answer = post(dhis2_stub, GOOD, password="wrong")
    assert (status, answer["httpStatusCode"]) == (401, 401)
    assert dhis2_stub.stored == {}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"dataElement": "f7n9E0hX8q"}, "is not an 11-character uid"),
        ({"value": "twelve"}, "is not a number"),
        ({"value": None}, "is not a number"),
        ({"orgUnit": "Ngelehun"}, "is not a uid"),
        ({"period": "2025-Q1"}, "is not a DHIS2 period"),
    ],
)
def test_the_stub_rejects_a_data_value_dhis2_would_reject(
    dhis2_stub: StubDhis2, change: dict[str, Any], problem: str
) -> None:
    body = {"dataValues": [{**GOOD["dataValues"][0], **change}]}  # type: ignore[index]
    status, answer = post(dhis2_stub, body)
    assert status == 400
    assert problem in answer["message"]
    assert any(problem in p for p in dhis2_stub.problems)
