"""The training impact report: does training show in tutors' practice and in their pupils'
progress? Tutors (each by their latest endorsement) are put into groups by one grouping at a
time (pathway, summative score band, attempts needed, weeks since endorsement, library units
completed) and each group's tutors are compared on their observation score and their pupils'
attendance, dosage and progress against baseline.

Every measure is first worked out per tutor in SQL (``GROUP BY`` tutor), then the per-tutor
values are folded into groups here in one pass (per group and measure: tutors, sum and sum of
squares): a group's figure is the mean over its tutors, with a 95% t-interval over tutors
(``intervals``). So the report runs the same few statements whatever
the number of tutors, pupils or sessions. The measures keep tutoring's definitions
(``lms.tutoring.figures``): attendance is present and late over every mark of delivered
sessions; dosage the minutes attended per pupil on the tutor's registers; progress current
minus baseline on one programme scale, and the share of pupils with a target at or above it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import String, and_, case, cast, func, select

from assessments.attempts.models import Attempt
from credentials.endorsements.models import Endorsement
from lms.platform import clock
from lms.platform.extensions import db
from lms.programme.models import Pathway
from lms.research.intervals import Estimate, from_sums
from lms.tutoring import totals
from lms.tutoring.models import (
    Attendance,
    GroupPupil,
    MeasureScale,
    PlaceTermTotal,
    Programme,
    SessionAttendance,
    SessionStatus,
    TutoringGroup,
    TutoringSession,
)

# --- the groupings ---------------------------------------------------------------------------

NOT_KNOWN = "not_known"


def _score_band(score: float | None) -> str:
    if score is None:
        return NOT_KNOWN
    return ("under_60" if score < 60 else "60_69" if score < 70 else "70_79" if score < 80
            else "80_plus")


def _attempts(number: int | None) -> str:
    return NOT_KNOWN if number is None else "1" if number == 1 else "2" if number == 2 \
        else "3_plus"


#: Weeks since endorsement: the last whole week of each band, and the band.
WEEK_BANDS = ((6, "0_6"), (12, "7_12"), (26, "13_26"))
LAST_WEEK_BAND = "27_plus"


def _weeks_band(weeks: int) -> str:
    return next((band for last, band in WEEK_BANDS if weeks <= last), LAST_WEEK_BAND)


def _weeks_band_in_sql(issued_at, now: datetime):
    """The same bands worked out in the query: ``weeks <= last`` is ``issued within
    last + 1 weeks``, so no date arithmetic differs between databases."""
    return case(*((issued_at > now - timedelta(weeks=last + 1), band)
                  for last, band in WEEK_BANDS), else_=LAST_WEEK_BAND)


def _units_band(units: int) -> str:
    return "0" if units == 0 else "1_2" if units <= 2 else "3_plus"


@dataclass(frozen=True)
class Grouping:
    key: str
    label: str
    #: The groups in the order shown: key -> label.
    groups: dict[str, str]
    of: Callable[[TutorFacts], str]


GROUPINGS = {g.key: g for g in (
    Grouping("pathway", "Pathway", {p.value: p.short_label for p in Pathway},
             lambda t: t.pathway),
    Grouping("score_band", "Summative score (passing attempt)",
             {"under_60": "Under 60%", "60_69": "60–69%", "70_79": "70–79%",
              "80_plus": "80% or more", NOT_KNOWN: "Not known"},
             lambda t: _score_band(t.score)),
    Grouping("attempts", "Attempts needed to pass",
             {"1": "First attempt", "2": "Second attempt", "3_plus": "Three or more",
              NOT_KNOWN: "Not known"}, lambda t: _attempts(t.attempts)),
    Grouping("weeks", "Weeks since endorsement",
             {"0_6": "0–6 weeks", "7_12": "7–12 weeks", "13_26": "13–26 weeks",
              "27_plus": "27 weeks or more"}, lambda t: t.weeks_band),
    Grouping("units", "Library units completed",
             {"0": "None", "1_2": "1–2 units", "3_plus": "3 or more units"},
             lambda t: _units_band(t.units)),
)}
DEFAULT_GROUPING = "pathway"


class UnknownGrouping(ValueError):
    pass


# --- what is known of each tutor ---------------------------------------------------------------


@dataclass(slots=True)
class TutorFacts:
    """One tutor's training and the per-tutor measures (``None`` where there is nothing)."""

    user_id: int
    pathway: str
    score: float | None
    attempts: int | None
    weeks_band: str
    units: int = 0
    observation: float | None = None
    marks: int = 0
    attended: int = 0
    minutes: int = 0
    pupils: int = 0
    #: Per programme scale: (places measured, total change, pupils).
    progress: dict[str, tuple[int, float, int]] = field(default_factory=dict)
    with_target: int = 0
    at_target: int = 0

    @property
    def attendance_percent(self) -> float | None:
        return 100 * self.attended / self.marks if self.marks else None

    @property
    def hours_per_pupil(self) -> float | None:
        return self.minutes / 60 / self.pupils if self.pupils else None

    def mean_change(self, scale: str) -> float | None:
        measured, change, _ = self.progress.get(scale, (0, 0.0, 0))
        return change / measured if measured else None

    @property
    def at_target_percent(self) -> float | None:
        return 100 * self.at_target / self.with_target if self.with_target else None

    @property
    def measured_pupils(self) -> int:
        return sum(pupils for _, _, pupils in self.progress.values())


