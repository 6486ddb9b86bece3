"""Opening a concern: every opening recorded, and the programme admin's break-glass opening
recorded with its reason and told to the trust safeguarding lead."""

from __future__ import annotations

from sqlalchemy import select

from lms.accounts.models import User
from lms.audit import services as audit
from lms.organisations.models import Membership
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.safeguarding.models import Concern, ConcernAlert, ConcernView, EntryKind
from lms.safeguarding.policies import may_break_glass, may_open
from lms.safeguarding.services import BREAK_GLASS_LEVEL, chronicle, members

REASON_MINIMUM = 20


def record_opening(concern: Concern, viewer: User, *, what: str = "opened") -> ConcernView:
    """Record that ``viewer`` (who may open it) opened the concern, or its PDF."""
    if not may_open(viewer, concern):
        raise PermissionError("not someone this concern is for")
    view = ConcernView(concern_id=concern.id, trust_id=concern.trust_id, user_id=viewer.id,
                       what=what, at=clock.now())
    db.session.add(view)
    db.session.flush()
    return view


def break_glass(concern: Concern, admin: User, *, reason: str) -> ConcernView:
    """The programme admin opens a concern not meant for them: only with a documented
    reason, recorded in the chronology, the access log and the audit log, and told to the
    trust safeguarding lead at once."""
    from lms.notifications.services import link_to, send_email

    if not may_break_glass(admin, concern):
        raise PermissionError("break-glass is for the programme admin only")
    reason = (reason or "").strip()
    if len(reason) < REASON_MINIMUM:
        raise DomainError(f"Say why you must open this concern (at least {REASON_MINIMUM} "
                          "characters): the trust safeguarding lead will read it",
                          field="reason")
    now = clock.now()
    view = ConcernView(concern_id=concern.id, trust_id=concern.trust_id, user_id=admin.id,
                       what="break-glass", break_glass_reason=reason[:2000], at=now)
    db.session.add(view)
    chronicle(concern, EntryKind.BREAK_GLASS, admin, at=now, text=reason[:2000])
    audit.record("safeguarding.break_glass", concern, actor=admin, trust_id=concern.trust_id,
                 reason=reason[:2000])
    link = link_to("safeguarding.access_log", trust_id=concern.trust_id)
    for lead in members(Membership.trust_id == concern.trust_id,
                        Role.TRUST_SAFEGUARDING_LEAD):
        if lead.id == concern.subject_id:
            continue
        exists = db.session.scalar(select(ConcernAlert.id).where(
            ConcernAlert.user_id == lead.id, ConcernAlert.concern_id == concern.id,
            ConcernAlert.level == BREAK_GLASS_LEVEL))
        if exists is None:
            db.session.add(ConcernAlert(user_id=lead.id, concern_id=concern.id,
                                        level=BREAK_GLASS_LEVEL, created_at=now))
        send_email(lead.email, "Safeguarding: a concern was opened by the programme admin",
                   "safeguarding_break_glass", person=lead, admin=admin, link=link)
    db.session.flush()
    return view


def access_log(trust_id: int, *, reader: User, limit: int = 500) -> list[ConcernView]:
    """The trust's openings, newest first; never those of a concern about ``reader``."""
    from lms.safeguarding.queries import not_about

    return list(db.session.scalars(
        select(ConcernView).join(Concern, Concern.id == ConcernView.concern_id)
        .where(ConcernView.trust_id == trust_id, not_about(reader))
        .order_by(ConcernView.at.desc(), ConcernView.id.desc()).limit(limit)))
