"""The endorsed tutor's library: follow-on units after training, their progress and CPD
minutes, and the units recommended to each tutor from the evidence."""

from flask import Blueprint

bp = Blueprint("library", __name__)
