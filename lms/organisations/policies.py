"""Who may see and change trusts, clusters, schools, people and providers: the scope facts every
policy uses."""

from __future__ import annotations

from lms.accounts.models import User
from lms.organisations.models import Cluster, Membership, Provider, School, Trust
from lms.platform.authz import Action, policy
from lms.platform.roles import Role

STAFF_ROLES = (Role.SCHOOL_LEADER, Role.CENTRAL_TEAM, Role.CLUSTER_LEAD, Role.TRUSTEE)


# --- scope facts ------------------------------------------------------------------------


def _memberships(user: User, *roles: Role) -> list[Membership]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return [m for m in user.memberships if not roles or m.role in roles]


def trust_ids_for(user: User, *roles: Role) -> set[int]:
    return {m.trust_id for m in _memberships(user, *roles) if m.trust_id is not None}


def cluster_ids_for(user: User) -> set[int]:
    return {m.cluster_id for m in _memberships(user, Role.CLUSTER_LEAD)}


def school_ids_for(user: User, *roles: Role) -> set[int]:
    return {m.school_id for m in _memberships(user, *roles) if m.school_id is not None}


def is_admin(user: User) -> bool:
    return bool(_memberships(user, Role.PROGRAMME_ADMIN))


@policy(Trust)
def _trust(user: User, action: Action, trust: Trust) -> bool:
    if action == Action.VIEW:
        return trust.id in trust_ids_for(user, Role.CENTRAL_TEAM, Role.TRUSTEE)
    if action in (Action.MANAGE, Action.NOMINATE, Action.DECIDE):
        return trust.id in trust_ids_for(user, Role.CENTRAL_TEAM)
    return False


@policy(Cluster)
def _cluster(user: User, action: Action, cluster: Cluster) -> bool:
    if _trust(user, action, cluster.trust):
        return True
    return action == Action.VIEW and cluster.id in cluster_ids_for(user)


@policy(School)
def school_rule(user: User, action: Action, school: School) -> bool:
    if action == Action.TRANSFER:
        return False
    if _trust(user, action, school.trust):
        return True
    if action == Action.NOMINATE:
        return school.id in school_ids_for(user, Role.SCHOOL_LEADER)
    if action != Action.VIEW:
        return False
    return school.cluster_id in cluster_ids_for(user) or school.id in school_ids_for(
        user, Role.SCHOOL_LEADER
    )


@policy(User)
def _user(user: User, action: Action, person: User) -> bool:
    if person.id == user.id:
        return True
    if person.is_programme_admin:
        return False
    for membership in person.memberships:
        if membership.role == Role.PROVIDER:
            continue
        if _membership(user, action, membership):
            return True
    return False


@policy(Membership)
def _membership(user: User, action: Action, membership: Membership) -> bool:
    if membership.role == Role.PROGRAMME_ADMIN:
        return False
    if membership.trust_id is None:
        return False
    if membership.school is not None:
        return school_rule(user, action, membership.school)
    if membership.cluster is not None:
        return _cluster(user, action, membership.cluster)
    return _trust(user, action, membership.trust)


@policy(Provider)
def _provider(user: User, action: Action, provider: Provider) -> bool:
    members = {m.provider_id for m in _memberships(user, Role.PROVIDER)}
    return action == Action.VIEW and provider.id in members

