"""Small-cell suppression of published figures (harbour.lib.suppression).

Besides examples, two adversaries try to work hidden figures out of what is published,
over many random tables, indicators and cascades:

- ``subtract``: wherever a relation (a total and its parts) has exactly one unknown
  figure, it works it out, and goes on until nothing more comes out;
- ``narrow``: knows what the markers mean (``<k`` is 1 to k−1, ``*`` is k or more) and
  narrows bounds relation by relation until nothing changes.

A relation here is (total, parts): the total is the sum of the parts. A name used in a
relation but absent from what is published is a difference the reader never sees (the
people between two nested figures): it must not be worked out when it is 1 to k−1.
"""

from __future__ import annotations

import math
import random
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import pytest

from harbour.lib.suppression import (
    HIDDEN,
    Publication,
    suppress_cascade,
    suppress_group,
    suppress_indicator,
    suppress_indicators,
    suppress_report,
    suppress_table,
)

Relation = tuple[Hashable, Sequence[Hashable]]

GENDERS = ("female", "male", "transgender", "other", "unknown")
AGES = ("<25", "25+", "unknown")


# --- the adversaries ------------------------------------------------------------------


def subtract(published: Mapping[Hashable, Any], relations: Iterable[Relation]) -> dict:
    """Every figure or difference worked out by subtraction alone."""
    relations = list(relations)
    known = {name: n for name, n in published.items() if isinstance(n, int)}
    progress = True
    while progress:
        progress = False
        for total, parts in relations:
            unknown = [name for name in (total, *parts) if name not in known]
            if len(unknown) != 1:
                continue
            (name,) = unknown
            if name == total:
                known[name] = sum(known[part] for part in parts)
            else:
                known[name] = known[total] - sum(known[p] for p in parts if p != name)
            progress = True
    return {name: n for name, n in known.items() if not isinstance(published.get(name), int)}


def narrow(
    published: Mapping[Hashable, Any], relations: Iterable[Relation], k: int
) -> dict[Hashable, int]:
    """Every figure or difference pinned to one value by what the markers mean."""
    relations = list(relations)
    bounds: dict[Hashable, list[float]] = {}
    for name in {name for total, parts in relations for name in (total, *parts)}:
        shown = published.get(name)
        if isinstance(shown, int):
            bounds[name] = [shown, shown]
        elif shown == f"<{k}":
            bounds[name] = [1, k - 1]
        elif shown == HIDDEN:
            bounds[name] = [k, math.inf]
        else:
            bounds[name] = [0, math.inf]
    for _ in range(500):
        changed = False
        for total, parts in relations:
            terms = [(total, 1)] + [(part, -1) for part in parts]
            for i, (name, sign) in enumerate(terms):
                low = sum(
                    bounds[o][0] if s > 0 else -bounds[o][1]
                    for j, (o, s) in enumerate(terms)
                    if j != i
                )
                high = sum(
                    bounds[o][1] if s > 0 else -bounds[o][0]
                    for j, (o, s) in enumerate(terms)
                    if j != i
                )
                new = (-high, -low) if sign > 0 else (low, high)
                if new[0] > bounds[name][0]:
                    bounds[name][0], changed = new[0], True
                if new[1] < bounds[name][1]:
                    bounds[name][1], changed = new[1], True
        if not changed:
            break
    return {
        name: int(low)
        for name, (low, high) in bounds.items()
        if low == high and not isinstance(published.get(name), int)
    }


def leaks(
    recovered: Mapping[Hashable, int], published: Mapping[Hashable, Any], truth: Mapping, k: int
) -> set[Hashable]:
    """What the adversary got that it should not: any hidden figure, or a small difference."""
    assert all(truth[name] == n for name, n in recovered.items())  # the adversary is right
    return {name for name in recovered if name in published or 0 < truth[name] < k}


