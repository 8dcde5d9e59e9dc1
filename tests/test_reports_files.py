"""The report files: the PDF opens and says what it should, the XLSX reads back with the
right numbers in the right cells, the CSV matches ``compute``, and every download is
audited. The programme is tests/test_dashboards.py's: in 2025Q1 North has PRV.8 = 2 of 4
(medium), PRV.10 = 20 per client (80 a year, low), 2 overdoses of which 1 reversed.
"""

from __future__ import annotations

import base64
import csv
import io
import re
import zlib
from typing import Any

import pytest
from openpyxl import load_workbook

from harbour.audit.models import AuditEvent
from harbour.reports.dashboard import build
from harbour.reports.indicators import compute
from harbour.reports.report_pdf import report_pdf
from tests import test_dashboards
from tests.factory import login
from tests.test_dashboards import PERIOD, Programme

programme = test_dashboards.programme  # the small programme of the dashboards' tests

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    """The text drawn in a PDF: its content streams, inflated where compressed."""
    chunks = []
    for stream in re.findall(rb"stream\r?\n(.*?)\s*endstream", data, re.DOTALL):
        # reportlab writes compressed streams as ASCII85 of Flate.
        if stream.rstrip().endswith(b"~>"):
            stream = base64.a85decode(stream.strip(), adobe=True)
        try:
            chunks.append(zlib.decompress(stream))
        except zlib.error:
            chunks.append(stream)
    drawn = re.findall(rb"\(((?:[^()\\]|\\.)*)\)\s*Tj", b"\n".join(chunks))
    return " ".join(
        part.decode("latin-1").replace("\\(", "(").replace("\\)", ")") for part in drawn
    )


def downloads() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="report.download").order_by("id"))


# --- PDF --------------------------------------------------------------------------


def test_the_pdf_report_opens_and_carries_the_period_and_key_figures(
    programme: Programme,
) -> None:
    manager = programme.cast["site_manager"]
    response = login(manager).get(f"/dashboards/report.pdf?period={PERIOD}&site=NTH-01")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="harbour-report-NTH-01-2025Q1.pdf"'
    )
    body = response.content
    assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")
    text = pdf_text(body)
    assert "Programme report" in text
    assert "North Centre, January to March 2025" in text
    assert "2025Q1: 1 January 2025 to 31 March 2025" in text
    assert "Harbour indicators, version 1" in text
    # The indicators table: PRV.8's numerator, denominator, value, band and target.
    assert re.search(r"PRV\.8 NSP coverage 2 4 50\.0% Medium coverage 90%", text), text[:2000]
    assert "Low coverage (80 per person a year)" in text
    assert "Overdoses reported" in text and "Methods" in text
    assert "Exact counts, for the programme's own use." in text


def test_the_uncompressed_pdf_is_searchable_as_it_is(programme: Programme) -> None:
    dashboard = build(PERIOD, programme.cast.north)
    body = report_pdf(dashboard, compress=False)
    assert b"(2025Q1" in body or b"2025Q1" in body
    assert b"(50.0%) Tj" in body


def test_the_pdf_draws_charts_without_cairo(programme: Programme) -> None:
    # reportlab's own charts: the file holds drawings, not embedded images.
    dashboard = build(PERIOD, None)
    body = report_pdf(dashboard, compress=False)
    assert b"/Subtype /Image" not in body
    assert pdf_text(body).count("2024Q4") >= 6  # trend axes and tables


# --- XLSX -------------------------------------------------------------------------


