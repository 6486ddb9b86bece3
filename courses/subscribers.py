"""What the course does when other domains announce something."""

from __future__ import annotations

from courses.services import current_version
from lms.programme.models import Enrolment


def pin_current_version(enrolment: Enrolment, **_) -> None:
    """A new enrolment studies the course version published when it opened."""
    course = current_version(enrolment.pathway)
    enrolment.course_version = course.version if course else None
