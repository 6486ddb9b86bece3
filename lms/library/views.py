"""Library pages."""

from lms.library import bp  # noqa: F401
