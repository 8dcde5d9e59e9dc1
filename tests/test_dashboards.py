"""The dashboards: hand-checked figures, bands and targets, site scope, charts and CSP.

A small programme in 2025Q1 (S = 2025-01-01, E = 2025-03-31), counted by hand:

North (NTH-01), four clients who inject drugs, all active in the period:
- Ana received 30 needles and syringes and 2 naloxone kits on 10 January;
- Ben received 10 needles and syringes on 10 February;
- Cai only took condoms; Dee only had a negative HIV test.
So PRV.8 = 2 of 4 = 50.0% (medium: 20 % to 60 %), HTS.PWID = 1 of 4 = 25.0%, and
PRV.10 = 40 / 2 = 20 per client in the quarter, 80 a year: low (below 100).
Two overdoses: one reversed with naloxone, one without.

South (STH-01): Eve received 100 needles and syringes; one overdose, reversed.

The whole programme: PRV.8 = 3 of 5 = 60.0% (medium, both ends are medium), PRV.10 =
140 / 3 = 46.7 per client, 186.67 a year (medium); 3 overdoses, 2 reversed.
"""

from __future__ import annotations

import datetime as dt
import html as entities
import re
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.test import Client as HttpClient

from harbour.accounts.models import Role, User
from harbour.clients.models import Client
from harbour.lib.periods import parse_period
from harbour.reports import charts
from harbour.reports.dashboard import (
    ChoiceError,
    build,
    choosable_periods,
    chosen_period,
    last_complete_quarter,
    shifted,
    trend_periods,
)
from harbour.sites.models import Site
from harbour.stock import services as stock
from harbour.stock.models import Movement
from tests.factory import Cast, login, make_site, make_user
from tests.test_indicators import hiv_test, item, overdose, person, visit

D = dt.date
PERIOD = "2025Q1"


@dataclass
class Programme:
    cast: Cast
    ana: Client
    everywhere: User  # an M&E officer for the whole programme


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # The dashboards remember a page's figures for its charts; tests start afresh.
    cache.clear()


@pytest.fixture
def programme(cast: Cast) -> Programme:
    north, south = cast.north, cast.south
    ana = person(north)
    visit(north, D(2025, 1, 10), ana, needle_syringe=30, naloxone_kit=2)
    ben = person(north)
    visit(north, D(2025, 2, 10), ben, needle_syringe=10)
    cai = person(north)
    visit(north, D(2025, 3, 1), cai, condom=5)
    dee = person(north)
    hiv_test(dee, D(2025, 2, 2))
    hiv_test(ana, D(2024, 12, 1), "positive")  # diagnosed before the period
    overdose(north, D(2025, 2, 5), 1, "survived")
    overdose(north, D(2025, 3, 5), 0, "survived")
    eve = person(south)
    visit(south, D(2025, 1, 20), eve, needle_syringe=100)
    overdose(south, D(2025, 1, 15), 2, "survived")
    everywhere = make_user("me_everywhere", Role.ME_OFFICER, None)
    return Programme(cast, ana, everywhere)


def page(user: User, path: str) -> tuple[int, str]:
    response = login(user).get(path)
    return response.status_code, response.content.decode()


def text_of(html: str) -> str:
    """The page's words, tags and runs of white space removed."""
    return entities.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


# --- periods ----------------------------------------------------------------------


def test_the_default_period_is_the_last_complete_quarter() -> None:
    assert last_complete_quarter(D(2025, 2, 14)).code == "2024Q4"
    assert last_complete_quarter(D(2025, 10, 1)).code == "2025Q3"
    assert chosen_period("", D(2025, 10, 1)).code == "2025Q3"
    assert chosen_period(" 2025q2 ", D(2025, 10, 1)).code == "2025Q2"


def test_a_trend_is_the_periods_of_the_same_kind_before_the_chosen_one() -> None:
    quarters = [p.code for p in trend_periods(parse_period("2025Q1"))]
    assert quarters == [
        "2023Q2",
        "2023Q3",
        "2023Q4",
        "2024Q1",
        "2024Q2",
        "2024Q3",
        "2024Q4",
        "2025Q1",
    ]
    months = [p.code for p in trend_periods(parse_period("202502"))]
    assert months[0] == "202403" and months[-2:] == ["202501", "202502"] and len(months) == 12
    assert [p.code for p in trend_periods(parse_period("2025S1"), 3)] == [
        "2024S1",
        "2024S2",
        "2025S1",
    ]
    assert [p.code for p in trend_periods(parse_period("2025"))] == [
        "2021",
        "2022",
        "2023",
        "2024",
        "2025",
    ]
    assert shifted(parse_period("2024Q4"), 1).code == "2025Q1"


