"""Entry point for ``celery -A lms.worker worker`` and ``celery -A lms.worker beat``."""

from lms import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
