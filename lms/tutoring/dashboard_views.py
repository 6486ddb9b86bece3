"""Tutoring dashboards, the termly impact review and the funder return."""
