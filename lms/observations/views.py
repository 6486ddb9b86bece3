"""Observations pages."""

from lms.observations import bp  # noqa: F401
