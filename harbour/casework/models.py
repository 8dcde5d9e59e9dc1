"""Case management: caseloads, partner services, closed-loop referrals, appointments,
and reminders that reveal nothing about the service."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from harbour.lib.crypto import EncryptedTextField


class ServiceKind(models.TextChoices):
    OST = "ost", "Opioid agonist therapy"
    HIV = "hiv", "HIV treatment"
    HCV = "hcv", "Hepatitis C treatment"
    TB = "tb", "TB care"
    HOUSING = "housing", "Housing"
    LEGAL = "legal", "Legal aid"
    SRH = "srh", "Sexual and reproductive health"
    MENTAL_HEALTH = "mental_health", "Mental health and psychosocial support"
    GBV = "gbv", "Gender-based violence support"
    CHILDCARE = "childcare", "Childcare"
    BENEFITS = "benefits", "Social benefits"
    OTHER = "other", "Other"


class PartnerService(models.Model):
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=ServiceKind.choices)
    # Known to welcome people who use drugs without judgement.
    friendly = models.BooleanField("friendly to people who use drugs", default=True)
    address = models.CharField(max_length=300, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    hours = models.CharField(max_length=200, blank=True)
    notes = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class CaseAssignment(models.Model):
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="case_assignments"
    )
    case_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="caseload"
    )
    since = models.DateField()
    until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-since"]

    def __str__(self) -> str:
        return f"{self.client_id} with {self.case_manager_id}"


class Referral(models.Model):
    class Status(models.TextChoices):
        MADE = "made", "Made"
        ACCEPTED = "accepted", "Accepted"
        ATTENDED = "attended", "Attended"
        NOT_ATTENDED = "not_attended", "Did not attend"
        DECLINED = "declined", "Declined by the service"
        WITHDRAWN = "withdrawn", "The person changed their mind"

    OPEN = (Status.MADE, Status.ACCEPTED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="referrals")
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey(
        PartnerService, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    kind = models.CharField(max_length=16, choices=ServiceKind.choices)
    made_on = models.DateField()
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.MADE)
    status_on = models.DateField(null=True, blank=True)
    # Why it did not happen, when known: the programme learns where people are lost.
    reason = models.CharField(max_length=200, blank=True)
    # The test that led to this referral (the "connection" of the 5 Cs).
    test = models.ForeignKey(
        "testing.Test", null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals"
    )
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Two referrals made the same day: the later one is the latest.
    created_at = models.DateTimeField(auto_now_add=True, null=True)

    class Meta:
        ordering = ["-made_on", "-created_at"]
        indexes = [models.Index(fields=["status", "made_on"])]

    def __str__(self) -> str:
        return f"{self.kind} referral {self.made_on}"


class Appointment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="appointments"
    )
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(db_index=True)
    # For staff only; never part of a reminder.
    purpose = models.CharField(max_length=200, blank=True)
    referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.SET_NULL, related_name="appointments"
    )
    attended = models.BooleanField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"appointment {self.at:%Y-%m-%d %H:%M}"


class OutboxMessage(models.Model):
    """A text message as handed to the SMS gateway (the default gateway keeps it here)."""

    # Encrypted like the client's phone: an outbox must not become a list of numbers.
    to = EncryptedTextField()
    body = models.CharField(max_length=320)
    created_at = models.DateTimeField(auto_now_add=True)
    appointment = models.ForeignKey(
        Appointment, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    backend = models.CharField(max_length=100)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"message {self.created_at:%Y-%m-%d %H:%M}"
