"""Reading the approved-tutor register for pages, filtered by what the asking
user may see. The register's list rule lives here, once: every page and export of the
register narrows through ``register_scope``."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy import Exists, Select, func, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from credentials.endorsements.models import Endorsement, EndorsementStatus
from credentials.register import derivation
from credentials.register import services as register
from credentials.register.models import (
    DbsCheck,
    DbsStatusCheck,
    RegisterEntry,
    RegisterStatus,
    SafeguardingTraining,
    register_entry_schools,
)
from lms.accounts.models import User
from lms.organisations.models import School, Trust
from lms.organisations.queries import visible_schools
from lms.platform import clock
from lms.platform.authz import Action, can
from lms.platform.extensions import db
from lms.programme.models import Pathway, TutoringPhase

# --- who sees which entries ---------------------------------------------------------------


@dataclass(frozen=True)
class RegisterScope:
    """The part of a trust's register a person may see: all of it (central team, trustees,
    programme admin) or the entries listing a school they may see (cluster leads, school
    leaders). The same facts as the RegisterEntry and School policies."""

    trust: Trust
    whole: bool
    #: The trust's schools the person may see (all of them for ``whole``), by name.
    schools: list[School]

    @property
    def school_ids(self) -> set[int]:
        return {s.id for s in self.schools}


def register_scope(user: User, trust: Trust) -> RegisterScope | None:
    """``None`` when the person may see none of the trust's register."""
    whole = can(user, Action.VIEW, trust)
    schools = list(db.session.scalars(visible_schools(user).where(School.trust_id == trust.id)
                                      .options(selectinload(School.cluster))))
    if not whole and not schools:
        return None
    return RegisterScope(trust, whole, schools)


# --- filtering ----------------------------------------------------------------------------

#: The due-date filter: overdue, or due within so many days from today.
DUE_CHOICES = {"overdue": "Overdue", "30": "Due in the next 30 days",
               "60": "Due in the next 60 days"}


@dataclass(frozen=True)
class RegisterFilters:
    school_id: int | None = None
    cluster_id: int | None = None
    pathway: Pathway | None = None
    phase: TutoringPhase | None = None
    subject: str = ""
    status: RegisterStatus | None = None
    due: str = ""
    name: str = ""

    def is_empty(self) -> bool:
        return self == RegisterFilters()


def _lists_school(*conditions) -> Exists:
    """The entry lists a school that meets ``conditions`` (correlated to the entry only, so
    the clause keeps its meaning inside queries that read schools themselves)."""
    return (select(register_entry_schools.c.entry_id)
            .join(School, School.id == register_entry_schools.c.school_id)
            .where(register_entry_schools.c.entry_id == RegisterEntry.id, *conditions)
            .correlate(RegisterEntry).exists())


def _endorsed(*conditions) -> Exists:
    """The tutor holds an endorsement that meets ``conditions``."""
    return (select(Endorsement.id).where(Endorsement.user_id == RegisterEntry.user_id,
                                         *conditions)
            .correlate(RegisterEntry).exists())


def _contains(column, text: str):
    return func.lower(column).contains(text.lower(), autoescape=True)


def _conditions(scope: RegisterScope, filters: RegisterFilters, on: date, *,
                with_status: bool = True) -> list:
    """The WHERE clause of the register as this person sees it, filtered."""
    conditions = [RegisterEntry.trust_id == scope.trust.id]
    if not scope.whole:
        conditions.append(_lists_school(School.id.in_(scope.school_ids)))
    if filters.school_id is not None:
        conditions.append(_lists_school(School.id == filters.school_id))
    if filters.cluster_id is not None:
        conditions.append(_lists_school(School.cluster_id == filters.cluster_id))
    if filters.pathway is not None:
        conditions.append(_endorsed(Endorsement.pathway == filters.pathway))
    if filters.phase is not None:
        conditions.append(_endorsed(Endorsement.phase == filters.phase))
    if filters.subject:
        conditions.append(_contains(RegisterEntry.subject, filters.subject))
    if filters.name:
        conditions.append(or_(_contains(User.name, filters.name),
                              _contains(User.email, filters.name)))
    if filters.due == "overdue":
        conditions.append(RegisterEntry.next_due_on <= on)
    elif filters.due in DUE_CHOICES:
        conditions.append(RegisterEntry.next_due_on.between(
            on + timedelta(days=1), on + timedelta(days=int(filters.due))))
    if with_status and filters.status is not None:
        conditions.append(RegisterEntry.status == filters.status)
    return conditions


def _filtered(columns: Iterable, scope: RegisterScope, filters: RegisterFilters, on: date,
              **kwargs) -> Select:
    return (select(*columns).select_from(RegisterEntry)
            .join(User, User.id == RegisterEntry.user_id)
            .where(*_conditions(scope, filters, on, **kwargs)))


