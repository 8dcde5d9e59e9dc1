"""Coverage bands and targets: every boundary, annualising, and the administrators' page.

Defaults (harbour/reports/targets.py): syringes per person who injects drugs per
year low < 100 ≤ medium ≤ 200 < high, target 300; OST coverage low < 20 % ≤ medium
≤ 40 % < high, target 50 %; NSP coverage low < 20 % ≤ medium ≤ 60 % < high, target
90 %. A count per person is annualised as value × 12 / months of the period.
"""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps as django_apps

from harbour.audit.models import AuditEvent
from harbour.lib.periods import parse_period
from harbour.reports.models import Target
from harbour.reports.targets import DEFAULTS, MEASURES, band
from tests.factory import Cast, login

PAGE = "/reports/targets/"
D = Decimal
load_defaults = importlib.import_module(
    "harbour.reports.migrations.0003_load_default_targets"
).load_defaults


@pytest.fixture
def defaults(db: None) -> None:
    # A browser test's flush empties the migration's rows for the tests after it.
    load_defaults(django_apps, None)


# --- bands at every boundary ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "level"),
    [
        (0, "low"),
        (99.99, "low"),
        (100, "medium"),
        (150, "medium"),
        (200, "medium"),
        (200.01, "high"),
        (1000, "high"),
    ],
)
@pytest.mark.parametrize("key", ["PRV.10.population", "PRV.10"])
def test_syringes_per_person_a_year_are_low_below_100_medium_to_200_and_high_above(
    defaults: None, key: str, value: float, level: str
) -> None:
    found = band(key, value, "2025")
    assert found.level == level
    assert found.annualised_value == D(str(value))
    assert found.target == 300


@pytest.mark.parametrize(
    ("value", "level"),
    [
        (0, "low"),
        (0.1999, "low"),
        (0.2, "medium"),
        (0.3, "medium"),
        (0.4, "medium"),
        (0.4001, "high"),
        (1, "high"),
    ],
)
@pytest.mark.parametrize("key", ["PRV.11.population", "PRV.11"])
def test_ost_coverage_is_low_below_20_percent_medium_to_40_and_high_above(
    defaults: None, key: str, value: float, level: str
) -> None:
    found = band(key, value, "2025Q1")
    assert found.level == level
    # In percent, exactly: 0.2 is 20, not 20.000000000000004.
    assert found.annualised_value == D(str(value)) * 100
    assert found.target == 50


@pytest.mark.parametrize(
    ("value", "level"), [(0.1999, "low"), (0.2, "medium"), (0.6, "medium"), (0.6001, "high")]
)
def test_nsp_coverage_is_low_below_20_percent_medium_to_60_and_high_above(
    defaults: None, value: float, level: str
) -> None:
    assert band("PRV.8", value, "2025Q1").level == level


def test_a_coverage_is_not_annualised(defaults: None) -> None:
    assert band("PRV.11", 0.3, "202502").annualised_value == 30
    assert band("PRV.11", 0.3).annualised_value == 30  # no period needed


# --- annualising ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "value", "per_year", "level"),
    [
        # A quarter × 4: 25 in Q1 is 100 a year.
        ("2025Q1", "24.99", "99.96", "low"),
        ("2025Q1", "25", "100", "medium"),
        ("2025Q1", "50", "200", "medium"),
        ("2025Q1", "50.0025", "200.01", "high"),
        # A half year × 2.
        ("2025S2", "100", "200", "medium"),
        ("2025S2", "100.01", "200.02", "high"),
        # A month × 12, whatever its length: February too, and in a leap year.
        ("202501", "8.33", "99.96", "low"),
        ("202502", "8.34", "100.08", "medium"),
        ("202402", "16.6667", "200.0004", "high"),
        # A year × 1.
        ("2025", "200", "200", "medium"),
    ],
)
def test_a_count_per_person_is_annualised_as_value_times_12_over_the_months(
    defaults: None, period: str, value: str, per_year: str, level: str
) -> None:
    found = band("PRV.10.population", D(value), period)
    assert found.annualised_value == D(per_year)
    assert found.level == level


def test_a_period_object_is_annualised_like_its_code(defaults: None) -> None:
    assert band("PRV.10", 30, parse_period("2025Q3")).annualised_value == 120


def test_a_count_per_person_without_a_period_cannot_be_banded(defaults: None) -> None:
    with pytest.raises(ValueError, match="give the period"):
        band("PRV.10.population", 30)


# --- no figure, no bands, the label ---------------------------------------------------


def test_no_figure_has_no_level_but_keeps_its_target(defaults: None) -> None:
    found = band("PRV.11.population", None, "2025")
    assert found.level is None
    assert found.annualised_value is None
    assert found.target == 50
    assert found.target_met is None


def test_an_indicator_without_bands_has_no_level(defaults: None) -> None:
    found = band("HTS.PWID", 0.5, "2025")
    assert (found.level, found.target, found.label) == (None, None, "No bands for this indicator")


