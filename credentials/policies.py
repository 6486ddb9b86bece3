"""Who may see and act on endorsements and provider API keys (registered with lms.authz)."""

from __future__ import annotations

from credentials.models import ApiKey, Endorsement, RegisterEntry
from lms.authz import Action, _school, policy, school_ids_for, trust_ids_for
from lms.models import Role, User


@policy(Endorsement)
def _endorsement(user: User, action: Action, endorsement: Endorsement) -> bool:
    """The tutor and the staff who can see the nominating school may see it; the issuing
    trust's central team may suspend, reinstate or revoke it."""
    if action == Action.VIEW:
        return endorsement.user_id == user.id or _school(user, Action.VIEW, endorsement.school)
    if action == Action.DECIDE:
        return endorsement.trust_id in trust_ids_for(user, Role.CENTRAL_TEAM)
    return False


@policy(ApiKey)
def _api_key(user: User, action: Action, key: ApiKey) -> bool:
    """A provider's own staff see and manage its keys."""
    providers = {m.provider_id for m in user.memberships if m.role == Role.PROVIDER}
    return action in (Action.VIEW, Action.MANAGE) and key.provider_id in providers


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
    return any(_school(user, Action.VIEW, school) for school in entry.schools)


def schools_where_they_work(person: User, trust_id: int) -> set[int]:
    """The trust's schools where a person holds a role, trains, or may tutor."""
    from sqlalchemy import select

    from credentials.models import register_entry_schools
    from lms.extensions import db
    from lms.models import Enrolment, School

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
