"""Pupils: added one at a time or by CSV, exported and erased per school, and swept away a
trust-set number of years after their last group ends."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update

from lms.audit import services as audit
from lms.organisations.models import School
from lms.platform import clock, uploads
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.validation import required
from lms.tutoring.models import (
    YEAR_GROUPS,
    GroupPupil,
    Pupil,
    TutoringGroup,
    TutoringPolicy,
)

CSV_COLUMNS = ["display_name", "reference", "year_group", "disadvantaged", "send", "eal"]
NEEDED_COLUMNS = ("display_name", "reference", "year_group")
MAX_PUPIL_ROWS = 2000
#: A reference is the school's own: letters, digits and a few separators.
REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._/-]{0,39}")
#: Nine characters after a letter, like a UPN or a former UPN: refused so nobody stores one.
LOOKS_LIKE_UPN = re.compile(r"[A-Za-z][0-9]{11}[0-9A-Za-z]")
_YES = {"yes", "y", "true", "1", "x"}
_NO = {"no", "n", "false", "0", ""}


@dataclass(frozen=True)
class PupilDetails:
    display_name: str
    reference: str
    year_group: int
    disadvantaged: bool = False
    send: bool = False
    eal: bool = False


def year_from(value: str | int | None) -> int:
    """A year group as schools write it: R, Reception, 5, Y5, Year 5."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = re.sub(r"\s+", " ", str(value or "").strip().lower())
        if text in ("r", "rec", "reception", "year r", "yr"):
            return 0
        match = re.fullmatch(r"(?:year |y|yr ?)?(\d{1,2})", text)
        if not match:
            raise DomainError("Enter the year group: R (Reception) or a number from 1 to 13",
                              field="year_group")
        number = int(match.group(1))
    if number not in YEAR_GROUPS:
        raise DomainError("Enter the year group: R (Reception) or a number from 1 to 13",
                          field="year_group")
    return number


