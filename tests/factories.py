"""Factories: small callables that build valid objects through the real services."""

from __future__ import annotations

import itertools

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.accounts.security import hash_password
from lms.organisations import people, services
from lms.organisations.models import Cluster, Membership, Phase, Provider, School, Trust
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.roles import Role

_counter = itertools.count(1)
_HASHES: dict[str, str] = {}


def _n() -> int:
    return next(_counter)


def make_trust(name: str | None = None) -> Trust:
    return services.create_trust(name or f"Trust {_n()}", actor=None)


def make_cluster(trust: Trust | None = None, name: str | None = None) -> Cluster:
    return services.add_cluster(trust or make_trust(), name or f"Cluster {_n()}", actor=None)


def make_school(
    trust: Trust | None = None,
    *,
    cluster: Cluster | None = None,
    urn: str | None = None,
    phase: Phase = Phase.PRIMARY,
    name: str | None = None,
) -> School:
    number = _n()
    return services.add_school(
        trust or (cluster.trust if cluster else make_trust()),
        urn=urn or f"{800000 + number:06d}",
        name=name or f"School {number}",
        phase=phase,
        local_authority="Leeds",
        postcode="LS1 4AP",
        cluster=cluster,
        actor=None,
    )


def make_provider(name: str | None = None) -> Provider:
    return services.create_provider(name or f"Provider {_n()}", actor=None)


def make_user(
    email: str | None = None,
    *,
    name: str | None = None,
    password: str | None = "correct horse battery staple",
) -> User:
    number = _n()
    user = accounts.create_user(email or f"person{number}@school.example", name or
                                f"Person {number}", actor=None)
    if password is not None:
        if password not in _HASHES:
            _HASHES[password] = hash_password(password)
        user.password_hash = _HASHES[password]
        user.email_verified_at = clock.now()
    db.session.flush()
    return user


def make_member(
    role: Role,
    *,
    trust: Trust | None = None,
    cluster: Cluster | None = None,
    school: School | None = None,
    provider: Provider | None = None,
    user: User | None = None,
    **user_kwargs,
) -> User:
    """A person holding ``role`` in the given scope (made up if not given)."""
    user = user or make_user(**user_kwargs)
    scope = role.scope
    if scope == "school" and school is None:
        school = make_school(trust)
    if scope == "cluster" and cluster is None:
        cluster = make_cluster(trust)
    if scope == "trust" and trust is None:
        trust = make_trust()
    if scope == "provider" and provider is None:
        provider = make_provider()
    people.grant_membership(user, role, actor=None, trust=trust, cluster=cluster,
                              school=school, provider=provider)
    return user


def membership_of(user: User, role: Role) -> Membership:
    return next(m for m in user.memberships if m.role == role)


def make_candidate(**overrides):
    from lms.programme.nominations import candidate_from

    number = _n()
    fields = {
        "name": f"Candidate {number}",
        "email": f"candidate{number}@school.example",
        "role_in_school": "teaching_assistant",
        "holds_qts": "no",
        "trn": "",
        "tutoring_phase": "primary",
        "subject_focus": "Reading",
    }
    fields.update(overrides)
    return candidate_from(**fields)


def make_nomination(school: School | None = None, *, actor: User | None = None, **overrides):
    from lms.programme.nominations import nominate_tutor

    return nominate_tutor(school or make_school(), make_candidate(**overrides), actor=actor)


def invitation_token(nomination) -> str:
    import re

    from sqlalchemy import select

    from lms.notifications.models import OutboxEmail

    email = db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.to_address == nomination.candidate_email)
        .order_by(OutboxEmail.id.desc())
    ).first()
    return re.search(r"/join/([^\s\"<]+)", email.body_text).group(1)


def make_enrolment(school: School | None = None, **overrides):
    from lms.programme.nominations import accept_nomination

    nomination = make_nomination(school, **overrides)
    db.session.commit()
    return accept_nomination(invitation_token(nomination), password="tutor password 2026",
                             privacy_consent=True)


def make_endorsement(school: School | None = None, **overrides):
    """An endorsement issued, through the real service, for a tutor who has passed."""
    from credentials.endorsements.services import issue_endorsement
    from lms.programme.models import EnrolmentStatus

    enrolment = make_enrolment(school, **overrides)
    enrolment.course_version = enrolment.course_version or "test-course-version"
    enrolment.move_to(EnrolmentStatus.PASSED, "Passed the assessment.")
    db.session.flush()
    return issue_endorsement(enrolment)


def read_lesson(enrolment, lesson, *, seconds: int | None = None):
    """Stay with a lesson as a tutor would (the time it needs, or ``seconds``), then mark it
    complete: its first view is moved back by that time, so nothing is in the future."""
    from datetime import timedelta

    from courses.services import complete_lesson, seconds_needed, view_lesson
    from lms.platform import clock

    now = clock.now()
    spent = seconds_needed(lesson) if seconds is None else seconds
    view_lesson(enrolment, lesson, at=now - timedelta(seconds=spent))
    return complete_lesson(enrolment, lesson, at=now)


def revisit_lesson(enrolment, lesson, *, seconds: int | None = None):
    """Open a lesson again and stay with it: the clock moves on by the time it needs (or
    ``seconds``), and the next view counts the time."""
    from datetime import timedelta

    from courses.services import seconds_needed, view_lesson
    from lms.platform import clock

    view_lesson(enrolment, lesson)
    clock.travel(timedelta(seconds=seconds_needed(lesson) if seconds is None else seconds))
    return view_lesson(enrolment, lesson)