def register_counts(scope: RegisterScope, filters: RegisterFilters, on: date
                    ) -> dict[RegisterStatus, int]:
    """How many entries in each status, under every filter but the status."""
    counts = dict.fromkeys(RegisterStatus, 0)
    for status, count in db.session.execute(
            _filtered([RegisterEntry.status, func.count()], scope, filters, on,
                      with_status=False).group_by(RegisterEntry.status)):
        counts[status] = count
    return counts


def register_user_ids(scope: RegisterScope) -> set[int]:
    """The people whose entries the person may see (to narrow trust-wide lists)."""
    return set(db.session.scalars(_filtered([RegisterEntry.user_id], scope, RegisterFilters(),
                                            clock.today())))


# --- a page of the register -----------------------------------------------------------------


@dataclass(frozen=True)
class RegisterRow:
    entry: RegisterEntry
    endorsement: Endorsement | None


@dataclass(frozen=True)
class RegisterPage:
    rows: list[RegisterRow]
    counts: dict[RegisterStatus, int]
    total: int
    page: int
    pages: int


_RANK = {EndorsementStatus.ACTIVE: 3, EndorsementStatus.SUSPENDED: 2,
         EndorsementStatus.EXPIRED: 1, EndorsementStatus.REVOKED: 0}


def _best(endorsements: Iterable) -> dict[int, object]:
    """Each tutor's endorsement that counts, as the register's derivation picks it: valid
    before suspended before expired before revoked, then the newest."""
    best: dict[int, object] = {}
    for e in endorsements:
        held = best.get(e.user_id)
        if held is None or (_RANK[e.status], e.issued_at) > (_RANK[held.status], held.issued_at):
            best[e.user_id] = e
    return best


def register_page(scope: RegisterScope, filters: RegisterFilters, on: date, *, page: int = 1,
                  per_page: int = 100) -> RegisterPage:
    """One page of entries, by name, with their schools and endorsements: a fixed number of
    queries whatever the page holds."""
    counts = register_counts(scope, filters, on)
    total = counts[filters.status] if filters.status is not None else sum(counts.values())
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    entries = list(db.session.scalars(
        _filtered([RegisterEntry], scope, filters, on)
        .options(contains_eager(RegisterEntry.user), selectinload(RegisterEntry.schools))
        .order_by(User.name, RegisterEntry.id)
        .offset((page - 1) * per_page).limit(per_page)))
    users = {e.user_id for e in entries}
    best = _best(db.session.scalars(select(Endorsement).where(
        Endorsement.user_id.in_(users)))) if users else {}
    return RegisterPage([RegisterRow(e, best.get(e.user_id)) for e in entries], counts, total,
                        page, pages)


# --- the register as a file -------------------------------------------------------------------


class ExportRow(NamedTuple):
    """One line of the register as a file (a tuple: 20,000 of them are made per export)."""

    name: str
    email: str
    status: RegisterStatus
    reasons: list[str]
    since: date
    schools: list[str]
    pathway: str
    phase: str
    subject: str
    endorsement_status: str
    endorsement_valid_until: date | None
    #: Only the last four digits, ever.
    dbs_certificate: str
    dbs_issued: date | None
    dbs_due: date | None
    training_completed: date | None
    training_due: date | None


def whole_register(trust: Trust) -> RegisterScope:
    """The whole of a trust's register (for its central team, and for jobs and reports)."""
    return RegisterScope(trust, True, list(trust.schools))


def _latest_checks(rows: Iterable) -> dict[int, object]:
    """Each person's current certificate: the latest issued (then the latest recorded), as
    the register's derivation picks it."""
    latest: dict[int, object] = {}
    for row in rows:
        held = latest.get(row.user_id)
        if held is None or (row.issued_on, row.id) > (held.issued_on, held.id):
            latest[row.user_id] = row
    return latest