def markers_alone_tell(
    published: Mapping[Hashable, Any], relations: Sequence[Relation], name: Hashable
) -> bool:
    """True when no published non-zero number is linked to ``name`` through hidden figures.

    Then nothing is left to hide, and the markers themselves can tell (with k = 5, four
    cells of <5 adding up to a total of <5 are 1 each): the module's documented limit.
    """
    seen, frontier = {name}, [name]
    while frontier:
        current = frontier.pop()
        for total, parts in relations:
            members = (total, *parts)
            if current not in members:
                continue
            for other in members:
                shown = published.get(other)
                if isinstance(shown, int) and shown > 0:
                    return False
                if not isinstance(shown, int) and other not in seen:
                    seen.add(other)
                    frontier.append(other)
    return True


def assert_safely_published(
    published: Mapping[Hashable, Any],
    truth: Mapping[Hashable, int],
    relations: Sequence[Relation],
    k: int,
) -> None:
    """Every promise of the rule, for one publication."""
    for name, shown in published.items():
        n = truth[name]
        if isinstance(shown, int):
            assert shown == n, name
            assert shown == 0 or shown >= k, name  # never a count from 1 to k−1
        elif shown == f"<{k}":
            assert 0 < n < k, name
        else:
            assert shown == HIDDEN and n >= k, name  # never a hidden zero, never a lie
    # The differences the reader never sees, worked out from the truth.
    everything = {**truth, **subtract(truth, relations)}
    assert not leaks(subtract(published, relations), published, everything, k)
    for name in leaks(narrow(published, relations, k), published, everything, k):
        assert markers_alone_tell(published, relations, name), name


# --- single figures and groups --------------------------------------------------------


def test_a_count_from_1_to_k_minus_1_is_shown_as_less_than_k() -> None:
    cells = {"a": 1, "b": 4, "c": 5, "d": 120}
    assert suppress_group(cells).cells == {"a": "<5", "b": "<5", "c": 5, "d": 120}


def test_zero_is_shown_as_zero() -> None:
    group = suppress_group({"a": 0, "b": 3, "c": 0, "d": 9, "e": 30}, total=42)
    assert group.cells == {"a": 0, "b": "<5", "c": 0, "d": HIDDEN, "e": 30}
    assert group.total == 42


def test_k_is_configurable() -> None:
    cells = {"a": 2, "b": 5, "c": 9, "d": 10, "e": 0}
    assert suppress_group(cells, k=10).cells == {
        "a": "<10",
        "b": "<10",
        "c": "<10",
        "d": 10,
        "e": 0,
    }
    assert suppress_group(cells, k=3).cells == {"a": "<3", "b": 5, "c": 9, "d": 10, "e": 0}


@pytest.mark.parametrize("k", [0, 1, 2, 5.0, True])
def test_a_k_that_would_hide_nothing_is_refused(k: Any) -> None:
    with pytest.raises(ValueError, match="at least 3"):
        suppress_group({"a": 1}, k=k)


def test_a_count_that_is_not_a_whole_number_of_people_is_refused() -> None:
    for bad in (-1, 2.5, "3", None):
        with pytest.raises(ValueError, match="a count is a whole number"):
            suppress_group({"a": bad})  # type: ignore[dict-item]


def test_without_a_total_each_cell_stands_alone() -> None:
    group = suppress_group({"a": 3, "b": 7, "c": 40})
    assert group == ({"a": "<5", "b": 7, "c": 40}, None)


def test_one_small_cell_in_a_group_with_a_total_hides_a_second_cell() -> None:
    group = suppress_group({"female": 80, "male": 2, "other": 11, "unknown": 30}, total=123)
    assert group.cells == {"female": 80, "male": "<5", "other": HIDDEN, "unknown": 30}
    assert group.total == 123


def test_the_second_cell_hidden_is_the_next_smallest_non_zero_one() -> None:
    group = suppress_group({"a": 40, "b": 7, "c": 0, "d": 3, "e": 6, "f": 9}, total=65)
    assert group.cells == {"a": 40, "b": 7, "c": 0, "d": "<5", "e": HIDDEN, "f": 9}


