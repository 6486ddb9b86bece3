"""Entry point for ``gunicorn lms.wsgi:app``."""

from lms import create_app

app = create_app()
