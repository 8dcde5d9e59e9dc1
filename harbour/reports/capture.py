"""Capture–recapture: how many people inject drugs, from two lists of UICs.

Two lists of the people seen in two "captures" (people met in outreach in week 1,
people at the NSP sites in week 3) overlap in ``m`` people. If the first list is a
fair sample, the second list's share of people already on the first, m / n2, is
about the first list's share of everyone, n1 / N. Chapman's form of that estimate
(Chapman 1951) stays defined when nobody is on both lists and is nearly unbiased:

    N̂   = (n1 + 1)(n2 + 1) / (m + 1) − 1
    Var = (n1 + 1)(n2 + 1)(n1 − m)(n2 − m) / ((m + 1)² (m + 2))
    95 % CI: N̂ ± 1.96 √Var

The normal interval can reach below the number of people actually seen, n1 + n2 − m,
which the population cannot be smaller than: its lower end is raised to that number.
With fewer than 7 people on both lists the estimate may be biased and the normal
interval is a poor guide (Robson and Regier, 1964); with nobody on both lists (m = 0)
the estimate is still a number, but only says the population is large, and its
interval is not to be trusted.

Privacy: the lists hold UICs, which identify people to anyone holding the key. They
are read in memory, each line turned into its pseudonym at once (as Harbour finds a
returning client, harbour.clients.pseudonym), and forgotten: nothing here writes a
list, a UIC or a pseudonym anywhere, logs one, or puts one in a message. An error
names the line number, never the line.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from harbour.clients import pseudonym as ps
from harbour.clients.uic import Scheme, UICError

Z_95 = 1.96
# Below this many recaptures the Chapman estimate is biased (Robson and Regier, 1964).
FEW_RECAPTURES = 7
MAX_LINES = 100_000  # per list; a national programme's list is a few thousand people
MAX_PROBLEMS_SHOWN = 5
DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class Estimate:
    """Chapman's estimate of the population size and its 95 % confidence interval."""

    n: float
    lower: float
    upper: float
    variance: float
    n1: int = 0
    n2: int = 0
    m: int = 0
    # The normal interval's lower end was below the people seen, and was raised to it.
    clipped: bool = False

    @property
    def seen(self) -> int:
        """The people on either list: the population is at least this many."""
        return self.n1 + self.n2 - self.m

    @property
    def standard_error(self) -> float:
        return math.sqrt(self.variance)

    @property
    def interval_unreliable(self) -> bool:
        """Nobody on both lists: the estimate only says "large"; the interval is no guide."""
        return self.m == 0

    @property
    def few_recaptures(self) -> bool:
        return self.m < FEW_RECAPTURES


def chapman(n1: int, n2: int, m: int) -> Estimate:
    """Chapman's estimate from n1 and n2 people on the two lists, m of them on both.

    Raises ValueError for counts that cannot be: negative, or m above n1 or n2.
    """
    if min(n1, n2, m) < 0:
        raise ValueError("Counts cannot be negative.")
    if m > min(n1, n2):
        raise ValueError("More people on both lists than on one of them.")
    product = (n1 + 1) * (n2 + 1)
    n = product / (m + 1) - 1
    variance = product * (n1 - m) * (n2 - m) / ((m + 1) ** 2 * (m + 2))
    half = Z_95 * math.sqrt(variance)
    seen = n1 + n2 - m
    lower = n - half
    clipped = lower < seen
    return Estimate(
        n=n,
        lower=max(lower, seen),
        upper=n + half,
        variance=variance,
        n1=n1,
        n2=n2,
        m=m,
        clipped=clipped,
    )


def whole(number: float) -> int:
    """A number of people, to the nearest whole person, halves up (round() goes to even)."""
    return math.floor(number + 0.5)


# --- reading a list -------------------------------------------------------------


class ListError(ValueError):
    """What is wrong with a list, in words for the person who pasted it.

    The message follows the list's name and a colon: "line 3 is not a UIC (…)".
    """


class EmptyList(ListError):
    """The list names nobody."""


