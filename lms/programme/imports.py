"""Nominating by CSV: reading the upload, checking every row, importing in the background."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import func, select

from lms.accounts.models import User
from lms.audit import services as audit
from lms.organisations.models import School
from lms.platform import clock, uploads
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.jobs import enqueue_after_commit
from lms.programme.models import (
    ImportStatus,
    Nomination,
    NominationImport,
)
from lms.programme.nominations import (
    Candidate,
    candidate_from,
    emails_with_open_commitments,
    nominate_tutor,
)

#: The background task this module enqueues, by name (its module imports this one).
IMPORT_TASK = "lms.tasks.run_nomination_import"

CSV_COLUMNS = [
    "name",
    "email",
    "role_in_school",
    "holds_qts",
    "trn",
    "tutoring_phase",
    "subject_focus",
]


# --- CSV import ---------------------------------------------------------------------------


def csv_template() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerow(["Sam Patel", "sam.patel@school.example", "teaching assistant", "no", "",
                     "primary", "Reading"])
    writer.writerow(["Alex Kim", "alex.kim@school.example", "teacher", "yes", "1234567",
                     "secondary", "Maths"])
    return out.getvalue()


#: Rows one upload may hold (the form says so), and columns: the template has seven.
MAX_IMPORT_ROWS = 5000
MAX_IMPORT_COLUMNS = uploads.MAX_IMPORT_COLUMNS
SAVE_AS_CSV = uploads.SAVE_AS_CSV
decode_upload = uploads.decode_upload
safe_filename = uploads.safe_filename


def read_rows(content: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line number, row)`` for each nomination row; the header is line 1."""
    return uploads.read_rows(content, CSV_COLUMNS, ("name", "email", "tutoring_phase"))


def start_import(school: School, *, filename: str, raw: bytes, good_rows_only: bool,
                 actor: User | None) -> NominationImport:
    content = decode_upload(raw)
    rows = sum(1 for _ in read_rows(content))  # a file that cannot be read is refused now
    if rows == 0:
        raise DomainError("The file has no nominations in it: every line under the first is "
                          "empty.", field="file")
    if rows > MAX_IMPORT_ROWS:
        raise DomainError(f"The file has {rows:,} nominations. Upload at most "
                          f"{MAX_IMPORT_ROWS:,} at a time: split it and upload each part.",
                          field="file")
    nomination_import = NominationImport(
        school=school,
        uploaded_by_id=actor.id if actor else None,
        filename=safe_filename(filename),
        content=content,
        good_rows_only=good_rows_only,
    )
    db.session.add(nomination_import)
    db.session.flush()
    audit.record("nomination_import.started", nomination_import, actor=actor,
                 trust_id=school.trust_id)

    enqueue_after_commit(IMPORT_TASK, nomination_import.id)
    return nomination_import


def check_rows(
    content: str, *, exclude_import_id: int | None = None
) -> tuple[list[tuple[int, Candidate]], list[dict]]:
    """Validate every row; return the good candidates and a report of each bad row."""
    good: list[tuple[int, Candidate]] = []
    errors: list[dict] = []
    seen: dict[str, int] = {}
    for line, row in read_rows(content):
        try:
            candidate = candidate_from(
                name=row.get("name"), email=row.get("email"),
                role_in_school=row.get("role_in_school") or "other",
                holds_qts=row.get("holds_qts"), trn=row.get("trn"),
                tutoring_phase=row.get("tutoring_phase"), subject_focus=row.get("subject_focus"),
            )
        except DomainError as error:
            errors.append({"line": line, "reason": error.message})
            continue
        if candidate.email in seen:
            errors.append({"line": line, "reason":
                           f"{candidate.email} is also on line {seen[candidate.email]}"})
            continue
        seen[candidate.email] = line
        good.append((line, candidate))
    taken = emails_with_open_commitments((c.email for _, c in good),
                                         exclude_import_id=exclude_import_id)
    if taken:
        errors.extend({"line": line, "reason": f"{c.email} is already nominated or in training"}
                      for line, c in good if c.email in taken)
        good = [(line, c) for line, c in good if c.email not in taken]
    errors.sort(key=lambda e: e["line"])
    return good, errors


def import_good_rows_only(nomination_import: NominationImport, *, actor: User | None
                          ) -> NominationImport:
    """The leader has seen the report and chooses to import the valid rows without the rest."""
    if nomination_import.status != ImportStatus.INVALID:
        raise DomainError("Only a checked file with bad rows can be imported in part")
    changes = audit.diff(nomination_import, good_rows_only=True, status=ImportStatus.VALIDATING)
    audit.record("nomination_import.good_rows_only", nomination_import, actor=actor,
                 changes=changes, trust_id=nomination_import.school.trust_id)

    enqueue_after_commit(IMPORT_TASK, nomination_import.id)
    return nomination_import


def run_import(nomination_import: NominationImport, *, progress_every: int = 250,
               on_progress=None) -> NominationImport:
    """Validate, then import all rows, or the good ones only if the leader chose that."""
    if nomination_import.status in (ImportStatus.DONE, ImportStatus.INVALID):
        return nomination_import
    good, errors = check_rows(nomination_import.content,
                              exclude_import_id=nomination_import.id)
    nomination_import.total_rows = len(good) + len(errors)
    nomination_import.row_errors = errors
    if errors and not nomination_import.good_rows_only:
        nomination_import.status = ImportStatus.INVALID
        nomination_import.finished_at = clock.now()
        return nomination_import
    nomination_import.status = ImportStatus.IMPORTING
    nomination_import.processed_rows = len(errors)
    uploader = db.session.get(User, nomination_import.uploaded_by_id) \
        if nomination_import.uploaded_by_id else None
    already = set(db.session.scalars(select(Nomination.candidate_email).where(
        Nomination.import_id == nomination_import.id)))
    school = nomination_import.school
    for count, (_, candidate) in enumerate(good, start=1):
        if candidate.email not in already:
            nominate_tutor(school, candidate, actor=uploader, nomination_import=nomination_import,
                           checked=True)
        nomination_import.processed_rows += 1
        if on_progress and count % progress_every == 0:
            on_progress(nomination_import)
    nomination_import.imported_rows = db.session.scalar(
        select(func.count(Nomination.id)).where(Nomination.import_id == nomination_import.id))
    nomination_import.status = ImportStatus.DONE
    nomination_import.finished_at = clock.now()
    return nomination_import

