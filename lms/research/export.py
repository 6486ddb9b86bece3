"""Schools' consent for research use, and the pseudonymised research export.

One row per tutor, pupil and programme, for pupils at schools whose consent stands. Every id
is replaced by an HMAC-SHA256 pseudonym keyed with a random salt made for that export alone
and never stored, shown or logged, so two exports cannot be joined to each other or back to
the platform's ids. Nothing names or locates a person: no names, emails, pupil references,
URNs, school names, dates of birth or dates (time is in whole weeks between two events).
The aggregates count under ten as "<10". ``data_dictionary.md`` explains every column.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import case, func, select

from assessments.attempts.models import Attempt
from credentials.endorsements.models import Endorsement
from lms.accounts.models import User
from lms.audit import services as audit
from lms.organisations.models import School, Trust
from lms.organisations.policies import school_ids_for, trust_ids_for
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.platform.types import plain
from lms.research.models import ResearchConsent, ResearchExport
from lms.tutoring.models import (
    Attendance,
    GroupPupil,
    Programme,
    Pupil,
    SessionAttendance,
    SessionStatus,
    TutoringGroup,
    TutoringSession,
)

DICTIONARY_PATH = Path(__file__).with_name("data_dictionary.md")
#: Aggregate cells below this are shown as "<10".
SUPPRESS_BELOW = 10
SUPPRESSED = "<10"

COLUMNS = (
    "tutor_pseudonym", "pupil_pseudonym", "school_pseudonym", "trust_pseudonym",
    "programme_pseudonym", "delivery_model",
    "pathway", "phase", "summative_score_band", "attempts_needed",
    "weeks_endorsement_to_first_session", "library_units_completed",
    "latest_observation_mean", "pupil_year_group", "disadvantaged", "send", "eal",
    "sessions_offered", "sessions_attended", "attended_hours", "measure_scale",
    "progress_change", "at_or_above_target",
)

# --- who may do what ---------------------------------------------------------------------


def may_export(user: User, trust: Trust | None) -> bool:
    """Programme admins (any trust, or every trust); a trust's central team, its own."""
    if user.is_programme_admin:
        return True
    return trust is not None and trust.id in trust_ids_for(user, Role.CENTRAL_TEAM)


def may_record_consent(user: User, school: School) -> bool:
    """The school's leader, the trust's central team, programme admins."""
    return (user.is_programme_admin or school.id in school_ids_for(user, Role.SCHOOL_LEADER)
            or school.trust_id in trust_ids_for(user, Role.CENTRAL_TEAM))


# --- consent -----------------------------------------------------------------------------


def current_consent(school_id: int) -> ResearchConsent | None:
    return db.session.scalar(select(ResearchConsent).where(
        ResearchConsent.school_id == school_id, ResearchConsent.withdrawn_at.is_(None)))


def consenting_school_ids(trust_id: int | None = None) -> set[int]:
    query = (select(ResearchConsent.school_id).join(School, School.id == ResearchConsent.school_id)
             .where(ResearchConsent.withdrawn_at.is_(None)))
    if trust_id is not None:
        query = query.where(School.trust_id == trust_id)
    return set(db.session.scalars(query))


def record_consent(school: School, *, actor: User) -> ResearchConsent:
    if current_consent(school.id) is not None:
        raise DomainError(f"{school.name} has already recorded consent for research use")
    consent = ResearchConsent(school_id=school.id, recorded_by_id=actor.id,
                              recorded_at=clock.now())
    consent.school = school
    db.session.add(consent)
    db.session.flush()
    audit.record("research.consent_recorded", consent, actor=actor, trust_id=school.trust_id)
    return consent


def withdraw_consent(school: School, *, actor: User) -> ResearchConsent:
    consent = current_consent(school.id)
    if consent is None:
        raise DomainError(f"{school.name} has no consent for research use to withdraw")
    consent.withdrawn_at = clock.now()
    consent.withdrawn_by_id = actor.id
    audit.record("research.consent_withdrawn", consent, actor=actor, trust_id=school.trust_id)
    return consent


def consent_history(school_id: int) -> list[ResearchConsent]:
    return list(db.session.scalars(select(ResearchConsent).where(
        ResearchConsent.school_id == school_id).order_by(ResearchConsent.recorded_at.desc())))


# --- pseudonyms and bands -------------------------------------------------------------------


PREFIXES = {"tutor": "T", "pupil": "P", "school": "S", "trust": "R", "programme": "G"}