def test_two_small_cells_protect_each_other() -> None:
    group = suppress_group({"a": 2, "b": 3, "c": 40}, total=45)
    assert group.cells == {"a": "<5", "b": "<5", "c": 40}


def test_a_third_cell_is_hidden_when_the_markers_would_pin_the_first_two() -> None:
    # 1 and 5 hidden, total 76 − 70 shown = 6: "<5" is at least 1 and "*" at least 5,
    # so they could only be 1 and 5.
    group = suppress_group({"a": 1, "b": 5, "c": 30, "d": 40}, total=76)
    assert group.cells == {"a": "<5", "b": HIDDEN, "c": HIDDEN, "d": 40}


def test_when_no_cell_is_left_to_hide_the_total_is_hidden() -> None:
    # 4 and 4 out of 8 would be pinned: each "<5" is at most 4.
    group = suppress_group({"a": 4, "b": 4, "c": 0}, total=8)
    assert group == ({"a": "<5", "b": "<5", "c": 0}, HIDDEN)


def test_a_small_total_is_hidden_with_its_cells() -> None:
    group = suppress_group({"a": 3, "b": 1, "c": 0}, total=4)
    assert group == ({"a": "<5", "b": "<5", "c": 0}, "<5")


def test_a_total_larger_than_its_cells_protects_the_people_in_no_cell() -> None:
    # 50 − 48 = 2 people with no group: hiding one cell keeps the 2 from being counted.
    group = suppress_group({"a": 20, "b": 28}, total=50)
    assert group == ({"a": HIDDEN, "b": 28}, 50)


def test_the_markers_alone_can_tell_and_the_publication_says_so() -> None:
    publication = Publication(k=5)
    for name in "abcd":
        publication.count(name, 1)
    publication.count("all", 4)
    publication.adds_up("all", "abcd")
    assert set(publication.shown().values()) == {"<5"}
    assert publication.unavoidable  # four cells of <5 adding up to <5 are 1 each


# --- cascades -------------------------------------------------------------------------


def test_the_spec_cascade_is_published_as_it_is() -> None:
    cascade = {"diagnosed": 96, "on_art": 71, "suppressed": 52}
    assert suppress_cascade(cascade) == cascade


def test_a_small_drop_between_two_steps_hides_one_of_them() -> None:
    # 20 diagnosed, 18 on ART: 2 people diagnosed and not on treatment.
    shown = suppress_cascade({"diagnosed": 20, "on_art": 18, "suppressed": 15})
    assert shown == {"diagnosed": 20, "on_art": HIDDEN, "suppressed": 15}


def test_a_cascade_with_no_drop_is_published_as_it_is() -> None:
    cascade = {"diagnosed": 12, "on_art": 12, "suppressed": 12}
    assert suppress_cascade(cascade) == cascade


def test_small_steps_are_shown_as_less_than_k() -> None:
    shown = suppress_cascade({"a": 30, "rna": 9, "positive": 3, "treated": 0, "cured": 0})
    assert shown == {"a": 30, "rna": 9, "positive": "<5", "treated": 0, "cured": 0}


def test_a_step_larger_than_the_step_before_is_refused() -> None:
    with pytest.raises(ValueError, match="counts people among"):
        suppress_cascade({"diagnosed": 10, "on_art": 11})


# --- indicators -----------------------------------------------------------------------

SPEC_REPORT = {
    "period": "2025Q1",
    "start": "2025-01-01",
    "end": "2025-03-31",
    "site": None,
    "indicators": {
        "PRV.8": {
            "numerator": 412,
            "denominator": 530,
            "value": 0.7774,
            "by": {
                "gender": {"female": {"numerator": 80, "denominator": 101, "value": 0.7921}},
                "age": {"<25": {"numerator": 61, "denominator": 88, "value": 0.6932}},
            },
        },
        "PRV.12": {"value": 118.37},
        "HIV.cascade": {"diagnosed": 96, "on_art": 71, "suppressed": 52},
    },
}