def observation_scores(tutor_ids: set[int] | None) -> dict[int, float]:
    """Each tutor's latest observation's mean score (1-4), from the observations package."""
    from lms.observations.queries import mean_score_by_tutor

    return mean_score_by_tutor(tutor_ids)


def units_completed(tutor_ids: set[int] | None) -> dict[int, int]:
    """How many library units each tutor has completed, from the library package."""
    from lms.library.queries import completed_units_by_tutor

    return completed_units_by_tutor(tutor_ids)


def _tutor_rows(trust_id: int | None, now: datetime) -> list:
    """Per tutor: the latest endorsement's pathway and weeks-since band, and the score and
    number of the attempt that passed it."""
    latest = select(Endorsement.user_id, func.max(Endorsement.id).label("id"))
    if trust_id is not None:
        latest = latest.where(Endorsement.trust_id == trust_id)
    latest = latest.group_by(Endorsement.user_id).subquery()
    passing = (select(Attempt.enrolment_id, func.min(Attempt.number).label("number"))
               .where(Attempt.passed.is_(True)).group_by(Attempt.enrolment_id).subquery())
    return db.session.execute(
        select(Endorsement.user_id, cast(Endorsement.pathway, String),
               _weeks_band_in_sql(Endorsement.issued_at, now),
               Attempt.number, Attempt.correct, Attempt.total)
        .join(latest, latest.c.id == Endorsement.id)
        .outerjoin(passing, passing.c.enrolment_id == Endorsement.enrolment_id)
        .outerjoin(Attempt, and_(Attempt.enrolment_id == passing.c.enrolment_id,
                                 Attempt.number == passing.c.number))).all()


def _attendance_rows(trust_id: int | None) -> list:
    """Per tutor (the group's, as tutoring's splits have it): marks, present or late, the
    minutes attended and the pupils on their registers. From the totals kept per pupil, group
    and term where the trust's (or every trust's) are built, else from the marks themselves;
    both give the same figures (``lms.tutoring.totals``)."""
    if totals.built(trust_id):
        query = (select(TutoringGroup.tutor_id, func.sum(PlaceTermTotal.marks),
                        func.sum(PlaceTermTotal.attended), func.sum(PlaceTermTotal.minutes),
                        func.count(func.distinct(PlaceTermTotal.pupil_id)))
                 .join(TutoringGroup, TutoringGroup.id == PlaceTermTotal.group_id)
                 .where(PlaceTermTotal.marks > 0))
        if trust_id is not None:
            query = query.where(PlaceTermTotal.trust_id == trust_id)
        return db.session.execute(query.group_by(TutoringGroup.tutor_id)).all()
    came = case((SessionAttendance.status != Attendance.ABSENT, 1), else_=0)
    query = (select(TutoringGroup.tutor_id, func.count(), func.sum(came),
                    func.sum(SessionAttendance.minutes),
                    func.count(func.distinct(SessionAttendance.pupil_id)))
             .select_from(TutoringSession)
             .join(SessionAttendance, SessionAttendance.session_id == TutoringSession.id)
             .join(TutoringGroup, TutoringGroup.id == TutoringSession.group_id)
             .where(TutoringSession.status == SessionStatus.DELIVERED))
    if trust_id is not None:
        query = query.where(TutoringSession.trust_id == trust_id)
    return db.session.execute(query.group_by(TutoringGroup.tutor_id)).all()


