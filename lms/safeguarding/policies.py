"""Who may raise, open and act on a concern, and who sees only its counts.

A concern is opened only by those it is for: a concern about a child by the school's DSL and
deputies and the trust safeguarding lead; an allegation about an adult by the school's leaders
and the trust safeguarding lead; never by the person an allegation is about. The programme
admin may open one only through the break-glass page, with a reason, which is recorded and
told to the trust safeguarding lead. Views ask these functions, not ``authz.can``: the admin's
general reach does not extend to concerns.
"""

from __future__ import annotations

from lms.accounts.models import User
from lms.organisations.policies import school_ids_for, trust_ids_for
from lms.platform.roles import Role
from lms.safeguarding.models import Concern, ConcernKind

SCHOOL_ROLES = (Role.TUTOR, Role.SCHOOL_LEADER, Role.TUTORING_LEAD, Role.DSL, Role.DEPUTY_DSL)
#: Roles that see a trust's safeguarding counts and timings (never content).
TRUST_COUNT_ROLES = (Role.CENTRAL_TEAM, Role.TRUSTEE, Role.TRUST_SAFEGUARDING_LEAD)
#: Roles that see a school's counts and timings, exactly.
SCHOOL_COUNT_ROLES = (Role.SCHOOL_LEADER, Role.DSL, Role.DEPUTY_DSL)


def _signed_in(user: User | None) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def is_trust_lead(user: User, trust_id: int) -> bool:
    return _signed_in(user) and trust_id in trust_ids_for(user, Role.TRUST_SAFEGUARDING_LEAD)


def may_open(user: User, concern: Concern) -> bool:
    """Whether ``user`` may read the concern and act on it (without breaking glass)."""
    if not _signed_in(user) or user.id == concern.subject_id:
        return False
    if is_trust_lead(user, concern.trust_id):
        return True
    roles = (Role.DSL, Role.DEPUTY_DSL) if concern.kind == ConcernKind.ABOUT_CHILD \
        else (Role.SCHOOL_LEADER,)
    return concern.school_id in school_ids_for(user, *roles)


def may_break_glass(user: User, concern: Concern) -> bool:
    return (_signed_in(user) and user.is_programme_admin and user.id != concern.subject_id
            and not may_open(user, concern))


def may_see_receipt(user: User, concern: Concern) -> bool:
    return _signed_in(user) and concern.reporter_id == user.id


def may_review(user: User, concern: Concern) -> bool:
    """Suspend the person an allegation is about pending review, and end the review: the
    trust's central team or its safeguarding lead, never the person themselves."""
    if not _signed_in(user) or concern.kind != ConcernKind.ABOUT_ADULT \
            or user.id == concern.subject_id:
        return False
    return concern.trust_id in trust_ids_for(user, Role.CENTRAL_TEAM,
                                             Role.TRUST_SAFEGUARDING_LEAD)


def sees_trust_counts(user: User, trust_id: int) -> bool:
    return _signed_in(user) and (trust_id in trust_ids_for(user, *TRUST_COUNT_ROLES)
                                 or user.is_programme_admin)


def sees_school_counts(user: User, school_id: int) -> bool:
    return _signed_in(user) and school_id in school_ids_for(user, *SCHOOL_COUNT_ROLES)


def manages_settings(user: User, trust_id: int) -> bool:
    return _signed_in(user) and trust_id in trust_ids_for(user, Role.CENTRAL_TEAM,
                                                          Role.TRUST_SAFEGUARDING_LEAD)


def may_receive_alerts(user: User) -> bool:
    """Whether the header offers this person the list of concerns they may open."""
    return _signed_in(user) and user.has_role(Role.DSL, Role.DEPUTY_DSL, Role.SCHOOL_LEADER,
                                              Role.TRUST_SAFEGUARDING_LEAD)


def may_raise(user: User) -> bool:
    return _signed_in(user) and bool(school_ids_for(user, *SCHOOL_ROLES))
