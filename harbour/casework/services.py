"""Referrals that close, appointments and reminders, and the morning lists."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from harbour.accounts import access
from harbour.accounts.access import Cap
from harbour.accounts.models import User
from harbour.audit.services import record
from harbour.casework import sms
from harbour.casework.models import (
    Appointment,
    CaseAssignment,
    PartnerService,
    Referral,
    ServiceKind,
)
from harbour.clients.models import Client
from harbour.sites.models import Site
from harbour.visits.models import Contact

log = logging.getLogger(__name__)

# The whole reminder. It says nothing about where or why: only when.
REMINDER_TEXT = "Reminder: you have an appointment on {when}. Reply STOP to stop reminders."

# Allowed moves of a referral: made -> accepted -> attended, or it did not happen.
NEXT = {
    Referral.Status.MADE: {
        Referral.Status.ACCEPTED,
        Referral.Status.ATTENDED,
        Referral.Status.NOT_ATTENDED,
        Referral.Status.DECLINED,
        Referral.Status.WITHDRAWN,
    },
    Referral.Status.ACCEPTED: {
        Referral.Status.ATTENDED,
        Referral.Status.NOT_ATTENDED,
        Referral.Status.WITHDRAWN,
    },
}
NEEDS_REASON = {Referral.Status.NOT_ATTENDED, Referral.Status.DECLINED, Referral.Status.WITHDRAWN}
# A referral that did not happen, not by the person's own choice: someone to reach out to.
DID_NOT_HAPPEN = (Referral.Status.NOT_ATTENDED, Referral.Status.DECLINED)
# No contact with the programme for this long, and the person counts as lost to follow-up.
LOST_AFTER_DAYS = 90


class CaseworkError(ValueError):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@transaction.atomic
def assign(
    actor: Any, client: Client, case_manager: Any, since: dt.date | None = None
) -> CaseAssignment:
    since = since or timezone.localdate()
    # The case manager must be able to open the record they are given.
    if not access.client_scope(case_manager, Cap.CASEWORK).filter(pk=client.pk).exists():
        raise CaseworkError(
            "This person cannot be case manager for this client: they do no casework "
            "at the client's sites.",
            "case_manager",
        )
    CaseAssignment.objects.filter(client=client, until__isnull=True).update(until=since)
    a = CaseAssignment.objects.create(client=client, case_manager=case_manager, since=since)
    record(
        actor,
        "case.assign",
        client,
        detail={"code": client.code, "case_manager": case_manager.get_username()},
    )
    return a


@transaction.atomic
def refer(
    actor: Any,
    client: Client,
    site: Site,
    *,
    kind: str,
    service: PartnerService | None = None,
    made_on: dt.date | None = None,
    test: Any = None,
    referral_id: uuid.UUID | None = None,
) -> tuple[Referral, bool]:
    if referral_id is not None:
        existing = Referral.objects.filter(pk=referral_id).first()
        if existing is not None:
            if existing.client_id != client.pk:
                raise CaseworkError("This id belongs to another client's referral.", "referral_id")
            return existing, False
    made_on = made_on or timezone.localdate()
    if made_on > timezone.localdate():
        raise CaseworkError("A referral cannot be made in the future.", "made_on")
    if service is not None and service.kind != kind:
        raise CaseworkError("This partner service does not offer that kind of help.", "service")
    r = Referral.objects.create(
        id=referral_id or uuid.uuid4(),
        client=client,
        site=site,
        service=service,
        kind=kind,
        made_on=made_on,
        test=test,
        made_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record(actor, "referral.create", r, site=site, detail={"client": client.code, "kind": kind})
    return r, True


@transaction.atomic
def update_referral(
    actor: Any, r: Referral, *, status: str, on: dt.date | None = None, reason: str = ""
) -> Referral:
    if status not in Referral.Status.values:
        raise CaseworkError("Choose one of the referral's statuses.", "status")
    r = Referral.objects.select_for_update().get(pk=r.pk)
    if status not in NEXT.get(Referral.Status(r.status), set()):
        raise CaseworkError(
            f"A referral that is {r.get_status_display().lower()} cannot become "
            f"{Referral.Status(status).label.lower()}.",
            "status",
        )
    if status in NEEDS_REASON and not reason.strip():
        raise CaseworkError("Say why, when known: it shows where people are lost.", "reason")
    on = on or timezone.localdate()
    if on < r.made_on or on > timezone.localdate():
        raise CaseworkError("The date must be between the referral and today.", "status_on")
    r.status, r.status_on, r.reason = status, on, reason.strip()[:200]
    r.save(update_fields=["status", "status_on", "reason"])
    record(
        actor, "referral.update", r, site=r.site, detail={"client": r.client.code, "status": status}
    )
    return r


@transaction.atomic
def book(
    actor: Any,
    client: Client,
    site: Site,
    *,
    at: dt.datetime,
    purpose: str = "",
    referral: Referral | None = None,
) -> Appointment:
    if at < timezone.now() - dt.timedelta(hours=1):
        raise CaseworkError("An appointment is booked for a time to come.", "at")
    if referral is not None and referral.client_id != client.pk:
        raise CaseworkError("This referral is another client's.", "referral")
    a = Appointment.objects.create(
        client=client,
        site=site,
        at=at,
        purpose=purpose[:200],
        referral=referral,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record(actor, "appointment.create", a, site=site, detail={"client": client.code})
    return a


@transaction.atomic
def record_attendance(actor: Any, appointment: Appointment, *, attended: bool) -> Appointment:
    """Whether the person came. It can be corrected; each change is in the audit log."""
    a = Appointment.objects.select_for_update().select_related("client").get(pk=appointment.pk)
    if timezone.localtime(a.at).date() > timezone.localdate():
        raise CaseworkError("Whether the person came is known once the day has come.", "attended")
    a.attended = attended
    a.save(update_fields=["attended"])
    record(
        actor,
        "appointment.attendance",
        a,
        site=a.site,
        detail={"client": a.client.code, "attended": attended},
    )
    return a


@transaction.atomic
def set_reminders(actor: Any, client: Client, *, agrees: bool, site: Site | None = None) -> bool:
    """Record whether the person wants text reminders. Returns whether it changed."""
    if client.reminders == agrees:
        return False
    client.reminders = agrees
    client.save(update_fields=["reminders", "updated_at"])
    # As for any profile change: field names only, never the number.
    record(actor, "client.update", client, site=site, detail={"fields": ["reminders"]})
    return True


@transaction.atomic
def save_partner(actor: Any, partner: PartnerService, changed: list[str]) -> PartnerService:
    creating = partner.pk is None
    partner.save()
    record(
        actor,
        "partner.create" if creating else "partner.update",
        partner,
        detail={"name": partner.name, "kind": partner.kind, "fields": changed},
    )
    return partner


def reminder_text(appointment: Appointment) -> str:
    when = timezone.localtime(appointment.at).strftime("%a %d %b at %H:%M")
    return REMINDER_TEXT.format(when=when)


def send_reminders(now: dt.datetime | None = None, hours_ahead: int = 24) -> int:
    """Remind people of appointments in the next ``hours_ahead`` hours, once each.

    Only people who agreed to reminders and gave a number; the text names no service.
    """
    now = now or timezone.now()
    gateway = sms.backend()
    sent = 0
    due = Appointment.objects.filter(
        at__gt=now,
        at__lte=now + dt.timedelta(hours=hours_ahead),
        reminder_sent_at__isnull=True,
        attended__isnull=True,
        client__reminders=True,
    ).select_related("client")
    for appointment in due:
        phone = appointment.client.phone
        if not phone:
            continue
        try:
            with transaction.atomic():
                # Claim it first: two runs at once send one reminder.
                claimed = Appointment.objects.filter(
                    pk=appointment.pk, reminder_sent_at__isnull=True
                ).update(reminder_sent_at=now)
                if not claimed:
                    continue
                gateway.send(phone, reminder_text(appointment), appointment)
        except Exception:
            # One refused number must not stop everyone else's reminders. The claim is
            # rolled back with the failed send, so the next run tries again.
            log.exception("The SMS gateway could not send the reminder for %s", appointment.pk)
            continue
        sent += 1
    if sent:
        record("reminders", "reminders.sent", object_type="appointment", detail={"count": sent})
    return sent


# -- the lists a case manager opens every morning ---------------------------------------


def todays_appointments(
    clients: QuerySet[Client], day: dt.date | None = None
) -> QuerySet[Appointment]:
    day = day or timezone.localdate()
    return Appointment.objects.filter(client__in=clients, at__date=day).select_related("client")


def stale_referrals(clients: QuerySet[Client], today: dt.date | None = None) -> QuerySet[Referral]:
    today = today or timezone.localdate()
    limit = today - dt.timedelta(days=settings.REFERRAL_FOLLOW_UP_DAYS)
    return (
        Referral.objects.filter(client__in=clients, status__in=Referral.OPEN, made_on__lte=limit)
        .select_related("client", "service")
        .order_by("made_on")
    )


def caseload(case_manager: Any) -> QuerySet[Client]:
    return Client.objects.filter(
        case_assignments__case_manager=case_manager,
        case_assignments__until__isnull=True,
        merged_into__isnull=True,
    ).distinct()


def current_assignment(client: Client) -> CaseAssignment | None:
    return (
        CaseAssignment.objects.filter(client=client, until__isnull=True)
        .select_related("case_manager")
        .first()
    )


def case_managers(site: Site) -> list[User]:
    """The people who do casework at ``site``: whom a client there may be assigned to."""
    roles = [role for role, caps in access.POLICY.items() if Cap.CASEWORK in caps]
    people = (
        User.objects.filter(is_active=True, memberships__role__in=roles)
        .distinct()
        .order_by("username")
    )
    return [u for u in people if access.has(u, Cap.CASEWORK, site)]


@dataclass(frozen=True)
class Lost:
    client: Client
    last_seen: dt.date
    reasons: tuple[str, ...]


def lost_to_follow_up(clients: QuerySet[Client], today: dt.date | None = None) -> list[Lost]:
    """People to reach out to: their last referral did not happen, they stopped or were
    lost from a treatment, or nobody has seen them for LOST_AFTER_DAYS days. Longest
    unseen first."""
    from harbour.testing.services import off_treatment

    today = today or timezone.localdate()
    stopped: dict[Any, list[str]] = {}
    for t in off_treatment(clients):
        why = f": {t.reason}" if t.reason else ""
        stopped.setdefault(t.client_id, []).append(
            f"{t.get_condition_display()} treatment {t.get_outcome_display().lower()}{why}"
        )
    latest = Referral.objects.filter(client=OuterRef("pk")).order_by("-made_on", "-created_at")
    rows = clients.annotate(
        latest_status=Subquery(latest.values("status")[:1]),
        latest_kind=Subquery(latest.values("kind")[:1]),
        last_contact=Subquery(
            Contact.objects.filter(client=OuterRef("pk")).order_by("-date").values("date")[:1]
        ),
        last_attended=Subquery(
            Appointment.objects.filter(client=OuterRef("pk"), attended=True)
            .order_by("-at")
            .values("at")[:1]
        ),
    )
    lost = []
    for c in rows:
        seen = [c.registered_on]
        if c.last_contact is not None:
            seen.append(c.last_contact)
        if c.last_attended is not None:
            seen.append(timezone.localtime(c.last_attended).date())
        last_seen = max(seen)
        reasons = []
        if c.latest_status in DID_NOT_HAPPEN:
            kind = ServiceKind(c.latest_kind).label
            status = Referral.Status(c.latest_status).label.lower()
            reasons.append(f"Last referral ({kind}): {status}")
        reasons.extend(stopped.get(c.pk, []))
        unseen = (today - last_seen).days
        if unseen >= LOST_AFTER_DAYS:
            reasons.append(f"Not seen for {unseen} days")
        if reasons:
            lost.append(Lost(c, last_seen, tuple(reasons)))
    return sorted(lost, key=lambda x: (x.last_seen, x.client.code))