def export_rows(scope: RegisterScope, filters: RegisterFilters, on: date
                ) -> Iterator[ExportRow]:
    """Every entry the person sees under the filters, with the facts behind it: one query for
    the entries and one for each kind of fact, however many entries there are. Due dates come
    from the register's own rules (``dbs_due_on``, ``add_months``) under the trust's policy.
    Each certificate number is decrypted once, and only its last four digits leave here."""
    trust_id = scope.trust.id
    policy = register.policy_for(scope.trust)
    # Plain column rows through the connection: no ORM bookkeeping for 20,000 of them.
    run = db.session.connection().execute
    entries = run(
        _filtered([RegisterEntry.id, RegisterEntry.user_id, RegisterEntry.status,
                   RegisterEntry.reasons, RegisterEntry.status_since, RegisterEntry.subject,
                   User.name, User.email], scope, filters, on)
        .order_by(User.name, RegisterEntry.id)).all()
    if not entries:
        return
    entry_ids = _filtered([RegisterEntry.id], scope, filters, on)
    user_ids = _filtered([RegisterEntry.user_id], scope, filters, on)

    schools: dict[int, list[str]] = defaultdict(list)
    for entry_id, name in run(
            select(register_entry_schools.c.entry_id, School.name)
            .join(School, School.id == register_entry_schools.c.school_id)
            .where(register_entry_schools.c.entry_id.in_(entry_ids)).order_by(School.name)
    ).all():
        schools[entry_id].append(name)
    best = _best(run(select(
        Endorsement.user_id, Endorsement.status, Endorsement.issued_at, Endorsement.pathway,
        Endorsement.phase, Endorsement.valid_until).where(Endorsement.user_id.in_(user_ids))
    ).all())
    of_trust = (DbsCheck.trust_id == trust_id, DbsCheck.user_id.in_(user_ids))
    latest = _latest_checks(run(select(
        DbsCheck.id, DbsCheck.user_id, DbsCheck.issued_on, DbsCheck.level, DbsCheck.workforce,
        DbsCheck.barred_lists, DbsCheck.update_service,
        DbsCheck.certificate_number_encrypted).where(*of_trust)).all())
    last_status_check = dict(run(
        select(DbsStatusCheck.dbs_check_id, func.max(DbsStatusCheck.checked_on))
        .join(DbsCheck, DbsCheck.id == DbsStatusCheck.dbs_check_id).where(*of_trust)
        .group_by(DbsStatusCheck.dbs_check_id)).all())
    trained = dict(run(
        select(SafeguardingTraining.user_id, func.max(SafeguardingTraining.completed_on))
        .where(SafeguardingTraining.trust_id == trust_id,
               SafeguardingTraining.user_id.in_(user_ids))
        .group_by(SafeguardingTraining.user_id)).all())

    for entry_id, user_id, status, reasons, status_since, subject, name, email in entries:
        endorsement = best.get(user_id)
        check = latest.get(user_id)
        completed = trained.get(user_id)
        dbs_due = None
        if check is not None and derivation.covers_children(check.level, check.workforce,
                                                          check.barred_lists):
            dbs_due = derivation.dbs_due_on(policy, check.issued_on, check.update_service,
                                          last_status_check.get(check.id))
        yield ExportRow(
            name=name, email=email, status=status, reasons=reasons or [],
            since=clock.today(status_since), schools=schools.get(entry_id, []),
            pathway=endorsement.pathway.short_label if endorsement else "",
            phase=endorsement.phase.label if endorsement else "",
            subject=subject or "",
            endorsement_status=endorsement.status.label if endorsement else "None",
            endorsement_valid_until=clock.today(endorsement.valid_until)
            if endorsement else None,
            dbs_certificate=derivation.masked(register.certificate_number(check))
            if check else "",
            dbs_issued=check.issued_on if check else None,
            dbs_due=dbs_due, training_completed=completed,
            training_due=derivation.add_months(completed, policy.training_months)
            if completed else None)


# --- one person's safeguarding records in one trust -------------------------------------------


def has_tie(person: User, trust: Trust) -> bool:
    """Whether the person works, trains or is on record in the trust: endorsed by it, on its
    register, or with a DBS check or training it recorded."""
    from credentials.register.policies import schools_where_they_work

    if schools_where_they_work(person, trust.id):
        return True
    return any(db.session.scalar(select(model.id).where(
        model.user_id == person.id, model.trust_id == trust.id).limit(1)) is not None
        for model in (RegisterEntry, DbsCheck, SafeguardingTraining, Endorsement))


def is_endorsed(person: User) -> bool:
    return db.session.scalar(select(Endorsement.id).where(
        Endorsement.user_id == person.id).limit(1)) is not None


def register_entry(trust: Trust, person: User) -> RegisterEntry | None:
    return db.session.scalar(select(RegisterEntry).where(
        RegisterEntry.trust_id == trust.id, RegisterEntry.user_id == person.id)
        .options(selectinload(RegisterEntry.schools)))


def dbs_checks(trust: Trust, person: User) -> list[DbsCheck]:
    """The trust's record of the person's certificates, newest first, with status checks."""
    return list(db.session.scalars(
        select(DbsCheck).where(DbsCheck.trust_id == trust.id, DbsCheck.user_id == person.id)
        .options(selectinload(DbsCheck.status_checks).selectinload(DbsStatusCheck.checked_by))
        .order_by(DbsCheck.issued_on.desc(), DbsCheck.id.desc())))


def training_records(trust: Trust, person: User) -> list[SafeguardingTraining]:
    return list(db.session.scalars(
        select(SafeguardingTraining).where(SafeguardingTraining.trust_id == trust.id,
                                           SafeguardingTraining.user_id == person.id)
        .order_by(SafeguardingTraining.completed_on.desc(), SafeguardingTraining.id.desc())))


def users_named(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(wanted))).all())
