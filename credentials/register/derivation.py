"""A register entry's status, derived from the facts, and the refresh that keeps every entry
true."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Select, Text, cast, func, select

from credentials.endorsements.models import Endorsement, EndorsementStatus
from credentials.register.models import (
    DbsCheck,
    DbsLevel,
    DbsRenewal,
    DbsStatusCheck,
    DbsWorkforce,
    RegisterEntry,
    RegisterPolicy,
    RegisterStatus,
    RiskDecision,
    SafeguardingTraining,
    StatusCheckResult,
    register_entry_schools,
)
from lms.accounts.models import User
from lms.audit import services as audit
from lms.organisations.models import Membership
from lms.platform import bulk, clock
from lms.platform.clock import LONDON, today
from lms.platform.extensions import db

CERTIFICATE_PURPOSE = "dbs-certificate-number"
CERTIFICATE_NUMBER = re.compile(r"[0-9]{12}")
#: Checks due within this many days are listed as due soon, and their keepers reminded.
DUE_SOON_DAYS = 30


@lru_cache(maxsize=8192)
def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)


def masked(number: str) -> str:
    """A certificate number as it is shown: only its last four digits."""
    return "\u2022" * 8 + number[-4:]


# --- the derivation ----------------------------------------------------------------------


class EndorsementFact(NamedTuple):
    status: EndorsementStatus
    valid_until: date
    changed_on: date | None


class DbsFact(NamedTuple):
    covers_children: bool
    due_on: date
    showed_information: bool
    risk_decision: RiskDecision | None
    risk_decision_on: date | None
    #: The date an Update Service status check found new information, if one did.
    new_information_on: date | None


class Facts(NamedTuple):
    """What an entry's status is derived from. Tuples, not dataclasses: a sweep makes one per
    entry of every register, and tuples are made several times faster."""

    endorsement: EndorsementFact | None = None
    dbs: DbsFact | None = None
    training_due_on: date | None = None
    removed_on: date | None = None
    removed_reason: str | None = None
    #: The day the tutor was suspended pending review, while they are.
    held_on: date | None = None


@dataclass(frozen=True)
class Derived:
    status: RegisterStatus
    reasons: list[str] = field(default_factory=list)
    #: For a suspension: the day the first thing lapsed.
    since: date | None = None
    next_due_on: date | None = None


def _day(value: date) -> str:
    return f"{value:%-d %B %Y}"


def derive(facts: Facts, on: date) -> Derived:
    """Approved only while the endorsement is valid, a DBS check covering regulated work with
    children is current under the trust's policy, and safeguarding training is in date.
    Otherwise pending (something missing: what), suspended (something lapsed or suspended, or
    the tutor suspended pending review: which, since when), or removed (a person removed the
    tutor)."""
    if facts.removed_on is not None:
        return Derived(RegisterStatus.REMOVED,
                       [f"Removed on {_day(facts.removed_on)}: {facts.removed_reason}"],
                       facts.removed_on)
    missing: list[str] = []
    lapsed: list[tuple[date, str]] = []
    dues: list[date] = []
    if facts.held_on is not None:
        lapsed.append((facts.held_on, "Suspended pending review"))

    endorsement = facts.endorsement
    if endorsement is not None and endorsement.status in (EndorsementStatus.ACTIVE,
                                                          EndorsementStatus.SUSPENDED):
        dues.append(endorsement.valid_until)
    if endorsement is None:
        missing.append("No endorsement yet: the tutor must pass the assessment")
    elif endorsement.status == EndorsementStatus.REVOKED:
        lapsed.append((endorsement.changed_on or on, "Endorsement revoked"))
    elif endorsement.status == EndorsementStatus.EXPIRED or on >= endorsement.valid_until:
        lapsed.append((endorsement.valid_until, "Endorsement expired"))
    elif endorsement.status == EndorsementStatus.SUSPENDED:
        lapsed.append((endorsement.changed_on or on, "Endorsement suspended"))

    dbs = facts.dbs
    if dbs is None:
        missing.append("No DBS check recorded")
    elif not dbs.covers_children:
        missing.append("The DBS check does not cover regulated work with children (it must be "
                       "enhanced, with the children's barred list, for the child workforce)")
    else:
        dues.append(dbs.due_on)
        if dbs.new_information_on is not None:
            lapsed.append((dbs.new_information_on,
                           "A DBS Update Service check found new information: a new "
                           "certificate and risk decision are needed"))
        elif on >= dbs.due_on:
            lapsed.append((dbs.due_on, f"DBS check due on {_day(dbs.due_on)}"))
        if dbs.risk_decision == RiskDecision.NOT_SUITABLE:
            lapsed.append((dbs.risk_decision_on or on,
                           "Risk decision: not suitable to work with children"))
        elif dbs.showed_information and dbs.risk_decision is None:
            missing.append("The DBS certificate showed information: a risk decision is needed")

    if facts.training_due_on is None:
        missing.append("No safeguarding training recorded")
    else:
        dues.append(facts.training_due_on)
        if on >= facts.training_due_on:
            lapsed.append((facts.training_due_on,
                           f"Safeguarding training due on {_day(facts.training_due_on)}"))

    if lapsed:
        since = min(day for day, _ in lapsed)
        reasons = [f"{text} (since {_day(day)})" if "due on" not in text else text
                   for day, text in sorted(lapsed)]
        return Derived(RegisterStatus.SUSPENDED, reasons + missing, since, min(dues, default=None))
    if missing:
        return Derived(RegisterStatus.PENDING, missing, None, min(dues, default=None))
    return Derived(RegisterStatus.APPROVED, [], None, min(dues))


def _since(derived: Derived, now: datetime) -> datetime:
    """When an entry's new status began: for a suspension, midnight (UK) of the day the first
    thing lapsed; otherwise now."""
    if derived.status == RegisterStatus.SUSPENDED and derived.since is not None:
        lapsed_at = datetime(derived.since.year, derived.since.month, derived.since.day,
                             tzinfo=LONDON)
        return min(lapsed_at.astimezone(now.tzinfo), now)
    return now


# --- the facts, in bulk -------------------------------------------------------------------


def register_policies(trust_ids: set[int]) -> dict[int, RegisterPolicy]:
    found = {p.trust_id: p for p in db.session.scalars(
        select(RegisterPolicy).where(RegisterPolicy.trust_id.in_(trust_ids)))}
    return {t: found.get(t) or RegisterPolicy(trust_id=t, dbs_renewal=DbsRenewal.CERTIFICATE,
                                              certificate_years=3, status_check_months=12,
                                              training_months=12)
            for t in trust_ids}


def covers_children(level: DbsLevel, workforce: DbsWorkforce, barred_lists: list) -> bool:
    return (level == DbsLevel.ENHANCED_BARRED
            and workforce in (DbsWorkforce.CHILD, DbsWorkforce.CHILD_AND_ADULT)
            and "children" in (barred_lists or []))


@lru_cache(maxsize=16)
def _barred_lists(stored: str | None) -> tuple[str, ...]:
    """A check's barred lists from their stored text: there are only a few distinct values."""
    return tuple(json.loads(stored or "[]"))


