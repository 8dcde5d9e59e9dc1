"""The figures of one period as DHIS2 takes them: a ``dataValueSets`` JSON object or ADX.

``build("2025Q1")`` computes the indicators once per organisation unit that reports:

- the programme's own org unit (``Organisation.dhis2_org_unit``), with the figures of
  the whole programme (``compute(period)``): distinct people counted once across all
  sites, population estimates at the programme level;
- each active site with a DHIS2 id (``Site.dhis2_org_unit``), with the figures of that
  site and every site below it (``compute(period, site.code)``), as Harbour counts a
  site everywhere else.

A mapping row is reported for the programme, the sites, or both (``Mapping.level``).
Service sites with no DHIS2 id are listed in ``unreported_sites``: their people are in
the programme's figures, but no figure of their own is sent.

Values go as DHIS2 reads them: counts as JSON integers, ratios (a ``value`` part:
0.7774 for 77.74 %) and person-years as JSON numbers with their decimals. A figure
without a number (a zero denominator, no population estimate, a small count withheld)
is left out, never sent as 0, and listed in ``left_out`` with the reason.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from harbour.dhis2 import figures
from harbour.dhis2.models import Dhis2Server, Level, Mapping
from harbour.lib.periods import Period, parse_period
from harbour.lib.suppression import HIDDEN, suppress_report
from harbour.sites.models import Organisation, Site, SiteKind

ADX_NAMESPACE = "urn:ihe:qrph:adx:2015"
ADX_DURATIONS = {12: "P1Y", 6: "P6M", 3: "P3M", 1: "P1M"}

Compute = Callable[[str, str | None], dict[str, Any]]


class PayloadError(ValueError):
    """A period the payload cannot be built for; the message says why."""


@dataclass(frozen=True)
class OrgUnit:
    uid: str
    name: str
    level: str  # Level.PROGRAMME or Level.SITES
    site_code: str | None = None  # None for the programme


@dataclass(frozen=True)
class Value:
    org_unit: OrgUnit
    mapping: Mapping
    value: int | float

    @property
    def label(self) -> str:
        m = self.mapping
        return figures.label(m.indicator, m.part, m.group)


@dataclass(frozen=True)
class LeftOut:
    org_unit: OrgUnit
    label: str
    reason: str


@dataclass
class Payload:
    period: Period
    data_set: str
    attribute_option_combo: str
    org_units: list[OrgUnit]
    values: list[Value] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    unreported_sites: list[Site] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def data_value_sets(self) -> dict[str, Any]:
        """The JSON body of ``POST /api/dataValueSets``.

        Each data value names its own period and org unit, so one body carries every
        org unit (DHIS2's "bulk" form); the data set names what is being reported.
        """
        body: dict[str, Any] = {}
        if self.data_set:
            body["dataSet"] = self.data_set
        body["period"] = self.period.code
        body["dataValues"] = [self._data_value(v) for v in self.values]
        return body

    def _data_value(self, v: Value) -> dict[str, Any]:
        item: dict[str, Any] = {"dataElement": v.mapping.data_element}
        if v.mapping.category_option_combo:
            item["categoryOptionCombo"] = v.mapping.category_option_combo
        if self.attribute_option_combo:
            item["attributeOptionCombo"] = self.attribute_option_combo
        item["period"] = self.period.code
        item["orgUnit"] = v.org_unit.uid
        item["value"] = v.value
        return item

    def adx(self, exported: dt.datetime) -> bytes:
        """The same values as an ADX message: one ``group`` per org unit.

        ADX names the period by its first day and length (``2025-01-01/P3M``). The
        ids are DHIS2 uids; DHIS2 reads ADX identifiers as codes unless told, so it is
        imported with ``idScheme=UID`` (docs/dhis2.md).
        """
        ET.register_namespace("", ADX_NAMESPACE)
        root = ET.Element(
            f"{{{ADX_NAMESPACE}}}adx",
            {"exported": exported.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")},
        )
        period = adx_period(self.period)
        for org_unit in self.org_units:
            values = [v for v in self.values if v.org_unit == org_unit]
            if not values:
                continue
            attrs = {"orgUnit": org_unit.uid, "period": period, "dataSet": self.data_set}
            if self.attribute_option_combo:
                attrs["attributeOptionCombo"] = self.attribute_option_combo
            group = ET.SubElement(root, f"{{{ADX_NAMESPACE}}}group", attrs)
            for v in values:
                item = {"dataElement": v.mapping.data_element}
                if v.mapping.category_option_combo:
                    item["categoryOptionCombo"] = v.mapping.category_option_combo
                item["value"] = str(v.value)
                ET.SubElement(group, f"{{{ADX_NAMESPACE}}}dataValue", item)
        ET.indent(root)
        return ET.tostring(root, encoding="utf-8", xml_declaration=True)

    def count(self) -> int:
        return len(self.values)


def adx_period(period: Period) -> str:
    """An ADX period: first day / ISO 8601 duration (``2025Q1`` is ``2025-01-01/P3M``)."""
    return f"{period.start.isoformat()}/{ADX_DURATIONS[period.months]}"


def reporting_org_units() -> tuple[list[OrgUnit], list[Site]]:
    """The org units that report (programme first, then sites by code), and the service
    sites that cannot: active, not a region, and without a DHIS2 id."""
    units: list[OrgUnit] = []
    org = Organisation.get()
    if org.dhis2_org_unit:
        units.append(OrgUnit(org.dhis2_org_unit, org.name, Level.PROGRAMME))
    unreported = []
    for site in Site.objects.filter(active=True).order_by("code"):
        if site.dhis2_org_unit:
            units.append(OrgUnit(site.dhis2_org_unit, site.name, Level.SITES, site.code))
        elif site.kind != SiteKind.REGION:
            unreported.append(site)
    return units, unreported


def ordered_mappings(rows: Iterable[Mapping] | None = None) -> list[Mapping]:
    """The mapping rows in the order of the definitions, then as entered."""
    rows = list(Mapping.objects.all() if rows is None else rows)
    return sorted(rows, key=lambda m: (figures.order(m.indicator, m.part, m.group), m.pk or 0))


def nesting_notes(units: list[OrgUnit]) -> list[str]:
    """A sentence for each reporting site below another reporting site."""
    reported = {u.site_code for u in units if u.site_code}
    notes = []
    for site in Site.objects.filter(code__in=reported).select_related("parent"):
        above = [a for a in site.ancestors() if a.code in reported]
        if above:
            notes.append(
                f"{site.name} ({site.code}) is counted in {above[0].name} ({above[0].code}) "
                "too, and both have a DHIS2 id: in DHIS2's analytics, values stored below "
                "an org unit add to its own. Report one of them only if DHIS2 has the "
                "same hierarchy."
            )
    return notes


def build(
    period: str,
    *,
    server: Dhis2Server | None = None,
    mappings: Iterable[Mapping] | None = None,
    compute: Compute | None = None,
) -> Payload:
    """The payload of ``period`` for every reporting org unit, with what was left out."""
    try:
        found = parse_period(period)
    except ValueError as exc:
        raise PayloadError(str(exc)) from None
    if compute is None:
        from harbour.reports.indicators import compute as compute_indicators

        compute = compute_indicators
    server = server or Dhis2Server.get()
    rows = ordered_mappings(mappings)
    units, unreported = reporting_org_units()
    payload = Payload(
        period=found,
        data_set=server.data_set,
        attribute_option_combo=server.attribute_option_combo,
        org_units=units,
        unreported_sites=unreported,
        notes=nesting_notes(units),
    )
    if Level.PROGRAMME not in {u.level for u in units} and any(
        m.level == Level.PROGRAMME for m in rows
    ):
        payload.notes.append(
            "Figures mapped for the programme only are not sent: the programme has no "
            "DHIS2 organisation unit id (set it under DHIS2 server settings)."
        )
    levels = {u.level for u in units}
    if levels == {Level.PROGRAMME, Level.SITES} and any(m.level == Level.ALL for m in rows):
        payload.notes.append(
            "Some figures go to both the programme's org unit and the sites'. If the "
            "programme's org unit is above the sites' in DHIS2, DHIS2's analytics add the "
            "sites' values to the programme's: set those rows to one level."
        )
    for unit in units:
        wanted = [m for m in rows if m.applies_to(unit.level)]
        if not wanted:
            continue
        report = compute(found.code, unit.site_code)
        if server.leave_out_small_counts:
            report = suppress_report(report)
        indicators = report["indicators"]
        for mapping in wanted:
            try:
                number = figures.lookup(indicators, mapping.indicator, mapping.part, mapping.group)
            except figures.Missing as missing:
                payload.left_out.append(
                    LeftOut(
                        unit,
                        figures.label(mapping.indicator, mapping.part, mapping.group),
                        str(missing),
                    )
                )
                continue
            if isinstance(number, str):
                reason = (
                    "withheld: it would reveal a small count"
                    if number == HIDDEN
                    else f"small count withheld ({number})"
                )
                payload.left_out.append(
                    LeftOut(
                        unit, figures.label(mapping.indicator, mapping.part, mapping.group), reason
                    )
                )
                continue
            payload.values.append(Value(unit, mapping, dhis2_number(number)))
    return payload


def dhis2_number(number: Any) -> int | float:
    """A figure as a JSON number: a whole number as an integer, a ratio as it is."""
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise TypeError(f"Not a number: {number!r}")
    return number
