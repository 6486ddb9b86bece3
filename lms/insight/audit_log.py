"""Searching a trust's audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, select

from lms.accounts.models import User
from lms.audit.models import AuditEntry
from lms.organisations.models import Trust
from lms.organisations.policies import trust_ids_for
from lms.platform.authz import Action, policy
from lms.platform.extensions import db
from lms.platform.roles import Role

#: Entries on one page of an audit log search.
AUDIT_PAGE_SIZE = 100


@dataclass(frozen=True)
class AuditPage:
    """One page of an audit log search, newest first."""

    entries: list[AuditEntry]
    #: Entry ids for the paging links: ``after`` gives the newer page, ``before`` the older
    #: one; ``None`` when there is none.
    newer_after: int | None
    older_before: int | None


def audit_entries(
    trust: Trust | None,
    *,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    actor_email: str | None = None,
    reason: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    before: int | None = None,
    after: int | None = None,
    per_page: int = AUDIT_PAGE_SIZE,
) -> AuditPage:
    """Search a trust's audit log (every trust's for ``None``): action containing, object,
    who made the change (their email, exactly, in any case), reason containing, UK dates
    from and to. Pages hold ``per_page`` entries, newest first; ``before`` (an entry id)
    asks for the page of older entries, ``after`` for the page of newer ones."""
    from lms.insight.scopes import on_uk_days

    conditions = []
    if trust is not None:
        conditions.append(AuditEntry.trust_id == trust.id)
    if action:
        conditions.append(AuditEntry.action.contains(action, autoescape=True))
    if object_type:
        conditions.append(AuditEntry.object_type == object_type)
    if object_id:
        conditions.append(AuditEntry.object_id == object_id)
    if actor_email:
        conditions.append(AuditEntry.actor_id.in_(select(User.id).where(
            User.email == actor_email.strip().lower())))  # stored lower case
    if reason:
        conditions.append(AuditEntry.reason.icontains(reason.strip(), autoescape=True))
    conditions += on_uk_days(AuditEntry.created_at, date_from, date_to)
    query = select(AuditEntry).where(*conditions)
    if after is not None:
        found = list(db.session.scalars(query.where(AuditEntry.id > after)
                                        .order_by(AuditEntry.id).limit(per_page + 1)))
        entries = found[:per_page][::-1]
        newer, older = len(found) > per_page, None
    else:
        if before is not None:
            query = query.where(AuditEntry.id < before)
        found = list(db.session.scalars(query.order_by(AuditEntry.id.desc())
                                        .limit(per_page + 1)))
        entries = found[:per_page]
        newer, older = None, len(found) > per_page
    if not entries:
        return AuditPage([], None, None)

    def matches_beyond(edge) -> bool:
        return bool(db.session.scalar(select(exists().where(*conditions, edge))))

    if newer is None:
        newer = before is not None and matches_beyond(AuditEntry.id > entries[0].id)
    if older is None:
        older = matches_beyond(AuditEntry.id < entries[-1].id)
    return AuditPage(entries, entries[0].id if newer else None,
                     entries[-1].id if older else None)


@policy(AuditEntry)
def _audit_entry(user: User, action: Action, entry: AuditEntry) -> bool:
    readers = trust_ids_for(user, Role.CENTRAL_TEAM, Role.TRUSTEE)
    return action == Action.VIEW and entry.trust_id in readers
