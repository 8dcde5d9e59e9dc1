"""Every change of stock goes through here, in a transaction, with an atomic balance update."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from harbour.audit.services import record
from harbour.sites.models import Site
from harbour.stock.models import Balance, Movement
from harbour.visits.models import CatalogueItem

RATE_DAYS = 30  # the recent rate is what left the shelf over this many days


class StockError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _apply(site: Site, item: CatalogueItem, delta: int) -> None:
    Balance.objects.get_or_create(site=site, item=item)
    # One UPDATE with the arithmetic done by the database: parallel writers add up
    # instead of overwriting each other's read-modify-write.
    Balance.objects.filter(site=site, item=item).update(on_hand=F("on_hand") + delta)


def lock_balances(pairs: Iterable[tuple[Site, CatalogueItem]]) -> None:
    """Lock the balance rows a transaction is about to change, always in the same order.

    A writer that changes several balances (a contact with needles and swabs, a transfer
    between two sites) would otherwise deadlock on PostgreSQL with one taking them in the
    other order; in one order, the second simply waits for the first.
    """
    for site_id, item_id in sorted({(site.pk, item.pk) for site, item in pairs}):
        Balance.objects.get_or_create(site_id=site_id, item_id=item_id)
        Balance.objects.select_for_update().filter(site_id=site_id, item_id=item_id).first()


def move(
    actor: Any,
    site: Site,
    item: CatalogueItem,
    kind: str,
    delta: int,
    *,
    date: dt.date | None = None,
    reason: str = "",
    contact: Any = None,
    other_site: Site | None = None,
    counted: int | None = None,
) -> Movement:
    with transaction.atomic():
        movement = Movement.objects.create(
            site=site,
            item=item,
            kind=kind,
            delta=delta,
            counted=counted,
            reason=reason,
            date=date or timezone.localdate(),
            contact=contact,
            other_site=other_site,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        _apply(site, item, delta)
    return movement


def deliver(
    actor: Any, site: Site, item: CatalogueItem, quantity: int, reason: str = ""
) -> Movement:
    if quantity <= 0:
        raise StockError("A delivery is a positive number of units.", "quantity")
    with transaction.atomic():
        m = move(actor, site, item, Movement.Kind.DELIVERY, quantity, reason=reason)
        record(
            actor, "stock.delivery", m, site=site, detail={"item": item.code, "quantity": quantity}
        )
    return m


def transfer(
    actor: Any, source: Site, target: Site, item: CatalogueItem, quantity: int, reason: str = ""
) -> tuple[Movement, Movement]:
    if quantity <= 0:
        raise StockError("A transfer is a positive number of units.", "quantity")
    if source.pk == target.pk:
        raise StockError("Choose another site to send stock to.", "target")
    with transaction.atomic():
        lock_balances([(source, item), (target, item)])
        out = move(
            actor,
            source,
            item,
            Movement.Kind.TRANSFER_OUT,
            -quantity,
            reason=reason,
            other_site=target,
        )
        into = move(
            actor,
            target,
            item,
            Movement.Kind.TRANSFER_IN,
            quantity,
            reason=reason,
            other_site=source,
        )
        record(
            actor,
            "stock.transfer",
            out,
            site=source,
            detail={"item": item.code, "quantity": quantity, "to": target.code},
        )
    return out, into


def adjust(actor: Any, site: Site, item: CatalogueItem, delta: int, reason: str) -> Movement:
    if not delta:
        raise StockError("An adjustment changes the stock by at least one unit.", "quantity")
    if not reason.strip():
        raise StockError("Say why the stock is adjusted (damaged, expired, found…).", "reason")
    with transaction.atomic():
        m = move(actor, site, item, Movement.Kind.ADJUSTMENT, delta, reason=reason)
        record(actor, "stock.adjustment", m, site=site, detail={"item": item.code, "delta": delta})
    return m


def count(actor: Any, site: Site, item: CatalogueItem, counted: int, reason: str = "") -> Movement:
    """Record what is on the shelf; the difference from the ledger is booked as the count."""
    if counted < 0:
        raise StockError("A count cannot be negative.", "counted")
    with transaction.atomic():
        # Lock the balance: a count must not interleave with a contact's distribution.
        balance, _ = Balance.objects.get_or_create(site=site, item=item)
        balance = Balance.objects.select_for_update().get(pk=balance.pk)
        m = move(
            actor,
            site,
            item,
            Movement.Kind.COUNT,
            counted - balance.on_hand,
            reason=reason,
            counted=counted,
        )
        record(
            actor,
            "stock.count",
            m,
            site=site,
            detail={"item": item.code, "counted": counted, "difference": m.delta},
        )
    return m


@dataclass
class StockLine:
    item: CatalogueItem
    on_hand: int
    per_day: float  # recent rate of what left the shelf
    days_left: float | None  # None when nothing left the shelf recently
    warn_days: int
    stocked: bool = True  # False: the site has never held or handed out this item

    @property
    def warning(self) -> bool:
        if not self.stocked:
            return False
        return self.on_hand <= 0 or (self.days_left is not None and self.days_left < self.warn_days)


def levels(site: Site, today: dt.date | None = None) -> list[StockLine]:
    today = today or timezone.localdate()
    since = today - dt.timedelta(days=RATE_DAYS)
    balances = {b.item_id: b for b in Balance.objects.filter(site=site)}
    used = dict(
        Movement.objects.filter(
            site=site, kind=Movement.Kind.DISTRIBUTION, date__gt=since, date__lte=today
        )
        .values("item")
        .annotate(total=Sum("delta"))
        .values_list("item", "total")
    )
    lines = []
    for item in CatalogueItem.objects.filter(active=True):
        balance = balances.get(item.pk)
        on_hand = balance.on_hand if balance else 0
        per_day = -(used.get(item.pk) or 0) / RATE_DAYS
        days_left = on_hand / per_day if per_day > 0 else None
        lines.append(
            StockLine(
                item,
                on_hand,
                per_day,
                days_left,
                balance.warn_days if balance else 14,
                stocked=balance is not None,
            )
        )
    return lines
