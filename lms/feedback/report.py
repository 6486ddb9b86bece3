"""The content report: how each pathway's modules and lessons are rated, completed, timed,
abandoned and answered, for the people who write the course.

Every figure is first counted per content version (the course version an enrolment is pinned
to), so a revised lesson can be compared with the one before it; the overall view adds the
versions up. A fixed number of queries builds the whole report.

- **Completion**: tutors who completed the lesson / tutors who started its module.
- **Time**: the median time counted on the lesson by those who completed it, against its
  computed minutes.
- **Drop-offs**: enrolments that stopped (lapsed or withdrawn, or in training with nothing
  opened for ``INACTIVE_DAYS`` days) without finishing every lesson, counted at the lesson
  they last had open; the share is of the tutors who reached that lesson.
- **Facility**: the share of the module check's answers that were correct (the check's topic
  is the module).
- **Ratings** and **comments** belong to the lesson's module.
"""

from __future__ import annotations

import hashlib
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select

from assessments.checks.models import FormativeResult
from courses.content import CONTENT_ROOT
from courses.models import CourseModule, CourseVersion, Lesson, LessonProgress
from lms.feedback.models import COURSE, LeaderSurvey, ModuleRating
from lms.platform import clock
from lms.platform.extensions import db
from lms.programme.models import Enrolment, EnrolmentStatus, Pathway

INACTIVE_DAYS = 14
#: Comments shown with each module row; the rest are one link away.
COMMENTS_SHOWN = 3
SORTS = {
    "rating": "Lowest-rated first, then most abandoned",
    "abandoned": "Most abandoned first, then lowest-rated",
    "completion": "Lowest completion first",
    "time": "Most over their estimate first",
    "facility": "Lowest check facility first",
    "course": "Course order",
}


@dataclass
class Ratings:
    n: int = 0
    clear_total: int = 0
    useful_total: int = 0
    #: ``(created_at, comment)``, newest first.
    comments: list[tuple[datetime, str]] = field(default_factory=list)

    @property
    def clear(self) -> float | None:
        return round(self.clear_total / self.n, 2) if self.n else None

    @property
    def useful(self) -> float | None:
        return round(self.useful_total / self.n, 2) if self.n else None

    @property
    def mean(self) -> float | None:
        return (self.clear_total + self.useful_total) / (2 * self.n) if self.n else None

    def add(self, other: Ratings) -> None:
        self.n += other.n
        self.clear_total += other.clear_total
        self.useful_total += other.useful_total
        self.comments = sorted([*self.comments, *other.comments], reverse=True)


@dataclass
class Facility:
    correct: int = 0
    total: int = 0

    @property
    def percent(self) -> int | None:
        return round(100 * self.correct / self.total) if self.total else None

    def add(self, other: Facility) -> None:
        self.correct += other.correct
        self.total += other.total


@dataclass
class LessonRow:
    pathway: Pathway
    module: str
    module_title: str
    module_position: int
    lesson: str
    title: str
    position: int
    #: The newest version's lesson: the one the preview link opens.
    lesson_id: int
    source: str
    estimated_minutes: int
    #: The course version (``None`` in the overall view) and the lesson's own text hash.
    course_version: str | None
    lesson_version: str
    started_module: int = 0
    reached: int = 0
    completed: int = 0
    stopped: int = 0
    seconds: list[int] = field(default_factory=list)
    ratings: Ratings = field(default_factory=Ratings)
    facility: Facility = field(default_factory=Facility)
    #: In the by-version view: the lesson's text differs from the version before.
    changed: bool = False

    @property
    def completion(self) -> int | None:
        return round(100 * self.completed / self.started_module) if self.started_module else None

    @property
    def median_minutes(self) -> float | None:
        return round(statistics.median(self.seconds) / 60, 1) if self.seconds else None

    @property
    def time_ratio(self) -> float | None:
        median = self.median_minutes
        return median / self.estimated_minutes if median and self.estimated_minutes else None

    @property
    def dropoff(self) -> int | None:
        return round(100 * self.stopped / self.reached) if self.reached else None


@dataclass
class ModuleRow:
    pathway: Pathway
    module: str
    title: str
    position: int
    course_version: str | None = None
    started: int = 0
    ratings: Ratings = field(default_factory=Ratings)
    facility: Facility = field(default_factory=Facility)


