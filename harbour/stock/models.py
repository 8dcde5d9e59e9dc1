"""Stock of each catalogue item at each site: a ledger of movements and a balance.

Every change is a ``Movement`` row (the ledger, which explains any balance) and an
atomic ``UPDATE … SET on_hand = on_hand + delta`` of the ``Balance`` row inside the
same transaction, so two counters handing out syringes at the same moment can never
lose an update.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Movement(models.Model):
    class Kind(models.TextChoices):
        DELIVERY = "delivery", "Delivery in"
        TRANSFER_IN = "transfer_in", "Transfer in"
        TRANSFER_OUT = "transfer_out", "Transfer out"
        DISTRIBUTION = "distribution", "Handed out"
        ADJUSTMENT = "adjustment", "Adjustment"
        COUNT = "count", "Stock count"

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey("visits.CatalogueItem", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=14, choices=Kind.choices)
    # Signed change of the balance: negative for what leaves the shelf.
    delta = models.IntegerField()
    # For a stock count: what was on the shelf.
    counted = models.IntegerField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    date = models.DateField(db_index=True)
    contact = models.ForeignKey(
        "visits.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    other_site = models.ForeignKey(
        "sites.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["site", "item", "kind", "date"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.delta:+d} {self.item_id} at {self.site_id}"


class Balance(models.Model):
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey("visits.CatalogueItem", on_delete=models.PROTECT, related_name="+")
    on_hand = models.IntegerField(default=0)
    # Warn when fewer days than this are left at the recent rate.
    warn_days = models.PositiveSmallIntegerField(default=14)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "item"], name="balance_unique")]

    def __str__(self) -> str:
        return f"{self.item_id} at {self.site_id}: {self.on_hand}"