def test_the_spec_example_is_published_as_it_is() -> None:
    assert suppress_report(SPEC_REPORT) == SPEC_REPORT


def ratio(numerator: int, denominator: int) -> dict[str, Any]:
    value = None if denominator == 0 else round(numerator / denominator, 4)
    return {"numerator": numerator, "denominator": denominator, "value": value}


def test_a_value_derived_from_a_small_numerator_is_hidden() -> None:
    assert suppress_indicator(ratio(3, 40)) == {
        "numerator": "<5",
        "denominator": 40,
        "value": HIDDEN,
    }


def test_a_value_derived_from_a_small_denominator_is_hidden() -> None:
    assert suppress_indicator(ratio(0, 4)) == {"numerator": 0, "denominator": "<5", "value": HIDDEN}


def test_a_value_over_a_zero_denominator_stays_null() -> None:
    assert suppress_indicator(ratio(0, 0)) == {"numerator": 0, "denominator": 0, "value": None}


def test_a_ratio_of_large_counts_is_published_as_it_is() -> None:
    assert suppress_indicator(ratio(30, 40)) == ratio(30, 40)


def test_a_small_number_left_out_of_the_numerator_hides_the_numerator() -> None:
    # 28 of 30 PWID clients tested: 2 were not.
    assert suppress_indicator(ratio(28, 30)) == {
        "numerator": HIDDEN,
        "denominator": 30,
        "value": HIDDEN,
    }


def test_a_ratio_that_is_not_nested_is_not_protected_for_its_difference() -> None:
    # PRV.10: 3 more N/S handed out than people who received them says nothing of people.
    assert suppress_indicator(ratio(33, 30), nested=False) == ratio(33, 30)
    with pytest.raises(ValueError, match="counts people among"):
        suppress_indicator(ratio(33, 30))


def with_groups(whole: tuple[int, int], **dimensions: dict[str, tuple[int, int]]) -> dict[str, Any]:
    return {
        **ratio(*whole),
        "by": {
            dim: {g: ratio(*pair) for g, pair in groups.items()}
            for dim, groups in dimensions.items()
        },
    }


def test_a_small_group_hides_the_next_smallest_group_and_both_values() -> None:
    indicator = with_groups(
        (100, 200),
        gender={"female": (3, 20), "male": (80, 150), "other": (17, 30)},
        age={"<25": (40, 80), "25+": (60, 120)},
    )
    shown = suppress_indicator(indicator)
    assert shown["numerator"] == 100 and shown["value"] == 0.5
    assert shown["by"]["gender"] == {
        "female": {"numerator": "<5", "denominator": 20, "value": HIDDEN},
        "male": {"numerator": 80, "denominator": 150, "value": 0.5333},
        "other": {"numerator": HIDDEN, "denominator": 30, "value": HIDDEN},
    }
    assert shown["by"]["age"] == indicator["by"]["age"]


def test_groups_are_protected_against_the_whole_for_denominators_too() -> None:
    indicator = with_groups((10, 40), age={"<25": (0, 2), "25+": (10, 31), "unknown": (0, 7)})
    shown = suppress_indicator(indicator)
    assert shown["by"]["age"] == {
        "<25": {"numerator": 0, "denominator": "<5", "value": HIDDEN},
        "25+": {"numerator": 10, "denominator": 31, "value": 0.3226},
        "unknown": {"numerator": 0, "denominator": HIDDEN, "value": HIDDEN},
    }
    assert shown["denominator"] == 40


def test_a_value_only_count_is_suppressed_and_a_non_count_is_not() -> None:
    shown = suppress_indicators(
        {
            "NALOXONE.kits": {"value": 3},
            "PRV.12": {"value": 0.25},
            "OVERDOSE.reported": {"value": 0},
        }
    )
    assert shown == {
        "NALOXONE.kits": {"value": "<5"},
        "PRV.12": {"value": 0.25},
        "OVERDOSE.reported": {"value": 0},
    }