def dbs_due_on(policy: RegisterPolicy, issued_on: date, update_service: bool,
               last_status_check: date | None) -> date:
    """When the check is next due under the trust's policy."""
    if policy.dbs_renewal == DbsRenewal.UPDATE_SERVICE and update_service:
        return add_months(last_status_check or issued_on, policy.status_check_months)
    return add_months(issued_on, 12 * policy.certificate_years)


def _chunks(values: list[int], size: int = 5_000) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _read(statement):
    """Rows straight from the connection: for whole registers the ORM's row handling costs
    more than the query."""
    return db.session.connection().execute(statement)


def load_facts(entries: list[tuple[int, int, int, datetime | None, str | None,
                                   datetime | None]],
               users: Select | None = None) -> dict[int, Facts]:
    """Facts for each ``(entry id, trust id, user id, removed at, removed reason, held at)``,
    read with a few queries however many entries there are. ``users``, a query of the
    entries' user ids, reads a whole register faster than the ids listed."""
    trusts = {entry[1] for entry in entries}
    policies = register_policies(trusts)
    if users is None:
        ids = sorted({entry[2] for entry in entries})
        among = [lambda column, chunk=chunk: column.in_(chunk) for chunk in _chunks(ids)]
    else:
        among = [lambda column: column.in_(users)]

    endorsements: dict[int, EndorsementFact] = {}
    rank = {EndorsementStatus.ACTIVE: 3, EndorsementStatus.SUSPENDED: 2,
            EndorsementStatus.EXPIRED: 1, EndorsementStatus.REVOKED: 0}
    best: dict[int, tuple] = {}
    dbs: dict[tuple[int, int], tuple] = {}
    status_checks: dict[int, list[tuple[date, StatusCheckResult]]] = defaultdict(list)
    training: dict[tuple[int, int], date] = {}
    for user_in in among:
        for user_id, status, valid_until, changed_at, issued_at in _read(select(
                Endorsement.user_id, Endorsement.status, Endorsement.valid_until,
                Endorsement.status_changed_at, Endorsement.issued_at)
                .where(user_in(Endorsement.user_id))):
            key = (rank[status], issued_at)
            if user_id not in best or key > best[user_id][0]:
                best[user_id] = (key, status, valid_until, changed_at)
        for row in _read(select(
                DbsCheck.trust_id, DbsCheck.user_id, DbsCheck.issued_on, DbsCheck.id,
                DbsCheck.level, DbsCheck.workforce, cast(DbsCheck.barred_lists, Text),
                DbsCheck.update_service, DbsCheck.showed_information, DbsCheck.risk_decision,
                DbsCheck.risk_decision_on).where(user_in(DbsCheck.user_id))):
            key = row[:2]
            if key not in dbs or row[2:4] > dbs[key][2:4]:
                dbs[key] = row
        for trust_id, user_id, completed_on in _read(
                select(SafeguardingTraining.trust_id, SafeguardingTraining.user_id,
                       func.max(SafeguardingTraining.completed_on))
                .where(user_in(SafeguardingTraining.user_id))
                .group_by(SafeguardingTraining.trust_id, SafeguardingTraining.user_id)):
            training[(trust_id, user_id)] = completed_on
        for check_id, checked_on, result in _read(select(
                DbsStatusCheck.dbs_check_id, DbsStatusCheck.checked_on, DbsStatusCheck.result)
                .join(DbsCheck, DbsCheck.id == DbsStatusCheck.dbs_check_id)
                .where(user_in(DbsCheck.user_id))):
            status_checks[check_id].append((checked_on, result))
    for user_id, (_, status, valid_until, changed_at) in best.items():
        endorsements[user_id] = EndorsementFact(
            status, today(valid_until), today(changed_at) if changed_at else None)

    facts = {}
    for entry_id, trust_id, user_id, removed_at, removed_reason, held_at in entries:
        policy = policies[trust_id]
        check = dbs.get((trust_id, user_id))
        dbs_fact = None
        if check is not None:
            (_, _, issued_on, check_id, level, workforce, barred_lists, update_service,
             showed_information, risk_decision, risk_decision_on) = check
            last = new_info = None
            if check_id in status_checks:
                checks = sorted(status_checks[check_id])
                last = checks[-1][0]
                new_info = next((day for day, result in checks
                                 if result == StatusCheckResult.NEW_INFORMATION), None)
            dbs_fact = DbsFact(
                covers_children(level, workforce, _barred_lists(barred_lists)),
                dbs_due_on(policy, issued_on, update_service, last),
                showed_information, risk_decision, risk_decision_on, new_info)
        trained = training.get((trust_id, user_id))
        facts[entry_id] = Facts(
            endorsements.get(user_id), dbs_fact,
            add_months(trained, policy.training_months) if trained else None,
            today(removed_at) if removed_at else None, removed_reason,
            today(held_at) if held_at else None)
    return facts


