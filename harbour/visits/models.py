from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Contact(models.Model):
    """One service contact. ``client`` is empty when the person stays anonymous."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    date = models.DateField(db_index=True)
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="contacts")
    client = models.ForeignKey(
        "clients.Client", null=True, blank=True, on_delete=models.PROTECT, related_name="contacts"
    )
    # The exchange format's free-form id, for idempotent re-imports.
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-date", "-created_at"]
        indexes = [models.Index(fields=["site", "date"])]

    def __str__(self) -> str:
        return f"contact {self.pk} on {self.date}"

    @property
    def anonymous(self) -> bool:
        return self.client_id is None