def test_a_period_that_is_not_one_or_has_not_started_is_refused_by_name() -> None:
    with pytest.raises(ChoiceError, match=r"^Period: '2025Q5' is not a period"):
        chosen_period("2025Q5", D(2025, 10, 1))
    with pytest.raises(ChoiceError, match="Period: 2026Q1 has not started yet"):
        chosen_period("2026Q1", D(2025, 10, 1))
    with pytest.raises(ChoiceError, match=r"^Period: '2025Q1 and a…' is not a period\. Write"):
        chosen_period("2025Q1 and a long pasted text", D(2025, 10, 1))


def test_the_period_list_offers_quarters_months_halves_and_years() -> None:
    groups = dict(choosable_periods(D(2025, 10, 5)))
    assert groups["Quarters"][0] == ("2025Q4", "2025Q4 · Oct–Dec 2025 (so far)")
    assert groups["Quarters"][1] == ("2025Q3", "2025Q3 · Jul–Sep 2025")
    assert groups["Months"][0][0] == "202510"
    assert [code for code, _label in groups["Years"]] == ["2025", "2024", "2023"]


# --- the figures ------------------------------------------------------------------


def test_the_site_dashboard_shows_the_hand_counted_figures_with_bands_and_targets(
    programme: Programme,
) -> None:
    manager = programme.cast["site_manager"]
    status, html = page(manager, f"/dashboards/site/NTH-01/?period={PERIOD}")
    assert status == 200
    words = text_of(html)
    assert "North Centre NTH-01" in words
    # PRV.8: value, numerator and denominator, band in words, target.
    assert "NSP coverage PRV.8 50.0% 2 of 4 active clients who inject drugs" in words
    assert "Medium coverage Target 90%" in words
    # PRV.10: 20 per client in the quarter, 80 a year: low, against 300 a year.
    assert "20.0 per client 40 needles and syringes handed out, 2 clients who received them" in (
        words
    )
    assert "Low coverage 80 per person a year Target 300 per person a year" in words
    assert "Tested for HIV HTS.PWID 25.0% 1 of 4" in words
    assert "Overdoses reported OVERDOSE.reported 2 overdoses" in words
    assert "Overdoses reversed with naloxone OVERDOSE.reversed 1 overdoses" in words
    assert "Naloxone kits handed out NALOXONE.kits 2 kits" in words
    # The band's colour is a class, and its word is always there with it.
    assert (
        'class="dash-tile dash-medium"' in html
        and 'class="dash-band dash-medium">Medium coverage' in html
    )
    assert 'class="dash-band dash-low">Low coverage' in html


def test_the_programme_dashboard_counts_every_site(programme: Programme) -> None:
    status, html = page(programme.everywhere, f"/dashboards/?period={PERIOD}")
    assert status == 200
    words = text_of(html)
    assert "whole programme" in words
    # 60 % is the top of the medium band: both ends are medium.
    assert "NSP coverage PRV.8 60.0% 3 of 5 active clients who inject drugs Medium coverage" in (
        words
    )
    assert "46.7 per client 140 needles and syringes handed out, 3 clients" in words
    assert "Medium coverage 187 per person a year" in words
    assert "Overdoses reported OVERDOSE.reported 3 overdoses" in words
    assert "Overdoses reversed with naloxone OVERDOSE.reversed 2 overdoses" in words
    # Links down to each site's dashboard.
    assert f'href="/dashboards/site/NTH-01/?period={PERIOD}"' in html
    assert f'href="/dashboards/site/STH-01/?period={PERIOD}"' in html


def test_the_dashboard_figures_are_compute_s(programme: Programme) -> None:
    from harbour.reports.indicators import compute

    dashboard = build(PERIOD, programme.cast.north, today=D(2025, 4, 2))
    assert dashboard.reports[-1] == compute(PERIOD, "NTH-01")
    assert [p.code for p in dashboard.periods][-2:] == ["2024Q4", "2025Q1"]
    assert dashboard.series("OVERDOSE.reported")[-1] == 2
    assert dashboard.cascade("HIV.cascade") == [
        ("Diagnosed", 1),
        ("On ART", 0),
        ("Virally suppressed", 0),
    ]


