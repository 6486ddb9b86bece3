"""Programme, pupil, group, session-log and progress pages. Each view checks access,
validates, calls one service, commits and redirects."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.organisations.models import Provider, School, Trust
from lms.platform import clock, uploads
from lms.platform.authz import Access, Action, access, can, require
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.forms import fail
from lms.tutoring import bp, groups, progress, pupils, sessions
from lms.tutoring.clearance import approved_tutors, clearance, cleared_pairs
from lms.tutoring.forms import (
    ABSENCE_CHOICES,
    AddPupilsForm,
    EraseForm,
    GroupForm,
    ProgrammeForm,
    ProgressForm,
    PupilForm,
    PupilImportForm,
    RetentionForm,
    SessionForm,
)
from lms.tutoring.models import (
    GroupPupil,
    LogSource,
    Programme,
    Pupil,
    TutoringGroup,
    TutoringSession,
)
from lms.tutoring.policies import runs_tutoring_at, sees_pupil_names
from lms.tutoring.programmes import (
    ProgrammeTerms,
    change_programme,
    create_programme,
    current_programmes,
    versions_of,
)

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


def _status(form) -> int:
    return 400 if form.errors or form.form_errors else 200


# --- programmes (the central team) ---------------------------------------------------------


def _programme_form(formdata=None, obj: Programme | None = None) -> ProgrammeForm:
    form = ProgrammeForm(formdata=formdata, obj=obj)
    form.provider_id.choices = [("", "None")] + [
        (str(p.id), p.name) for p in db.session.scalars(select(Provider).order_by(Provider.name))]
    if obj is not None and formdata is None:
        form.rate.data = obj.rate_pence
        form.provider_id.data = str(obj.provider_id or "")
    return form


def _terms(form: ProgrammeForm) -> ProgrammeTerms:
    return ProgrammeTerms(
        name=form.name.data, subject=form.subject.data, delivery_model=form.delivery_model.data,
        max_group_size=form.max_group_size.data, planned_sessions=form.planned_sessions.data,
        session_minutes=form.session_minutes.data, cost_model=form.cost_model.data,
        rate_pence=form.rate.data, provider_id=int(form.provider_id.data)
        if form.provider_id.data else None,
        school_contribution_percent=form.school_contribution_percent.data,
        measure_scale=form.measure_scale.data, evidence_source=form.evidence_source.data,
        sla_notice_hours=form.sla_notice_hours.data if form.sla_notice_hours.data is not None
        else 24,
        sla_report_hours=form.sla_report_hours.data or 48,
        sla_late_minutes=form.sla_late_minutes.data if form.sla_late_minutes.data is not None
        else 5,
        sla_cover_required=form.sla_cover_required.data)


@bp.route("/trusts/<int:trust_id>/tutoring/programmes", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def programmes(trust_id: int):
    trust = require(Action.VIEW, db.session.get(Trust, trust_id))
    manage = can(current_user, Action.MANAGE, trust)
    form = _programme_form(request.form if request.method == "POST" else None)
    if request.method == "POST":
        require(Action.MANAGE, trust)
        if form.validate():
            try:
                programme = create_programme(trust, _terms(form), actor=current_user)
            except DomainError as error:
                fail(form, error)
            else:
                db.session.commit()
                flash(f"{programme.name} has been added. Schools can now start groups on it.",
                      "success")
                return redirect(url_for("tutoring.programmes", trust_id=trust.id))
    retention = RetentionForm(pupil_retention_years=pupils.retention_years(trust.id))
    return render_template("tutoring/programmes.html", trust=trust, form=form, manage=manage,
                           retention=retention, programmes=current_programmes(trust.id)
                           ), _status(form)


@bp.post("/trusts/<int:trust_id>/tutoring/retention")
@access(Access.SIGNED_IN)
def set_retention(trust_id: int):
    trust = require(Action.MANAGE, db.session.get(Trust, trust_id))
    form = RetentionForm()
    if form.validate_on_submit():
        try:
            pupils.set_retention_years(trust, form.pupil_retention_years.data, actor=current_user)
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            flash("The retention period has been saved.", "success")
            return redirect(url_for("tutoring.programmes", trust_id=trust.id))
    flash(" ".join(e for errors in form.errors.values() for e in errors)
          or "Enter a number of years", "error")
    return redirect(url_for("tutoring.programmes", trust_id=trust.id))


@bp.route("/tutoring/programmes/<int:programme_id>", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def programme(programme_id: int):
    programme = require(Action.VIEW, db.session.get(Programme, programme_id))
    form = _programme_form(request.form if request.method == "POST" else None, programme)
    if request.method == "POST":
        require(Action.MANAGE, programme)
        if form.validate():
            try:
                successor = change_programme(programme, _terms(form), actor=current_user)
            except DomainError as error:
                fail(form, error)
            else:
                db.session.commit()
                flash(f"Saved as version {successor.version}. Groups already running keep the "
                      "version they started on." if successor is not programme
                      else "Nothing had changed.", "success")
                return redirect(url_for("tutoring.programme", programme_id=successor.id))
    return render_template("tutoring/programme.html", programme=programme, form=form,
                           manage=can(current_user, Action.MANAGE, programme),
                           versions=versions_of(programme)), _status(form)


# --- a school's tutoring, pupils --------------------------------------------------------------


def _school(school_id: int, action: Action = Action.VIEW) -> School:
    school = db.session.get(School, school_id)
    if school is None or not (runs_tutoring_at(current_user, school.id)
                              or can(current_user, Action.VIEW, school)):
        abort(404)
    if action == Action.MANAGE and not (runs_tutoring_at(current_user, school.id)
                                        or current_user.is_programme_admin):
        abort(403)
    return school


@bp.get("/schools/<int:school_id>/tutoring")
@access(Access.SIGNED_IN)
def school_tutoring(school_id: int):
    school = _school(school_id)
    rows = list(db.session.scalars(
        select(TutoringGroup).where(TutoringGroup.school_id == school.id)
        .options(selectinload(TutoringGroup.programme), selectinload(TutoringGroup.tutor),
                 selectinload(TutoringGroup.places))
        .order_by(TutoringGroup.status, TutoringGroup.weekday, TutoringGroup.starts_at)))
    cleared = cleared_pairs({school.trust_id})
    return render_template("tutoring/school.html", school=school, groups=rows, cleared=cleared,
                           manage=runs_tutoring_at(current_user, school.id)
                           or current_user.is_programme_admin)


def _details(form: PupilForm) -> pupils.PupilDetails:
    return pupils.details_from(display_name=form.display_name.data,
                               reference=form.reference.data, year_group=form.year_group.data,
                               disadvantaged=form.disadvantaged.data, send=form.send.data,
                               eal=form.eal.data)


@bp.route("/schools/<int:school_id>/pupils", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def school_pupils(school_id: int):
    school = _school(school_id, Action.MANAGE)
    form = PupilForm()
    if form.validate_on_submit():
        try:
            pupil = pupils.add_pupil(school, _details(form), actor=current_user)
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            flash(f"{pupil.display_name} has been added.", "success")
            return redirect(url_for("tutoring.school_pupils", school_id=school.id))
    return render_template("tutoring/pupils.html", school=school, form=form,
                           upload=PupilImportForm(), erase=EraseForm(),
                           pupils=pupils.school_pupils(school)), _status(form)


@bp.get("/schools/<int:school_id>/pupils/template.csv")
@access(Access.SIGNED_IN)
def pupil_template(school_id: int):
    _school(school_id, Action.MANAGE)
    return Response(pupils.csv_template(), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=pupils-template.csv"})


@bp.post("/schools/<int:school_id>/pupils/import")
@access(Access.SIGNED_IN)
def import_pupils(school_id: int):
    school = _school(school_id, Action.MANAGE)
    form = PupilImportForm()
    result = None
    if form.validate_on_submit():
        try:
            raw = uploads.read_upload(form.file.data, MAX_UPLOAD_BYTES)
            result = pupils.import_pupils(school, raw, actor=current_user)
        except DomainError as error:
            fail(form, error)
        else:
            if not result.errors:
                db.session.commit()
                flash(f"{len(result.added)} pupils have been added.", "success")
                return redirect(url_for("tutoring.school_pupils", school_id=school.id))
            db.session.rollback()
    return render_template("tutoring/pupils.html", school=school, form=PupilForm(formdata=None),
                           upload=form, erase=EraseForm(formdata=None), result=result,
                           pupils=pupils.school_pupils(school)), 400


@bp.get("/schools/<int:school_id>/pupils/export.csv")
@access(Access.SIGNED_IN)
def export_pupils(school_id: int):
    school = _school(school_id, Action.MANAGE)
    body = pupils.export_school_pupils(school, actor=current_user)
    db.session.commit()
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=pupils-{school.urn}.csv"})


@bp.post("/schools/<int:school_id>/pupils/erase")
@access(Access.SIGNED_IN)
def erase_pupils(school_id: int):
    school = _school(school_id, Action.MANAGE)
    form = EraseForm()
    if form.validate_on_submit():
        count = pupils.erase_school_pupils(school, reason=form.reason.data, actor=current_user)
        db.session.commit()
        flash(f"{count} pupil records have been erased. Totals of hours, attendance and "
              "progress still count them, anonymously.", "success")
        return redirect(url_for("tutoring.school_pupils", school_id=school.id))
    return render_template("tutoring/pupils.html", school=school, form=PupilForm(formdata=None),
                           upload=PupilImportForm(formdata=None), erase=form,
                           pupils=pupils.school_pupils(school)), 400


def _pupil(pupil_id: int) -> Pupil:
    pupil = require(Action.MANAGE, db.session.get(Pupil, pupil_id))
    if pupil.erased_at is not None:
        abort(404)
    return pupil


@bp.route("/pupils/<int:pupil_id>", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def pupil(pupil_id: int):
    pupil = _pupil(pupil_id)
    form = PupilForm(obj=pupil)
    if request.method == "GET":
        form.year_group.data = "R" if pupil.year_group == 0 else str(pupil.year_group)
    if form.validate_on_submit():
        try:
            pupils.change_pupil(pupil, _details(form), actor=current_user)
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            flash("The pupil's record has been saved.", "success")
            return redirect(url_for("tutoring.school_pupils", school_id=pupil.school_id))
    places = list(db.session.scalars(select(GroupPupil).where(GroupPupil.pupil_id == pupil.id)
                                     .options(selectinload(GroupPupil.group))))
    return render_template("tutoring/pupil.html", pupil=pupil, form=form, places=places,
                           erase=EraseForm(formdata=None)), _status(form)


@bp.post("/pupils/<int:pupil_id>/erase")
@access(Access.SIGNED_IN)
def erase_pupil(pupil_id: int):
    pupil = _pupil(pupil_id)
    form = EraseForm()
    if form.validate_on_submit():
        pupils.erase_pupil(pupil, reason=form.reason.data, actor=current_user)
        db.session.commit()
        flash("The pupil's record has been erased.", "success")
        return redirect(url_for("tutoring.school_pupils", school_id=pupil.school_id))
    return render_template("tutoring/pupil.html", pupil=pupil, form=PupilForm(obj=pupil),
                           places=[], erase=form), 400


# --- groups --------------------------------------------------------------------------------


def _free_pupils(school: School, group: TutoringGroup | None = None) -> list[Pupil]:
    """The school's pupils not already in a group of this programme."""
    taken = set()
    if group is not None:
        taken = set(db.session.scalars(select(GroupPupil.pupil_id).where(
            GroupPupil.programme_key == group.programme_key, GroupPupil.left_on.is_(None))))
    return [p for p in pupils.school_pupils(school) if p.id not in taken]


