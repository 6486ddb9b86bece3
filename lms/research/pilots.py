"""Pilots: a programme (or some of its schools) against a comparison group, set by the trust's
central team, and the side-by-side at the end.

The outcome measures are the tutoring figures' (``lms.tutoring.figures``): attendance is
present and late marks over every mark of delivered sessions; attended hours are minutes
present or late per pupil with a mark; progress is current minus baseline over places open
in the period with both; the share at or above target is over places with a target. The
headline value of each side is the figures' own; the intervals come from the same marks and
places taken pupil by pupil (or place by place).

Intervals (95%): a t-interval over pupils for the means (attended hours, progress), and for
attendance the same over pupils for a ratio of marks (each pupil's deviation from the pooled
rate, the linearised standard error); a Wilson score interval for the share at target. The
difference uses Welch's t-interval for means and Newcombe's method (from the two Wilson
intervals) for shares.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from statistics import NormalDist

from sqlalchemy import case, func, select

from lms.audit import services as audit
from lms.organisations.models import School, Trust
from lms.organisations.policies import trust_ids_for
from lms.platform import clock
from lms.platform.authz import Action, policy
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.platform.types import plain
from lms.platform.validation import required
from lms.research.models import ComparisonKind, OutcomeMeasure, Pilot
from lms.tutoring.figures import Coverage, Period, tutoring_figures
from lms.tutoring.models import (
    Attendance,
    GroupPupil,
    Programme,
    SessionAttendance,
    SessionStatus,
    TutoringGroup,
    TutoringSession,
)

#: The trust playbook's advice, quoted on every pilot page.
PLAYBOOK_ADVICE = (
    "Every trust should pilot tutoring in a small number of schools before scaling. The "
    "pilot should test attendance, engagement, safeguarding workflows, reporting quality, "
    "and progress metrics, not just pupil satisfaction. It should also compare at least two "
    "delivery models if feasible, so the trust can see which format works best for "
    "different groups.")
PLAYBOOK_SOURCE = "How Multi-Site Trusts (MATs) Can Scale Tutoring Programs Without Losing Quality"
CAUSE_WARNING = (
    "This is a comparison, not proof that the pilot caused the difference: the pupils, "
    "schools and tutors in each group may differ in ways the figures do not show.")
RANDOM_NOTE = (
    "Allocation to pilot and comparison was random, so a difference larger than its interval "
    "is good evidence of the pilot's effect (if the allocation was kept to).")

# --- statistics ------------------------------------------------------------------------------

#: Student's t, 97.5th percentile, for 1 to 30 degrees of freedom.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042)
Z975 = NormalDist().inv_cdf(0.975)


def t_quantile(df: float) -> float:
    """The two-sided 95% critical value of Student's t (fractional df rounded down, which
    widens the interval a little)."""
    whole = max(1, math.floor(df))
    if whole <= len(_T975):
        return _T975[whole - 1]
    z = Z975  # Cornish-Fisher expansion: within 0.001 from 30 degrees of freedom on
    return (z + (z ** 3 + z) / (4 * whole) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * whole ** 2)
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * whole ** 3))


@dataclass(frozen=True)
class Estimate:
    """A figure with its 95% interval and the standard error behind it (``None`` when fewer
    than two pupils give no interval)."""

    value: float | None
    n: int
    low: float | None = None
    high: float | None = None
    se: float | None = None
    method: str = ""


def mean_interval(values: list[float], scale: float = 1.0) -> Estimate:
    n = len(values)
    if not n:
        return Estimate(None, 0, method="t-interval over pupils")
    mean = sum(values) / n
    if n < 2:
        return Estimate(mean * scale, n, method="t-interval over pupils")
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    se = sd / math.sqrt(n)
    half = t_quantile(n - 1) * se
    return Estimate(mean * scale, n, (mean - half) * scale, (mean + half) * scale, se * scale,
                    "t-interval over pupils")


def ratio_interval(parts: list[float], wholes: list[float], scale: float = 1.0) -> Estimate:
    """A pooled rate (sum of parts over sum of wholes) with a t-interval over pupils from the
    linearised (ratio estimator) standard error."""
    n = len(parts)
    total = sum(wholes)
    method = "t-interval over pupils (ratio of marks)"
    if not n or not total:
        return Estimate(None, n, method=method)
    rate = sum(parts) / total
    if n < 2:
        return Estimate(rate * scale, n, method=method)
    mean_whole = total / n
    residuals = sum((a - rate * m) ** 2 for a, m in zip(parts, wholes, strict=True))
    se = math.sqrt(residuals / (n * (n - 1))) / mean_whole
    half = t_quantile(n - 1) * se
    return Estimate(rate * scale, n, (rate - half) * scale, (rate + half) * scale, se * scale,
                    method)


def wilson_interval(successes: int, n: int, scale: float = 100.0) -> Estimate:
    method = "Wilson score interval"
    if not n:
        return Estimate(None, 0, method=method)
    p = successes / n
    z = Z975
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Estimate(p * scale, n, (centre - half) * scale, (centre + half) * scale,
                    math.sqrt(p * (1 - p) / n) * scale, method)


def difference(a: Estimate, b: Estimate, share: bool = False) -> Estimate:
    """``a`` minus ``b``: Welch's t-interval for means, Newcombe's hybrid score interval for
    shares."""
    if a.value is None or b.value is None:
        return Estimate(None, 0)
    value = a.value - b.value
    if share:
        if None in (a.low, a.high, b.low, b.high):
            return Estimate(value, 0, method="Newcombe (from the Wilson intervals)")
        return Estimate(value, 0, value - math.hypot(a.value - a.low, b.high - b.value),
                        value + math.hypot(a.high - a.value, b.value - b.low),
                        method="Newcombe (from the Wilson intervals)")
    if a.se is None or b.se is None or a.n < 2 or b.n < 2:
        return Estimate(value, 0, method="Welch t-interval")
    variance = a.se ** 2 + b.se ** 2
    if variance == 0:
        return Estimate(value, 0, value, value, 0.0, "Welch t-interval")
    df = variance ** 2 / (a.se ** 4 / (a.n - 1) + b.se ** 4 / (b.n - 1))
    half = t_quantile(df) * math.sqrt(variance)
    return Estimate(value, 0, value - half, value + half, math.sqrt(variance),
                    "Welch t-interval")


# --- creating and changing pilots ---------------------------------------------------------------


@dataclass
class PilotTerms:
    name: str
    programme_key: str
    comparison_kind: str
    starts_on: date | None
    ends_on: date | None
    outcome: str
    school_ids: list[int] = field(default_factory=list)
    comparison_programme_key: str | None = None
    comparison_school_ids: list[int] = field(default_factory=list)
    random_allocation: bool = False
    notes: str = ""


def trust_programmes(trust_id: int) -> dict[str, Programme]:
    """The trust's programmes by key (their current versions)."""
    return {p.key: p for p in db.session.scalars(
        select(Programme).where(Programme.trust_id == trust_id,
                                Programme.superseded_at.is_(None)).order_by(Programme.name))}


