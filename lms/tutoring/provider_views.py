"""Providers' pages: their groups, and session logs uploaded by CSV."""

from __future__ import annotations

from flask import Response, render_template
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from wtforms import FileField

from lms.organisations.models import Provider
from lms.platform import uploads
from lms.platform.authz import Access, Action, access, require
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.forms import Form, fail
from lms.platform.roles import Role
from lms.tutoring import bp, provider_logs
from lms.tutoring.models import AbsenceReason, Attendance, CancelReason

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


class SessionUploadForm(Form):
    file = FileField("CSV file", description=(
        f"Up to {provider_logs.MAX_CSV_ROWS:,} rows: one per pupil per session, or one for a "
        "cancelled session. Use the template's columns."))


@bp.route("/providers/<int:provider_id>/sessions", methods=["GET", "POST"])
@access(Access.SIGNED_IN, roles=(Role.PROVIDER,))
def provider_sessions(provider_id: int):
    provider = require(Action.VIEW, db.session.get(Provider, provider_id))
    form = SessionUploadForm()
    result = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            result = provider_logs.import_session_csv(
                provider, uploads.read_upload(upload, MAX_UPLOAD_BYTES), actor=current_user,
                filename=getattr(upload, "filename", "") or "")
        except DomainError as error:
            fail(form, error)
        except IntegrityError:  # the same sessions saved by another upload at that moment
            fail(form, DomainError("Another upload saved some of these sessions at the same "
                                   "moment. Upload the file again: what is already logged "
                                   "is not counted twice.", field="file"))
        else:
            if result.errors:
                db.session.rollback()  # all or nothing
            else:
                db.session.commit()
    status = 400 if form.errors or form.form_errors or (result and result.errors) else 200
    return render_template(
        "tutoring/provider_sessions.html", provider=provider, form=form, result=result,
        groups=provider_logs.groups_listing(provider),
        uploads=provider_logs.recent_uploads(provider),
        recent=provider_logs.recent_sessions(provider), cancel_reasons=list(CancelReason),
        absence_reasons=list(AbsenceReason), absent=Attendance.ABSENT,
    ), status


@bp.get("/providers/<int:provider_id>/sessions/template.csv")
@access(Access.SIGNED_IN, roles=(Role.PROVIDER,))
def provider_sessions_template(provider_id: int):
    require(Action.VIEW, db.session.get(Provider, provider_id))
    return Response(provider_logs.csv_template(), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=sessions-template.csv"})
