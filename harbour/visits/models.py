from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from harbour.clients.models import YesNoUnknown


class CatalogueItem(models.Model):
    """Something a programme hands out. Defaults follow the exchange format's codes."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    # e.g. syringe sizes and needle gauges; the first one is the usual choice
    options = models.JSONField(default=list, blank=True)
    sort_order = models.PositiveSmallIntegerField(default=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class SiteSession(models.Model):
    """A regular session of a site, e.g. women-only on Tuesday afternoons."""

    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="sessions")
    name = models.CharField(max_length=100)
    weekday = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="0 = Monday … 6 = Sunday; empty for any day"
    )
    starts = models.TimeField(null=True, blank=True)
    ends = models.TimeField(null=True, blank=True)
    women_only = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site", "weekday", "starts"]

    def __str__(self) -> str:
        return self.name

    @property
    def weekday_name(self) -> str:
        names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
        return names[self.weekday] if self.weekday is not None else "Any day"


class Contact(models.Model):
    """One service contact. ``client`` is empty when the person stays anonymous."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    date = models.DateField(db_index=True)
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="contacts")
    client = models.ForeignKey(
        "clients.Client", null=True, blank=True, on_delete=models.PROTECT, related_name="contacts"
    )
    session = models.ForeignKey(
        SiteSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    # Used equipment brought back: recorded when offered, never asked for in exchange.
    returned_equipment = models.PositiveIntegerField(null=True, blank=True)
    info_topics = models.JSONField(default=list, blank=True)
    naloxone_training = models.BooleanField(default=False)
    dropin_services = models.JSONField(default=list, blank=True)
    referral_note = models.CharField(max_length=300, blank=True)
    # The exchange format's free-form id, for idempotent re-imports.
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-date", "-created_at"]
        indexes = [
            models.Index(fields=["site", "date"]),
            models.Index(fields=["client", "date"]),
            # A contact's date, site and client by its id without reading the row: what
            # the indicators need of each of a national year's N/S lines (docs/scale.md).
            models.Index(
                fields=["id", "date", "site", "client"], name="visits_contact_covering_id"
            ),
        ]

    def __str__(self) -> str:
        return f"contact {self.pk} on {self.date}"

    @property
    def anonymous(self) -> bool:
        return self.client_id is None


class Distribution(models.Model):
    """What was handed out in a contact."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="distributions")
    item = models.ForeignKey(CatalogueItem, on_delete=models.PROTECT, related_name="+")
    option = models.CharField(max_length=40, blank=True)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    # Taken to pass on to others: good programmes encourage it and count it apart.
    secondary = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["item", "contact"]),
            # An item's quantities in contact order, without reading the rows (docs/scale.md).
            models.Index(
                fields=["item", "contact", "quantity"], name="visits_dist_item_contact_qty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.item_id}"


class ConsumptionSession(models.Model):
    """A supervised consumption session in a drug consumption room."""

    contact = models.OneToOneField(
        Contact, on_delete=models.CASCADE, related_name="consumption_session"
    )
    started = models.TimeField()
    ended = models.TimeField(null=True, blank=True)
    overdose = models.BooleanField(default=False)
    response = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"session {self.started}–{self.ended or '…'}"


class Overdose(models.Model):
    """An overdose witnessed by staff or reported to the programme.

    There is deliberately no police field: people call for help only where it is
    safe to, and this record must never become evidence against anyone.
    """

    class Outcome(models.TextChoices):
        SURVIVED = "survived", "Survived"
        DIED = "died", "Died"
        UNKNOWN = "unknown", "Not known"

    class Source(models.TextChoices):
        STAFF = "staff", "Witnessed by staff"
        CLIENT = "client", "Reported by a client"
        PEER = "peer", "Reported by a peer"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    date = models.DateField(db_index=True)
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="overdoses")
    client = models.ForeignKey(
        "clients.Client", null=True, blank=True, on_delete=models.PROTECT, related_name="overdoses"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="overdoses"
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.STAFF)
    naloxone_doses = models.PositiveSmallIntegerField(default=0)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.UNKNOWN)
    ems_called = models.CharField(
        "ambulance called", max_length=7, choices=YesNoUnknown.choices, default=YesNoUnknown.UNKNOWN
    )
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-date", "-created_at"]
        indexes = [models.Index(fields=["site", "date"])]

    def __str__(self) -> str:
        return f"overdose {self.date} at {self.site_id}"
