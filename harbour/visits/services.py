from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from harbour.audit.services import record
from harbour.clients.models import Client
from harbour.sites.models import Site
from harbour.visits.models import Contact


class ContactConflict(Exception):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@transaction.atomic
def record_contact(
    actor: Any,
    site: Site,
    client: Client | None = None,
    *,
    contact_id: uuid.UUID | None = None,
    date: dt.date | None = None,
) -> tuple[Contact, bool]:
    """Record one contact; sending the same id again returns the first one unchanged."""
    date = date or timezone.localdate()
    if contact_id is not None:
        existing = Contact.objects.filter(pk=contact_id).first()
        if existing is not None:
            for name, mine, theirs in (
                ("site", existing.site_id, site.pk),
                ("client", existing.client_id, client.pk if client else None),
                ("date", existing.date, date),
            ):
                if mine != theirs:
                    raise ContactConflict(
                        f"This contact id was recorded with another {name}.", name
                    )
            return existing, False
    contact = Contact.objects.create(
        id=contact_id or uuid.uuid4(),
        date=date,
        site=site,
        client=client,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if client is not None:
        record(actor, "contact.create", contact, site=site, detail={"client": client.code})
    return contact, True