def _progress_rows(trust_id: int | None) -> list:
    """Per tutor (the group's) and programme scale: places with a baseline and a current
    status, their total change, those with a target and those at or above it, and pupils."""
    query = (select(TutoringGroup.tutor_id, cast(Programme.measure_scale, String), func.count(),
                    func.sum(GroupPupil.current - GroupPupil.baseline),
                    func.sum(case((GroupPupil.target.is_not(None), 1), else_=0)),
                    func.sum(case((GroupPupil.current >= GroupPupil.target, 1), else_=0)),
                    func.count(func.distinct(GroupPupil.pupil_id)))
             .join(TutoringGroup, TutoringGroup.id == GroupPupil.group_id)
             .join(Programme, Programme.id == TutoringGroup.programme_id)
             .where(GroupPupil.baseline.is_not(None), GroupPupil.current.is_not(None)))
    if trust_id is not None:
        query = query.where(TutoringGroup.trust_id == trust_id)
    return db.session.execute(
        query.group_by(TutoringGroup.tutor_id, Programme.measure_scale)).all()


def tutor_facts(trust_id: int | None) -> dict[int, TutorFacts]:
    """Every endorsed tutor of a trust (by the trust that endorsed them), or of every trust,
    with their measures: six statements, whatever the data's size. A trust's figures count
    only its own schools' tutoring."""
    now = clock.now()
    tutors: dict[int, TutorFacts] = {}
    for user_id, pathway, weeks, number, correct, total in _tutor_rows(trust_id, now):
        score = 100 * correct / total if number is not None and total and correct is not None \
            else None
        tutors[user_id] = TutorFacts(user_id, pathway, score, number, weeks)
    # PostgreSQL sums integers as ``numeric``: each is made an ``int`` (or ``float``) here.
    for tutor_id, marks, attended, minutes, pupils in _attendance_rows(trust_id):
        found = tutors.get(tutor_id)
        if found is not None:
            found.marks, found.attended = int(marks or 0), int(attended or 0)
            found.minutes, found.pupils = int(minutes or 0), int(pupils or 0)
    for tutor_id, scale, measured, change, with_target, at_target, pupils in \
            _progress_rows(trust_id):
        found = tutors.get(tutor_id)
        if found is not None and measured:
            found.progress[scale] = (int(measured), float(change or 0), int(pupils or 0))
            found.with_target += int(with_target or 0)
            found.at_target += int(at_target or 0)
    # Every tutor's, kept for those covered: one statement however many tutors a trust has.
    for tutor_id, score in observation_scores(None).items():
        if tutor_id in tutors and score is not None:
            tutors[tutor_id].observation = float(score)
    for tutor_id, units in units_completed(None).items():
        if tutor_id in tutors:
            tutors[tutor_id].units = int(units or 0)
    return tutors


# --- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    unit: str
    value: Callable[[TutorFacts, str], float | None]
    pupils: Callable[[TutorFacts, str], int]


MEASURES = (
    Measure("observation", "Observation score (1–4)", "",
            lambda t, s: t.observation, lambda t, s: t.pupils),
    Measure("attendance", "Pupils' attendance", "%",
            lambda t, s: t.attendance_percent, lambda t, s: t.pupils),
    Measure("dosage", "Hours attended per pupil", "hours",
            lambda t, s: t.hours_per_pupil, lambda t, s: t.pupils),
    Measure("progress", "Progress against baseline", "scale",
            lambda t, s: t.mean_change(s), lambda t, s: t.progress.get(s, (0, 0, 0))[2]),
    Measure("at_target", "Pupils at or above target", "%",
            lambda t, s: t.at_target_percent, lambda t, s: t.measured_pupils),
)


@dataclass(frozen=True)
class ReportRow:
    key: str
    label: str
    tutors: int
    cells: dict[str, Estimate]


