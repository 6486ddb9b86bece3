"""The shell: the app factory, which wires every domain package once."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

_PACKAGE_DIR = Path(__file__).resolve().parent


def _shipped_dir(name: str) -> str:
    """``templates/`` and ``static/`` sit at the repository root in a checkout and inside the
    package in an installed copy."""
    installed = _PACKAGE_DIR / name
    return str(installed if installed.is_dir() else _PACKAGE_DIR.parent / name)


def create_app(config: dict | None = None) -> Flask:
    """Build the app. Reads configuration and wires extensions; never touches the database."""
    from lms.platform.config import build_config

    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=_shipped_dir("templates"),
        static_folder=_shipped_dir("static"),
    )
    app.config.update(build_config(Path(app.instance_path), config))

    from lms.platform.logs import configure_logging

    configure_logging(app)

    from lms.platform.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_PACKAGE_DIR / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)

    from lms.platform.celery_app import celery_init_app

    celery_init_app(app)

    from lms.platform.counters import init_counters

    init_counters(app)

    from lms.platform import web

    web.init_app(app)

    from lms.home import navigation

    navigation.init_app(app)

    # Every domain's views, policies, tasks and event subscribers, registered once.
    import assessments.attempts.tasks  # noqa: F401
    import assessments.attempts.views  # noqa: F401
    import courses.views  # noqa: F401
    import credentials.endorsements.policies  # noqa: F401
    import credentials.endorsements.tasks  # noqa: F401
    import credentials.endorsements.views  # noqa: F401
    import credentials.providers.policies  # noqa: F401
    import credentials.providers.views  # noqa: F401
    import credentials.register.policies  # noqa: F401
    import credentials.register.tasks  # noqa: F401
    import credentials.register.views  # noqa: F401
    import lms.accounts.sign_in  # noqa: F401
    import lms.accounts.two_factor_views  # noqa: F401
    import lms.accounts.views  # noqa: F401
    import lms.audit.tasks  # noqa: F401
    import lms.feedback.tasks  # noqa: F401
    import lms.feedback.views  # noqa: F401
    import lms.home.views  # noqa: F401
    import lms.insight.audit_views  # noqa: F401
    import lms.insight.record_views  # noqa: F401
    import lms.insight.report_views  # noqa: F401
    import lms.insight.tasks  # noqa: F401
    import lms.insight.views  # noqa: F401
    import lms.library.tasks  # noqa: F401
    import lms.library.views  # noqa: F401
    import lms.notifications.policies  # noqa: F401
    import lms.notifications.tasks  # noqa: F401
    import lms.notifications.views  # noqa: F401
    import lms.observations.tasks  # noqa: F401
    import lms.observations.views  # noqa: F401
    import lms.organisations.policies  # noqa: F401
    import lms.organisations.views  # noqa: F401
    import lms.privacy.views  # noqa: F401
    import lms.programme.policies  # noqa: F401
    import lms.programme.tasks  # noqa: F401
    import lms.programme.views  # noqa: F401
    import lms.research.tasks  # noqa: F401
    import lms.research.views  # noqa: F401
    import lms.safeguarding.tasks  # noqa: F401
    import lms.safeguarding.views  # noqa: F401
    import lms.tutoring.api  # noqa: F401
    import lms.tutoring.dashboard_views  # noqa: F401
    import lms.tutoring.policies  # noqa: F401
    import lms.tutoring.provider_views  # noqa: F401
    import lms.tutoring.service_level_views  # noqa: F401
    import lms.tutoring.tasks  # noqa: F401
    import lms.tutoring.views  # noqa: F401
    from assessments import bp as assessments_bp
    from assessments.bank.cli import assessments_cli
    from courses import bp as courses_bp
    from courses.cli import courses_cli
    from credentials import bp as credentials_bp
    from credentials.endorsements.cli import credentials_cli
    from credentials.providers.api import api_bp
    from lms import events
    from lms.cli import register_cli
    from lms.feedback import bp as feedback_bp
    from lms.library import bp as library_bp
    from lms.observations import bp as observations_bp
    from lms.research import bp as research_bp
    from lms.safeguarding import bp as safeguarding_bp
    from lms.tutoring import bp as tutoring_bp

    events.connect_subscribers()
    app.register_blueprint(web.bp)
    app.register_blueprint(courses_bp)
    app.register_blueprint(assessments_bp)
    app.register_blueprint(credentials_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(tutoring_bp)
    app.register_blueprint(safeguarding_bp)
    app.register_blueprint(observations_bp)
    app.register_blueprint(library_bp)
    app.register_blueprint(feedback_bp)
    app.register_blueprint(research_bp)
    app.cli.add_command(credentials_cli)
    register_cli(app)
    app.cli.add_command(courses_cli)
    app.cli.add_command(assessments_cli)
    return app


__all__ = ["create_app"]
logging.getLogger(__name__).addHandler(logging.NullHandler())
