"""The demo trust's feedback, through the real services: tutors' ratings and comments on the
modules they finished (given just after finishing each, by moving the clock back there), a
few prompts skipped, the course rated by those who finished it, and school leaders' surveys
sent and mostly answered for the tutors endorsed long enough ago.

Call after the demo's tutors have studied and been endorsed:
``from lms.feedback.demo import load_demo; load_demo(trust)``, then commit.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import select

from courses.services import course_progress
from credentials.endorsements.models import Endorsement
from lms.feedback import services, surveys
from lms.feedback.models import COURSE, LeaderSurvey
from lms.organisations.models import Trust
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.programme.models import Enrolment

#: Module positions tutors find harder going (lower "clear" scores): the report shows them
#: first, as a real cohort's would.
HARDER = {3, 5}
COMMENTS = [
    "The worked example of a pupil stuck on the same step helped me more than the theory.",
    "Too much reading for a phone in one go; I had to come back to it twice.",
    "I'd like a short video of a real session for this part.",
    "The scenario questions made me think about my own group. More of those, please.",
    "Clear, but the checklist would be easier to use as a one-page printout.",
    "Some of this repeated the module before.",
    "I tried the questioning routine the next day and it worked with my Year 5 group.",
    "Hard to follow the bit on planning for a mixed group of three pupils.",
    "Useful examples for secondary maths; fewer for English.",
    "It took me much longer than the time shown.",
]
COURSE_COMMENTS = [
    "Practical throughout. The safeguarding module should come first, not later.",
    "I feel ready to start with my group. The module checks were a fair test.",
    "Good course; the time estimates were too low for someone new to tutoring.",
]
MISSING = [
    "More on working with pupils with SEND in a small group.",
    "How to keep the class teacher in the loop without extra meetings.",
    "Behaviour in small groups when one pupil dominates.",
    "",
    "Examples for older pupils who have fallen a long way behind in reading.",
]


@contextmanager
def _at(moment: datetime):
    shift = moment - clock.now()
    clock.travel(shift)
    try:
        yield
    finally:
        clock.travel(-shift)


def _rate(enrolment: Enrolment, module: str, at: datetime, rng: random.Random, *,
          harder: bool, comments: list[str]) -> bool:
    if rng.random() < 0.15:
        with _at(at):
            services.skip(enrolment, module)
        return False
    clear = rng.choice([2, 3, 3, 4] if harder else [3, 4, 4, 5, 5])
    useful = rng.choice([3, 4, 4, 5])
    comment = rng.choice(comments) if rng.random() < 0.45 else ""
    with _at(at):
        try:
            services.rate(enrolment, module, clear=clear, useful=useful, comment=comment)
        except DomainError:
            return False
    return True


def load_demo(trust: Trust) -> dict[str, int]:
    """Ratings for the trust's enrolments and surveys for its endorsements; returns counts."""
    rng = random.Random(19)
    rated = 0
    now = clock.now()
    for enrolment in db.session.scalars(select(Enrolment).where(
            Enrolment.trust_id == trust.id).order_by(Enrolment.id)):
        if not enrolment.course_version:
            continue
        try:
            progress = course_progress(enrolment)
        except DomainError:
            continue
        finished_at = None
        for module in progress.modules:
            if not (module.unlocked and module.complete):
                break
            finished_at = max((row.completed_at for row in module.done.values()
                               if row.completed_at), default=None)
            if finished_at is None or finished_at > now:
                break
            at = min(finished_at + timedelta(minutes=3), now)
            rated += _rate(enrolment, module.module.slug, at, rng,
                           harder=module.module.position in HARDER, comments=COMMENTS)
        if progress.complete and finished_at is not None:
            rated += _rate(enrolment, COURSE, min(finished_at + timedelta(minutes=5), now), rng,
                           harder=False, comments=COURSE_COMMENTS)
    sent = answered = 0
    delay = timedelta(weeks=services.survey_weeks(trust.id), days=1)
    for endorsement in db.session.scalars(select(Endorsement).where(
            Endorsement.trust_id == trust.id).order_by(Endorsement.issued_at)):
        due_at = endorsement.issued_at + delay
        if due_at >= now:
            continue
        with _at(due_at):
            sent += surveys.send_due(trust.id)
        for survey in db.session.scalars(select(LeaderSurvey).where(
                LeaderSurvey.endorsement_id == endorsement.id,
                LeaderSurvey.answered_at.is_(None))):
            answer_at = due_at + timedelta(days=rng.randint(1, 6))
            if rng.random() < 0.25 or answer_at >= now:
                continue
            with _at(answer_at):
                surveys.answer(survey, survey.leader, practice_changed=rng.choice([3, 4, 4, 5]),
                               missing=rng.choice(MISSING),
                               would_nominate="yes" if rng.random() < 0.85 else "no")
            answered += 1
    db.session.flush()
    return {"ratings": rated, "surveys_sent": sent, "surveys_answered": answered}
