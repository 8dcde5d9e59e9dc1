"""The demo case manager's work at the main site: the casework stream.

A directory of partner services (made-up names, "+000" numbers or none), a caseload
of about 25 of the main site's clients, referrals along the loop (open, attended, not
attended with a reason, declined, withdrawn; a few open for longer than the follow-up
limit), appointments (some today, some tomorrow, some past) and a few people who
agreed to text reminders, with made-up numbers. Drawn once, after the clients, and
only for the demo, so the programme's other streams never depend on it.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Sequence

from harbour.casework.models import Referral, ServiceKind
from harbour.demo.generate.plans import (
    AppointmentPlan,
    CaseworkPlan,
    PartnerPlan,
    ReferralPlan,
)
from harbour.demo.generate.rng import draw_uuid, pick

CASELOAD = 25
# Open referrals older than the follow-up limit (14 days), whatever the seed.
STALE_WANTED = 3
FOLLOW_UP_DAYS = 14
TODAY_WANTED = (4, 6)
TOMORROW_WANTED = (3, 5)
REMINDER_SHARE = 0.25  # of the caseload

PARTNERS = (
    PartnerPlan(
        "Harbourside Infectious Diseases Clinic",
        ServiceKind.HIV,
        True,
        "12 Quay Road",
        "+000 555 0110",
        "Mon-Fri 08:30-16:30",
        "Walk-in HIV care on Tuesday mornings",
    ),
    PartnerPlan(
        "Northgate Liver Clinic",
        ServiceKind.HCV,
        True,
        "Northgate Hospital, wing C",
        "+000 555 0111",
        "Mon, Wed, Fri 09:00-13:00",
        "Peer navigator on Wednesdays",
    ),
    PartnerPlan(
        "Eastwick Chest Clinic",
        ServiceKind.TB,
        True,
        "3 Mill Lane",
        "+000 555 0112",
        "Mon-Fri 09:00-15:00",
    ),
    PartnerPlan(
        "Torrin opioid treatment clinic",
        ServiceKind.OST,
        True,
        "40 Torrin Street",
        "+000 555 0113",
        "Daily 07:30-12:00",
    ),
    PartnerPlan(
        "Safe Harbour Housing First",
        ServiceKind.HOUSING,
        True,
        "8 Ferry Walk",
        "+000 555 0114",
        "Mon-Fri 10:00-17:00",
        "No sobriety requirement",
    ),
    PartnerPlan(
        "Brinmouth Emergency Shelter",
        ServiceKind.HOUSING,
        False,
        "22 Station Road",
        "",
        "Every night from 19:00",
        "Asks for ID at the door",
    ),
    PartnerPlan(
        "Community Law Centre",
        ServiceKind.LEGAL,
        True,
        "1 Court Passage",
        "+000 555 0115",
        "Thu 14:00-18:00",
    ),
    PartnerPlan(
        "Riverside Sexual Health",
        ServiceKind.SRH,
        True,
        "Riverside Health Centre",
        "+000 555 0116",
        "Mon-Sat 09:00-18:00",
    ),
    PartnerPlan(
        "Open Door Counselling",
        ServiceKind.MENTAL_HEALTH,
        True,
        "5 Chapel Yard",
        "",
        "Tue and Thu 12:00-20:00",
    ),
    PartnerPlan(
        "Women's Safe Space",
        ServiceKind.GBV,
        True,
        "Address given by phone",
        "+000 555 0117",
        "24 hours",
    ),
    PartnerPlan(
        "Welfare Rights Desk",
        ServiceKind.BENEFITS,
        True,
        "Town Hall, ground floor",
        "+000 555 0118",
        "Mon-Fri 09:30-12:30",
    ),
)

# What people are referred for, and how often.
_KIND_WEIGHTS = {
    ServiceKind.HIV: 14,
    ServiceKind.HCV: 12,
    ServiceKind.TB: 3,
    ServiceKind.OST: 8,
    ServiceKind.HOUSING: 16,
    ServiceKind.LEGAL: 7,
    ServiceKind.SRH: 6,
    ServiceKind.MENTAL_HEALTH: 10,
    ServiceKind.GBV: 3,
    ServiceKind.BENEFITS: 9,
    ServiceKind.OTHER: 4,
}
_KINDS = tuple(_KIND_WEIGHTS)

_CLOSED = (
    Referral.Status.ATTENDED,
    Referral.Status.NOT_ATTENDED,
    Referral.Status.DECLINED,
    Referral.Status.WITHDRAWN,
)
_CLOSED_WEIGHTS = (60, 22, 9, 9)
_REASONS = {
    Referral.Status.NOT_ATTENDED: (
        "No bus fare that day",
        "Was in hospital",
        "Forgot the day",
        "Was held by the police",
    ),
    Referral.Status.DECLINED: (
        "Service full: waiting list",
        "Service asked for ID the person does not have",
    ),
    Referral.Status.WITHDRAWN: ("The person changed their mind", "Prefers to wait a few weeks"),
}
_PURPOSES = (
    "Check-in with the case manager",
    "Plan for the housing interview",
    "Go together to the clinic",
    "Benefits form",
    "Follow-up after the referral",
)


def plan_casework(
    rng: random.Random,
    *,
    site: str,
    candidates: Sequence[tuple[uuid.UUID, dt.date]],
    end: dt.date,
) -> CaseworkPlan:
    """``candidates``: the main site's clients (id, registered on), in client order."""
    plan = CaseworkPlan(site, partners=list(PARTNERS))
    by_kind = {p.kind: [q.name for q in PARTNERS if q.kind == p.kind] for p in PARTNERS}
    chosen = rng.sample(list(candidates), min(CASELOAD, len(candidates)))
    stale_wanted = STALE_WANTED
    for client, registered_on in chosen:
        since = max(registered_on, end - dt.timedelta(days=rng.randint(10, 300)))
        plan.caseload.append((client, since))
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            kind = pick(rng, _KINDS, tuple(_KIND_WEIGHTS.values()))
            services = by_kind.get(kind, [])
            service = rng.choice(services) if services else None
            made_on = max(since, end - dt.timedelta(days=rng.randrange(90)))
            status = pick(rng, _CLOSED, _CLOSED_WEIGHTS)
            open_anyway = rng.random() < 0.2
            status_on: dt.date | None = min(end, made_on + dt.timedelta(days=rng.randint(1, 14)))
            reason = rng.choice(_REASONS.get(status, ("",)))
            age = (end - made_on).days
            stays_open = age < FOLLOW_UP_DAYS or open_anyway
            if age > FOLLOW_UP_DAYS and (stays_open or stale_wanted):
                stays_open, stale_wanted = True, max(0, stale_wanted - 1)
            if stays_open:
                accepted = rng.random() < 0.5
                status = Referral.Status.ACCEPTED if accepted else Referral.Status.MADE
                status_on = min(end, made_on + dt.timedelta(days=2)) if accepted else None
                reason = ""
            plan.referrals.append(
                ReferralPlan(
                    draw_uuid(rng), client, kind, service, made_on, status, status_on, reason
                )
            )
    _appointments(rng, plan, end)
    _reminders(rng, plan)
    return plan


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(rng.randint(9, 16), rng.choice((0, 15, 30, 45))))


