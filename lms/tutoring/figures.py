"""Tutoring figures, each defined once: dashboards, the funder return, the impact review, the
board report and the exports all read them here, so they cannot disagree.

For a ``Coverage`` (a trust, some of its schools, or every trust) and a ``Period``: sessions
planned (the group's weekly slots from ``max(start, starts_on)`` to ``min(end, ended_on,
today)``), delivered and cancelled; dosage, the minutes pupils attended (present or late) per
pupil on a register against the programme's plan (``planned_sessions * session_minutes``),
from attendance and never from places, so a pupil kept on a group but absent counts no hours
(also rounded to the nearest half hour per pupil, as the school census collected tutoring);
attendance (present and late over every mark); engagement (the mean 1-5 rating); progress
(current minus baseline on the programme's scale, and the share at or above target); cost
(``costs.group_costs``, the one cost rule) per pupil tutored and per attended hour, and the
schools' own share. Each is split by school, programme, delivery model and the tutor's pathway
(their latest enrolment's; a provider's tutor, or one never enrolled, is "other"), and
attendance, dosage and progress by disadvantaged, SEND and EAL too. Every split is a SQL
aggregate (``GROUP BY``, the splits of one kind in one ``UNION ALL``), so the statements a page
runs do not grow with the data; only each group's plan is worked out in Python, in one step.

For a whole term (or the current term to today) of a trust whose totals are kept
(``lms.tutoring.totals``), the marks and sessions come added up per place and group, and the
weeks per school and day; any other period adds up the marks themselves. Both give the same
figures (``tests/tutoring/test_totals.py`` holds them to it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Integer, String, case, cast, func, literal, or_, select, union_all

from lms.organisations.models import School
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.types import plain
from lms.programme.models import Enrolment, Pathway
from lms.tutoring import totals
from lms.tutoring.costs import group_costs, school_share, term_costs
from lms.tutoring.models import (
    Attendance,
    DeliveryModel,
    GroupPupil,
    GroupTermTotal,
    MeasureScale,
    PlaceTermTotal,
    Programme,
    Pupil,
    SchoolDayTotal,
    SessionAttendance,
    SessionStatus,
    TutoringGroup,
    TutoringSession,
)
from lms.tutoring.periods import (
    Period,
    check_period,
    planned_for,
    planned_sessions,
    term_of,
    this_term,
    whole_term,
)

# --- what the figures cover ----------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """A trust's tutoring, or some of its schools' (a cluster lead's, or one school's)."""

    title: str
    #: ``None`` for every trust (the programme's own figures).
    trust_id: int | None
    #: ``None`` for every school of the trust.
    school_ids: frozenset[int] | None = None

    def groups(self) -> list:
        found = [] if self.trust_id is None else [TutoringGroup.trust_id == self.trust_id]
        if self.school_ids is not None:
            found.append(TutoringGroup.school_id.in_(self.school_ids))
        return found

    def kept(self, model) -> list:
        """The conditions on a totals table (``lms.tutoring.totals``)."""
        found = [] if self.trust_id is None else [model.trust_id == self.trust_id]
        if self.school_ids is not None:
            found.append(model.school_id.in_(self.school_ids))
        return found

    def sessions(self, period: Period) -> list:
        found = [TutoringSession.held_on.between(period.start, min(period.end,
                                                                   clock.today()))]
        if self.trust_id is not None:
            found.append(TutoringSession.trust_id == self.trust_id)
        if self.school_ids is not None:
            found.append(TutoringSession.school_id.in_(self.school_ids))
        return found


#: The splits, with their headings. Sessions and cost belong to groups, so the pupils'
#: characteristics split attendance, dosage and progress only.
SPLITS = {
    "school": "School",
    "programme": "Programme",
    "delivery_model": "Delivery model",
    "pathway": "Tutor pathway",
    "disadvantaged": "Disadvantaged",
    "send": "SEND",
    "eal": "EAL",
}
GROUP_SPLITS = ("school", "programme", "delivery_model", "pathway")
#: Each programme at each school (the impact review's comparison), on request.
PROGRAMME_SCHOOL = "programme_school"
PUPIL_SPLITS = ("disadvantaged", "send", "eal")
OTHER_PATHWAY = "other"
PATHWAY_LABELS = {**{p.value: p.short_label for p in Pathway},
                  OTHER_PATHWAY: "Other (provider's tutor, or not trained here)"}


def _tutor_pathways(coverage: Coverage):
    """``(user_id, pathway)``: the pathway of each tutor's latest enrolment, for the tutors
    of the groups covered."""
    latest = (select(Enrolment.user_id, func.max(Enrolment.id).label("id"))
              .where(Enrolment.user_id.in_(select(TutoringGroup.tutor_id)
                                           .where(*coverage.groups())))
              .group_by(Enrolment.user_id).subquery())
    return (select(latest.c.user_id, cast(Enrolment.pathway, String).label("pathway"))
            .join(Enrolment, Enrolment.id == latest.c.id).subquery())


def _pathway_of(pathways):
    return case((TutoringGroup.provider_id.is_not(None), OTHER_PATHWAY),
                else_=func.coalesce(pathways.c.pathway, OTHER_PATHWAY))


def _text(value: str):  # a string in a UNION's select list, typed for every database
    return cast(literal(value), String)


def _yes_no(column):
    return case((column.is_(True), "yes"), else_="no")


# --- one row of figures --------------------------------------------------------------------


def _ratio(part: float | None, whole: float | None, scale: float = 1.0,
           digits: int = 1) -> float | None:
    if part is None or not whole:
        return None
    return round(scale * float(part) / float(whole), digits)


@dataclass
class Row:
    """The figures of one slice (a school, a programme, disadvantaged pupils, everything)."""

    key: str
    label: str
    #: Group figures (``None`` for a split by the pupils' characteristics).
    planned: int | None = None
    delivered: int | None = None
    cancelled: int | None = None
    cost_pence: float | None = None
    school_share_pence: float | None = None
    #: Attendance figures.
    pupils: int = 0
    pupils_on_registers: int = 0
    minutes: int = 0
    half_hours: int = 0
    plan_minutes: int = 0
    marks: int = 0
    attended: int = 0
    engagement_total: int = 0
    engagement_ratings: int = 0
    disadvantaged_pupils: int = 0
    #: Progress figures (places with a baseline and a current status).
    measured: int = 0
    progress_total: float = 0.0
    #: The slice's one scale, or ``None`` when its programmes use several.
    scale: MeasureScale | None = None
    with_target: int = 0
    at_target: int = 0

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)

    @property
    def rounded_hours(self) -> float:
        """Each pupil's hours to the nearest half hour, added up (the census's way)."""
        return self.half_hours / 2

    @property
    def hours_per_pupil(self) -> float | None:
        """Dosage: hours attended per pupil on a register (absent pupils count no hours)."""
        return _ratio(self.minutes, self.pupils_on_registers, 1 / 60)

    @property
    def rounded_hours_per_pupil(self) -> float | None:
        return _ratio(self.half_hours, self.pupils_on_registers, 1 / 2)

    @property
    def planned_hours_per_pupil(self) -> float | None:
        return _ratio(self.plan_minutes, self.pupils_on_registers, 1 / 60)

    @property
    def dosage_percent(self) -> float | None:
        """Hours attended as a share of the programmes' planned hours."""
        return _ratio(self.minutes, self.plan_minutes, 100)

    @property
    def attendance_percent(self) -> float | None:
        return _ratio(self.attended, self.marks, 100)

    @property
    def engagement(self) -> float | None:
        return _ratio(self.engagement_total, self.engagement_ratings)

    @property
    def delivered_percent(self) -> float | None:
        return _ratio(self.delivered, self.planned, 100)

    @property
    def mean_progress(self) -> float | None:
        """Current minus baseline, on the slice's scale (none across several scales)."""
        if self.scale is None:
            return None
        return _ratio(self.progress_total, self.measured)

    @property
    def at_target_percent(self) -> float | None:
        return _ratio(self.at_target, self.with_target, 100)

    @property
    def cost(self) -> float | None:  # in pounds
        return None if self.cost_pence is None else round(self.cost_pence / 100, 2)

    @property
    def school_contribution(self) -> float | None:
        return None if self.school_share_pence is None else round(
            self.school_share_pence / 100, 2)

    @property
    def cost_per_pupil(self) -> float | None:
        """Cost per pupil tutored (attended at least once), in pounds."""
        return _ratio(self.cost_pence, self.pupils, 1 / 100, 2)

    @property
    def cost_per_attended_hour(self) -> float | None:
        """Cost per hour pupils attended, in pounds: ghost pupils make it dearer."""
        return _ratio(self.cost_pence, self.minutes, 60 / 100, 2)

    @property
    def disadvantaged_percent(self) -> float | None:
        """The share of the pupils tutored who are disadvantaged."""
        return _ratio(self.disadvantaged_pupils, self.pupils, 100)