def test_the_label_says_the_level_the_figure_per_year_and_the_target(defaults: None) -> None:
    assert band("PRV.10.population", 60, "2025Q1").label == (
        "High coverage: 240 per person a year (target 300 per person a year)"
    )
    assert band("PRV.11", 0.355, "2025").label == "Medium coverage: 35.5% (target 50%)"
    # Two decimals where they matter: 200.01 is high and must not read as 200.
    assert band("PRV.10", D("50.0025"), "2025Q1").label.startswith("High coverage: 200.01 ")


def test_the_target_is_met_from_the_target_up(defaults: None) -> None:
    assert band("PRV.10.population", 75, "2025Q1").target_met is True  # 300 a year
    assert band("PRV.10.population", 74.99, "2025Q1").target_met is False
    assert band("PRV.11", 0.5, "2025").target_met is True


# --- configurable ----------------------------------------------------------------------


def test_the_data_migration_loads_the_defaults_of_the_code(db: None) -> None:
    Target.objects.all().delete()
    load_defaults(django_apps, None)
    rows = {t.indicator: (t.low, t.high, t.target) for t in Target.objects.all()}
    assert rows == {key: (d.low, d.high, d.target) for key, d in DEFAULTS.items()}
    assert set(rows) == set(MEASURES)


def test_bands_an_administrator_set_replace_the_defaults(defaults: None) -> None:
    Target.objects.filter(indicator="PRV.10.population").update(
        low=D(150), high=D(250), target=D(400)
    )
    assert band("PRV.10.population", 140, "2025").level == "low"
    assert band("PRV.10.population", 250, "2025").level == "medium"
    assert band("PRV.10.population", 251, "2025").level == "high"
    assert band("PRV.10.population", 251, "2025").target == 400
    # The other indicators keep theirs.
    assert band("PRV.10", 140, "2025").level == "medium"


def test_without_a_row_the_defaults_apply(db: None) -> None:
    Target.objects.all().delete()
    assert band("PRV.11", 0.2, "2025").level == "medium"
    assert band("PRV.10.population", 201, "2025").level == "high"


# --- the page --------------------------------------------------------------------------


def _post(**changes: str) -> dict[str, str]:
    data: dict[str, str] = {}
    for key, default in DEFAULTS.items():
        data[f"{key}-low"] = str(default.low)
        data[f"{key}-high"] = str(default.high)
        data[f"{key}-target"] = str(default.target)
    data.update({k.replace("__", "-"): v for k, v in changes.items()})
    return data


def test_an_administrator_sees_every_indicator_with_its_bands(cast: Cast, defaults: None) -> None:
    response = login(cast["admin"]).get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    for measure in MEASURES.values():
        assert measure.name in page
    assert 'name="PRV.10.population-low" value="100"' in page
    assert "Default target: WHO&#x27;s target for 2030." in page


def test_an_administrator_changes_the_bands_and_the_change_is_audited(
    cast: Cast, defaults: None
) -> None:
    http = login(cast["admin"])
    data = _post()
    data["PRV.11.population-low"] = "25"
    data["PRV.11.population-target"] = ""
    response = http.post(PAGE, data, follow=True)
    assert response.redirect_chain[-1][0] == PAGE
    assert "Saved the bands of PRV.11.population." in response.content.decode()
    row = Target.objects.get(indicator="PRV.11.population")
    assert (row.low, row.high, row.target) == (25, 40, None)
    assert band("PRV.11.population", 0.22, "2025").level == "low"
    event = AuditEvent.objects.get(action="target.update")
    assert event.actor == cast["admin"]
    assert event.detail == {
        "indicator": "PRV.11.population",
        "before": {"low": "20", "high": "40", "target": "50"},
        "after": {"low": "25", "high": "40", "target": None},
    }


def test_saving_unchanged_bands_writes_nothing(cast: Cast, defaults: None) -> None:
    response = login(cast["admin"]).post(PAGE, _post(), follow=True)
    assert "Nothing changed." in response.content.decode()
    assert not AuditEvent.objects.filter(action="target.update").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("PRV.10-high", "90", "Must be at least the low threshold"),
        ("PRV.11-high", "101", "less than or equal to 100"),
        ("PRV.8-low", "-1", "greater than or equal to 0"),
        ("PRV.10.population-low", "", "This field is required"),
        ("PRV.10.population-low", "many", "Enter a number"),
    ],
)
def test_impossible_bands_are_refused_beside_their_field_and_nothing_is_saved(
    cast: Cast, defaults: None, field: str, value: str, message: str
) -> None:
    data = _post()
    data["PRV.8-target"] = "95"  # a valid change on the same page is not saved either
    data[field] = value
    response = login(cast["admin"]).post(PAGE, data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Target.objects.get(indicator="PRV.8").target == 90
    assert not AuditEvent.objects.filter(action="target.update").exists()


@pytest.mark.parametrize("role", ["me_officer", "site_manager", "staff", "outreach"])
def test_only_administrators_set_the_bands(cast: Cast, defaults: None, role: str) -> None:
    http = login(cast[role])
    assert http.get(PAGE).status_code == 403
    assert http.post(PAGE, _post(**{"PRV.8__low": "1"})).status_code == 403
    assert Target.objects.get(indicator="PRV.8").low == 20