@dataclass
class SurveySummary:
    sent: int = 0
    answered: int = 0
    practice_total: int = 0
    would_nominate: int = 0
    #: ``(answered_at, what is missing)``, newest first.
    missing: list[tuple[datetime, str]] = field(default_factory=list)

    @property
    def practice(self) -> float | None:
        return round(self.practice_total / self.answered, 2) if self.answered else None

    @property
    def nominate_percent(self) -> int | None:
        return round(100 * self.would_nominate / self.answered) if self.answered else None


@dataclass
class PathwayReport:
    pathway: Pathway
    lessons: list[LessonRow]
    modules: list[ModuleRow]
    course: Ratings
    survey: SurveySummary


def lesson_version(lesson_title: str, body_html: str) -> str:
    """A short hash of a lesson's text: the same in two course versions when it did not
    change between them."""
    return hashlib.sha256(f"{lesson_title}\0{body_html}".encode()).hexdigest()[:12]


def source_path(module: str, lesson: str, position: int) -> str:
    """The lesson's Markdown file, as a path in the repository."""
    folder = CONTENT_ROOT / "modules" / module
    found = sorted(folder.glob(f"*-{lesson}.md")) if folder.is_dir() else []
    name = found[0].name if found else f"{position:02d}-{lesson}.md"
    return f"courses/content/modules/{module}/{name}"


def _stopped_at() -> dict[int, int]:
    """Lesson id → enrolments that stopped with it as the last lesson they had open."""
    cutoff = clock.now() - timedelta(days=INACTIVE_DAYS)
    last = (select(LessonProgress.enrolment_id,
                   func.max(LessonProgress.last_seen_at).label("last"),
                   func.count(LessonProgress.completed_at).label("done"))
            .group_by(LessonProgress.enrolment_id).subquery())
    lessons_in = {(pathway, version): count for pathway, version, count in db.session.execute(
        select(CourseVersion.pathway, CourseVersion.version, func.count(Lesson.id))
        .join(CourseModule, CourseModule.course_version_id == CourseVersion.id)
        .join(Lesson, Lesson.module_id == CourseModule.id)
        .group_by(CourseVersion.id, CourseVersion.pathway, CourseVersion.version))}
    rows = db.session.execute(
        select(LessonProgress.enrolment_id, LessonProgress.lesson_id, last.c.done,
               Enrolment.pathway, Enrolment.course_version)
        .join(last, and_(last.c.enrolment_id == LessonProgress.enrolment_id,
                         last.c.last == LessonProgress.last_seen_at))
        .join(Enrolment, Enrolment.id == LessonProgress.enrolment_id)
        .where(or_(Enrolment.status.in_([EnrolmentStatus.LAPSED, EnrolmentStatus.WITHDRAWN]),
                   and_(Enrolment.status == EnrolmentStatus.ACTIVE, last.c.last < cutoff)))
        .order_by(LessonProgress.enrolment_id, LessonProgress.lesson_id.desc()))
    counts: dict[int, int] = defaultdict(int)
    seen = set()
    for enrolment_id, lesson_id, done, pathway, version in rows:
        if enrolment_id in seen:
            continue
        seen.add(enrolment_id)
        if done < lessons_in.get((pathway, version), 0):
            counts[lesson_id] += 1
    return counts


def _ratings() -> dict[tuple[Pathway, str, str], Ratings]:
    """(pathway, course version, module key) → ratings and comments."""
    found: dict[tuple[Pathway, str, str], Ratings] = defaultdict(Ratings)
    for pathway, version, module, n, clear, useful in db.session.execute(
            select(ModuleRating.pathway, ModuleRating.course_version, ModuleRating.module,
                   func.count(ModuleRating.id), func.sum(ModuleRating.clear),
                   func.sum(ModuleRating.useful))
            .group_by(ModuleRating.pathway, ModuleRating.course_version,
                      ModuleRating.module)):
        found[pathway, version, module] = Ratings(n, clear, useful)
    for pathway, version, module, at, comment in db.session.execute(
            select(ModuleRating.pathway, ModuleRating.course_version, ModuleRating.module,
                   ModuleRating.created_at, ModuleRating.comment)
            .where(ModuleRating.comment != "")
            .order_by(ModuleRating.created_at.desc(), ModuleRating.id.desc())):
        found[pathway, version, module].comments.append((at, comment))
    return found


