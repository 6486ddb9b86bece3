"""What organisations announce; higher domains subscribe (wired in ``lms.events``)."""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()

#: Sent with the new ``Trust`` once it is saved: tutoring keeps its totals from the start.
trust_created = signals.signal("trust-created")
