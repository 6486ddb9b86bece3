"""The school leader's survey about a tutor's training, a set time after the endorsement.

Every leader of the school that nominated the tutor is asked once per endorsement, by email,
when the trust's delay (default 6 weeks) has passed. Endorsements older than the delay plus
``SURVEY_WINDOW`` are not surveyed: a leader is not asked about training from long ago (when
the survey is first switched on, say).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from credentials.endorsements.models import Endorsement, EndorsementStatus
from lms.accounts.models import User
from lms.feedback.models import FeedbackSettings, LeaderSurvey
from lms.feedback.services import DEFAULT_SURVEY_WEEKS
from lms.notifications.services import send_email
from lms.organisations.models import Membership
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.roles import Role

SURVEY_WINDOW = timedelta(days=28)
MAX_MISSING = 2000
PRACTICE_QUESTION = "Has their practice changed?"


def survey_path(survey: LeaderSurvey) -> str:
    """The survey page's address (the feedback.survey route), for the email."""
    return f"/feedback/surveys/{survey.id}"


def due(trust_id: int | None = None) -> list[tuple[Endorsement, User]]:
    """Each (endorsement, school leader) whose survey is due and not yet sent (of one trust's
    endorsements, if given)."""
    now = clock.now()
    weeks = dict(db.session.execute(
        select(FeedbackSettings.trust_id, FeedbackSettings.survey_weeks)).all())
    longest = max([DEFAULT_SURVEY_WEEKS, *weeks.values()])
    query = select(Endorsement).where(
        Endorsement.status == EndorsementStatus.ACTIVE,
        Endorsement.issued_at <= now - timedelta(weeks=2),
        Endorsement.issued_at > now - timedelta(weeks=longest) - SURVEY_WINDOW)
    if trust_id is not None:
        query = query.where(Endorsement.trust_id == trust_id)
    candidates = db.session.scalars(query.order_by(Endorsement.id)).all()
    reached = []
    for endorsement in candidates:
        delay = timedelta(weeks=weeks.get(endorsement.trust_id, DEFAULT_SURVEY_WEEKS))
        if now - delay - SURVEY_WINDOW < endorsement.issued_at <= now - delay:
            reached.append(endorsement)
    if not reached:
        return []
    sent = set(db.session.execute(select(LeaderSurvey.endorsement_id, LeaderSurvey.leader_id)
                                  .where(LeaderSurvey.endorsement_id.in_(
                                      [e.id for e in reached]))))
    leaders: dict[int, list[User]] = {}
    for school_id, user in db.session.execute(
            select(Membership.school_id, User).join(User, User.id == Membership.user_id)
            .where(Membership.role == Role.SCHOOL_LEADER, Membership.ended_at.is_(None),
                   Membership.school_id.in_({e.school_id for e in reached}))
            .order_by(User.id)):
        leaders.setdefault(school_id, []).append(user)
    return [(endorsement, leader) for endorsement in reached
            for leader in leaders.get(endorsement.school_id, [])
            if leader.id != endorsement.user_id and (endorsement.id, leader.id) not in sent]


def send_due(trust_id: int | None = None) -> int:
    """Create and email every survey that is due; run again, it sends nothing twice."""
    count = 0
    for endorsement, leader in due(trust_id):
        survey = LeaderSurvey(
            endorsement_id=endorsement.id, leader_id=leader.id,
            school_id=endorsement.school_id, trust_id=endorsement.trust_id,
            tutor_id=endorsement.user_id, pathway=endorsement.pathway,
            course_version=endorsement.course_version, sent_at=clock.now())
        db.session.add(survey)
        db.session.flush()
        tutor = db.session.get(User, endorsement.user_id)
        send_email(leader.email, f"How is {tutor.name}'s tutoring going?", "feedback_survey",
                   leader=leader, tutor=tutor, endorsement=endorsement,
                   path=survey_path(survey))
        count += 1
    return count


def answer(survey: LeaderSurvey, leader: User, *, practice_changed: object, missing: str,
           would_nominate: object) -> LeaderSurvey:
    """Keep the leader's answers: only the leader it was sent to, and only once."""
    if survey.leader_id != leader.id:
        raise DomainError("This survey was sent to someone else.")
    if survey.answered_at is not None:
        raise DomainError("You have already answered this survey. Thank you.")
    try:
        score = int(str(practice_changed).strip())
    except (TypeError, ValueError):
        score = 0
    if score not in range(1, 6):
        raise DomainError(f"Choose a number from 1 to 5 for “{PRACTICE_QUESTION}”",
                          field="practice_changed")
    if would_nominate not in ("yes", "no"):
        raise DomainError("Say whether you would nominate others.", field="would_nominate")
    text = (missing or "").strip()
    if len(text) > MAX_MISSING:
        raise DomainError(f"Keep your answer to {MAX_MISSING:,} characters.", field="missing")
    survey.practice_changed = score
    survey.missing = text
    survey.would_nominate = would_nominate == "yes"
    survey.answered_at = clock.now()
    db.session.flush()
    return survey