@dataclass
class People:
    """One list, as pseudonyms: who is on it, and how many lines repeated someone."""

    pseudonyms: set[str] = field(default_factory=set)
    # Per UIC component, the digests of the UIC with that component blanked: two
    # people whose UICs differ in one component only share one (a typing error?).
    partials: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lines: int = 0  # lines that named someone
    repeated: int = 0  # of those, lines naming someone already on the list

    def __len__(self) -> int:
        return len(self.pseudonyms)


def _rows(text: str) -> Iterable[tuple[int, str]]:
    """(line number, UIC cell) of each non-blank line: one UIC a line, or a CSV column.

    A first line with a comma, semicolon or tab is a CSV header, whose column headed
    "uic" is read. A one-column list may start with the header "uic".
    """
    lines = text.lstrip("\ufeff").splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return
    header = lines[first]
    delimiter = next((d for d in DELIMITERS if d in header), None)
    if delimiter is None:
        start = first + 1 if header.strip().lower() == "uic" else first
        for index in range(start, len(lines)):
            yield index + 1, lines[index].strip()
        return
    names = [name.strip().lower() for name in next(csv.reader([header], delimiter=delimiter))]
    if "uic" not in names:
        raise ListError(
            f"line {first + 1} has several columns and none is headed “uic”: "
            "name the column of UICs “uic”, or give one UIC a line."
        )
    column = names.index("uic")
    for index in range(first + 1, len(lines)):
        if not lines[index].strip():
            continue
        cells = next(csv.reader([lines[index]], delimiter=delimiter), [])
        yield index + 1, cells[column].strip() if column < len(cells) else ""


def read_list(text: str, scheme: Scheme) -> People:
    """The people a list names, each UIC turned into its pseudonym as it is read.

    Raises ListError naming the line numbers of lines that are not a UIC of the
    programme's scheme, or when the list names nobody.
    """
    key = ps.current_key()
    people = People()
    problems: list[str] = []
    bad = 0
    for number, cell in _rows(text):
        if not cell:
            continue
        if people.lines + bad >= MAX_LINES:
            raise ListError(f"it has more than {MAX_LINES:,} lines: split it in two.")
        try:
            parts = scheme.split(cell)
        except UICError as exc:
            bad += 1
            if len(problems) < MAX_PROBLEMS_SHOWN:
                what = "" if exc.component == "uic" else f"{exc.component}: "
                problems.append(f"line {number} is not a UIC ({what}{exc.message.rstrip('.')})")
            continue
        found = ps.digests(parts, key)
        people.lines += 1
        if found.pseudonym in people.pseudonyms:
            people.repeated += 1
            continue
        people.pseudonyms.add(found.pseudonym)
        people.partials[found.pseudonym] = found.partials
    if problems:
        more = bad - len(problems)
        text_more = f"; and {more} more line{'s' if more != 1 else ''}" if more else ""
        raise ListError("; ".join(problems) + text_more + ".")
    if not people.pseudonyms:
        raise EmptyList("it names nobody.")
    return people


@dataclass(frozen=True)
class Match:
    """Two lists matched: the estimate, and what could bias it."""

    estimate: Estimate
    repeated: tuple[int, int]  # lines repeating someone on the same list, per list
    # People on one list only whose UIC differs in a single component from someone on
    # the other list only: if those are typing errors, m is that much too small.
    near: int
    if_near_match: Estimate | None


def match(first: People, second: People) -> Match:
    """Match two lists by pseudonym and estimate the population from them."""
    both = first.pseudonyms & second.pseudonyms
    estimate = chapman(len(first), len(second), len(both))
    only_first = first.pseudonyms - both
    by_position: dict[int, set[str]] = {}
    for pseudonym in only_first:
        for position, digest in enumerate(first.partials[pseudonym]):
            by_position.setdefault(position, set()).add(digest)
    near = 0
    for pseudonym in second.pseudonyms - both:
        digests = second.partials[pseudonym]
        if any(digest in by_position.get(i, set()) for i, digest in enumerate(digests)):
            near += 1
    near = min(near, len(only_first))
    return Match(
        estimate=estimate,
        repeated=(first.repeated, second.repeated),
        near=near,
        if_near_match=chapman(len(first), len(second), len(both) + near) if near else None,
    )
