"""A person's own data: downloading everything the platform holds about them, and erasure on
request."""

from __future__ import annotations

from lms import bp  # noqa: F401
