"""The one way the platform sends email: rendered from text and HTML templates, stored, then
delivered by a background task through SMTP, or kept in the in-app outbox when no SMTP server
is configured (so the demo shows every invitation)."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from email.message import EmailMessage

from flask import current_app, render_template
from sqlalchemy import select

from lms.notifications.models import EmailStatus, OutboxEmail
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.jobs import enqueue_after_commit

#: The background task this module enqueues, by name (its module imports this one).
DELIVER_TASK = "lms.tasks.deliver_email"


def send_email(to: str, subject: str, template: str, **context) -> OutboxEmail:
    """Render ``emails/<template>.txt`` and ``.html`` for ``to`` and queue delivery."""
    context.setdefault("base_url", current_app.config["BASE_URL"])
    email = OutboxEmail(
        to_address=to,
        subject=subject,
        template=template,
        body_text=render_template(f"emails/{template}.txt", subject=subject, **context),
        body_html=render_template(f"emails/{template}.html", subject=subject, **context),
    )
    if not current_app.config["MAIL_SERVER"]:
        # Nothing to deliver to: the outbox is where it stays, readable in the app.
        email.status = EmailStatus.OUTBOX
        email.attempts = 1
        db.session.add(email)
        return email
    db.session.add(email)
    db.session.flush()

    enqueue_after_commit(DELIVER_TASK, email.id)
    return email


def deliver(email: OutboxEmail) -> OutboxEmail:
    """Send a queued email once; an email already sent or held is left as it is."""
    if email.status != EmailStatus.QUEUED:
        return email
    config = current_app.config
    email.attempts += 1
    if not config["MAIL_SERVER"]:
        email.status = EmailStatus.OUTBOX
        return email
    message = EmailMessage()
    message["Subject"] = email.subject
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = email.to_address
    message.set_content(email.body_text)
    message.add_alternative(email.body_html, subtype="html")
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(message)
    email.status = EmailStatus.SENT
    email.sent_at = clock.now()
    return email


def waiting_longer_than(age: timedelta, limit: int = 1000) -> list[int]:
    """Emails queued more than ``age`` ago and still waiting to go out, oldest first: their
    delivery task was lost, or keeps failing."""
    return list(db.session.scalars(
        select(OutboxEmail.id)
        .where(OutboxEmail.status == EmailStatus.QUEUED,
               OutboxEmail.created_at <= clock.now() - age)
        .order_by(OutboxEmail.id).limit(limit)))


def link_to(endpoint: str, **values) -> str:
    """An absolute link for an email, built from ``BASE_URL`` so it works outside a request
    (background jobs, the CLI) exactly as inside one."""
    adapter = current_app.url_map.bind("localhost")
    return current_app.config["BASE_URL"] + adapter.build(endpoint, values)
