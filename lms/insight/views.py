"""Dashboards: the programme's, a trust's (or a cluster lead's part of it) and a school's, with
their exports.

Each view builds the person's scope (``None`` is a 404, or a 403 for the programme's) and the
filters from the address, reads every figure once through ``dashboards.dashboard``, and
renders it or writes one section of it as CSV or XLSX (``lms.dashboard_exports``). Links keep
the filters and the sort order, so a download or a refresh is of what the page showed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from lms.insight import dashboards, exports, figures, nudges, pipeline, scopes
from lms.insight.dashboards import Dashboard
from lms.insight.forms import DashboardFilterForm
from lms.insight.scopes import Filters, Scope
from lms.organisations.models import Cluster, School, Trust
from lms.organisations.policies import cluster_ids_for
from lms.platform.authz import Access, Action, access, can, require
from lms.platform.clock import today as uk_today
from lms.platform.extensions import db
from lms.platform.forms import Form
from lms.platform.roles import Role
from lms.platform.web import bp, commit_or_flash
from lms.programme.models import Nomination, Pathway, TutoringPhase

#: Schools (or trusts) per page of the comparison table.
PER_PAGE = 100
#: Items of each action list shown on the page (the download has up to
#: ``dashboards.ACTION_LIST_LIMIT`` of each).
ITEMS_SHOWN = 5
FILTER_KEYS = ("trust", "school", "cluster", "pathway", "phase", "nominated_from",
               "nominated_to")
SORT_KEYS = {key for key, _, _ in figures.COMPARISON_COLUMNS}
_SECTION = "<any({}):section>.<any(csv, xlsx):fmt>"
SECTION = _SECTION.format(", ".join(f'"{s}"' for s in exports.COMMON_SECTIONS))
SCHOOL_SECTION = _SECTION.format(", ".join(f'"{s}"' for s in (*exports.COMMON_SECTIONS,
                                                               "candidates")))


@bp.app_template_filter("figure")
def figure(value: object) -> str:
    """A figure on a page: as in the downloads, with thousands separated, or a dash."""
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return exports.figure_text(value)


# --- addresses ---------------------------------------------------------------------------------


def _kept(*, sort: bool = True) -> dict[str, str]:
    """The filters (and sort order) of this request, to carry into its links."""
    keys = FILTER_KEYS + (("sort", "dir") if sort else ())
    return {key: value for key in keys if (value := request.args.get(key, "").strip())}


@dataclass(frozen=True)
class Place:
    """Where one dashboard lives: its page's endpoint (the download's and refresh's add
    ``_export`` and ``_refresh``) and the arguments naming its trust or school."""

    kind: str
    endpoint: str
    args: dict = field(default_factory=dict)

    def url(self, suffix: str = "", **changes: object) -> str:
        """This dashboard's page (or download, or refresh) with the request's filters and
        sort order, some changed; a change to ``None`` drops it."""
        values = {**_kept(), **changes}
        return url_for(self.endpoint + suffix, **self.args,
                       **{k: v for k, v in values.items() if v not in (None, "")})


def _programme() -> tuple[Place, Scope]:
    scope = scopes.programme_scope(current_user)
    if scope is None:
        abort(403)
    return Place("programme", "lms.programme_dashboard"), scope


def _scope_of(model: type, object_id: int, scope_for) -> Scope:
    """The person's scope over a trust or school; 404 for one they may not see, as for one
    that does not exist."""
    found = db.session.get(model, object_id)
    scope = scope_for(current_user, found) if found is not None else None
    if scope is None:
        abort(404)
    return scope


def _trust(trust_id: int) -> tuple[Place, Scope]:
    return (Place("trust", "lms.trust_dashboard", {"trust_id": trust_id}),
            _scope_of(Trust, trust_id, scopes.trust_scope))


def _school(school_id: int) -> tuple[Place, Scope]:
    return (Place("school", "lms.school_dashboard", {"school_id": school_id}),
            _scope_of(School, school_id, scopes.school_scope))


# --- filters and sorting -----------------------------------------------------------------------


def _filter_form(place: Place, scope: Scope) -> DashboardFilterForm:
    """The filters from the address, offering only what the person's scope covers."""
    form = DashboardFilterForm(request.args)
    if place.kind == "programme":
        form.trust.choices = [("", "All trusts"), *(
            (str(i), name) for i, name in db.session.execute(
                select(Trust.id, Trust.name).order_by(Trust.name)))]
        del form.school, form.cluster
        return form
    del form.trust
    if place.kind == "school":
        del form.school, form.cluster
        return form
    schools = select(School.id, School.name).where(School.trust_id == scope.trust.id)
    clusters = select(Cluster.id, Cluster.name).where(Cluster.trust_id == scope.trust.id)
    if scope.school_ids is not None:
        schools = schools.where(School.id.in_(scope.school_ids))
        clusters = clusters.where(Cluster.id.in_(cluster_ids_for(current_user)))
    form.school.choices = [("", "All schools"), *(
        (str(i), name) for i, name in db.session.execute(schools.order_by(School.name)))]
    form.cluster.choices = [("", "All clusters"), *(
        (str(i), name) for i, name in db.session.execute(clusters.order_by(Cluster.name)))]
    return form


