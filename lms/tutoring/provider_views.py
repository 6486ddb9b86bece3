"""Providers' pages: their groups, and session logs uploaded by CSV."""

from __future__ import annotations

from flask import Response, render_template

from lms.organisations.models import Provider
from lms.platform import uploads
from lms.platform.authz import Access, Action, access, require
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.forms import fail
from lms.platform.roles import Role
from lms.tutoring import bp, provider_logs
from lms.tutoring.forms import PupilImportForm

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


@bp.route("/providers/<int:provider_id>/sessions", methods=["GET", "POST"])
@access(Access.SIGNED_IN, roles=(Role.PROVIDER,))
def provider_sessions(provider_id: int):
    provider = require(Action.VIEW, db.session.get(Provider, provider_id))
    form = PupilImportForm()
    form.file.description = (f"Up to {provider_logs.MAX_CSV_ROWS:,} rows: one per pupil per "
                             "session, or one for a cancelled session.")
    result = None
    if form.validate_on_submit():
        try:
            result = provider_logs.import_session_csv(
                provider, uploads.read_upload(form.file.data, MAX_UPLOAD_BYTES))
        except DomainError as error:
            fail(form, error)
        else:
            if result.errors:
                db.session.rollback()
            else:
                db.session.commit()
    status = 400 if form.errors or form.form_errors or (result and result.errors) else 200
    return render_template("tutoring/provider_sessions.html", provider=provider, form=form,
                           result=result, groups=provider_logs.groups_listing(provider)), status


@bp.get("/providers/<int:provider_id>/sessions/template.csv")
@access(Access.SIGNED_IN, roles=(Role.PROVIDER,))
def provider_sessions_template(provider_id: int):
    require(Action.VIEW, db.session.get(Provider, provider_id))
    return Response(provider_logs.csv_template(), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=sessions-template.csv"})