# --- keeping entries up to date ------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    entry_id: int
    trust_id: int
    user_id: int
    before: RegisterStatus
    after: RegisterStatus
    reasons: list[str]


def refresh_register(*, trust_id: int | None = None, user_id: int | None = None,
                     now: datetime | None = None, notify: bool = True) -> list[Change]:
    """Derive every entry's status again (a trust's, a person's, or all) and save the ones that
    changed, each audited, and the trust's central team and school leaders told."""
    now = now or clock.now()
    on = today(now)
    db.session.flush()
    # The reasons as stored text: parsing a whole register's would cost more than deriving it.
    query = select(RegisterEntry.id, RegisterEntry.trust_id, RegisterEntry.user_id,
                   RegisterEntry.removed_at, RegisterEntry.removed_reason,
                   RegisterEntry.held_at, RegisterEntry.status,
                   cast(RegisterEntry.reasons, Text).label("reasons"),
                   RegisterEntry.next_due_on, RegisterEntry.dbs_due_on,
                   RegisterEntry.training_due_on)
    if trust_id is not None:
        query = query.where(RegisterEntry.trust_id == trust_id)
    if user_id is not None:
        query = query.where(RegisterEntry.user_id == user_id)
    rows = _read(query).all()
    users = query.with_only_columns(RegisterEntry.user_id) if user_id is None else None
    facts = load_facts([(r.id, r.trust_id, r.user_id, r.removed_at, r.removed_reason,
                         r.held_at) for r in rows], users)
    changes, updates = [], []
    for row in rows:
        fact = facts[row.id]
        derived = derive(fact, on)
        reasons = json.dumps(derived.reasons) if derived.reasons else "[]"
        dbs_due = fact.dbs.due_on if fact.dbs is not None and fact.dbs.covers_children else None
        if (derived.status, reasons, derived.next_due_on, dbs_due, fact.training_due_on) == (
                row.status, row.reasons, row.next_due_on, row.dbs_due_on, row.training_due_on):
            continue
        saved = {"id": row.id, "status": derived.status, "reasons": derived.reasons,
                 "next_due_on": derived.next_due_on, "dbs_due_on": dbs_due,
                 "training_due_on": fact.training_due_on}
        updates.append(saved)
        if derived.status != row.status:
            saved["status_since"] = _since(derived, now)
            changes.append(Change(row.id, row.trust_id, row.user_id, row.status,
                                  derived.status, derived.reasons))
    _save(updates)
    audit.record_each("register_entry.status_changed", (
        (audit.Ref("RegisterEntry", change.entry_id, change.trust_id),
         {"status": (change.before.value, change.after.value)},
         "; ".join(change.reasons) or None) for change in changes))
    if notify and changes:
        _tell_keepers(changes)
    return changes


