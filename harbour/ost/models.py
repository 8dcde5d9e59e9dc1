"""Opioid agonist therapy: episodes, prescriptions, doses and clinical reviews.

OST is voluntary: an episode starts with the person's consent and ends when they
choose, move, or can no longer come. Nothing here treats the use of other drugs as a
reason to stop treatment; a taper is planned with the person, never imposed.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models


class Medication(models.TextChoices):
    METHADONE = "methadone", "Methadone"
    BUPRENORPHINE = "buprenorphine", "Buprenorphine"
    DIACETYLMORPHINE = "diacetylmorphine", "Diacetylmorphine"
    OTHER = "other", "Other"


class Phase(models.TextChoices):
    INDUCTION = "induction", "Induction"
    MAINTENANCE = "maintenance", "Maintenance"
    TAPER = "taper", "Taper (planned with the person)"


class EndReason(models.TextChoices):
    COMPLETED_TAPER = "completed_taper", "Completed a planned taper"
    TRANSFERRED = "transferred", "Transferred to another service"
    STOPPED = "stopped", "Chose to stop"
    INCARCERATED = "incarcerated", "Went to prison (continuity arranged)"
    DIED = "died", "Died"
    LOST = "lost", "Lost to follow-up"
    OTHER = "other", "Other"


class StartContext(models.TextChoices):
    NEW = "new", "New start"
    TRANSFER_IN = "transfer_in", "Transferred from another service"
    FROM_PRISON = "from_prison", "Continuing from prison"
    RESTART = "restart", "Restarting"


class Episode(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="ost_episodes"
    )
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="ost_episodes")
    medication = models.CharField(max_length=20, choices=Medication.choices)
    start_date = models.DateField(db_index=True)
    end_date = models.DateField(null=True, blank=True, db_index=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)
    start_context = models.CharField(
        max_length=20, choices=StartContext.choices, default=StartContext.NEW
    )
    # Where the person came from or went to, for transfers and prison continuity.
    linked_service = models.CharField(max_length=200, blank=True)
    consent_on = models.DateField("consent to treatment given on")
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-start_date"]
        indexes = [models.Index(fields=["site", "end_date"])]

    def __str__(self) -> str:
        return f"{self.get_medication_display()} from {self.start_date}"

    @property
    def ongoing(self) -> bool:
        return self.end_date is None


class Prescription(models.Model):
    """A dose and its rules from a date. A change is a new row with its reason and author."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="prescriptions")
    dose_mg = models.DecimalField(max_digits=7, decimal_places=2)
    phase = models.CharField(max_length=12, choices=Phase.choices)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    # Weekdays (0 = Monday) on which the dose is taken home, once the person is stable.
    take_home_days = models.JSONField(default=list, blank=True)
    reason = models.CharField(max_length=300)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-valid_from", "-created_at"]

    def __str__(self) -> str:
        return f"{self.dose_mg} mg {self.phase} from {self.valid_from}"

    @property
    def take_home_label(self) -> str:
        names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        return ", ".join(names[d] for d in sorted(self.take_home_days or []))


class Dose(models.Model):
    """One dose due on a date: taken under observation, taken home, or missed."""

    class Taken(models.TextChoices):
        OBSERVED = "observed", "Observed"
        TAKE_HOME = "take_home", "Taken home"
        MISSED = "missed", "Missed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="doses")
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="ost_doses")
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    medication = models.CharField(max_length=20, choices=Medication.choices)
    dose_mg = models.DecimalField(max_digits=7, decimal_places=2, default=Decimal("0"))
    phase = models.CharField(max_length=12, choices=Phase.choices)
    taken = models.CharField(max_length=10, choices=Taken.choices)
    # A second dose on one day is refused unless a clinician's reason is given.
    justification = models.CharField(max_length=300, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-date", "-recorded_at"]
        indexes = [
            models.Index(fields=["episode", "date"]),
            models.Index(fields=["site", "date"]),
            models.Index(fields=["client", "date"]),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.taken} {self.dose_mg} mg"


class Review(models.Model):
    """A clinician's review, which releases a dose blocked after missed doses."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="reviews")
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=300)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"review {self.at:%Y-%m-%d}"


class DayClosed(models.Model):
    """A site's dispensing day whose missed doses have been recorded."""

    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    closed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "date"], name="day_closed_unique")]

    def __str__(self) -> str:
        return f"{self.site_id} {self.date}"
