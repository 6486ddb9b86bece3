"""The demo trust's observations: two or three tutors with groups, each observed twice (the
first three times) by a leader of the group's school, through the real service, each dated
on a delivered session of theirs, with scores that rise between observations.

Call it once the trust's tutoring is loaded::

    from lms.observations.demo import load_demo
    load_demo(trust)
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from sqlalchemy import select

from lms.accounts.models import User
from lms.observations import services
from lms.observations.models import Observation
from lms.observations.rubric import RUBRIC
from lms.organisations.models import Membership, Trust
from lms.platform import clock
from lms.platform.clock import LONDON
from lms.platform.extensions import db
from lms.tutoring.models import GroupStatus, SessionStatus, TutoringGroup, TutoringSession
from lms.tutoring.policies import SCHOOL_TUTORING_ROLES

#: How many tutors are observed.
TUTORS_OBSERVED = 3

NOTES = {
    "starts_from_prior_knowledge": "Opened with two quick questions on last week's work.",
    "checks_understanding": "Asked the pupils to explain their method, not just the answer.",
    "keeps_every_pupil_engaged": "Mini whiteboards kept all three answering each question.",
    "specific_feedback": "Named the step that went wrong and had the pupil redo it.",
    "links_to_class_teaching": "Used the class's bar-model method and its vocabulary.",
    "manages_time": "The last task ran over, leaving little time for the review.",
    "builds_independence": "Began to ask pupils to check their own work before showing it.",
    "warm_purposeful_relationship": "Calm and encouraging; mistakes were welcomed.",
}
NEXT_STEPS = (
    "Keep five minutes at the end for each pupil to say what they learned today.",
    "Before correcting an error, ask the pupil to talk you through their thinking.",
    "Ask each pupil to plan how they will tackle a question before they start it.",
)
COMMENTS = (
    "A well-organised session; the pupils knew what they were there to do.",
    "Clear progress since the last observation, especially in the questioning.",
    "The group is settled and working hard. Next, hand more of the thinking to the pupils.",
)


def _observer(group: TutoringGroup) -> User | None:
    """A tutoring lead (else a school leader) at the group's school who is not its tutor."""
    members = db.session.scalars(
        select(Membership).where(Membership.school_id == group.school_id,
                                 Membership.role.in_(SCHOOL_TUTORING_ROLES),
                                 Membership.user_id != group.tutor_id)
        .order_by(Membership.role.desc(), Membership.id))
    return next((m.user for m in members), None)


def _sessions(group: TutoringGroup) -> list[TutoringSession]:
    return list(db.session.scalars(
        select(TutoringSession).where(TutoringSession.group_id == group.id,
                                      TutoringSession.status == SessionStatus.DELIVERED,
                                      TutoringSession.tutor_id == group.tutor_id)
        .order_by(TutoringSession.held_on)))


def _scores(rng: random.Random, step: int) -> dict[str, int]:
    """Mostly developing at first, rising by about a level by the last observation."""
    return {key: max(1, min(4, rng.choice((1, 2, 2, 2, 3)) + step + (rng.random() < 0.3)))
            for key in RUBRIC.keys}


def _on_the_day(session: TutoringSession) -> timedelta:
    """How far to move the clock back to the afternoon of the session (never forward)."""
    shift = datetime.combine(session.held_on, time(16, 30), tzinfo=LONDON) - clock.now()
    return min(shift, timedelta(0))


def load_demo(trust: Trust, *, seed: int = 19) -> list[Observation]:
    """Record the demo observations of ``trust``'s tutors; return them, oldest first. The
    clock is moved back to each session's day and moved back again after each one."""
    rng = random.Random(seed)
    made: list[Observation] = []
    observed: set[int] = set()
    groups = db.session.scalars(select(TutoringGroup).where(
        TutoringGroup.trust_id == trust.id, TutoringGroup.status == GroupStatus.ACTIVE)
        .order_by(TutoringGroup.id))
    for group in groups:
        if len(observed) >= TUTORS_OBSERVED:
            break
        observer, sessions = _observer(group), _sessions(group)
        if group.tutor_id in observed or observer is None or len(sessions) < 4:
            continue
        picks = [sessions[len(sessions) // 4], sessions[-2]]
        if not observed:
            picks.insert(1, sessions[len(sessions) // 2])
        for step, session in enumerate(picks):
            given = _scores(rng, min(step, 1) + (step == 2))
            shift = _on_the_day(session)
            clock.travel(shift)
            try:
                made.append(services.record_observation(group, services.ObservationRecord(
                    observed_on=session.held_on, session=session, scores=given,
                    notes={key: note for key, note in NOTES.items() if rng.random() < 0.5},
                    comment=COMMENTS[step], next_step=NEXT_STEPS[step]), observer=observer))
            finally:
                clock.travel(-shift)
        observed.add(group.tutor_id)
    db.session.flush()
    return made
