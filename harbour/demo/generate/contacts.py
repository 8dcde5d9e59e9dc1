"""What happens in a contact, and the contacts where the person stays anonymous.

Equipment, information, naloxone training, drop-in services, consumption sessions
and overdoses all come from the services stream, contact by contact, so they never
shift the clients and contact dates drawn before them. Anonymous contacts' dates and
sites come from their own stream.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator, Sequence

from harbour.clients.models import Gender, YesNoUnknown
from harbour.demo.generate.overdoses import reported_overdose
from harbour.demo.generate.plans import ConsumptionPlan, ContactPlan, LinePlan, OverdosePlan
from harbour.demo.generate.rng import draw_uuid, pick
from harbour.demo.generate.sites import ANONYMOUS_WEIGHT, NSP_KINDS, SitePlan
from harbour.sites.models import SiteKind
from harbour.visits.models import Overdose
from harbour.visits.services import DROPIN_SERVICES, INFO_TOPICS

# Share of all contacts where the person stays anonymous.
ANONYMOUS_SHARE = 0.22

# Overdoses: about one per 450 contacts, plus those in consumption sessions.
_OVERDOSE_PER_CONTACT = 1 / 450
_DCR_SESSION_SHARE = 0.8
_DCR_OVERDOSE_PER_SESSION = 0.005

_TOPIC_WEIGHT = {
    "safer_injecting": 5,
    "overdose": 5,
    "drug_checking": 2,
    "vein_care": 4,
    "hiv_hepatitis": 3,
    "sexual_health": 2,
    "rights": 1,
    "ost": 2,
}
_TOPICS = [code for code, _ in INFO_TOPICS]
_TOPIC_WEIGHTS = [_TOPIC_WEIGHT.get(code, 1) for code in _TOPICS]
# Chance that a drop-in visitor uses each service.
_DROPIN_SHARE = {
    "meal": 0.7,
    "shower": 0.35,
    "laundry": 0.2,
    "rest": 0.3,
    "computer": 0.2,
    "childcare": 0.03,
}
_DROPIN = [(code, _DROPIN_SHARE.get(code, 0.1)) for code, _ in DROPIN_SERVICES]


def draw_anonymous(
    rng: random.Random, *, total: int, sites: Sequence[SitePlan], start: dt.date, days: int
) -> Iterator[ContactPlan]:
    """``total`` anonymous contacts at the service ``sites``, services not yet planned."""
    weights = [ANONYMOUS_WEIGHT[s.kind] for s in sites]
    codes = [s.code for s in sites]
    for _ in range(total):
        day = start + dt.timedelta(days=rng.randrange(days))
        site = rng.choices(codes, weights)[0]
        yield ContactPlan(draw_uuid(rng), day, site)


def plan_services(
    rng: random.Random,
    contact: ContactPlan,
    *,
    kind: str,
    client: uuid.UUID | None,
    injects: str,
    gender: str,
    women_only_day: int | None,
    needle_options: Sequence[str],
    start: dt.date,
) -> list[LinePlan]:
    """Fill in what happens in ``contact`` at a site of ``kind``; return what is handed out.

    The lines may name items the catalogue lacks: the caller leaves those out.
    ``women_only_day`` is the weekday of the site's women-only session, if it has one.
    """
    if injects == YesNoUnknown.UNKNOWN:
        injecting = rng.random() < 0.7
    else:
        injecting = injects == YesNoUnknown.YES
    lines: list[LinePlan] = []
    if kind in NSP_KINDS:
        _nsp_lines(rng, contact, lines, injecting, kind, needle_options)
        topics_share = 0.18
    else:
        _prison_lines(rng, lines)
        topics_share = 0.6
    if rng.random() < topics_share:
        count = pick(rng, (1, 2, 3), (70, 25, 5))
        contact.info_topics = sorted({pick(rng, _TOPICS, _TOPIC_WEIGHTS) for _ in range(count)})
    if rng.random() < 0.03:
        contact.naloxone_training = True  # and the kit that goes with it
        if not any(line.item == "naloxone_kit" for line in lines):
            lines.append(LinePlan("naloxone_kit", 1))
    if kind == SiteKind.DROP_IN and rng.random() < 0.5:
        chosen = [code for code, share in _DROPIN if rng.random() < share]
        contact.dropin_services = chosen or [_DROPIN[0][0]]
    if kind == SiteKind.DCR and rng.random() < _DCR_SESSION_SHARE:
        _consumption(rng, contact, client)
    if (
        women_only_day == contact.date.weekday()
        and gender in (Gender.FEMALE, Gender.TRANSGENDER)
        and rng.random() < 0.6
    ):
        contact.women_only = True
    if rng.random() < _OVERDOSE_PER_CONTACT:
        overdose = reported_overdose(rng, contact, client, start)
        contact.overdoses.append(overdose)
        # Someone who used their naloxone kit on a person gets a new one.
        if (
            overdose.source != Overdose.Source.STAFF
            and overdose.naloxone_doses
            and kind in NSP_KINDS
            and not any(line.item == "naloxone_kit" for line in lines)
        ):
            lines.append(LinePlan("naloxone_kit", 1))
    return lines


def _nsp_lines(
    rng: random.Random,
    contact: ContactPlan,
    lines: list[LinePlan],
    injecting: bool,
    kind: str,
    options: Sequence[str],
) -> None:
    """Equipment at a needle and syringe programme; ``options``: the needle sizes."""
    if injecting:
        if rng.random() < 0.88:
            needles = 5 * rng.randint(2, 8)
            first = _option(rng.random(), options)
            lines.append(LinePlan("needle_syringe", needles, first))
            if rng.random() < 0.15:  # a second size, e.g. for another site of injection
                other = _option(rng.random(), options)
                if other != first:
                    lines.append(LinePlan("needle_syringe", 5 * rng.randint(1, 4), other))
            if rng.random() < 0.92:
                lines.append(LinePlan("swab", max(5, needles + 5 * rng.randint(-1, 2))))
            if rng.random() < 0.85:
                lines.append(LinePlan("water_ampoule", max(5, needles + 5 * rng.randint(-2, 1))))
            cookers = rng.random() < 0.35
            if cookers:
                lines.append(LinePlan("cooker", 5 * rng.randint(1, 4)))
            if rng.random() < (0.8 if cookers else 0.15):
                lines.append(LinePlan("filter", 5 * rng.randint(1, 4)))
            if rng.random() < 0.08:
                lines.append(LinePlan("sharps_container", 1))
            if rng.random() < 0.3:  # used equipment brought back, never a condition
                contact.returned_equipment = max(1, round(needles * rng.uniform(0.3, 1.3)))
            if rng.random() < 0.12:
                others = 10 * rng.randint(2, 10)
                lines.append(
                    LinePlan("needle_syringe", others, _option(rng.random(), options), True)
                )
                lines.append(LinePlan("swab", others, secondary=True))
                if rng.random() < 0.2:
                    lines.append(LinePlan("naloxone_kit", 1, secondary=True))
        if rng.random() < 0.08:
            lines.append(LinePlan("smoking_kit", rng.randint(1, 3)))
    else:
        if rng.random() < 0.7:
            lines.append(LinePlan("smoking_kit", rng.randint(1, 4)))
        if rng.random() < 0.12:
            lines.append(LinePlan("smoking_kit", 5 * rng.randint(1, 3), secondary=True))
    if rng.random() < 0.15:
        lines.append(LinePlan("fentanyl_strip", rng.choice((2, 5, 5, 10))))
    if rng.random() < 0.45:
        lines.append(LinePlan("condom", rng.choice((5, 10, 10, 20))))
        if rng.random() < 0.3:
            lines.append(LinePlan("lubricant", rng.choice((2, 5, 5, 10))))
    if rng.random() < 0.02:
        lines.append(LinePlan("naloxone_kit", 1))
    if rng.random() < 0.1:
        lines.append(LinePlan("information_leaflet", 1))
    if kind in (SiteKind.FIXED, SiteKind.DROP_IN) and rng.random() < 0.02:
        lines.append(LinePlan("hiv_self_test", 1))


def _prison_lines(rng: random.Random, lines: list[LinePlan]) -> None:
    if rng.random() < 0.6:
        lines.append(LinePlan("information_leaflet", rng.randint(1, 2)))
    if rng.random() < 0.5:
        lines.append(LinePlan("condom", rng.choice((3, 5, 5, 10))))
        if rng.random() < 0.3:
            lines.append(LinePlan("lubricant", rng.choice((2, 5))))
    if rng.random() < 0.12:
        lines.append(LinePlan("hiv_self_test", 1))
    if rng.random() < 0.03:  # the weeks after release are when overdoses are most deadly
        lines.append(LinePlan("naloxone_kit", 1))


def _option(draw: float, options: Sequence[str]) -> str:
    """Mostly the first option (the usual choice), else one of the others."""
    if not options:
        return ""
    if draw < 0.65 or len(options) == 1:
        return options[0]
    return options[1 + int((draw - 0.65) / 0.35 * (len(options) - 1))]


def _consumption(rng: random.Random, contact: ContactPlan, client: uuid.UUID | None) -> None:
    start = dt.datetime.combine(contact.date, dt.time(rng.randint(9, 19), 5 * rng.randrange(12)))
    end = start + dt.timedelta(minutes=rng.randint(15, 60))
    if rng.random() >= _DCR_OVERDOSE_PER_SESSION:
        contact.consumption = ConsumptionPlan(start.time(), end.time())
        return
    # Staff are right there: oxygen first, naloxone when breathing does not come back.
    doses = pick(rng, (0, 1, 2), (45, 40, 15))
    ems = pick(rng, (YesNoUnknown.YES, YesNoUnknown.NO), (25, 75))
    response = "oxygen and naloxone" if doses else "oxygen and rescue breathing"
    if ems == YesNoUnknown.YES:
        response += ", ambulance called"
    contact.consumption = ConsumptionPlan(start.time(), end.time(), True, response)
    contact.overdoses.append(
        OverdosePlan(
            draw_uuid(rng),
            contact.date,
            contact.site,
            client,
            contact.id,
            Overdose.Source.STAFF,
            doses,
            Overdose.Outcome.SURVIVED,
            ems,
        )
    )