def test_a_figure_shared_by_two_indicators_is_hidden_in_both() -> None:
    # PRV.8, PRV.9 and HTS.PWID share their denominator, active PWID clients.
    shown = suppress_indicators(
        {"PRV.8": ratio(50, 60), "PRV.9": ratio(45, 60), "HTS.PWID": ratio(58, 60)}
    )
    assert shown["HTS.PWID"]["numerator"] == HIDDEN  # 2 not tested
    assert (
        shown["PRV.8"]["denominator"]
        == shown["PRV.9"]["denominator"]
        == shown["HTS.PWID"]["denominator"]
    )


def test_overdoses_reversed_are_among_those_reported() -> None:
    # 9 reported and 8 reversed: 1 overdose not reversed must not be worked out.
    shown = suppress_indicators(
        {"OVERDOSE.reported": {"value": 9}, "OVERDOSE.reversed": {"value": 8}}
    )
    assert HIDDEN in (shown["OVERDOSE.reported"]["value"], shown["OVERDOSE.reversed"]["value"])


def test_an_unknown_shape_is_refused_rather_than_published_as_it_is() -> None:
    with pytest.raises(ValueError, match="not a ratio"):
        suppress_indicators({"NEW": {"count": 3}})
    with pytest.raises(ValueError, match="unknown parts"):
        suppress_indicators({"NEW": {**ratio(1, 10), "note": 3}})


def test_figures_that_should_be_the_same_but_differ_are_refused() -> None:
    with pytest.raises(ValueError, match="should count the same people"):
        suppress_indicators({"PRV.8": ratio(50, 60), "PRV.9": ratio(45, 61)})


# --- tables ---------------------------------------------------------------------------


def test_a_table_is_protected_in_every_row_and_every_column() -> None:
    rows = {
        "north": {"tested": 2, "on_ost": 30, "kits": 12},
        "south": {"tested": 20, "on_ost": 25, "kits": 40},
        "east": {"tested": 9, "on_ost": 50, "kits": 31},
    }
    table = suppress_table(
        rows,
        column_totals={"tested": 31, "on_ost": 105, "kits": 83},
        row_totals={"north": 44, "south": 85, "east": 90},
        grand_total=219,
    )
    assert table.rows == {
        "north": {"tested": "<5", "on_ost": 30, "kits": HIDDEN},
        "south": {"tested": 20, "on_ost": 25, "kits": 40},
        "east": {"tested": HIDDEN, "on_ost": 50, "kits": HIDDEN},
    }
    assert table.column_totals == {"tested": 31, "on_ost": 105, "kits": 83}
    assert table.row_totals == {"north": 44, "south": 85, "east": 90}
    assert table.grand_total == 219


def test_a_table_with_only_a_total_row_is_protected_by_column() -> None:
    rows = {
        "north": {"clients": 3, "kits": 40},
        "south": {"clients": 9, "kits": 51},
        "east": {"clients": 30, "kits": 7},
    }
    table = suppress_table(rows, column_totals={"clients": 42, "kits": 98})
    assert table.rows == {
        "north": {"clients": "<5", "kits": 40},
        "south": {"clients": HIDDEN, "kits": 51},
        "east": {"clients": 30, "kits": 7},
    }
    assert table.row_totals is None and table.grand_total is None


def test_a_total_for_a_column_the_table_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="not a column"):
        suppress_table({"north": {"a": 1}}, column_totals={"b": 1})


# --- the adversaries, on random publications ------------------------------------------

CASES = 500
SMALL_HEAVY = (0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 9, 12, 20, 40)


