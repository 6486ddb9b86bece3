"""Views of the core. Each validates, calls one service, commits, and redirects."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from lms import bp, queries, services
from lms.authz import Access, Action, access, can, require
from lms.errors import DomainError, TokenInvalid
from lms.extensions import db
from lms.forms import (
    AuditSearchForm,
    ChangePasswordForm,
    ClusterForm,
    ForgotPasswordForm,
    InviteStaffForm,
    MoveSchoolForm,
    ReasonForm,
    SchoolForm,
    SetPasswordForm,
    SignInForm,
    TrustForm,
)
from lms.models import Cluster, Membership, OutboxEmail, Role, School, Trust, User


def _safe_next(target: str | None) -> str:
    """Only follow ``next`` to a path on this site."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/"):
            return target
    return url_for("lms.home")


def _fail(form, error: DomainError) -> None:
    db.session.rollback()
    form.add_domain_error(error)


# --- home and accounts --------------------------------------------------------------------


@bp.get("/")
@access(Access.PUBLIC)
def home():
    if not current_user.is_authenticated:
        return render_template("lms/landing.html")
    schools = db.session.scalars(queries.visible_schools(current_user).limit(50)).all()
    return render_template("lms/home.html", schools=schools)


@bp.route("/sign-in", methods=["GET", "POST"])
@access(Access.PUBLIC)
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("lms.home"))
    form = SignInForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data, request.remote_addr)
        except DomainError as error:
            _fail(form, error)
            db.session.commit()
        else:
            db.session.commit()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
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
        services.request_password_reset(form.email.data)
        db.session.commit()
        flash("If that address has an account, we have sent it a link to reset the password. "
              "The link works once.", "success")
        return redirect(url_for("lms.sign_in"))
    return render_template("lms/forgot_password.html", form=form)


def _password_from_link(check, apply, template: str, token: str, done_message: str):
    try:
        user = check(token)
    except TokenInvalid as error:
        db.session.rollback()
        return render_template("lms/link_problem.html", message=error.message), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = apply(token, form.password.data)
        except DomainError as error:
            _fail(form, error)
        else:
            db.session.commit()
            login_user(user)
            flash(done_message, "success")
            return redirect(url_for("lms.home"))
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
    return render_template("lms/account.html", form=form), 200 if not form.errors else 400


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
        db.session.rollback()
        return render_template("lms/link_problem.html", message=error.message), 400
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
    try:
        services.end_membership(membership, actor=current_user, reason=form.reason.data)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"{membership.user.name} no longer has the role {membership.role.label}.",
              "success")
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
    entries = []
    if form.validate():
        entries = queries.audit_entries(
            trust,
            action=form.action.data,
            object_type=form.object_type.data,
            object_id=form.object_id.data,
        )
    actors = queries.users_by_id({e.actor_id for e in entries if e.actor_id})
    return render_template("lms/audit.html", trust=trust, form=form, entries=entries,
                           actors=actors)
