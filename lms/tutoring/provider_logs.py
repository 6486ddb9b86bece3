"""Providers' session logs, by API or CSV: the same rules as a tutor's log, and a key per
session so a retried request or a re-uploaded file never counts twice.

A provider names pupils by their pseudonyms only, so every message here does too (the
service's own messages name pupils, for the school's staff and the tutor).

The key a provider sends is stored as ``<digest of the key>.<digest of the session sent>``:
the same key with the same session finds what was recorded; the same key with anything
else is a conflict, never a silent second meaning."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.audit import services as audit
from lms.audit.models import AuditEntry
from lms.organisations.models import Provider
from lms.platform import uploads
from lms.platform.clock import LONDON
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.tutoring import sessions
from lms.tutoring.clearance import cleared_pairs
from lms.tutoring.models import (
    AbsenceReason,
    Attendance,
    GroupPupil,
    GroupStatus,
    LogSource,
    SessionStatus,
    TutoringGroup,
    TutoringSession,
)
from lms.tutoring.schemas import SessionRequestSchema

UPLOADED = "tutoring.provider_sessions_uploaded"
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


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
    """The provider's active groups, each pupil by pseudonym, and whether the register
    clears the tutor for the school now."""
    groups = provider_groups(provider)
    cleared = cleared_pairs({g.trust_id for g in groups})
    return [{"id": g.id, "name": g.name, "school": g.school.name, "school_urn": g.school.urn,
             "programme": g.programme.name, "tutor": g.tutor.name, "weekday": DAYS[g.weekday],
             "starts_at": g.starts_at.strftime("%H:%M"),
             "session_minutes": g.programme.session_minutes,
             "tutor_cleared": (g.tutor_id, g.school_id) in cleared,
             "pupils": [{"pupil": p.pupil.pseudonym, "year_group": p.pupil.year_label}
                        for p in g.current_places]} for g in groups]


# --- one session ---------------------------------------------------------------------------


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def fingerprint(data: dict) -> str:
    """What a session request says, whatever the order of its fields and pupils or which
    defaults it spelled out."""
    email = (data.get("cover_tutor_email") or "").strip().lower() or None
    canonical = {
        "group_id": data["group_id"], "held_on": data["held_on"].isoformat(),
        "status": data["status"], "cancel_reason": data.get("cancel_reason"),
        "notice_hours": data.get("notice_hours"),
        "minutes_delivered": data.get("minutes_delivered"),
        "late_start_minutes": data.get("late_start_minutes") or 0,
        "cover_tutor_email": email, "note": (data.get("note") or "").strip(),
        "attendance": sorted(({"pupil": m["pupil"], "status": m["status"],
                               "absence_reason": m.get("absence_reason"),
                               "engagement": m.get("engagement")}
                              for m in data.get("attendance") or []),
                             key=lambda m: (m["pupil"], m["status"]))}
    return _digest(json.dumps(canonical, sort_keys=True))


def recorded(provider: Provider, idempotency_key: str) -> TutoringSession | None:
    """The session the provider logged under this key, whatever it was sent with."""
    return db.session.scalar(select(TutoringSession).where(
        TutoringSession.provider_id == provider.id,
        TutoringSession.idempotency_key.startswith(f"{_digest(idempotency_key)}.")))


def _group(provider: Provider, group_id: int) -> TutoringGroup:
    group = db.session.get(TutoringGroup, group_id)
    if group is None or group.provider_id != provider.id:
        raise NotYourGroup(f"{provider.name} delivers no group {group_id}: GET /api/v1/groups "
                           "lists yours", field="group_id")
    return group


def _marks(group: TutoringGroup, data: dict) -> dict[int, sessions.PupilMark]:
    """Each pupil's mark, checked here so that every message names pupils by pseudonym."""
    on_day = {p.pupil.pseudonym: p.pupil_id for p in sessions.pupils_on(group, data["held_on"])}
    marks: dict[int, sessions.PupilMark] = {}
    problems = []
    for mark in data.get("attendance") or []:
        pupil = mark["pupil"]
        if pupil not in on_day:
            problems.append(f"{pupil} is not in group {group.id} on {data['held_on']}")
        elif on_day[pupil] in marks:
            problems.append(f"{pupil} is marked twice")
        elif mark["status"] not in set(Attendance):
            problems.append(f"Say whether {pupil} was present, late or absent")
        elif mark["status"] == Attendance.ABSENT and mark.get("absence_reason") \
                not in set(AbsenceReason):
            problems.append(f"Say why {pupil} was absent (absence_reason: "
                            + ", ".join(AbsenceReason) + ")")
        elif mark.get("engagement") is not None and mark["engagement"] not in range(1, 6):
            problems.append(f"Rate {pupil}'s engagement from 1 to 5, or leave it out")
        else:
            marks[on_day[pupil]] = sessions.PupilMark(mark["status"], mark.get("absence_reason"),
                                                      mark.get("engagement"))
    if data["status"] == SessionStatus.DELIVERED:
        unmarked = [p for p, pupil_id in on_day.items()
                    if pupil_id not in marks and not any(m["pupil"] == p
                                                         for m in data.get("attendance") or [])]
        if unmarked:
            problems.append("Mark every pupil in the group that day as present, late or "
                            "absent; not marked: " + ", ".join(unmarked))
    if problems:
        raise DomainError("; ".join(problems), field="attendance")
    return marks