def random_table(rng: random.Random) -> tuple[dict, dict, list[Relation]]:
    """A table with its totals, as (rows, totals, relations) keyed like ``flatten``."""
    rows_ = [f"r{i}" for i in range(rng.randint(1, 6))]
    columns = [f"c{j}" for j in range(rng.randint(1, 6))]
    rows = {r: {c: rng.choice(SMALL_HEAVY) for c in columns} for r in rows_}
    totals = {
        "column_totals": {c: sum(rows[r][c] for r in rows_) for c in columns},
        "row_totals": {r: sum(rows[r].values()) for r in rows_},
        "grand_total": sum(sum(cells.values()) for cells in rows.values()),
    }
    relations: list[Relation] = [(("row", r), [(r, c) for c in columns]) for r in rows_]
    relations += [(("column", c), [(r, c) for r in rows_]) for c in columns]
    relations.append((("grand",), [("column", c) for c in columns]))
    relations.append((("grand",), [("row", r) for r in rows_]))
    return rows, totals, relations


def flatten(rows: Mapping, column_totals: Mapping, row_totals: Mapping, grand_total: Any) -> dict:
    flat: dict[Hashable, Any] = {(r, c): n for r, cells in rows.items() for c, n in cells.items()}
    flat.update({("column", c): n for c, n in column_totals.items()})
    flat.update({("row", r): n for r, n in row_totals.items()})
    flat[("grand",)] = grand_total
    return flat


def test_no_hidden_cell_of_a_random_table_can_be_worked_out() -> None:
    rng = random.Random(20250107)
    hidden = 0
    for _ in range(CASES):
        k = rng.choice((3, 5, 5, 5, 10))
        rows, totals, relations = random_table(rng)
        table = suppress_table(rows, k=k, **totals)
        published = flatten(table.rows, table.column_totals, table.row_totals, table.grand_total)
        truth = flatten(rows, totals["column_totals"], totals["row_totals"], totals["grand_total"])
        assert_safely_published(published, truth, relations, k)
        hidden += sum(not isinstance(n, int) for n in published.values())
    assert hidden > CASES  # the tables did have small cells to protect


def test_the_adversary_works_when_complementary_suppression_is_switched_off() -> None:
    rng = random.Random(20250107)
    recovered = 0
    for _ in range(CASES):
        k = rng.choice((3, 5, 5, 5, 10))
        rows, totals, relations = random_table(rng)
        truth = flatten(rows, totals["column_totals"], totals["row_totals"], totals["grand_total"])
        primary_only = {name: f"<{k}" if 0 < n < k else n for name, n in truth.items()}
        found = subtract(primary_only, relations)
        assert all(truth[name] == n for name, n in found.items())
        recovered += bool(found)
    assert recovered > CASES // 2


def test_hiding_only_the_next_smallest_cell_is_not_always_enough() -> None:
    # Why the module checks with what the markers mean, not with subtraction alone.
    published = {"a": "<5", "b": HIDDEN, "c": 30, "d": 40, "all": 76}
    relations: list[Relation] = [("all", ["a", "b", "c", "d"])]
    assert subtract(published, relations) == {}
    assert narrow(published, relations, 5) == {"a": 1, "b": 5}


def random_indicator(rng: random.Random) -> tuple[dict[str, Any], dict, list[Relation]]:
    """A ratio with its gender and age groups, made from people in gender × age cells."""
    denominators = {(g, a): rng.choice(SMALL_HEAVY) for g in GENDERS for a in AGES}
    numerators = {
        cell: rng.randint(0, n) if rng.random() < 0.5 else n - rng.randint(0, min(n, 3))
        for cell, n in denominators.items()
    }

    def tally(counts: Mapping[tuple[str, str], int], axis: int, group: str) -> int:
        return sum(n for cell, n in counts.items() if cell[axis] == group)

    by = {
        dimension: {
            group: ratio(tally(numerators, axis, group), tally(denominators, axis, group))
            for group in groups
        }
        for axis, (dimension, groups) in enumerate((("gender", GENDERS), ("age", AGES)))
    }
    indicator = {**ratio(sum(numerators.values()), sum(denominators.values())), "by": by}
    truth = flat_indicator(indicator)
    relations: list[Relation] = []
    for dimension, groups in by.items():
        for side in ("numerator", "denominator"):
            relations.append(((side,), [(dimension, g, side) for g in groups]))
        for g in groups:
            relations.append(
                (
                    (dimension, g, "denominator"),
                    [(dimension, g, "numerator"), ("left out", dimension, g)],
                )
            )
    relations.append((("denominator",), [("numerator",), ("left out",)]))
    return indicator, truth, relations


