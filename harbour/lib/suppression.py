"""Small-cell suppression of figures that leave the programme.

The indicator definitions ("Published figures"): a count from 1 to k−1 (default k = 5)
is shown as ``<k``, a value derived from a suppressed count is suppressed too, where one
cell of a group with a published total is suppressed the next smallest cell is
suppressed as well, so no hidden cell can be recovered by subtraction, and zero is shown
as zero. This module applies that rule; it knows nothing of Django.

Use ``suppress_report`` (the JSON of ``harbour indicators``) or ``suppress_indicators``
for indicators, ``suppress_group``, ``suppress_cascade`` and ``suppress_table`` for
other figures, and ``Publication`` for any other set of related counts. Suppress
everything that is published together in one call: a figure hidden in one place and
shown in another (PRV.8 and HTS.PWID share their denominator) is not hidden.

Decisions where the rule leaves a choice:

- **Two markers.** A count from 1 to k−1 is ``<k`` (``"<5"``). A count hidden to
  protect another (complementary suppression) is ``HIDDEN`` (``"*"``), and so is a
  value derived from a hidden count. A complementary count is often large: showing 40
  as ``<5`` would publish a false figure. Every ``*`` count is at least k (smaller
  counts are ``<k``, zeros are shown), and a reader who has this file knows it, so
  the check below assumes the reader does.
- **Zeros.** Zero is always shown as 0, never hidden and never chosen as the
  complementary cell. A hidden zero adds nothing to the sum of the hidden cells, so
  the small count would still be that sum and only its category would be in doubt,
  which is often known (nobody of that gender, nobody of unknown age). When a group
  has no other non-zero cell left to hide, its total is hidden instead.
- **People between nested figures.** A cascade's steps are nested (diagnosed ⊇ on ART
  ⊇ suppressed), as are an indicator's numerator within its denominator and some
  figures across indicators (PRV.9's numerator within PRV.8's). The people between
  two nested figures are a cell of their own: "diagnosed 20, on ART 18" says that 2
  people diagnosed with HIV are not on treatment, as small and as identifying as any
  count shown. Such a difference from 1 to k−1 is protected like a shown count: one of
  the two figures is hidden (``*``) so that it cannot be worked out. This is the
  conservative reading: it costs a figure now and then in a small programme, and
  keeps the most sensitive people (untreated, not virally suppressed, not reached)
  from being counted by subtraction.
- **What "cannot be recovered" means.** The reader knows every published figure,
  every relation between the figures (totals, nesting, figures that are the same),
  and what the markers mean: ``<k`` is 1 to k−1, ``*`` is k or more, a difference
  between nested figures is 0 or more. From these, bounds are narrowed relation by
  relation until nothing changes (subtraction is the simplest case). No hidden figure
  and no small difference may end with a single possible value. Where one does, the
  smallest shown non-zero figure of a relation that pins it is hidden too (the
  rule's "next smallest cell"), and the check runs again. Two are not always enough:
  a hidden 1 and a hidden 5 that the shown figures say add up to 6 can only be 1 and
  5 (``<5`` is at least 1, ``*`` at least 5), so a third figure is hidden.
- **Derived values.** An indicator's ``value`` is shown only when its numerator and
  its denominator are both shown as numbers (then ``null`` for a zero denominator
  stays ``null``); otherwise it is ``*``. A value that is not a count and not derived
  from one shown here (PRV.12's person-years) is shown as it is.

Limits, in the open: interval narrowing is not a full linear-programming or integer
attack, and the check is against exact recovery, not against narrowing a small count
within 1 to k−1. When every non-zero figure linked to a cell is already a marker,
nothing is left to hide and the markers themselves can tell (with k = 5, four cells of
``<5`` adding up to a total of ``<5`` must each be 1); ``Publication.unavoidable`` names
such figures.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

DEFAULT_K = 5
HIDDEN = "*"  # hidden to protect a small count, or derived from a hidden count

Shown = int | str  # a count as published: the count itself, "<k" or HIDDEN

# Passes of bound narrowing before giving up; consistent counts settle in a few.
_MAX_PASSES = 1000
_INF = math.inf


def small(k: int = DEFAULT_K) -> str:
    """The marker of a count from 1 to k−1: ``"<5"`` for k = 5."""
    return f"<{k}"


def _check_k(k: int) -> None:
    # With k = 2, "<2" could only mean 1 (zero is shown as zero): it would hide nothing.
    if isinstance(k, bool) or not isinstance(k, int) or k < 3:
        raise ValueError(f"k must be a whole number of at least 3, not {k!r}.")


def _check_count(name: object, n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"{name}: a count is a whole number of 0 or more, not {n!r}.")
    return n


class _Latent(NamedTuple):
    """The people between two related figures, never shown (a name no caller uses)."""

    number: int


Term = tuple[Hashable, int]  # (figure, +1 or −1): a relation says the terms sum to 0


class Publication:
    """Counts to be published together and the relations between them.

    >>> p = Publication(k=5)
    >>> p.count("female", 3); p.count("male", 20); p.count("other", 9); p.count("all", 32)
    >>> p.adds_up("all", ["female", "male", "other"])
    >>> p.shown()
    {'female': '<5', 'male': 20, 'other': '*', 'all': 32}
    """

    def __init__(self, k: int = DEFAULT_K) -> None:
        _check_k(k)
        self.k = k
        self._counts: dict[Hashable, int] = {}
        self._latent: dict[Hashable, int] = {}
        self._order: dict[Hashable, int] = {}
        self._relations: list[tuple[Term, ...]] = []
        self._involved: dict[Hashable, list[int]] = {}
        self.unavoidable: frozenset[Hashable] = frozenset()

    def __contains__(self, name: object) -> bool:
        return name in self._counts

    # --- building ---------------------------------------------------------------------

    def count(self, name: Hashable, n: int) -> None:
        """A count to publish under ``name``."""
        if name in self._counts:
            raise ValueError(f"{name!r} is already counted.")
        self._counts[name] = _check_count(name, n)
        self._order[name] = len(self._order)

    def adds_up(self, total: Hashable, parts: Iterable[Hashable]) -> None:
        """``total`` is published with ``parts``, and is their sum.

        A total larger than the sum of its parts (people in no part) or smaller (people
        in two parts, as with distinct clients over regions) leaves a difference the
        reader cannot see; it is protected like any count.
        """
        parts = list(parts)
        left: list[Hashable] = [total]
        right: list[Hashable] = parts
        gap = self._value(total) - sum(self._value(part) for part in parts)
        if gap > 0:
            right = [*parts, self._new_latent(gap)]
        elif gap < 0:
            left = [total, self._new_latent(-gap)]
        self._relate(left, right)

    def within(self, part: Hashable, whole: Hashable) -> None:
        """The people of ``part`` are among those of ``whole`` (a cascade's next step)."""
        gap = self._value(whole) - self._value(part)
        if gap < 0:
            raise ValueError(
                f"{part!r} ({self._value(part)}) counts people among {whole!r}, "
                f"but is larger ({self._value(whole)})."
            )
        self._relate([whole], [part, self._new_latent(gap)])

    def same(self, one: Hashable, other: Hashable) -> None:
        """``one`` and ``other`` count the same people (shown in two places)."""
        if self._value(one) != self._value(other):
            raise ValueError(
                f"{one!r} ({self._value(one)}) and {other!r} ({self._value(other)}) "
                "should count the same people but differ."
            )
        self._relate([one], [other])

    def _value(self, name: Hashable) -> int:
        if name not in self._counts:
            raise ValueError(f"{name!r} is not counted; count it before relating it.")
        return self._counts[name]

    def _new_latent(self, n: int) -> Hashable:
        name = _Latent(len(self._latent))
        self._latent[name] = n
        self._order[name] = len(self._order)
        return name

    def _relate(self, left: Sequence[Hashable], right: Sequence[Hashable]) -> None:
        terms = tuple([(name, 1) for name in left] + [(name, -1) for name in right])
        index = len(self._relations)
        self._relations.append(terms)
        for name, _sign in terms:
            self._involved.setdefault(name, []).append(index)

    # --- suppressing ------------------------------------------------------------------

    def shown(self) -> dict[Hashable, Shown]:
        """Every count as published: itself, ``<k`` or ``*``, in the order counted."""
        k = self.k
        primary = {name for name, n in self._counts.items() if 0 < n < k}
        hidden = set(primary)
        stuck: set[Hashable] = set()
        while True:
            start = self._start(primary, hidden)
            bounds = self._narrow({name: list(bound) for name, bound in start.items()})
            exposed = [
                name
                for name in self._order
                if name not in stuck and self._exposed(name, bounds, hidden)
            ]
            if not exposed:
                break
            # A figure one relation pins by itself first: it is often what pins the others.
            roots = [name for name in exposed if self._pinning(name, start[name], start)]
            name = (roots or exposed)[0]
            pick = self._complement(name, start, bounds, hidden)
            if pick is None:
                stuck.add(name)
            else:
                hidden.add(pick)
        self.unavoidable = frozenset(stuck)
        marker = small(k)
        return {
            name: marker if name in primary else HIDDEN if name in hidden else n
            for name, n in self._counts.items()
        }

    def _initial(
        self, name: Hashable, primary: set[Hashable], hidden: set[Hashable]
    ) -> list[float]:
        """What the reader knows of one figure before using any relation."""
        if name in self._latent:
            return [0, _INF]
        if name in primary:
            return [1, self.k - 1]
        if name in hidden:
            return [self.k, _INF]
        n = self._counts[name]
        return [n, n]

    def _start(self, primary: set[Hashable], hidden: set[Hashable]) -> dict[Hashable, list[float]]:
        return {name: self._initial(name, primary, hidden) for name in self._order}

    def _narrow(self, bounds: dict[Hashable, list[float]]) -> dict[Hashable, list[float]]:
        """Narrow every bound through every relation until nothing changes."""
        for _ in range(_MAX_PASSES):
            changed = False
            for terms in self._relations:
                for name, sign in terms:
                    low, high = _implied(terms, name, sign, bounds)
                    bound = bounds[name]
                    if low > bound[0]:
                        bound[0] = low
                        changed = True
                    if high < bound[1]:
                        bound[1] = high
                        changed = True
            if not changed:
                break
        return bounds

    def _exposed(
        self, name: Hashable, bounds: dict[Hashable, list[float]], hidden: set[Hashable]
    ) -> bool:
        low, high = bounds[name]
        if low != high:
            return False
        if name in self._latent:
            return 0 < self._latent[name] < self.k
        return name in hidden

    def _pinning(
        self, name: Hashable, own: Sequence[float], bounds: Mapping[Hashable, list[float]]
    ) -> list[int]:
        """The relations that each pin ``name`` (known to lie in ``own``) by themselves,
        given ``bounds`` of the other figures."""
        return [
            i for i in self._involved.get(name, []) if _pins(self._relations[i], name, own, bounds)
        ]

    def _complement(
        self,
        name: Hashable,
        start: Mapping[Hashable, list[float]],
        bounds: Mapping[Hashable, list[float]],
        hidden: set[Hashable],
    ) -> Hashable | None:
        """The shown figure to hide so that ``name`` stops being recoverable.

        The smallest shown non-zero figure of a relation that pins ``name`` by itself
        (from the markers alone, then from what the reader has worked out); failing
        that, of any relation with ``name``; failing that, of relations reached
        through other hidden figures and differences.
        """
        involved = self._involved.get(name, [])
        own = start[name]
        pinning = (self._pinning(name, own, start), self._pinning(name, own, bounds))
        for relations in (*pinning, involved):
            pick = self._smallest_shown(relations, hidden)
            if pick is not None:
                return pick
        seen_relations = set(involved)
        seen_names = {name}
        frontier = list(involved)
        while frontier:
            reached = [
                other
                for i in frontier
                for other, _sign in self._relations[i]
                if other not in seen_names and (other in hidden or other in self._latent)
            ]
            seen_names.update(reached)
            frontier = [
                i for other in reached for i in self._involved[other] if i not in seen_relations
            ]
            seen_relations.update(frontier)
            pick = self._smallest_shown(frontier, hidden)
            if pick is not None:
                return pick
        return None

    def _smallest_shown(self, relations: Iterable[int], hidden: set[Hashable]) -> Hashable | None:
        shown = [
            name
            for i in relations
            for name, _sign in self._relations[i]
            if name in self._counts and name not in hidden and self._counts[name] > 0
        ]
        if not shown:
            return None
        return min(shown, key=lambda name: (self._counts[name], self._order[name]))


def _implied(
    terms: tuple[Term, ...], name: Hashable, sign: int, bounds: Mapping[Hashable, list[float]]
) -> tuple[float, float]:
    """The bounds of ``name`` that one relation gives from the bounds of its other terms."""
    low: float = 0
    high: float = 0
    skipped = False
    for other, other_sign in terms:
        if other == name and other_sign == sign and not skipped:
            skipped = True
            continue
        other_low, other_high = bounds[other]
        if other_sign > 0:
            low += other_low
            high += other_high
        else:
            low -= other_high
            high -= other_low
    # sign · x + (others) = 0, so x = −sign · (others).
    if sign > 0:
        return -high, -low
    return low, high


def _pins(
    terms: tuple[Term, ...],
    name: Hashable,
    initial: Sequence[float],
    bounds: Mapping[Hashable, list[float]],
) -> bool:
    signs = [sign for other, sign in terms if other == name]
    low, high = _implied(terms, name, signs[0], bounds)
    return max(low, initial[0]) == min(high, initial[1])


# --- groups, cascades, tables -----------------------------------------------------------


class Group(NamedTuple):
    cells: dict[str, Shown]
    total: Shown | None


def suppress_group(
    cells: Mapping[str, int], total: int | None = None, *, k: int = DEFAULT_K
) -> Group:
    """One group of counts and, if published, its total (their sum, or more)."""
    publication = Publication(k)
    for key, n in cells.items():
        publication.count(("cell", key), n)
    if total is not None:
        publication.count(("total",), total)
        publication.adds_up(("total",), [("cell", key) for key in cells])
    shown = publication.shown()
    return Group(
        cells={key: shown[("cell", key)] for key in cells},
        total=None if total is None else shown[("total",)],
    )


def suppress_cascade(steps: Mapping[str, int], *, k: int = DEFAULT_K) -> dict[str, Shown]:
    """A cascade: each step counts people among the step before it."""
    publication = Publication(k)
    for step, n in steps.items():
        publication.count(step, n)
    names = list(steps)
    for before, after in itertools.pairwise(names):
        publication.within(after, before)
    shown = publication.shown()
    return {step: shown[step] for step in steps}


class Table(NamedTuple):
    rows: dict[str, dict[str, Shown]]
    column_totals: dict[str, Shown] | None  # the total row
    row_totals: dict[str, Shown] | None  # the total column
    grand_total: Shown | None


def suppress_table(
    rows: Mapping[str, Mapping[str, int]],
    *,
    column_totals: Mapping[str, int] | None = None,
    row_totals: Mapping[str, int] | None = None,
    grand_total: int | None = None,
    k: int = DEFAULT_K,
) -> Table:
    """A table of counts (regions × indicators, say) with its published totals.

    ``column_totals`` is the total row (one per column, over the rows), ``row_totals``
    the total column, ``grand_total`` the corner. Each total is the sum of its cells, or
    more (people in no row), or less (distinct people counted in two rows); every row
    and column with a total is protected, each against the others.
    """
    publication = Publication(k)
    columns: dict[str, None] = {}
    for row, cells in rows.items():
        for column, n in cells.items():
            publication.count(("cell", row, column), n)
            columns[column] = None
    if column_totals is not None:
        for column, n in column_totals.items():
            if column not in columns:
                raise ValueError(f"The total row has {column!r}, which is not a column.")
            publication.count(("column total", column), n)
            publication.adds_up(
                ("column total", column),
                [("cell", row, column) for row, cells in rows.items() if column in cells],
            )
    if row_totals is not None:
        for row, n in row_totals.items():
            if row not in rows:
                raise ValueError(f"The total column has {row!r}, which is not a row.")
            publication.count(("row total", row), n)
            publication.adds_up(("row total", row), [("cell", row, column) for column in rows[row]])
    if grand_total is not None:
        publication.count(("grand total",), grand_total)
        if column_totals is not None:
            publication.adds_up(("grand total",), [("column total", c) for c in column_totals])
        if row_totals is not None:
            publication.adds_up(("grand total",), [("row total", r) for r in row_totals])
        if column_totals is None and row_totals is None:
            publication.adds_up(
                ("grand total",),
                [("cell", row, column) for row, cells in rows.items() for column in cells],
            )
    shown = publication.shown()
    return Table(
        rows={
            row: {column: shown[("cell", row, column)] for column in cells}
            for row, cells in rows.items()
        },
        column_totals=None
        if column_totals is None
        else {column: shown[("column total", column)] for column in column_totals},
        row_totals=None
        if row_totals is None
        else {row: shown[("row total", row)] for row in row_totals},
        grand_total=None if grand_total is None else shown[("grand total",)],
    )


# --- indicators -----------------------------------------------------------------------

# Ratios whose numerator does not count people among the denominator's: N/S handed out
# over people, and programme counts over population estimates.
NOT_NESTED = frozenset({"PRV.10", "PRV.10.population", "PRV.11.population"})

# Figures of different indicators that count the same people (definitions, version 1).
SAME = (
    (("PRV.8", "denominator"), ("PRV.9", "denominator")),  # active PWID clients
    (("PRV.8", "denominator"), ("HTS.PWID", "denominator")),
    (("PRV.10", "numerator"), ("PRV.10.population", "numerator")),  # N/S handed out
    (("PRV.11", "numerator"), ("PRV.11.population", "numerator")),  # on OST at E
)
# Groups of the ``by`` breakdowns that count the same people: PWID clients by group.
SAME_BY = (("PRV.8", "HTS.PWID"),)

# (part, whole): the people of one figure are among those of another indicator's.
WITHIN = (
    (("PRV.9", "numerator"), ("PRV.8", "numerator")),  # regular N/S access ⊆ received N/S
    (("PRV.8", "numerator"), ("PRV.10", "denominator")),  # PWID given N/S ⊆ clients given N/S
    (("PRV.14", "denominator"), ("PRV.11", "numerator")),  # judged dose ⊆ on OST at E
    (("OVERDOSE.reversed", "value"), ("OVERDOSE.reported", "value")),
)


def suppress_report(report: Mapping[str, Any], *, k: int = DEFAULT_K) -> dict[str, Any]:
    """The JSON object of ``harbour indicators`` with its indicators suppressed."""
    return {**report, "indicators": suppress_indicators(report["indicators"], k=k)}


def suppress_indicators(indicators: Mapping[str, Any], *, k: int = DEFAULT_K) -> dict[str, Any]:
    """Every indicator of one output, suppressed together.

    Keys ending in ``.cascade`` are cascades; an object with a numerator is a ratio
    (its numerator within its denominator unless the key is in NOT_NESTED); an object
    with only a value is a count when the value is whole, else shown as it is.
    """
    publication = Publication(k)
    for key, obj in indicators.items():
        _add(publication, key, obj, nested=key not in NOT_NESTED)
    for one, other in SAME:
        if one in publication and other in publication:
            publication.same(one, other)
    for first, second in SAME_BY:
        if first in indicators and second in indicators:
            for dimension, groups in indicators[first].get("by", {}).items():
                for group in groups:
                    names = [
                        (key, "by", dimension, group, "denominator") for key in (first, second)
                    ]
                    if all(name in publication for name in names):
                        publication.same(*names)
    for part, whole in WITHIN:
        if part in publication and whole in publication:
            publication.within(part, whole)
    shown = publication.shown()
    return {key: _render(shown, key, obj) for key, obj in indicators.items()}


def suppress_indicator(
    obj: Mapping[str, Any], *, k: int = DEFAULT_K, nested: bool = True
) -> dict[str, Any]:
    """One indicator on its own: a ratio with its ``by`` groups, or a value.

    ``nested``: the numerator counts people among the denominator's (false for PRV.10).
    Suppress indicators published together with ``suppress_indicators`` instead, so a
    figure two of them share is hidden in both.
    """
    publication = Publication(k)
    _add(publication, "", obj, nested=nested)
    return _render(publication.shown(), "", obj)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _add(publication: Publication, key: str, obj: Mapping[str, Any], *, nested: bool) -> None:
    if key.endswith(".cascade"):
        steps = list(obj)
        for step in steps:
            publication.count((key, step), obj[step])
        for before, after in itertools.pairwise(steps):
            publication.within((key, after), (key, before))
    elif "numerator" in obj:
        unknown = set(obj) - {"numerator", "denominator", "value", "by"}
        if unknown:
            raise ValueError(f"{key}: unknown parts {sorted(unknown)} would be published as is.")
        _add_ratio(publication, (key,), obj, nested=nested)
        for dimension, groups in obj.get("by", {}).items():
            for group, part in groups.items():
                _add_ratio(publication, (key, "by", dimension, group), part, nested=nested)
            for side in ("numerator", "denominator"):
                publication.adds_up(
                    (key, side), [(key, "by", dimension, group, side) for group in groups]
                )
    elif set(obj) == {"value"}:
        if _is_count(obj["value"]):
            publication.count((key, "value"), obj["value"])
    else:
        raise ValueError(f"{key}: not a ratio, a value or a cascade: {sorted(obj)}.")


def _add_ratio(
    publication: Publication, prefix: tuple[str, ...], obj: Mapping[str, Any], *, nested: bool
) -> None:
    for side in ("numerator", "denominator"):
        publication.count((*prefix, side), obj[side])
    if nested:
        publication.within((*prefix, "numerator"), (*prefix, "denominator"))


def _render(shown: Mapping[Hashable, Shown], key: str, obj: Mapping[str, Any]) -> dict[str, Any]:
    if key.endswith(".cascade"):
        return {step: shown[(key, step)] for step in obj}
    if "numerator" in obj:
        out = _render_ratio(shown, (key,), obj)
        if "by" in obj:
            out["by"] = {
                dimension: {
                    group: _render_ratio(shown, (key, "by", dimension, group), part)
                    for group, part in groups.items()
                }
                for dimension, groups in obj["by"].items()
            }
        return out
    if _is_count(obj["value"]):
        return {"value": shown[(key, "value")]}
    return {"value": obj["value"]}


def _render_ratio(
    shown: Mapping[Hashable, Shown], prefix: tuple[str, ...], obj: Mapping[str, Any]
) -> dict[str, Any]:
    numerator = shown[(*prefix, "numerator")]
    denominator = shown[(*prefix, "denominator")]
    both = isinstance(numerator, int) and isinstance(denominator, int)
    return {
        "numerator": numerator,
        "denominator": denominator,
        "value": obj.get("value") if both else HIDDEN,
    }