def _own_schools(trust: Trust, ids, field_name: str, what: str) -> list[int]:
    wanted = sorted({int(i) for i in ids or ()})
    if not wanted:
        return []
    found = set(db.session.scalars(select(School.id).where(School.id.in_(wanted),
                                                           School.trust_id == trust.id)))
    if set(wanted) - found:
        raise DomainError(f"Choose {what} from this trust's own schools", field=field_name)
    return wanted


def _school_names(ids) -> str:
    return ", ".join(db.session.scalars(select(School.name).where(School.id.in_(ids))
                                        .order_by(School.name)))


def _checked(trust: Trust, terms: PilotTerms) -> dict:
    programmes = trust_programmes(trust.id)
    name = required(terms.name, "name", "pilot name", 120)
    if terms.programme_key not in programmes:
        raise DomainError("Choose the programme being piloted from this trust's programmes",
                          field="programme_key")
    try:
        kind = ComparisonKind(terms.comparison_kind)
    except ValueError:
        raise DomainError("Choose what the pilot is compared with",
                          field="comparison_kind") from None
    try:
        outcome = OutcomeMeasure(terms.outcome)
    except ValueError:
        raise DomainError("Choose the outcome measure", field="outcome") from None
    if terms.starts_on is None:
        raise DomainError("Enter the pilot's start date", field="starts_on")
    if terms.ends_on is None:
        raise DomainError("Enter the pilot's end date", field="ends_on")
    if terms.ends_on <= terms.starts_on:
        raise DomainError("The end date must be after the start date", field="ends_on")
    schools = _own_schools(trust, terms.school_ids, "school_ids", "the pilot schools")
    comparison = _own_schools(trust, terms.comparison_school_ids, "comparison_school_ids",
                              "the comparison schools")
    comparison_key = None
    if kind == ComparisonKind.PROGRAMME:
        comparison_key = terms.comparison_programme_key or None
        if comparison_key is None:
            raise DomainError("Choose the programme to compare with",
                              field="comparison_programme_key")
        if comparison_key not in programmes:
            raise DomainError("Choose the comparison programme from this trust's programmes",
                              field="comparison_programme_key")
        if comparison_key == terms.programme_key:
            raise DomainError("The comparison must be a different programme from the "
                              "pilot's", field="comparison_programme_key")
    else:
        if not comparison:
            raise DomainError("Choose at least one comparison school",
                              field="comparison_school_ids")
        both = set(schools) & set(comparison)
        if both:
            raise DomainError("A school cannot be in both the pilot and the comparison "
                              f"group: {_school_names(both)}", field="comparison_school_ids")
        started = set(db.session.scalars(
            select(TutoringGroup.school_id).where(
                TutoringGroup.school_id.in_(comparison),
                TutoringGroup.programme_key == terms.programme_key,
                TutoringGroup.starts_on <= terms.ends_on)))
        if started:
            raise DomainError(f"{_school_names(started)} already run "
                              f"{programmes[terms.programme_key].name}: compare with schools "
                              "that have not started it", field="comparison_school_ids")
    return {"name": name, "programme_key": terms.programme_key, "school_ids": schools,
            "comparison_kind": kind, "comparison_programme_key": comparison_key,
            "comparison_school_ids": comparison, "starts_on": terms.starts_on,
            "ends_on": terms.ends_on, "outcome": outcome,
            "random_allocation": bool(terms.random_allocation),
            "notes": (terms.notes or "").strip()[:2000]}


