"""The one place that answers "may this user do this to this object?".

Views declare who may reach them with ``@access(...)``; then load objects through
``require(action, obj)``, which answers 404 when the user may not even know the object exists
and 403 when they may see it but not do this to it. List pages filter with the same facts
through the ``*_ids_for`` helpers. A test enumerates the URL map and fails on any route that
has not declared its access.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from lms.models import (
    AuditEntry,
    Cluster,
    Enrolment,
    Membership,
    Nomination,
    NominationImport,
    OutboxEmail,
    Provider,
    Role,
    School,
    Trust,
    User,
)

F = TypeVar("F", bound=Callable[..., Any])


class Action(enum.StrEnum):
    VIEW = "view"
    MANAGE = "manage"
    #: Move a school to another trust: a platform-level change.
    TRANSFER = "transfer"
    #: Nominate tutors at a school, and follow up those nominations.
    NOMINATE = "nominate"
    #: Approve or reject nominations, extend or withdraw enrolments: the central team's call.
    DECIDE = "decide"
    #: Work through the course and assessments of an enrolment: its tutor only.
    STUDY = "study"


class Access(enum.StrEnum):
    #: Anyone, signed in or not (sign-in page, verification pages, health check).
    PUBLIC = "public"
    #: Any signed-in person; object checks inside the view narrow it further.
    SIGNED_IN = "signed_in"
    #: Someone whose password was just accepted and whose second factor is still to come
    #: (a marker in the session, for 10 minutes): the two-factor sign-in pages only.
    SECOND_FACTOR = "second_factor"


STAFF_ROLES = (Role.SCHOOL_LEADER, Role.CENTRAL_TEAM, Role.CLUSTER_LEAD, Role.TRUSTEE)


def access(kind: Access | str = Access.SIGNED_IN, roles: tuple[Role, ...] = ()) -> Callable[[F], F]:
    """Declare (and enforce) who may reach a view: public, any signed-in user, some roles, or
    someone half-way through signing in (password accepted, second factor pending)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if kind == Access.SECOND_FACTOR:
                from lms.two_factor_views import pending_user

                if pending_user() is None:
                    from flask import redirect, url_for

                    return redirect(url_for("lms.sign_in"))
            elif kind != Access.PUBLIC:
                if not current_user.is_authenticated:
                    from lms.extensions import login_manager

                    return login_manager.unauthorized()
                if roles and not current_user.has_role(*roles, Role.PROGRAMME_ADMIN):
                    abort(403)
            return view(*args, **kwargs)

        wrapper.access = Access(kind)  # type: ignore[attr-defined]
        wrapper.roles = roles  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


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


# --- policies -----------------------------------------------------------------------------

_policies: dict[type, Callable[[User, Action, Any], bool]] = {}


def policy(model: type) -> Callable:
    def register(fn: Callable[[User, Action, Any], bool]):
        _policies[model] = fn
        return fn

    return register


def can(user: User, action: Action, obj: Any) -> bool:
    if obj is None or user is None or not getattr(user, "is_authenticated", False):
        return False
    rule = _policies.get(type(obj))
    # The object's own rule first: a tutor reaching their own enrolment (every autosave of
    # an assessment) is answered without loading their memberships.
    if rule is not None and rule(user, action, obj):
        return True
    return action != Action.STUDY and is_admin(user)


def require(action: Action, obj: Any) -> Any:
    """Return ``obj`` if the current user may do ``action`` to it, else stop with 404 or 403."""
    if obj is None or not can(current_user, Action.VIEW, obj):
        abort(404)
    if action != Action.VIEW and not can(current_user, action, obj):
        abort(403)
    return obj


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
def _school(user: User, action: Action, school: School) -> bool:
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
        return _school(user, action, membership.school)
    if membership.cluster is not None:
        return _cluster(user, action, membership.cluster)
    return _trust(user, action, membership.trust)


@policy(Provider)
def _provider(user: User, action: Action, provider: Provider) -> bool:
    members = {m.provider_id for m in _memberships(user, Role.PROVIDER)}
    return action == Action.VIEW and provider.id in members


@policy(AuditEntry)
def _audit_entry(user: User, action: Action, entry: AuditEntry) -> bool:
    readers = trust_ids_for(user, Role.CENTRAL_TEAM, Role.TRUSTEE)
    return action == Action.VIEW and entry.trust_id in readers


@policy(OutboxEmail)
def _outbox_email(user: User, action: Action, email: OutboxEmail) -> bool:
    return False


@policy(Nomination)
def _nomination(user: User, action: Action, nomination: Nomination) -> bool:
    if action == Action.VIEW:
        return _school(user, Action.VIEW, nomination.school)
    if action == Action.NOMINATE:
        return _school(user, Action.NOMINATE, nomination.school)
    if action == Action.DECIDE:
        return nomination.trust_id in trust_ids_for(user, Role.CENTRAL_TEAM)
    return False


@policy(NominationImport)
def _nomination_import(user: User, action: Action, nomination_import: NominationImport) -> bool:
    return action in (Action.VIEW, Action.NOMINATE) and _school(
        user, Action.NOMINATE, nomination_import.school
    )


@policy(Enrolment)
def _enrolment(user: User, action: Action, enrolment: Enrolment) -> bool:
    if action == Action.STUDY:
        return enrolment.user_id == user.id
    if action == Action.VIEW:
        return enrolment.user_id == user.id or _school(user, Action.VIEW, enrolment.school)
    if action == Action.DECIDE:
        return enrolment.trust_id in trust_ids_for(user, Role.CENTRAL_TEAM)
    if action == Action.NOMINATE:
        return _school(user, Action.NOMINATE, enrolment.school)
    return False