def _filters(form: DashboardFilterForm) -> Filters | None:
    """What the form asks for, or ``None`` when something in it is wrong."""
    if not form.validate():
        return None

    def chosen(name: str) -> int | None:
        found = getattr(form, name, None)
        return int(found.data) if found is not None and found.data else None

    return Filters(
        school_id=chosen("school"), cluster_id=chosen("cluster"), trust_id=chosen("trust"),
        pathway=Pathway(form.pathway.data) if form.pathway.data else None,
        phase=TutoringPhase(form.phase.data) if form.phase.data else None,
        nominated_from=form.nominated_from.data, nominated_to=form.nominated_to.data)


def _sort() -> tuple[str, bool]:
    sort = request.args.get("sort", "name")
    return (sort if sort in SORT_KEYS else "name"), request.args.get("dir") == "desc"


def _board(place: Place, scope: Scope, items: int
           ) -> tuple[DashboardFilterForm, Dashboard | None]:
    """The filter form, and every figure of the dashboard (``None`` if the filters are
    wrong). Reading them may rebuild records gone stale: the caller commits that once it
    has rendered the figures (committing first would expire everything the page shows)."""
    form = _filter_form(place, scope)
    filters = _filters(form)
    if filters is None:
        return form, None
    return form, dashboards.dashboard(scope, filters, items=items)


# --- pages -------------------------------------------------------------------------------------


HEADINGS = {"programme": "Programme dashboard", "trust": "Dashboard", "school": "School dashboard"}


def _page(place: Place, scope: Scope):
    form, board = _board(place, scope, ITEMS_SHOWN)
    sort, descending = _sort()
    context = {"place": place, "scope": scope, "form": form, "board": board, "sort": sort,
               "descending": descending, "filtered": bool(_kept(sort=False)),
               "heading": HEADINGS[place.kind], "kept": _kept(),
               "page_url": url_for(place.endpoint, **place.args),
               "columns": figures.COMPARISON_COLUMNS, "shown": ITEMS_SHOWN,
               "exports": exports}
    if board is None:
        return render_template("lms/dashboard.html", **context), 400
    groups = figures.sorted_groups(board.pipeline.groups, sort, descending)
    pages = max(1, math.ceil(len(groups) / PER_PAGE))
    number = request.args.get("page", "1")
    page = min(max(int(number), 1), pages) if re.fullmatch(r"[0-9]{1,6}", number) else 1
    moment = exports.as_of(board)
    context.update(
        groups=groups[(page - 1) * PER_PAGE:page * PER_PAGE], page=page, pages=pages,
        as_of=moment, today=moment.date() == uk_today(),
        sort_label=next(h for k, h, _ in figures.COMPARISON_COLUMNS if k == sort),
        row_link=_row_link(place), register_links=_register_links(place, scope, board))
    if place.kind == "school":
        context.update(candidates=dashboards.school_candidates(scope, board.filters),
                       can_nudge=can(current_user, Action.NOMINATE, scope.school))
    rendered = render_template("lms/dashboard.html", **context)
    db.session.commit()
    return rendered


def _row_link(place: Place):
    """Where a comparison row leads: a trust's dashboard, or a school's."""
    if place.kind == "programme":
        return lambda key: url_for("lms.trust_dashboard", trust_id=key)
    return lambda key: url_for("lms.school_dashboard", school_id=key)