def test_the_xlsx_reads_back_with_numbers_in_the_right_cells(programme: Programme) -> None:
    manager = programme.cast["site_manager"]
    response = login(manager).get(f"/dashboards/report.xlsx?period={PERIOD}&site=NTH-01")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "Report",
        "Indicators",
        "Trend",
        "Cascades",
        "Overdoses",
        "Stock",
        "Definitions",
    ]
    report = book["Report"]
    assert report["A2"].value == "Programme report"
    assert report["B5"].value == "2025Q1 (January to March 2025)"

    sheet = book["Indicators"]
    assert [c.value for c in sheet[2]] == [
        "Key",
        "Indicator",
        "Numerator",
        "Denominator",
        "Value",
        "Band",
        "Target",
    ]
    rows = first_rows(sheet)
    prv8 = rows["PRV.8"]
    assert (prv8[2].value, prv8[3].value, prv8[4].value) == (2, 4, 0.5)
    assert prv8[4].number_format == "0.0%"
    assert prv8[2].number_format == "#,##0"
    assert prv8[5].value == "Medium coverage"
    assert prv8[6].value == 0.9 and prv8[6].number_format == "0.0%"
    prv10 = rows["PRV.10"]
    assert (prv10[2].value, prv10[3].value, prv10[4].value) == (40, 2, 20.0)
    assert prv10[5].value == "Low coverage (80 per person a year)"
    assert prv10[6].value == 300
    assert rows["OVERDOSE.reported"][4].value == 2
    assert rows["OVERDOSE.reversed"][4].value == 1

    overdoses = book["Overdoses"]
    last = [c.value for c in overdoses[2 + 8]]  # caption, header, then 8 quarters
    assert last == ["2025Q1", 2, 1, 2]
    cascades = {row[0].value: row for row in book["Cascades"].iter_rows() if row[0].value}
    assert cascades["Diagnosed"][1].value == 1
    definitions = [row[0].value for row in book["Definitions"].iter_rows(min_row=2)]
    assert "PRV.8" in definitions and "Definitions" in definitions


def first_rows(sheet: Any) -> dict[str, Any]:
    """The indicators table's rows by key (the table by group below it repeats keys)."""
    rows: dict[str, Any] = {}
    for row in sheet.iter_rows(min_row=3):
        if row[0].value and row[0].value not in rows:
            rows[row[0].value] = row
    return rows


# --- CSV --------------------------------------------------------------------------