class Pseudonyms:
    """HMAC-SHA256 of each id under a salt made here and dropped with this object."""

    def __init__(self, salt: bytes | None = None):
        self._salt = salt if salt is not None else secrets.token_bytes(32)

    def __call__(self, kind: str, value: object) -> str:
        digest = hmac.new(self._salt, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
        return f"{PREFIXES[kind]}-{digest[:16]}"


def score_band(correct: int | None, total: int | None) -> str:
    """The summative score in ten-point bands, the lowest open (a pass may be below 70)."""
    if not total or correct is None:
        return ""
    percent = 100 * correct / total
    if percent >= 90:
        return "90-100%"
    if percent >= 80:
        return "80-89%"
    if percent >= 70:
        return "70-79%"
    return "below 70%"


# --- what other domains tell us -------------------------------------------------------------------


def library_units(tutor_ids: set[int]) -> dict[int, int]:
    """Library units each tutor completed (``lms.library.queries``), read when needed."""
    try:
        from lms.library.queries import completed_units_by_tutor
    except ImportError:
        return {}
    return completed_units_by_tutor(tutor_ids)


def observation_means(tutor_ids: set[int]) -> dict[int, float]:
    """Each tutor's latest observation mean (``lms.observations.queries``), read when needed."""
    try:
        from lms.observations.queries import mean_score_by_tutor
    except ImportError:
        return {}
    return mean_score_by_tutor(tutor_ids)


# --- the rows -----------------------------------------------------------------------------


@dataclass
class TutorFacts:
    pathway: str = "other"
    phase: str = ""
    score_band: str = ""
    attempts: int | None = None
    weeks_to_first_session: int | None = None
    units: int | None = None
    observation: float | None = None


def _tutor_facts(tutor_ids: set[int]) -> dict[int, TutorFacts]:
    facts = {tutor: TutorFacts() for tutor in tutor_ids}
    if not tutor_ids:
        return facts
    latest = (select(Endorsement.user_id, func.max(Endorsement.id).label("id"))
              .where(Endorsement.user_id.in_(tutor_ids)).group_by(Endorsement.user_id)
              .subquery())
    passed = (select(Attempt.enrolment_id, func.max(Attempt.number).label("number"),
                     func.max(Attempt.correct).label("correct"),
                     func.max(Attempt.total).label("total"))
              .where(Attempt.passed.is_(True)).group_by(Attempt.enrolment_id).subquery())
    first = dict(db.session.execute(
        select(TutoringSession.tutor_id, func.min(TutoringSession.held_on))
        .where(TutoringSession.tutor_id.in_(tutor_ids),
               TutoringSession.status == SessionStatus.DELIVERED)
        .group_by(TutoringSession.tutor_id)).all())
    for user_id, pathway, phase, issued_at, number, correct, total in db.session.execute(
            select(Endorsement.user_id, Endorsement.pathway, Endorsement.phase,
                   Endorsement.issued_at, passed.c.number, passed.c.correct, passed.c.total)
            .join(latest, latest.c.id == Endorsement.id)
            .outerjoin(passed, passed.c.enrolment_id == Endorsement.enrolment_id)):
        found = facts[user_id]
        found.pathway, found.phase = str(pathway), str(phase)
        found.score_band, found.attempts = score_band(correct, total), number
        if user_id in first:
            found.weeks_to_first_session = (first[user_id] - clock.today(issued_at)).days // 7
    for tutor, units in library_units(tutor_ids).items():
        if tutor in facts:
            facts[tutor].units = units
    for tutor, mean in observation_means(tutor_ids).items():
        if tutor in facts and mean is not None:
            facts[tutor].observation = round(float(mean), 1)
    return facts


def _scope(trust_id: int | None) -> list:
    schools = consenting_school_ids(trust_id)
    found = [TutoringGroup.school_id.in_(schools or {-1}), Pupil.erased_at.is_(None)]
    if trust_id is not None:
        found.append(TutoringGroup.trust_id == trust_id)
    return found


def research_rows(trust_id: int | None, pseudonym: Pseudonyms) -> list[list]:
    """The export's rows (``COLUMNS``), sorted by their pseudonyms so their order says
    nothing about when anyone joined."""
    scope = _scope(trust_id)
    came = case((SessionAttendance.status != Attendance.ABSENT, 1), else_=0)
    marks = {(t, p, k): plain((m, a, mins)) for t, p, k, m, a, mins in db.session.execute(
        select(TutoringGroup.tutor_id, SessionAttendance.pupil_id, TutoringGroup.programme_key,
               func.count(), func.sum(came), func.sum(SessionAttendance.minutes))
        .select_from(SessionAttendance)
        .join(TutoringSession, TutoringSession.id == SessionAttendance.session_id)
        .join(TutoringGroup, TutoringGroup.id == TutoringSession.group_id)
        .join(Pupil, Pupil.id == SessionAttendance.pupil_id)
        .where(*scope, TutoringSession.status == SessionStatus.DELIVERED)
        .group_by(TutoringGroup.tutor_id, SessionAttendance.pupil_id,
                  TutoringGroup.programme_key))}
    places: dict[tuple, tuple] = {}
    for row in db.session.execute(
            select(TutoringGroup.tutor_id, GroupPupil.pupil_id, TutoringGroup.programme_key,
                   TutoringGroup.school_id, TutoringGroup.trust_id, Programme.delivery_model,
                   Programme.measure_scale, Pupil.year_group, Pupil.disadvantaged, Pupil.send,
                   Pupil.eal, GroupPupil.baseline, GroupPupil.current, GroupPupil.target)
            .join(TutoringGroup, TutoringGroup.id == GroupPupil.group_id)
            .join(Programme, Programme.id == TutoringGroup.programme_id)
            .join(Pupil, Pupil.id == GroupPupil.pupil_id)
            .where(*scope).order_by(GroupPupil.id)):
        places[tuple(row[:3])] = tuple(row[3:])  # the latest place of each key wins
    facts = _tutor_facts({tutor for tutor, _, _ in places})
    rows = []
    for (tutor, pupil, key), (school, trust, model, scale, year, disadvantaged, send, eal,
                              baseline, current, target) in places.items():
        offered, attended, minutes = marks.get((tutor, pupil, key), (0, 0, 0))
        tutor_facts = facts[tutor]
        change = None if baseline is None or current is None else round(current - baseline, 1)
        reached = "" if target is None or current is None else (
            "yes" if current >= target else "no")
        rows.append([
            pseudonym("tutor", tutor), pseudonym("pupil", pupil), pseudonym("school", school),
            pseudonym("trust", trust), pseudonym("programme", key), str(model),
            tutor_facts.pathway, tutor_facts.phase, tutor_facts.score_band,
            tutor_facts.attempts, tutor_facts.weeks_to_first_session, tutor_facts.units,
            tutor_facts.observation, year, _yes_no(disadvantaged), _yes_no(send), _yes_no(eal),
            offered, attended or 0, round((minutes or 0) / 60, 1), str(scale), change,
            reached])
    rows.sort(key=lambda r: (r[0], r[1], r[4]))
    return rows


def _yes_no(value) -> str:
    return "yes" if value else "no"


# --- the aggregates ------------------------------------------------------------------------

AGGREGATE_HEADINGS = ("breakdown", "value", "tutors", "pupils", "sessions_offered",
                      "sessions_attended", "mean_attended_hours_per_pupil")
AGGREGATE_BY = {"pathway": 6, "phase": 7, "summative_score_band": 8, "delivery_model": 5,
                "pupil_year_group": 13, "disadvantaged": 14, "send": 15, "eal": 16}


def suppressed(count: int) -> int | str:
    return SUPPRESSED if 0 < count < SUPPRESS_BELOW else count


def aggregate_rows(rows: list[list]) -> list[list]:
    """Counts per breakdown of the rows; any count under ten, and any mean over fewer than
    ten pupils, shown as "<10"."""
    out = [["all", "all", *_aggregate(rows)]]
    for name, index in AGGREGATE_BY.items():
        groups: dict[str, list[list]] = defaultdict(list)
        for row in rows:
            groups[str(row[index]) if row[index] not in (None, "") else "unknown"].append(row)
        for value in sorted(groups):
            out.append([name, value, *_aggregate(groups[value])])
    return out


def _aggregate(rows: list[list]) -> list:
    tutors = len({r[0] for r in rows})
    pupils = len({r[1] for r in rows})
    hours: dict[str, float] = defaultdict(float)
    for r in rows:
        hours[r[1]] += r[19]
    mean = round(sum(hours.values()) / pupils, 1) if pupils else ""
    return [suppressed(tutors), suppressed(pupils), suppressed(sum(r[17] for r in rows)),
            suppressed(sum(r[18] for r in rows)),
            SUPPRESSED if 0 < pupils < SUPPRESS_BELOW else mean]


# --- taking an export ------------------------------------------------------------------------


@dataclass
class Export:
    headings: tuple[str, ...]
    rows: list[list]
    record: ResearchExport


def take_export(trust: Trust | None, *, actor: User, kind: str = "rows") -> Export:
    """Build an export (``rows`` or ``aggregates``) with a fresh salt, and record who took
    it, when, for which trust and how many rows (never the salt)."""
    if not may_export(actor, trust):
        raise DomainError("Only the trust's central team and programme admins may take a "
                          "research export")
    rows = research_rows(trust.id if trust else None, Pseudonyms())
    headings: tuple[str, ...] = COLUMNS
    if kind == "aggregates":
        rows, headings = aggregate_rows(rows), AGGREGATE_HEADINGS
    record = ResearchExport(trust_id=trust.id if trust else None, requested_by_id=actor.id,
                            requested_at=clock.now(), row_count=len(rows), kind=kind)
    db.session.add(record)
    db.session.flush()
    audit.record("research.exported", record, actor=actor,
                 trust_id=trust.id if trust else None,
                 changes={"row_count": (None, len(rows)), "kind": (None, kind)})
    return Export(headings, rows, record)


def data_dictionary() -> str:
    return DICTIONARY_PATH.read_text(encoding="utf-8")


def recent_exports(trust_id: int | None, limit: int = 10) -> list[ResearchExport]:
    query = select(ResearchExport).order_by(ResearchExport.requested_at.desc()).limit(limit)
    if trust_id is not None:
        query = query.where(ResearchExport.trust_id == trust_id)
    return list(db.session.scalars(query))


def may_export_somewhere(user: User) -> bool:
    return user.is_programme_admin or bool(trust_ids_for(user, Role.CENTRAL_TEAM))


def consent_school_ids_for(trust: Trust | None) -> set[int]:
    return consenting_school_ids(trust.id if trust else None)
