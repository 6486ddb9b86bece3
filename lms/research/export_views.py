"""Pilots, schools' research consent and the research export: their pages. Each view checks
access, validates, calls one service, commits and redirects (or sends the file)."""

from __future__ import annotations

import io

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from lms.organisations.models import School, Trust
from lms.platform import clock
from lms.platform.authz import Access, Action, access, can, require
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.forms import fail
from lms.platform.roles import Role
from lms.platform.spreadsheets import XLSX_TYPE, csv_chunks, write_xlsx
from lms.research import bp, export, pilots
from lms.research.forms import ConsentForm, ExportForm, PilotForm, WithdrawForm
from lms.research.models import ComparisonKind, Pilot


def _status(form) -> int:
    return 400 if form.errors or form.form_errors else 200


# --- pilots ------------------------------------------------------------------------------------


def _pilot_form(trust: Trust, formdata=None, pilot: Pilot | None = None) -> PilotForm:
    form = PilotForm(formdata=formdata, obj=pilot if formdata is None else None)
    programmes = [(key, f"{p.name} ({p.delivery_model.label})")
                  for key, p in pilots.trust_programmes(trust.id).items()]
    form.programme_key.choices = [("", "Choose a programme")] + programmes
    form.comparison_programme_key.choices = [("", "None")] + programmes
    schools = [(s.id, s.name) for s in db.session.scalars(
        select(School).where(School.trust_id == trust.id).order_by(School.name))]
    form.school_ids.choices = schools
    form.comparison_school_ids.choices = schools
    if pilot is not None and formdata is None:
        form.comparison_kind.data = pilot.comparison_kind.value
        form.outcome.data = pilot.outcome.value
        form.comparison_programme_key.data = pilot.comparison_programme_key or ""
    return form


def _terms(form: PilotForm) -> pilots.PilotTerms:
    return pilots.PilotTerms(
        name=form.name.data, programme_key=form.programme_key.data or "",
        comparison_kind=form.comparison_kind.data or "", starts_on=form.starts_on.data,
        ends_on=form.ends_on.data, outcome=form.outcome.data or "",
        school_ids=form.school_ids.data or [],
        comparison_programme_key=form.comparison_programme_key.data or None,
        comparison_school_ids=form.comparison_school_ids.data or [],
        random_allocation=form.random_allocation.data, notes=form.notes.data or "")


