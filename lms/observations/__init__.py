"""Tutor practice, observed: a rubric from the course's key practices, observations of
tutoring sessions by school staff, and the change over time the tutor sees."""

from flask import Blueprint

bp = Blueprint("observations", __name__)
