"""Application core: the app factory and the ``lms`` blueprint."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, Flask

bp = Blueprint("lms", __name__)

_PACKAGE_DIR = Path(__file__).resolve().parent


def _shipped_dir(name: str) -> str:
    """``templates/`` and ``static/`` sit at the repository root in a checkout and inside the
    package in an installed copy."""
    installed = _PACKAGE_DIR / name
    return str(installed if installed.is_dir() else _PACKAGE_DIR.parent / name)


def create_app(config: dict | None = None) -> Flask:
    """Build the app. Reads configuration and wires extensions; never touches the database."""
    from lms.config import build_config

    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=_shipped_dir("templates"),
        static_folder=_shipped_dir("static"),
    )
    app.config.update(build_config(Path(app.instance_path), config))

    from lms.logs import configure_logging

    configure_logging(app)

    from lms.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_PACKAGE_DIR / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)

    from lms.celery_app import celery_init_app

    celery_init_app(app)

    from lms.counters import init_counters

    init_counters(app)

    from lms import web

    web.init_app(app)

    import assessments.tasks  # noqa: F401
    import assessments.views  # noqa: F401
    import courses.views  # noqa: F401
    import credentials.tasks  # noqa: F401
    import credentials.views  # noqa: F401
    import lms.dashboard_views  # noqa: F401
    import lms.privacy_views  # noqa: F401
    import lms.report_views  # noqa: F401
    import lms.tasks  # noqa: F401  (registers the core's tasks)
    import lms.two_factor_views  # noqa: F401
    import lms.views  # noqa: F401
    from courses import bp as courses_bp
    from courses.cli import courses_cli
    from lms.cli import register_cli

    app.register_blueprint(bp)
    app.register_blueprint(courses_bp)
    from assessments import bp as assessments_bp

    app.register_blueprint(assessments_bp)
    from credentials import bp as credentials_bp
    from credentials.cli import credentials_cli

    app.register_blueprint(credentials_bp)
    from credentials.api import api_bp

    app.register_blueprint(api_bp)
    app.cli.add_command(credentials_cli)
    register_cli(app)
    app.cli.add_command(courses_cli)
    from assessments.cli import assessments_cli

    app.cli.add_command(assessments_cli)
    return app


__all__ = ["create_app", "bp"]
logging.getLogger(__name__).addHandler(logging.NullHandler())
