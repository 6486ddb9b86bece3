"""Safeguarding's answers to what lower domains announce (connected in ``lms.events``)."""

from __future__ import annotations

from lms.safeguarding.services import mark_session_if_raised


def stop_session_raised_from(sender, **_) -> None:
    """A session logged after a concern was raised from it is marked stopped for
    safeguarding."""
    mark_session_if_raised(sender)
