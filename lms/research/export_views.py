"""Pilots and the research export: their pages."""

from lms.research import bp  # noqa: F401