def test_each_chart_has_a_title_units_an_alternative_text_and_a_table(
    programme: Programme,
) -> None:
    status, html = page(programme.cast["me_officer"], f"/dashboards/site/NTH-01/?period={PERIOD}")
    assert status == 200
    for spec in charts.CHARTS:
        src = f"/dashboards/chart/{spec.slug}.svg?period={PERIOD}&amp;site=NTH-01"
        assert f'<img src="{src}" alt="' in html, spec.slug
        assert f'srcset="{src}&amp;size=small"' in html
        assert f'<h3 id="chart-{spec.slug}">{spec.title}</h3>' in html
        assert spec.units[:1].upper() + spec.units[1:] in text_of(html)
    # The overdoses' table, under its chart: each period of the trend, then the counts.
    words = text_of(html)
    assert "Overdoses, by period" not in words
    assert "2025Q1 2 1" in words
    assert "Diagnosed 1 100.0% On ART 0 0.0% Virally suppressed 0 0.0%" in words
    assert (
        'alt="Bar chart, HIV cascade as of the end of 2025Q1: Diagnosed 1, On ART 0, '
        'Virally suppressed 0."' in html
    )


def test_stock_shows_what_is_on_hand_and_weeks_left(programme: Programme) -> None:
    north = programme.cast.north
    manager = programme.cast["site_manager"]
    syringes = item("needle_syringe")
    stock.deliver(manager, north, syringes, 1000)
    today = dt.date.today()
    # 300 handed out in the last 30 days: 70 a week; 700 left is 10 weeks.
    stock.move(manager, north, syringes, Movement.Kind.DISTRIBUTION, -300, date=today)
    _status, html = page(manager, f"/dashboards/site/NTH-01/?period={PERIOD}")
    words = text_of(html)
    assert f"{syringes.name} 700 70.0 10.0 1 None" in words


# --- who sees what ----------------------------------------------------------------


def test_a_north_manager_cannot_open_south_or_the_region(programme: Programme) -> None:
    manager = programme.cast["site_manager"]
    assert page(manager, "/dashboards/site/STH-01/")[0] == 403
    assert page(manager, "/dashboards/site/REG-A/")[0] == 403
    assert page(manager, "/dashboards/site/NOWHERE/")[0] == 404
    chart = login(manager).get(f"/dashboards/chart/nsp.svg?period={PERIOD}&site=STH-01")
    assert chart.status_code == 403
    # The programme's chart is for the whole programme's people only.
    assert login(manager).get(f"/dashboards/chart/nsp.svg?period={PERIOD}").status_code == 403


def test_the_programme_page_sends_others_to_their_own_site(programme: Programme) -> None:
    manager = programme.cast["site_manager"]
    response = login(manager).get(f"/dashboards/?period={PERIOD}")
    assert response.status_code == 302
    assert response["Location"] == f"/dashboards/site/NTH-01/?period={PERIOD}"
    asked = login(programme.everywhere).get(f"/dashboards/?site=STH-01&period={PERIOD}")
    assert asked["Location"] == f"/dashboards/site/STH-01/?period={PERIOD}"


def test_someone_with_two_separate_sites_chooses_one(programme: Programme) -> None:
    east = make_site("EST-01", name="East Centre")
    two = make_user("two_sites", Role.SITE_MANAGER, programme.cast.north)
    two.memberships.create(role=Role.SITE_MANAGER, site=east)
    status, html = page(two, "/dashboards/")
    assert status == 200
    assert 'href="/dashboards/site/EST-01/"' in html and 'href="/dashboards/site/NTH-01/"' in html


def test_a_region_manager_sees_the_region_and_the_sites_below(programme: Programme) -> None:
    regional = make_user("regional", Role.SITE_MANAGER, programme.cast.region)
    status, html = page(regional, f"/dashboards/site/REG-A/?period={PERIOD}")
    assert status == 200
    assert "60.0%" in html  # North and South together
    assert 'href="/dashboards/site/NTH-01/?period=2025Q1"' in html