def create_pilot(trust: Trust, terms: PilotTerms, *, actor=None) -> Pilot:
    values = _checked(trust, terms)
    pilot = Pilot(trust_id=trust.id, created_by_id=getattr(actor, "id", None), **values)
    db.session.add(pilot)
    db.session.flush()
    audit.record("research.pilot_created", pilot, actor=actor, trust_id=trust.id,
                 changes={k: (None, v) for k, v in values.items() if k != "notes"})
    return pilot


def change_pilot(pilot: Pilot, terms: PilotTerms, *, actor=None) -> Pilot:
    values = _checked(pilot.trust, terms)
    changes = audit.diff(pilot, **values)
    if changes:
        pilot.updated_at = clock.now()
        audit.record("research.pilot_changed", pilot, actor=actor, trust_id=pilot.trust_id,
                     changes={k: v for k, v in changes.items() if k != "notes"})
    return pilot


def trust_pilots(trust_id: int) -> list[Pilot]:
    return list(db.session.scalars(select(Pilot).where(Pilot.trust_id == trust_id)
                                   .order_by(Pilot.ends_on.desc(), Pilot.id.desc())))


# --- the side-by-side -----------------------------------------------------------------------


@dataclass
class Side:
    """One side of a pilot: who is in it, and the outcome with its interval."""

    title: str
    description: str
    pupils: int
    tutors: int
    estimate: Estimate
    #: The tutoring figures' own value for the side (the same definition).
    figure: float | None