def _save(updates: list[dict]) -> None:
    """Write derived statuses in bulk; ``status_since`` moves only where the status did."""
    table = RegisterEntry.__table__
    bulk.update_rows(table, [u for u in updates if "status_since" in u])
    bulk.update_rows(table, [u for u in updates if "status_since" not in u])
    if updates:
        db.session.expire_all()


def _tell_keepers(changes: list[Change]) -> None:
    """One email per person who keeps the register (central team, school leaders of the
    schools listed), naming each tutor whose status changed."""
    from lms.notifications.services import send_email
    from lms.platform.roles import Role

    by_entry = {c.entry_id: c for c in changes}
    schools = defaultdict(set)
    for entry_id, school_id in db.session.execute(
            select(register_entry_schools.c.entry_id, register_entry_schools.c.school_id)
            .where(register_entry_schools.c.entry_id.in_(list(by_entry)))):
        schools[entry_id].add(school_id)
    names = dict(db.session.execute(select(User.id, User.name).where(
        User.id.in_({c.user_id for c in changes}))).all())
    recipients: dict[int, tuple[User, list[Change]]] = {}
    keepers = db.session.execute(
        select(Membership, User).join(User, User.id == Membership.user_id).where(
            Membership.ended_at.is_(None),
            Membership.role.in_([Role.CENTRAL_TEAM, Role.SCHOOL_LEADER]),
            Membership.trust_id.in_({c.trust_id for c in changes}))).all()
    for membership, person in keepers:
        for change in changes:
            if membership.trust_id != change.trust_id:
                continue
            if membership.role == Role.SCHOOL_LEADER and \
                    membership.school_id not in schools[change.entry_id]:
                continue
            recipients.setdefault(person.id, (person, []))[1].append(change)
    for person, theirs in recipients.values():
        send_email(person.email, "Approved-tutor register: status changes", "register_changes",
                   person=person, changes=[(names.get(c.user_id, "A tutor"), c)
                                           for c in theirs])