def read_csv(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


def test_the_csv_matches_compute_row_by_row(programme: Programme) -> None:
    response = login(programme.everywhere).get(f"/dashboards/indicators.csv?period={PERIOD}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = read_csv(response.content)
    assert list(rows[0]) == [
        "period",
        "site",
        "key",
        "indicator",
        "dimension",
        "group",
        "numerator",
        "denominator",
        "value",
        "band",
        "band_figure",
        "target",
        "band_unit",
    ]
    expected = compute(PERIOD)["indicators"]
    whole = {row["key"]: row for row in rows if row["dimension"] == "all"}
    assert set(whole) == {key for key in expected if not key.endswith(".cascade")}
    for key, obj in expected.items():
        if key.endswith(".cascade"):
            steps = {r["group"]: r["value"] for r in rows if r["key"] == key}
            assert steps == {step: str(count) for step, count in obj.items()}
            continue
        row = whole[key]
        assert row["value"] == ("" if obj["value"] is None else str(obj["value"]))
        assert row["numerator"] == str(obj.get("numerator", ""))
        for dimension, groups in obj.get("by", {}).items():
            for group, cell in groups.items():
                [found] = [
                    r
                    for r in rows
                    if r["key"] == key and r["dimension"] == dimension and r["group"] == group
                ]
                assert (found["numerator"], found["denominator"]) == (
                    str(cell["numerator"]),
                    str(cell["denominator"]),
                )
    assert whole["PRV.8"]["band"] == "medium"
    assert (whole["PRV.8"]["band_figure"], whole["PRV.8"]["target"]) == ("60", "90")
    assert whole["PRV.8"]["band_unit"] == "%"
    assert whole["PRV.10"]["band"] == "medium"
    assert whole["PRV.10"]["band_figure"] == "186.67"
    assert whole["PRV.9"]["band"] == ""


def test_the_trend_and_stock_tables_download_as_csv(programme: Programme) -> None:
    http = login(programme.cast["me_officer"])
    trend = read_csv(
        http.get(f"/dashboards/indicators.csv?period={PERIOD}&site=NTH-01&table=trend").content
    )
    last = {row["key"]: row for row in trend if row["period"] == "2025Q1"}
    assert last["OVERDOSE.reported"]["value"] == "2"
    assert last["PRV.8"]["numerator"] == "2" and last["PRV.8"]["denominator"] == "4"
    assert {row["period"] for row in trend} >= {"2023Q2", "2024Q4", "2025Q1"}
    stock = http.get(f"/dashboards/indicators.csv?period={PERIOD}&site=NTH-01&table=stock")
    assert stock.status_code == 200
    assert stock.content.decode().splitlines()[0].startswith("day,site,item,on_hand")
    bad = http.get(f"/dashboards/indicators.csv?period={PERIOD}&site=NTH-01&table=clients")
    assert bad.status_code == 400
    assert "Table: choose one of indicators, trend, stock." in bad.content.decode()


def test_a_copy_for_sharing_suppresses_small_counts(programme: Programme) -> None:
    http = login(programme.cast["site_manager"])
    response = http.get(f"/dashboards/indicators.csv?period={PERIOD}&site=NTH-01&suppress=1")
    assert response["Content-Disposition"].endswith('-NTH-01-2025Q1-suppressed.csv"')
    whole = {r["key"]: r for r in read_csv(response.content) if r["dimension"] == "all"}
    # 2 of 4: both counts are small, and so is the value derived from them.
    assert (whole["PRV.8"]["numerator"], whole["PRV.8"]["denominator"]) == ("<5", "<5")
    assert whole["PRV.8"]["value"] == "*"
    assert whole["OVERDOSE.reported"]["value"] == "<5"
    assert whole["PRV.8"]["band"] == ""  # no figure, no band
    pdf = http.get(f"/dashboards/report.pdf?period={PERIOD}&site=NTH-01&suppress=1")
    assert "Small counts suppressed for sharing" in pdf_text(pdf.content)
    book = load_workbook(
        io.BytesIO(
            http.get(f"/dashboards/report.xlsx?period={PERIOD}&site=NTH-01&suppress=1").content
        )
    )
    rows = first_rows(book["Indicators"])
    assert rows["PRV.8"][2].value == "<5" and rows["PRV.8"][4].value == "*"


# --- access and audit -------------------------------------------------------------


def test_every_download_is_audited_without_client_data(programme: Programme) -> None:
    manager = programme.cast["site_manager"]
    http = login(manager)
    before = len(downloads())
    for path in ("report.pdf", "report.xlsx", "indicators.csv"):
        assert http.get(f"/dashboards/{path}?period={PERIOD}&site=NTH-01").status_code == 200
    http.get(f"/dashboards/indicators.csv?period={PERIOD}&site=NTH-01&table=trend&suppress=1")
    found = downloads()[before:]
    assert [event.detail["format"] for event in found] == ["pdf", "xlsx", "csv", "csv"]
    for event in found:
        assert event.actor == manager
        assert event.site == programme.cast.north
        assert event.object_type == "report" and event.object_id == "2025Q1:NTH-01"
        assert event.detail["period"] == "2025Q1" and event.detail["site"] == "NTH-01"
        assert programme.ana.code not in str(event.detail)
    assert found[-1].detail["table"] == "trend" and found[-1].detail["suppressed"] is True
    assert found[0].detail["suppressed"] is False
    programme_wide = login(programme.everywhere)
    programme_wide.get(f"/dashboards/report.pdf?period={PERIOD}")
    last = downloads()[-1]
    assert last.detail["site"] is None and last.object_id == "2025Q1:programme"


def test_files_keep_to_the_user_s_sites(programme: Programme) -> None:
    http = login(programme.cast["site_manager"])
    before = len(downloads())
    assert http.get(f"/dashboards/report.pdf?period={PERIOD}&site=STH-01").status_code == 403
    assert http.get(f"/dashboards/report.xlsx?period={PERIOD}").status_code == 403
    assert http.get(f"/dashboards/indicators.csv?period={PERIOD}&site=XX-99").status_code == 404
    assert len(downloads()) == before  # nothing was handed out, nothing recorded


def test_a_bad_period_is_a_clear_error_naming_the_field(programme: Programme) -> None:
    http = login(programme.cast["site_manager"])
    response = http.get("/dashboards/report.pdf?period=25Q1&site=NTH-01")
    assert response.status_code == 400
    assert "Period: &#x27;25Q1&#x27; is not a period (unknown form)" in response.content.decode()
