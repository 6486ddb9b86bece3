"""Exports as spreadsheets: CSV, and XLSX written directly as Office Open XML.

One sheet of text cells with a bold, frozen heading row is all the platform's exports need, so
the workbook is streamed straight into its zip file (inline strings, no shared-string table):
a 20,000-row register is written in about a second, where a general library takes several.

Every cell is text, and text a spreadsheet would run as a formula (starting ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) gets a leading apostrophe: names and reasons are
typed by other people and must never run as formulas on the reader's computer.
"""

from __future__ import annotations

import csv
import enum
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import BinaryIO

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Characters XML 1.0 cannot carry at all (control characters other than tab and newlines).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def cell_text(value: object) -> str:
    """A value as the text of one cell, made inert for spreadsheets."""
    if type(value) is str:
        text = value
    elif value is None:
        text = ""
    elif isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M")
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, enum.Enum):
        text = getattr(value, "label", str(value.value))
    elif isinstance(value, list | tuple):
        text = "; ".join(str(item) for item in value)
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_chunks(headings: Sequence[str], rows: Iterable[Sequence[object]],
               batch: int = 500) -> Iterator[str]:
    """CSV a few hundred rows at a time (a large export is never one string), starting with a
    byte order mark so that spreadsheet programs read it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(headings)
    for count, row in enumerate(rows, start=1):
        writer.writerow([cell_text(value) for value in row])
        if count % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _xml(text: str) -> str:
    text = _NOT_XML.sub("", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "&#13;") if "\r" in text else text


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/docProps/core.xml" '
    'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    '</Types>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
    'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    '</Relationships>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/styles" Target="styles.xml"/>'
    '</Relationships>')
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')


def write_xlsx(out: BinaryIO, *, sheet: str, headings: Sequence[str],
               rows: Iterable[Sequence[object]], widths: Sequence[int] | None = None,
               title: str = "") -> None:
    """A one-sheet workbook of text cells under a bold, frozen heading row, streamed to
    ``out`` row by row (the rows are never all in memory)."""
    name = _xml(re.sub(r"[\[\]:*?/\\]", " ", sheet).strip()[:31]) or "Sheet1"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("docProps/core.xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
            'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<dc:title>{_xml(title or sheet)}</dc:title></cp:coreProperties>'))
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        archive.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as stream:
            _write_sheet(stream, headings, rows, widths)


def _write_sheet(stream, headings: Sequence[str], rows: Iterable[Sequence[object]],
                 widths: Sequence[int] | None) -> None:
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
        'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>']
    if widths:
        parts.append("<cols>" + "".join(
            f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>'
            for i, w in enumerate(widths)) + "</cols>")
    parts.append('<sheetData><row r="1">' + "".join(
        f'<c r="{_column(i)}1" t="inlineStr" s="1"><is><t>{_xml(h)}</t></is></c>'
        for i, h in enumerate(headings)) + "</row>")
    columns = [_column(i) for i in range(len(headings))]
    for number, row in enumerate(rows, start=2):
        cells = []
        for column, value in zip(columns, row, strict=False):
            text = cell_text(value)
            if text:
                cells.append(f'<c r="{column}{number}" t="inlineStr"><is><t xml:space="preserve">'
                             f"{_xml(text)}</t></is></c>")
        parts.append(f'<row r="{number}">{"".join(cells)}</row>')
        if len(parts) >= 500:
            stream.write("".join(parts).encode())
            parts.clear()
    parts.append("</sheetData></worksheet>")
    stream.write("".join(parts).encode())
