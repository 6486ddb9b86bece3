"""Library pages: the endorsed tutor's list of units (recommended first, with why), a unit,
marking it done, and its resource. The CPD summary other pages show is a template global, so
that lower packages' templates can show it without importing the library."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from lms.library import bp, queries, services
from lms.library.forms import MarkDoneForm
from lms.library.policies import may_use_library
from lms.library.recommendations import recommend
from lms.platform.authz import Access, access
from lms.platform.errors import DomainError
from lms.platform.extensions import db


@bp.app_template_global("cpd_summary")
def cpd_summary(user_id: int) -> dict:
    """CPD minutes and units completed, for the page of someone the viewer may already see."""
    return queries.cpd_summary(user_id)


def _closed():
    return render_template("library/closed.html"), 403


def _unit(slug: str):
    unit = services.current_unit(slug)
    if unit is None:
        abort(404)
    return unit


@bp.get("/library")
@access(Access.SIGNED_IN)
def index():
    if not may_use_library(current_user):
        return _closed()
    units = queries.current_units()
    progress = queries.progress_by_unit(current_user.id)
    recommended = recommend(current_user, units)
    chosen = {r.unit.slug for r in recommended}
    return render_template("library/index.html", recommended=recommended,
                           others=[u for u in units if u.slug not in chosen],
                           progress=progress, minutes=queries.cpd_minutes(current_user.id))


@bp.get("/library/<slug>")
@access(Access.SIGNED_IN)
def unit(slug: str):
    if not may_use_library(current_user):
        return _closed()
    item = _unit(slug)
    progress = services.start_unit(current_user, item)
    db.session.commit()
    return render_template("library/unit.html", unit=item, progress=progress,
                           form=MarkDoneForm())


@bp.post("/library/<slug>/done")
@access(Access.SIGNED_IN)
def mark_done(slug: str):
    if not may_use_library(current_user):
        return _closed()
    item = _unit(slug)
    form = MarkDoneForm()
    if form.validate_on_submit():
        try:
            progress = services.complete_unit(current_user, item)
        except DomainError as error:
            form.add_domain_error(error)
        else:
            db.session.commit()
            flash(f"Done: {progress.minutes_credited} CPD minutes are on your record.",
                  "success")
            return redirect(url_for("library.unit", slug=item.slug))
    return render_template("library/unit.html", unit=item, form=form,
                           progress=services.progress_of(current_user, item.slug)), 400


@bp.get("/library/<slug>/resource")
@access(Access.SIGNED_IN)
def resource(slug: str):
    if not may_use_library(current_user):
        return _closed()
    item = _unit(slug)
    return Response(item.resource_content, mimetype=item.resource_mimetype, headers={
        "Content-Disposition": f'attachment; filename="{item.resource_filename}"'})
