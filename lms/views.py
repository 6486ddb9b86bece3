"""Views of the core. Each validates, calls one service, commits, and redirects."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, logout_user

from lms import bp, nominations, queries, services
from lms.authz import Access, Action, access, can, require
from lms.counters import RateLimited
from lms.errors import DomainError, TokenInvalid
from lms.extensions import db
from lms.forms import (
    AcceptNominationForm,
    AdjustmentForm,
    AuditSearchForm,
    ChangePasswordForm,
    ClusterForm,
    DecisionForm,
    ExtendDeadlineForm,
    ForgotPasswordForm,
    InviteStaffForm,
    MoveSchoolForm,
    NominationForm,
    NominationImportForm,
    ReasonForm,
    RequiredReasonForm,
    SchoolForm,
    SetPasswordForm,
    SignInForm,
    TrustForm,
    TrustSettingsForm,
)
from lms.models import (
    Cluster,
    Enrolment,
    Membership,
    Nomination,
    NominationImport,
    OutboxEmail,
    Role,
    School,
    Trust,
    User,
)
from lms.web import commit_or_flash

MAX_IMPORT_BYTES = 5 * 1024 * 1024


def _safe_next(target: str | None) -> str:
    """Only follow ``next`` to a path on this site. Browsers read ``//host``, ``/\\host`` and
    slashes split by tabs or newlines as another site, so those are refused too."""
    if target and target.isprintable() and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not (
            target.startswith("//")
        ):
            return target
    return url_for("lms.home")


def _link_problem(error: TokenInvalid):
    db.session.rollback()
    return render_template("lms/link_problem.html", message=error.message), 400


def _fail(form, error: DomainError) -> None:
    db.session.rollback()
    form.add_domain_error(error)


# --- home and accounts --------------------------------------------------------------------


@bp.get("/")
@access(Access.PUBLIC)
def home():
    if not current_user.is_authenticated:
        return render_template("lms/landing.html")
    from lms.tutor_home import next_step

    step = next_step(current_user)
    if step is not None:
        db.session.commit()  # the course version is pinned at first use, as on the course page
    return render_template("lms/home.html", step=step)


@bp.route("/sign-in", methods=["GET", "POST"])
@access(Access.PUBLIC)
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("lms.home"))
    from lms.two_factor_views import begin_sign_in, forget_pending_sign_in

    forget_pending_sign_in()  # back at the password: any half-finished sign-in starts over
    form = SignInForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data, request.remote_addr)
        except DomainError as error:
            _fail(form, error)
            db.session.commit()
        else:
            db.session.commit()
            return begin_sign_in(user, _safe_next(request.args.get("next")))
    return render_template("lms/sign_in.html", form=form), 200 if not form.errors else 400


@bp.post("/sign-out")
@access(Access.SIGNED_IN)
def sign_out():
    logout_user()
    flash("You have signed out.", "success")
    return redirect(url_for("lms.sign_in"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@access(Access.PUBLIC)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            services.request_password_reset(form.email.data, request.remote_addr)
        except RateLimited as error:
            _fail(form, error)
            return render_template("lms/forgot_password.html", form=form), 429, {
                "Retry-After": str(error.retry_after)}
        db.session.commit()
        flash("If that address has an account, we have sent it a link to reset the password. "
              "The link works once.", "success")
        return redirect(url_for("lms.sign_in"))
    return render_template("lms/forgot_password.html", form=form)


def _password_from_link(check, apply, template: str, token: str, done_message: str):
    try:
        user = check(token)
    except TokenInvalid as error:
        return _link_problem(error)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = apply(token, form.password.data)
        except DomainError as error:
            _fail(form, error)
        else:
            db.session.commit()
            from lms.two_factor_views import begin_sign_in

            # A link proves the email address, not the second factor: that is still asked.
            return begin_sign_in(user, url_for("lms.home"), done_message)
    return render_template(template, form=form, user=user), 200 if not form.errors else 400


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@access(Access.PUBLIC)
def reset_password(token: str):
    return _password_from_link(services.check_password_reset, services.reset_password,
                               "lms/reset_password.html", token, "Your password has been reset.")


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@access(Access.PUBLIC)
def accept_invitation(token: str):
    return _password_from_link(services.check_invitation, services.accept_invitation,
                               "lms/accept_invitation.html", token,
                               "Your account is ready. Welcome.")


@bp.route("/account", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data,
                                     form.password.data)
        except DomainError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash("Your password has been changed.", "success")
            return redirect(url_for("lms.account"))
    from lms.two_factor_views import account_context

    return render_template("lms/account.html", form=form, **account_context(current_user)), (
        200 if not form.errors else 400
    )


@bp.post("/account/verify-email")
@access(Access.SIGNED_IN)
def send_verification():
    services.request_email_verification(current_user)
    db.session.commit()
    flash("We have sent you a link to confirm your email address.", "success")
    return redirect(url_for("lms.account"))


@bp.get("/account/verify/<token>")
@access(Access.PUBLIC)
def verify_email(token: str):
    try:
        services.verify_email(token)
    except TokenInvalid as error:
        return _link_problem(error)
    db.session.commit()
    flash("Your email address is confirmed.", "success")
    return redirect(url_for("lms.home"))


# --- trusts, clusters, schools -------------------------------------------------------------


@bp.route("/trusts", methods=["GET", "POST"])
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def trusts():
    form = TrustForm()
    if form.validate_on_submit():
        try:
            trust = services.create_trust(form.name.data, actor=current_user)
        except DomainError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash(f"{trust.name} has been added.", "success")
            return redirect(url_for("lms.trust", trust_id=trust.id))
    return render_template("lms/trusts.html", trusts=queries.all_trusts(), form=form), (
        200 if not form.errors else 400
    )


@bp.get("/trusts/<int:trust_id>")
@access(Access.SIGNED_IN)
def trust(trust_id: int):
    trust = require(Action.VIEW, db.session.get(Trust, trust_id))
    return render_template(
        "lms/trust.html",
        trust=trust,
        cluster_form=ClusterForm(),
        can_manage=can(current_user, Action.MANAGE, trust),
    )


@bp.post("/trusts/<int:trust_id>/clusters")
@access(Access.SIGNED_IN)
def add_cluster(trust_id: int):
    trust = require(Action.MANAGE, db.session.get(Trust, trust_id))
    form = ClusterForm()
    if form.validate_on_submit():
        try:
            cluster = services.add_cluster(trust, form.name.data, actor=current_user)
        except DomainError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash(f"Cluster {cluster.name} has been added.", "success")
            return redirect(url_for("lms.trust", trust_id=trust.id))
    return render_template("lms/trust.html", trust=trust, cluster_form=form, can_manage=True), 400


def _cluster_choices(trust: Trust) -> list[tuple[str, str]]:
    return [("", "No cluster")] + [(str(c.id), c.name) for c in trust.clusters]


def _cluster_from(form_field, trust: Trust) -> Cluster | None:
    if not form_field.data:
        return None
    cluster = db.session.get(Cluster, int(form_field.data))
    if cluster is None or cluster.trust_id != trust.id:
        raise DomainError("Choose one of the trust's clusters", field="cluster_id")
    return cluster


@bp.route("/trusts/<int:trust_id>/schools/new", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def add_school(trust_id: int):
    trust = require(Action.MANAGE, db.session.get(Trust, trust_id))
    form = SchoolForm()
    form.cluster_id.choices = _cluster_choices(trust)
    if form.validate_on_submit():
        try:
            school = services.add_school(
                trust,
                urn=form.urn.data,
                name=form.name.data,
                phase=form.phase.data,
                local_authority=form.local_authority.data,
                postcode=form.postcode.data,
                cluster=_cluster_from(form.cluster_id, trust),
                actor=current_user,
            )
        except DomainError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash(f"{school.name} has been added.", "success")
            return redirect(url_for("lms.school", school_id=school.id))
    return render_template("lms/school_form.html", form=form, trust=trust, school=None), (
        200 if not form.errors else 400
    )


@bp.get("/schools/<int:school_id>")
@access(Access.SIGNED_IN)
def school(school_id: int):
    school = require(Action.VIEW, db.session.get(School, school_id))
    return render_template(
        "lms/school.html",
        school=school,
        people=queries.school_people(school),
        can_manage=can(current_user, Action.MANAGE, school),
    )


@bp.route("/schools/<int:school_id>/edit", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def edit_school(school_id: int):
    school = require(Action.MANAGE, db.session.get(School, school_id))
    form = SchoolForm(obj=school)
    form.cluster_id.choices = _cluster_choices(school.trust)
    del form.urn, form.cluster_id
    if request.method == "GET":
        form.phase.data = school.phase.value
    if form.validate_on_submit():
        try:
            services.update_school(
                school,
                name=form.name.data,
                phase=form.phase.data,
                local_authority=form.local_authority.data,
                postcode=form.postcode.data,
                actor=current_user,
            )
        except DomainError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash("The school's details have been saved.", "success")
            return redirect(url_for("lms.school", school_id=school.id))
    return render_template("lms/school_form.html", form=form, trust=school.trust, school=school), (
        200 if not form.errors else 400
    )


@bp.route("/schools/<int:school_id>/move", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def move_school(school_id: int):
    school = require(Action.MANAGE, db.session.get(School, school_id))
    may_transfer = can(current_user, Action.TRANSFER, school)
    trusts = queries.all_trusts() if may_transfer else [school.trust]
    form = MoveSchoolForm()
    form.trust_id.choices = [(str(t.id), t.name) for t in trusts]
    if request.method == "GET":
        form.trust_id.data = str(school.trust_id)
        form.cluster_id.data = str(school.cluster_id or "")
    target = next((t for t in trusts if str(t.id) == form.trust_id.data), school.trust)
    form.cluster_id.choices = [("", "No cluster")] + [
        (str(c.id), f"{c.name} ({t.name})") for t in trusts for c in t.clusters
    ]
    if form.validate_on_submit():
        try:
            if str(target.id) != form.trust_id.data:
                raise DomainError("Choose a trust from the list", field="trust_id")
            services.move_school(
                school,
                trust=target,
                cluster=_cluster_from(form.cluster_id, target),
                actor=current_user,
                reason=form.reason.data,
            )
        except DomainError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash(f"{school.name} now belongs to {target.name}.", "success")
            return redirect(url_for("lms.school", school_id=school.id))
    return render_template("lms/move_school.html", form=form, school=school), (
        200 if not form.errors else 400
    )


# --- people -------------------------------------------------------------------------------


@bp.route("/trusts/<int:trust_id>/people", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def trust_people(trust_id: int):
    trust = require(Action.VIEW, db.session.get(Trust, trust_id))
    may_manage = can(current_user, Action.MANAGE, trust)
    form = InviteStaffForm()
    form.school_id.choices = [("", "Not a school role")] + [
        (str(s.id), s.name) for s in trust.schools
    ]
    form.cluster_id.choices = [("", "Not a cluster role")] + [
        (str(c.id), c.name) for c in trust.clusters
    ]
    if request.method == "POST":
        require(Action.MANAGE, trust)
        if form.validate_on_submit():
            try:
                school = next((s for s in trust.schools if str(s.id) == form.school_id.data),
                              None)
                membership = services.invite_staff(
                    form.email.data,
                    form.name.data,
                    form.role.data,
                    actor=current_user,
                    trust=trust,
                    cluster=_cluster_from(form.cluster_id, trust),
                    school=school,
                )
            except DomainError as error:
                _fail(form, error)
            else:
                db.session.commit()
                flash(f"{membership.user.name} has been given the role "
                      f"{membership.role.label}.", "success")
                return redirect(url_for("lms.trust_people", trust_id=trust.id))
    return render_template(
        "lms/trust_people.html",
        trust=trust,
        staff=queries.trust_staff(trust),
        form=form,
        can_manage=may_manage,
        end_form=ReasonForm(),
    ), 200 if not form.errors else 400


@bp.post("/memberships/<int:membership_id>/end")
@access(Access.SIGNED_IN)
def end_membership(membership_id: int):
    membership = require(Action.MANAGE, db.session.get(Membership, membership_id))
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    commit_or_flash(
        lambda: services.end_membership(membership, actor=current_user, reason=form.reason.data),
        f"{membership.user.name} no longer has the role {membership.role.label}.")
    if not can(current_user, Action.VIEW, membership.user) and membership.trust is not None:
        # Their last role here is gone, so their page is out of sight: back to the staff list.
        return redirect(url_for("lms.trust_people", trust_id=membership.trust_id))
    return redirect(url_for("lms.user", user_id=membership.user_id))


@bp.get("/users/<int:user_id>")
@access(Access.SIGNED_IN)
def user(user_id: int):
    person = require(Action.VIEW, db.session.get(User, user_id))
    memberships = [m for m in person.memberships if can(current_user, Action.VIEW, m)
                   or person.id == current_user.id]
    return render_template(
        "lms/user.html",
        person=person,
        memberships=memberships,
        can_manage={m.id: can(current_user, Action.MANAGE, m) for m in memberships},
        end_form=ReasonForm(),
        two_factor_form=RequiredReasonForm(prefix="two-factor"),
    )


# --- outbox and audit log ------------------------------------------------------------------


@bp.get("/outbox")
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def outbox():
    return render_template("lms/outbox.html", emails=queries.outbox())


@bp.get("/outbox/<int:email_id>")
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def outbox_email(email_id: int):
    email = require(Action.VIEW, db.session.get(OutboxEmail, email_id))
    return render_template("lms/outbox_email.html", email=email)


@bp.get("/trusts/<int:trust_id>/audit")
@access(Access.SIGNED_IN)
def trust_audit(trust_id: int):
    trust = require(Action.VIEW, db.session.get(Trust, trust_id))
    form = AuditSearchForm(request.args)
    page = None
    if form.validate():
        page = queries.audit_entries(
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
    actors = queries.users_by_id({e.actor_id for e in entries if e.actor_id})
    search = {f.name: request.args[f.name] for f in form
              if f.name not in ("before", "after") and request.args.get(f.name)}
    from credentials.register import LONDON

    return render_template("lms/audit.html", trust=trust, form=form, page=page,
                           entries=entries, actors=actors, search=search,
                           uk_time=lambda moment: moment.astimezone(LONDON),
                           paged=bool(form.before.data or form.after.data)
                           ), 200 if page is not None else 400


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
            _fail(form, error)
            candidate = None
        else:
            form.confirmed.data = "yes"
            return render_template("lms/nomination_confirm.html", form=form, school=school,
                                   candidate=candidate)
    return render_template("lms/nomination_form.html", form=form, school=school), (
        200 if not form.errors and not form.form_errors else 400
    )


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


@bp.get("/schools/<int:school_id>/nominations/template.csv")
@access(Access.SIGNED_IN)
def nomination_template(school_id: int):
    require(Action.NOMINATE, db.session.get(School, school_id))
    return Response(nominations.csv_template(), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=nominations-template.csv"})


@bp.route("/schools/<int:school_id>/nominations/import", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def import_nominations(school_id: int):
    school = require(Action.NOMINATE, db.session.get(School, school_id))
    form = NominationImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            if upload is None or not getattr(upload, "filename", ""):
                raise DomainError("Choose a CSV file to upload", field="file")
            raw = upload.read(MAX_IMPORT_BYTES + 1)
            if len(raw) > MAX_IMPORT_BYTES:
                raise DomainError("The file is larger than 5 MB. Split it and upload each part.",
                                  field="file")
            if not raw.strip():
                raise DomainError("The file is empty", field="file")
            nomination_import = nominations.start_import(
                school, filename=upload.filename, raw=raw,
                good_rows_only=form.good_rows_only.data, actor=current_user)
        except DomainError as error:
            _fail(form, error)
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
        nominations.import_good_rows_only(nomination_import, actor=current_user)
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
                _fail(form, error)
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


@bp.post("/trusts/<int:trust_id>/settings")
@access(Access.SIGNED_IN)
def trust_settings(trust_id: int):
    trust = require(Action.MANAGE, db.session.get(Trust, trust_id))
    form = TrustSettingsForm()
    if not form.validate_on_submit():
        abort(400)
    services.set_nomination_approval(trust, form.requires_nomination_approval.data,
                                     actor=current_user)
    db.session.commit()
    flash("The trust's settings have been saved.", "success")
    return redirect(url_for("lms.approvals", trust_id=trust.id))


@bp.route("/join/<token>", methods=["GET", "POST"])
@access(Access.PUBLIC)
def accept_nomination(token: str):
    try:
        nomination = nominations.check_nomination_invitation(token)
    except TokenInvalid as error:
        return _link_problem(error)
    existing = services.find_user_by_email(nomination.candidate_email)
    needs_password = existing is None or existing.password_hash is None
    form = AcceptNominationForm()
    if form.validate_on_submit():
        try:
            enrolment = nominations.accept_nomination(
                token, password=form.password.data if needs_password else None,
                privacy_consent=form.privacy_consent.data)
        except DomainError as error:
            _fail(form, error)
        else:
            db.session.commit()
            if needs_password or (current_user.is_authenticated
                                  and current_user.id == enrolment.user_id):
                from lms.two_factor_views import begin_sign_in

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
        return _link_problem(error)
    db.session.commit()
    return render_template("lms/declined.html")


@bp.get("/enrolments/<int:enrolment_id>")
@access(Access.SIGNED_IN)
def enrolment(enrolment_id: int):
    enrolment = require(Action.VIEW, db.session.get(Enrolment, enrolment_id))
    from assessments.models import Adjustment
    from credentials.queries import endorsement_for

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
            nominations.extend_deadline(enrolment, days=form.days.data, reason=form.reason.data,
                                        actor=current_user)
        except DomainError as error:
            _fail(form, error)
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
            nominations.withdraw_enrolment(enrolment, reason=form.reason.data,
                                           actor=current_user)
        except DomainError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash("The tutor has been withdrawn from training.", "success")
            return redirect(url_for("lms.enrolment", enrolment_id=enrolment.id))
    return render_template("lms/enrolment.html", enrolment=enrolment, can_decide=True,
                           extend_form=ExtendDeadlineForm(prefix="extend"), withdraw_form=form,
                           adjust_form=AdjustmentForm(prefix="adjust"), adjustments=[]), 400
