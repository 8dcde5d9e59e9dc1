"""The programme report as a PDF (reportlab), for a period and a site or the programme.

A title page; the indicators with their bands and targets; the trends; the cascades;
overdoses and naloxone; stock; a note on methods. Charts are drawn with reportlab's
own charts, not from the dashboard's SVG: turning SVG into PDF would need cairosvg and
the cairo library, a system dependency for little gain (docs/decisions/0008). Each
chart is followed by its table, as on the dashboard.

Standard PDF fonts only: the text keeps to characters they have (no "≥", "→").
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as PdfTable

from harbour.reports.charts import CASCADE_CHARTS, PALETTE, ChartSpec
from harbour.reports.dashboard import (
    BY_KEY,
    DEFINITIONS_VERSION,
    METHODS,
    SHARE,
    Dashboard,
    Table,
    copy_note,
    day_text,
    is_number,
)

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 20 * mm
WIDTH = PAGE_WIDTH - 2 * MARGIN
INK = colors.HexColor("#1b1b1b")
MUTED = colors.HexColor("#555555")
LINE = colors.HexColor("#d0d4d9")
HEAD = colors.HexColor("#f0f2f4")
ACCENT = colors.HexColor("#0b5d7a")
BAND_FILL = {
    "Low": colors.HexColor("#fde8e8"),
    "Medium": colors.HexColor("#fff4d6"),
    "High": colors.HexColor("#e4f4ea"),
}
SECTION = 215 * mm  # room a section needs to start on the current page
DASHES: tuple[Any, ...] = (None, (6, 3), (1.5, 2.5), (8, 2, 2, 2))

TREND_SECTIONS = (
    ("Needle and syringe programme", ("nsp", "syringes")),
    ("Opioid substitution therapy", ("ost", "ost-years")),
    ("Overdoses and naloxone", ("overdoses", "naloxone")),
)


def _styles() -> dict[str, ParagraphStyle]:
    sheet = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=sheet["BodyText"], fontSize=9.5, leading=12.5)
    return {
        "title": ParagraphStyle("title", parent=sheet["Title"], fontSize=24, leading=30),
        "subtitle": ParagraphStyle(
            "subtitle", parent=sheet["Heading2"], fontSize=15, leading=20, textColor=ACCENT
        ),
        "h1": ParagraphStyle("h1", parent=sheet["Heading1"], fontSize=16, leading=20),
        "h2": ParagraphStyle("h2", parent=sheet["Heading2"], fontSize=12.5, leading=16),
        "body": body,
        "note": ParagraphStyle("note", parent=body, fontSize=8.5, leading=11, textColor=MUTED),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5),
        "num": ParagraphStyle("num", parent=body, fontSize=8.5, leading=10.5, alignment=TA_RIGHT),
        "head": ParagraphStyle(
            "head", parent=body, fontSize=8, leading=10, fontName="Helvetica-Bold"
        ),
        "headnum": ParagraphStyle(
            "headnum",
            parent=body,
            fontSize=8,
            leading=10,
            fontName="Helvetica-Bold",
            alignment=TA_RIGHT,
        ),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def pdf_table(
    table: Table, styles: dict[str, ParagraphStyle], widths: Sequence[float] | None = None
) -> PdfTable:
    """A dashboard table as a PDF table: headers on a grey row, numbers on the right."""
    data: list[list[Any]] = [
        [
            _p(header, styles["headnum"] if numeric else styles["head"])
            for header, numeric in table.columns
        ]
    ]
    fills: list[tuple[Any, ...]] = []
    for row_index, cells in enumerate(table.rows, start=1):
        row = []
        for column, cell in enumerate(cells):
            row.append(_p(cell.text, styles["num"] if cell.numeric else styles["cell"]))
            word = cell.text.split(" ", 1)[0]
            if table.headers[column] == "Band" and word in BAND_FILL:
                fills.append(
                    ("BACKGROUND", (column, row_index), (column, row_index), BAND_FILL[word])
                )
        data.append(row)
    made = PdfTable(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    made.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), HEAD),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, LINE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                *fills,
            ]
        )
    )
    return made


def _plotted(values: Sequence[Any], percent: bool) -> list[float | None]:
    found: list[float | None] = []
    for value in values:
        if not is_number(value):
            found.append(None)
        else:
            found.append(round(float(value) * 100, 1) if percent else float(value))
    return found


def _legend(drawing: Drawing, names: Sequence[str], colours: Sequence[Any], y: float) -> None:
    if len(names) < 2:
        return
    legend = Legend()
    legend.x, legend.y = 40, y
    legend.fontName, legend.fontSize = "Helvetica", 8
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.dx, legend.dy = 8, 8
    legend.deltax = 150
    legend.colorNamePairs = list(zip(colours, names, strict=True))
    drawing.add(legend)


def trend_chart(spec: ChartSpec, dashboard: Dashboard) -> Drawing:
    """A trend as a reportlab drawing: lines for coverages in %, bars for the rest."""
    keys = spec.drawn(dashboard)
    percent = all(BY_KEY[key].kind == SHARE for key in keys)
    labels = [period.code for period in dashboard.periods]
    data = [tuple(_plotted(dashboard.series(key), percent)) for key in keys]
    names = [BY_KEY[key].name for key in keys]
    palette = [colors.HexColor(colour) for colour in PALETTE]
    height = 54 * mm
    drawing = Drawing(WIDTH, height)
    legend_room = 14 if len(keys) > 1 else 0
    plot_y = 22 + legend_room
    chart: HorizontalLineChart | VerticalBarChart
    if spec.kind == "line":
        chart = HorizontalLineChart()
        chart.joinedLines = 1
        for index in range(len(keys)):
            chart.lines[index].strokeColor = palette[index]
            chart.lines[index].strokeWidth = 1.8
            chart.lines[index].symbol = makeMarker("FilledCircle", size=3.5)
            chart.lines[index].symbol.fillColor = palette[index]
            if DASHES[index % len(DASHES)]:
                chart.lines[index].strokeDashArray = DASHES[index % len(DASHES)]
        chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, 100
        chart.valueAxis.valueStep = 20
        chart.valueAxis.labelTextFormat = "%d%%"
    else:
        chart = VerticalBarChart()
        for index in range(len(keys)):
            chart.bars[index].fillColor = palette[index]
            chart.bars[index].strokeColor = None
        chart.valueAxis.valueMin = 0
        chart.barLabelFormat = _bar_label
        chart.barLabels.nudge = 6
        chart.barLabels.fontSize = 7
        chart.barLabels.fontName = "Helvetica"
        chart.groupSpacing = 6
    chart.x, chart.y = 40, plot_y
    chart.width, chart.height = WIDTH - 50, height - plot_y - 18
    chart.data = (
        data if any(v is not None for series in data for v in series) else [(0,) * len(labels)]
    )
    chart.categoryAxis.categoryNames = labels
    chart.categoryAxis.labels.fontName = "Helvetica"
    chart.categoryAxis.labels.fontSize = 7.5
    chart.valueAxis.labels.fontName = "Helvetica"
    chart.valueAxis.labels.fontSize = 7.5
    chart.valueAxis.visibleGrid = 1
    chart.valueAxis.gridStrokeColor = LINE
    drawing.add(chart)
    drawing.add(
        String(0, height - 8, spec.units, fontName="Helvetica-Oblique", fontSize=8, fillColor=MUTED)
    )
    _legend(drawing, names, palette[: len(keys)], 6)
    return drawing


def _bar_label(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def cascade_chart(spec: ChartSpec, dashboard: Dashboard) -> Drawing:
    steps = dashboard.cascade(spec.keys[0])
    height = 55 * mm
    drawing = Drawing(WIDTH, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 40, 20
    chart.width, chart.height = WIDTH - 50, height - 38
    values = _plotted([count for _label, count in steps], False)
    chart.data = [tuple(v if v is not None else 0 for v in values)]
    chart.categoryAxis.categoryNames = [label for label, _count in steps]
    chart.categoryAxis.labels.fontName = "Helvetica"
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontSize = 7.5
    chart.valueAxis.visibleGrid = 1
    chart.valueAxis.gridStrokeColor = LINE
    chart.bars[0].fillColor = ACCENT
    chart.bars[0].strokeColor = None
    chart.barLabelFormat = _bar_label
    chart.barLabels.nudge = 6
    chart.barLabels.fontSize = 8
    drawing.add(chart)
    drawing.add(
        String(0, height - 8, spec.units, fontName="Helvetica-Oblique", fontSize=8, fillColor=MUTED)
    )
    return drawing


def _footer(dashboard: Dashboard) -> Any:
    text = f"{dashboard.programme} · {dashboard.place} · {dashboard.period.code}"

    def draw(canvas: Canvas, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, 12 * mm, text)
        canvas.drawRightString(PAGE_WIDTH - MARGIN, 12 * mm, f"Page {doc.page}")
        canvas.restoreState()

    return draw


def report_pdf(dashboard: Dashboard, *, compress: bool = True) -> bytes:
    """The report; ``compress=False`` leaves the text readable in the file (tests)."""
    styles = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=22 * mm,
        title=f"Programme report {dashboard.period.code}, {dashboard.place}",
        author=dashboard.programme,
        subject="Harbour programme report",
        creator="Harbour",
        invariant=1,
        pageCompression=1 if compress else 0,
    )
    story: list[Any] = []
    story += _title_page(dashboard, styles)
    story += _indicators(dashboard, styles)
    for title, slugs in TREND_SECTIONS:
        story += _trend_section(dashboard, styles, title, slugs)
    story += _cascades(dashboard, styles)
    story += _stock(dashboard, styles)
    story += _methods(dashboard, styles)
    footer = _footer(dashboard)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _title_page(dashboard: Dashboard, styles: dict[str, ParagraphStyle]) -> list[Any]:
    facts = [
        [
            "Sites",
            dashboard.place
            + (f" ({dashboard.site_code}) and the sites below it" if dashboard.site_code else ""),
        ],
        [
            "Period",
            f"{dashboard.period.code}: {day_text(dashboard.period.start)} "
            f"to {day_text(dashboard.period.end)}",
        ],
        ["Made on", day_text(dashboard.made_day)],
        ["Definitions", f"Harbour indicators, version {DEFINITIONS_VERSION}"],
    ]
    table = PdfTable(
        [[_p(label, styles["head"]), _p(value, styles["body"])] for label, value in facts],
        colWidths=[35 * mm, WIDTH - 35 * mm],
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 5)])
    )
    return [
        Spacer(1, 40 * mm),
        _p(dashboard.programme, styles["title"]),
        _p("Programme report", styles["subtitle"]),
        _p(f"{dashboard.place}, {dashboard.period_text}", styles["subtitle"]),
        Spacer(1, 12 * mm),
        table,
        Spacer(1, 10 * mm),
        _p(copy_note(dashboard), styles["body"]),
        PageBreak(),
    ]


def _indicators(dashboard: Dashboard, styles: dict[str, ParagraphStyle]) -> list[Any]:
    widths = [21 * mm, 41 * mm, 20 * mm, 23 * mm, 16 * mm, 28 * mm, WIDTH - 149 * mm]
    parts: list[Any] = [
        _p(f"Indicators, {dashboard.period.code}", styles["h1"]),
        _p(
            "Each coverage indicator with its band (low, medium or high) and its target. "
            "Needles and syringes per person are banded per year.",
            styles["note"],
        ),
        Spacer(1, 3 * mm),
        pdf_table(dashboard.indicator_table(), styles, widths),
        Spacer(1, 6 * mm),
    ]
    by_group = dashboard.disaggregation_table()
    if by_group.rows:
        parts += [
            CondPageBreak(60 * mm),
            _p("By gender and age", styles["h2"]),
            pdf_table(by_group, styles, [25 * mm, 45 * mm, 30 * mm, 30 * mm, 30 * mm]),
        ]
    return parts


def _chart_with_table(
    spec: ChartSpec, dashboard: Dashboard, styles: dict[str, ParagraphStyle], drawing: Drawing
) -> list[Any]:
    table = spec.table(dashboard)
    columns = len(table.headers)
    widths = [24 * mm] + [(WIDTH - 24 * mm) / max(columns - 1, 1)] * (columns - 1)
    # A chart and its table on one page: a table cut from its chart reads as another one.
    return [
        KeepTogether(
            [
                _p(spec.title, styles["h2"]),
                drawing,
                Spacer(1, 2 * mm),
                pdf_table(table, styles, widths),
            ]
        ),
        Spacer(1, 6 * mm),
    ]


def _trend_section(
    dashboard: Dashboard, styles: dict[str, ParagraphStyle], title: str, slugs: Sequence[str]
) -> list[Any]:
    from harbour.reports.charts import BY_SLUG

    # A section starts on a new page, unless that page is still nearly empty.
    parts: list[Any] = [CondPageBreak(SECTION), _p(title, styles["h1"])]
    parts.append(
        _p(
            f"Each period from {dashboard.first.code} to {dashboard.period.code}.",
            styles["note"],
        )
    )
    for slug in slugs:
        spec = BY_SLUG[slug]
        parts += _chart_with_table(spec, dashboard, styles, trend_chart(spec, dashboard))
    return parts


def _cascades(dashboard: Dashboard, styles: dict[str, ParagraphStyle]) -> list[Any]:
    parts: list[Any] = [
        CondPageBreak(SECTION),
        _p("HIV and hepatitis C cascades", styles["h1"]),
        _p(f"As of {day_text(dashboard.period.end)}, the period's last day.", styles["note"]),
    ]
    for spec in CASCADE_CHARTS:
        parts += _chart_with_table(spec, dashboard, styles, cascade_chart(spec, dashboard))
    return parts


def _stock(dashboard: Dashboard, styles: dict[str, ParagraphStyle]) -> list[Any]:
    table = dashboard.stock_table()
    parts: list[Any] = [CondPageBreak(80 * mm), _p("Stock", styles["h1"])]
    if not table.rows:
        return [*parts, _p("No stock is recorded at these sites.", styles["body"])]
    widths = [40 * mm, 20 * mm, 22 * mm, 18 * mm, 18 * mm, WIDTH - 118 * mm]
    return [
        *parts,
        pdf_table(table, styles, widths),
        Spacer(1, 2 * mm),
        _p(table.note, styles["note"]),
    ]


def _methods(dashboard: Dashboard, styles: dict[str, ParagraphStyle]) -> list[Any]:
    parts: list[Any] = [CondPageBreak(90 * mm), Spacer(1, 6 * mm), _p("Methods", styles["h1"])]
    for title, text in METHODS:
        parts.append(Paragraph(f"<b>{escape(title)}.</b> {escape(text)}", styles["body"]))
    parts.append(Paragraph(f"<b>Figures.</b> {escape(copy_note(dashboard))}", styles["body"]))
    return parts
