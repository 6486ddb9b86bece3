"""The evidence that training works: the training impact report, pilots with comparison
groups, and the pseudonymised research export."""

from flask import Blueprint

bp = Blueprint("research", __name__)
