from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from harbour.audit.models import GENESIS, AuditEvent, ChainHead


def record(
    actor: Any,
    action: str,
    obj: Any = None,
    *,
    site: Any = None,
    object_type: str = "",
    object_id: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one entry. Never put a raw UIC, a name or a phone number in ``detail``."""
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id or str(obj.pk)
    actor_user = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        # Row lock: entries are chained, so appends must be serialised.
        head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            at=timezone.now(),
            actor=actor_user,
            actor_name=actor_user.get_username() if actor_user else str(actor or "system"),
            site_id=getattr(site, "pk", site),
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail=detail or {},
            prev_hash=head.last_hash,
        )
        event.hash = event.compute_hash()
        event.save()
        ChainHead.objects.filter(pk=1).update(last_hash=event.hash)
    return event


@dataclass(frozen=True)
class Entry:
    action: str
    object_type: str
    object_id: str
    site_id: int | None = None
    detail: dict[str, Any] | None = None


def record_many(actor: Any, entries: list[Entry]) -> int:
    """Append many entries in one locked step (imports, seeding). Returns how many."""
    if not entries:
        return 0
    actor_user = actor if getattr(actor, "is_authenticated", False) else None
    name = actor_user.get_username() if actor_user else str(actor or "system")
    now = timezone.now()
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
        prev = head.last_hash
        events = []
        for e in entries:
            event = AuditEvent(
                at=now,
                actor=actor_user,
                actor_name=name,
                site_id=e.site_id,
                action=e.action,
                object_type=e.object_type,
                object_id=e.object_id,
                detail=e.detail or {},
                prev_hash=prev,
            )
            event.hash = event.compute_hash()
            prev = event.hash
            events.append(event)
        AuditEvent.objects.bulk_create(events, batch_size=1000)
        ChainHead.objects.filter(pk=1).update(last_hash=prev)
    return len(events)


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    message: str


def verify_chain() -> list[ChainProblem]:
    """Recompute every hash in order. An empty list means the log is intact."""
    problems: list[ChainProblem] = []
    expected_prev = GENESIS
    for event in _in_order():
        if event.prev_hash != expected_prev:
            problems.append(
                ChainProblem(event.id, "does not follow the entry before it (one was removed?)")
            )
        if event.compute_hash() != event.hash:
            problems.append(ChainProblem(event.id, "its content was changed after it was written"))
        expected_prev = event.hash
    head = ChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_hash != expected_prev:
        problems.append(ChainProblem(0, "the newest entries are missing"))
    return problems


def _in_order() -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("id").iterator(chunk_size=2000)
