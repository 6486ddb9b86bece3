"""The in-app outbox, for programme admins."""

from __future__ import annotations

from flask import render_template

from lms.notifications import queries as notifications_queries
from lms.notifications.models import OutboxEmail
from lms.platform.authz import Access, Action, access, require
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.platform.web import bp

# --- outbox and audit log ------------------------------------------------------------------


@bp.get("/outbox")
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def outbox():
    return render_template("lms/outbox.html", emails=notifications_queries.outbox())


@bp.get("/outbox/<int:email_id>")
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def outbox_email(email_id: int):
    email = require(Action.VIEW, db.session.get(OutboxEmail, email_id))
    return render_template("lms/outbox_email.html", email=email)

