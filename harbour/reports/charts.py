"""The dashboard's charts, drawn on the server as SVG with pygal.

Each chart is an SVG document served on its own (dashboard_views.chart) and shown with
``<img>``: the page needs no script, and the chart's own ``<style>`` is allowed by the
chart response's policy only, never the page's (docs/decisions/0008). pygal's script
(tooltips) is left out: every figure is also in the table under the chart, which is the
chart's text alternative and what a screen reader reads.

Colours are the Okabe–Ito palette, told apart with colour blindness; the lines of a
trend are also solid, dashed and dotted, so they differ without colour too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

import pygal
from pygal.style import Style

from harbour.reports.dashboard import (
    BY_KEY,
    CASCADES,
    SHARE,
    Dashboard,
    Table,
    is_number,
)

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif'
INK = "#1b1b1b"
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
CASCADE_COLOUR = "#0b5d7a"  # Harbour's accent, as the cascades page
DASHES = ("", "9,5", "2,4", "12,4,2,4")

# (width, height) of the drawing; the page scales it to the width it has. "small" is
# drawn for a phone, where "wide" would shrink its text below reading size.
SIZES = {"wide": (720, 330), "small": (380, 330)}


@dataclass(frozen=True)
class ChartSpec:
    slug: str
    title: str
    units: str  # what the numbers count, shown under the title and on the y axis
    kind: str  # "line" (trend in %), "bar" (trend of counts), "cascade"
    keys: tuple[str, ...]  # the indicators drawn, or the cascade's key

    def table(self, dashboard: Dashboard) -> Table:
        """The chart's text alternative: the same numbers."""
        if self.kind == "cascade":
            return dashboard.cascade_table(self.keys[0])
        return dashboard.trend_table(self.keys, self.title)

    def drawn(self, dashboard: Dashboard) -> list[str]:
        """The indicators this chart draws for ``dashboard`` (those it has figures for)."""
        if self.kind == "cascade":
            return list(self.keys)
        found = [key for key in self.keys if dashboard.has_series(key)]
        return found or list(self.keys[:1])

    def alt(self, dashboard: Dashboard) -> str:
        """A sentence for ``alt``: what the chart shows; the table gives every figure."""
        if self.kind == "cascade":
            steps = ", ".join(
                f"{label} {count if count is not None else 'none'}"
                for label, count in dashboard.cascade(self.keys[0])
            )
            return f"Bar chart, {self.title} as of the end of {dashboard.period.code}: {steps}."
        names = [BY_KEY[key].name for key in self.drawn(dashboard)]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        shape = "Line chart" if self.kind == "line" else "Bar chart"
        return (
            f"{shape} of {listed} ({self.units}), from {dashboard.first.code} to "
            f"{dashboard.period.code}. The figures are in the table below."
        )


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec(
        "nsp",
        "Needles and syringes, and HIV testing",
        "% of active clients who inject drugs",
        "line",
        ("PRV.8", "PRV.9", "HTS.PWID"),
    ),
    ChartSpec(
        "ost",
        "OST coverage, retention and dose",
        "% of each indicator's denominator",
        "line",
        ("PRV.11", "PRV.13", "PRV.14", "PRV.11.population"),
    ),
    ChartSpec(
        "syringes",
        "Needles and syringes per person",
        "needles and syringes per person, in each period",
        "bar",
        ("PRV.10", "PRV.10.population"),
    ),
    ChartSpec("ost-years", "Time on OST", "person-years in each period", "bar", ("PRV.12",)),
    ChartSpec(
        "overdoses",
        "Overdoses",
        "overdoses in each period",
        "bar",
        ("OVERDOSE.reported", "OVERDOSE.reversed"),
    ),
    ChartSpec(
        "naloxone", "Naloxone kits handed out", "kits in each period", "bar", ("NALOXONE.kits",)
    ),
    ChartSpec(
        "hiv-cascade",
        CASCADES["HIV.cascade"][0],
        "people, as of the period's last day",
        "cascade",
        ("HIV.cascade",),
    ),
    ChartSpec(
        "hcv-cascade",
        CASCADES["HCV.cascade"][0],
        "people, as of the period's last day",
        "cascade",
        ("HCV.cascade",),
    ),
)
BY_SLUG = {spec.slug: spec for spec in CHARTS}
TRENDS = tuple(spec for spec in CHARTS if spec.kind != "cascade")
CASCADE_CHARTS = tuple(spec for spec in CHARTS if spec.kind == "cascade")