@dataclass
class PilotResult:
    pilot: Pilot
    period: Period
    pilot_side: Side
    comparison: Side
    difference: Estimate
    method: str
    #: Why the two sides cannot be compared (different progress scales), if so.
    problem: str | None = None


def _cohort(pilot: Pilot, comparison: bool) -> list:
    """The conditions on ``TutoringGroup`` picking one side's groups."""
    found = [TutoringGroup.trust_id == pilot.trust_id]
    if not comparison:
        found.append(TutoringGroup.programme_key == pilot.programme_key)
        if pilot.school_ids:
            found.append(TutoringGroup.school_id.in_(pilot.school_ids))
    elif pilot.comparison_kind == ComparisonKind.PROGRAMME:
        found.append(TutoringGroup.programme_key == pilot.comparison_programme_key)
        if pilot.comparison_school_ids:
            found.append(TutoringGroup.school_id.in_(pilot.comparison_school_ids))
    else:
        found += [TutoringGroup.school_id.in_(pilot.comparison_school_ids or [-1]),
                  TutoringGroup.programme_key != pilot.programme_key]
    return found


def _marks(conditions: list, period: Period) -> list[tuple[int, int, int]]:
    """``(marks, attended, minutes)`` per pupil, from delivered sessions in the period."""
    came = case((SessionAttendance.status != Attendance.ABSENT, 1), else_=0)
    return [plain(r) for r in db.session.execute(
        select(func.count(), func.sum(came), func.sum(SessionAttendance.minutes))
        .select_from(SessionAttendance)
        .join(TutoringSession, TutoringSession.id == SessionAttendance.session_id)
        .join(TutoringGroup, TutoringGroup.id == TutoringSession.group_id)
        .where(*conditions, TutoringSession.status == SessionStatus.DELIVERED,
               TutoringSession.held_on.between(period.start, min(period.end, clock.today())))
        .group_by(SessionAttendance.pupil_id))]


def _places(conditions: list, period: Period) -> tuple[list, set[str]]:
    """``(change, target, current)`` per place open in the period with a baseline and a
    current status, and the scales they are measured on."""
    rows = db.session.execute(
        select(GroupPupil.current - GroupPupil.baseline, GroupPupil.target, GroupPupil.current,
               Programme.measure_scale)
        .join(TutoringGroup, TutoringGroup.id == GroupPupil.group_id)
        .join(Programme, Programme.id == TutoringGroup.programme_id)
        .where(*conditions, GroupPupil.joined_on <= period.end,
               (GroupPupil.left_on.is_(None)) | (GroupPupil.left_on >= period.start),
               GroupPupil.baseline.is_not(None), GroupPupil.current.is_not(None))).all()
    return [r[:3] for r in rows], {str(r[3]) for r in rows}


def _tutors(conditions: list, period: Period) -> int:
    return db.session.scalar(
        select(func.count(func.distinct(TutoringGroup.tutor_id))).where(
            *conditions, TutoringGroup.starts_on <= period.end,
            (TutoringGroup.ended_on.is_(None)) | (TutoringGroup.ended_on >= period.start))) or 0