def _group_form(school: School) -> GroupForm:
    form = GroupForm()
    form.programme_id.choices = [("", "Choose")] + [
        (str(p.id), f"{p.name} ({p.delivery_model.label}, up to {p.max_group_size})")
        for p in current_programmes(school.trust_id)]
    tutors = db.session.scalars(select(User).where(
        User.id.in_(approved_tutors(school.trust_id, school.id))).order_by(User.name))
    form.tutor_id.choices = [("", "Choose")] + [(str(t.id), t.name) for t in tutors]
    form.pupil_ids.choices = [(p.id, f"{p.display_name} ({p.year_label})")
                              for p in pupils.school_pupils(school)]
    return form


@bp.route("/schools/<int:school_id>/groups/new", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def new_group(school_id: int):
    school = _school(school_id, Action.MANAGE)
    form = _group_form(school)
    if request.method == "GET":
        form.starts_on.data = clock.today()
    if form.validate_on_submit():
        try:
            chosen = [db.session.get(Pupil, i) for i in form.pupil_ids.data]
            if any(p is None for p in chosen):
                raise DomainError("Choose pupils of this school", field="pupil_ids")
            group = groups.create_group(
                school, programme=db.session.get(Programme, int(form.programme_id.data)),
                tutor=db.session.get(User, int(form.tutor_id.data)), name=form.name.data,
                weekday=int(form.weekday.data), starts_at=form.starts_at.data,
                starts_on=form.starts_on.data, pupils=chosen, actor=current_user)
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            flash(f"{group.name} has been set up.", "success")
            return redirect(url_for("tutoring.group", group_id=group.id))
    return render_template("tutoring/group_form.html", school=school, form=form), _status(form)


def _group(group_id: int, action: Action = Action.VIEW) -> TutoringGroup:
    return require(action, db.session.get(TutoringGroup, group_id))


@bp.get("/groups/<int:group_id>")
@access(Access.SIGNED_IN)
def group(group_id: int):
    group = _group(group_id)
    manage = can(current_user, Action.MANAGE, group)
    recent = list(db.session.scalars(
        select(TutoringSession).where(TutoringSession.group_id == group.id)
        .options(selectinload(TutoringSession.attendance))
        .order_by(TutoringSession.held_on.desc()).limit(20)))
    add = AddPupilsForm(formdata=None)
    add.pupil_ids.choices = [(p.id, f"{p.display_name} ({p.year_label})")
                             for p in _free_pupils(group.school, group)] if manage else []
    return render_template(
        "tutoring/group.html", group=group, manage=manage, add=add, recent=recent,
        names=sees_pupil_names(current_user, group.school_id) or group.tutor_id
        == current_user.id, clearance=clearance(group.trust_id, group.school_id,
                                                group.tutor_id),
        deliver=can(current_user, Action.DELIVER, group), today=clock.today())


@bp.post("/groups/<int:group_id>/pupils")
@access(Access.SIGNED_IN)
def add_group_pupils(group_id: int):
    group = _group(group_id, Action.MANAGE)
    form = AddPupilsForm()
    form.pupil_ids.choices = [(p.id, p.display_name) for p in _free_pupils(group.school, group)]
    if form.validate_on_submit():
        try:
            chosen = [db.session.get(Pupil, i) for i in form.pupil_ids.data]
            if any(p is None for p in chosen):
                raise DomainError("Choose pupils of this school", field="pupil_ids")
            groups.add_pupils(group, chosen, actor=current_user)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash("The pupils have been added.", "success")
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("tutoring.group", group_id=group.id))


