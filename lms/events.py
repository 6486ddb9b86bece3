"""Where the domains' event subscribers are wired: once, by ``create_app``.

A lower domain announces what happened through a blinker signal in its own ``events.py``; the
higher domain that must act on it keeps its subscriber in its own package, and this module
connects them. Subscribers run in the publisher's transaction; work that can wait is enqueued
after commit, as ever.
"""

from __future__ import annotations

from assessments.attempts.events import attempt_passed
from courses import subscribers as courses
from credentials.endorsements import subscribers as endorsements
from credentials.endorsements.events import endorsement_issued, endorsement_status_changed
from credentials.register import subscribers as register
from lms.organisations.events import trust_created
from lms.programme.events import enrolment_opened
from lms.safeguarding import subscribers as safeguarding
from lms.tutoring import subscribers as tutoring
from lms.tutoring.events import session_logged

#: (signal, subscriber) pairs: who listens to what.
SUBSCRIPTIONS = (
    (enrolment_opened, courses.pin_current_version),
    (attempt_passed, endorsements.issue_for_pass),
    (endorsement_issued, register.list_endorsed_tutor),
    (endorsement_status_changed, register.derive_entries_again),
    (trust_created, tutoring.keep_totals_from_the_start),
    (session_logged, safeguarding.stop_session_raised_from),
)


def connect_subscribers() -> None:
    """Connect every subscriber (connecting one twice is a no-op)."""
    for signal, subscriber in SUBSCRIPTIONS:
        signal.connect(subscriber)