def flag_from(value: str | bool | None, field: str, label: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise DomainError(f"{label} must be yes or no", field=field)


def details_from(*, display_name, reference, year_group, disadvantaged=False, send=False,
                 eal=False) -> PupilDetails:
    name = required(display_name, "display_name", "name the school uses for the pupil", 60)
    ref = required(reference, "reference", "school's pupil reference", 40)
    if LOOKS_LIKE_UPN.fullmatch(ref.replace(" ", "")):
        raise DomainError("That looks like a unique pupil number. Use the school's own "
                          "reference (an admission number, say): the platform never holds "
                          "UPNs", field="reference")
    if not REFERENCE.fullmatch(ref):
        raise DomainError("The reference may hold letters, digits, spaces and . _ / - only",
                          field="reference")
    return PupilDetails(name, ref, year_from(year_group),
                        flag_from(disadvantaged, "disadvantaged", "Disadvantaged"),
                        flag_from(send, "send", "SEND"), flag_from(eal, "eal", "EAL"))


def _references_in_use(school: School, references: set[str]) -> set[str]:
    if not references:
        return set()
    return set(db.session.scalars(select(Pupil.reference).where(
        Pupil.school_id == school.id, Pupil.erased_at.is_(None),
        Pupil.reference.in_(references))))


def add_pupil(school: School, details: PupilDetails, *, actor=None) -> Pupil:
    if _references_in_use(school, {details.reference}):
        raise DomainError(f"A pupil with reference {details.reference} is already recorded "
                          "at this school", field="reference")
    pupil = Pupil(school_id=school.id, created_by_id=getattr(actor, "id", None),
                  **details.__dict__)
    db.session.add(pupil)
    db.session.flush()
    # The log names the pupil by pseudonym only: an erased pupil leaves no name in it.
    audit.record("tutoring.pupil_added", pupil, actor=actor, trust_id=school.trust_id,
                 changes={"pseudonym": (None, pupil.pseudonym)})
    return pupil


def change_pupil(pupil: Pupil, details: PupilDetails, *, actor=None) -> Pupil:
    if pupil.erased_at is not None:
        raise DomainError("This pupil's record has been erased")
    if details.reference != pupil.reference and _references_in_use(pupil.school,
                                                                   {details.reference}):
        raise DomainError(f"A pupil with reference {details.reference} is already recorded "
                          "at this school", field="reference")
    changes = audit.diff(pupil, **details.__dict__)
    if changes:
        audit.record("tutoring.pupil_changed", pupil, actor=actor, trust_id=pupil.school.trust_id,
                     changes={k: ("…", "…") if k in ("display_name", "reference") else v
                              for k, v in changes.items()})
    return pupil


# --- CSV ----------------------------------------------------------------------------------


def csv_template() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerow(["A.B.", "ADM1042", "5", "yes", "no", "no"])
    writer.writerow(["Sam K", "ADM1107", "R", "no", "yes", "yes"])
    return out.getvalue()


@dataclass
class PupilImport:
    added: list[Pupil]
    #: ``{"line": n, "reason": "..."}`` for every row that could not be taken.
    errors: list[dict]
    rows: int


def import_pupils(school: School, raw: bytes, *, actor=None) -> PupilImport:
    """Check every row; add them all, or (if any row is wrong) none, with every row's
    problem reported at once."""
    content = uploads.decode_upload(raw)
    rows = list(uploads.read_rows(content, CSV_COLUMNS, NEEDED_COLUMNS))
    if not rows:
        raise DomainError("The file has no pupils in it: every line under the first is "
                          "empty.", field="file")
    if len(rows) > MAX_PUPIL_ROWS:
        raise DomainError(f"The file has {len(rows):,} pupils. Upload at most "
                          f"{MAX_PUPIL_ROWS:,} at a time.", field="file")
    good: list[tuple[int, PupilDetails]] = []
    errors: list[dict] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        try:
            details = details_from(**{c: row.get(c, "") for c in CSV_COLUMNS})
        except DomainError as error:
            errors.append({"line": line, "reason": error.message})
            continue
        if details.reference in seen:
            errors.append({"line": line, "reason": f"Reference {details.reference} is also on "
                                                   f"line {seen[details.reference]}"})
            continue
        seen[details.reference] = line
        good.append((line, details))
    taken = _references_in_use(school, set(seen))
    errors += [{"line": line, "reason": f"A pupil with reference {d.reference} is already "
                                        "recorded at this school"}
               for line, d in good if d.reference in taken]
    errors.sort(key=lambda e: e["line"])
    if errors:
        return PupilImport([], errors, len(rows))
    added = [add_pupil(school, details, actor=actor) for _, details in good]
    return PupilImport(added, [], len(rows))


# --- a subject access request, erasure and the retention sweep -----------------------------


def school_pupils(school: School) -> list[Pupil]:
    return list(db.session.scalars(select(Pupil).where(
        Pupil.school_id == school.id, Pupil.erased_at.is_(None)).order_by(Pupil.display_name)))


EXPORT_COLUMNS = ["pupil_reference", "name", "year_group", "disadvantaged", "send", "eal",
                  "pseudonym", "record", "group", "date", "detail", "value"]


def export_school_pupils(school: School, *, actor=None) -> str:
    """Everything held about the school's pupils (a subject access request): each record,
    each group place with its progress, each session's attendance. Audited."""
    from lms.tutoring.models import SessionAttendance, TutoringSession

    people = {p.id: p for p in school_pupils(school)}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)

    def row(pupil: Pupil, record: str, group: str = "", day="", detail: str = "", value=""):
        writer.writerow([pupil.reference, pupil.display_name, pupil.year_label,
                         "yes" if pupil.disadvantaged else "no", "yes" if pupil.send else "no",
                         "yes" if pupil.eal else "no", pupil.pseudonym, record, group,
                         day or "", detail, "" if value is None else value])

    for pupil in people.values():
        row(pupil, "pupil", day=pupil.created_at.date(), detail="added")
    places = db.session.execute(
        select(GroupPupil, TutoringGroup.name).join(TutoringGroup,
                                                    TutoringGroup.id == GroupPupil.group_id)
        .where(GroupPupil.pupil_id.in_(list(people)))
        .order_by(GroupPupil.pupil_id, GroupPupil.joined_on)) if people else []
    for place, name in places:
        pupil = people[place.pupil_id]
        row(pupil, "group place", name, place.joined_on, "joined")
        if place.left_on:
            row(pupil, "group place", name, place.left_on, "left")
        for label, value, day in (("baseline", place.baseline, place.baseline_on),
                                  ("target", place.target, None),
                                  ("current status", place.current, place.current_on)):
            if value is not None:
                row(pupil, "progress", name, day, label, f"{value:g}")
        if place.next_action:
            row(pupil, "progress", name, "", "next action", place.next_action)
    marks = db.session.execute(
        select(SessionAttendance, TutoringSession.held_on, TutoringGroup.name)
        .join(TutoringSession, TutoringSession.id == SessionAttendance.session_id)
        .join(TutoringGroup, TutoringGroup.id == TutoringSession.group_id)
        .where(SessionAttendance.pupil_id.in_(list(people)))
        .order_by(SessionAttendance.pupil_id, TutoringSession.held_on)) if people else []
    for mark, held_on, name in marks:
        detail = mark.status.value + (f" ({mark.absence_reason.value})"
                                      if mark.absence_reason else "")
        row(people[mark.pupil_id], "attendance", name, held_on, detail,
            f"{mark.minutes} min" + (f", engagement {mark.engagement}" if mark.engagement
                                     else ""))
    audit.record("tutoring.pupils_exported", school, actor=actor, trust_id=school.trust_id,
                 changes={"pupils": (None, len(people))})
    return out.getvalue()