@pytest.mark.parametrize("role", [Role.OUTREACH, Role.STAFF, Role.CLINICIAN, Role.CASE_MANAGER])
def test_front_line_roles_have_no_dashboard(programme: Programme, role: str) -> None:
    user = programme.cast[role]
    assert page(user, "/dashboards/site/NTH-01/")[0] == 403
    assert login(user).get("/dashboards/report.pdf?site=NTH-01").status_code == 403


def test_a_bad_period_is_named_and_the_last_complete_quarter_shown(programme: Programme) -> None:
    status, html = page(programme.cast["site_manager"], "/dashboards/site/NTH-01/?period=2025Q9")
    assert status == 200
    words = text_of(html)
    assert "Period: '2025Q9' is not a period (a quarter is Q1 to Q4)" in words
    assert "the last complete quarter" in words


# --- the content security policy --------------------------------------------------


def test_the_page_keeps_the_site_policy_and_has_no_inline_script(programme: Programme) -> None:
    http = login(programme.cast["site_manager"])
    response = http.get(f"/dashboards/site/NTH-01/?period={PERIOD}")
    home = http.get("/")
    policy = response["Content-Security-Policy"]
    assert policy == home["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    html = response.content.decode()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, tag
    assert " style=" not in html and "<style" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers


@pytest.mark.parametrize("slug", [spec.slug for spec in charts.CHARTS])
def test_a_chart_is_svg_without_script_and_with_its_own_narrow_policy(
    programme: Programme, slug: str
) -> None:
    http = login(programme.cast["site_manager"])
    for size in ("wide", "small"):
        response = http.get(f"/dashboards/chart/{slug}.svg?period={PERIOD}&site=NTH-01&size={size}")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/svg+xml"
        body = response.content.decode()
        assert "<svg" in body and "<script" not in body.lower()
        assert "<title>" in body
        directives = dict(
            part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
        )
        assert directives["default-src"] == "'none'"
        assert directives["style-src"] == "'unsafe-inline'"
        assert "script-src" not in directives  # default-src 'none' forbids any script
        assert "no-store" in response["Cache-Control"]


def test_a_chart_uses_the_page_s_figures_for_that_user_and_session_only(
    programme: Programme,
) -> None:
    manager = programme.cast["site_manager"]
    http = login(manager)
    http.get(f"/dashboards/site/NTH-01/?period={PERIOD}")
    # New records after the page was shown: the chart still draws the page's figures.
    hiv_test(person(programme.cast.north), D(2025, 3, 30), "positive")
    remembered = http.get(f"/dashboards/chart/hiv-cascade.svg?period={PERIOD}&site=NTH-01")
    assert printed(remembered.content) == ["1", "0", "0"]  # as the page's table said
    fresh = login(programme.cast["me_officer"])
    drawn = fresh.get(f"/dashboards/chart/hiv-cascade.svg?period={PERIOD}&site=NTH-01")
    assert printed(drawn.content) == ["2", "0", "0"]
    # Another person, or another sign-in, never reads that memory.
    keys = [k for k in cache._cache if "harbour:dashboard:" in k]  # type: ignore[attr-defined]
    assert len(keys) == 2
    assert sum(f":{manager.pk}:" in key for key in keys) == 1
    assert all(key.endswith(":2025Q1:NTH-01") for key in keys)


def printed(svg: bytes) -> list[str]:
    """The figures a chart prints on its bars."""
    return re.findall(r'<text [^>]*class="value">([^<]*)</text>', svg.decode())


def test_an_unknown_chart_is_not_found(programme: Programme) -> None:
    http = login(programme.everywhere)
    assert http.get(f"/dashboards/chart/nope.svg?period={PERIOD}").status_code == 404
    bad = http.get("/dashboards/chart/nsp.svg?period=2025Q7")
    assert bad.status_code == 400 and b"Period:" in bad.content


def test_sites_are_listed_below_the_programme(programme: Programme) -> None:
    make_site("NTH-OUT", parent=programme.cast.north, name="North outreach")
    _status, html = page(programme.everywhere, f"/dashboards/?period={PERIOD}")
    assert re.search(r'class="depth-2"><a href="/dashboards/site/NTH-OUT/', html)
    assert Site.objects.filter(code="NTH-OUT").exists()


def test_http_client_without_sign_in_is_sent_to_sign_in(programme: Programme) -> None:
    response = HttpClient().get("/dashboards/")
    assert response.status_code == 302 and "/account/login/" in response["Location"]
