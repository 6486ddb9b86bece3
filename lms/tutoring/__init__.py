"""Tutoring delivery: programmes, groups, pupils, sessions and attendance, progress, cost, and
the figures a trust reports on them."""

from flask import Blueprint

bp = Blueprint("tutoring", __name__)
