"""Item bank, blueprints, formative checks, summative attempts, grading and item analysis."""

from flask import Blueprint

bp = Blueprint("assessments", __name__)