def _cover_id(data: dict) -> int | None:
    if not data.get("cover_tutor_email"):
        return None
    cover_id = db.session.scalar(select(User.id).where(
        func.lower(User.email) == data["cover_tutor_email"].strip().lower()))
    if cover_id is None:
        raise DomainError("No account has that cover tutor's email; the cover tutor must be "
                          "on the school's register too", field="cover_tutor_email")
    return cover_id


#: The service's field names, as the API and the CSV file call them.
_FIELDS = {"marks": "attendance", None: "group_id"}


def _as_sent(error: DomainError, group: TutoringGroup, cover_id: int | None) -> DomainError:
    if error.field == "tutor":
        field = "cover_tutor_email" if cover_id and cover_id != group.tutor_id else "group_id"
    else:
        field = _FIELDS.get(error.field, error.field)
    message = error.message
    if field == "attendance":  # a mark the checks above let through: say so without names
        message = "Check each pupil's attendance, absence_reason and engagement"
    elif "change that one instead" in message:
        message = message.replace("change that one instead", "ask the school's tutoring lead "
                                  "to correct it if it is wrong")
    return DomainError(message, field=field)


def log_provider_session(provider: Provider, data: dict, *, idempotency_key: str,
                         source: LogSource = LogSource.PROVIDER_API,
                         actor: User | None = None) -> Logged:
    """Log one session a provider reports (``data`` as ``SessionRequestSchema`` loads it).

    The same key with the same session returns the session already recorded; the same key
    with a different session is refused (``KeyReused``). A group another provider delivers
    is ``NotYourGroup``; any other refusal is a ``DomainError`` naming the field sent.

    The same session sent twice at the same moment fails the second insert
    (``IntegrityError``): the caller rolls back and asks again, and is answered from the
    first."""
    key_digest, body_digest = _digest(idempotency_key), fingerprint(data)
    existing = recorded(provider, idempotency_key)
    if existing is not None:
        if existing.idempotency_key != f"{key_digest}.{body_digest}":
            raise KeyReused(
                f"This key was used on {existing.logged_at:%-d %B %Y} for a session with other "
                f"details (group {existing.group_id} on {existing.held_on}). Send a new key "
                "for each new session; to correct a logged session, ask the school's "
                "tutoring lead.", field="idempotency_key")
        return Logged(existing, False)
    group = _group(provider, data["group_id"])
    marks, cover_id = _marks(group, data), _cover_id(data)
    log = sessions.SessionLog(
        held_on=data["held_on"], status=data["status"],
        minutes_delivered=data.get("minutes_delivered"), cancel_reason=data.get("cancel_reason"),
        marks=marks, note=data.get("note") or "",
        late_start_minutes=data.get("late_start_minutes") or 0,
        notice_hours=data.get("notice_hours"), cover_tutor_id=cover_id)
    try:
        session = sessions.log_session(group, log, actor=actor, source=source,
                                       provider_id=provider.id,
                                       idempotency_key=f"{key_digest}.{body_digest}")
    except DomainError as error:  # raised before anything is staged
        raise _as_sent(error, group, cover_id) from None
    return Logged(session, True)


# --- CSV -----------------------------------------------------------------------------------

#: One row per pupil per session (the session's columns repeated on each), or one row for a
#: cancelled session with the pupil columns empty.
CSV_COLUMNS = ["group_id", "held_on", "status", "minutes_delivered", "late_start_minutes",
               "cancel_reason", "notice_hours", "cover_tutor_email", "note", "pupil",
               "attendance", "absence_reason", "engagement"]
SESSION_COLUMNS = CSV_COLUMNS[:CSV_COLUMNS.index("pupil")]
NEEDED = ("group_id", "held_on", "status")
INTEGERS = ("group_id", "minutes_delivered", "late_start_minutes", "notice_hours",
            "engagement")
MAX_CSV_ROWS = 5000


def csv_template() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerow(["1042", "2026-12-01", "delivered", "60", "0", "", "", "",
                     "Place value with counters", "P-1A2B3C4D", "present", "", "4"])
    writer.writerow(["1042", "2026-12-01", "delivered", "60", "0", "", "", "",
                     "Place value with counters", "P-5E6F7A8B", "late", "", "3"])
    writer.writerow(["1042", "2026-12-01", "delivered", "60", "0", "", "", "",
                     "Place value with counters", "P-9C0D1E2F", "absent", "ill", ""])
    writer.writerow(["1043", "2026-12-02", "cancelled", "", "", "tutor_absent", "2", "", "",
                     "", "", "", ""])
    return out.getvalue()


def _cell(row: dict, column: str):
    text = row[column].strip()
    if column in INTEGERS and text:
        if not text.isdigit() or len(text) > 9:
            raise DomainError(f"{column} must be a whole number (it is {text[:20]!r})")
        return int(text)
    if column in ("status", "attendance", "cancel_reason", "absence_reason"):
        return text.lower() or None
    return text or None


