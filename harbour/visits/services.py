"""Recording contacts and overdoses. Each function is one transaction, idempotent on its id."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from harbour.audit.services import record
from harbour.clients.models import Client
from harbour.sites.models import Site
from harbour.stock.models import Movement
from harbour.stock.services import lock_balances, move
from harbour.visits.models import (
    CatalogueItem,
    ConsumptionSession,
    Contact,
    Distribution,
    Overdose,
    SiteSession,
)

INFO_TOPICS = [
    ("safer_injecting", "Safer injecting"),
    ("overdose", "Overdose prevention and response"),
    ("drug_checking", "Drug checking"),
    ("vein_care", "Vein and wound care"),
    ("hiv_hepatitis", "HIV and hepatitis"),
    ("sexual_health", "Sexual health"),
    ("rights", "Rights and legal help"),
    ("ost", "Opioid agonist therapy"),
]
DROPIN_SERVICES = [
    ("meal", "Meal"),
    ("shower", "Shower"),
    ("laundry", "Laundry"),
    ("rest", "Rest"),
    ("computer", "Computer or phone"),
    ("childcare", "Childcare"),
]


class ContactConflict(Exception):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Line:
    item: CatalogueItem
    quantity: int
    option: str = ""
    secondary: bool = False


@dataclass
class Services:
    """Everything besides equipment that happened in one contact."""

    session: SiteSession | None = None
    returned_equipment: int | None = None
    info_topics: list[str] = field(default_factory=list)
    naloxone_training: bool = False
    dropin_services: list[str] = field(default_factory=list)
    referral_note: str = ""
    consumption: dict[str, Any] | None = None  # started, ended, overdose, response


@transaction.atomic
def record_contact(
    actor: Any,
    site: Site,
    client: Client | None = None,
    *,
    contact_id: uuid.UUID | None = None,
    date: dt.date | None = None,
    lines: list[Line] | None = None,
    services: Services | None = None,
    external_id: str | None = None,
) -> tuple[Contact, bool]:
    """Record one contact, what was handed out (taken off the site's stock) and done.

    Sending the same id again returns the first contact unchanged: a phone that
    syncs twice, or a form sent twice, counts one contact.
    """
    date = date or timezone.localdate()
    services = services or Services()
    if contact_id is not None:
        existing = Contact.objects.filter(pk=contact_id).first()
        if existing is not None:
            return _same_contact(existing, site, client, date), False
    if date > timezone.localdate():
        raise ContactConflict("A contact cannot be in the future.", "date")
    try:
        # A savepoint: when the same form arrives twice at the same moment, the second
        # insert fails once the first commits (PostgreSQL) and gets the first contact.
        with transaction.atomic():
            contact = Contact.objects.create(
                id=contact_id or uuid.uuid4(),
                date=date,
                site=site,
                client=client,
                session=services.session,
                returned_equipment=services.returned_equipment,
                info_topics=services.info_topics,
                naloxone_training=services.naloxone_training,
                dropin_services=services.dropin_services,
                referral_note=services.referral_note[:300],
                external_id=external_id,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError:
        existing = Contact.objects.filter(pk=contact_id).first() if contact_id else None
        if existing is None:
            raise
        return _same_contact(existing, site, client, date), False
    lines = [line for line in lines or [] if line.quantity > 0]
    # Lock the balances in one order first: two contacts handing out the same items in
    # another order would otherwise deadlock on PostgreSQL.
    lock_balances([(site, line.item) for line in lines])
    for line in lines:
        Distribution.objects.create(
            contact=contact,
            item=line.item,
            option=line.option,
            quantity=line.quantity,
            secondary=line.secondary,
        )
        move(
            actor,
            site,
            line.item,
            Movement.Kind.DISTRIBUTION,
            -line.quantity,
            date=date,
            contact=contact,
        )
    if services.consumption:
        ConsumptionSession.objects.create(contact=contact, **services.consumption)
    if client is not None:
        record(actor, "contact.create", contact, site=site, detail={"client": client.code})
    return contact, True


def _same_contact(existing: Contact, site: Site, client: Client | None, date: dt.date) -> Contact:
    for name, mine, theirs in (
        ("site", existing.site_id, site.pk),
        ("client", existing.client_id, client.pk if client else None),
        ("date", existing.date, date),
    ):
        if mine != theirs:
            raise ContactConflict(f"This contact id was recorded with another {name}.", name)
    return existing


@transaction.atomic
def report_overdose(
    actor: Any,
    site: Site,
    *,
    date: dt.date,
    client: Client | None = None,
    naloxone_doses: int = 0,
    outcome: str = Overdose.Outcome.UNKNOWN,
    ems_called: str = "unknown",
    source: str = Overdose.Source.STAFF,
    contact: Contact | None = None,
    overdose_id: uuid.UUID | None = None,
    external_id: str | None = None,
) -> tuple[Overdose, bool]:
    if overdose_id is not None:
        existing = Overdose.objects.filter(pk=overdose_id).first()
        if existing is not None:
            return existing, False
    if date > timezone.localdate():
        raise ContactConflict("An overdose cannot be reported for a future date.", "date")
    try:
        # A savepoint, as for contacts: the same report sent twice at once saves one.
        with transaction.atomic():
            overdose = Overdose.objects.create(
                id=overdose_id or uuid.uuid4(),
                date=date,
                site=site,
                client=client,
                contact=contact,
                naloxone_doses=naloxone_doses,
                outcome=outcome,
                ems_called=ems_called,
                source=source,
                external_id=external_id,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError:
        existing = Overdose.objects.filter(pk=overdose_id).first() if overdose_id else None
        if existing is None:
            raise
        return existing, False
    record(
        actor,
        "overdose.report",
        overdose,
        site=site,
        detail={"client": client.code if client else None, "outcome": outcome},
    )
    return overdose, True


def current_session(site: Site, when: dt.datetime | None = None) -> SiteSession | None:
    """The site's session running now, e.g. the women-only Tuesday afternoon."""
    when = timezone.localtime(when or timezone.now())
    for session in SiteSession.objects.filter(site=site, active=True):
        if session.weekday is not None and session.weekday != when.weekday():
            continue
        if session.starts and when.time() < session.starts:
            continue
        if session.ends and when.time() >= session.ends:
            continue
        return session
    return None
