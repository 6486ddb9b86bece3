"""What the summative assessment announces; higher domains subscribe (wired in ``lms.events``)."""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()

#: Sent with the ``Enrolment`` whose attempt has just passed (and the enrolment moved to passed):
#: the endorsement is issued from it.
attempt_passed = signals.signal("attempt-passed")
