"""How busy a programme is: the per-client rates, and the named scales.

``Rates()`` holds the rates the demo and the tests have always used; a programme
drawn with them is the same, draw for draw, as before the rates could be changed.
``NATIONAL_RATES`` describes a mature national programme: clients registered over
the four years before the last day (most of them already known when the two-year
history starts), who keep coming for years and come about once a week, and long
OST episodes, most of them already running when the history starts. With 50 sites
and 100,000 clients over 730 days (``SCALES["national"]``) that is about ten
million contacts and about 20,000 people on OST (see docs/scale.md for the counts
of one build).

Changing a rate changes every programme drawn with it; a new scale gets its own
``Rates`` and leaves the others alone.
"""

from __future__ import annotations

from dataclasses import dataclass

# How often a client comes: (name, share of clients, (low, high) mean days between
# contacts, drawn uniformly for each client).
VisitPatterns = tuple[tuple[str, float, tuple[float, float]], ...]


@dataclass(frozen=True)
class Rates:
    name: str = "demo"  # in the seed's audit entry, so a benchmark knows what it finds
    # Clients are registered over this many days before the last one (or the whole
    # history, if longer).
    registration_days: int = 365
    # Mean days a client keeps coming after registering.
    mean_retention_days: float = 400.0
    visit_patterns: VisitPatterns = (
        ("regular", 0.30, (2.0, 6.0)),
        ("occasional", 0.45, (8.0, 30.0)),
        ("rare", 0.25, (45.0, 120.0)),
    )
    # Of the opioid-dependent clients of dispensing sites; a few start only after
    # the last day, so a little more than the share on OST.
    ost_share: float = 0.3
    mean_episode_days: float = 650.0  # about 57% still in treatment after a year


NATIONAL_RATES = Rates(
    name="national",
    registration_days=4 * 365,
    mean_retention_days=2000.0,
    visit_patterns=(
        ("regular", 0.50, (2.0, 5.0)),
        ("occasional", 0.35, (7.0, 21.0)),
        ("rare", 0.15, (30.0, 90.0)),
    ),
    ost_share=0.5,
    mean_episode_days=1500.0,
)


@dataclass(frozen=True)
class Scale:
    """A named size of programme for ``harbour seed --scale``."""

    sites: int
    clients: int
    days: int
    rates: Rates


SCALES: dict[str, Scale] = {
    "national": Scale(sites=50, clients=100_000, days=730, rates=NATIONAL_RATES),
}
