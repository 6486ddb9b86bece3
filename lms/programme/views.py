"""Nominating (one at a time or by CSV), approving, inviting and accepting. Each view
validates, calls one service, commits, and redirects."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms.accounts import services as accounts
from lms.accounts.views import link_problem
from lms.organisations.forms import (
    TrustSettingsForm,
)
from lms.organisations.models import School, Trust
from lms.platform import uploads
from lms.platform.authz import Access, Action, access, can, require
from lms.platform.errors import DomainError, TokenInvalid
from lms.platform.extensions import db
from lms.platform.forms import ReasonForm, RequiredReasonForm, fail
from lms.platform.web import bp
from lms.programme import imports, nominations, queries
from lms.programme.forms import (
    AcceptNominationForm,
    DecisionForm,
    NominationForm,
    NominationImportForm,
)
from lms.programme.models import Nomination, NominationImport

MAX_IMPORT_BYTES = 5 * 1024 * 1024


# --- nominations and enrolments -----------------------------------------------------------


def _candidate_fields(form) -> dict:
    return {
        "name": form.name.data,
        "email": form.email.data,
        "role_in_school": form.role_in_school.data,
        "holds_qts": form.holds_qts.data,
        "trn": form.trn.data,
        "tutoring_phase": form.tutoring_phase.data,
        "subject_focus": form.subject_focus.data,
    }


@bp.route("/schools/<int:school_id>/nominations/new", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def nominate(school_id: int):
    school = require(Action.NOMINATE, db.session.get(School, school_id))
    form = NominationForm()
    candidate = None
    if form.validate_on_submit():
        try:
            candidate = nominations.candidate_from(**_candidate_fields(form))
            problem = nominations.open_commitment(candidate.email)
            if problem:
                raise DomainError(f"{candidate.email} {problem}, so cannot be nominated again",
                                  field="email")
            if form.confirmed.data == "yes":
                nomination = nominations.nominate_tutor(school, candidate, actor=current_user)
                db.session.commit()
                flash(f"{nomination.candidate_name} has been nominated for the "
                      f"{nomination.pathway.label}. "
                      + ("The invitation has been sent." if nomination.status.value == "invited"
                         else "The central team will review the nomination."), "success")
                return redirect(url_for("lms.school_nominations", school_id=school.id))
        except DomainError as error:
            fail(form, error)
            candidate = None
        else:
            form.confirmed.data = "yes"
            return render_template("lms/nomination_confirm.html", form=form, school=school,
                                   candidate=candidate)
    return render_template("lms/nomination_form.html", form=form, school=school), (
        200 if not form.errors and not form.form_errors else 400
    )


@bp.get("/schools/<int:school_id>/nominations/template.csv")
@access(Access.SIGNED_IN)
def nomination_template(school_id: int):
    require(Action.NOMINATE, db.session.get(School, school_id))
    return Response(imports.csv_template(), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=nominations-template.csv"})


@bp.route("/schools/<int:school_id>/nominations/import", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def import_nominations(school_id: int):
    school = require(Action.NOMINATE, db.session.get(School, school_id))
    form = NominationImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            raw = uploads.read_upload(upload, MAX_IMPORT_BYTES)
            nomination_import = imports.start_import(
                school, filename=upload.filename, raw=raw,
                good_rows_only=form.good_rows_only.data, actor=current_user)
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            return redirect(url_for("lms.nomination_import", import_id=nomination_import.id))
    return render_template("lms/nomination_import_form.html", form=form, school=school), (
        200 if not form.errors and not form.form_errors else 400
    )


@bp.get("/imports/<int:import_id>")
@access(Access.SIGNED_IN)
def nomination_import(import_id: int):
    nomination_import = require(Action.VIEW, db.session.get(NominationImport, import_id))
    return render_template("lms/nomination_import.html", imp=nomination_import,
                           form=RequiredReasonForm())


@bp.post("/imports/<int:import_id>/good-rows")
@access(Access.SIGNED_IN)
def import_good_rows(import_id: int):
    nomination_import = require(Action.NOMINATE, db.session.get(NominationImport, import_id))
    try:
        imports.import_good_rows_only(nomination_import, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
    return redirect(url_for("lms.nomination_import", import_id=import_id))


@bp.get("/nominations/<int:nomination_id>")
@access(Access.SIGNED_IN)
def nomination(nomination_id: int):
    nomination = require(Action.VIEW, db.session.get(Nomination, nomination_id))
    return render_template(
        "lms/nomination.html",
        nomination=nomination,
        can_follow_up=can(current_user, Action.NOMINATE, nomination),
        can_decide=can(current_user, Action.DECIDE, nomination),
        reason_form=RequiredReasonForm(),
    )


def _nomination_action(nomination_id: int, action: Action, apply, done: str):
    nomination = require(action, db.session.get(Nomination, nomination_id))
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        apply(nomination, form.reason.data)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(done, "success")
    return redirect(url_for("lms.nomination", nomination_id=nomination_id))


@bp.post("/nominations/<int:nomination_id>/resend")
@access(Access.SIGNED_IN)
def resend_nomination(nomination_id: int):
    return _nomination_action(
        nomination_id, Action.NOMINATE,
        lambda n, _: nominations.send_nomination_invitation(n, actor=current_user),
        "A new invitation has been sent. Earlier links no longer work.")


@bp.post("/nominations/<int:nomination_id>/withdraw")
@access(Access.SIGNED_IN)
def withdraw_nomination(nomination_id: int):
    return _nomination_action(
        nomination_id, Action.NOMINATE,
        lambda n, reason: nominations.withdraw_nomination(n, actor=current_user, reason=reason),
        "The nomination has been withdrawn.")


@bp.route("/trusts/<int:trust_id>/approvals", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def approvals(trust_id: int):
    trust = require(Action.VIEW, db.session.get(Trust, trust_id))
    queue = queries.awaiting_approval(trust)
    form = DecisionForm()
    form.nomination_ids.choices = [(n.id, n.candidate_name) for n in queue]
    settings_form = TrustSettingsForm(obj=trust)
    if request.method == "POST":
        require(Action.DECIDE, trust)
        if form.validate_on_submit():
            chosen = [n for n in queue if n.id in set(form.nomination_ids.data or [])]
            approve = form.decision.data == "approve"
            try:
                if len(chosen) != len(form.nomination_ids.data or []):
                    raise DomainError("Some of those nominations have already been decided. "
                                      "Check the list and try again.", field="nomination_ids")
                nominations.decide_nominations(chosen, approve=approve, actor=current_user,
                                               reason=form.reason.data)
            except DomainError as error:
                fail(form, error)
            else:
                db.session.commit()
                flash(f"{len(chosen)} nomination{'s' if len(chosen) != 1 else ''} "
                      f"{'approved and invited' if approve else 'rejected'}.", "success")
                return redirect(url_for("lms.approvals", trust_id=trust.id))
    return render_template("lms/approvals.html", trust=trust, queue=queue, form=form,
                           settings_form=settings_form,
                           can_decide=can(current_user, Action.DECIDE, trust)), (
        200 if not form.errors and not form.form_errors else 400
    )


@bp.route("/join/<token>", methods=["GET", "POST"])
@access(Access.PUBLIC)
def accept_nomination(token: str):
    try:
        nomination = nominations.check_nomination_invitation(token)
    except TokenInvalid as error:
        return link_problem(error)
    existing = accounts.find_user_by_email(nomination.candidate_email)
    needs_password = existing is None or existing.password_hash is None
    form = AcceptNominationForm()
    if form.validate_on_submit():
        try:
            enrolment = nominations.accept_nomination(
                token, password=form.password.data if needs_password else None,
                privacy_consent=form.privacy_consent.data)
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            if needs_password or (current_user.is_authenticated
                                  and current_user.id == enrolment.user_id):
                from lms.accounts.sign_in import begin_sign_in

                return begin_sign_in(
                    enrolment.user, url_for("lms.enrolment", enrolment_id=enrolment.id),
                    "Your training has started. You have "
                    f"{enrolment.days_left()} days to finish and pass.")
            flash("Your training has started. Sign in to begin.", "success")
            return redirect(url_for("lms.sign_in"))
    return render_template("lms/accept_nomination.html", form=form, nomination=nomination,
                           needs_password=needs_password, token=token), (
        200 if not form.errors and not form.form_errors else 400
    )


@bp.post("/join/<token>/decline")
@access(Access.PUBLIC)
def decline_nomination(token: str):
    try:
        nominations.decline_nomination(token)
    except TokenInvalid as error:
        return link_problem(error)
    db.session.commit()
    return render_template("lms/declined.html")
