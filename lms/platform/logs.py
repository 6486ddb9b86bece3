"""Logging that never writes personal data or secrets.

Every log record, from any logger (ours, werkzeug's, celery's, gunicorn's), is redacted when it
is created: email addresses and credential-like values in the message and in any traceback.
"""

from __future__ import annotations

import logging
import re
import traceback

from flask import Flask, has_request_context, request

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_TOKENISH = re.compile(r"(token|password|secret|key)=([^&\s'\"]+)", re.IGNORECASE)
#: Signed single-use links carry their token in the path (and so in every access log line).
_LINK_TOKEN = re.compile(r"(/(?:invitations|password/reset|account/verify|join)/)[^\s/?#'\"]+")


def redact(text: str) -> str:
    text = _LINK_TOKEN.sub(r"\1[redacted]", text)
    return _TOKENISH.sub(r"\1=[redacted]", _EMAIL.sub("[email]", text))


class RedactingFilter(logging.Filter):
    """Masks email addresses and credential-like values in a record and its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad log call must not break the request making it
            message = f"{record.msg} (unformattable arguments: {record.args!r})"
            record.msg, record.args = message, None
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        record._redacted = True
        return True


_redactor = RedactingFilter()
_base_factory = logging.getLogRecordFactory()


def _redacting_factory(*args, **kwargs) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    _redactor.filter(record)
    return record


class RequestFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.endpoint = request.endpoint if has_request_context() else "-"
        return super().format(record)


def configure_logging(app: Flask) -> None:
    if logging.getLogRecordFactory() is not _redacting_factory:
        logging.setLogRecordFactory(_redacting_factory)
    handler = logging.StreamHandler()
    handler.setFormatter(
        RequestFormatter("%(asctime)s %(levelname)s %(name)s [%(endpoint)s] %(message)s")
    )
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(app.config["LOG_LEVEL"])
