"""Observations built through the real services: a school with a tutoring group, the people
around it, and observations of its tutor."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

from lms.accounts.models import User
from lms.observations import services
from lms.observations.models import Observation
from lms.observations.rubric import RUBRIC
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.tutoring.models import TutoringGroup, TutoringSession
from tests.factories import make_member, make_school
from tests.tutoring_factory import make_group

#: Tutors chose this password when they accepted their nomination.
TUTOR_PASSWORD = "tutor password 2026"


def make_observed_school(*, weeks: int = 8) -> SimpleNamespace:
    """A school with a group started ``weeks`` ago, its school leader, tutoring lead and the
    trust's central team."""
    school = make_school()
    group = make_group(school, starts_on=clock.today() - timedelta(weeks=weeks))
    return SimpleNamespace(
        school=school, trust=school.trust, group=group, tutor=group.tutor,
        leader=make_member(Role.SCHOOL_LEADER, school=school),
        lead=make_member(Role.TUTORING_LEAD, school=school),
        central=make_member(Role.CENTRAL_TEAM, trust=school.trust))


def scores(default: int = 3, **by_key: int | None) -> dict[str, int | None]:
    """A score for every criterion: ``default``, but those named."""
    return {key: by_key.get(key, default) for key in RUBRIC.keys}


def record_of(*, observed_on: date | None = None, given: dict | None = None,
              session: TutoringSession | None = None, notes: dict | None = None,
              next_step: str = "Ask each pupil to explain before you correct.",
              comment: str = "") -> services.ObservationRecord:
    return services.ObservationRecord(
        observed_on=observed_on or (session.held_on if session else clock.today()),
        scores=given if given is not None else scores(), session=session,
        notes=notes or {}, next_step=next_step, comment=comment)


def observe(group: TutoringGroup, observer: User, **record) -> Observation:
    observation = services.record_observation(group, record_of(**record), observer=observer)
    db.session.flush()
    return observation


def form_data(*, observed_on: date | None = None, given: dict | None = None,
              next_step: str = "Ask each pupil to explain before you correct.",
              session_id: str = "", **extra) -> dict[str, str]:
    """What the observation form posts."""
    data = {"session_id": session_id,
            "observed_on": (observed_on or clock.today()).isoformat(),
            "next_step": next_step, "comment": ""}
    for key, value in (given if given is not None else scores()).items():
        if value is not None:
            data[services.score_field(key)] = str(value)
        data[services.note_field(key)] = ""
    data.update(extra)
    return data
