"""What the endorsement announces; higher domains subscribe (wired in ``lms.events``)."""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()

#: Sent with a newly issued ``Endorsement``: the register lists its tutor.
endorsement_issued = signals.signal("endorsement-issued")
#: Sent with an ``Endorsement`` whose status just changed (suspended, reinstated, revoked,
#: expired): every register entry that references it is derived again.
endorsement_status_changed = signals.signal("endorsement-status-changed")
