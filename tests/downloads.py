"""Read downloaded CSV and XLSX files back as rows, as a spreadsheet program would."""

from __future__ import annotations

import csv
import io

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_rows(response) -> list[list[str]]:
    """A CSV download's rows; it must be UTF-8 with a byte-order mark (for Excel)."""
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))


def xlsx_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == XLSX_MIMETYPE
    return workbook_rows(response.get_data())


def workbook_rows(data: bytes) -> list[list[str]]:
    """The first worksheet's rows, each padded to the heading row's width."""
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    rows = [[cell if cell is not None else "" for cell in row]
            for row in sheet.iter_rows(values_only=True)]
    width = len(rows[0])
    return [row + [""] * (width - len(row)) for row in rows]
