"""Each person's home page."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from lms.platform import clock
from lms.platform.authz import Access, access
from lms.platform.extensions import db
from lms.platform.web import bp

# --- home and accounts --------------------------------------------------------------------


@bp.get("/")
@access(Access.PUBLIC)
def home():
    if not current_user.is_authenticated:
        return render_template("lms/landing.html")
    from lms.home.tutor import next_step
    from lms.tutoring.sessions import sessions_due

    step = next_step(current_user)
    if step is not None:
        db.session.commit()  # the course version is pinned at first use, as on the course page
    return render_template("lms/home.html", step=step, due=sessions_due(current_user),
                           today=clock.today(), safeguarding=_safeguarding_waiting())


def _safeguarding_waiting() -> int | None:
    """For those concerns are for: how many wait for acknowledgement (the in-app alert)."""
    from lms.safeguarding.policies import may_receive_alerts
    from lms.safeguarding.queries import waiting_for

    return waiting_for(current_user) if may_receive_alerts(current_user) else None