@bp.route("/trusts/<int:trust_id>/research/pilots", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def pilots_page(trust_id: int):
    trust = require(Action.MANAGE, db.session.get(Trust, trust_id))
    form = _pilot_form(trust, request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        try:
            pilot = pilots.create_pilot(trust, _terms(form), actor=current_user)
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            flash(f"The pilot {pilot.name} has been set up.", "success")
            return redirect(url_for("research.pilot", pilot_id=pilot.id))
    return render_template("research/pilots.html", trust=trust, form=form,
                           pilots=pilots.trust_pilots(trust.id), today=clock.today(),
                           advice=pilots.PLAYBOOK_ADVICE, source=pilots.PLAYBOOK_SOURCE
                           ), _status(form)


@bp.get("/research/pilots/<int:pilot_id>")
@access(Access.SIGNED_IN)
def pilot(pilot_id: int):
    found = require(Action.VIEW, db.session.get(Pilot, pilot_id))
    return render_template("research/pilot.html", pilot=found, result=pilots.pilot_result(found),
                           ended=found.ended(), pilots=pilots, ComparisonKind=ComparisonKind,
                           manage=can(current_user, Action.MANAGE, found))


@bp.route("/research/pilots/<int:pilot_id>/edit", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def edit_pilot(pilot_id: int):
    found = require(Action.MANAGE, db.session.get(Pilot, pilot_id))
    form = _pilot_form(found.trust, request.form if request.method == "POST" else None, found)
    if request.method == "POST" and form.validate():
        try:
            pilots.change_pilot(found, _terms(form), actor=current_user)
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            flash("The pilot has been saved.", "success")
            return redirect(url_for("research.pilot", pilot_id=found.id))
    return render_template("research/pilot_form.html", pilot=found, trust=found.trust,
                           form=form), _status(form)


# --- research consent ----------------------------------------------------------------------


def _consent_school(school_id: int) -> School:
    school = db.session.get(School, school_id)
    if school is None:
        abort(404)
    if not export.may_record_consent(current_user, school):
        abort(403 if can(current_user, Action.VIEW, school) else 404)
    return school


@bp.route("/schools/<int:school_id>/research/consent", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def research_consent(school_id: int):
    school = _consent_school(school_id)
    form = ConsentForm()
    if form.validate_on_submit():
        if not form.confirm.data:
            form.confirm.errors = ["Tick to confirm the school's consent"]
        else:
            try:
                export.record_consent(school, actor=current_user)
            except DomainError as error:
                fail(form, error)
            else:
                db.session.commit()
                flash(f"Consent for research use has been recorded for {school.name}.",
                      "success")
                return redirect(url_for("research.research_consent", school_id=school.id))
    return render_template("research/export_consent.html", school=school, form=form,
                           withdraw=WithdrawForm(), current=export.current_consent(school.id),
                           history=export.consent_history(school.id)), _status(form)


@bp.post("/schools/<int:school_id>/research/consent/withdraw")
@access(Access.SIGNED_IN)
def withdraw_research_consent(school_id: int):
    school = _consent_school(school_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            export.withdraw_consent(school, actor=current_user)
        except DomainError as error:
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(f"Consent for research use has been withdrawn for {school.name}: its "
                  "pupils are left out of research exports from now on.", "success")
    else:
        flash("The form expired. Reload the page and try again.", "error")
    return redirect(url_for("research.research_consent", school_id=school.id))


# --- the research export ---------------------------------------------------------------------


def _export_page(trust: Trust | None):
    form = ExportForm()
    if request.method == "POST" and form.validate_on_submit():
        kind, fmt = form.kind.data, form.fmt.data
        if kind not in ("rows", "aggregates"):
            form.kind.errors = ["Choose what to download"]
        elif fmt not in ("csv", "xlsx"):
            form.fmt.errors = ["Choose CSV or Excel"]
        else:
            try:
                taken = export.take_export(trust, actor=current_user, kind=kind)
            except DomainError as error:
                fail(form, error)
            else:
                db.session.commit()
                return _download(taken, kind, fmt)
    elif request.method == "POST":
        form.form_errors.append("The form expired. Reload the page and try again.")
    schools = list(db.session.scalars(select(School).where(
        *([School.trust_id == trust.id] if trust else [])).order_by(School.name)))
    consenting = export.consent_school_ids_for(trust)
    return render_template("research/export.html", trust=trust, form=form, schools=schools,
                           consenting=consenting,
                           exports=export.recent_exports(trust.id if trust else None),
                           columns=export.COLUMNS), _status(form)


def _download(taken: export.Export, kind: str, fmt: str) -> Response:
    name = f"research-{kind}-{clock.today():%Y%m%d}"
    if fmt == "xlsx":
        out = io.BytesIO()
        write_xlsx(out, sheet="Research " + kind, headings=taken.headings, rows=taken.rows)
        body, mimetype = out.getvalue(), XLSX_TYPE
    else:
        body = "".join(csv_chunks(taken.headings, taken.rows)).encode()
        mimetype = "text/csv"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
        "Cache-Control": "no-store"})


@bp.route("/trusts/<int:trust_id>/research/export", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def trust_export(trust_id: int):
    trust = require(Action.VIEW, db.session.get(Trust, trust_id))
    if not export.may_export(current_user, trust):
        abort(403)
    return _export_page(trust)


@bp.route("/research/export", methods=["GET", "POST"])
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def all_trusts_export():
    return _export_page(None)


@bp.get("/research/data-dictionary.md")
@access(Access.SIGNED_IN)
def data_dictionary():
    if not (current_user.is_programme_admin or export.may_export_somewhere(current_user)):
        abort(403)
    return Response(export.data_dictionary(), mimetype="text/markdown", headers={
        "Content-Disposition": 'attachment; filename="research-data-dictionary.md"'})
