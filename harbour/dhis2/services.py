"""What changes, and what leaves for DHIS2: each in a named function, each audited.

The audit entries name the period, how many org units and values, and DHIS2's answer
(status and counts): never a figure, never the password.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.forms import BaseModelFormSet
from django.utils import timezone

from harbour.audit.services import record
from harbour.dhis2 import client
from harbour.dhis2.models import Dhis2Server, Mapping
from harbour.dhis2.payload import Payload, build
from harbour.sites.models import Organisation

MAX_CONFLICTS_SHOWN = 200  # kept for the page; DHIS2 can list one per value


@dataclass
class PushOutcome:
    """A push or dry run: what was sent, and DHIS2's summary or the reason it failed."""

    period: str
    dry_run: bool
    payload: Payload | None = None
    summary: client.ImportSummary | None = None
    error: str = ""
    http_status: int | None = None
    at: dt.datetime = field(default_factory=timezone.now)

    @property
    def succeeded(self) -> bool:
        return self.summary is not None and self.summary.succeeded

    def audit_detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "period": self.period,
            "dry_run": self.dry_run,
            "org_units": len({v.org_unit.uid for v in self.payload.values}) if self.payload else 0,
            "values": self.payload.count() if self.payload else 0,
            "left_out": len(self.payload.left_out) if self.payload else 0,
        }
        if self.summary is not None:
            s = self.summary
            detail.update(
                status=s.status,
                imported=s.imported,
                updated=s.updated,
                ignored=s.ignored,
                deleted=s.deleted,
                conflicts=len(s.conflicts),
                http_status=s.http_status,
            )
        else:
            detail.update(status="FAILED", error=self.error, http_status=self.http_status)
        return detail

    def for_page(self) -> dict[str, Any]:
        """What the page shows of it after a redirect, kept in the session: plain data."""
        shown: dict[str, Any] = {
            "period": self.period,
            "dry_run": self.dry_run,
            "at": self.at.isoformat(),
            "values": self.payload.count() if self.payload else 0,
            "error": self.error,
            "http_status": self.http_status,
            "summary": None,
        }
        if self.summary is not None:
            s = self.summary
            conflicts = [
                {
                    "object": c.object,
                    "value": c.value,
                    "error_code": c.error_code,
                    "about": explain(c, self.payload),
                }
                for c in s.conflicts[:MAX_CONFLICTS_SHOWN]
            ]
            shown["summary"] = {
                "status": s.status,
                "succeeded": s.succeeded,
                "imported": s.imported,
                "updated": s.updated,
                "ignored": s.ignored,
                "deleted": s.deleted,
                "description": s.description,
                "conflicts": conflicts,
                "more_conflicts": max(len(s.conflicts) - MAX_CONFLICTS_SHOWN, 0),
            }
        return shown


def explain(conflict: client.Conflict, payload: Payload | None) -> str:
    """The Harbour figures and org units a DHIS2 conflict is about, in words."""
    if payload is None:
        return ""
    if conflict.indexes:
        about = []
        for index in conflict.indexes[:3]:
            if 0 <= index < len(payload.values):
                value = payload.values[index]
                about.append(f"{value.org_unit.name}: {value.label}")
        more = len(conflict.indexes) - 3
        if about:
            return "; ".join(about) + (f" and {more} more" if more > 0 else "")
    uid = conflict.object
    labels = sorted(
        {
            v.label
            for v in payload.values
            if uid in (v.mapping.data_element, v.mapping.category_option_combo)
        }
    )
    if labels:
        return "; ".join(labels[:3]) + (f" and {len(labels) - 3} more" if len(labels) > 3 else "")
    names = [u.name for u in payload.org_units if u.uid == uid]
    if names:
        return f"Organisation unit of {names[0]}"
    if uid and uid == payload.data_set:
        return "The data set"
    if uid and uid == payload.attribute_option_combo:
        return "The attribute option combo"
    return ""


def push_period(actor: Any, period: str, *, dry_run: bool) -> PushOutcome:
    """Build the period's values, send them to DHIS2 (or check them: ``dry_run``), audit.

    Raises payload.PayloadError for a bad period; DHIS2's failures are in the outcome.
    """
    server = Dhis2Server.get()
    payload = build(period, server=server)
    outcome = PushOutcome(payload.period.code, dry_run, payload)
    if not payload.values:
        outcome.error = "There is nothing to send for this period: no mapped figure has a value."
    else:
        try:
            outcome.summary = client.push(server, payload.data_value_sets(), dry_run=dry_run)
        except client.PushError as exc:
            outcome.error, outcome.http_status = exc.message, exc.http_status
    action = "dhis2.dry_run" if dry_run else "dhis2.push"
    record(actor, action, server, detail=outcome.audit_detail())
    return outcome


def record_export(actor: Any, payload: Payload, fmt: str) -> None:
    record(
        actor,
        "dhis2.export",
        Dhis2Server.get(),
        detail={
            "period": payload.period.code,
            "format": fmt,
            "values": payload.count(),
            "left_out": len(payload.left_out),
        },
    )


def save_server(
    actor: Any, server: Dhis2Server, changed: list[str], *, org_unit: str | None = None
) -> None:
    """Save the server settings (and the programme's org unit id), and audit which
    fields changed: a changed password is named, never written down."""
    with transaction.atomic():
        server.save()
        if org_unit is not None:
            org = Organisation.get()
            if org.dhis2_org_unit != org_unit:
                org.dhis2_org_unit = org_unit
                org.save(update_fields=["dhis2_org_unit"])
        record(actor, "dhis2.server.update", server, detail={"fields": sorted(changed)})


def save_mapping(actor: Any, formset: BaseModelFormSet[Any, Any]) -> dict[str, int]:
    """Save the mapping formset; how many rows were added, changed and removed."""
    with transaction.atomic():
        formset.save()
        counts = {
            "added": len(formset.new_objects),
            "changed": len(formset.changed_objects),
            "removed": len(formset.deleted_objects),
        }
        if any(counts.values()):
            record(
                actor,
                "dhis2.mapping.update",
                object_type="mapping",
                detail={**counts, "rows": Mapping.objects.count()},
            )
    return counts