def _figure(pilot: Pilot, comparison: bool, period: Period) -> float | None:
    """The tutoring figures' value of the outcome for one side."""
    if not comparison or pilot.comparison_kind == ComparisonKind.PROGRAMME:
        key = pilot.comparison_programme_key if comparison else pilot.programme_key
        schools = pilot.comparison_school_ids if comparison else pilot.school_ids
        figures = tutoring_figures(Coverage("side", pilot.trust_id,
                                            frozenset(schools) if schools else None),
                                   period, weeks=False, splits=("programme",))
        row = figures.row("programme", key)
    else:
        row = tutoring_figures(Coverage("side", pilot.trust_id,
                                        frozenset(pilot.comparison_school_ids)),
                               period, weeks=False, splits=()).overall
    if row is None:
        return None
    return {OutcomeMeasure.ATTENDANCE: row.attendance_percent,
            OutcomeMeasure.HOURS: row.hours_per_pupil,
            OutcomeMeasure.PROGRESS: row.mean_progress,
            OutcomeMeasure.AT_TARGET: row.at_target_percent}[pilot.outcome]


def _side(pilot: Pilot, comparison: bool, period: Period) -> tuple[Side, set[str]]:
    conditions = _cohort(pilot, comparison)
    scales: set[str] = set()
    if pilot.outcome in (OutcomeMeasure.ATTENDANCE, OutcomeMeasure.HOURS):
        marks = _marks(conditions, period)
        if pilot.outcome == OutcomeMeasure.ATTENDANCE:
            estimate = ratio_interval([a for _, a, _ in marks], [m for m, _, _ in marks], 100)
        else:
            estimate = mean_interval([minutes / 60 for _, _, minutes in marks])
        pupils = len(marks)
    else:
        places, scales = _places(conditions, period)
        if pilot.outcome == OutcomeMeasure.PROGRESS:
            estimate = mean_interval([float(change) for change, _, _ in places])
            pupils = len(places)
        else:
            targeted = [(t, c) for _, t, c in places if t is not None]
            estimate = wilson_interval(sum(1 for t, c in targeted if c >= t), len(targeted))
            pupils = len(targeted)
    programmes = trust_programmes(pilot.trust_id)
    if comparison:
        if pilot.comparison_kind == ComparisonKind.PROGRAMME:
            found = programmes.get(pilot.comparison_programme_key)
            title = found.name if found else "Comparison programme"
            description = (f"{found.delivery_model.label}" if found else "") + (
                f" at {_school_names(pilot.comparison_school_ids)}"
                if pilot.comparison_school_ids else ", every school running it")
        else:
            title = "Comparison schools"
            description = (f"{_school_names(pilot.comparison_school_ids)}: their other "
                           "tutoring, not yet on the pilot's programme")
    else:
        found = programmes.get(pilot.programme_key)
        title = found.name if found else "Pilot programme"
        description = (f"{found.delivery_model.label}" if found else "") + (
            f" at {_school_names(pilot.school_ids)}" if pilot.school_ids
            else ", every school running it")
    return Side(title, description, pupils, _tutors(conditions, period), estimate,
                _figure(pilot, comparison, period)), scales


def pilot_result(pilot: Pilot) -> PilotResult:
    """The side-by-side over the pilot's period (to today, if it has not ended)."""
    period = Period(pilot.starts_on, pilot.ends_on)
    ours, our_scales = _side(pilot, False, period)
    theirs, their_scales = _side(pilot, True, period)
    problem = None
    share = pilot.outcome == OutcomeMeasure.AT_TARGET
    gap = difference(ours.estimate, theirs.estimate, share=share)
    if pilot.outcome == OutcomeMeasure.PROGRESS and len(our_scales | their_scales) > 1:
        problem = ("The two groups measure progress on different scales, so their progress "
                   "cannot be compared: choose attendance, hours or the share at target.")
        gap = Estimate(None, 0)
    return PilotResult(pilot, period, ours, theirs, gap,
                       ours.estimate.method or theirs.estimate.method, problem)


# --- who may see and run pilots -----------------------------------------------------------------


@policy(Pilot)
def _pilot(user, action: Action, pilot: Pilot) -> bool:
    """The trust's central team (programme admins through the platform's rule)."""
    return action in (Action.VIEW, Action.MANAGE) and pilot.trust_id in trust_ids_for(
        user, Role.CENTRAL_TEAM)
