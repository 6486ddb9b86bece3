"""Safeguarding concerns: from a tutor's worry to the school's DSL, timed, escalated,
audited, and kept here only until the school's own system holds the record."""

from flask import Blueprint

bp = Blueprint("safeguarding", __name__)
