"""Which tutoring providers may see a trust's approved-tutor register status.

A grant is a trust's decision about its own tutors: the provider's API then answers with the
register status (approved, pending, suspended, removed) and the schools, never the DBS details
or the reasons behind a status. Withdrawn grants stay as history.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from credentials.register.models import ProviderAccess
from lms.accounts.models import User
from lms.audit import services as audit
from lms.organisations.models import Provider, Trust
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db


def open_access(trust: Trust) -> list[ProviderAccess]:
    """The providers that can see the trust's register now, by name."""
    return list(db.session.scalars(
        select(ProviderAccess).join(Provider, Provider.id == ProviderAccess.provider_id)
        .where(ProviderAccess.trust_id == trust.id, ProviderAccess.revoked_at.is_(None))
        .options(selectinload(ProviderAccess.provider)).order_by(Provider.name)))


def access_history(trust: Trust, limit: int = 200) -> list[ProviderAccess]:
    """Withdrawn grants, newest first: who could see the register, and until when."""
    return list(db.session.scalars(
        select(ProviderAccess)
        .where(ProviderAccess.trust_id == trust.id, ProviderAccess.revoked_at.is_not(None))
        .options(selectinload(ProviderAccess.provider))
        .order_by(ProviderAccess.revoked_at.desc(), ProviderAccess.id.desc()).limit(limit)))


def grant_provider_access(trust: Trust, provider: Provider | None, actor: User | None
                          ) -> ProviderAccess:
    """Let ``provider`` see the register status of the trust's tutors through the API."""
    if provider is None:
        raise DomainError("Choose a provider from the list", field="provider_id")
    already = db.session.scalar(select(ProviderAccess.id).where(
        ProviderAccess.trust_id == trust.id, ProviderAccess.provider_id == provider.id,
        ProviderAccess.revoked_at.is_(None)))
    if already is not None:
        raise DomainError(f"{provider.name} can already see the register status of "
                          f"{trust.name}'s tutors.", field="provider_id")
    access = ProviderAccess(trust_id=trust.id, provider_id=provider.id,
                            granted_by_id=getattr(actor, "id", None), granted_at=clock.now())
    db.session.add(access)
    db.session.flush()
    audit.record("provider_access.granted", access, actor=actor, trust_id=trust.id,
                 changes={"provider_id": (None, provider.id)})
    return access


def withdraw_provider_access(access: ProviderAccess, actor: User | None) -> ProviderAccess:
    """Stop the provider seeing the register status; its API answers change at once."""
    if access.revoked_at is not None:
        raise DomainError(f"{access.provider.name} no longer has access: it was withdrawn on "
                          f"{access.revoked_at:%-d %B %Y}.")
    access.revoked_at = clock.now()
    access.revoked_by_id = getattr(actor, "id", None)
    db.session.flush()
    audit.record("provider_access.withdrawn", access, actor=actor, trust_id=access.trust_id,
                 changes={"revoked": (False, True)})
    return access