def _style(colours: tuple[str, ...]) -> Style:
    # The same type sizes at both sizes: "small" is drawn narrower, so it shows larger.
    return Style(
        # Printed values stand above their bars, in ink: readable on any bar and on none.
        value_colors=(INK,) * len(colours),
        background="#ffffff",
        plot_background="#ffffff",
        foreground=INK,
        foreground_strong=INK,
        foreground_subtle="#c9ced4",
        opacity="0.9",
        opacity_hover="0.9",
        transition="none",
        colors=colours,
        font_family=FONT,
        label_font_family=FONT,
        major_label_font_family=FONT,
        value_font_family=FONT,
        value_label_font_family=FONT,
        legend_font_family=FONT,
        title_font_family=FONT,
        no_data_font_family=FONT,
        label_font_size=13,
        major_label_font_size=13,
        legend_font_size=14,
        title_font_size=14,
        value_font_size=14,
        no_data_font_size=18,
    )


def _number(value: object, percent: bool) -> float | None:
    if not is_number(value):
        return None
    assert isinstance(value, int | float)
    return round(value * 100, 1) if percent else value


def _formatter(percent: bool) -> Callable[[float], str]:
    if percent:
        return lambda v: f"{v:.0f}%"
    return lambda v: f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def _without_script(title: str) -> Callable[[Any], Any]:
    """An xml filter: drop pygal's script, and name the drawing for assistive technology.

    pygal writes its configuration as a script even with ``js=[]``; nothing here needs it.
    """

    def strip(root: Any) -> Any:
        for parent in list(root.iter()):
            for child in list(parent):
                if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                    parent.remove(child)
        root.set("role", "img")
        name = ElementTree.Element("title")
        name.text = title
        root.insert(0, name)
        return root

    return strip


def render(spec: ChartSpec, dashboard: Dashboard, size: str = "wide") -> bytes:
    """The chart as an SVG document, without pygal's script."""
    width, height = SIZES.get(size, SIZES["wide"])
    small = size == "small"
    common = {
        "js": [],
        "width": width,
        "height": height,
        "legend_at_bottom": True,
        "truncate_legend": -1,
        "truncate_label": -1,
        "show_x_guides": False,
        "no_data_text": "No figures for this period",
        "margin": 8,
        "spacing": 10,
        # At most this many steps on the y axis: a phone's chart stays readable.
        "max_scale": 6 if small else 8,
    }
    if spec.kind == "cascade":
        steps = dashboard.cascade(spec.keys[0])
        bars = pygal.Bar(
            style=_style((CASCADE_COLOUR,)),
            show_legend=False,
            print_values=True,
            print_values_position="top",
            print_zeroes=True,
            value_formatter=_formatter(False),
            x_label_rotation=-30 if small and len(steps) > 3 else 0,
            y_title="" if small else "people",
            **common,
        )
        bars.x_labels = [label for label, _count in steps]
        bars.add("People", [_number(count, False) for _label, count in steps])
        return _finish(bars, spec, dashboard)

    keys = spec.drawn(dashboard)
    if len(keys) > 2:
        common["height"] = height + 40  # a legend of one series a row
    percent = all(BY_KEY[key].kind == SHARE for key in keys)
    labels = [period.code for period in dashboard.periods]
    rotate = -40 if (small and len(labels) > 5) or len(labels) > 10 else 0
    options = {
        # pygal leaves room for (series // columns) rows of legend: keep that exact.
        "legend_at_bottom_columns": 1 if small or len(keys) > 2 else len(keys),
        "style": _style(PALETTE),
        "value_formatter": _formatter(percent),
        "x_label_rotation": rotate,
        "show_legend": len(keys) > 1,
        **common,
    }
    chart: pygal.Line | pygal.Bar
    if spec.kind == "line":
        chart = pygal.Line(
            range=(0, 100),
            y_labels=[0, 20, 40, 60, 80, 100],
            show_dots=True,
            dots_size=4,
            stroke_style={"width": 3},
            y_title="" if small else "%",
            # The last label is centred on the last point: leave it room.
            margin_right=28,
            **options,
        )
    else:
        chart = pygal.Bar(
            print_values=not small and len(labels) <= 8,
            print_values_position="top",
            print_zeroes=True,
            include_x_axis=True,
            **options,
        )
    chart.x_labels = labels
    for index, key in enumerate(keys):
        values = [_number(value, percent) for value in dashboard.series(key)]
        extra = {}
        if spec.kind == "line":
            extra["stroke_style"] = {"width": 3, "dasharray": DASHES[index % len(DASHES)]}
        chart.add(BY_KEY[key].name, values, **extra)
    return _finish(chart, spec, dashboard)


def _finish(chart: Any, spec: ChartSpec, dashboard: Dashboard) -> bytes:
    chart.add_xml_filter(_without_script(f"{spec.title} ({spec.units}), {dashboard.place}"))
    return bytes(chart.render())
