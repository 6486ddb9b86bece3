"""Business rules of the core: organisations, people, memberships and accounts.

Each function stages its change, writes an audit entry, flushes and returns the object; the
caller (a view, a CLI command, a task) commits once.
"""

from __future__ import annotations

import re
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select

from lms import audit, clock
from lms.counters import RateLimited, client_key, counters, wait_in_words
from lms.errors import DomainError
from lms.extensions import db
from lms.models import (
    Cluster,
    Membership,
    Phase,
    Provider,
    Role,
    School,
    SchoolAffiliation,
    Trust,
    User,
)
from lms.notifications import link_to, send_email
from lms.security import (
    check_password_strength,
    clear_sign_in_failures,
    hash_password,
    make_token,
    password_matches,
    read_token,
    record_sign_in_failure,
    sign_in_throttle,
    spend_token,
)

#: ASCII digits only: ``\d`` would also accept other scripts' digits (e.g. "١٢٣٤٥٦").
URN_PATTERN = re.compile(r"[0-9]{6}")
POSTCODE_PATTERN = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}")

INVITATION = "invitation"
PASSWORD_RESET = "password-reset"
EMAIL_VERIFICATION = "email-verification"


# --- validation shared by forms, CSV imports and the API ---------------------------------


def normalise_email(email: str) -> str:
    try:
        result = validate_email((email or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise DomainError(f"Enter a valid email address: {exc}", field="email") from exc
    return result.normalized.lower()


def normalise_urn(urn: str) -> str:
    urn = (urn or "").strip()
    if not URN_PATTERN.fullmatch(urn):
        raise DomainError("URN must be exactly 6 digits, for example 123456", field="urn")
    return urn


def normalise_postcode(postcode: str) -> str:
    compact = re.sub(r"\s+", "", (postcode or "").upper())
    if not POSTCODE_PATTERN.fullmatch(compact):
        raise DomainError("Enter a real UK postcode, for example SW1A 1AA", field="postcode")
    return f"{compact[:-3]} {compact[-3:]}"


def _required(value: str | None, field: str, label: str, max_length: int = 200) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(f"Enter the {label}", field=field)
    if len(value) > max_length:
        raise DomainError(f"{label.capitalize()} must be {max_length} characters or fewer",
                          field=field)
    return value


# --- organisations ----------------------------------------------------------------------


def create_trust(name: str, *, actor: User | None) -> Trust:
    name = _required(name, "name", "trust name")
    if db.session.scalar(select(Trust.id).where(func.lower(Trust.name) == name.lower())):
        raise DomainError(f"A trust called {name} already exists", field="name")
    trust = Trust(name=name)
    db.session.add(trust)
    db.session.flush()
    audit.record("trust.created", trust, actor=actor, changes={"name": (None, name)})
    return trust


def add_cluster(trust: Trust, name: str, *, actor: User | None) -> Cluster:
    name = _required(name, "name", "cluster name")
    if any(c.name.lower() == name.lower() for c in trust.clusters):
        raise DomainError(f"{trust.name} already has a cluster called {name}", field="name")
    cluster = Cluster(trust=trust, name=name)
    db.session.add(cluster)
    db.session.flush()
    audit.record("cluster.created", cluster, actor=actor, changes={"name": (None, name)})
    return cluster


def _check_cluster(trust: Trust, cluster: Cluster | None) -> None:
    if cluster is not None and cluster.trust_id != trust.id:
        raise DomainError("That cluster belongs to another trust", field="cluster_id")


def add_school(
    trust: Trust,
    *,
    urn: str,
    name: str,
    phase: Phase | str,
    local_authority: str,
    postcode: str,
    cluster: Cluster | None = None,
    actor: User | None,
) -> School:
    urn = normalise_urn(urn)
    if db.session.scalar(select(School.id).where(School.urn == urn)):
        raise DomainError(f"A school with URN {urn} is already on the platform", field="urn")
    _check_cluster(trust, cluster)
    try:
        phase = Phase(phase)
    except ValueError as exc:
        raise DomainError("Choose the school's phase", field="phase") from exc
    school = School(
        urn=urn,
        name=_required(name, "name", "school name"),
        phase=phase,
        local_authority=_required(local_authority, "local_authority", "local authority", 120),
        postcode=normalise_postcode(postcode),
        trust=trust,
        cluster=cluster,
    )
    db.session.add(school)
    db.session.flush()
    db.session.add(SchoolAffiliation(school=school, trust=trust, cluster=cluster))
    audit.record(
        "school.created",
        school,
        actor=actor,
        changes={"urn": (None, urn), "name": (None, school.name), "trust_id": (None, trust.id)},
    )
    return school


def update_school(
    school: School,
    *,
    name: str,
    phase: Phase | str,
    local_authority: str,
    postcode: str,
    actor: User | None,
) -> School:
    try:
        phase = Phase(phase)
    except ValueError as exc:
        raise DomainError("Choose the school's phase", field="phase") from exc
    changes = audit.diff(
        school,
        name=_required(name, "name", "school name"),
        phase=phase,
        local_authority=_required(local_authority, "local_authority", "local authority", 120),
        postcode=normalise_postcode(postcode),
    )
    if changes:
        audit.record("school.updated", school, actor=actor, changes=changes)
    return school


def move_school(
    school: School,
    *,
    trust: Trust,
    cluster: Cluster | None,
    actor: User | None,
    reason: str | None = None,
) -> School:
    """Move a school to another cluster or trust, closing its current affiliation."""
    _check_cluster(trust, cluster)
    if school.trust_id == trust.id and school.cluster_id == (cluster.id if cluster else None):
        raise DomainError("The school is already there", field="cluster_id")
    now = clock.now()
    current = next((a for a in school.affiliations if a.ended_at is None), None)
    if current is not None:
        current.ended_at = now
    old_trust_id = school.trust_id
    changes = audit.diff(school, trust_id=trust.id, cluster_id=cluster.id if cluster else None)
    school.trust = trust
    school.cluster = cluster
    db.session.add(SchoolAffiliation(school=school, trust=trust, cluster=cluster, started_at=now))
    if old_trust_id != trust.id:
        for membership in _active_memberships_at_school(school):
            membership.trust_id = trust.id
        # The trust it left keeps the record too: its auditors would otherwise see a school
        # vanish with no entry in their own log.
        audit.record("school.moved", school, actor=actor, changes=changes, reason=reason,
                     trust_id=old_trust_id)
    audit.record("school.moved", school, actor=actor, changes=changes, reason=reason)
    return school


def _active_memberships_at_school(school: School) -> list[Membership]:
    return list(
        db.session.scalars(
            select(Membership).where(
                Membership.school_id == school.id, Membership.ended_at.is_(None)
            )
        )
    )


def set_nomination_approval(trust: Trust, required: bool, *, actor: User | None) -> Trust:
    """Whether the trust's central team approves each nomination before it is sent."""
    changes = audit.diff(trust, requires_nomination_approval=bool(required))
    if changes:
        audit.record("trust.settings_changed", trust, actor=actor, changes=changes)
    return trust


def create_provider(name: str, *, actor: User | None) -> Provider:
    name = _required(name, "name", "provider name")
    if db.session.scalar(select(Provider.id).where(func.lower(Provider.name) == name.lower())):
        raise DomainError(f"A provider called {name} already exists", field="name")
    provider = Provider(name=name)
    db.session.add(provider)
    db.session.flush()
    audit.record("provider.created", provider, actor=actor)
    return provider


# --- people and memberships ---------------------------------------------------------------


def find_user_by_email(email: str) -> User | None:
    try:
        email = normalise_email(email)
    except DomainError:
        return None
    return db.session.scalar(select(User).where(User.email == email))


def create_user(email: str, name: str, *, actor: User | None, password: str | None = None) -> User:
    email = normalise_email(email)
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise DomainError("Someone with that email address already has an account", field="email")
    user = User(email=email, name=_required(name, "name", "name"))
    if password is not None:
        user.password_hash = hash_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", user, actor=actor)
    return user


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


def _user_from_token(purpose: str, token: str, max_age_key: str) -> tuple[User, dict]:
    payload = read_token(purpose, token, current_app.config[max_age_key])
    user = db.session.get(User, payload.get("user"))
    if user is None or not user.is_active:
        from lms.errors import TokenInvalid

        raise TokenInvalid("This link is not valid any more.")
    return user, payload


def _invited_user(token: str) -> tuple[User, dict]:
    """An invitation only sets a first password: once the account has one (from another
    invitation or a reset), a leftover link must not replace it."""
    user, payload = _user_from_token(INVITATION, token, "INVITATION_MAX_AGE")
    if user.password_hash is not None:
        from lms.errors import TokenInvalid

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


#: Reset emails one address may be sent in an hour, and reset requests one network address
#: may make: plenty for someone who lost the link, too few to flood an inbox or to probe.
RESETS_PER_EMAIL = 5
RESETS_PER_ADDRESS = 20
RESET_WINDOW = timedelta(hours=1)


def request_password_reset(email: str, address: str | None = None) -> None:
    """Email a reset link if the address has an account; say nothing either way.

    At most ``RESETS_PER_EMAIL`` emails an hour to one address, known or not (past that
    nothing is sent, and nothing different said); past ``RESETS_PER_ADDRESS`` requests an
    hour from one network ``address``, ``RateLimited``.
    """
    if address:
        allowed, retry_after = counters.hit(client_key("reset:addr", address),
                                            RESETS_PER_ADDRESS, RESET_WINDOW)
        if not allowed:
            raise RateLimited("Too many password resets have been asked for from your network. "
                              f"Try again in {wait_in_words(retry_after)}. If that address has "
                              "an account, a link we have already sent still works.",
                              retry_after)
    try:
        email = normalise_email(email)
    except DomainError:
        email = (email or "").strip().lower()
    if not counters.hit(client_key("reset:email", email), RESETS_PER_EMAIL, RESET_WINDOW)[0]:
        return
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return
    token = make_token(PASSWORD_RESET, {"user": user.id, "pw": (user.password_hash or "")[-12:]})
    link = link_to("lms.reset_password", token=token)
    minutes = int(current_app.config["PASSWORD_RESET_MAX_AGE"].total_seconds() // 60)
    send_email(user.email, "Reset your password", "password_reset", user=user, link=link,
               minutes=minutes)


def check_password_reset(token: str) -> User:
    user, payload = _user_from_token(PASSWORD_RESET, token, "PASSWORD_RESET_MAX_AGE")
    if payload.get("pw") != (user.password_hash or "")[-12:]:
        from lms.errors import TokenInvalid

        raise TokenInvalid("This link has already been used. Ask for a new one if you need it.")
    return user


def reset_password(token: str, password: str) -> User:
    user = check_password_reset(token)
    payload = read_token(PASSWORD_RESET, token, current_app.config["PASSWORD_RESET_MAX_AGE"])
    new_hash = hash_password(password)
    spend_token(PASSWORD_RESET, payload)
    user.password_hash = new_hash
    if user.email_verified_at is None:
        user.email_verified_at = clock.now()
    clear_sign_in_failures(user.email)
    audit.record("user.password_reset", user, actor=user)
    return user


def change_password(user: User, current_password: str, new_password: str) -> User:
    if not password_matches(user.password_hash, current_password):
        raise DomainError("Your current password is not right", field="current_password")
    check_password_strength(new_password)
    user.password_hash = hash_password(new_password)
    audit.record("user.password_changed", user, actor=user)
    return user


def request_email_verification(user: User) -> None:
    token = make_token(EMAIL_VERIFICATION, {"user": user.id, "email": user.email})
    link = link_to("lms.verify_email", token=token)
    send_email(user.email, "Confirm your email address", "verify_email", user=user, link=link)


def verify_email(token: str) -> User:
    user, payload = _user_from_token(EMAIL_VERIFICATION, token, "EMAIL_VERIFICATION_MAX_AGE")
    if payload.get("email") != user.email:
        from lms.errors import TokenInvalid

        raise TokenInvalid("This link was for a different email address.")
    spend_token(EMAIL_VERIFICATION, payload)
    changes = audit.diff(user, email_verified_at=clock.now())
    audit.record("user.email_verified", user, actor=user, changes=changes)
    return user


SIGN_IN_FAILED = "Enter a correct email address and password"


def authenticate(email: str, password: str, address: str | None) -> User:
    """Check a sign-in, throttled per account and per address; the same message for a wrong
    password and an unknown email."""
    try:
        # Count failures against the address as stored, so spelling variants that reach the
        # same account (case, full-width letters in the domain) share one lock.
        email = normalise_email(email)
    except DomainError:
        pass
    throttle = sign_in_throttle(email, address)
    if not throttle.allowed:
        raise DomainError(throttle.message)
    user = find_user_by_email(email)
    if (
        user is None
        or not password_matches(user.password_hash if user else None, password)
        or not user.is_active
    ):
        record_sign_in_failure(email, address)
        throttle = sign_in_throttle(email, address)
        raise DomainError(SIGN_IN_FAILED if throttle.allowed else throttle.message)
    clear_sign_in_failures(email)
    user.last_signed_in_at = clock.now()
    return user
