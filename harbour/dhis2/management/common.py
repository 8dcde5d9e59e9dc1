"""What the DHIS2 commands tell a person about a payload, on standard error."""

from __future__ import annotations

from django.core.management.base import OutputWrapper

from harbour.dhis2.payload import Payload


def report_left_out(err: OutputWrapper, payload: Payload) -> None:
    for note in payload.notes:
        err.write(f"Note: {note}")
    if payload.unreported_sites:
        err.write(
            "Sites without a DHIS2 id (their own figures are not sent): "
            + ", ".join(site.code for site in payload.unreported_sites)
        )
    for item in payload.left_out:
        err.write(f"Left out: {item.org_unit.name}: {item.label}: {item.reason}")
    if not payload.values:
        err.write(f"No mapped figure has a value for {payload.period.code}.")