@dataclass(frozen=True)
class Week:
    """One week (from Monday) of attendance."""

    starts_on: date
    sessions: int
    marks: int
    attended: int
    minutes: int

    @property
    def attendance_percent(self) -> float | None:
        return _ratio(self.attended, self.marks, 100)

    hours = property(lambda self: round(self.minutes / 60, 1))


@dataclass
class TutoringFigures:
    coverage: Coverage
    period: Period
    overall: Row
    #: Split key -> its rows, sorted by label.
    splits: dict[str, list[Row]] = field(default_factory=dict)
    weeks: list[Week] = field(default_factory=list)

    def rows(self, split: str) -> list[Row]:
        return self.splits.get(split, [])

    def row(self, split: str, key: str) -> Row | None:
        return next((r for r in self.rows(split) if r.key == key), None)


# --- the queries ---------------------------------------------------------------------------


def _group_rows(coverage: Coverage, period: Period, term: int | None) -> list:
    """Per group covered and running in the period: its split keys, its plan, its sessions
    and its cost (for a whole term, from the kept totals)."""
    last = min(period.end, clock.today())
    pathways = _tutor_pathways(coverage)
    if term is None:
        delivered = TutoringSession.status == SessionStatus.DELIVERED
        counts = (select(TutoringSession.group_id.label("group_id"),
                         func.sum(case((delivered, 1), else_=0)).label("delivered"),
                         func.sum(case((delivered, 0), else_=1)).label("cancelled"))
                  .where(*coverage.sessions(period)).group_by(TutoringSession.group_id)
                  .subquery())
        narrowed = [] if coverage.trust_id is None else [
            TutoringSession.trust_id == coverage.trust_id]
        costs = group_costs(period.start, last, *coverage.groups(), *narrowed).subquery()
    else:
        counts = (select(GroupTermTotal.group_id, GroupTermTotal.delivered,
                         GroupTermTotal.cancelled)
                  .where(GroupTermTotal.term == term, *coverage.kept(GroupTermTotal))
                  .subquery())
        costs = term_costs(term, *coverage.groups()).subquery()
    return db.session.execute(
        select(TutoringGroup.school_id, TutoringGroup.programme_key,
               cast(Programme.delivery_model, String), _pathway_of(pathways),
               TutoringGroup.weekday, TutoringGroup.starts_on, TutoringGroup.ended_on,
               Programme.school_contribution_percent,
               func.coalesce(counts.c.delivered, 0), func.coalesce(counts.c.cancelled, 0),
               func.coalesce(costs.c.cost_pence, 0))
        .join(Programme, Programme.id == TutoringGroup.programme_id)
        .outerjoin(pathways, pathways.c.user_id == TutoringGroup.tutor_id)
        .outerjoin(counts, counts.c.group_id == TutoringGroup.id)
        .outerjoin(costs, costs.c.group_id == TutoringGroup.id)
        .where(*coverage.groups(), TutoringGroup.starts_on <= period.end,
               or_(TutoringGroup.ended_on.is_(None), TutoringGroup.ended_on >= period.start))
    ).all()


