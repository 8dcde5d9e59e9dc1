"""Every figure of the indicators (shared/spec/indicators.md) that can fill a DHIS2 cell.

A figure is addressed as indicator key + part + optional group: ``PRV.8`` +
``numerator`` + ``gender=female`` is PRV.8's numerator for women. Parts are
``numerator``, ``denominator`` and ``value`` for an indicator with a denominator,
``value`` alone for one without, and the steps for a cascade (``HIV.cascade`` +
``on_art``). Groups (``by``) exist for PRV.8, PRV.11 and HTS.PWID only.

``lookup`` reads one figure from the output of ``harbour.reports.indicators.compute``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from harbour.clients.models import Gender
from harbour.ost.indicators import AGE_GROUPS

# Key, name and parts, in the order of the definitions.
RATIO = ("numerator", "denominator", "value")
INDICATORS: dict[str, tuple[str, tuple[str, ...]]] = {
    "PRV.8": ("NSP coverage", RATIO),
    "PRV.9": ("Regular NSP access", RATIO),
    "PRV.10": ("Needles and syringes per person", RATIO),
    "PRV.10.population": ("Needles and syringes per person who injects (estimate)", RATIO),
    "PRV.11": ("OST coverage", RATIO),
    "PRV.11.population": ("OST coverage of the estimated population", RATIO),
    "PRV.12": ("Person-years on OST", ("value",)),
    "PRV.13": ("OST retention at 6 months", RATIO),
    "PRV.14": ("Adequate OST maintenance dose", RATIO),
    "HTS.PWID": ("People who inject drugs tested for HIV", RATIO),
    "NALOXONE.kits": ("Naloxone kits handed out", ("value",)),
    "OVERDOSE.reported": ("Overdoses reported", ("value",)),
    "OVERDOSE.reversed": ("Overdoses reversed with naloxone", ("value",)),
    "HIV.cascade": ("HIV cascade", ("diagnosed", "on_art", "suppressed")),
    "HCV.cascade": (
        "Hepatitis C cascade",
        ("antibody_positive", "rna_tested", "rna_positive", "treated", "cured"),
    ),
}
BY_GROUP = ("PRV.8", "PRV.11", "HTS.PWID")
POPULATION = ("PRV.10.population", "PRV.11.population")

PART_LABELS = {
    "numerator": "numerator",
    "denominator": "denominator",
    "value": "value",
    "diagnosed": "diagnosed",
    "on_art": "on ART",
    "suppressed": "virally suppressed",
    "antibody_positive": "antibody positive",
    "rna_tested": "RNA tested",
    "rna_positive": "RNA positive",
    "treated": "treated",
    "cured": "cured",
}
AGE_LABELS = {"<25": "under 25", "25+": "25 and over", "unknown": "age not known"}


def groups() -> list[tuple[str, str]]:
    """Every ``by`` group as (``"gender=female"``, "women"-like label), in a stable order."""
    found = [(f"gender={value}", f"gender {label.lower()}") for value, label in Gender.choices]
    found += [(f"age={group}", AGE_LABELS.get(group, f"age {group}")) for group in AGE_GROUPS]
    return found


def key(indicator: str, part: str, group: str = "") -> str:
    """One string for a figure, e.g. ``PRV.8|numerator|gender=female``."""
    return f"{indicator}|{part}|{group}"


def split(figure: str) -> tuple[str, str, str]:
    indicator, part, group = [*figure.split("|"), "", ""][:3]
    return indicator, part, group


@dataclass(frozen=True)
class Figure:
    indicator: str
    part: str
    group: str
    label: str

    @property
    def key(self) -> str:
        return key(self.indicator, self.part, self.group)

    @property
    def is_count(self) -> bool:
        """A count of people or things (an integer), not a ratio or person-years."""
        return self.part != "value" or self.indicator in (
            "NALOXONE.kits",
            "OVERDOSE.reported",
            "OVERDOSE.reversed",
        )


def catalogue() -> list[Figure]:
    """Every figure, in the order of the definitions: whole before groups."""
    found = []
    for indicator, (name, parts) in INDICATORS.items():
        for part in parts:
            found.append(Figure(indicator, part, "", f"{indicator} {name}: {PART_LABELS[part]}"))
        if indicator in BY_GROUP:
            for group, group_label in groups():
                for part in parts:
                    found.append(
                        Figure(
                            indicator,
                            part,
                            group,
                            f"{indicator} {name}: {PART_LABELS[part]}, {group_label}",
                        )
                    )
    return found


@cache
def by_key() -> dict[str, Figure]:
    """Every figure by its key, in the catalogue's order."""
    return {figure.key: figure for figure in catalogue()}


@cache
def _positions() -> dict[str, int]:
    return {key: i for i, key in enumerate(by_key())}


def label(indicator: str, part: str, group: str = "") -> str:
    figure = by_key().get(key(indicator, part, group))
    if figure is not None:
        return figure.label
    return f"{indicator} {part}" + (f", {group}" if group else "") + " (no longer defined)"


def order(indicator: str, part: str, group: str = "") -> int:
    """Where a figure stands in the catalogue, for listing mapping rows in a stable order."""
    positions = _positions()
    return positions.get(key(indicator, part, group), len(positions))


class Missing(Exception):
    """A figure that has no number for this org unit and period; the message says why."""


def lookup(indicators: dict[str, Any], indicator: str, part: str, group: str = "") -> Any:
    """The figure's number in ``compute(...)["indicators"]``; Missing when there is none.

    A zero denominator gives a ``null`` value, a population key is absent without an
    estimate: both are Missing, never 0, so DHIS2 never receives a made-up figure.
    """
    if indicator not in indicators:
        if indicator in POPULATION:
            raise Missing("no population estimate entered for the year")
        raise Missing("not computed")
    found: Any = indicators[indicator]
    if group:
        dimension, _, value = group.partition("=")
        try:
            found = found["by"][dimension][value]
        except (KeyError, TypeError):
            raise Missing("no such group") from None
    if not isinstance(found, dict) or part not in found:
        raise Missing("no such part")
    number = found[part]
    if number is None:
        raise Missing("denominator is 0")
    return number
