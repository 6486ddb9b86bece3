"""Research pages."""

from lms.research import bp  # noqa: F401
