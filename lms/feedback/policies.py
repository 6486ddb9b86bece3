"""Who may do what with feedback. Ratings are the tutor's own (their enrolment's ``STUDY``);
a survey is its leader's alone (checked in the view); the content report is the programme
admins' (its routes declare the role); a trust's survey delay is its central team's."""

from __future__ import annotations

from lms.accounts.models import User
from lms.organisations.policies import trust_ids_for
from lms.platform.roles import Role


def manages_feedback_settings(user: User, trust_id: int) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.is_programme_admin or trust_id in trust_ids_for(user, Role.CENTRAL_TEAM)