@dataclass(frozen=True)
class ImpactReport:
    title: str
    grouping: Grouping
    #: The programme scale progress is compared on.
    scale: MeasureScale | None
    #: Scales with measured pupils, the most measured first.
    scales: list[MeasureScale]
    rows: list[ReportRow]
    overall: ReportRow


class _Fold:
    """A group's running figures: tutors, and per measure the tutors with a value, the sum
    and sum of squares of their values, and the pupils behind them."""

    __slots__ = ("tutors", "sums")

    def __init__(self) -> None:
        self.tutors = 0
        self.sums = [[0, 0.0, 0.0, 0] for _ in MEASURES]

    def add(self, figures: list[tuple[float, int] | None]) -> None:
        self.tutors += 1
        for sums, found in zip(self.sums, figures, strict=True):
            if found is not None:
                value, pupils = found
                sums[0] += 1
                sums[1] += value
                sums[2] += value * value
                sums[3] += pupils

    def row(self, key: str, label: str) -> ReportRow:
        return ReportRow(key, label, self.tutors, {
            measure.key: from_sums(*sums) for measure, sums in zip(MEASURES, self.sums,
                                                                   strict=True)})


def _figures(tutor: TutorFacts, scale: str) -> list[tuple[float, int] | None]:
    """The tutor's value and pupils for each measure (``None`` where they have no value)."""
    found: list[tuple[float, int] | None] = []
    for measure in MEASURES:
        value = measure.value(tutor, scale)
        found.append(None if value is None else (value, measure.pupils(tutor, scale)))
    return found


def check_grouping(key: str | None) -> Grouping:
    try:
        return GROUPINGS[key or DEFAULT_GROUPING]
    except KeyError:
        raise UnknownGrouping(
            f"There is no grouping called '{key}'. Choose one of: "
            + ", ".join(g.label.lower() for g in GROUPINGS.values())) from None


def impact_report(title: str, trust_id: int | None, grouping: str | None = None,
                  scale: str | None = None) -> ImpactReport:
    """The report for a trust (``trust_id``) or every trust (``None``), grouped one way;
    progress compared on ``scale`` (by default the scale most pupils were measured on)."""
    chosen = check_grouping(grouping)
    tutors = tutor_facts(trust_id)
    measured: Counter[str] = Counter()
    for tutor in tutors.values():
        for key, (places, _, _) in tutor.progress.items():
            measured[key] += places
    scales = [MeasureScale(key) for key, _ in measured.most_common()]
    if scale and scale not in {s.value for s in MeasureScale}:
        raise ValueError(f"There is no programme scale called '{scale}'")
    on = MeasureScale(scale) if scale else (scales[0] if scales else None)
    folds = {key: _Fold() for key in chosen.groups}
    overall = _Fold()
    key_of = on.value if on else ""
    of = chosen.of
    for tutor in tutors.values():
        figures = _figures(tutor, key_of)
        group = of(tutor)
        fold = folds.get(group)
        if fold is None:
            fold = folds[group] = _Fold()
        fold.add(figures)
        overall.add(figures)
    rows = [fold.row(key, chosen.groups.get(key, key))
            for key, fold in folds.items() if fold.tutors or key != NOT_KNOWN]
    return ImpactReport(title, chosen, on, scales, rows, overall.row("all", "All tutors"))


def csv_rows(report: ImpactReport) -> tuple[list[str], list[list[object]]]:
    """The report as a table: one line per group, each measure's tutors, pupils, mean and
    95% t-interval (blank where there are too few tutors)."""
    headings = [report.grouping.label, "Tutors"]
    for measure in MEASURES:
        headings += [f"{measure.label}: tutors", f"{measure.label}: pupils",
                     f"{measure.label}: mean", f"{measure.label}: 95% interval low",
                     f"{measure.label}: 95% interval high"]
    lines = []
    for row in [*report.rows, report.overall]:
        line: list[object] = [row.label, row.tutors]
        for measure in MEASURES:
            cell = row.cells[measure.key]
            line += [cell.tutors, cell.pupils, _round(cell.mean), _round(cell.low),
                     _round(cell.high)]
        lines.append(line)
    return headings, lines


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
