"""The programme report as an XLSX workbook (openpyxl): one sheet per section.

Figures are numbers with number formats (a coverage is 0.843 shown as 84.3%), so a
manager can chart or sum them without retyping; a figure hidden by small-cell
suppression is the marker as text ("<5", "*"). The last sheet gives the definitions.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from harbour.reports.charts import CASCADE_CHARTS, TRENDS
from harbour.reports.dashboard import (
    COUNT,
    DEFINITIONS_VERSION,
    INDICATORS,
    METHODS,
    RATE,
    SHARE,
    YEARS,
    Cell,
    Dashboard,
    Table,
    copy_note,
    is_number,
)

FORMATS = {COUNT: "#,##0", SHARE: "0.0%", RATE: "#,##0.0", YEARS: "#,##0.00"}
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="F0F2F4")
WRAP = Alignment(wrap_text=True, vertical="top")


def _put(sheet: Worksheet, row: int, column: int, cell: Cell) -> None:
    target = sheet.cell(row=row, column=column)
    if cell.numeric and is_number(cell.value):
        target.value = cell.value
        target.number_format = FORMATS.get(cell.kind, "General")
    elif cell.numeric:
        target.value = "" if cell.value is None else str(cell.value)
        target.alignment = Alignment(horizontal="right")
    else:
        target.value = cell.text


def write_table(sheet: Worksheet, table: Table, row: int = 1, *, caption: bool = True) -> int:
    """Write ``table`` from ``row``; returns the first row after it and a blank line."""
    if caption:
        sheet.cell(row=row, column=1, value=table.caption).font = Font(bold=True, size=12)
        row += 1
    for column, header in enumerate(table.headers, start=1):
        cell = sheet.cell(row=row, column=column, value=header)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = WRAP
    row += 1
    for cells in table.rows:
        for column, cell in enumerate(cells, start=1):
            _put(sheet, row, column, cell)
        row += 1
    if table.note:
        sheet.cell(row=row, column=1, value=table.note).alignment = Alignment(vertical="top")
        row += 1
    return row + 1


def _widths(sheet: Worksheet, widths: dict[int, float] | None = None) -> None:
    found: dict[int, float] = {}
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is None:
                continue
            text = str(cell.value)
            if len(text) > 60:  # a caption or a note: let it run over
                continue
            found[cell.column] = max(found.get(cell.column, 0), len(text))
    for column, width in found.items():
        sheet.column_dimensions[get_column_letter(column)].width = min(max(width + 2, 9), 45)
    for column, width in (widths or {}).items():
        sheet.column_dimensions[get_column_letter(column)].width = width


def report_xlsx(dashboard: Dashboard) -> bytes:
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Report"
    summary["A1"] = dashboard.programme
    summary["A1"].font = Font(bold=True, size=16)
    summary["A2"] = "Programme report"
    summary["A2"].font = Font(bold=True, size=13)
    facts = [
        ("Sites", dashboard.place),
        ("Period", f"{dashboard.period.code} ({dashboard.period_text})"),
        ("First day", dashboard.period.start),
        ("Last day", dashboard.period.end),
        ("Made on", dashboard.made_day),
        ("Indicator definitions", f"Harbour indicators, version {DEFINITIONS_VERSION}"),
        ("Figures", copy_note(dashboard)),
    ]
    for offset, (label, value) in enumerate(facts, start=4):
        summary.cell(row=offset, column=1, value=label).font = BOLD
        cell = summary.cell(row=offset, column=2, value=value)
        if hasattr(value, "year"):
            cell.number_format = "yyyy-mm-dd"
        cell.alignment = Alignment(horizontal="left", wrap_text=True, vertical="top")
    summary.column_dimensions["A"].width = 24
    summary.column_dimensions["B"].width = 90

    sheet = book.create_sheet("Indicators")
    row = write_table(sheet, dashboard.indicator_table())
    write_table(sheet, dashboard.disaggregation_table(), row)
    sheet.freeze_panes = "A3"
    _widths(sheet, {2: 40})

    sheet = book.create_sheet("Trend")
    row = 1
    for spec in TRENDS:
        if spec.drawn(dashboard):
            row = write_table(sheet, spec.table(dashboard), row)
    _widths(sheet)

    sheet = book.create_sheet("Cascades")
    row = 1
    for spec in CASCADE_CHARTS:
        row = write_table(sheet, spec.table(dashboard), row)
    _widths(sheet)

    sheet = book.create_sheet("Overdoses")
    write_table(
        sheet,
        dashboard.trend_table(
            ("OVERDOSE.reported", "OVERDOSE.reversed", "NALOXONE.kits"),
            "Overdoses and naloxone, by period",
        ),
    )
    _widths(sheet)

    sheet = book.create_sheet("Stock")
    write_table(sheet, dashboard.stock_table())
    _widths(sheet, {6: 45})

    sheet = book.create_sheet("Definitions")
    headers = ("Key", "Indicator", "Counted (numerator)", "Among (denominator)", "Unit")
    for column, header in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=column, value=header)
        cell.font = BOLD
        cell.fill = HEADER_FILL
    line = 2
    for indicator in INDICATORS:
        values = (
            indicator.key,
            indicator.name,
            indicator.counted,
            indicator.among,
            "%" if indicator.kind == SHARE else indicator.unit,
        )
        for column, value in enumerate(values, start=1):
            sheet.cell(row=line, column=column, value=value).alignment = WRAP
        line += 1
    line += 1
    for title, text in METHODS:
        sheet.cell(row=line, column=1, value=title).font = BOLD
        sheet.cell(row=line, column=2, value=text).alignment = WRAP
        sheet.merge_cells(start_row=line, start_column=2, end_row=line, end_column=5)
        sheet.row_dimensions[line].height = 15 * (1 + len(text) // 110)
        line += 1
    for letter, width in zip("ABCDE", (18, 40, 45, 45, 16), strict=True):
        sheet.column_dimensions[letter].width = width

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
