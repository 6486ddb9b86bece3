"""Observations pages: recording one (from a group or one of its sessions), reading one, the
tutor's observations over time and a group's observations. Each view checks access,
validates, calls one service, commits and redirects."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from lms.observations import bp, lessons, queries, services
from lms.observations.forms import ObservationForm, posted_score
from lms.observations.models import Observation
from lms.observations.policies import may_record, reads_group_observations
from lms.observations.rubric import LEVELS, RUBRIC, rubric_for
from lms.platform import clock
from lms.platform.authz import Access, Action, access, require
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.tutoring.models import SessionStatus, TutoringGroup, TutoringSession

#: How many of a group's latest delivered sessions the form offers.
SESSIONS_OFFERED = 30


@bp.app_template_global("may_observe")
def may_observe(group: TutoringGroup) -> bool:
    """``{% if may_observe(group) %}``: the group page's link to record an observation."""
    return may_record(current_user, group)


@bp.app_template_global("sees_group_observations")
def sees_group_observations(group: TutoringGroup) -> bool:
    return reads_group_observations(current_user, group)


def _group(group_id: int) -> TutoringGroup:
    return require(Action.VIEW, db.session.get(TutoringGroup, group_id))


def _sessions(group: TutoringGroup) -> list[TutoringSession]:
    return list(db.session.scalars(
        select(TutoringSession).where(TutoringSession.group_id == group.id,
                                      TutoringSession.status == SessionStatus.DELIVERED)
        .order_by(TutoringSession.held_on.desc()).limit(SESSIONS_OFFERED)))


def _session_label(session: TutoringSession, group: TutoringGroup) -> str:
    label = f"{session.held_on:%a %-d %b %Y}"
    if session.tutor_id != group.tutor_id:
        label += f" (cover: {session.tutor.name})"
    return label


def _form(group: TutoringGroup, offered: list[TutoringSession]) -> ObservationForm:
    form = ObservationForm()
    form.session_id.choices = [("", "Not logged, or not one of these")] + [
        (str(s.id), _session_label(s, group)) for s in offered]
    return form


def _chosen_session(form: ObservationForm, group: TutoringGroup) -> TutoringSession | None:
    value = (form.session_id.data or "").strip()
    if not value:
        return None
    session = db.session.get(TutoringSession, int(value)) if value.isdigit() else None
    if session is None or session.group_id != group.id:
        form.session_id.errors = [*form.session_id.errors, "Choose a session of this group"]
        return None
    return session


def _record(form: ObservationForm, session: TutoringSession | None
            ) -> services.ObservationRecord:
    return services.ObservationRecord(
        observed_on=form.observed_on.data, session=session,
        scores={key: posted_score(form[services.score_field(key)].data) for key in RUBRIC.keys},
        notes={key: form[services.note_field(key)].data or "" for key in RUBRIC.keys},
        comment=form.comment.data or "", next_step=form.next_step.data or "")


def _show(form: ObservationForm, problems: list[DomainError]) -> None:
    """Put each problem on its field (unless the field already says what is wrong)."""
    for problem in problems:
        target = getattr(form, problem.field, None) if problem.field else None
        if target is not None and target.errors:
            continue
        form.add_domain_error(problem)


@bp.route("/groups/<int:group_id>/observations/new", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def record_observation(group_id: int):
    group = _group(group_id)
    if not may_record(current_user, group):
        abort(403)
    offered = _sessions(group)
    form = _form(group, offered)
    if request.method == "GET":
        chosen = request.args.get("session", "")
        session = next((s for s in offered if str(s.id) == chosen), None)
        form.session_id.data = str(session.id) if session else ""
        form.observed_on.data = session.held_on if session else clock.today()
    else:
        shaped = form.validate()
        session = _chosen_session(form, group)
        record = _record(form, session)
        found = services.problems(group, record, current_user)
        _show(form, found)
        if shaped and not found and not form.session_id.errors:
            try:
                observation = services.record_observation(group, record, observer=current_user)
            except services.ObservationRefused as refused:
                db.session.rollback()
                _show(form, refused.problems)
            except DomainError as error:
                db.session.rollback()
                form.add_domain_error(error)
            else:
                db.session.commit()
                flash(f"Your observation of {observation.tutor.name} has been saved. They "
                      "can read it now.", "success")
                return redirect(url_for("observations.observation",
                                        observation_id=observation.id))
    failed = bool(form.errors or form.form_errors)
    return render_template(
        "observations/record.html", group=group, form=form, rubric=RUBRIC,
        score_field=services.score_field, note_field=services.note_field,
        sessions=offered), 400 if failed else 200


@bp.get("/observations/<int:observation_id>")
@access(Access.SIGNED_IN)
def observation(observation_id: int):
    observation = require(Action.VIEW, db.session.get(Observation, observation_id))
    outcome = queries.result(observation, queries.previous_of(observation))
    is_tutor = observation.tutor_id == current_user.id
    return render_template(
        "observations/observation.html", observation=observation, result=outcome,
        levels=LEVELS, is_tutor=is_tutor,
        links=lessons.lesson_links(observation.tutor_id, linked=is_tutor,
                                   rubric=rubric_for(observation.rubric_version)))


@bp.get("/observations")
@access(Access.SIGNED_IN)
def my_observations():
    history = queries.over_time(queries.observations_of(current_user.id))
    return render_template("observations/mine.html", history=history, rubric=RUBRIC,
                           levels=LEVELS)


@bp.get("/groups/<int:group_id>/observations")
@access(Access.SIGNED_IN)
def group_observations(group_id: int):
    group = _group(group_id)
    if not reads_group_observations(current_user, group):
        if group.tutor_id == current_user.id:
            return redirect(url_for("observations.my_observations"))
        abort(404)
    return render_template("observations/group.html", group=group,
                           observations=queries.group_observations(group.id),
                           may_record=may_record(current_user, group))
