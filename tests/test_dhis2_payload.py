"""The values sent to DHIS2: exact dataValueSets JSON and ADX for a small programme.

The programme (the cast: REG-A with North NTH-01 and South STH-01) has its own DHIS2
org unit and North has one; South has none. ``figures_of`` stands in for the
indicators: the programme's and North's figures, written out by hand, so each value
below can be read off them. One test at the end runs the real indicators.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from harbour.clients.models import Client
from harbour.dhis2.demo import configure_demo, demo_uid
from harbour.dhis2.models import Dhis2Server, Level, Mapping
from harbour.dhis2.payload import ADX_NAMESPACE, PayloadError, adx_period, build
from harbour.lib.periods import parse_period
from harbour.sites.models import Organisation, Site, SiteKind
from harbour.visits.models import CatalogueItem, Contact, Distribution
from tests.factory import Cast, make_client, make_site

PROGRAMME_OU = "PrgHarbour1"
NORTH_OU = "NthCentre01"
DATA_SET = "pBOMPrpg1QX"
A = "{" + ADX_NAMESPACE + "}"


def parse(adx: bytes) -> ET.Element:
    return ET.fromstring(adx)  # noqa: S314 - Harbour's own output


def ratio(numerator: int, denominator: int, value: float | None, **by: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"numerator": numerator, "denominator": denominator, "value": value}
    if by:
        found["by"] = by
    return found


PROGRAMME = {
    "PRV.8": ratio(
        412,
        530,
        0.7774,
        gender={"female": ratio(80, 101, 0.7921)},
        age={"<25": ratio(61, 88, 0.6932)},
    ),
    "PRV.12": {"value": 118.37},
    "PRV.13": ratio(30, 40, 0.75),
    "NALOXONE.kits": {"value": 64},
    "HIV.cascade": {"diagnosed": 96, "on_art": 71, "suppressed": 52},
}
NORTH = {
    "PRV.8": ratio(40, 52, 0.7692, gender={"female": ratio(12, 15, 0.8)}, age={}),
    "PRV.12": {"value": 20.5},
    "PRV.13": ratio(0, 0, None),
    "NALOXONE.kits": {"value": 3},
    "HIV.cascade": {"diagnosed": 11, "on_art": 9, "suppressed": 4},
}


def figures_of(period: str, site_code: str | None) -> dict[str, Any]:
    found = parse_period(period)
    # The region holds both sites, as the whole programme does.
    indicators = {None: PROGRAMME, "REG-A": PROGRAMME, "NTH-01": NORTH}[site_code]
    return {
        "period": found.code,
        "start": found.start.isoformat(),
        "end": found.end.isoformat(),
        "site": site_code,
        "indicators": indicators,
    }


def mapped(
    indicator: str,
    part: str,
    element: str,
    *,
    group: str = "",
    combo: str = "",
    level: str = Level.ALL,
) -> Mapping:
    row = Mapping(
        indicator=indicator,
        part=part,
        group=group,
        level=level,
        data_element=element,
        category_option_combo=combo,
    )
    row.full_clean()
    row.save()
    return row


@pytest.fixture
def programme(cast: Cast) -> Cast:
    org = Organisation.get()
    org.dhis2_org_unit = PROGRAMME_OU
    org.save()
    cast.north.dhis2_org_unit = NORTH_OU
    cast.north.save()
    server = Dhis2Server.get()
    server.data_set = DATA_SET
    server.save()
    mapped("HIV.cascade", "on_art", "DeHivOnArt1")
    mapped("PRV.8", "numerator", "DeNspCover1")
    mapped("PRV.8", "numerator", "DeNspCoverG", group="gender=female", combo="CocFemale01")
    mapped("PRV.8", "value", "DeNspRatio1", level=Level.PROGRAMME)
    mapped("PRV.12", "value", "DePersonYr1", level=Level.PROGRAMME)
    mapped("PRV.13", "numerator", "DeRetained1", level=Level.SITES)
    mapped("PRV.13", "value", "DeRetRatio1", level=Level.SITES)
    mapped("PRV.10.population", "value", "DePopNsp001", level=Level.PROGRAMME)
    return cast


def test_the_values_of_the_programme_and_each_site_with_a_dhis2_id(programme: Cast) -> None:
    payload = build("2025Q1", compute=figures_of)

    assert payload.data_value_sets() == {
        "dataSet": DATA_SET,
        "period": "2025Q1",
        "dataValues": [
            # The programme, in the order of the definitions.
            {
                "dataElement": "DeNspCover1",
                "period": "2025Q1",
                "orgUnit": PROGRAMME_OU,
                "value": 412,
            },
            {
                "dataElement": "DeNspRatio1",
                "period": "2025Q1",
                "orgUnit": PROGRAMME_OU,
                "value": 0.7774,
            },
            {
                "dataElement": "DeNspCoverG",
                "categoryOptionCombo": "CocFemale01",
                "period": "2025Q1",
                "orgUnit": PROGRAMME_OU,
                "value": 80,
            },
            {
                "dataElement": "DePersonYr1",
                "period": "2025Q1",
                "orgUnit": PROGRAMME_OU,
                "value": 118.37,
            },
            {
                "dataElement": "DeHivOnArt1",
                "period": "2025Q1",
                "orgUnit": PROGRAMME_OU,
                "value": 71,
            },
            # North: its sites-only rows, not the programme-only ones.
            {"dataElement": "DeNspCover1", "period": "2025Q1", "orgUnit": NORTH_OU, "value": 40},
            {
                "dataElement": "DeNspCoverG",
                "categoryOptionCombo": "CocFemale01",
                "period": "2025Q1",
                "orgUnit": NORTH_OU,
                "value": 12,
            },
            {"dataElement": "DeRetained1", "period": "2025Q1", "orgUnit": NORTH_OU, "value": 0},
            {"dataElement": "DeHivOnArt1", "period": "2025Q1", "orgUnit": NORTH_OU, "value": 9},
        ],
    }


def test_counts_are_json_integers_and_ratios_keep_their_decimals(programme: Cast) -> None:
    values = build("2025Q1", compute=figures_of).data_value_sets()["dataValues"]
    kinds = {v["dataElement"]: type(v["value"]) for v in values}
    assert kinds == {
        "DeNspCover1": int,
        "DeNspRatio1": float,
        "DeNspCoverG": int,
        "DePersonYr1": float,
        "DeHivOnArt1": int,
        "DeRetained1": int,
    }


def test_figures_without_a_number_are_left_out_and_reported_never_sent_as_zero(
    programme: Cast,
) -> None:
    payload = build("2025Q1", compute=figures_of)

    left_out = [(x.org_unit.uid, x.label, x.reason) for x in payload.left_out]
    assert left_out == [
        (
            PROGRAMME_OU,
            "PRV.10.population Needles and syringes per person who injects (estimate): value",
            "no population estimate entered for the year",
        ),
        (NORTH_OU, "PRV.13 OST retention at 6 months: value", "denominator is 0"),
    ]
    sent = {(v["dataElement"], v["orgUnit"]) for v in payload.data_value_sets()["dataValues"]}
    assert ("DeRetRatio1", NORTH_OU) not in sent
    assert ("DePopNsp001", PROGRAMME_OU) not in sent


def test_service_sites_without_a_dhis2_id_are_reported_not_skipped(programme: Cast) -> None:
    closed = make_site("OLD-01", parent=programme.region)
    closed.active = False
    closed.save()

    payload = build("2025Q1", compute=figures_of)

    # South has no id; the region is not a service site; a closed site is not listed.
    assert [site.code for site in payload.unreported_sites] == ["STH-01"]
    assert [unit.uid for unit in payload.org_units] == [PROGRAMME_OU, NORTH_OU]


def test_an_attribute_option_combo_goes_on_every_value(programme: Cast) -> None:
    server = Dhis2Server.get()
    server.attribute_option_combo = "AocFunder01"
    server.save()

    values = build("2025Q1", compute=figures_of).data_value_sets()["dataValues"]
    assert {v["attributeOptionCombo"] for v in values} == {"AocFunder01"}


def test_programme_figures_need_the_programme_org_unit(programme: Cast) -> None:
    org = Organisation.get()
    org.dhis2_org_unit = ""
    org.save()

    payload = build("2025Q1", compute=figures_of)

    assert {v["orgUnit"] for v in payload.data_value_sets()["dataValues"]} == {NORTH_OU}
    assert any("programme has no DHIS2 organisation unit id" in note for note in payload.notes)


def test_a_figure_sent_to_both_levels_and_nested_sites_get_a_note(programme: Cast) -> None:
    programme.region.dhis2_org_unit = "RegionA0001"
    programme.region.save()

    notes = build("2025Q1", compute=figures_of).notes

    assert any("North Centre (NTH-01) is counted in Region A (REG-A)" in n for n in notes)
    assert any("go to both the programme's org unit and the sites'" in n for n in notes)


def test_small_counts_can_be_left_out_as_on_the_public_dashboard(programme: Cast) -> None:
    server = Dhis2Server.get()
    server.leave_out_small_counts = True
    server.save()
    mapped("NALOXONE.kits", "value", "DeNaloxone1", level=Level.SITES)

    payload = build("2025Q1", compute=figures_of)

    values = payload.data_value_sets()["dataValues"]
    sent = {(v["dataElement"], v["orgUnit"]): v["value"] for v in values}
    assert ("DeNaloxone1", NORTH_OU) not in sent  # 3 kits
    assert sent[("DeNspCover1", PROGRAMME_OU)] == 412
    assert not [v for v in sent.values() if isinstance(v, int) and 1 <= v <= 4]
    reasons = {(x.org_unit.uid, x.label): x.reason for x in payload.left_out}
    assert reasons[(NORTH_OU, "NALOXONE.kits Naloxone kits handed out: value")] == (
        "small count withheld (<5)"
    )


def test_a_bad_period_is_refused_with_the_reason(programme: Cast) -> None:
    with pytest.raises(PayloadError, match="a quarter is Q1 to Q4"):
        build("2025Q5", compute=figures_of)


# --- ADX ------------------------------------------------------------------------------


def test_adx_has_one_group_per_org_unit_in_the_adx_namespace(programme: Cast) -> None:
    exported = dt.datetime(2025, 4, 2, 9, 30, tzinfo=dt.UTC)
    root = parse(build("2025Q1", compute=figures_of).adx(exported))

    assert root.tag == f"{A}adx"
    assert root.attrib == {"exported": "2025-04-02T09:30:00Z"}
    groups = root.findall(f"{A}group")
    assert [g.attrib for g in groups] == [
        {"orgUnit": PROGRAMME_OU, "period": "2025-01-01/P3M", "dataSet": DATA_SET},
        {"orgUnit": NORTH_OU, "period": "2025-01-01/P3M", "dataSet": DATA_SET},
    ]
    assert [v.attrib for v in groups[1].findall(f"{A}dataValue")] == [
        {"dataElement": "DeNspCover1", "value": "40"},
        {"dataElement": "DeNspCoverG", "categoryOptionCombo": "CocFemale01", "value": "12"},
        {"dataElement": "DeRetained1", "value": "0"},
        {"dataElement": "DeHivOnArt1", "value": "9"},
    ]
    assert groups[0].findall(f"{A}dataValue")[1].attrib["value"] == "0.7774"
    # Nothing but groups and data values, all in the namespace.
    assert {el.tag for el in root.iter()} == {f"{A}adx", f"{A}group", f"{A}dataValue"}


def test_adx_puts_the_attribute_option_combo_on_the_group(programme: Cast) -> None:
    server = Dhis2Server.get()
    server.attribute_option_combo = "AocFunder01"
    server.save()
    root = parse(build("2025Q1", compute=figures_of).adx(dt.datetime.now(dt.UTC)))
    assert {g.attrib["attributeOptionCombo"] for g in root.findall(f"{A}group")} == {"AocFunder01"}


@pytest.mark.parametrize(
    ("period", "adx"),
    [
        ("2025", "2025-01-01/P1Y"),
        ("2025S1", "2025-01-01/P6M"),
        ("2025S2", "2025-07-01/P6M"),
        ("2025Q1", "2025-01-01/P3M"),
        ("2025Q4", "2025-10-01/P3M"),
        ("202502", "2025-02-01/P1M"),
        ("202511", "2025-11-01/P1M"),
    ],
)
def test_adx_periods_are_the_first_day_and_an_iso_8601_duration(period: str, adx: str) -> None:
    assert adx_period(parse_period(period)) == adx


def test_every_period_type_goes_into_the_adx_group(programme: Cast) -> None:
    for period, adx in (("2024", "2024-01-01/P1Y"), ("2024S2", "2024-07-01/P6M")):
        root = parse(build(period, compute=figures_of).adx(dt.datetime.now(dt.UTC)))
        assert {g.attrib["period"] for g in root.findall(f"{A}group")} == {adx}


# --- the real indicators --------------------------------------------------------------


def _handed_out(site: Site, client: Client | None, day: dt.date, **items: int) -> None:
    contact = Contact.objects.create(site=site, date=day, client=client)
    for code, quantity in items.items():
        item, _ = CatalogueItem.objects.get_or_create(code=code, defaults={"name": code})
        Distribution.objects.create(contact=contact, item=item, quantity=quantity)


def test_the_real_indicators_fill_the_mapped_cells(cast: Cast) -> None:
    cast.north.dhis2_org_unit = NORTH_OU
    cast.north.save()
    cast.south.dhis2_org_unit = "SthDropIn01"
    cast.south.save()
    mapped("PRV.8", "numerator", "DeNspCover1")
    mapped("PRV.8", "denominator", "DeNspActive")
    mapped("NALOXONE.kits", "value", "DeNaloxone1")
    given = make_client(cast.north, mother="AA", father="BB")
    _handed_out(cast.north, given, dt.date(2025, 2, 3), needle_syringe=10, naloxone_kit=2)
    active = make_client(cast.north, mother="CC", father="DD")
    _handed_out(cast.north, active, dt.date(2025, 2, 4), condom=5)
    _handed_out(cast.south, None, dt.date(2025, 3, 1), naloxone_kit=1)

    values = build("2025Q1").data_value_sets()["dataValues"]

    found = {(v["orgUnit"], v["dataElement"]): v["value"] for v in values}
    assert found == {
        (NORTH_OU, "DeNspCover1"): 1,
        (NORTH_OU, "DeNspActive"): 2,
        (NORTH_OU, "DeNaloxone1"): 2,
        ("SthDropIn01", "DeNspCover1"): 0,
        ("SthDropIn01", "DeNspActive"): 0,
        ("SthDropIn01", "DeNaloxone1"): 1,
    }


# --- the demo -------------------------------------------------------------------------


def test_the_demo_set_up_has_valid_ids_and_can_run_twice(cast: Cast) -> None:
    make_site("NTH-OUT", SiteKind.OUTREACH, parent=cast.north)
    assert configure_demo() == configure_demo()

    for row in Mapping.objects.all():
        row.full_clean()
    for site in Site.objects.all():
        site.full_clean()
        assert bool(site.dhis2_org_unit) is (site.kind != SiteKind.REGION)
    Dhis2Server.get().full_clean()
    assert Organisation.get().dhis2_org_unit == demo_uid("org unit:programme")
    payload = build("2025Q1")
    assert payload.unreported_sites == []
    assert len(payload.org_units) == 1 + 3
