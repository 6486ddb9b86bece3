"""The approved-tutor register as CSV and XLSX files (cells made inert for spreadsheets by
``lms.platform.spreadsheets``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import BinaryIO

from credentials.register.queries import (
    ExportRow,
    RegisterFilters,
    RegisterScope,
    export_rows,
    whole_register,
)
from lms.organisations.models import Trust
from lms.platform import clock
from lms.platform.spreadsheets import XLSX_TYPE, cell_text, csv_chunks, write_xlsx

HEADINGS = ["Name", "Email", "Status", "Reasons", "Since", "Schools", "Pathway", "Phase",
            "Subject", "Endorsement status", "Endorsement valid until", "DBS certificate",
            "DBS issued", "DBS due", "Safeguarding training completed",
            "Safeguarding training due"]
WIDTHS = [28, 28, 12, 40, 12, 30, 14, 10, 18, 14, 14, 16, 12, 12, 14, 14]


def cells(row: ExportRow) -> list[str]:
    """The row's cells, in the order of ``HEADINGS`` (the order of ExportRow's fields)."""
    return [cell_text(value) for value in row]


def _rows(trust: Trust, filters: Mapping | RegisterFilters | None,
          scope: RegisterScope | None) -> Iterator[ExportRow]:
    if not isinstance(filters, RegisterFilters):
        filters = RegisterFilters(**(filters or {}))
    return export_rows(scope or whole_register(trust), filters, clock.today())


def register_csv(trust: Trust, filters: Mapping | RegisterFilters | None = None,
                 scope: RegisterScope | None = None) -> Iterator[str]:
    """The register (as ``scope`` sees it, or whole) as CSV text, a chunk at a time."""
    return csv_chunks(HEADINGS, _rows(trust, filters, scope))


def register_xlsx(trust: Trust, filters: Mapping | RegisterFilters | None, out: BinaryIO,
                  scope: RegisterScope | None = None) -> None:
    """The register as an XLSX workbook, written to ``out``."""
    write_xlsx(out, sheet="Register", headings=HEADINGS, rows=_rows(trust, filters, scope),
               widths=WIDTHS, title=f"Approved-tutor register: {trust.name}")


__all__ = ["HEADINGS", "XLSX_TYPE", "cells", "register_csv", "register_xlsx"]