def _register_links(place: Place, scope: Scope, board: Dashboard) -> dict[str, str] | None:
    """The register pages the figures come from (anyone who sees a trust's or a school's
    dashboard sees that part of its register), with the filters they share."""
    filters = board.filters
    trust_id = scope.trust.id if scope.trust is not None else filters.trust_id
    if trust_id is None:
        return None
    school_id = scope.school.id if scope.school is not None else filters.school_id
    shared = {"school": school_id, "cluster": filters.cluster_id,
              "pathway": filters.pathway.value if filters.pathway else None,
              "phase": filters.phase.value if filters.phase else None}
    return {"register": url_for("credentials.register", trust_id=trust_id,
                                **{k: v for k, v in shared.items() if v is not None}),
            "due": url_for("credentials.register_due", trust_id=trust_id)}


@bp.get("/admin/dashboard")
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def programme_dashboard():
    return _page(*_programme())


@bp.get("/trusts/<int:trust_id>/dashboard")
@access(Access.SIGNED_IN)
def trust_dashboard(trust_id: int):
    return _page(*_trust(trust_id))


@bp.get("/schools/<int:school_id>/dashboard")
@access(Access.SIGNED_IN)
def school_dashboard(school_id: int):
    return _page(*_school(school_id))


# --- downloads ---------------------------------------------------------------------------------


def _export(place: Place, scope: Scope, section: str, fmt: str) -> Response:
    """One section as a file: the figures the page shows, for the same scope, filters and
    sort order."""
    # Only the action lists' sheet names who is in them; every other sheet needs the counts.
    items = scopes.ACTION_LIST_LIMIT if section == "actions" else ITEMS_SHOWN
    _form, board = _board(place, scope, items)
    if board is None:
        abort(400)
    sort, descending = _sort()
    candidates = dashboards.school_candidates(scope, board.filters) \
        if section == "candidates" else ()
    data = exports.sheet(board, section, sort=sort, descending=descending,
                         candidates=candidates)
    body, mimetype = exports.write(board, data, fmt)
    name = exports.filename(board, section, fmt)
    db.session.commit()
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition":
            f'attachment; filename="{name}"'})


@bp.get(f"/admin/dashboard/{SECTION}")
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def programme_dashboard_export(section: str, fmt: str):
    return _export(*_programme(), section, fmt)


@bp.get(f"/trusts/<int:trust_id>/dashboard/{SECTION}")
@access(Access.SIGNED_IN)
def trust_dashboard_export(trust_id: int, section: str, fmt: str):
    return _export(*_trust(trust_id), section, fmt)


@bp.get(f"/schools/<int:school_id>/dashboard/{SCHOOL_SECTION}")
@access(Access.SIGNED_IN)
def school_dashboard_export(school_id: int, section: str, fmt: str):
    return _export(*_school(school_id), section, fmt)


# --- fresh figures now -------------------------------------------------------------------------


def _refreshed(place: Place, rebuild) -> Response:
    if not Form().validate_on_submit():
        abort(400)
    rebuild()
    db.session.commit()
    flash("The figures have been worked out again from the latest records.", "success")
    return redirect(place.url())


@bp.post("/admin/dashboard/refresh")
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def programme_dashboard_refresh():
    """Every trust with something new since its figures were built, at once."""
    place, _scope = _programme()
    return _refreshed(place, lambda: pipeline.refresh(older_than=timedelta(0)))


@bp.post("/trusts/<int:trust_id>/dashboard/refresh")
@access(Access.SIGNED_IN)
def trust_dashboard_refresh(trust_id: int):
    place, scope = _trust(trust_id)
    return _refreshed(place, lambda: pipeline.rebuild([scope.trust.id]))


@bp.post("/schools/<int:school_id>/dashboard/refresh")
@access(Access.SIGNED_IN)
def school_dashboard_refresh(school_id: int):
    place, scope = _school(school_id)
    return _refreshed(place, lambda: pipeline.rebuild([scope.trust.id]))


# --- nudging a candidate -----------------------------------------------------------------------


@bp.post("/nominations/<int:nomination_id>/nudge")
@access(Access.SIGNED_IN)
def nudge(nomination_id: int):
    """Remind a candidate of their next step, from their school's dashboard."""
    nomination = require(Action.NOMINATE, db.session.get(Nomination, nomination_id))
    if not Form().validate_on_submit():
        abort(400)
    name, school_id = nomination.candidate_name, nomination.school_id
    commit_or_flash(lambda: nudges.nudge_candidate(nomination, actor=current_user),
                    f"{name} has been sent a reminder of their next step.")
    return redirect(url_for("lms.school_dashboard", school_id=school_id,
                            **_kept(), _anchor="candidates"))