def _appointments(rng: random.Random, plan: CaseworkPlan, end: dt.date) -> None:
    """Some past (attended or not), some today, some tomorrow."""
    clients = [client for client, _ in plan.caseload]
    if not clients:
        return
    open_referrals = {
        r.client: r.id for r in plan.referrals if r.status == Referral.Status.ACCEPTED
    }
    today = rng.sample(clients, min(len(clients), rng.randint(*TODAY_WANTED)))
    tomorrow = rng.sample(clients, min(len(clients), rng.randint(*TOMORROW_WANTED)))
    past = rng.sample(clients, min(len(clients), len(clients) // 2))
    for day, people in ((end, today), (end + dt.timedelta(days=1), tomorrow)):
        for client in people:
            plan.appointments.append(
                AppointmentPlan(
                    draw_uuid(rng),
                    client,
                    _at(day, rng),
                    rng.choice(_PURPOSES),
                    open_referrals.get(client),
                )
            )
    for client in past:
        day = end - dt.timedelta(days=rng.randint(1, 60))
        attended = rng.random() < 0.75
        plan.appointments.append(
            AppointmentPlan(
                draw_uuid(rng), client, _at(day, rng), rng.choice(_PURPOSES), None, attended
            )
        )


def _reminders(rng: random.Random, plan: CaseworkPlan) -> None:
    """A share of the caseload, among them at least two with an appointment tomorrow."""
    clients = [client for client, _ in plan.caseload]
    upcoming = [a.client for a in plan.appointments if a.attended is None]  # today, tomorrow
    agreed = set(upcoming[-2:]) | {c for c in clients if rng.random() < REMINDER_SHARE}
    for number, client in enumerate(c for c in clients if c in agreed):
        plan.phones[client] = f"+000 555 01{number + 20:02d}"
