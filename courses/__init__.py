"""Pathway courses: pathways, modules, lessons, progress, and loading content from files."""

from flask import Blueprint

bp = Blueprint("courses", __name__)
