"""Feedback on the training: tutors' ratings of modules and the course, school leaders'
survey after endorsement, and the content report its authors use."""

from flask import Blueprint

bp = Blueprint("feedback", __name__)
