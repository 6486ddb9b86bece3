"""Lists and records that bring a tutor's training, results and endorsement together."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from assessments.attempts.forms import AdjustmentForm
from lms.organisations.models import School, Trust
from lms.platform.authz import Access, Action, access, can, require
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.forms import RequiredReasonForm, fail
from lms.platform.web import bp
from lms.programme import queries, window
from lms.programme.forms import (
    ExtendDeadlineForm,
)
from lms.programme.models import Enrolment


@bp.get("/schools/<int:school_id>/nominations")
@access(Access.SIGNED_IN)
def school_nominations(school_id: int):
    school = require(Action.VIEW, db.session.get(School, school_id))
    rows = queries.pipeline(school=school)
    return render_template(
        "lms/school_nominations.html",
        school=school,
        rows=rows,
        progress=_progress_of(rows),
        can_nominate=can(current_user, Action.NOMINATE, school),
    )


def _progress_of(rows) -> dict:
    from courses.queries import progress_summaries

    return progress_summaries([r.enrolment.id for r in rows if r.enrolment is not None])


@bp.get("/trusts/<int:trust_id>/tutors")
@access(Access.SIGNED_IN)
def trust_tutors(trust_id: int):
    trust = require(Action.VIEW, db.session.get(Trust, trust_id))
    rows = queries.pipeline(trust=trust)
    return render_template("lms/school_nominations.html", trust=trust, school=None, rows=rows,
                           progress=_progress_of(rows), can_nominate=False)


@bp.get("/enrolments/<int:enrolment_id>")
@access(Access.SIGNED_IN)
def enrolment(enrolment_id: int):
    enrolment = require(Action.VIEW, db.session.get(Enrolment, enrolment_id))
    from assessments.attempts.models import Adjustment
    from credentials.endorsements.queries import endorsement_for

    return render_template(
        "lms/enrolment.html",
        enrolment=enrolment,
        endorsement=endorsement_for(enrolment.id),
        can_decide=can(current_user, Action.DECIDE, enrolment),
        extend_form=ExtendDeadlineForm(prefix="extend"),
        withdraw_form=RequiredReasonForm(prefix="withdraw"),
        adjust_form=AdjustmentForm(prefix="adjust"),
        adjustments=db.session.query(Adjustment).filter_by(enrolment_id=enrolment.id).all(),
    )


@bp.post("/enrolments/<int:enrolment_id>/extend")
@access(Access.SIGNED_IN)
def extend_enrolment(enrolment_id: int):
    enrolment = require(Action.DECIDE, db.session.get(Enrolment, enrolment_id))
    form = ExtendDeadlineForm(prefix="extend")
    if form.validate_on_submit():
        try:
            window.extend_deadline(enrolment, days=form.days.data, reason=form.reason.data,
                                        actor=current_user)
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            flash(f"The deadline is now {enrolment.deadline_at:%-d %B %Y}.", "success")
            return redirect(url_for("lms.enrolment", enrolment_id=enrolment.id))
    return render_template("lms/enrolment.html", enrolment=enrolment, can_decide=True,
                           extend_form=form, adjust_form=AdjustmentForm(prefix="adjust"),
                           withdraw_form=RequiredReasonForm(prefix="withdraw"),
                           adjustments=[]), 400


@bp.post("/enrolments/<int:enrolment_id>/withdraw")
@access(Access.SIGNED_IN)
def withdraw_enrolment(enrolment_id: int):
    enrolment = require(Action.DECIDE, db.session.get(Enrolment, enrolment_id))
    form = RequiredReasonForm(prefix="withdraw")
    if form.validate_on_submit():
        try:
            window.withdraw_enrolment(enrolment, reason=form.reason.data,
                                           actor=current_user)
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            flash("The tutor has been withdrawn from training.", "success")
            return redirect(url_for("lms.enrolment", enrolment_id=enrolment.id))
    return render_template("lms/enrolment.html", enrolment=enrolment, can_decide=True,
                           extend_form=ExtendDeadlineForm(prefix="extend"), withdraw_form=form,
                           adjust_form=AdjustmentForm(prefix="adjust"), adjustments=[]), 400