def flat_indicator(indicator: Mapping[str, Any]) -> dict[Hashable, Any]:
    flat: dict[Hashable, Any] = {
        ("numerator",): indicator["numerator"],
        ("denominator",): indicator["denominator"],
    }
    for dimension, groups in indicator["by"].items():
        for g, part in groups.items():
            for side in ("numerator", "denominator"):
                flat[(dimension, g, side)] = part[side]
    return flat


def test_no_hidden_figure_of_a_random_indicator_can_be_worked_out() -> None:
    rng = random.Random(7)
    for _ in range(CASES):
        k = rng.choice((3, 5, 5, 10))
        indicator, truth, relations = random_indicator(rng)
        shown = suppress_indicator(indicator, k=k)
        assert_safely_published(flat_indicator(shown), truth, relations, k)
        for part, original in [(shown, indicator)] + [
            (shown["by"][d][g], indicator["by"][d][g])
            for d in ("gender", "age")
            for g in indicator["by"][d]
        ]:
            both = isinstance(part["numerator"], int) and isinstance(part["denominator"], int)
            assert part["value"] == (original["value"] if both else HIDDEN)


def test_no_small_drop_of_a_random_cascade_can_be_worked_out() -> None:
    rng = random.Random(11)
    for _ in range(CASES):
        k = rng.choice((3, 5, 5, 10))
        steps = [rng.choice((*SMALL_HEAVY, 60, 90))]
        for _step in range(rng.randint(1, 4)):
            steps.append(max(0, steps[-1] - rng.choice((0, 0, 1, 2, 3, 4, 6, 10))))
        cascade = {f"s{i}": n for i, n in enumerate(steps)}
        shown = suppress_cascade(cascade, k=k)
        relations: list[Relation] = [
            (f"s{i}", [f"s{i + 1}", ("drop", i)]) for i in range(len(steps) - 1)
        ]
        assert_safely_published(shown, cascade, relations, k)


def test_no_hidden_figure_shared_across_random_indicators_can_be_worked_out() -> None:
    rng = random.Random(3)
    for _ in range(CASES):
        k = rng.choice((3, 5, 5))
        prv8, truth8, relations8 = random_indicator(rng)
        pwid = prv8["denominator"]
        tested = rng.choice((pwid, max(0, pwid - rng.randint(1, 4)), rng.randint(0, pwid)))
        regular = rng.randint(0, prv8["numerator"])
        indicators = {"PRV.8": prv8, "PRV.9": ratio(regular, pwid), "HTS.PWID": ratio(tested, pwid)}
        shown = suppress_indicators(indicators, k=k)
        published = {("PRV.8", *name): n for name, n in flat_indicator(shown["PRV.8"]).items()}
        truth = {("PRV.8", *name): n for name, n in truth8.items()}
        relations: list[Relation] = [
            (("PRV.8", *total), [("PRV.8", *part) for part in parts]) for total, parts in relations8
        ]
        for key in ("PRV.9", "HTS.PWID"):
            for side in ("numerator", "denominator"):
                published[(key, side)] = shown[key][side]
                truth[(key, side)] = indicators[key][side]
            relations.append(((key, "denominator"), [(key, "numerator"), ("left out", key)]))
            relations.append(((key, "denominator"), [("PRV.8", "denominator")]))
        # PRV.9's numerator is among PRV.8's: the difference gets N/S, but not regularly.
        relations.append((("PRV.8", "numerator"), [("PRV.9", "numerator"), ("not regular",)]))
        assert_safely_published(published, truth, relations, k)
