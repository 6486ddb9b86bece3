"""Providers' session logs, by API or CSV: the same rules as a tutor's log, an idempotency
key per session so a retried request or a re-uploaded file never counts twice."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.organisations.models import Provider
from lms.platform import uploads
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.tutoring import sessions
from lms.tutoring.clearance import cleared_pairs
from lms.tutoring.models import (
    Attendance,
    GroupPupil,
    GroupStatus,
    LogSource,
    TutoringGroup,
    TutoringSession,
)


class NotYourGroup(DomainError):
    """The group does not exist or another provider delivers it (answered as not found)."""


class KeyReused(DomainError):
    """The idempotency key was used before for a different session."""


@dataclass(frozen=True)
class Logged:
    session: TutoringSession
    created: bool

    @property
    def pupils_present(self) -> int:
        return sum(a.status != Attendance.ABSENT for a in self.session.attendance)


def provider_groups(provider: Provider) -> list[TutoringGroup]:
    return list(db.session.scalars(
        select(TutoringGroup).where(TutoringGroup.provider_id == provider.id,
                                    TutoringGroup.status == GroupStatus.ACTIVE)
        .options(selectinload(TutoringGroup.places).selectinload(GroupPupil.pupil),
                 selectinload(TutoringGroup.programme), selectinload(TutoringGroup.school),
                 selectinload(TutoringGroup.tutor))
        .order_by(TutoringGroup.id)))


def groups_listing(provider: Provider) -> list[dict]:
    groups = provider_groups(provider)
    cleared = cleared_pairs({g.trust_id for g in groups})
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    return [{"id": g.id, "name": g.name, "school": g.school.name, "school_urn": g.school.urn,
             "programme": g.programme.name, "tutor": g.tutor.name, "weekday": days[g.weekday],
             "starts_at": g.starts_at.strftime("%H:%M"),
             "session_minutes": g.programme.session_minutes,
             "tutor_cleared": (g.tutor_id, g.school_id) in cleared,
             "pupils": [{"pupil": p.pupil.pseudonym, "year_group": p.pupil.year_label}
                        for p in g.current_places]} for g in groups]


def _group(provider: Provider, group_id: int) -> TutoringGroup:
    group = db.session.get(TutoringGroup, group_id)
    if group is None or group.provider_id != provider.id:
        raise NotYourGroup(f"No group {group_id} is delivered by {provider.name}",
                           field="group_id")
    return group


def _log(group: TutoringGroup, data: dict) -> sessions.SessionLog:
    by_pseudonym = {p.pupil.pseudonym: p.pupil_id for p in sessions.pupils_on(
        group, data["held_on"])}
    marks = {}
    for mark in data.get("attendance") or []:
        pupil_id = by_pseudonym.get(mark["pupil"])
        if pupil_id is None:
            raise DomainError(f"Pupil {mark['pupil']} is not in group {group.id} on that day",
                              field="attendance")
        if pupil_id in marks:
            raise DomainError(f"Pupil {mark['pupil']} is marked twice", field="attendance")
        marks[pupil_id] = sessions.PupilMark(mark["status"], mark.get("absence_reason"),
                                             mark.get("engagement"))
    cover_id = None
    if data.get("cover_tutor_email"):
        cover_id = db.session.scalar(select(User.id).where(
            func.lower(User.email) == data["cover_tutor_email"].strip().lower()))
        if cover_id is None:
            raise DomainError("No account has that cover tutor's email; the cover tutor must "
                              "be on the register too", field="cover_tutor_email")
    return sessions.SessionLog(
        held_on=data["held_on"], status=data["status"],
        minutes_delivered=data.get("minutes_delivered"), cancel_reason=data.get("cancel_reason"),
        marks=marks, note=data.get("note") or "",
        late_start_minutes=data.get("late_start_minutes") or 0,
        notice_hours=data.get("notice_hours"), cover_tutor_id=cover_id)


def log_provider_session(provider: Provider, data: dict, *, idempotency_key: str,
                         source: LogSource = LogSource.PROVIDER_API) -> Logged:
    """Log one session a provider reports. The same key again returns the session already
    recorded; the same key for another group or day is refused."""
    existing = db.session.scalar(select(TutoringSession).where(
        TutoringSession.provider_id == provider.id,
        TutoringSession.idempotency_key == idempotency_key))
    if existing is not None:
        if (existing.group_id, existing.held_on) != (data["group_id"], data["held_on"]):
            raise KeyReused("This Idempotency-Key was already used for another session: "
                            "send a new key for each session", field="idempotency_key")
        return Logged(existing, False)
    group = _group(provider, data["group_id"])
    session = sessions.log_session(group, _log(group, data), actor=None, source=source,
                                   provider_id=provider.id, idempotency_key=idempotency_key)
    return Logged(session, True)


# --- CSV -----------------------------------------------------------------------------------

CSV_COLUMNS = ["group_id", "held_on", "status", "minutes_delivered", "cancel_reason",
               "notice_hours", "late_start_minutes", "cover_tutor_email", "note", "pupil",
               "attendance", "absence_reason", "engagement"]
NEEDED = ("group_id", "held_on", "status")
MAX_CSV_ROWS = 5000


def csv_template() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerow(["1042", "2026-12-01", "delivered", "60", "", "", "0", "",
                     "Place value", "P-1A2B3C4D", "present", "", "4"])
    writer.writerow(["1042", "2026-12-01", "delivered", "60", "", "", "0", "",
                     "Place value", "P-5E6F7A8B", "absent", "ill", ""])
    writer.writerow(["1043", "2026-12-01", "cancelled", "", "tutor_absent", "2", "", "", "",
                     "", "", "", ""])
    return out.getvalue()


def _whole(text: str, field: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise DomainError(f"{field} must be a whole number", field=field)
    return int(text)


@dataclass
class CsvResult:
    created: int
    already: int
    errors: list[dict]


def import_session_csv(provider: Provider, raw: bytes) -> CsvResult:
    """One row per pupil per session (the session's columns repeated), or one row for a
    cancelled session. Every session is checked; if any is wrong nothing is saved and every
    problem is listed. A session already logged from a file (the same group and day) is
    skipped, so uploading a file again counts nothing twice."""
    rows = list(uploads.read_rows(uploads.decode_upload(raw), CSV_COLUMNS, NEEDED))
    if not rows:
        raise DomainError("The file has no sessions in it: every line under the first is "
                          "empty.", field="file")
    if len(rows) > MAX_CSV_ROWS:
        raise DomainError(f"The file has {len(rows):,} rows. Upload at most "
                          f"{MAX_CSV_ROWS:,} at a time.", field="file")
    by_session: dict[tuple[str, str], list[tuple[int, dict]]] = defaultdict(list)
    for line, given in rows:
        row = {column: given.get(column) or "" for column in CSV_COLUMNS}
        by_session[(row["group_id"].strip(), row["held_on"].strip())].append((line, row))
    created = already = 0
    errors: list[dict] = []
    for (group_text, day_text), lines in by_session.items():
        first_line, first = lines[0]
        try:
            try:
                held_on = date.fromisoformat(day_text)
            except ValueError:
                raise DomainError("held_on must be a date like 2026-12-01") from None
            data = {"group_id": _whole(group_text, "group_id") or 0, "held_on": held_on,
                    "status": first["status"].strip().lower(),
                    "minutes_delivered": _whole(first["minutes_delivered"], "minutes_delivered"),
                    "cancel_reason": first["cancel_reason"].strip() or None,
                    "notice_hours": _whole(first["notice_hours"], "notice_hours"),
                    "late_start_minutes": _whole(first["late_start_minutes"],
                                                 "late_start_minutes") or 0,
                    "cover_tutor_email": first["cover_tutor_email"].strip() or None,
                    "note": first["note"].strip(),
                    "attendance": [{"pupil": row["pupil"].strip(),
                                    "status": row["attendance"].strip().lower(),
                                    "absence_reason": row["absence_reason"].strip() or None,
                                    "engagement": _whole(row["engagement"], "engagement")}
                                   for _, row in lines if row["pupil"].strip()]}
            with db.session.begin_nested():
                logged = log_provider_session(
                    provider, data, idempotency_key=f"csv:{data['group_id']}:{held_on}",
                    source=LogSource.PROVIDER_CSV)
            created += logged.created
            already += not logged.created
        except DomainError as error:
            where = f"lines {first_line}-{lines[-1][0]}" if len(lines) > 1 else \
                f"line {first_line}"
            errors.append({"line": first_line, "reason": f"{where}: {error.message}"})
    return CsvResult(created, already, sorted(errors, key=lambda e: e["line"]))