def _erase(pupils: list[Pupil], *, actor, reason: str, action: str) -> int:
    """Clear what identifies each pupil (name, reference, next actions) and keep the anonymous
    row: attendance, hours and progress still count in every total."""
    if not pupils:
        return 0
    now = clock.now()
    ids = [p.id for p in pupils]
    for pupil in pupils:
        pupil.display_name = "Erased pupil"
        pupil.reference = f"erased-{pupil.id}"
        pupil.erased_at = now
    db.session.execute(update(GroupPupil).where(GroupPupil.pupil_id.in_(ids))
                       .values(next_action=""))
    db.session.flush()
    audit.record_each(action, [
        (audit.Ref("Pupil", p.id, p.school.trust_id), {"pseudonym": (p.pseudonym, p.pseudonym)},
         reason) for p in pupils], actor=actor)
    return len(pupils)


def erase_pupil(pupil: Pupil, *, reason: str, actor=None) -> Pupil:
    if pupil.erased_at is not None:
        raise DomainError("This pupil's record has already been erased")
    _erase([pupil], actor=actor, reason=required(reason, "reason", "reason", 1000),
           action="tutoring.pupil_erased")
    return pupil


def erase_school_pupils(school: School, *, reason: str, actor=None) -> int:
    return _erase(school_pupils(school), actor=actor,
                  reason=required(reason, "reason", "reason", 1000),
                  action="tutoring.pupil_erased")


def retention_years(trust_id: int) -> int:
    policy = db.session.scalar(select(TutoringPolicy).where(TutoringPolicy.trust_id == trust_id))
    return policy.pupil_retention_years if policy else 2


def set_retention_years(trust, years: int, *, actor=None) -> TutoringPolicy:
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= 25:
        raise DomainError("Keep pupil records for a whole number of years from 1 to 25",
                          field="pupil_retention_years")
    policy = db.session.scalar(select(TutoringPolicy).where(TutoringPolicy.trust_id == trust.id))
    if policy is None:
        policy = TutoringPolicy(trust_id=trust.id, scorecard_weights={})
        db.session.add(policy)
        db.session.flush()
    changes = audit.diff(policy, pupil_retention_years=years)
    if changes:
        policy.updated_by_id, policy.updated_at = getattr(actor, "id", None), clock.now()
        audit.record("tutoring.retention_set", policy, actor=actor, changes=changes,
                     trust_id=trust.id)
    return policy


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def sweep_expired_pupils(now: datetime | None = None) -> int:
    """Erase every pupil whose last group place ended more than their trust's retention
    period ago (pupils never placed count from when they were added). Audited per pupil."""
    today = clock.today(now)
    last_place = (select(GroupPupil.pupil_id,
                         func.max(func.coalesce(GroupPupil.left_on, TutoringGroup.ended_on))
                         .label("ended"),
                         func.count().filter(GroupPupil.left_on.is_(None)
                                             & TutoringGroup.ended_on.is_(None)).label("open"))
                  .join(TutoringGroup, TutoringGroup.id == GroupPupil.group_id)
                  .group_by(GroupPupil.pupil_id).subquery())
    rows = db.session.execute(
        select(Pupil, School.trust_id, last_place.c.ended, last_place.c.open)
        .join(School, School.id == Pupil.school_id)
        .outerjoin(last_place, last_place.c.pupil_id == Pupil.id)
        .where(Pupil.erased_at.is_(None))).all()
    years: dict[int, int] = {}
    expired = []
    for pupil, trust_id, ended, still_open in rows:
        if still_open:
            continue
        if trust_id not in years:
            years[trust_id] = retention_years(trust_id)
        since = ended or pupil.created_at.date()
        if since <= _years_before(today, years[trust_id]):
            expired.append(pupil)
    return _erase(expired, actor=None, reason="Retention period ended",
                  action="tutoring.pupil_swept")