@bp.post("/groups/<int:group_id>/pupils/<int:pupil_id>/remove")
@access(Access.SIGNED_IN)
def remove_group_pupil(group_id: int, pupil_id: int):
    group = _group(group_id, Action.MANAGE)
    pupil = db.session.get(Pupil, pupil_id)
    try:
        if pupil is None:
            raise DomainError("That pupil is not in this group")
        groups.remove_pupil(group, pupil, actor=current_user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash("The pupil has left the group. Their sessions so far still count.", "success")
    return redirect(url_for("tutoring.group", group_id=group.id))


@bp.post("/groups/<int:group_id>/end")
@access(Access.SIGNED_IN)
def end_group(group_id: int):
    group = _group(group_id, Action.MANAGE)
    try:
        groups.end_group(group, actor=current_user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"{group.name} has ended.", "success")
    return redirect(url_for("tutoring.group", group_id=group.id))


@bp.route("/groups/<int:group_id>/progress/<int:pupil_id>", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def pupil_progress(group_id: int, pupil_id: int):
    group = _group(group_id, Action.MANAGE)
    place = next((p for p in group.places if p.pupil_id == pupil_id), None)
    if place is None:
        abort(404)
    form = ProgressForm(obj=place)
    if request.method == "GET" and place.evidence_source is None:
        form.evidence_source.data = group.programme.evidence_source.value
    if form.validate_on_submit():
        try:
            progress.record_progress(place, progress.ProgressRecord(
                baseline=form.baseline.data, target=form.target.data,
                current=form.current.data, current_on=form.current_on.data,
                evidence_source=form.evidence_source.data, next_action=form.next_action.data),
                actor=current_user)
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            flash(f"Progress for {place.pupil.display_name} has been saved.", "success")
            return redirect(url_for("tutoring.group", group_id=group.id))
    return render_template("tutoring/progress.html", group=group, place=place, form=form
                           ), _status(form)


# --- logging a session ---------------------------------------------------------------------


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(404)


def _marks(places: list[GroupPupil]) -> dict[int, sessions.PupilMark]:
    marks = {}
    for place in places:
        prefix = f"pupil-{place.pupil_id}-"
        engagement = request.form.get(prefix + "engagement", "").strip()
        marks[place.pupil_id] = sessions.PupilMark(
            status=request.form.get(prefix + "status", ""),
            absence_reason=request.form.get(prefix + "reason") or None,
            engagement=int(engagement) if engagement.isdigit() and len(engagement) == 1
            else (0 if engagement else None))
    return marks


@bp.route("/groups/<int:group_id>/sessions/<day>", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def log_session(group_id: int, day: str):
    group = _group(group_id, Action.DELIVER)
    held_on = _day(day)
    existing = sessions.session_on(group, held_on)
    as_school = runs_tutoring_at(current_user, group.school_id) or (
        current_user.is_programme_admin and group.tutor_id != current_user.id)
    places = sessions.pupils_on(group, held_on)
    form = SessionForm(obj=existing)
    if existing is not None and request.method == "GET":
        form.status.data = existing.status.value
        form.cancel_reason.data = existing.cancel_reason.value if existing.cancel_reason else None
    if form.validate_on_submit():
        log = sessions.SessionLog(
            held_on=held_on, status=form.status.data,
            minutes_delivered=form.minutes_delivered.data, cancel_reason=form.cancel_reason.data,
            marks=_marks(places) if form.status.data == "delivered" else {},
            note=form.note.data or "")
        try:
            if existing is None:
                sessions.log_session(group, log, actor=current_user,
                                     source=LogSource.SCHOOL if as_school else LogSource.TUTOR)
            else:
                sessions.edit_session(existing, log, actor=current_user, as_school=as_school,
                                      reason=form.reason.data or "")
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            flash(f"The session on {held_on:%A %-d %B} has been "
                  f"{'saved' if existing is None else 'changed'}.", "success")
            return redirect(url_for("lms.home") if group.tutor_id == current_user.id
                            else url_for("tutoring.group", group_id=group.id))
    marks = {a.pupil_id: a for a in existing.attendance} if existing else {}
    posted = request.form if request.method == "POST" else None
    return render_template(
        "tutoring/session_form.html", group=group, held_on=held_on, form=form, places=places,
        existing=existing, marks=marks, posted=posted, as_school=as_school,
        absence_choices=ABSENCE_CHOICES, editable=existing is None or as_school
        or sessions.tutor_may_still_edit(existing),
        expected=held_on.weekday() == group.weekday), _status(form)