def _facility() -> dict[tuple[Pathway, str, str], Facility]:
    """(pathway, course version, check topic) → correct and total answers."""
    return {(pathway, version, topic): Facility(int(correct or 0), int(total or 0))
            for pathway, version, topic, correct, total in db.session.execute(
                select(Enrolment.pathway, Enrolment.course_version, FormativeResult.topic,
                       func.sum(FormativeResult.correct), func.sum(FormativeResult.total))
                .join(Enrolment, Enrolment.id == FormativeResult.enrolment_id)
                .where(FormativeResult.submitted_at.is_not(None),
                       FormativeResult.correct.is_not(None))
                .group_by(Enrolment.pathway, Enrolment.course_version,
                          FormativeResult.topic))}


def _surveys() -> dict[Pathway, SurveySummary]:
    found: dict[Pathway, SurveySummary] = defaultdict(SurveySummary)
    for pathway, answered_at, practice, missing, nominate in db.session.execute(
            select(LeaderSurvey.pathway, LeaderSurvey.answered_at,
                   LeaderSurvey.practice_changed, LeaderSurvey.missing,
                   LeaderSurvey.would_nominate)
            .order_by(LeaderSurvey.answered_at.desc(), LeaderSurvey.id.desc())):
        summary = found[pathway]
        summary.sent += 1
        if answered_at is not None:
            summary.answered += 1
            summary.practice_total += practice or 0
            summary.would_nominate += 1 if nominate else 0
            if missing:
                summary.missing.append((answered_at, missing))
    return found


def by_version() -> list[PathwayReport]:
    """The report with every figure split by the content version tutors studied."""
    return _build(split=True)


def overall() -> list[PathwayReport]:
    return _build(split=False)


def _build(*, split: bool) -> list[PathwayReport]:
    lessons = db.session.execute(
        select(Lesson.id, Lesson.slug, Lesson.title, Lesson.position, Lesson.estimated_minutes,
               Lesson.body_html, CourseModule.id, CourseModule.slug, CourseModule.title,
               CourseModule.position, CourseVersion.pathway, CourseVersion.version)
        .join(CourseModule, CourseModule.id == Lesson.module_id)
        .join(CourseVersion, CourseVersion.id == CourseModule.course_version_id)
        .order_by(CourseVersion.loaded_at, CourseVersion.id, CourseModule.position,
                  Lesson.position)).all()
    progress = {lesson_id: (reached, completed) for lesson_id, reached, completed in
                db.session.execute(select(LessonProgress.lesson_id, func.count(LessonProgress.id),
                                          func.count(LessonProgress.completed_at))
                                   .group_by(LessonProgress.lesson_id))}
    seconds: dict[int, list[int]] = defaultdict(list)
    for lesson_id, spent in db.session.execute(
            select(LessonProgress.lesson_id, LessonProgress.seconds_spent)
            .where(LessonProgress.completed_at.is_not(None))):
        seconds[lesson_id].append(spent)
    started = dict(db.session.execute(
        select(Lesson.module_id, func.count(func.distinct(LessonProgress.enrolment_id)))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .group_by(Lesson.module_id)).all())
    stopped = _stopped_at()
    ratings, facility, surveys = _ratings(), _facility(), _surveys()

    rows: dict[tuple, LessonRow] = {}
    modules: dict[tuple, ModuleRow] = {}
    previous_text: dict[tuple, str] = {}
    counted_modules: set[int] = set()
    for (lesson_id, slug, title, position, minutes, body, module_id, module, module_title,
         module_position, pathway, version) in lessons:
        text = lesson_version(title, body)
        shown = version if split else None
        key = (pathway, module, slug, shown)
        row = rows.get(key)
        if row is None:
            row = rows[key] = LessonRow(
                pathway, module, module_title, module_position, slug, title, position,
                lesson_id, source_path(module, slug, position), minutes, shown, text,
                changed=split and previous_text.get((pathway, module, slug), text) != text)
        else:  # a later version of the same lesson: the overall view shows the newest
            row.lesson_id, row.lesson_version, row.title = lesson_id, text, title
            row.estimated_minutes, row.module_position, row.position = (
                minutes, module_position, position)
        previous_text[pathway, module, slug] = text
        reached, completed = progress.get(lesson_id, (0, 0))
        row.reached += reached
        row.completed += completed
        row.stopped += stopped.get(lesson_id, 0)
        row.seconds.extend(seconds.get(lesson_id, []))
        row.started_module += started.get(module_id, 0)
        module_row = modules.get((pathway, module, shown))
        if module_row is None:
            module_row = modules[pathway, module, shown] = ModuleRow(
                pathway, module, module_title, module_position, shown)
        module_row.title, module_row.position = module_title, module_position
        if module_id not in counted_modules:
            counted_modules.add(module_id)
            module_row.started += started.get(module_id, 0)
            module_row.ratings.add(ratings.get((pathway, version, module), Ratings()))
            module_row.facility.add(facility.get((pathway, version, module), Facility()))
    for row in rows.values():
        module_row = modules[row.pathway, row.module, row.course_version]
        row.ratings, row.facility = module_row.ratings, module_row.facility

    reports = []
    for pathway in Pathway:
        pathway_rows = [r for r in rows.values() if r.pathway == pathway]
        if not pathway_rows:
            continue
        course = Ratings()
        for (rated_pathway, _version, module), found in ratings.items():
            if rated_pathway == pathway and module == COURSE:
                course.add(found)
        reports.append(PathwayReport(
            pathway, pathway_rows,
            sorted((m for m in modules.values() if m.pathway == pathway),
                   key=lambda m: (m.position, m.module, m.course_version or "")),
            course, surveys.get(pathway, SurveySummary())))
    return reports


