"""The public community dashboard and `harbour indicators --public`: small-cell suppression.

The programme, for 2025Q1 (S = 2025-01-01, E = 2025-03-31), counted by hand:

- Region A (the cast's REG-A: North NTH-01 and South STH-01): at North, 3 people who
  inject drugs got 10 needles and syringes each, and 7 more came for condoms only.
- Region B (REG-B, with East EST-01): 12 people who inject drugs got 10 each, and 8
  more came for condoms only.

Everyone is a woman born in 1989 and injects drugs; nobody else is counted anywhere.

| figure | A | B | programme |
|---|---|---|---|
| PRV.8 numerator (got N/S) | 3 | 12 | 15 |
| PRV.8 denominator (people who inject drugs seen) | 10 | 20 | 30 |
| PRV.10 numerator (N/S handed out) | 30 | 120 | 150 |
| PRV.10 denominator (people who got N/S) | 3 | 12 | 15 |
| HTS.PWID numerator / denominator | 0 / 10 | 0 / 20 | 0 / 30 |
| everything else | 0 | 0 | 0 |

With k = 5, A's 3 and 3 are "<5". Each column's total is published, so B's 12 and 12
would give them away (15 − 12 = 3): they are the next smallest cells of their
columns, and are hidden ("*"). Every ratio with a hidden side hides its value.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client as HttpClient
from django.utils import timezone

from harbour.clients.models import Client
from harbour.drugchecking import services as drugchecking
from harbour.lib.periods import parse_period
from harbour.lib.suppression import HIDDEN, suppress_report
from harbour.reports import public_dashboard
from harbour.reports.indicators import compute
from harbour.reports.public_dashboard import (
    FIGURES,
    WITHHELD,
    Raw,
    figure_values,
    last_complete_quarter,
    publish,
    raw_figures,
)
from harbour.sites.models import Site, SiteKind
from tests.factory import Cast, login, make_client, make_site
from tests.test_indicators import visit

D = dt.date
PAGE = "/public/dashboard/"
CSV = "/public/dashboard/dashboard.csv"
Q1 = "2025Q1"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_names = itertools.cycle(itertools.product(LETTERS, LETTERS, "123456789"))


@pytest.fixture(autouse=True)
def _fresh_dashboard() -> None:
    """Each test computes its own figures: none from the cache of a test before it."""
    cache.clear()


@dataclass
class Programme:
    cast: Cast
    east_region: Site
    east: Site
    clients: list[Client]


def person(site: Site, **profile: Any) -> Client:
    """A client with a UIC of their own (many per test session: never runs out)."""
    first, second, order = next(_names)
    return make_client(site, mother=first + second, father=second + first, order=order, **profile)


VISIT_DAY = D(2025, 2, 3)


def came(
    site: Site, with_needles: int, condoms_only: int, day: dt.date = VISIT_DAY
) -> list[Client]:
    """People who inject drugs at ``site``: some got 10 N/S each, the others condoms."""
    people = []
    for _ in range(with_needles):
        people.append(person(site))
        visit(site, day, people[-1], needle_syringe=10)
    for _ in range(condoms_only):
        people.append(person(site))
        visit(site, day, people[-1], condom=5)
    return people


@pytest.fixture
def programme(cast: Cast) -> Programme:
    east_region = make_site("REG-B", SiteKind.REGION, name="Region B")
    east = make_site("EST-01", parent=east_region, name="East Harbour Centre")
    clients = came(cast.north, 3, 7) + came(east, 12, 8)
    return Programme(cast, east_region, east, clients)


# --- reading what is published, as anyone could --------------------------------------


def published_csv(http: HttpClient, period: str = Q1) -> dict[str, dict[str, str]]:
    """The CSV's rows by region code ("" for the whole programme), figure → text."""
    response = http.get(CSV, {"period": period})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    return {row["region_code"]: row for row in rows}


CELL = re.compile(
    r'data-figure="(?P<figure>[^"]+)" data-kind="(?P<kind>[^"]+)"[^>]*>(?P<text>[^<]*)<'
)


