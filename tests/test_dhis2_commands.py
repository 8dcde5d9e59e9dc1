"""``harbour dhis2-export`` and ``harbour dhis2-push``, against the stub DHIS2."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from harbour.audit.models import AuditEvent
from harbour.dhis2.models import Level, Mapping
from harbour.dhis2.payload import ADX_NAMESPACE
from harbour.visits.models import CatalogueItem, Contact, Distribution
from tests.factory import Cast
from tests.test_dhis2_stub import PASSWORD, StubDhis2, point_at, refused_url, running

NORTH_OU = "NthCentre01"


@pytest.fixture
def dhis2_stub() -> Iterator[StubDhis2]:
    yield from running()


@pytest.fixture
def mapped(cast: Cast, dhis2_stub: StubDhis2) -> Cast:
    cast.north.dhis2_org_unit = NORTH_OU
    cast.north.save()
    Mapping.objects.create(indicator="NALOXONE.kits", part="value", data_element="DeNaloxone1")
    Mapping.objects.create(
        indicator="PRV.10", part="value", data_element="DeNspPerPer", level=Level.SITES
    )
    kits, _ = CatalogueItem.objects.get_or_create(code="naloxone_kit", defaults={"name": "kit"})
    contact = Contact.objects.create(site=cast.north, date=dt.date(2025, 2, 3))
    Distribution.objects.create(contact=contact, item=kits, quantity=7)
    point_at(dhis2_stub.url)
    return cast


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_export_prints_the_json_and_says_what_was_left_out(mapped: Cast) -> None:
    out, err = run("dhis2-export", "--period", "2025Q1")
    assert json.loads(out) == {
        "dataSet": "pBOMPrpg1QX",
        "period": "2025Q1",
        "dataValues": [
            {"dataElement": "DeNaloxone1", "period": "2025Q1", "orgUnit": NORTH_OU, "value": 7}
        ],
    }
    assert (
        "Left out: North Centre: PRV.10 Needles and syringes per person: value: denominator is 0"
        in err
    )
    assert "Sites without a DHIS2 id (their own figures are not sent): STH-01" in err
    assert AuditEvent.objects.get(action="dhis2.export").detail["format"] == "json"


def test_export_writes_adx_to_a_file(mapped: Cast, tmp_path: Path) -> None:
    target = tmp_path / "q1.adx.xml"
    _, err = run("dhis2-export", "--period", "2025Q1", "--format", "adx", "--output", str(target))
    root = ET.fromstring(target.read_bytes())  # noqa: S314 - Harbour's own output
    assert root.tag == f"{{{ADX_NAMESPACE}}}adx"
    assert root[0].attrib["period"] == "2025-01-01/P3M"
    assert f"Wrote 1 value for 2025Q1 to {target}." in err


def test_export_refuses_a_bad_period_naming_the_option(mapped: Cast) -> None:
    with pytest.raises(CommandError, match=r"--period: '2025Q9' is not a period"):
        run("dhis2-export", "--period", "2025Q9")


def test_push_dry_run_prints_dhis2s_summary(mapped: Cast, dhis2_stub: StubDhis2) -> None:
    out, _ = run("dhis2-push", "--period", "2025Q1", "--dry-run")
    assert (
        "Dry run of 2025Q1: DHIS2 answered SUCCESS: 1 imported, 0 updated, 0 ignored, "
        "0 deleted (of 1 sent)." in out
    )
    assert "DHIS2 would take every value; nothing was saved." in out
    assert dhis2_stub.requests[0].dry_run
    event = AuditEvent.objects.get(action="dhis2.dry_run")
    assert event.actor_name == "dhis2-push"
    assert PASSWORD not in json.dumps(event.detail)


def test_push_with_conflicts_fails_so_a_scheduled_run_is_noticed(
    mapped: Cast, dhis2_stub: StubDhis2
) -> None:
    dhis2_stub.known_elements = set()
    out = StringIO()
    with pytest.raises(
        CommandError, match=r"DHIS2 did not take every value \(WARNING, 1 conflict\)"
    ):
        call_command("dhis2-push", "--period", "2025Q1", stdout=out, stderr=StringIO())
    assert (
        "Conflict: DeNaloxone1: Data element not found or not accessible: `DeNaloxone1` "
        "[North Centre: NALOXONE.kits Naloxone kits handed out: value]" in out.getvalue()
    )


def test_push_to_an_unreachable_server_fails_with_the_reason(mapped: Cast) -> None:
    point_at(refused_url())
    with pytest.raises(CommandError, match="Push of 2025Q1 failed: Could not connect to"):
        run("dhis2-push", "--period", "2025Q1")
    assert AuditEvent.objects.get(action="dhis2.push").detail["status"] == "FAILED"
