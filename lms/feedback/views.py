"""Feedback pages."""

from lms.feedback import bp  # noqa: F401
