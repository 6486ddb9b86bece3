"""Reading a CSV file people upload: its encoding, its rows, its name. Shared by every
import (nominations, pupils, provider session logs)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from lms.platform.errors import DomainError

MAX_IMPORT_COLUMNS = 100
SAVE_AS_CSV = ("Open it in your spreadsheet program, save it as \"CSV UTF-8 (comma "
               "delimited)\" and upload that file.")
#: How files people upload by mistake begin, and what they are.
_NOT_CSV = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip file"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls) or another Office file"),
    (b"%PDF", "a PDF"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
)
#: A character UTF-8 writes as several bytes: its presence means the file is UTF-8.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}"
                            rb"|[\xf0-\xf4][\x80-\xbf]{3}")


def decode_upload(raw: bytes) -> str:
    """The file's text: UTF-8 (with or without a byte order mark) or Windows-1252, as
    spreadsheet programs save CSV. Anything else is refused, saying what it is."""
    for signature, what in _NOT_CSV:
        if raw.startswith(signature):
            raise DomainError(f"This file is {what}, not a CSV file. {SAVE_AS_CSV}",
                              field="file")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw:
        raise DomainError("This file is not CSV text: it is saved as UTF-16 (\"Unicode text\") "
                          f"or is not a spreadsheet at all. {SAVE_AS_CSV}", field="file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if _UTF8_SEQUENCE.search(raw):  # UTF-8 with damage, not Windows-1252: no guessing
            line = raw.count(b"\n", 0, error.start) + 1
            raise DomainError(f"Line {line} has characters that are not UTF-8, though the rest "
                              f"of the file is. {SAVE_AS_CSV}", field="file") from error
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        raise DomainError(f"The file is not readable text. {SAVE_AS_CSV}",
                          field="file") from None


def _unreadable(line: int, error: csv.Error) -> DomainError:
    if "field larger than field limit" in str(error):
        reason = f"a cell is longer than {csv.field_size_limit():,} characters"
    else:
        reason = str(error)
    return DomainError(f"Line {line} cannot be read as CSV: {reason}. Check it is the right "
                       "file.", field="file")


def read_rows(content: str, columns: list[str], needed: tuple[str, ...]
              ) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line number, row)`` for each data row of a CSV file whose template has
    ``columns`` and must name ``needed``; the header is line 1. Empty rows are skipped."""
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as error:
        raise _unreadable(1, error) from error
    if len(header) > MAX_IMPORT_COLUMNS:
        raise DomainError(f"The file's first line has {len(header):,} columns. Use the "
                          f"template's {len(columns)} columns (at most "
                          f"{MAX_IMPORT_COLUMNS}).", field="file")
    missing = [c for c in needed if c not in header]
    if missing:
        raise DomainError(
            "The file's first line must name the columns; missing: " + ", ".join(missing)
            + ". Download the template to see them.", field="file")
    reader.fieldnames = header
    rows = iter(reader)
    while True:
        starts = reader.reader.line_num + 1  # a quoted cell may run over several lines
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as error:
            raise _unreadable(starts, error) from error
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        yield reader.line_num, {k: (v or "") for k, v in row.items() if k in columns}


def safe_filename(filename: str | None) -> str:
    """The uploaded file's name, to show (never used as a path): without any folders, only
    letters, digits, dots, dashes and spaces, and at most 100 characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[^\w. -]", "_", name).strip(" .") or "upload.csv"
    return name if len(name) <= 100 else name[:90] + "…" + name[-9:]


def read_upload(upload, max_bytes: int) -> bytes:
    """The bytes of a file chosen in an upload form, refusing none, too large or empty."""
    if upload is None or not getattr(upload, "filename", ""):
        raise DomainError("Choose a CSV file to upload", field="file")
    raw = upload.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise DomainError(f"The file is larger than {max_bytes // (1024 * 1024)} MB. Split it "
                          "and upload each part.", field="file")
    if not raw.strip():
        raise DomainError("The file is empty", field="file")
    return raw
