"""Memberships: granting and ending roles, and inviting staff."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from lms.accounts.models import User
from lms.accounts.security import (
    hash_password,
    make_token,
    spend_token,
)
from lms.accounts.services import create_user, find_user_by_email, user_from_token
from lms.audit import services as audit
from lms.notifications.services import link_to, send_email
from lms.organisations.models import (
    Cluster,
    Membership,
    Provider,
    School,
    Trust,
)
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.roles import Role

INVITATION = "invitation"


def _scope_for(
    role: Role,
    *,
    trust: Trust | None,
    cluster: Cluster | None,
    school: School | None,
    provider: Provider | None,
) -> dict:
    scope = role.scope
    if scope == "platform":
        return {}
    if scope == "provider":
        if provider is None:
            raise DomainError("Choose the provider organisation", field="provider_id")
        return {"provider_id": provider.id}
    if scope == "school":
        if school is None:
            raise DomainError("Choose the school", field="school_id")
        return {"trust_id": school.trust_id, "school_id": school.id}
    if scope == "cluster":
        if cluster is None:
            raise DomainError("Choose the cluster", field="cluster_id")
        return {"trust_id": cluster.trust_id, "cluster_id": cluster.id}
    if trust is None:
        raise DomainError("Choose the trust", field="trust_id")
    return {"trust_id": trust.id}


def grant_membership(
    user: User,
    role: Role | str,
    *,
    actor: User | None,
    trust: Trust | None = None,
    cluster: Cluster | None = None,
    school: School | None = None,
    provider: Provider | None = None,
) -> Membership:
    try:
        role = Role(role)
    except ValueError as exc:
        raise DomainError("Choose a role", field="role") from exc
    scope = _scope_for(role, trust=trust, cluster=cluster, school=school, provider=provider)
    for existing in user.memberships:
        same = existing.role == role and all(
            getattr(existing, key) == value for key, value in scope.items()
        )
        if same:
            raise DomainError(f"{user.name} already holds that role there", field="role")
    membership = Membership(user=user, role=role, **scope)
    db.session.add(membership)
    db.session.flush()
    db.session.expire(user, ["memberships"])
    audit.record(
        "membership.granted",
        membership,
        actor=actor,
        changes={"role": (None, role.value), "user_id": (None, user.id), **{
            key: (None, value) for key, value in scope.items()
        }},
    )
    return membership


def end_membership(membership: Membership, *, actor: User | None, reason: str | None = None
                   ) -> Membership:
    if membership.ended_at is not None:
        raise DomainError("That role has already been removed")
    if actor is not None and membership.user_id == actor.id and membership.role in (
        Role.CENTRAL_TEAM, Role.PROGRAMME_ADMIN
    ):
        raise DomainError("You cannot remove your own role. Ask a colleague to do it.")
    if membership.role == Role.PROGRAMME_ADMIN and _admin_count() <= 1:
        raise DomainError("The platform must keep at least one programme admin")
    changes = audit.diff(membership, ended_at=clock.now())
    db.session.expire(membership.user, ["memberships"])
    audit.record("membership.ended", membership, actor=actor, changes=changes, reason=reason)
    return membership


def _admin_count() -> int:
    """Active programme admins, with their rows locked: two admins removing each other at
    once must not leave the platform with none."""
    return len(
        db.session.scalars(
            select(Membership.id)
            .where(Membership.role == Role.PROGRAMME_ADMIN, Membership.ended_at.is_(None))
            .with_for_update()
        ).all()
    )


def invite_staff(
    email: str,
    name: str,
    role: Role | str,
    *,
    actor: User,
    trust: Trust | None = None,
    cluster: Cluster | None = None,
    school: School | None = None,
    provider: Provider | None = None,
) -> Membership:
    """Give a person a role, creating their account if need be, and email them a link.

    A new person sets their password from the link; someone who already has an account is
    told about the new role.
    """
    user = find_user_by_email(email)
    is_new = user is None
    if is_new:
        user = create_user(email, name, actor=actor)
    membership = grant_membership(
        user, role, actor=actor, trust=trust, cluster=cluster, school=school, provider=provider
    )
    if is_new or user.password_hash is None:
        send_invitation(user, membership)
    else:
        send_email(
            user.email,
            "You have a new role on the tutor endorsement platform",
            "role_granted",
            user=user,
            membership=membership,
        )
    return membership


def send_invitation(user: User, membership: Membership | None = None) -> None:
    token = make_token(INVITATION, {"user": user.id})
    link = link_to("lms.accept_invitation", token=token)
    days = current_app.config["INVITATION_MAX_AGE"].days
    send_email(
        user.email,
        "Set up your account on the tutor endorsement platform",
        "invitation",
        user=user,
        membership=membership,
        link=link,
        days=days,
    )


def _invited_user(token: str) -> tuple[User, dict]:
    """An invitation only sets a first password: once the account has one (from another
    invitation or a reset), a leftover link must not replace it."""
    user, payload = user_from_token(INVITATION, token, "INVITATION_MAX_AGE")
    if user.password_hash is not None:
        from lms.platform.errors import TokenInvalid

        raise TokenInvalid("Your account is already set up. Sign in, or reset your password "
                           "if you have forgotten it.")
    return user, payload


def check_invitation(token: str) -> User:
    return _invited_user(token)[0]


def accept_invitation(token: str, password: str) -> User:
    """Set the invited person's password and verify their email, using the link once."""
    user, payload = _invited_user(token)
    new_hash = hash_password(password)
    spend_token(INVITATION, payload)
    user.password_hash = new_hash
    if user.email_verified_at is None:
        user.email_verified_at = clock.now()
    audit.record("user.invitation_accepted", user, actor=user)
    return user

