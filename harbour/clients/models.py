from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from harbour.lib.crypto import EncryptedTextField


class Gender(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    TRANSGENDER = "transgender", "Transgender"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Not given"


class YesNoUnknown(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    UNKNOWN = "unknown", "Not known"


class Client(models.Model):
    """A registered person, known only by a pseudonym. There is no name field, by design."""

    # The device that first recorded the client may choose the id (offline sync).
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField("client code", max_length=11, unique=True)
    pseudonym = models.CharField(max_length=64, unique=True)
    key_id = models.CharField(max_length=32)
    gender = models.CharField(max_length=12, choices=Gender.choices, default=Gender.UNKNOWN)
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    injects = models.CharField(
        "injects drugs", max_length=7, choices=YesNoUnknown.choices, default=YesNoUnknown.UNKNOWN
    )
    opioid_dependent = models.CharField(
        max_length=7, choices=YesNoUnknown.choices, default=YesNoUnknown.UNKNOWN
    )
    site = models.ForeignKey(
        "sites.Site", on_delete=models.PROTECT, related_name="registered_clients"
    )
    registered_on = models.DateField()
    consent_on = models.DateField("consent to data storage given on")
    phone = EncryptedTextField("phone for reminders", blank=True, default="")
    # Reminders go only to people who asked for them, and say nothing of the service.
    reminders = models.BooleanField("agrees to text reminders", default=False)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_records"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["site", "registered_on"])]

    def __str__(self) -> str:
        return self.code

    @property
    def active_record(self) -> Client:
        node = self
        seen = {node.pk}
        while node.merged_into_id is not None and node.merged_into_id not in seen:
            node = node.merged_into  # type: ignore[assignment]
            seen.add(node.pk)
        return node


class ClientPartial(models.Model):
    """Keyed digest of the UIC with one component left out, to flag near-duplicates."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="partials")
    position = models.PositiveSmallIntegerField()
    digest = models.CharField(max_length=64, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "position"], name="partial_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id}#{self.position}"


class ClientLink(models.Model):
    """A site where the client has been served, which lets that site's staff see the record."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="links")
    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="client_links")
    since = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "site"], name="client_link_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} at {self.site_id}"


class Merge(models.Model):
    """Two records of one person joined; kept so the merge can be undone."""

    survivor = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="merges_kept")
    merged = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="merges_absorbed")
    moved = models.JSONField(default=dict)
    reason = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"merge {self.pk}: {self.merged_id} into {self.survivor_id}"
