"""What tutoring announces; higher domains subscribe (wired in ``lms.events``)."""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()

#: Sent with the new ``TutoringSession`` once it is saved: a safeguarding concern raised
#: from that group's session that day, before it was logged, marks it stopped.
session_logged = signals.signal("session-logged")
