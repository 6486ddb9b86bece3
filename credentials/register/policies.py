"""Who may see and act on register entries, and where a tutor works."""

from __future__ import annotations

from credentials.register.models import RegisterEntry
from lms.accounts.models import User
from lms.organisations.policies import school_ids_for, school_rule, trust_ids_for
from lms.platform.authz import Action, policy
from lms.platform.roles import Role


@policy(RegisterEntry)
def _register_entry(user: User, action: Action, entry: RegisterEntry) -> bool:
    """The trust's central team keeps the register; trustees, cluster leads and school leaders
    see the entries for their schools; a tutor sees their own."""
    if action == Action.MANAGE:
        return entry.trust_id in trust_ids_for(user, Role.CENTRAL_TEAM)
    if action != Action.VIEW:
        return False
    if entry.user_id == user.id or entry.trust_id in trust_ids_for(
            user, Role.CENTRAL_TEAM, Role.TRUSTEE):
        return True
    return any(school_rule(user, Action.VIEW, school) for school in entry.schools)


def schools_where_they_work(person: User, trust_id: int) -> set[int]:
    """The trust's schools where a person holds a role, trains, or may tutor."""
    from sqlalchemy import select

    from credentials.register.models import register_entry_schools
    from lms.organisations.models import School
    from lms.platform.extensions import db
    from lms.programme.models import Enrolment

    ids = {m.school_id for m in person.memberships
           if m.school_id is not None and m.trust_id == trust_id}
    ids |= set(db.session.scalars(select(Enrolment.school_id).where(
        Enrolment.user_id == person.id, Enrolment.trust_id == trust_id)))
    ids |= set(db.session.scalars(
        select(register_entry_schools.c.school_id)
        .join(RegisterEntry, RegisterEntry.id == register_entry_schools.c.entry_id)
        .join(School, School.id == register_entry_schools.c.school_id)
        .where(RegisterEntry.user_id == person.id, School.trust_id == trust_id)))
    return ids


def may_keep_records(user: User, trust_id: int, person: User) -> bool:
    """Who records a person's DBS checks and safeguarding training for a trust: its central
    team, or a leader of one of the trust's schools where the person works; never the person
    themselves."""
    if person.id == user.id:
        return False  # nobody records their own safeguarding checks
    if user.is_programme_admin or trust_id in trust_ids_for(user, Role.CENTRAL_TEAM):
        return True
    leading = school_ids_for(user, Role.SCHOOL_LEADER)
    return bool(leading & schools_where_they_work(person, trust_id))
