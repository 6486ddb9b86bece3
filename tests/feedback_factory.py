"""Factories for feedback: a small loaded course, tutors part-way through it, module checks
answered, ratings given and endorsed tutors whose leaders are surveyed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from assessments.checks.models import FormativeResult
from courses.services import course_progress, load_content
from lms.feedback import services
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.roles import Role
from tests.content_factory import write_content
from tests.factories import make_endorsement, make_enrolment, make_member, read_lesson

#: The password ``make_enrolment``'s tutors choose when they accept.
TUTOR_PASSWORD = "tutor password 2026"


def load_course(root: Path, **options) -> Path:
    """Two modules of two lessons (``module-1``, ``module-2``) unless told otherwise."""
    write_content(root, **options)
    load_content(root)
    db.session.commit()
    return root


def lessons_of(enrolment, module_index: int):
    return list(course_progress(enrolment).version.modules[module_index].lessons)


def finish_module(enrolment, module_index: int, *, seconds: int | None = None) -> None:
    for lesson in lessons_of(enrolment, module_index):
        read_lesson(enrolment, lesson, seconds=seconds)
    db.session.commit()


def finish_course(enrolment) -> None:
    for index, _ in enumerate(course_progress(enrolment).version.modules):
        finish_module(enrolment, index)


def rate(enrolment, module: str = "module-1", clear: int = 4, useful: int = 4,
         comment: str = ""):
    rating = services.rate(enrolment, module, clear=clear, useful=useful, comment=comment)
    db.session.commit()
    return rating


def answer_check(enrolment, topic: str, *, correct: int, total: int = 5) -> FormativeResult:
    """A submitted try at a module's check with this score (the items drawn do not matter
    to the content report)."""
    result = FormativeResult(enrolment_id=enrolment.id, topic=topic, items=[], correct=correct,
                             total=total, passed=correct * 5 >= total * 4,
                             created_at=clock.now(), submitted_at=clock.now())
    db.session.add(result)
    db.session.commit()
    return result


def stop_studying(enrolment, *, days: int = 15) -> None:
    """The tutor opens nothing more for ``days`` days (the clock moves on)."""
    clock.travel(timedelta(days=days))


def endorsed_with_leaders(leaders: int = 1, **overrides):
    """An endorsed tutor and the leaders of the school that nominated them."""
    from lms.organisations.models import School

    endorsement = make_endorsement(**overrides)
    school = db.session.get(School, endorsement.school_id)
    people = [make_member(Role.SCHOOL_LEADER, school=school) for _ in range(leaders)]
    db.session.commit()
    return endorsement, people


__all__ = ["load_course", "lessons_of", "finish_module", "finish_course", "rate",
           "answer_check", "stop_studying", "endorsed_with_leaders", "make_enrolment"]
