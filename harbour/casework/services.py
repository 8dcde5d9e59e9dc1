"""Referrals that close, appointments and reminders, and the morning lists."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from harbour.audit.services import record
from harbour.casework import sms
from harbour.casework.models import Appointment, CaseAssignment, PartnerService, Referral
from harbour.clients.models import Client
from harbour.sites.models import Site

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


class CaseworkError(ValueError):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@transaction.atomic
def assign(
    actor: Any, client: Client, case_manager: Any, since: dt.date | None = None
) -> CaseAssignment:
    since = since or timezone.localdate()
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
        with transaction.atomic():
            # Claim it first: two runs at once send one reminder.
            claimed = Appointment.objects.filter(
                pk=appointment.pk, reminder_sent_at__isnull=True
            ).update(reminder_sent_at=now)
            if not claimed:
                continue
            gateway.send(phone, reminder_text(appointment), appointment)
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
