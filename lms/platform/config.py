"""Configuration read from the environment.

Every setting the platform reads is listed in ``ENVIRONMENT`` (and in the README), so an
operator can see the whole surface in one place.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab

ENVIRONMENT: dict[str, str] = {
    "LMS_ENV": "development (default), production or testing",
    "SECRET_KEY": "signs sessions and links; required in production, at least 32 characters",
    "DATABASE_URL": "SQLAlchemy URL; default is SQLite in instance/lms.sqlite3",
    "CELERY_BROKER_URL": "e.g. redis://127.0.0.1:6379/0; unset runs tasks in-process",
    "CELERY_RESULT_BACKEND": "optional result backend; defaults to the broker URL",
    "REDIS_URL": "shared counters and caches; defaults to CELERY_BROKER_URL when that is Redis",
    "BASE_URL": "public address used in emailed links, e.g. https://tutors.example.org",
    "MAIL_SERVER": "SMTP host; unset keeps email in the in-app outbox",
    "MAIL_PORT": "SMTP port (default 587)",
    "MAIL_USERNAME": "SMTP user",
    "MAIL_PASSWORD": "SMTP password",
    "MAIL_USE_TLS": "1 to use STARTTLS (default 1)",
    "MAIL_DEFAULT_SENDER": "From address (default no-reply@localhost)",
    "INVITATION_MAX_AGE_DAYS": "days an account invitation link stays valid (default 14)",
    "PASSWORD_RESET_MAX_AGE_MINUTES": "minutes a password-reset link stays valid (default 60)",
    "SIGN_IN_MAX_FAILURES": "failures before an account or address is locked (default 10)",
    "SIGN_IN_LOCK_MINUTES": "how long a lock lasts (default 15)",
    "TRAINING_WINDOW_DAYS": "days a tutor has to finish training and pass (default 28)",
    "ENCRYPTION_KEY": "encrypts signing keys and personal data at rest (44-character Fernet key); "
                      "required in production",
    "ENCRYPTION_KEY_FILE": "a file holding ENCRYPTION_KEY instead (e.g. a mounted secret)",
    "ISSUER_NAME": "the endorsing body named on every endorsement "
                   "(default School-Led Tutoring Programme)",
    "ENDORSEMENT_VALIDITY_YEARS": "years an endorsement is valid after it is issued (default 3)",
    "STATUS_LIST_TTL_SECONDS": "how long verifiers may cache a status list (default 300)",
    "API_REQUESTS_PER_MINUTE": "requests one provider API key may make a minute (default 120)",
    "VERIFICATION_REQUESTS_PER_MINUTE": "requests one network address may make a minute for "
                                        "public verification pages, their JSON, QR codes and "
                                        "certificates (default 120)",
    "DASHBOARD_MAX_AGE_SECONDS": "how old a trust's dashboard figures may be before a page view "
                                 "rebuilds them, if anything happened since (default 120; the "
                                 "beat rebuilds them every minute)",
    "LESSON_TIME_PERCENT": "the share of a lesson's computed minutes a tutor must spend on it "
                           "before it counts as complete, or as revisited after a failed "
                           "attempt (default 40)",
    "CONTENT_SOURCE_URL": "where the course content's files can be read, e.g. "
                          "https://git.example.org/tutors/platform/blob/main/ (the content "
                          "report links each lesson's file there; unset, it shows the path)",
    "LOG_LEVEL": "logging level (default INFO)",
}

WEAK_SECRET_KEYS = {"dev", "secret", "changeme", "change-me", "development", "test", "password"}
MIN_SECRET_KEY_LENGTH = 32
#: Seconds to wait for the broker to connect or answer before giving up on sending a task.
BROKER_SOCKET_TIMEOUT = 3


class ConfigError(RuntimeError):
    """The environment does not describe a configuration that may run."""


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from exc


def _development_secret_key(instance_path: Path) -> str:
    """A random key kept in instance/ so development sessions survive a restart."""
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _encryption_key(instance_path: Path, overrides: dict, production: bool) -> str:
    """The key that encrypts secrets at rest: given, read from a file, or (outside production)
    generated once and kept in instance/ beside the development secret key."""
    from cryptography.fernet import Fernet

    key = overrides.get("ENCRYPTION_KEY") or os.environ.get("ENCRYPTION_KEY")
    path = os.environ.get("ENCRYPTION_KEY_FILE")
    if not key and path:
        try:
            key = Path(path).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"ENCRYPTION_KEY_FILE cannot be read: {exc.strerror}") from exc
    if not key:
        if production:
            raise ConfigError("ENCRYPTION_KEY (or ENCRYPTION_KEY_FILE) must be set in production")
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file = instance_path / "encryption_key"
        if not key_file.exists():
            key_file.write_text(Fernet.generate_key().decode())
            key_file.chmod(0o600)
        key = key_file.read_text().strip()
    try:
        Fernet(key)
    except ValueError as exc:
        raise ConfigError("ENCRYPTION_KEY must be a Fernet key: 32 bytes, url-safe base64 "
                          "(44 characters)") from exc
    return key


def normalise_database_url(url: str) -> str:
    """Accept the common ``postgres://`` and ``postgresql://`` forms and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def build_config(instance_path: Path, overrides: dict | None = None) -> dict:
    overrides = dict(overrides or {})
    env_name = overrides.get("LMS_ENV") or os.environ.get("LMS_ENV", "development")
    if env_name not in {"development", "production", "testing"}:
        raise ConfigError(f"LMS_ENV must be development, production or testing, not {env_name!r}")
    production = env_name == "production"

    secret_key = overrides.get("SECRET_KEY") or os.environ.get("SECRET_KEY")
    if production:
        check_secret_key(secret_key)
    elif not secret_key:
        secret_key = _development_secret_key(instance_path)

    database_url = overrides.get("SQLALCHEMY_DATABASE_URI") or os.environ.get("DATABASE_URL")
    if not database_url:
        if production:
            raise ConfigError("DATABASE_URL must be set in production")
        instance_path.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{instance_path / 'lms.sqlite3'}"
    database_url = normalise_database_url(database_url)

    broker_url = os.environ.get("CELERY_BROKER_URL") or None
    redis_url = os.environ.get("REDIS_URL") or (
        broker_url if broker_url and broker_url.startswith("redis") else None
    )

    config: dict = {
        "LMS_ENV": env_name,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "REDIS_URL": redis_url,
        "CELERY": {
            "broker_url": broker_url,
            "result_backend": os.environ.get("CELERY_RESULT_BACKEND") or broker_url,
            "task_always_eager": broker_url is None,
            "task_eager_propagates": True,
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "task_ignore_result": True,
            "broker_connection_retry_on_startup": True,
            # A broker that accepts connections but never answers (a network partition) must
            # not hold a request: sending gives up within seconds and a sweep sends it later.
            "broker_transport_options": {"socket_timeout": BROKER_SOCKET_TIMEOUT,
                                         "socket_connect_timeout": BROKER_SOCKET_TIMEOUT},
            "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0,
                                          "interval_step": 0.2, "interval_max": 0.5},
            "timezone": "Europe/London",
            "beat_schedule": {
                "expire-invitations": {"task": "lms.tasks.expire_invitations",
                                       "schedule": 15 * 60},
                "lapse-enrolments": {"task": "lms.tasks.lapse_enrolments", "schedule": 15 * 60},
                "deadline-reminders": {"task": "lms.tasks.send_deadline_reminders",
                                       "schedule": 60 * 60},
                "submit-timed-out-attempts": {
                    "task": "assessments.tasks.submit_timed_out_attempts", "schedule": 60},
                "seal-audit-log": {"task": "lms.tasks.seal_audit_log", "schedule": 5},
                # Emails whose delivery task the broker lost (issue-missing-endorsements does
                # the same for passes).
                "requeue-queued-emails": {"task": "lms.tasks.requeue_queued_emails",
                                          "schedule": 5 * 60},
                "issue-missing-endorsements": {
                    "task": "credentials.tasks.issue_missing_endorsements", "schedule": 60},
                "publish-status-lists": {
                    "task": "credentials.tasks.publish_status_lists", "schedule": 60},
                "expire-endorsements": {
                    "task": "credentials.tasks.expire_endorsements", "schedule": 60 * 60},
                "endorsement-expiry-reminders": {
                    "task": "credentials.tasks.send_expiry_reminders", "schedule": 6 * 60 * 60},
                # Just after midnight in England, when checks and training lapse; and hourly.
                "refresh-register-at-midnight": {
                    "task": "credentials.tasks.refresh_register",
                    "schedule": crontab(hour=0, minute=1)},
                "refresh-register-hourly": {
                    "task": "credentials.tasks.refresh_register",
                    "schedule": crontab(minute=31)},
                "register-reminders": {
                    "task": "credentials.tasks.send_register_reminders",
                    "schedule": crontab(hour=7, minute=0)},
                "refresh-dashboards": {"task": "lms.tasks.refresh_dashboards", "schedule": 60},
                "sweep-expired-pupils": {"task": "tutoring.tasks.sweep_expired_pupils",
                                         "schedule": crontab(hour=2, minute=17)},
                "rebuild-tutoring-totals": {"task": "tutoring.tasks.rebuild_totals",
                                            "schedule": crontab(hour=3, minute=7)},
                "refresh-tutoring-dashboards": {"task": "tutoring.tasks.refresh_dashboards",
                                                "schedule": 60},
                # Unacknowledged concerns escalate within a minute of their threshold.
                "escalate-safeguarding-concerns": {
                    "task": "safeguarding.tasks.escalate_overdue", "schedule": 60},
                "purge-recorded-safeguarding-accounts": {
                    "task": "safeguarding.tasks.purge_recorded_accounts",
                    "schedule": crontab(hour=2, minute=47)},
                # School leaders' surveys a set time after their tutor's endorsement.
                "send-leader-surveys": {"task": "feedback.tasks.send_leader_surveys",
                                        "schedule": crontab(hour=9, minute=13)},
            },
        },
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": _env_int("MAIL_PORT", 587),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _env_bool("MAIL_USE_TLS", True),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "no-reply@localhost"),
        "INVITATION_MAX_AGE": timedelta(days=_env_int("INVITATION_MAX_AGE_DAYS", 14)),
        "PASSWORD_RESET_MAX_AGE": timedelta(
            minutes=_env_int("PASSWORD_RESET_MAX_AGE_MINUTES", 60)
        ),
        "EMAIL_VERIFICATION_MAX_AGE": timedelta(days=7),
        "TRAINING_WINDOW_DAYS": _env_int("TRAINING_WINDOW_DAYS", 28),
        "ENCRYPTION_KEY": _encryption_key(instance_path, overrides, production),
        "ISSUER_NAME": os.environ.get("ISSUER_NAME", "School-Led Tutoring Programme"),
        "ENDORSEMENT_VALIDITY_YEARS": _env_int("ENDORSEMENT_VALIDITY_YEARS", 3),
        "STATUS_LIST_TTL_SECONDS": _env_int("STATUS_LIST_TTL_SECONDS", 300),
        "API_REQUESTS_PER_MINUTE": _env_int("API_REQUESTS_PER_MINUTE", 120),
        "VERIFICATION_REQUESTS_PER_MINUTE": _env_int("VERIFICATION_REQUESTS_PER_MINUTE", 120),
        "DASHBOARD_MAX_AGE_SECONDS": _env_int("DASHBOARD_MAX_AGE_SECONDS",
                                              0 if env_name == "testing" else 120),
        "LESSON_TIME_PERCENT": _env_int("LESSON_TIME_PERCENT", 40),
        "CONTENT_SOURCE_URL": os.environ.get("CONTENT_SOURCE_URL") or None,
        "SIGN_IN_SLOW_AFTER": 5,
        "SIGN_IN_MAX_FAILURES": _env_int("SIGN_IN_MAX_FAILURES", 10),
        "SIGN_IN_LOCK": timedelta(minutes=_env_int("SIGN_IN_LOCK_MINUTES", 15)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        "TESTING": env_name == "testing",
    }
    if env_name == "testing":
        config["WTF_CSRF_ENABLED"] = True
        # Still Argon2id, with cheap settings so the suite is quick.
        config["PASSWORD_HASHER_PARAMS"] = {"time_cost": 1, "memory_cost": 1024,
                                            "parallelism": 1}
    config.update(overrides)
    if database_url.startswith("sqlite"):
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            k: v for k, v in config["SQLALCHEMY_ENGINE_OPTIONS"].items() if k != "pool_size"
        }
    elif database_url.startswith("postgresql"):
        # The platform's queries are short; compiling one to machine code (PostgreSQL's JIT,
        # on by default) costs more than a second for a dashboard's counts and saves nothing.
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "connect_args": {"options": "-c jit=off"}, **config["SQLALCHEMY_ENGINE_OPTIONS"]}
    return config


def check_secret_key(secret_key: str | None) -> None:
    if not secret_key:
        raise ConfigError("SECRET_KEY must be set in production")
    if len(secret_key) < MIN_SECRET_KEY_LENGTH or secret_key.lower() in WEAK_SECRET_KEYS:
        raise ConfigError(
            f"SECRET_KEY is too weak: use at least {MIN_SECRET_KEY_LENGTH} random characters"
        )
    if len(set(secret_key)) < 10:
        raise ConfigError("SECRET_KEY is too weak: it repeats too few characters")
