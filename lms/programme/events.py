"""What the programme announces; higher domains subscribe (wired in ``lms.events``)."""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()

#: Sent with the new ``Enrolment`` before it is first saved: the course pins the version the
#: tutor will study.
enrolment_opened = signals.signal("enrolment-opened")
