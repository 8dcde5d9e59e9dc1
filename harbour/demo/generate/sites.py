"""The sites and their traits by kind, and women-only sessions: fixed by the site count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from harbour.sites.models import SiteKind

REGIONS = (("NORTH", "Northern region"), ("SOUTH", "Southern region"))

# Sites with a needle and syringe programme. Prisons here hand out information,
# condoms and tests, not injecting equipment.
NSP_KINDS = frozenset(SiteKind) - {SiteKind.REGION, SiteKind.PRISON}

# Where people register, by kind of site.
REGISTRATION_WEIGHT: dict[str, float] = {
    SiteKind.FIXED: 3.0,
    SiteKind.DROP_IN: 2.5,
    SiteKind.DCR: 1.5,
    SiteKind.OUTREACH: 2.0,
    SiteKind.PHARMACY: 1.0,
    SiteKind.PRISON: 0.6,
    SiteKind.MOBILE: 1.5,
}
# Where anonymous contacts happen: street and pharmacy work is often anonymous.
ANONYMOUS_WEIGHT: dict[str, float] = {
    SiteKind.FIXED: 1.0,
    SiteKind.DROP_IN: 1.5,
    SiteKind.DCR: 1.0,
    SiteKind.OUTREACH: 3.0,
    SiteKind.PHARMACY: 3.0,
    SiteKind.PRISON: 0.2,
    SiteKind.MOBILE: 2.5,
}


@dataclass(frozen=True)
class SitePlan:
    code: str
    name: str
    kind: str
    region: str  # the parent region's code; empty for a region


@dataclass(frozen=True)
class SessionPlan:
    site: str
    name: str
    weekday: int
    starts: dt.time
    ends: dt.time
    women_only: bool


# The first sites, in order: a small programme already has every kind of site.
_FIRST_SITES = (
    ("DAR-01", "Darrow Harbour Centre", SiteKind.FIXED, "NORTH"),
    ("MIL-01", "Millport Harbour Centre", SiteKind.FIXED, "SOUTH"),
    ("DAR-02", "Quay Street Drop-in, Darrow", SiteKind.DROP_IN, "NORTH"),
    ("MIL-02", "Millport street outreach", SiteKind.OUTREACH, "SOUTH"),
    ("DAR-03", "Darrow drug consumption room", SiteKind.DCR, "NORTH"),
    ("MIL-03", "Station Road Pharmacy, Millport", SiteKind.PHARMACY, "SOUTH"),
    ("KEL-01", "Kelby mobile unit", SiteKind.MOBILE, "NORTH"),
    ("MIL-04", "Millport prison health service", SiteKind.PRISON, "SOUTH"),
)

# Further towns, alternating between the regions.
_TOWNS = (
    ("ASH", "Ashford Vale"),
    ("EAS", "Eastwick"),
    ("BRN", "Brinmouth"),
    ("TOR", "Torrin"),
    ("GLE", "Glenhope"),
    ("HAL", "Halden"),
    ("NEW", "Newmarsh"),
    ("RIV", "Riverton"),
    ("STO", "Stonebridge"),
    ("WES", "Westfold"),
    ("COR", "Corrick"),
    ("FAL", "Falmere"),
    ("LIN", "Linford"),
    ("PEN", "Penhallow"),
    ("SEL", "Selby Cross"),
    ("WIN", "Winterby"),
)
_TOWN_KINDS = (SiteKind.FIXED, SiteKind.OUTREACH, SiteKind.PHARMACY, SiteKind.DROP_IN)
_PHARMACIES = ("High Street Pharmacy", "Market Square Pharmacy", "Bridge Pharmacy")

# Weekday of the women-only afternoon, in turn for each fixed site and drop-in.
_WOMEN_ONLY_DAYS = (1, 3, 0, 2, 4)  # Tuesday, Thursday, Monday, Wednesday, Friday
WOMEN_ONLY_SESSION = "Women-only afternoon"


def _town_site_name(town: str, kind: str, index: int) -> str:
    if kind == SiteKind.FIXED:
        return f"{town} Harbour Centre"
    if kind == SiteKind.OUTREACH:
        return f"{town} street outreach"
    if kind == SiteKind.PHARMACY:
        return f"{_PHARMACIES[index % len(_PHARMACIES)]}, {town}"
    return f"{town} Drop-in"


def site_layout(count: int) -> list[SitePlan]:
    """Two regions, then ``count`` service sites with believable names and codes."""
    plans = [SitePlan(code, name, SiteKind.REGION, "") for code, name in REGIONS]
    for code, name, kind, region in _FIRST_SITES[:count]:
        plans.append(SitePlan(code, name, kind, region))
    extra = count - len(_FIRST_SITES)
    round_ = 0
    while extra > 0:
        for town_index, (prefix, town) in enumerate(_TOWNS):
            region = REGIONS[town_index % 2][0]
            for kind_index, kind in enumerate(_TOWN_KINDS):
                if extra <= 0:
                    break
                number = round_ * len(_TOWN_KINDS) + kind_index + 1
                plans.append(
                    SitePlan(
                        f"{prefix}-{number:02d}",
                        _town_site_name(town, kind, town_index)
                        + (f" {round_ + 1}" if round_ else ""),
                        kind,
                        region,
                    )
                )
                extra -= 1
            if extra <= 0:
                break
        round_ += 1
    return plans


def plan_sessions(service_sites: Sequence[SitePlan]) -> list[SessionPlan]:
    """A women-only afternoon at each fixed site and drop-in, on weekdays in turn."""
    with_sessions = [s for s in service_sites if s.kind in (SiteKind.FIXED, SiteKind.DROP_IN)]
    return [
        SessionPlan(
            site.code,
            WOMEN_ONLY_SESSION,
            _WOMEN_ONLY_DAYS[index % len(_WOMEN_ONLY_DAYS)],
            dt.time(14),
            dt.time(17),
            women_only=True,
        )
        for index, site in enumerate(with_sessions)
    ]
