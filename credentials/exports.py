"""The approved-tutor register as CSV and XLSX files.

Every cell is text, and text a spreadsheet would run as a formula (starting ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) gets a leading apostrophe: a tutor's name is typed by
someone else and must never become a formula on the central team's computer.
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import BinaryIO

from credentials import register
from credentials.queries import (
    ExportRow,
    RegisterFilters,
    RegisterScope,
    export_rows,
    whole_register,
)
from lms.models import Trust

HEADINGS = ["Name", "Email", "Status", "Reasons", "Since", "Schools", "Pathway", "Phase",
            "Subject", "Endorsement status", "Endorsement valid until", "DBS certificate",
            "DBS issued", "DBS due", "Safeguarding training completed",
            "Safeguarding training due"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralised(value: object) -> str:
    """A cell's text, made inert for spreadsheets."""
    if type(value) is str:
        text = value
    elif value is None:
        text = ""
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, enum.Enum):
        text = getattr(value, "label", str(value.value))
    elif isinstance(value, list | tuple):
        text = "; ".join(str(item) for item in value)
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cells(row: ExportRow) -> list[str]:
    """The row's cells, in the order of ``HEADINGS`` (the order of ExportRow's fields)."""
    return [neutralised(value) for value in row]


def _rows(trust: Trust, filters: Mapping | RegisterFilters | None,
          scope: RegisterScope | None) -> Iterator[ExportRow]:
    if not isinstance(filters, RegisterFilters):
        filters = RegisterFilters(**(filters or {}))
    return export_rows(scope or whole_register(trust), filters, register.today())


def register_csv(trust: Trust, filters: Mapping | RegisterFilters | None = None,
                 scope: RegisterScope | None = None) -> Iterator[str]:
    """The register (as ``scope`` sees it, or whole) as CSV text, a chunk at a time."""
    return csv_chunks(_rows(trust, filters, scope))


def register_xlsx(trust: Trust, filters: Mapping | RegisterFilters | None, out: BinaryIO,
                  scope: RegisterScope | None = None) -> None:
    """The register as an XLSX workbook, written to ``out``."""
    write_xlsx(_rows(trust, filters, scope), out)


def csv_chunks(rows: Iterable[ExportRow], batch: int = 500) -> Iterator[str]:
    """The CSV a few hundred rows at a time, so a large register is never one string. It
    starts with a byte order mark so that spreadsheet programs read it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(HEADINGS)
    for count, row in enumerate(rows, start=1):
        writer.writerow(cells(row))
        if count % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(rows: Iterable[ExportRow], out: BinaryIO) -> None:
    """One worksheet, every cell written as a string, row by row (``constant_memory``: the
    workbook never holds the whole register). Empty cells are left out."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(out, {"constant_memory": True})
    sheet = workbook.add_worksheet("Register")
    bold = workbook.add_format({"bold": True})
    sheet.set_column(0, 1, 28)
    sheet.set_column(2, len(HEADINGS) - 1, 18)
    sheet.freeze_panes(1, 0)
    for column, heading in enumerate(HEADINGS):
        sheet.write_string(0, column, heading, bold)
    for number, row in enumerate(rows, start=1):
        for column, text in enumerate(cells(row)):
            if text:
                sheet.write_string(number, column, text)
    workbook.close()