def page_cells(html: str) -> list[tuple[str, str, str]]:
    """Every published figure on the page: (figure, kind, text as shown)."""
    return [(m["figure"], m["kind"], m["text"].strip()) for m in CELL.finditer(html)]


def table_rows(html: str) -> dict[str, dict[str, str]]:
    """The region tables: {row name: {figure: text}} (each figure in one table only)."""
    rows: dict[str, dict[str, str]] = {}
    for row in re.finditer(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', html, re.S):
        for figure, _kind, text in page_cells(row[2]):
            rows.setdefault(row[1], {})[figure] = text
    return rows


def number(text: str) -> int | None:
    """A shown count as a number; None for a marker."""
    plain = text.replace(",", "")
    return int(plain) if plain.isdigit() else None


# --- what the page and the CSV show -----------------------------------------------------


def test_a_small_count_is_shown_as_less_than_k_and_its_complement_is_hidden(
    programme: Programme,
) -> None:
    rows = published_csv(HttpClient())
    a, b, whole = rows["REG-A"], rows["REG-B"], rows[""]
    # A's 3 people who got N/S, and the same 3 as people who got N/S at all.
    assert (a["PRV.8.numerator"], a["PRV.10.denominator"]) == ("<5", "<5")
    # B's 12 would give them away from the totals: hidden as well.
    assert (b["PRV.8.numerator"], b["PRV.10.denominator"]) == ("*", "*")
    assert (whole["PRV.8.numerator"], whole["PRV.10.denominator"]) == ("15", "15")
    # A ratio with a hidden side hides its value; the others are shown.
    assert a["PRV.8.value"] == b["PRV.8.value"] == a["PRV.10.value"] == b["PRV.10.value"] == "*"
    assert (whole["PRV.8.value"], whole["PRV.10.value"]) == ("0.5", "10.0")
    # Large counts and sums of quantities are shown as they are.
    assert (a["PRV.8.denominator"], b["PRV.8.denominator"], whole["PRV.8.denominator"]) == (
        "10",
        "20",
        "30",
    )
    assert (a["PRV.10.numerator"], b["PRV.10.numerator"], whole["PRV.10.numerator"]) == (
        "30",
        "120",
        "150",
    )


def test_zero_is_shown_as_zero_and_a_ratio_over_nobody_as_a_dash(programme: Programme) -> None:
    rows = published_csv(HttpClient())
    for row in rows.values():
        assert row["HTS.PWID.numerator"] == "0"
        assert row["NALOXONE.kits.value"] == "0"
        assert row["HIV.cascade.diagnosed"] == "0"
        assert row["PRV.11.denominator"] == "0"
        assert row["PRV.11.value"] == ""  # null: nobody to count
    html = HttpClient().get(PAGE, {"period": Q1}).content.decode()
    a = table_rows(html)["Region A"]
    assert a["HTS.PWID.numerator"] == "0"
    assert a["HTS.PWID.value"] == "0%"
    assert a["PRV.11.value"] == "–"
    assert a["PRV.8.numerator"] == "&lt;5"
    assert table_rows(html)["Region B"]["PRV.8.numerator"] == "*"


def test_the_page_shows_the_same_figures_as_the_csv(programme: Programme) -> None:
    http = HttpClient()
    rows = published_csv(http)
    html = http.get(PAGE, {"period": Q1}).content.decode()
    on_page = table_rows(html)
    names = {"Region A": "REG-A", "Region B": "REG-B", "Whole programme": ""}
    assert set(on_page) == set(names)
    for name, figures in on_page.items():
        row = rows[names[name]]
        for key, text in figures.items():
            csv_text = row[key]
            if text in ("*", "&lt;5"):
                assert csv_text == text.replace("&lt;", "<"), (name, key)
            elif figures and key.endswith(".value") and csv_text not in ("", "*"):
                continue  # a percentage or a rate: rounded for the page
            elif text == "–":
                assert csv_text == "", (name, key)
            else:
                assert number(text) == int(csv_text), (name, key)


def test_no_count_from_1_to_4_is_published_anywhere(programme: Programme) -> None:
    http = HttpClient()
    html = http.get(PAGE, {"period": Q1}).content.decode()
    counts = [(f, text) for f, kind, text in page_cells(html) if kind == "count"]
    assert len(counts) > 40  # the headlines and three rows of every table
    assert not [(f, t) for f, t in counts if number(t) in (1, 2, 3, 4)]
    for row in published_csv(http).values():
        for f in FIGURES:
            if f.is_count:
                assert row[f.key] not in ("1", "2", "3", "4"), (row["region"], f.key)


def test_the_page_is_public_and_names_no_person_site_or_worker(programme: Programme) -> None:
    drugchecking.take_sample(
        None, programme.cast.north, date=D(2025, 2, 3), expected=[], expected_unknown=True
    )
    number_of_sample = drugchecking_numbers()
    secrets = [
        *(c.code for c in Client.objects.all()),
        *number_of_sample,
        *Site.objects.exclude(kind=SiteKind.REGION).values_list("name", flat=True),
        *Site.objects.exclude(kind=SiteKind.REGION).values_list("code", flat=True),
    ]
    cast = programme.cast
    # Every worker's user name ("nobody", the user without a role, is also a word).
    users = [u.username for u in cast.users.values()] + ["sam_south"]
    for http in (HttpClient(), login(cast["me_officer"]), login(cast["outreach"])):
        for path in (PAGE, CSV):
            response = http.get(path, {"period": Q1})
            assert response.status_code == 200
            text = response.content.decode()
            for secret in secrets + users:
                assert secret not in text, secret
    # Region names are what the page is about.
    assert "Region A" in HttpClient().get(PAGE, {"period": Q1}).content.decode()


def drugchecking_numbers() -> list[str]:
    from harbour.drugchecking.models import Sample

    return list(Sample.objects.values_list("number", flat=True))


def test_the_page_may_be_cached_by_anyone(programme: Programme) -> None:
    for path in (PAGE, CSV):
        response = HttpClient().get(path, {"period": Q1})
        control = response["Cache-Control"]
        assert "public" in control
        assert "max-age=300" in control
        assert "Set-Cookie" not in response.headers
    response = HttpClient().get(CSV, {"period": Q1})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="harbour-community-2025Q1.csv"' in response["Content-Disposition"]


# --- the period ---------------------------------------------------------------------


def test_the_page_shows_the_last_complete_quarter_by_default(programme: Programme) -> None:
    today = timezone.localdate()
    latest = last_complete_quarter(today)
    assert latest.end < today
    assert latest.end >= today - dt.timedelta(days=92)
    html = HttpClient().get(PAGE).content.decode()
    assert f'<option value="{latest.code}" selected>' in html
    # Every complete quarter back to the first contact is offered, and only those.
    offered = re.findall(r'<option value="([^"]+)"', html)
    assert offered[0] == latest.code
    assert offered[-1] == Q1
    assert all(re.fullmatch(r"\d{4}Q[1-4]", code) for code in offered)


@pytest.mark.parametrize(
    ("asked", "says"),
    [
        ("2025", "Period: 2025 is not a quarter"),
        ("202502", "Period: 202502 is not a quarter"),
        ("next week", "Period: “next week” is not a quarter"),
        ("2024Q4", "Period: 2024Q4 is not one of the quarters listed"),
    ],
)
def test_a_period_that_cannot_be_shown_is_named_in_a_clear_error(
    programme: Programme, asked: str, says: str
) -> None:
    response = HttpClient().get(PAGE, {"period": asked})
    assert response.status_code == 200
    assert says in response.content.decode()
    assert HttpClient().get(CSV, {"period": asked}).status_code == 400


def test_the_quarter_still_running_is_not_shown(programme: Programme) -> None:
    running = public_dashboard.quarter_of(timezone.localdate())
    html = HttpClient().get(PAGE, {"period": running}).content.decode()
    assert f"Period: {running} is not over yet" in html
    assert f'<option value="{running}"' not in html


# --- k -------------------------------------------------------------------------------


def test_k_comes_from_the_settings(programme: Programme, settings: Any) -> None:
    settings.PUBLIC_MIN_CELL = 11
    rows = published_csv(HttpClient())
    assert rows["REG-A"]["PRV.8.denominator"] == "<11"  # 10
    assert rows["REG-A"]["PRV.10.numerator"] == "30"
    html = HttpClient().get(PAGE, {"period": Q1}).content.decode()
    assert "means between 1 and 10 people" in html


# --- harbour indicators --public ------------------------------------------------------


def run_indicators(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("indicators", *args, stdout=out)
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def test_the_command_publishes_the_programme_as_the_page_does(programme: Programme) -> None:
    report = run_indicators("--period", Q1, "--public")
    assert (report["period"], report["start"], report["end"], report["site"]) == (
        Q1,
        "2025-01-01",
        "2025-03-31",
        None,
    )
    whole = published_csv(HttpClient())[""]
    for key, value in figure_values(report["indicators"]).items():
        assert whole[key] == ("" if value is None else str(value)), key
    # Every key of the definitions is there, by groups included.
    assert set(report["indicators"]) == set(compute(Q1)["indicators"])
    assert report["indicators"]["PRV.8"]["by"]["gender"]["female"] == {
        "numerator": 15,
        "denominator": 30,
        "value": 0.5,
    }


def test_k_can_be_changed_for_the_command(programme: Programme) -> None:
    report = run_indicators("--period", Q1, "--public", "--k", "11")["indicators"]
    assert report["PRV.8"]["denominator"] == 30
    assert report["HTS.PWID"]["numerator"] == 0
    assert report["PRV.10"]["denominator"] == 15
    assert (
        run_indicators("--period", Q1, "--public", "--k", "16")["indicators"]["PRV.8"]["numerator"]
        == "<16"
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--k", "2", "--public"), "--k: k must be a whole number of at least 3"),
        (("--k", "7"), "--k: k is the threshold of --public"),
        (("--public", "--site", "REG-A"), "--site: --public gives the whole programme's"),
        (("--public", "--period", "2025Q5"), "--period: '2025Q5' is not a period"),
    ],
)
def test_the_command_names_the_option_in_error(
    programme: Programme, args: tuple[str, ...], says: str
) -> None:
    full = args if "--period" in args else ("--period", Q1, *args)
    with pytest.raises(CommandError, match=re.escape(says)):
        call_command("indicators", *full, stdout=io.StringIO())


def test_the_command_without_public_is_unchanged(programme: Programme) -> None:
    assert run_indicators("--period", Q1) == json.loads(json.dumps(compute(Q1)))


def test_without_regions_the_programme_is_suppressed_as_suppress_report_does(db: None) -> None:
    site = make_site("ALONE-01", name="The only site")
    came(site, 3, 9)
    for k in (3, 5, 10):
        raw = raw_figures(Q1, [])
        assert publish(raw, k).report == suppress_report(compute(Q1), k=k)["indicators"]


# --- people in two regions --------------------------------------------------------------


def test_a_person_served_in_two_regions_is_one_person_of_the_programme_and_stays_hidden(
    programme: Programme,
) -> None:
    """One of B's people who got N/S also came to North for condoms: active in A too.

    A's people who inject drugs: 11; B's: 20; the programme's: 30, not 31. Shown as
    they are, the three would say that exactly one person came to both regions.
    """
    both = Client.objects.get(pk=programme.clients[10].pk)  # the first of East's 12
    assert both.site == programme.east
    visit(programme.cast.north, D(2025, 3, 1), both, condom=5)
    raw = raw_figures(Q1)
    assert [
        raw.by_region["REG-A"]["PRV.8"]["denominator"],
        raw.by_region["REG-B"]["PRV.8"]["denominator"],
        raw.programme["PRV.8"]["denominator"],
    ] == [11, 20, 30]
    rows = published_csv(HttpClient())
    shown = [rows[code]["PRV.8.denominator"] for code in ("REG-A", "REG-B", "")]
    # 11 + 20 − 30: the one person in both regions. The smallest of the three is
    # hidden: A is then 10 or more, and how many came to both cannot be worked out.
    assert shown == ["*", "20", "30"]
    assert rows["REG-A"]["HTS.PWID.denominator"] == "*"  # the same people


# --- the attack: recovering a hidden cell from what is published -----------------------

# What every reader knows of the figures (indicator definitions, version 1), row by row:
# a ratio's numerator counts people among its denominator's (but PRV.10's), the people
# who got N/S are among those who got any, a cascade's steps are nested, and PRV.8 and
# HTS.PWID have the same denominator.
NESTED = [
    ("PRV.8.numerator", "PRV.8.denominator"),
    ("PRV.11.numerator", "PRV.11.denominator"),
    ("HTS.PWID.numerator", "HTS.PWID.denominator"),
    ("PRV.8.numerator", "PRV.10.denominator"),
    ("OVERDOSE.reversed.value", "OVERDOSE.reported.value"),
    ("HIV.cascade.on_art", "HIV.cascade.diagnosed"),
    ("HIV.cascade.suppressed", "HIV.cascade.on_art"),
    ("HCV.cascade.rna_tested", "HCV.cascade.antibody_positive"),
    ("HCV.cascade.rna_positive", "HCV.cascade.rna_tested"),
    ("HCV.cascade.treated", "HCV.cascade.rna_positive"),
    ("HCV.cascade.cured", "HCV.cascade.treated"),
]
SAME_PEOPLE = [("PRV.8.denominator", "HTS.PWID.denominator")]
RATIOS = ["PRV.8", "PRV.10", "PRV.11", "HTS.PWID"]
COUNTS = [f.key for f in FIGURES if f.is_count]

Bounds = dict[tuple[str, str], list[float]]


def attack(
    rows: Mapping[str, Mapping[str, str]], k: int, sums: Mapping[str, list[str]] | None = None
) -> dict[tuple[str, str], int]:
    """Every figure shown as a marker that an adversary works out to a single number of
    people (or things handed out).

    The adversary has the published table and knows what the markers mean ("<k": 1 to
    k−1; "*": k or more), that the whole programme's row is the sum of the regions'
    (true here: nobody was served in two regions, no site is outside a region), the
    relations of the definitions above, and a shown ratio's value. They subtract
    totals and narrow bounds, row after row and column after column, until nothing
    changes. ``sums``: each total row and the rows that add up to it (default: the whole
    programme, "", is the sum of every other row).
    """
    if sums is None:
        sums = {"": [code for code in rows if code]}
    bounds: Bounds = {}
    hidden = []
    for code, row in rows.items():
        for key in COUNTS:
            text = row[key]
            if text == f"<{k}":
                bounds[code, key] = [1, k - 1]
            elif text == HIDDEN:
                bounds[code, key] = [k, math.inf]
            elif text == WITHHELD:
                bounds[code, key] = [0, math.inf]
            else:
                bounds[code, key] = [int(text), int(text)]
                continue
            hidden.append((code, key))

    def narrow(name: tuple[str, str], low: float, high: float) -> bool:
        bound = bounds[name]
        changed = False
        if low > bound[0]:
            bound[0], changed = low, True
        if high < bound[1]:
            bound[1], changed = high, True
        assert bound[0] <= bound[1], f"the published figures contradict themselves at {name}"
        return changed

    def each_pass() -> bool:
        changed = False
        # Column totals: the programme's figure is the sum of the regions'.
        for key, (total_code, parts) in itertools.product(COUNTS, sums.items()):
            names = [(code, key) for code in parts]
            total = bounds[total_code, key]
            for name in names:
                others = [bounds[other] for other in names if other != name]
                low = total[0] - sum(o[1] for o in others)
                high = total[1] - sum(o[0] for o in others)
                changed |= narrow(name, low, high)
            low = sum(bounds[n][0] for n in names)
            changed |= narrow((total_code, key), low, sum(bounds[n][1] for n in names))
        for code in rows:
            for part, whole in NESTED:
                changed |= narrow((code, part), 0, bounds[code, whole][1])
                changed |= narrow((code, whole), bounds[code, part][0], math.inf)
            for one, other in SAME_PEOPLE:
                changed |= narrow((code, one), *bounds[code, other])
                changed |= narrow((code, other), *bounds[code, one])
            # A shown value and one shown side give the other side.
            for ratio in RATIOS:
                value = rows[code][f"{ratio}.value"]
                if value in ("", HIDDEN, WITHHELD):
                    continue
                numerator, denominator = (
                    (code, f"{ratio}.numerator"),
                    (code, f"{ratio}.denominator"),
                )
                low, high = bounds[denominator]
                if low == high and low:
                    guess = round(float(value) * low)
                    changed |= narrow(numerator, guess, guess)
                low, high = bounds[numerator]
                if low == high and float(value):
                    guess = round(low / float(value))
                    changed |= narrow(denominator, guess, guess)
        return changed

    for _ in range(1000):
        if not each_pass():
            break
    # A withheld cell found to be 0 tells of nobody (and zero is published as zero).
    return {
        name: int(low) for name in hidden for low, high in [bounds[name]] if low == high and low > 0
    }


def test_no_hidden_cell_can_be_recovered_from_the_published_table(programme: Programme) -> None:
    rows = published_csv(HttpClient())
    hidden = [(c, key) for c, row in rows.items() for key in COUNTS if not row[key].isdigit()]
    assert len(hidden) >= 4  # A's two "<5" and B's two "*"
    assert attack(rows, 5) == {}


def test_no_hidden_cell_can_be_recovered_in_a_larger_programme(cast: Cast) -> None:
    """Three regions, overdoses and HIV care as well, and another k."""
    b = make_site("EST-01", parent=make_site("REG-B", SiteKind.REGION, name="Region B"))
    c = make_site("WST-01", parent=make_site("REG-C", SiteKind.REGION, name="Region C"))
    came(cast.north, 2, 6)
    came(cast.south, 4, 9)
    came(b, 9, 3)
    came(c, 30, 1)
    from tests.test_indicators import hiv_test, overdose

    for site, reported, reversed_ in ((cast.north, 1, 1), (b, 6, 2), (c, 9, 7)):
        for i in range(reported):
            overdose(site, D(2025, 1, 5), 1 if i < reversed_ else 0, "survived")
    for client in Client.objects.filter(site=c)[:7]:
        hiv_test(client, D(2025, 2, 10))
    for client in Client.objects.filter(site=b)[:3]:
        hiv_test(client, D(2025, 2, 10))
    for k in (5, 7):
        cache.clear()
        rows = rows_from(publish(raw_figures(Q1), k))
        assert any(row[key] == HIDDEN for row in rows.values() for key in COUNTS)
        assert attack(rows, k) == {}


# --- the control: the same adversary against suppression without complements ----------


def naive(raw: Raw, k: int) -> dict[str, dict[str, str]]:
    """Small counts shown as "<k", and nothing else hidden: no complementary cells."""

    def shown(figures: dict[str, Any]) -> dict[str, str]:
        out = {}
        for f in FIGURES:
            value = figures[f.key]
            if f.is_count:
                out[f.key] = f"<{k}" if 0 < value < k else str(value)
        for ratio in RATIOS:
            sides = [figures[f"{ratio}.numerator"], figures[f"{ratio}.denominator"]]
            small = any(0 < n < k for n in sides)
            value = figures[f"{ratio}.value"]
            out[f"{ratio}.value"] = HIDDEN if small else "" if value is None else str(value)
        return out

    rows = {code: shown(figure_values(ind)) for code, ind in raw.by_region.items()}
    rows[""] = shown(figure_values(raw.programme))
    return rows


def rows_from(published: public_dashboard.Published) -> dict[str, dict[str, str]]:
    def text(value: Any) -> str:
        return "" if value is None else str(value)

    rows = {code: {k: text(v) for k, v in row.items()} for code, row in published.rows.items()}
    rows[""] = {k: text(v) for k, v in published.total.items()}
    return rows


def test_the_adversary_recovers_a_small_count_when_no_complement_is_hidden(
    programme: Programme,
) -> None:
    rows = naive(raw_figures(Q1), 5)
    assert rows["REG-A"]["PRV.8.numerator"] == "<5"
    assert rows["REG-B"]["PRV.8.numerator"] == "12"
    recovered = attack(rows, 5)
    # 15 − 12: the three people of Region A who got N/S, and again as people given N/S.
    assert recovered == {("REG-A", "PRV.8.numerator"): 3, ("REG-A", "PRV.10.denominator"): 3}


def test_the_adversary_also_uses_a_shown_ratio(programme: Programme) -> None:
    """Without hiding values, 0.3 of 10 gives A's 3 away even with B's 12 hidden."""
    rows = rows_from(publish(raw_figures(Q1), 5))
    rows["REG-A"]["PRV.8.value"] = "0.3"
    assert attack(rows, 5)[("REG-A", "PRV.8.numerator")] == 3


# --- regions --------------------------------------------------------------------------


def test_regions_are_the_active_region_sites_with_the_region_above_them(cast: Cast) -> None:
    north_sub = make_site("REG-A1", SiteKind.REGION, parent=cast.north, name="A, north part")
    make_site("NTH-OUT", SiteKind.OUTREACH, parent=north_sub)
    closed = make_site("REG-Z", SiteKind.REGION, name="Closed region")
    closed.active = False
    closed.save()
    found = {r.code: r.parent for r in public_dashboard.regions()}
    assert found == {"REG-A": None, "REG-A1": "REG-A"}


def test_regions_within_a_region_add_up_to_it_and_stay_protected(cast: Cast) -> None:
    """REG-A1 (below North) has 3 who got N/S, REG-A2 (below South) 9, and REG-A
    nobody else, so REG-A's 12 is their sum: A2's 9 would give A1's 3 away."""
    a1 = make_site("REG-A1", SiteKind.REGION, parent=cast.north, name="A, north part")
    a2 = make_site("REG-A2", SiteKind.REGION, parent=cast.south, name="A, south part")
    came(make_site("NTH-OUT", SiteKind.OUTREACH, parent=a1), 3, 6)
    came(make_site("STH-OUT", SiteKind.OUTREACH, parent=a2), 9, 0)
    rows = rows_from(publish(raw_figures(Q1), 5))
    assert [rows[code]["PRV.8.numerator"] for code in ("REG-A1", "REG-A2", "REG-A", "")] == [
        "<5",
        "*",
        "12",
        "12",
    ]
    sums = {"": ["REG-A"], "REG-A": ["REG-A1", "REG-A2"]}
    assert attack(rows, 5, sums) == {}
    # Without the complement, the same adversary would find A1's 3.
    rows["REG-A2"]["PRV.8.numerator"] = "9"
    assert attack(rows, 5, sums)[("REG-A1", "PRV.8.numerator")] == 3


# --- many programmes, made up -----------------------------------------------------------


def made_up(rng: random.Random, regions: int) -> Raw:
    """A programme of small regions whose figures keep every relation of the
    definitions, with the programme the sum of its regions."""

    def below(n: int) -> int:
        return rng.randint(0, n)

    def region() -> dict[str, Any]:
        seen = rng.choice([0, 1, 2, 3, 4, 6, 9, 14, 25])
        got = below(seen)
        given_to = got + rng.choice([0, 0, 1, 3, 6])
        opioids = rng.choice([0, 2, 5, 8, 13])
        diagnosed = rng.choice([0, 1, 3, 5, 8, 20])
        on_art = below(diagnosed)
        antibodies = rng.choice([0, 2, 4, 7, 12, 30])
        rna_tested = below(antibodies)
        rna_positive = below(rna_tested)
        treated = below(rna_positive)
        reported = rng.choice([0, 1, 2, 6, 11])
        return {
            "PRV.8": {"numerator": got, "denominator": seen},
            "PRV.10": {"numerator": given_to * 10, "denominator": given_to},
            "PRV.11": {"numerator": below(opioids), "denominator": opioids},
            "HTS.PWID": {"numerator": below(seen), "denominator": seen},
            "NALOXONE.kits": {"value": rng.choice([0, 2, 5, 40])},
            "OVERDOSE.reported": {"value": reported},
            "OVERDOSE.reversed": {"value": below(reported)},
            "HIV.cascade": {
                "diagnosed": diagnosed,
                "on_art": on_art,
                "suppressed": below(on_art),
            },
            "HCV.cascade": {
                "antibody_positive": antibodies,
                "rna_tested": rna_tested,
                "rna_positive": rna_positive,
                "treated": treated,
                "cured": below(treated),
            },
        }

    def with_values(indicators: dict[str, Any]) -> dict[str, Any]:
        for key in RATIOS:
            obj = indicators[key]
            obj["value"] = (
                round(obj["numerator"] / obj["denominator"], 4) if obj["denominator"] else None
            )
        return indicators

    by_region = {f"R{i}": region() for i in range(regions)}
    programme: dict[str, Any] = {}
    for indicators in by_region.values():
        for key, obj in indicators.items():
            for part, n in obj.items():
                programme.setdefault(key, {}).setdefault(part, 0)
                programme[key][part] += n
    return Raw(
        period=parse_period(Q1),
        regions=[public_dashboard.Region(code, code, None) for code in by_region],
        programme=with_values(programme),
        by_region={code: with_values(ind) for code, ind in by_region.items()},
    )


def test_no_hidden_cell_can_be_recovered_in_many_made_up_programmes() -> None:
    rng = random.Random(7)
    hidden = withheld = 0
    for case in range(150):
        raw = made_up(rng, rng.choice([1, 2, 3, 4]))
        k = rng.choice([3, 5, 5, 10])
        published = publish(raw, k)
        rows = rows_from(published)
        hidden += sum(row[key] == HIDDEN for row in rows.values() for key in COUNTS)
        assert attack(rows, k) == {}, case
        withheld += len(published.withheld)
    assert hidden > 100  # complements were needed, and made
    assert withheld > 5  # and some columns could only be withheld


def test_a_column_of_markers_that_would_tell_is_withheld_for_the_regions(cast: Cast) -> None:
    """Four regions where 1 person each got N/S: "<5" four times and a total of 4,
    "<5" too, would say that each region had exactly 1 (each is at least 1, and
    together at most 4). Nothing shown is left to hide: the regions' cells are not
    shown at all ("x"), and the programme's "<5" stays as the command prints it."""
    sites = [cast.north]
    for letter in "BCD":
        region = make_site(f"REG-{letter}", SiteKind.REGION, name=f"Region {letter}")
        sites.append(make_site(f"{letter}-01", parent=region))
    for site in sites:
        came(site, 1, 9)
    rows = published_csv(HttpClient())
    for code in ("REG-A", "REG-B", "REG-C", "REG-D"):
        row = rows[code]
        assert (row["PRV.8.numerator"], row["PRV.8.value"]) == ("x", "x")
        assert (row["PRV.10.denominator"], row["PRV.10.value"]) == ("x", "x")
        # Before giving up on them, suppression hid the figures linked to them as well
        # (the people who inject drugs seen, here and in the whole programme).
        assert (row["PRV.8.denominator"], row["HTS.PWID.denominator"]) == ("*", "*")
        assert row["PRV.10.numerator"] == "10"
    whole = rows[""]
    assert (whole["PRV.8.numerator"], whole["PRV.10.denominator"]) == ("<5", "<5")
    assert (whole["PRV.8.denominator"], whole["PRV.10.numerator"]) == ("*", "40")
    report = run_indicators("--period", Q1, "--public")["indicators"]
    assert report["PRV.8"]["numerator"] == report["PRV.10"]["denominator"] == "<5"
    assert attack(rows, 5) == {}
    html = HttpClient().get(PAGE, {"period": Q1}).content.decode()
    assert "x</strong> means not shown for any region" in html
    assert table_rows(html)["Region B"]["PRV.8.numerator"] == "x"
