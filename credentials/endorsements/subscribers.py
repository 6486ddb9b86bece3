"""What the endorsement does when other domains announce something."""

from __future__ import annotations

from credentials.endorsements.services import request_endorsement
from lms.programme.models import Enrolment


def issue_for_pass(enrolment: Enrolment, **_) -> None:
    """A pass issues an endorsement, in the background once the pass has committed."""
    request_endorsement(enrolment)
