"""Spreadsheet exports: files that spreadsheet programs open, with nothing that runs."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date

from openpyxl import load_workbook

from lms.platform.spreadsheets import csv_chunks, write_xlsx


def _workbook(rows, **kwargs):
    out = io.BytesIO()
    write_xlsx(out, sheet=kwargs.pop("sheet", "Register"), headings=["Name", "Note", "Date"],
               rows=rows, **kwargs)
    return out.getvalue()


def test_a_workbook_opens_with_its_headings_bold_and_frozen_and_its_cells_as_text():
    data = _workbook([["Ada Lovelace", "Ünïcode & <tags> “quotes”", date(2026, 11, 24)],
                      ["Grace", None, ""]], widths=[20, 30, 12], title="A title")
    book = load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    assert sheet.title == "Register"
    assert [c.value for c in sheet[1]] == ["Name", "Note", "Date"]
    assert sheet["A1"].font.b and not sheet["A2"].font.b
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[2]] == ["Ada Lovelace", "Ünïcode & <tags> “quotes”",
                                           "2026-11-24"]
    assert sheet["A3"].value == "Grace" and sheet["B3"].value is None
    assert sheet.column_dimensions["B"].width == 30
    assert book.properties.title == "A title"


def test_nothing_in_a_cell_can_run_as_a_formula():
    attacks = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1:A2)",
               "\t=1", "\r=1"]
    sheet = load_workbook(io.BytesIO(_workbook([[a, a, a] for a in attacks]))).worksheets[0]
    for row, attack in zip(sheet.iter_rows(min_row=2, values_only=True), attacks, strict=True):
        assert row[0] == "'" + attack
    assert all(cell.data_type == "s" for row in sheet.iter_rows() for cell in row
               if cell.value is not None)
    text = "".join(csv_chunks(["A"], [[a] for a in attacks])).lstrip("\ufeff")
    read = [row[0] for row in csv.reader(io.StringIO(text, newline=""))][1:]
    assert read == ["'" + a for a in attacks]


def test_characters_xml_cannot_hold_are_dropped_and_sheet_names_are_made_legal():
    data = _workbook([["bell\x07 and nul\x00 gone", "ok", ""]], sheet="Trust: [North]/South?")
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet["A2"].value == "bell and nul gone"
    assert sheet.title == "Trust   North  South"


def test_a_large_export_streams_without_holding_every_row():
    def rows():
        for n in range(20_000):
            yield [f"Tutor {n}", "x" * 20, date(2026, 1, 1)]

    data = _workbook(rows())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    assert sum(1 for _ in sheet.iter_rows()) == 20_001


def test_csv_starts_with_a_byte_order_mark_and_comes_in_chunks():
    chunks = list(csv_chunks(["Name"], ([f"T{n}"] for n in range(1_200)), batch=500))
    assert chunks[0].startswith("\ufeffName") and len(chunks) == 3