def _split_keys(pathways, splits: tuple[str, ...]) -> dict:
    """The split keys of a row joined to its group, programme and pupil."""
    return {name: expression for name, expression in {
        "school": cast(TutoringGroup.school_id, String),
        "programme": TutoringGroup.programme_key,
        PROGRAMME_SCHOOL: TutoringGroup.programme_key + ":" + cast(TutoringGroup.school_id,
                                                                   String),
        "delivery_model": cast(Programme.delivery_model, String),
        "pathway": _pathway_of(pathways),
        "disadvantaged": _yes_no(Pupil.disadvantaged),
        "send": _yes_no(Pupil.send),
        "eal": _yes_no(Pupil.eal),
    }.items() if name in splits}


def _marks_per_place(coverage: Coverage, period: Period, term: int | None, keys: dict,
                     pathways):
    """Per pupil and group: the split keys, the plan, and the period's marks added up (for
    a whole term, the kept totals)."""
    disadvantaged = case((Pupil.disadvantaged.is_(True), 1), else_=0)
    columns = [expression.label(name) for name, expression in keys.items()]
    columns += [(Programme.planned_sessions * Programme.session_minutes).label("plan"),
                disadvantaged.label("disadvantaged_pupil")]
    if term is not None:
        return (select(PlaceTermTotal.pupil_id.label("pupil_id"), *columns,
                       PlaceTermTotal.minutes, PlaceTermTotal.marks, PlaceTermTotal.attended,
                       PlaceTermTotal.engagement_total.label("engagement"),
                       PlaceTermTotal.ratings)
                .join(TutoringGroup, TutoringGroup.id == PlaceTermTotal.group_id)
                .join(Programme, Programme.id == TutoringGroup.programme_id)
                .join(Pupil, Pupil.id == PlaceTermTotal.pupil_id)
                .outerjoin(pathways, pathways.c.user_id == TutoringGroup.tutor_id)
                .where(PlaceTermTotal.term == term, PlaceTermTotal.marks > 0,
                       *coverage.kept(PlaceTermTotal))).cte("per_place")
    came = case((SessionAttendance.status != Attendance.ABSENT, 1), else_=0)
    return (
        select(SessionAttendance.pupil_id.label("pupil_id"), *columns,
               func.sum(SessionAttendance.minutes).label("minutes"),
               func.count().label("marks"), func.sum(came).label("attended"),
               func.coalesce(func.sum(SessionAttendance.engagement), 0).label("engagement"),
               func.count(SessionAttendance.engagement).label("ratings"))
        .join(TutoringSession, TutoringSession.id == SessionAttendance.session_id)
        .join(TutoringGroup, TutoringGroup.id == TutoringSession.group_id)
        .join(Programme, Programme.id == TutoringGroup.programme_id)
        .join(Pupil, Pupil.id == SessionAttendance.pupil_id)
        .outerjoin(pathways, pathways.c.user_id == TutoringGroup.tutor_id)
        .where(*coverage.sessions(period), TutoringSession.status == SessionStatus.DELIVERED)
        .group_by(SessionAttendance.pupil_id, TutoringSession.group_id, TutoringGroup.school_id,
                  TutoringGroup.programme_key, TutoringGroup.provider_id,
                  Programme.delivery_model, pathways.c.pathway, Pupil.disadvantaged,
                  Pupil.send, Pupil.eal, Programme.planned_sessions, Programme.session_minutes)
    ).cte("per_place")


