"""Trusts, clusters, schools and the people who work in them."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms.accounts.models import User
from lms.accounts.views import password_from_link
from lms.organisations import people, queries, services
from lms.organisations.forms import (
    ClusterForm,
    InviteStaffForm,
    MoveSchoolForm,
    SchoolForm,
    TrustForm,
    TrustSettingsForm,
)
from lms.organisations.models import Cluster, Membership, School, Trust
from lms.platform.authz import Access, Action, access, can, require
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.forms import ReasonForm, RequiredReasonForm, fail
from lms.platform.roles import Role
from lms.platform.web import bp, commit_or_flash


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@access(Access.PUBLIC)
def accept_invitation(token: str):
    return password_from_link(people.check_invitation, people.accept_invitation,
                               "lms/accept_invitation.html", token,
                               "Your account is ready. Welcome.")


# --- trusts, clusters, schools -------------------------------------------------------------


@bp.route("/trusts", methods=["GET", "POST"])
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def trusts():
    form = TrustForm()
    if form.validate_on_submit():
        try:
            trust = services.create_trust(form.name.data, actor=current_user)
        except DomainError as error:
            fail(form, error)
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
            fail(form, error)
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
            fail(form, error)
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
            fail(form, error)
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
            fail(form, error)
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
                membership = people.invite_staff(
                    form.email.data,
                    form.name.data,
                    form.role.data,
                    actor=current_user,
                    trust=trust,
                    cluster=_cluster_from(form.cluster_id, trust),
                    school=school,
                )
            except DomainError as error:
                fail(form, error)
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
        lambda: people.end_membership(membership, actor=current_user, reason=form.reason.data),
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

