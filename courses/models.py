"""Versioned course content and each tutor's progress through it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.types import UTCDateTime, enum_column
from lms.programme.models import Pathway


class CourseVersion(db.Model):
    """One loaded version of a pathway's content, identified by the hash of its files.

    Enrolments pin the version they started on, so later fixes never move a tutor mid-course.
    """

    __tablename__ = "course_versions"
    __table_args__ = (UniqueConstraint("pathway", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pathway: Mapped[Pathway] = mapped_column(enum_column(Pathway, "pathway"))
    #: First 16 hex digits of the SHA-256 of every file that makes up the course.
    version: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    intro_html: Mapped[str] = mapped_column(Text, default="")
    target_minutes: Mapped[int]
    total_minutes: Mapped[int]
    #: The version new enrolments start on.
    is_current: Mapped[bool] = mapped_column(default=False)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    modules: Mapped[list[CourseModule]] = relationship(
        back_populates="course_version", order_by="CourseModule.position"
    )

    @property
    def lessons(self) -> list[Lesson]:
        return [lesson for module in self.modules for lesson in module.lessons]


class CourseModule(db.Model):
    __tablename__ = "course_modules"
    __table_args__ = (UniqueConstraint("course_version_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id"), index=True)
    slug: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int]
    #: A tutor must finish the module before this one to open it.
    requires_previous: Mapped[bool] = mapped_column(default=True)

    course_version: Mapped[CourseVersion] = relationship(back_populates="modules")
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="module", order_by="Lesson.position"
    )
    resources: Mapped[list[Resource]] = relationship(
        back_populates="module", order_by="Resource.position"
    )

    @property
    def estimated_minutes(self) -> int:
        return sum(lesson.estimated_minutes for lesson in self.lessons)


class Lesson(db.Model):
    __tablename__ = "lessons"
    __table_args__ = (UniqueConstraint("module_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("course_modules.id"), index=True)
    slug: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int]
    estimated_minutes: Mapped[int]
    outcomes: Mapped[list] = mapped_column(JSON, default=list)
    #: Rendered from Markdown at load time, with raw HTML removed.
    body_html: Mapped[str] = mapped_column(Text)
    #: ``{"title", "url" or "resource", "captions", "transcript_html"}`` when the lesson has one.
    video: Mapped[dict | None] = mapped_column(JSON)
    #: The lesson's "what would you do?" scenarios, ``{"number", "title", "minutes",
    #: "answer_html"}``: each model answer shows once the tutor has written theirs.
    scenarios: Mapped[list] = mapped_column(JSON, default=list)

    module: Mapped[CourseModule] = relationship(back_populates="lessons")


class Resource(db.Model):
    """A file offered for download with a module (a template, a prompt card, captions)."""

    __tablename__ = "course_resources"
    __table_args__ = (UniqueConstraint("module_id", "filename"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("course_modules.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    mimetype: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    position: Mapped[int] = mapped_column(default=0)
    #: Listed for download on the module (captions files are served but not listed).
    listed: Mapped[bool] = mapped_column(default=True)

    module: Mapped[CourseModule] = relationship(back_populates="resources")


class LessonProgress(db.Model):
    """Where one tutor is with one lesson of the version their enrolment is pinned to."""

    __tablename__ = "lesson_progress"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "lesson_id"),
        Index("ix_lesson_progress_enrolment_seen", "enrolment_id", "last_seen_at"),
        #: Finds which trusts' tutors studied since the dashboards were last rebuilt.
        Index("ix_lesson_progress_last_seen", "last_seen_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Time spent reading, counted between page views and capped per view.
    seconds_spent: Mapped[int] = mapped_column(default=0)
    #: Set when a failed attempt flags this lesson for revisiting: the time spent on it since
    #: then is counted in ``revisit_seconds``.
    revisit_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revisit_seconds: Mapped[int] = mapped_column(default=0, server_default="0")

    lesson: Mapped[Lesson] = relationship()


class ScenarioAnswer(db.Model):
    """What a tutor wrote for a lesson's "what would you do?" scenario, before seeing the
    model answer."""

    __tablename__ = "scenario_answers"
    __table_args__ = (UniqueConstraint("enrolment_id", "lesson_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"), index=True)
    #: The scenario's place in the lesson (``Lesson.scenarios[n - 1]``).
    number: Mapped[int]
    answer: Mapped[str] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
