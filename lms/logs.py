"""Logging that never writes personal data or secrets."""

from __future__ import annotations

import logging
import re

from flask import Flask, has_request_context, request

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_TOKENISH = re.compile(r"(token|password|secret|key)=([^&\s]+)", re.IGNORECASE)


class RedactingFilter(logging.Filter):
    """Masks email addresses and credential-like query values in every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = _TOKENISH.sub(r"\1=[redacted]", _EMAIL.sub("[email]", message))
        if clean != message:
            record.msg, record.args = clean, None
        return True


class RequestFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.endpoint = request.endpoint if has_request_context() else "-"
        return super().format(record)


def configure_logging(app: Flask) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        RequestFormatter("%(asctime)s %(levelname)s %(name)s [%(endpoint)s] %(message)s")
    )
    handler.addFilter(RedactingFilter())
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(app.config["LOG_LEVEL"])
    for name in ("lms", "courses", "assessments", "credentials", "werkzeug", "celery"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
