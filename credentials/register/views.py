"""Pages of the approved-tutor register: the list and its exports, one person's safeguarding
records (DBS checks, Update Service status checks, risk decisions, training, their entry),
checks due, the renewal policy, provider access and finding a certificate by its number.

Each view loads what it acts on through the access rules, calls one service, commits once and
redirects. A DBS certificate number is typed in once: after that only its last four digits
are ever shown, and it is never put in an address.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from credentials import bp
from credentials.endorsements import queries as endorsements_queries
from credentials.register import derivation, exports, queries
from credentials.register import services as register
from credentials.register.access import (
    access_history,
    grant_provider_access,
    open_access,
    withdraw_provider_access,
)
from credentials.register.forms import (
    DbsCheckForm,
    FindCertificateForm,
    ProviderAccessForm,
    RegisterEntryForm,
    RegisterFilterForm,
    RegisterPolicyForm,
    RemoveEntryForm,
    RiskDecisionForm,
    StatusCheckForm,
    TrainingForm,
)
from credentials.register.models import (
    DbsCheck,
    DbsRenewal,
    ProviderAccess,
    RegisterEntry,
    RegisterStatus,
)
from credentials.register.policies import may_keep_records, schools_where_they_work
from credentials.register.queries import RegisterFilters, RegisterScope
from lms.accounts.models import User
from lms.organisations.models import Provider, School, Trust
from lms.organisations.policies import school_ids_for
from lms.platform import clock
from lms.platform.authz import Access, Action, access, can, require
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.forms import Form
from lms.platform.roles import Role
from lms.platform.web import commit_or_flash
from lms.programme.models import Pathway, TutoringPhase

PER_PAGE = 100


# --- the register -----------------------------------------------------------------------------


def _scope(trust_id: int) -> RegisterScope:
    """The part of the register the signed-in person may see; 404 when none of it."""
    trust = db.session.get(Trust, trust_id)
    scope = queries.register_scope(current_user, trust) if trust is not None else None
    if scope is None:
        abort(404)
    return scope


def _filters(scope: RegisterScope) -> tuple[RegisterFilterForm, RegisterFilters | None]:
    """The filter form from the address, and the filters it asks for (``None`` if wrong)."""
    form = RegisterFilterForm(request.args)
    form.school.choices = [("", "All schools")] + [(str(s.id), s.name) for s in scope.schools]
    clusters = sorted({s.cluster.id: s.cluster for s in scope.schools if s.cluster}.values(),
                      key=lambda c: c.name)
    form.cluster.choices = [("", "All clusters")] + [(str(c.id), c.name) for c in clusters]
    if not form.validate():
        return form, None
    return form, RegisterFilters(
        school_id=int(form.school.data) if form.school.data else None,
        cluster_id=int(form.cluster.data) if form.cluster.data else None,
        pathway=Pathway(form.pathway.data) if form.pathway.data else None,
        phase=TutoringPhase(form.phase.data) if form.phase.data else None,
        subject=(form.subject.data or "").strip(),
        status=RegisterStatus(form.status.data) if form.status.data else None,
        due=form.due.data or "",
        name=(form.q.data or "").strip())


def _query_args() -> dict[str, str]:
    """The filters as they came, to keep them in page and export links."""
    return {key: value for key, value in request.args.items() if key != "page" and value}


def _register_url(endpoint: str = "credentials.register", **changes: object) -> str:
    """A link to the register (or an export) with the same filters, some changed."""
    args = {**_query_args(), **{k: str(v) for k, v in changes.items() if v is not None}}
    return url_for(endpoint, trust_id=request.view_args["trust_id"],
                   **{k: v for k, v in args.items() if v})


@bp.get("/trusts/<int:trust_id>/register", endpoint="register")
@access(Access.SIGNED_IN)
def show_register(trust_id: int):
    scope = _scope(trust_id)
    form, filters = _filters(scope)
    page = None
    if filters is not None:
        number = request.args.get("page", "1")
        page = queries.register_page(scope, filters, clock.today(),
                                     page=int(number) if number.isdigit() else 1,
                                     per_page=PER_PAGE)
    return render_template(
        "credentials/register.html", trust=scope.trust, scope=scope, form=form, page=page,
        filtered=bool(_query_args()), link=_register_url, statuses=list(RegisterStatus),
        can_manage=can(current_user, Action.MANAGE, scope.trust),
        find_form=FindCertificateForm(formdata=None)), 200 if page is not None else 400


def _export(trust_id: int) -> tuple[RegisterScope, RegisterFilters]:
    scope = _scope(trust_id)
    _form, filters = _filters(scope)
    if filters is None:
        abort(400)
    return scope, filters


def _filename(trust: Trust, extension: str) -> str:
    return f"approved-tutor-register-{trust.id}-{clock.today():%Y-%m-%d}.{extension}"


@bp.get("/trusts/<int:trust_id>/register.csv")
@access(Access.SIGNED_IN)
def register_csv(trust_id: int):
    """Streamed: the rows are read up front, the text goes out a few hundred rows at a time."""
    scope, filters = _export(trust_id)
    return Response(stream_with_context(exports.register_csv(scope.trust, filters, scope)),
                    mimetype="text/csv", headers={
                        "Content-Disposition":
                            f'attachment; filename="{_filename(scope.trust, "csv")}"'})


@bp.get("/trusts/<int:trust_id>/register.xlsx")
@access(Access.SIGNED_IN)
def register_xlsx(trust_id: int):
    scope, filters = _export(trust_id)
    out = io.BytesIO()
    exports.register_xlsx(scope.trust, filters, out, scope)
    return Response(out.getvalue(), mimetype=exports.XLSX_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{_filename(scope.trust, "xlsx")}"'})


@bp.get("/trusts/<int:trust_id>/register/due")
@access(Access.SIGNED_IN)
def register_due(trust_id: int):
    """DBS checks and training due within 30 days or overdue, most urgent first."""
    scope = _scope(trust_id)
    items = register.due_checks(scope.trust)
    if not scope.whole:
        visible = queries.register_user_ids(scope)
        items = [item for item in items if item.person.id in visible]
    return render_template("credentials/register_due.html", trust=scope.trust, items=items,
                           days=derivation.DUE_SOON_DAYS, today=clock.today())


@bp.post("/trusts/<int:trust_id>/register/find-certificate")
@access(Access.SIGNED_IN)
def find_certificate(trust_id: int):
    """Exact match by the keyed hash of the number. The number typed is never sent back:
    the form comes back empty and matches show only the last four digits."""
    trust = require(Action.MANAGE, db.session.get(Trust, trust_id))
    form = FindCertificateForm()
    matches = None
    if form.validate_on_submit():
        try:
            found = register.find_certificate(trust, form.certificate_number.data)
        except DomainError as error:
            form.add_domain_error(error)
        else:
            matches = [(check, derivation.masked(register.certificate_number(check)))
                       for check in found]
    form.certificate_number.data = ""
    form.certificate_number.raw_data = []
    return render_template("credentials/register_find.html", trust=trust, form=form,
                           matches=matches), 200 if matches is not None else 400


# --- the trust's settings: renewal policy and provider access ---------------------------------


def _provider_form(trust: Trust, formdata=None) -> ProviderAccessForm:
    form = ProviderAccessForm(formdata=formdata) if formdata is not None else \
        ProviderAccessForm(formdata=None)
    granted = {a.provider_id for a in open_access(trust)}
    form.provider_id.choices = [("", "Choose a provider")] + [
        (str(p.id), p.name) for p in db.session.scalars(select(Provider).order_by(Provider.name))
        if p.id not in granted]
    return form


def _settings_page(trust: Trust, policy_form: RegisterPolicyForm,
                   provider_form: ProviderAccessForm, status: int = 200):
    grants, history = open_access(trust), access_history(trust)
    return render_template(
        "credentials/register_settings.html", trust=trust, policy_form=policy_form,
        provider_form=provider_form, grants=grants, history=history,
        names=queries.users_named([a.granted_by_id for a in grants + history]
                                  + [a.revoked_by_id for a in history])), status


def _policy_form(trust: Trust) -> RegisterPolicyForm:
    policy = register.policy_for(trust)
    return RegisterPolicyForm(formdata=None, data={
        "dbs_renewal": DbsRenewal(policy.dbs_renewal).value,
        "certificate_years": policy.certificate_years,
        "status_check_months": policy.status_check_months,
        "training_months": policy.training_months})


@bp.route("/trusts/<int:trust_id>/register/settings", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def register_settings(trust_id: int):
    """The renewal policy: changing it derives every entry of the trust again."""
    trust = require(Action.MANAGE, db.session.get(Trust, trust_id))
    if request.method == "GET":
        return _settings_page(trust, _policy_form(trust), _provider_form(trust))
    form = RegisterPolicyForm()
    if form.validate_on_submit():
        try:
            register.set_policy(trust, dbs_renewal=form.dbs_renewal.data,
                                certificate_years=form.certificate_years.data,
                                status_check_months=form.status_check_months.data,
                                training_months=form.training_months.data, actor=current_user)
        except DomainError as error:
            db.session.rollback()
            form.add_domain_error(error)
        else:
            db.session.commit()
            flash("The renewal policy is saved. Every entry's status and due dates have been "
                  "worked out again.", "success")
            return redirect(url_for("credentials.register_settings", trust_id=trust.id))
    return _settings_page(trust, form, _provider_form(trust), 400)


@bp.post("/trusts/<int:trust_id>/register/provider-access")
@access(Access.SIGNED_IN)
def grant_access(trust_id: int):
    trust = require(Action.MANAGE, db.session.get(Trust, trust_id))
    form = _provider_form(trust, formdata=request.form)
    if form.validate_on_submit():
        provider = db.session.get(Provider, int(form.provider_id.data))
        try:
            grant_provider_access(trust, provider, current_user)
        except DomainError as error:
            db.session.rollback()
            form.add_domain_error(error)
        else:
            db.session.commit()
            flash(f"{provider.name} can now see the register status of {trust.name}'s tutors "
                  "through the verification API.", "success")
            return redirect(url_for("credentials.register_settings", trust_id=trust.id))
    return _settings_page(trust, _policy_form(trust), form, 400)


@bp.post("/trusts/<int:trust_id>/register/provider-access/<int:access_id>/withdraw")
@access(Access.SIGNED_IN)
def withdraw_access(trust_id: int, access_id: int):
    trust = require(Action.MANAGE, db.session.get(Trust, trust_id))
    grant = db.session.get(ProviderAccess, access_id)
    if grant is None or grant.trust_id != trust.id:
        abort(404)
    if not Form().validate_on_submit():
        abort(400)
    commit_or_flash(lambda: withdraw_provider_access(grant, current_user),
                    f"{grant.provider.name} can no longer see the register status.")
    return redirect(url_for("credentials.register_settings", trust_id=trust.id))


# --- one person's safeguarding records ------------------------------------------------------


@dataclass(frozen=True)
class PersonRecords:
    """A person seen from one trust, and what the signed-in user may do there."""

    trust: Trust
    person: User
    entry: RegisterEntry | None
    #: Records DBS checks, status checks, risk decisions and training.
    keeper: bool
    #: Adds the person to the register, changes their schools, removes them.
    manager: bool


def _person(trust_id: int, user_id: int) -> PersonRecords:
    """404 unless the user may see this person's records here, and the person has a tie to
    the trust (or is an endorsed tutor the trust's central team may add)."""
    trust = db.session.get(Trust, trust_id)
    person = db.session.get(User, user_id)
    if trust is None or person is None:
        abort(404)
    entry = queries.register_entry(trust, person)
    keeper = may_keep_records(current_user, trust.id, person)
    if not (keeper or can(current_user, Action.VIEW, trust)
            or (entry is not None and can(current_user, Action.VIEW, entry))):
        abort(404)
    manager = can(current_user, Action.MANAGE, trust)
    if not queries.has_tie(person, trust) and not (manager and queries.is_endorsed(person)):
        abort(404)
    return PersonRecords(trust, person, entry, keeper, manager)


def _keeper(trust_id: int, user_id: int) -> PersonRecords:
    records = _person(trust_id, user_id)
    if not records.keeper:
        abort(403)
    return records


def _manager(trust_id: int, user_id: int) -> PersonRecords:
    records = _person(trust_id, user_id)
    if not records.manager:
        abort(403)
    return records


def _school_of_recorder(records: PersonRecords) -> School | None:
    """The school a leader records for: theirs, where the person works."""
    led = school_ids_for(current_user, Role.SCHOOL_LEADER) & schools_where_they_work(
        records.person, records.trust.id)
    return db.session.get(School, min(led)) if led else None


def _fresh_forms(records: PersonRecords) -> dict[str, Form]:
    entry = records.entry
    current = [s.id for s in entry.schools] if entry is not None and \
        entry.removed_at is None else []
    forms = {
        "dbs": DbsCheckForm(prefix="dbs", formdata=None,
                            data={"original_seen_by": current_user.name}),
        "status": StatusCheckForm(prefix="status", formdata=None),
        "risk": RiskDecisionForm(prefix="risk", formdata=None),
        "training": TrainingForm(prefix="training", formdata=None),
        "entry": RegisterEntryForm(prefix="entry", formdata=None, data={"school_ids": current}),
        "remove": RemoveEntryForm(prefix="remove", formdata=None),
    }
    return forms


def _entry_form(records: PersonRecords, formdata=None) -> RegisterEntryForm:
    form = RegisterEntryForm(prefix="entry", formdata=formdata)
    form.school_ids.choices = [(s.id, s.name) for s in records.trust.schools]
    return form


def _person_page(records: PersonRecords, failed: dict[str, Form] | None = None,
                 status: int = 200):
    forms = _fresh_forms(records)
    forms.update(failed or {})
    forms["entry"].school_ids.choices = [(s.id, s.name) for s in records.trust.schools]
    forms["dbs"].certificate_number.data = ""  # typed again, never sent back
    forms["dbs"].certificate_number.raw_data = []
    checks = queries.dbs_checks(records.trust, records.person)
    latest = checks[0] if checks else None
    return render_template(
        "credentials/register_person.html", trust=records.trust, person=records.person,
        entry=records.entry, keeper=records.keeper, manager=records.manager, forms=forms,
        checks=checks, latest=latest,
        numbers={c.id: derivation.masked(register.certificate_number(c)) for c in checks},
        training=queries.training_records(records.trust, records.person),
        endorsements=endorsements_queries.endorsements_of(records.person),
        policy=register.policy_for(records.trust),
        names=queries.users_named([c.recorded_by_id for c in checks]),
        sees_register=queries.register_scope(current_user, records.trust) is not None), status


def _done(records: PersonRecords, message: str, anchor: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("credentials.person_records", trust_id=records.trust.id,
                            user_id=records.person.id, _anchor=anchor))


def _failed(records: PersonRecords, name: str, form: Form, error: DomainError | None = None):
    if error is not None:
        db.session.rollback()
        form.add_domain_error(error)
    return _person_page(records, {name: form}, 400)


@bp.get("/trusts/<int:trust_id>/people/<int:user_id>/safeguarding",
        endpoint="person_records")
@access(Access.SIGNED_IN)
def safeguarding(trust_id: int, user_id: int):
    return _person_page(_person(trust_id, user_id))


@bp.post("/trusts/<int:trust_id>/people/<int:user_id>/dbs-checks")
@access(Access.SIGNED_IN)
def record_dbs_check(trust_id: int, user_id: int):
    records = _keeper(trust_id, user_id)
    form = DbsCheckForm(prefix="dbs")
    if not form.validate_on_submit():
        return _failed(records, "dbs", form)
    try:
        check = register.record_dbs_check(
            records.person, records.trust, certificate_number=form.certificate_number.data,
            issued_on=form.issued_on.data, level=form.level.data,
            workforce=form.workforce.data, barred_lists=form.barred_lists.data or [],
            original_seen_by=form.original_seen_by.data,
            original_seen_on=form.original_seen_on.data,
            update_service=form.update_service.data == "yes",
            showed_information=form.showed_information.data == "yes",
            risk_decision=form.risk_decision.data or None,
            risk_decision_on=form.risk_decision_on.data,
            risk_decision_by=form.risk_decision_by.data,
            school=_school_of_recorder(records), actor=current_user)
    except DomainError as error:
        return _failed(records, "dbs", form, error)
    number = derivation.masked(register.certificate_number(check))
    return _done(records, f"The DBS check (certificate {number}) is recorded.",
                 f"dbs-check-{check.id}")


def _check(records: PersonRecords, dbs_check_id: int) -> DbsCheck:
    check = db.session.get(DbsCheck, dbs_check_id)
    if check is None or check.trust_id != records.trust.id or \
            check.user_id != records.person.id:
        abort(404)
    return check


@bp.post("/trusts/<int:trust_id>/people/<int:user_id>/dbs-checks/<int:dbs_check_id>"
         "/status-checks")
@access(Access.SIGNED_IN)
def record_status_check(trust_id: int, user_id: int, dbs_check_id: int):
    records = _keeper(trust_id, user_id)
    check = _check(records, dbs_check_id)
    form = StatusCheckForm(prefix="status")
    if not form.validate_on_submit():
        return _failed(records, "status", form)
    try:
        register.record_status_check(check, checked_on=form.checked_on.data,
                                     result=form.result.data, actor=current_user)
    except DomainError as error:
        return _failed(records, "status", form, error)
    return _done(records, "The Update Service status check is recorded.",
                 f"dbs-check-{check.id}")


@bp.post("/trusts/<int:trust_id>/people/<int:user_id>/dbs-checks/<int:dbs_check_id>"
         "/risk-decision")
@access(Access.SIGNED_IN)
def record_risk_decision(trust_id: int, user_id: int, dbs_check_id: int):
    records = _keeper(trust_id, user_id)
    check = _check(records, dbs_check_id)
    form = RiskDecisionForm(prefix="risk")
    if not form.validate_on_submit():
        return _failed(records, "risk", form)
    try:
        register.record_risk_decision(check, decision=form.decision.data,
                                      decided_on=form.decided_on.data,
                                      decided_by=form.decided_by.data, actor=current_user)
    except DomainError as error:
        return _failed(records, "risk", form, error)
    return _done(records, "The risk decision is recorded.", f"dbs-check-{check.id}")


@bp.post("/trusts/<int:trust_id>/people/<int:user_id>/training")
@access(Access.SIGNED_IN)
def record_training(trust_id: int, user_id: int):
    records = _keeper(trust_id, user_id)
    form = TrainingForm(prefix="training")
    if not form.validate_on_submit():
        return _failed(records, "training", form)
    try:
        register.record_training(records.person, records.trust,
                                 completed_on=form.completed_on.data, course=form.course.data,
                                 school=_school_of_recorder(records), actor=current_user)
    except DomainError as error:
        return _failed(records, "training", form, error)
    return _done(records, "The safeguarding training is recorded.", "training")


@bp.post("/trusts/<int:trust_id>/people/<int:user_id>/register-entry")
@access(Access.SIGNED_IN)
def save_register_entry(trust_id: int, user_id: int):
    """Put the tutor on the register (or back on it) for the schools ticked, or change the
    schools of their entry."""
    records = _manager(trust_id, user_id)
    form = _entry_form(records, formdata=request.form)
    if not form.validate_on_submit():
        return _failed(records, "entry", form)
    chosen = [s for s in records.trust.schools if s.id in set(form.school_ids.data or [])]
    entry = records.entry
    try:
        if len(chosen) != len(set(form.school_ids.data or [])):
            raise DomainError("Only this trust's schools can be listed", field="school_ids")
        if entry is not None and entry.removed_at is None:
            register.set_register_schools(entry, chosen, actor=current_user)
            message = "The schools where the tutor may tutor are saved."
        else:
            register.add_to_register(records.trust, records.person, schools=chosen,
                                     actor=current_user,
                                     subject=(form.subject.data or "").strip() or None)
            message = f"{records.person.name} is on the register."
    except DomainError as error:
        return _failed(records, "entry", form, error)
    return _done(records, message, "register-entry")


@bp.post("/trusts/<int:trust_id>/people/<int:user_id>/register-entry/remove")
@access(Access.SIGNED_IN)
def remove_register_entry(trust_id: int, user_id: int):
    records = _manager(trust_id, user_id)
    if records.entry is None:
        abort(404)
    form = RemoveEntryForm(prefix="remove")
    if not form.validate_on_submit():
        return _failed(records, "remove", form)
    try:
        register.remove_from_register(records.entry, reason=form.reason.data,
                                      actor=current_user)
    except DomainError as error:
        return _failed(records, "remove", form, error)
    return _done(records, f"{records.person.name} is removed from the register.",
                 "register-entry")