def _session_data(lines: list[tuple[int, dict]]) -> dict:
    """One session's rows as the API's request, checked by the same schema."""
    first = lines[0][1]
    for column in SESSION_COLUMNS:
        values = {row[column].strip() for _, row in lines}
        if len(values) > 1:
            raise DomainError(f"the session's rows differ in {column}: give every row of a "
                              "session the same session columns")
    body = {c: v for c in SESSION_COLUMNS if (v := _cell(first, c)) is not None}
    body["attendance"] = [
        {k: v for k, v in {"pupil": _cell(row, "pupil"), "status": _cell(row, "attendance"),
                           "absence_reason": _cell(row, "absence_reason"),
                           "engagement": _cell(row, "engagement")}.items() if v is not None}
        for _, row in lines if row["pupil"].strip()]
    try:
        return SessionRequestSchema().load(body)
    except ValidationError as error:
        pupil_lines = [line for line, row in lines if row["pupil"].strip()]
        raise DomainError("; ".join(_flat(error.normalized_messages(), pupil_lines))) from None


def _flat(messages: dict, pupil_lines: list[int]) -> list[str]:
    """Marshmallow's messages in words, a pupil's by the line they are on."""
    found = []
    for field, problems in messages.items():
        if field == "attendance" and isinstance(problems, dict):
            for index, inner in problems.items():
                where = f"line {pupil_lines[index]}" if isinstance(index, int) \
                    and index < len(pupil_lines) else "attendance"
                for name, texts in (inner.items() if isinstance(inner, dict) else
                                    [("attendance", inner)]):
                    column = "attendance" if name == "status" else name
                    found += [f"{where}, {column}: {t}" for t in texts]
        elif field == "_schema":
            found += list(problems)
        else:
            found += [f"{field}: {t}" for t in problems]
    return found


@dataclass
class CsvResult:
    created: int
    already: int
    errors: list[dict]
    filename: str = ""


def import_session_csv(provider: Provider, raw: bytes, *, actor: User | None = None,
                       filename: str = "") -> CsvResult:
    """Every session in the file is checked; if any is wrong, the caller saves nothing and
    shows every problem by line. A session logged from a file before, with the same details,
    is skipped, so uploading a file again counts nothing twice; one whose details changed
    since is a problem to fix (the school corrects a logged session)."""
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
    result = CsvResult(0, 0, [], uploads.safe_filename(filename) if filename else "")
    for (group_text, day_text), lines in by_session.items():
        where = f"Lines {lines[0][0]}-{lines[-1][0]}" if len(lines) > 1 else \
            f"Line {lines[0][0]}"
        try:
            data = _session_data(lines)
            logged = log_provider_session(
                provider, data, idempotency_key=f"csv:{data['group_id']}:{data['held_on']}",
                source=LogSource.PROVIDER_CSV, actor=actor)
        except KeyReused:
            message = ("this session was logged from an earlier file with other details. "
                       "Take it out of the file, or ask the school's tutoring lead to "
                       "correct the logged session")
            result.errors.append({"line": lines[0][0], "reason": f"{where}: {message}"})
        except DomainError as error:
            field = f"{error.field}: " if error.field and not error.message.startswith(
                error.field) else ""
            result.errors.append({"line": lines[0][0],
                                  "reason": f"{where} (group {group_text or '?'} on "
                                            f"{day_text or '?'}): {field}{error.message}"})
        else:
            result.created += logged.created
            result.already += not logged.created
    result.errors.sort(key=lambda e: e["line"])
    if not result.errors:
        audit.record(UPLOADED, provider, actor=actor, changes={
            "logged": (None, result.created), "already_logged": (None, result.already)})
    return result


# --- what the provider's page shows --------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    at: datetime
    by: str
    logged: int
    already: int


def recent_uploads(provider: Provider, limit: int = 10) -> list[Upload]:
    """The provider's last files that were saved, from the audit log (London time)."""
    rows = db.session.execute(
        select(AuditEntry, User.name).outerjoin(User, User.id == AuditEntry.actor_id)
        .where(AuditEntry.action == UPLOADED, AuditEntry.object_type == "Provider",
               AuditEntry.object_id == str(provider.id))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit))
    return [Upload(entry.created_at.astimezone(LONDON), name or "someone no longer here",
                   (entry.changes.get("logged") or [0, 0])[1],
                   (entry.changes.get("already_logged") or [0, 0])[1]) for entry, name in rows]


def recent_sessions(provider: Provider, limit: int = 20) -> list[TutoringSession]:
    """The sessions the provider logged most recently, by API or file."""
    return list(db.session.scalars(
        select(TutoringSession).where(TutoringSession.provider_id == provider.id,
                                      TutoringSession.source.in_([LogSource.PROVIDER_API,
                                                                  LogSource.PROVIDER_CSV]))
        .options(selectinload(TutoringSession.attendance), selectinload(TutoringSession.group))
        .order_by(TutoringSession.logged_at.desc(), TutoringSession.id.desc()).limit(limit)))

