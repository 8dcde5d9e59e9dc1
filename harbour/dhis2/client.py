"""Sending a ``dataValueSets`` body to DHIS2, and reading DHIS2's import summary.

The standard library only (urllib): one POST to ``/api/dataValueSets`` with basic
authentication, ``dryRun``, ``importStrategy=CREATE_AND_UPDATE`` and ``idScheme=UID``.

DHIS2 answers with an import summary in one of two shapes: the summary itself
(``{"status", "importCount", "conflicts"}``, up to 2.37) or wrapped in a web message
(``{"httpStatus", "httpStatusCode", "status", "message", "response": {…summary…}}``,
2.38 on), and the wrapped one comes with HTTP 409 when there were conflicts. Both are
read into an ``ImportSummary``. Everything else (no connection, a timeout, a refused
password, an error page) raises ``PushError`` with a sentence a person can act on,
never a traceback, and never the password.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from http.client import HTTPException
from typing import Any
from urllib.parse import urlencode, urlsplit

from harbour.dhis2.models import Dhis2Server

ENDPOINT = "/api/dataValueSets"
MAX_ANSWER = 5 * 1024 * 1024  # bytes of DHIS2's answer read at most
MAX_MESSAGE = 300  # characters of DHIS2's own message quoted at most
SUCCESS = ("SUCCESS", "OK")


class PushError(Exception):
    """DHIS2 could not be reached or did not import; ``str()`` says what to do."""

    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status


@dataclass
class Conflict:
    object: str
    value: str
    error_code: str = ""
    property: str = ""
    indexes: list[int] = field(default_factory=list)


@dataclass
class ImportSummary:
    status: str  # SUCCESS, WARNING or ERROR
    imported: int = 0
    updated: int = 0
    ignored: int = 0
    deleted: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    description: str = ""
    http_status: int = 200

    @property
    def succeeded(self) -> bool:
        return self.status.upper() in SUCCESS and not self.conflicts

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _text(value: Any, limit: int = MAX_MESSAGE) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_summary(data: Any, http_status: int = 200) -> ImportSummary | None:
    """The import summary in DHIS2's answer, either shape; None if there is none."""
    if not isinstance(data, dict):
        return None
    wrapped = data.get("response")
    summary: dict[str, Any] = wrapped if isinstance(wrapped, dict) else data
    counts = summary.get("importCount")
    if not isinstance(counts, dict) and summary.get("responseType") != "ImportSummary":
        return None
    counts = counts if isinstance(counts, dict) else {}
    conflicts = []
    for item in summary.get("conflicts") or []:
        if not isinstance(item, dict):
            continue
        indexes = item.get("indexes")
        conflicts.append(
            Conflict(
                object=_text(item.get("object")),
                value=_text(item.get("value")),
                error_code=_text(item.get("errorCode"), 16),
                property=_text(item.get("property"), 64),
                indexes=[i for i in indexes if isinstance(i, int)]
                if isinstance(indexes, list)
                else [],
            )
        )
    return ImportSummary(
        status=_text(summary.get("status") or data.get("status") or "UNKNOWN", 16).upper(),
        imported=_int(counts.get("imported")),
        updated=_int(counts.get("updated")),
        ignored=_int(counts.get("ignored")),
        deleted=_int(counts.get("deleted")),
        conflicts=conflicts,
        description=_text(summary.get("description") or data.get("message")),
        http_status=http_status,
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is reported, not followed: urllib would repeat a POST as a bare GET."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _auth(server: Dhis2Server) -> str:
    token = f"{server.username}:{server.password}".encode()
    return "Basic " + base64.b64encode(token).decode("ascii")


def _message(raw: bytes) -> str:
    """DHIS2's own message from a JSON error body; empty for a web page or nothing."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return ""
    if isinstance(data, dict):
        return _text(data.get("message") or data.get("description") or "")
    return ""


def push(server: Dhis2Server, body: dict[str, Any], *, dry_run: bool) -> ImportSummary:
    """POST ``body`` to the server's ``/api/dataValueSets``; DHIS2's import summary.

    With ``dry_run`` DHIS2 checks everything and saves nothing. Raises PushError.
    """
    missing = server.missing()
    if missing:
        raise PushError("Set " + ", ".join(missing) + " under DHIS2 server settings first.")
    params = {
        "dryRun": "true" if dry_run else "false",
        "importStrategy": "CREATE_AND_UPDATE",
        "idScheme": "UID",
    }
    if urlsplit(server.api_root).scheme not in ("http", "https"):
        raise PushError("The DHIS2 address must start with https:// (or http://).")
    url = f"{server.api_root}{ENDPOINT}?{urlencode(params)}"
    host = urlsplit(server.api_root).netloc or server.api_root
    request = urllib.request.Request(  # noqa: S310 - the scheme is http(s), checked above
        url,
        data=json.dumps(body).encode("utf-8"),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            # Sent at once: DHIS2 may answer a request without it with its sign-in page.
            "Authorization": _auth(server),
            "User-Agent": "Harbour",
        },
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=server.timeout) as response:
            status, raw, location = response.status, response.read(MAX_ANSWER), ""
    except urllib.error.HTTPError as exc:
        status, location = exc.code, exc.headers.get("Location", "") if exc.headers else ""
        try:
            raw = exc.read(MAX_ANSWER)
        except (OSError, HTTPException):
            raw = b""
    except urllib.error.URLError as exc:
        raise PushError(_unreachable(exc.reason, host, server.timeout)) from None
    except (OSError, HTTPException) as exc:
        raise PushError(_unreachable(exc, host, server.timeout)) from None
    return _answer(status, raw, location, host, server)


def _answer(
    status: int, raw: bytes, location: str, host: str, server: Dhis2Server
) -> ImportSummary:
    data: Any = None
    try:
        data = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, ValueError):
        data = None
    summary = parse_summary(data, status)
    if summary is not None and (200 <= status < 300 or status == 409):
        return summary
    said = _message(raw)
    said_text = f" DHIS2 said: “{said}”" if said else ""
    if 200 <= status < 300:
        raise PushError(
            f"{host} answered, but not with a DHIS2 import summary. Check that the DHIS2 "
            "address is the one DHIS2 opens at.",
            status,
        )
    if 300 <= status < 400:
        where = urlsplit(location)
        if "login" in where.path.lower():
            raise PushError(
                f"DHIS2 asked to sign in instead (HTTP {status}): check the user name and "
                "password under DHIS2 server settings.",
                status,
            )
        target = f" to {where.scheme}://{where.netloc}{where.path}" if where.netloc else ""
        raise PushError(
            f"DHIS2 sent the request elsewhere (HTTP {status}{target}). Use the exact "
            "address DHIS2 opens at, with https:// if it uses it.",
            status,
        )
    if status == 401:
        raise PushError(
            f"DHIS2 did not accept the user name “{server.username}” or its password "
            "(HTTP 401). Check them under DHIS2 server settings.",
            status,
        )
    if status == 403:
        raise PushError(
            f"The DHIS2 user “{server.username}” may not import these values (HTTP 403): "
            "it needs the authority to add data values and write access to the data set "
            f"and the org units.{said_text}",
            status,
        )
    if status == 404:
        raise PushError(
            f"There is no DHIS2 Web API at {server.api_root} (HTTP 404): check the DHIS2 address.",
            status,
        )
    if status == 409:
        raise PushError(f"DHIS2 refused the values (HTTP 409).{said_text}", status)
    if status == 413:
        raise PushError(
            "DHIS2 refused the values as too large (HTTP 413): send a shorter period.", status
        )
    if status >= 500:
        raise PushError(
            f"DHIS2 failed with an error of its own (HTTP {status}).{said_text} Try again "
            "later; if it goes on, tell the DHIS2 administrators.",
            status,
        )
    raise PushError(f"DHIS2 answered HTTP {status}.{said_text}", status)


def _unreachable(reason: object, host: str, timeout: int) -> str:
    if isinstance(reason, TimeoutError | socket.timeout):
        return (
            f"DHIS2 at {host} did not answer within {timeout} second"
            f"{'' if timeout == 1 else 's'}. Try again later, or "
            "give it longer under DHIS2 server settings."
        )
    if isinstance(reason, ConnectionRefusedError):
        return (
            f"Could not connect to {host}: the connection was refused. Is the DHIS2 address "
            "right, and is the server running?"
        )
    if isinstance(reason, socket.gaierror):
        return f"Could not find the server {host}: check the DHIS2 address."
    if isinstance(reason, ssl.SSLCertVerificationError):
        return (
            f"The secure connection to {host} failed: its certificate could not be "
            f"checked ({reason.verify_message})."
        )
    if isinstance(reason, ssl.SSLError):
        return f"The secure connection to {host} failed ({_text(reason.reason or reason)})."
    if isinstance(reason, ConnectionError | HTTPException):
        return (
            f"The connection to {host} broke off before DHIS2 answered. Try again; the "
            "values may or may not have been imported, and sending them again is safe."
        )
    return f"Could not reach {host} ({_text(reason)})."
