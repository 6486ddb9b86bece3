"""The training impact report's pages."""

from lms.research import bp  # noqa: F401
