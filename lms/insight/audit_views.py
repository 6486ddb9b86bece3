"""The trust's audit log, searchable."""

from __future__ import annotations

from flask import render_template, request

from lms.insight import audit_log
from lms.insight.forms import AuditSearchForm
from lms.organisations import queries as organisations_queries
from lms.organisations.models import Trust
from lms.platform.authz import Access, Action, access, require
from lms.platform.extensions import db
from lms.platform.web import bp


@bp.get("/trusts/<int:trust_id>/audit")
@access(Access.SIGNED_IN)
def trust_audit(trust_id: int):
    trust = require(Action.VIEW, db.session.get(Trust, trust_id))
    form = AuditSearchForm(request.args)
    page = None
    if form.validate():
        page = audit_log.audit_entries(
            trust,
            action=form.action.data,
            object_type=form.object_type.data,
            object_id=form.object_id.data,
            actor_email=form.actor.data,
            reason=form.reason.data,
            date_from=form.date_from.data,
            date_to=form.date_to.data,
            before=form.before.data,
            after=form.after.data,
        )
    entries = page.entries if page is not None else []
    actors = organisations_queries.users_by_id({e.actor_id for e in entries if e.actor_id})
    search = {f.name: request.args[f.name] for f in form
              if f.name not in ("before", "after") and request.args.get(f.name)}
    from lms.platform.clock import LONDON

    return render_template("lms/audit.html", trust=trust, form=form, page=page,
                           entries=entries, actors=actors, search=search,
                           uk_time=lambda moment: moment.astimezone(LONDON),
                           paged=bool(form.before.data or form.after.data)
                           ), 200 if page is not None else 400

