"""People, their roles, and what signing in keeps: recovery codes and used links."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import (
    ForeignKey,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.platform.types import UTCDateTime

if TYPE_CHECKING:
    from lms.organisations.models import Membership


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased, so uniqueness is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Argon2id hash; empty until the person sets a password from an invitation.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    #: The authenticator app's TOTP key, encrypted with ``ENCRYPTION_KEY`` ("totp-secret");
    #: set, with ``two_factor_enabled_at``, once the person has confirmed a code from the app.
    totp_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    two_factor_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The last TOTP time step accepted from this person: that code, and any older, never
    #: work again.
    totp_last_step: Mapped[int | None] = mapped_column()

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user",
        primaryjoin="and_(User.id == Membership.user_id, Membership.ended_at.is_(None))",
        viewonly=True,
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sign-in to inactive users
        return self.deactivated_at is None

    def has_role(self, *roles: Role) -> bool:
        return any(m.role in roles for m in self.memberships)

    @property
    def is_programme_admin(self) -> bool:
        return self.has_role(Role.PROGRAMME_ADMIN)

    @property
    def two_factor_enabled(self) -> bool:
        return self.two_factor_enabled_at is not None

    @property
    def two_factor_required(self) -> bool:
        """Whether a role this person holds needs a second factor at every sign-in."""
        return self.has_role(*TWO_FACTOR_ROLES)

    def __repr__(self) -> str:
        return f"<User {self.id}>"


#: Roles that must sign in with a second factor: they see or change every school of a trust
#: (or the platform), or open safeguarding concerns.
TWO_FACTOR_ROLES = (Role.CENTRAL_TEAM, Role.PROGRAMME_ADMIN, Role.TRUSTEE, Role.DSL,
                    Role.DEPUTY_DSL, Role.TRUST_SAFEGUARDING_LEAD)


class RecoveryCode(db.Model):
    """A single-use code that stands in for the authenticator app; only its keyed hash is
    kept."""

    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: ``lms.platform.crypto.keyed_hash`` of the code as ``security.normalise_recovery_code``
    #: gives it.
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UsedToken(db.Model):
    """A signed link that has been used; its id can never be used again."""

    __tablename__ = "used_tokens"

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

