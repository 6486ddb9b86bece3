"""A school leader's nudge to a candidate who has stalled."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import User
from lms.audit import services as audit
from lms.notifications.services import link_to, send_email
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.programme.models import (
    Nomination,
    NominationStatus,
    SentReminder,
)
from lms.programme.nominations import new_invitation_link

# --- nudging ------------------------------------------------------------------------------

#: A candidate is reminded by hand at most once in this time.
NUDGE_INTERVAL = timedelta(hours=24)


def nudge_candidate(nomination: Nomination, *, actor: User | None) -> Nomination:
    """Email a candidate still on their way a reminder of their next step: to accept the
    invitation (with a fresh link), to finish the course (with the days left), or to sit the
    assessment (with what is still needed first). Once in ``NUDGE_INTERVAL`` at most."""
    from assessments.attempts.services import attempts_of, readiness
    from courses.services import course_progress
    from lms.insight.dashboards import NUDGE_STAGES
    from lms.insight.models import PipelineStage
    from lms.insight.pipeline import AttemptFacts, stage_of
    from lms.platform.clock import LONDON, today

    now = clock.now()
    name = nomination.candidate_name
    enrolment = nomination.enrolment
    progress = None
    attempts = []
    if enrolment is not None and enrolment.is_active:
        if now >= enrolment.deadline_at:
            raise DomainError(f"{name}'s training window has closed, so there is nothing to "
                              "remind them of")
        progress = course_progress(enrolment)
        attempts = attempts_of(enrolment)
    stage = stage_of(nomination.status, enrolment.status if enrolment else None,
                     course_complete=progress is not None and progress.complete,
                     attempts=[AttemptFacts(a.number, a.submitted_at, a.passed)
                               for a in attempts], register_status=None)
    if stage not in NUDGE_STAGES:
        raise DomainError(f"{name} is not in progress ({stage.label.lower()}), so there is "
                          "nothing to remind them of")
    last = db.session.scalar(select(func.max(SentReminder.sent_at)).where(
        SentReminder.kind == "nudge", SentReminder.subject_type == "Nomination",
        SentReminder.subject_id == nomination.id))
    if last is not None and now - last < NUDGE_INTERVAL:
        again = (last + NUDGE_INTERVAL).astimezone(LONDON)
        raise DomainError(f"{name} was reminded less than a day ago. You can remind them "
                          f"again after {again:%H:%M} on {again:%-d %B}.")
    try:
        with db.session.begin_nested():
            db.session.add(SentReminder(kind="nudge", subject_type="Nomination",
                                        subject_id=nomination.id,
                                        key=today(now).isoformat(), sent_at=now))
    except IntegrityError as exc:
        raise DomainError(f"{name} has already been reminded today.") from exc

    school = nomination.school.name
    changes: dict = {"reminder": (None, stage.value)}
    if stage == PipelineStage.INVITED:
        if nomination.status != NominationStatus.INVITED:
            changes["status"] = (nomination.status, NominationStatus.INVITED)
            nomination.move_to(NominationStatus.INVITED)
        version = nomination.invitation_version
        link = new_invitation_link(nomination)
        changes["invitation_version"] = (version, nomination.invitation_version)
        send_email(nomination.candidate_email,
                   "A reminder: your invitation to train as a tutor", "nudge",
                   kind="invited", name=name, school=school, link=link,
                   days=current_app.config["INVITATION_MAX_AGE"].days,
                   window_days=current_app.config["TRAINING_WINDOW_DAYS"])
    else:
        days_left = enrolment.days_left(now)
        deadline = enrolment.deadline_at.astimezone(LONDON)
        common = {"name": enrolment.user.name, "school": school, "days_left": days_left,
                  "deadline": f"{deadline:%H:%M} on {deadline:%-d %B %Y}"}
        if stage == PipelineStage.IN_TRAINING:
            send_email(enrolment.user.email,
                       f"{days_left} day{'' if days_left == 1 else 's'} left to finish your "
                       "tutor training", "nudge", kind="training", percent=progress.percent,
                       link=link_to("courses.course", enrolment_id=enrolment.id), **common)
        else:
            second = stage == PipelineStage.FAILED_FIRST_ATTEMPT
            send_email(enrolment.user.email,
                       "Your second attempt at the tutor assessment" if second
                       else "You are ready to take your tutor assessment", "nudge",
                       kind="assessment", second=second,
                       needs=readiness(enrolment, now, progress).needs,
                       link=link_to("assessments.assessment", enrolment_id=enrolment.id),
                       **common)
    audit.record("nomination.nudged", nomination, actor=actor, changes=changes)
    return nomination