def _missing_last(value: float | None, *, descending: bool = False) -> tuple[int, float]:
    if value is None:
        return (1, 0.0)
    return (0, -value if descending else value)


def sort_rows(rows: list[LessonRow], how: str) -> list[LessonRow]:
    """Order the lessons as the reader asked (``SORTS``); unknown orders fall back to the
    default, lowest-rated then most abandoned."""
    def course_order(row: LessonRow) -> tuple:
        return (row.module_position, row.position, row.lesson, row.course_version or "")

    def rating(row: LessonRow) -> tuple:
        return _missing_last(row.ratings.mean)

    def abandoned(row: LessonRow) -> tuple:
        return (-row.stopped, _missing_last(row.dropoff, descending=True))

    keys = {
        "rating": lambda r: (rating(r), abandoned(r), course_order(r)),
        "abandoned": lambda r: (abandoned(r), rating(r), course_order(r)),
        "completion": lambda r: (_missing_last(r.completion), course_order(r)),
        "time": lambda r: (_missing_last(r.time_ratio, descending=True), course_order(r)),
        "facility": lambda r: (_missing_last(r.facility.percent), course_order(r)),
        "course": course_order,
    }
    return sorted(rows, key=keys.get(how, keys["rating"]))


def comments(pathway: Pathway, module: str) -> list[ModuleRating]:
    """Every comment on one module (or ``COURSE``) of a pathway, newest first."""
    return list(db.session.scalars(select(ModuleRating).where(
        ModuleRating.pathway == pathway, ModuleRating.module == module,
        ModuleRating.comment != "").order_by(ModuleRating.created_at.desc(),
                                             ModuleRating.id.desc())))


CSV_HEADINGS = ["Pathway", "Module", "Lesson", "Source file", "Course version",
                "Lesson version", "Rating: clear", "Rating: useful", "Ratings",
                "Started the module", "Completed the lesson", "Completion %",
                "Median minutes", "Estimated minutes", "Stopped here", "Drop-off %",
                "Check facility %", "Check answers"]


def csv_rows(reports: list[PathwayReport], how: str):
    for report in reports:
        for row in sort_rows(report.lessons, how):
            yield [report.pathway.short_label, row.module, row.lesson, row.source,
                   row.course_version or "all", row.lesson_version, row.ratings.clear,
                   row.ratings.useful, row.ratings.n, row.started_module, row.completed,
                   row.completion, row.median_minutes, row.estimated_minutes, row.stopped,
                   row.dropoff, row.facility.percent, row.facility.total]
