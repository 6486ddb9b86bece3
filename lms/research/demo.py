"""The demo trust's research: research consent at most of its schools and a pilot of its
small-group programme against another delivery model, ended yesterday so its side-by-side
shows. Built through the services, each step at the time it would have happened.

Call after the trust's tutoring demo: ``from lms.research.demo import load_demo;
load_demo(trust)``.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from lms.accounts.models import User
from lms.organisations.models import Membership, School, Trust
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.research.export import current_consent, record_consent
from lms.research.models import Pilot
from lms.research.pilots import PilotTerms, create_pilot, trust_programmes
from lms.tutoring.models import DeliveryModel, TutoringGroup


@contextmanager
def _at(moment: datetime):
    """Play what follows as if it were ``moment`` (never later than now); the clock is put
    back afterwards."""
    shift = min(moment - clock.now(), timedelta(0))
    clock.travel(shift)
    try:
        yield
    finally:
        clock.travel(-shift)


def _member(trust: Trust, role: Role, school: School | None = None) -> User | None:
    query = select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.role == role)
    query = query.where(Membership.school_id == school.id) if school else query.where(
        Membership.trust_id == trust.id)
    return db.session.scalars(query.order_by(User.id)).first()


def load_demo(trust: Trust) -> Pilot | None:
    """Consent at every school but the last (by name), and the pilot. Returns the pilot, or
    ``None`` when the trust has no two programmes with groups to compare."""
    central = _member(trust, Role.CENTRAL_TEAM)
    if central is None:
        return None
    starts = db.session.scalar(select(func.min(TutoringGroup.starts_on)).where(
        TutoringGroup.trust_id == trust.id)) or clock.today() - timedelta(weeks=10)
    schools = list(db.session.scalars(select(School).where(School.trust_id == trust.id)
                                      .order_by(School.name)))
    with _at(datetime.combine(starts - timedelta(days=7), time(9, 30), tzinfo=clock.LONDON)):
        for school in schools[:-1] if len(schools) > 1 else schools:
            if current_consent(school.id) is None:
                record_consent(school, actor=_member(trust, Role.SCHOOL_LEADER, school)
                               or central)
    programmes = trust_programmes(trust.id)
    by_model = {p.delivery_model: p for p in programmes.values()}
    pilot_programme = by_model.get(DeliveryModel.SMALL_GROUP)
    comparison = by_model.get(DeliveryModel.ONE_TO_ONE) or by_model.get(DeliveryModel.BLENDED)
    if pilot_programme is None or comparison is None:
        db.session.flush()
        return None
    ends = max(clock.today() - timedelta(days=1), starts + timedelta(days=1))
    with _at(datetime.combine(starts - timedelta(days=3), time(14, 0), tzinfo=clock.LONDON)):
        pilot = create_pilot(trust, PilotTerms(
            name="Small groups against one-to-one", programme_key=pilot_programme.key,
            comparison_kind="programme", comparison_programme_key=comparison.key,
            starts_on=starts, ends_on=ends,
            outcome="attendance_percent",
            notes="A term's pilot before deciding whether to scale small-group maths "
                  "across the trust."), actor=central)
    db.session.flush()
    return pilot
