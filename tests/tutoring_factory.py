"""Tutoring built through the real services: programmes, tutors the register approves,
pupils, groups and logged sessions."""

from __future__ import annotations

import itertools
from datetime import date, time, timedelta

from credentials.register import services as register
from lms.accounts.models import User
from lms.organisations.models import School, Trust
from lms.platform import clock
from lms.platform.extensions import db
from lms.tutoring import groups, pupils, sessions
from lms.tutoring.models import Programme, Pupil, TutoringGroup, TutoringSession
from lms.tutoring.programmes import ProgrammeTerms, create_programme
from tests.factories import make_endorsement, make_school

_numbers = itertools.count(1)


def make_programme(trust: Trust, **overrides) -> Programme:
    terms = {"name": f"Programme {next(_numbers)}", "subject": "maths",
             "delivery_model": "small_group", "rate_pence": 3000, **overrides}
    return create_programme(trust, ProgrammeTerms(**terms))


def make_cleared_tutor(school: School | None = None, **overrides) -> User:
    """A tutor endorsed, with a DBS check in date and safeguarding training: approved on the
    register for ``school``."""
    school = school or make_school()
    return clear_for(make_endorsement(school, **overrides).user, school)


def clear_for(tutor: User, school: School) -> User:
    """Record what the register needs (a DBS check in date, safeguarding training) for an
    endorsed tutor, and list them for ``school``."""
    trust = school.trust
    n = next(_numbers)
    register.record_dbs_check(
        tutor, trust, certificate_number=f"{n:012d}", issued_on=clock.today() - timedelta(days=30),
        level="enhanced_barred", workforce="child", barred_lists=["children"],
        original_seen_by="Office", original_seen_on=clock.today() - timedelta(days=29),
        update_service=False, showed_information=False)
    register.record_training(tutor, trust, completed_on=clock.today() - timedelta(days=10))
    from credentials.register.derivation import refresh_register
    from credentials.register.queries import register_entry

    if register_entry(trust, tutor) is None:
        register.add_to_register(trust, tutor, schools=[school])
    entry = register_entry(trust, tutor)
    if school not in entry.schools:
        register.set_register_schools(entry, [*entry.schools, school])
    refresh_register(user_id=tutor.id)
    db.session.flush()
    return tutor


def make_pupil(school: School, **overrides) -> Pupil:
    n = next(_numbers)
    details = {"display_name": f"Pupil {n}", "reference": f"ADM{n:05d}", "year_group": 5,
               **overrides}
    return pupils.add_pupil(school, pupils.details_from(**details))


def make_group(school: School, *, programme: Programme | None = None,
               tutor: User | None = None, pupil_count: int = 2, starts_on: date | None = None,
               weekday: int | None = None, **overrides) -> TutoringGroup:
    programme = programme or make_programme(school.trust)
    tutor = tutor or make_cleared_tutor(school)
    starts_on = starts_on or clock.today() - timedelta(days=28)
    group = groups.create_group(
        school, programme=programme, tutor=tutor, name=overrides.pop("name", "Maths group"),
        weekday=clock.today().weekday() if weekday is None else weekday,
        starts_at=overrides.pop("starts_at", time(9, 0)), starts_on=starts_on,
        pupils=[make_pupil(school) for _ in range(pupil_count)], **overrides)
    for place in group.places:
        place.joined_on = starts_on
    db.session.flush()
    return group


def log_delivered(group: TutoringGroup, held_on: date | None = None, *, absent: tuple = (),
                  minutes: int | None = None, engagement: int = 4, **overrides
                  ) -> TutoringSession:
    """A delivered session: every pupil present, but those whose ids are in ``absent``."""
    held_on = held_on or clock.today()
    marks = {p.pupil_id: sessions.PupilMark("absent", "ill") if p.pupil_id in absent
             else sessions.PupilMark("present", engagement=engagement)
             for p in sessions.pupils_on(group, held_on)}
    log = sessions.SessionLog(held_on=held_on, status="delivered", minutes_delivered=minutes,
                              marks=marks, **overrides)
    return sessions.log_session(group, log, actor=None)


def log_cancelled(group: TutoringGroup, held_on: date | None = None,
                  reason: str = "school_event", **overrides) -> TutoringSession:
    log = sessions.SessionLog(held_on=held_on or clock.today(), status="cancelled",
                              cancel_reason=reason, **overrides)
    return sessions.log_session(group, log, actor=None)