def _attendance_rows(coverage: Coverage, period: Period, term: int | None,
                     splits: tuple[str, ...]) -> list:
    """``(split, key, pupils tutored, pupils on registers, minutes, half hours, planned
    minutes, marks, attended, engagement total, ratings)`` for every split and the whole,
    in one statement: the marks added up per pupil and group once, then per slice and pupil
    (for the per-pupil rounding), then per slice."""
    pathways = _tutor_pathways(coverage)
    per_place = _marks_per_place(coverage, period, term, _split_keys(pathways, splits),
                                 pathways)

    def branch(split: str | None):
        key = per_place.c[split] if split else None
        per_pupil = (select(*([key.label("key")] if split else []), per_place.c.pupil_id,
                            func.sum(per_place.c.minutes).label("minutes"),
                            func.sum(per_place.c.plan).label("plan"),
                            func.sum(per_place.c.marks).label("marks"),
                            func.sum(per_place.c.attended).label("attended"),
                            func.sum(per_place.c.engagement).label("engagement"),
                            func.sum(per_place.c.ratings).label("ratings"),
                            func.max(per_place.c.disadvantaged_pupil).label("disadvantaged"))
                     .group_by(*([key] if split else []), per_place.c.pupil_id).subquery())
        query = select(_text(split or "all"), per_pupil.c.key if split else _text(""),
                       func.sum(case((per_pupil.c.attended > 0, 1), else_=0)), func.count(),
                       func.sum(per_pupil.c.minutes),
                       func.sum((cast(per_pupil.c.minutes, Integer) + 15) // 30),
                       func.sum(per_pupil.c.plan), func.sum(per_pupil.c.marks),
                       func.sum(per_pupil.c.attended), func.sum(per_pupil.c.engagement),
                       func.sum(per_pupil.c.ratings),
                       func.sum(case(((per_pupil.c.attended > 0)
                                      & (per_pupil.c.disadvantaged == 1), 1), else_=0)))
        return query.group_by(per_pupil.c.key) if split else query

    return db.session.execute(union_all(branch(None), *(branch(s) for s in splits))).all()


def _progress_rows(coverage: Coverage, period: Period, splits: tuple[str, ...]) -> list:
    """``(split, key, measured, total change, lowest scale, highest scale, with a target, at
    or above it)`` per split and the whole, for the places open in the period with a
    baseline and a current status."""
    pathways = _tutor_pathways(coverage)
    keys = _split_keys(pathways, splits)
    places = (
        select(*(expression.label(name) for name, expression in keys.items()),
               cast(Programme.measure_scale, String).label("scale"),
               (GroupPupil.current - GroupPupil.baseline).label("change"),
               case((GroupPupil.target.is_not(None), 1), else_=0).label("with_target"),
               case((GroupPupil.current >= GroupPupil.target, 1), else_=0).label("at_target"))
        .join(TutoringGroup, TutoringGroup.id == GroupPupil.group_id)
        .join(Programme, Programme.id == TutoringGroup.programme_id)
        .join(Pupil, Pupil.id == GroupPupil.pupil_id)
        .outerjoin(pathways, pathways.c.user_id == TutoringGroup.tutor_id)
        .where(*coverage.groups(), GroupPupil.joined_on <= period.end,
               or_(GroupPupil.left_on.is_(None), GroupPupil.left_on >= period.start),
               GroupPupil.baseline.is_not(None), GroupPupil.current.is_not(None))
    ).cte("measured_places")

    def branch(split: str | None):
        query = select(_text(split or "all"), places.c[split] if split else _text(""),
                       func.count(), func.sum(places.c.change), func.min(places.c.scale),
                       func.max(places.c.scale), func.sum(places.c.with_target),
                       func.sum(places.c.at_target))
        return query.group_by(places.c[split]) if split else query

    return db.session.execute(union_all(branch(None), *(branch(s) for s in splits))).all()


def _weeks(coverage: Coverage, period: Period, kept: bool) -> list[Week]:
    """Attendance per week, from the marks added up per day (kept per school and day)."""
    if kept:
        rows = db.session.execute(
            select(SchoolDayTotal.held_on, func.sum(SchoolDayTotal.sessions),
                   func.sum(SchoolDayTotal.marks), func.sum(SchoolDayTotal.attended),
                   func.sum(SchoolDayTotal.minutes))
            .where(SchoolDayTotal.held_on.between(period.start, min(period.end,
                                                                    clock.today())),
                   *coverage.kept(SchoolDayTotal))
            .group_by(SchoolDayTotal.held_on)
            .having(func.sum(SchoolDayTotal.sessions) > 0)).all()
    else:
        came = case((SessionAttendance.status != Attendance.ABSENT, 1), else_=0)
        rows = db.session.execute(
            select(TutoringSession.held_on, func.count(func.distinct(TutoringSession.id)),
                   func.count(), func.sum(came), func.sum(SessionAttendance.minutes))
            .join(SessionAttendance, SessionAttendance.session_id == TutoringSession.id)
            .where(*coverage.sessions(period),
                   TutoringSession.status == SessionStatus.DELIVERED)
            .group_by(TutoringSession.held_on)).all()
    weeks: dict[date, list[int]] = {}
    for day, sessions, marks, attended, minutes in map(plain, rows):
        monday = day - timedelta(days=day.weekday())
        total = weeks.setdefault(monday, [0, 0, 0, 0])
        for index, value in enumerate((sessions, marks, attended, minutes)):
            total[index] += value or 0
    return [Week(monday, *weeks[monday]) for monday in sorted(weeks)]


# --- labels --------------------------------------------------------------------------------


def _labels(coverage: Coverage, school_ids: Iterable[int], keys: Iterable[str]
            ) -> dict[str, dict[str, str]]:
    ids = {int(i) for i in school_ids}
    schools = dict(db.session.execute(select(School.id, School.name).where(
        School.id.in_(ids))).all()) if ids else {}
    keys = set(keys)
    names = {}
    if keys:
        for key, name in db.session.execute(
                select(Programme.key, Programme.name).where(Programme.key.in_(keys))
                .order_by(Programme.key, Programme.version)):
            names[key] = name  # the latest version's name
    return {
        "school": {str(i): n for i, n in schools.items()},
        "programme": names,
        "delivery_model": {m.value: m.label for m in DeliveryModel},
        "pathway": PATHWAY_LABELS,
        **{s: {"yes": f"{SPLITS[s]}: yes", "no": f"{SPLITS[s]}: no"} for s in PUPIL_SPLITS},
    }


# --- the figures ---------------------------------------------------------------------------


def tutoring_figures(coverage: Coverage, period: Period, *, weeks: bool = True,
                     splits: tuple[str, ...] = tuple(SPLITS)) -> TutoringFigures:
    """Every figure of a coverage for a period, overall and split (``SPLITS``, and
    ``PROGRAMME_SCHOOL`` if asked for): four aggregate queries and two for names, whatever
    the data's size."""
    today = clock.today()
    kept = totals.built(coverage.trust_id)
    term = whole_term(period, today) if kept else None
    overall = Row("all", coverage.title, planned=0, delivered=0, cancelled=0, cost_pence=0,
                  school_share_pence=0)
    slices: dict[tuple[str, str], Row] = {}

    def row(split: str, key: str) -> Row:
        found = slices.get((split, key))
        if found is None:
            found = slices[(split, key)] = Row(key, key)
            if split in (*GROUP_SPLITS, PROGRAMME_SCHOOL):
                found.planned = found.delivered = found.cancelled = 0
                found.cost_pence = found.school_share_pence = 0
        return found

    for (school_id, programme_key, model, pathway, weekday, starts_on, ended_on, percent,
         delivered, cancelled, cost) in map(plain, _group_rows(coverage, period, term)):
        planned = planned_for(weekday, starts_on, ended_on, period, today)
        share = school_share(cost, percent)
        keys = {"school": str(school_id), "programme": programme_key,
                "delivery_model": model, "pathway": pathway,
                PROGRAMME_SCHOOL: f"{programme_key}:{school_id}"}
        for target in (overall, *(row(s, keys[s]) for s in keys if s in splits)):
            target.planned += planned
            target.delivered += delivered
            target.cancelled += cancelled
            target.cost_pence += cost
            target.school_share_pence += share
    for (split, key, pupils, registered, minutes, half_hours, plan, marks, attended,
         engagement, ratings, disadvantaged) in map(plain, _attendance_rows(
            coverage, period, term, splits)):
        target = overall if split == "all" else row(split, key)
        target.pupils, target.pupils_on_registers = pupils or 0, registered or 0
        target.minutes, target.half_hours = minutes or 0, half_hours or 0
        target.plan_minutes, target.marks, target.attended = plan or 0, marks or 0, \
            attended or 0
        target.engagement_total, target.engagement_ratings = engagement or 0, ratings or 0
        target.disadvantaged_pupils = disadvantaged or 0
    for split, key, measured, change, low, high, with_target, at_target in \
            map(plain, _progress_rows(coverage, period, splits)):
        if not measured:
            continue
        target = overall if split == "all" else row(split, key)
        target.measured, target.progress_total = measured, float(change or 0)
        target.scale = MeasureScale(low) if low == high and low else None
        target.with_target, target.at_target = with_target or 0, at_target or 0
    pairs = [k.split(":") for s, k in slices if s == PROGRAMME_SCHOOL]
    labels = _labels(coverage, [k for s, k in slices if s == "school"]
                     + [school for _, school in pairs],
                     [k for s, k in slices if s == "programme"] + [key for key, _ in pairs])
    labels[PROGRAMME_SCHOOL] = {
        f"{key}:{school}": labels["school"].get(school, school) for key, school in pairs}
    rows: dict[str, list[Row]] = {split: [] for split in splits}
    for (split, key), found in slices.items():
        found.label = labels[split].get(key, key)
        rows[split].append(found)
    for split in rows:
        rows[split].sort(key=lambda r: (r.key == OTHER_PATHWAY, r.label.casefold()))
    return TutoringFigures(coverage, period, overall, rows,
                           _weeks(coverage, period, kept) if weeks else [])


__all__ = ["Coverage", "Period", "Row", "Week", "TutoringFigures", "SPLITS", "GROUP_SPLITS",
           "PUPIL_SPLITS", "PROGRAMME_SCHOOL", "tutoring_figures", "planned_for",
           "planned_sessions", "check_period", "this_term", "term_of"]
