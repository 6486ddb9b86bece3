"""The approved-tutor register and the facts behind it: DBS checks, Update Service status
checks, safeguarding training and each trust's renewal policy.

A register entry's status is never typed in. ``derive`` turns the facts into it, and the same
function runs whether one fact changed (a DBS check recorded, an endorsement suspended) or the
nightly sweep finds that something lapsed at midnight.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Text, cast, func, select

from credentials.models import (
    DbsCheck,
    DbsLevel,
    DbsRenewal,
    DbsStatusCheck,
    DbsWorkforce,
    Endorsement,
    EndorsementStatus,
    RegisterEntry,
    RegisterPolicy,
    RegisterStatus,
    RiskDecision,
    SafeguardingTraining,
    StatusCheckResult,
    register_entry_schools,
)
from lms import audit, bulk, clock, crypto
from lms.errors import DomainError
from lms.extensions import db
from lms.models import Enrolment, Membership, Nomination, School, Trust, User

LONDON = ZoneInfo("Europe/London")
CERTIFICATE_PURPOSE = "dbs-certificate-number"
CERTIFICATE_NUMBER = re.compile(r"[0-9]{12}")
#: Checks due within this many days are listed as due soon, and their keepers reminded.
DUE_SOON_DAYS = 30


def today(now: datetime | None = None) -> date:
    """The date in England: a check due on a date lapses at midnight, UK time."""
    return (now or clock.now()).astimezone(LONDON).date()


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
    Otherwise pending (something missing: what), suspended (something lapsed or suspended:
    which, since when), or removed (a person removed the tutor)."""
    if facts.removed_on is not None:
        return Derived(RegisterStatus.REMOVED,
                       [f"Removed on {_day(facts.removed_on)}: {facts.removed_reason}"],
                       facts.removed_on)
    missing: list[str] = []
    lapsed: list[tuple[date, str]] = []
    dues: list[date] = []

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


def _policies(trust_ids: set[int]) -> dict[int, RegisterPolicy]:
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


def load_facts(entries: list[tuple[int, int, int, datetime | None, str | None]],
               users: Select | None = None) -> dict[int, Facts]:
    """Facts for each ``(entry id, trust id, user id, removed at, removed reason)``, read with a
    few queries however many entries there are. ``users``, a query of the entries' user ids,
    reads a whole register faster than the ids listed."""
    trusts = {trust_id for _, trust_id, _, _, _ in entries}
    policies = _policies(trusts)
    if users is None:
        ids = sorted({user_id for _, _, user_id, _, _ in entries})
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
    for entry_id, trust_id, user_id, removed_at, removed_reason in entries:
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
            today(removed_at) if removed_at else None, removed_reason)
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
                   RegisterEntry.status, cast(RegisterEntry.reasons, Text).label("reasons"),
                   RegisterEntry.next_due_on, RegisterEntry.dbs_due_on,
                   RegisterEntry.training_due_on)
    if trust_id is not None:
        query = query.where(RegisterEntry.trust_id == trust_id)
    if user_id is not None:
        query = query.where(RegisterEntry.user_id == user_id)
    rows = _read(query).all()
    users = query.with_only_columns(RegisterEntry.user_id) if user_id is None else None
    facts = load_facts([(r.id, r.trust_id, r.user_id, r.removed_at, r.removed_reason)
                        for r in rows], users)
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
    from lms.models import Role
    from lms.notifications import send_email

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


# --- recording the facts ------------------------------------------------------------------


def policy_for(trust: Trust) -> RegisterPolicy:
    return _policies({trust.id})[trust.id]


def set_policy(trust: Trust, *, dbs_renewal: str, certificate_years: int,
               status_check_months: int, training_months: int, actor) -> RegisterPolicy:
    renewal = _choice(DbsRenewal, dbs_renewal, "dbs_renewal", "how DBS checks are renewed")
    for name, value, low, high in (("certificate_years", certificate_years, 1, 5),
                                   ("status_check_months", status_check_months, 1, 24),
                                   ("training_months", training_months, 1, 36)):
        if not isinstance(value, int) or not low <= value <= high:
            raise DomainError(f"Choose between {low} and {high}", field=name)
    policy = db.session.scalar(select(RegisterPolicy).where(RegisterPolicy.trust_id == trust.id))
    if policy is None:
        policy = RegisterPolicy(trust_id=trust.id)
        db.session.add(policy)
    changes = audit.diff(policy, dbs_renewal=renewal, certificate_years=certificate_years,
                         status_check_months=status_check_months,
                         training_months=training_months)
    policy.updated_by_id = getattr(actor, "id", None)
    policy.updated_at = clock.now()
    db.session.flush()
    if changes:
        audit.record("register_policy.updated", policy, actor=actor, trust_id=trust.id,
                     changes=changes)
        refresh_register(trust_id=trust.id)
    return policy


def _choice(kind: type, value, field: str, what: str):
    """A form or API value turned into its enum, or a clear message on the right field."""
    try:
        return kind(value)
    except ValueError as exc:
        raise DomainError(f"Choose {what} from the list", field=field) from exc


def _normalise_number(number: str) -> str:
    digits = re.sub(r"[\s-]", "", number or "")
    if not CERTIFICATE_NUMBER.fullmatch(digits):
        raise DomainError("Enter the 12-digit certificate number, for example 001234567890",
                          field="certificate_number")
    return digits


def record_dbs_check(person: User, trust: Trust, *, certificate_number: str, issued_on: date,
                     level: str, workforce: str, barred_lists: list[str],
                     original_seen_by: str, original_seen_on: date, update_service: bool,
                     showed_information: bool, risk_decision: str | None = None,
                     risk_decision_on: date | None = None, risk_decision_by: str | None = None,
                     school: School | None = None, actor=None) -> DbsCheck:
    """Record a certificate someone has seen. A tutor works with children, so only an
    enhanced check with the children's barred list (child workforce) is accepted."""
    number = _normalise_number(certificate_number)
    on = today()
    if issued_on is None or issued_on > on:
        raise DomainError("The issue date cannot be in the future", field="issued_on")
    level = _choice(DbsLevel, level, "level", "the level of the check")
    workforce = _choice(DbsWorkforce, workforce, "workforce", "the workforce")
    lists = sorted({str(item) for item in barred_lists or []} & {"children", "adults"})
    if not covers_children(level, workforce, lists):
        field = ("level" if level != DbsLevel.ENHANCED_BARRED else
                 "workforce" if workforce not in (DbsWorkforce.CHILD,
                                                  DbsWorkforce.CHILD_AND_ADULT)
                 else "barred_lists")
        raise DomainError(
            "A tutor needs an enhanced check with the children's barred list, for the child "
            "workforce: this certificate does not cover regulated work with children",
            field=field)
    seen_by = (original_seen_by or "").strip()
    if not seen_by:
        raise DomainError("Say who saw the original certificate", field="original_seen_by")
    if original_seen_on is None or original_seen_on > on or original_seen_on < issued_on:
        raise DomainError("The original was seen on or after its issue date, and not in the "
                          "future", field="original_seen_on")
    decision = (_choice(RiskDecision, risk_decision, "risk_decision", "the risk decision")
                if risk_decision else None)
    if decision is not None and (risk_decision_on is None or risk_decision_on > on
                                 or risk_decision_on < issued_on):
        raise DomainError("A risk decision needs its date: on or after the certificate's issue "
                          "date, and not in the future", field="risk_decision_on")
    if decision is not None and not (risk_decision_by or "").strip():
        raise DomainError("Say who made the risk decision", field="risk_decision_by")
    if decision is not None and not showed_information:
        raise DomainError("A risk decision is only recorded when the certificate showed "
                          "information", field="risk_decision")
    if school is not None and school.trust_id != trust.id:
        raise DomainError("That school is not in this trust.", field="school")
    check = DbsCheck(
        user_id=person.id, trust_id=trust.id, school_id=school.id if school else None,
        certificate_number_encrypted=crypto.encrypt(number.encode(), CERTIFICATE_PURPOSE),
        certificate_number_lookup=crypto.keyed_hash(number, CERTIFICATE_PURPOSE),
        issued_on=issued_on, level=level, workforce=workforce, barred_lists=lists,
        original_seen_by=seen_by, original_seen_on=original_seen_on,
        update_service=bool(update_service), showed_information=bool(showed_information),
        risk_decision=decision, risk_decision_on=risk_decision_on if decision else None,
        risk_decision_by=(risk_decision_by or "").strip() or None if decision else None,
        recorded_by_id=getattr(actor, "id", None))
    db.session.add(check)
    db.session.flush()
    audit.record("dbs_check.recorded", check, actor=actor, trust_id=trust.id,
                 changes={"issued_on": (None, issued_on), "level": (None, level.value),
                          "update_service": (None, check.update_service),
                          "showed_information": (None, check.showed_information)})
    refresh_register(trust_id=trust.id, user_id=person.id)
    return check


def record_risk_decision(check: DbsCheck, *, decision: str, decided_on: date, decided_by: str,
                         actor=None) -> DbsCheck:
    if not check.showed_information:
        raise DomainError("This certificate showed no information: no decision is needed.")
    choice = _choice(RiskDecision, decision, "decision", "the decision")
    if decided_on is None or decided_on > today() or decided_on < check.issued_on:
        raise DomainError("Give the decision's date: on or after the certificate's issue date, "
                          "and not in the future", field="decided_on")
    if not (decided_by or "").strip():
        raise DomainError("Say who made the decision", field="decided_by")
    changes = audit.diff(check, risk_decision=choice, risk_decision_on=decided_on,
                         risk_decision_by=decided_by.strip())
    # Who decided is a name: the audit log holds ids, never personal data (the actor is there).
    changes.pop("risk_decision_by", None)
    db.session.flush()
    audit.record("dbs_check.risk_decision", check, actor=actor, trust_id=check.trust_id,
                 changes=changes)
    refresh_register(trust_id=check.trust_id, user_id=check.user_id)
    return check


def record_status_check(check: DbsCheck, *, checked_on: date, result: str, actor=None
                        ) -> DbsStatusCheck:
    """An Update Service status check, for a certificate whose holder subscribes."""
    if not check.update_service:
        raise DomainError("This person does not subscribe to the DBS Update Service: record a "
                          "new certificate instead.")
    if checked_on is None or checked_on > today() or checked_on < check.issued_on:
        raise DomainError("The check date must be after the certificate's issue date and not "
                          "in the future", field="checked_on")
    status_check = DbsStatusCheck(dbs_check_id=check.id, checked_on=checked_on,
                                  result=_choice(StatusCheckResult, result, "result",
                                                 "the result"),
                                  checked_by_id=getattr(actor, "id", None))
    db.session.add(status_check)
    db.session.flush()
    audit.record("dbs_status_check.recorded", status_check, actor=actor, trust_id=check.trust_id,
                 changes={"result": (None, status_check.result.value),
                          "checked_on": (None, checked_on)})
    refresh_register(trust_id=check.trust_id, user_id=check.user_id)
    return status_check


def record_training(person: User, trust: Trust, *, completed_on: date, course: str = "",
                    school: School | None = None, actor=None) -> SafeguardingTraining:
    if completed_on is None or completed_on > today():
        raise DomainError("The training date cannot be in the future", field="completed_on")
    if school is not None and school.trust_id != trust.id:
        raise DomainError("That school is not in this trust.", field="school")
    training = SafeguardingTraining(user_id=person.id, trust_id=trust.id,
                                    school_id=school.id if school else None,
                                    completed_on=completed_on, course=(course or "").strip(),
                                    recorded_by_id=getattr(actor, "id", None))
    db.session.add(training)
    db.session.flush()
    audit.record("safeguarding_training.recorded", training, actor=actor, trust_id=trust.id,
                 changes={"completed_on": (None, completed_on)})
    refresh_register(trust_id=trust.id, user_id=person.id)
    return training


def find_certificate(trust: Trust, number: str) -> list[DbsCheck]:
    """Checks in this trust with exactly this certificate number (by its keyed hash)."""
    lookup = crypto.keyed_hash(_normalise_number(number), CERTIFICATE_PURPOSE)
    return list(db.session.scalars(select(DbsCheck).where(
        DbsCheck.trust_id == trust.id, DbsCheck.certificate_number_lookup == lookup)))


def certificate_number(check: DbsCheck) -> str:
    return crypto.decrypt(check.certificate_number_encrypted, CERTIFICATE_PURPOSE).decode()


# --- entries ------------------------------------------------------------------------------


def _trust_schools(trust: Trust, schools: Iterable[School]) -> list[School]:
    chosen = list({s.id: s for s in schools}.values())
    if not chosen:
        raise DomainError("Choose at least one school where the tutor may tutor",
                          field="school_ids")
    if any(s.trust_id != trust.id for s in chosen):
        raise DomainError("Only this trust's schools can be listed", field="school_ids")
    return chosen


def _subject_of(trust: Trust, person: User) -> str:
    return db.session.scalar(select(Nomination.subject_focus).join(
        Enrolment, Enrolment.nomination_id == Nomination.id).where(
        Enrolment.user_id == person.id, Nomination.trust_id == trust.id)
        .order_by(Nomination.created_at.desc())) or ""


def add_to_register(trust: Trust, person: User, *, schools: Iterable[School], actor=None,
                    subject: str | None = None) -> RegisterEntry:
    """Put a tutor on the trust's register (or back on it), for the schools listed."""
    chosen = _trust_schools(trust, schools)
    entry = db.session.scalar(select(RegisterEntry).where(
        RegisterEntry.trust_id == trust.id, RegisterEntry.user_id == person.id))
    if entry is not None and entry.removed_at is None:
        raise DomainError(f"{person.name} is already on the register.")
    if entry is None:
        entry = RegisterEntry(trust_id=trust.id, user_id=person.id,
                              status=RegisterStatus.PENDING, reasons=[],
                              added_by_id=getattr(actor, "id", None))
        db.session.add(entry)
    entry.removed_at = entry.removed_by_id = entry.removed_reason = None
    entry.subject = subject if subject is not None else _subject_of(trust, person)
    entry.schools = chosen
    db.session.flush()
    audit.record("register_entry.added", entry, actor=actor, trust_id=trust.id,
                 changes={"schools": (None, sorted(s.id for s in chosen))})
    refresh_register(trust_id=trust.id, user_id=person.id)
    return entry


def set_register_schools(entry: RegisterEntry, schools: Iterable[School], *, actor=None
                         ) -> RegisterEntry:
    if entry.removed_at is not None:
        raise DomainError("This tutor has been removed from the register: add them back first.")
    chosen = _trust_schools(entry.trust, schools)
    before, after = sorted(s.id for s in entry.schools), sorted(s.id for s in chosen)
    if before == after:
        return entry
    entry.schools = chosen
    db.session.flush()
    audit.record("register_entry.schools_changed", entry, actor=actor, trust_id=entry.trust_id,
                 changes={"schools": (before, after)})
    return entry


def remove_from_register(entry: RegisterEntry, *, reason: str, actor=None) -> RegisterEntry:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason for removing the tutor", field="reason")
    if entry.removed_at is not None:
        raise DomainError("This tutor has already been removed.")
    entry.removed_at = clock.now()
    entry.removed_by_id = getattr(actor, "id", None)
    entry.removed_reason = reason
    db.session.flush()
    audit.record("register_entry.removed", entry, actor=actor, trust_id=entry.trust_id,
                 reason=reason, changes={"removed": (False, True)})
    refresh_register(trust_id=entry.trust_id, user_id=entry.user_id)
    return entry


def register_on_endorsement(endorsement: Endorsement) -> None:
    """A newly endorsed tutor is added to their trust's register for the nominating school
    (pending until their DBS check and training are recorded)."""
    exists = db.session.scalar(select(RegisterEntry.id).where(
        RegisterEntry.trust_id == endorsement.trust_id,
        RegisterEntry.user_id == endorsement.user_id))
    if exists is None:
        add_to_register(endorsement.trust, endorsement.user, schools=[endorsement.school])
    else:
        refresh_register(user_id=endorsement.user_id)


_STANDING = {RegisterStatus.APPROVED: 3, RegisterStatus.PENDING: 2,
             RegisterStatus.SUSPENDED: 1, RegisterStatus.REMOVED: 0}


def register_status_for(endorsement: Endorsement, trust_ids: set[int]) -> dict | None:
    """What a provider sees, from the registers of the trusts that gave it access: the tutor's
    entry (their current trust's if they moved: the entry with the best standing), or that
    they are not on the register of the trust that endorsed them. Never the DBS details or
    the reasons behind a status. None when no trust with a say has given access."""
    entries = db.session.scalars(select(RegisterEntry).where(
        RegisterEntry.user_id == endorsement.user_id,
        RegisterEntry.trust_id.in_(trust_ids))).all() if trust_ids else []
    if entries:
        entry = max(entries, key=lambda e: (_STANDING[e.status], e.added_at))
        return {"status": entry.status.value, "trust": entry.trust.name,
                "schools": [s.name for s in entry.schools]
                if entry.status != RegisterStatus.REMOVED else [], "reasons": []}
    if endorsement.trust_id in trust_ids:
        return {"status": "not_on_register", "trust": endorsement.trust.name, "schools": [],
                "reasons": []}
    return None


# --- checks due ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DueCheck:
    person: User
    due_on: date
    overdue: bool
    #: "DBS check" or "Safeguarding training".
    what: str


def due_condition(horizon: date):
    """An entry (not removed) whose DBS check or safeguarding training is due on or before
    ``horizon``, as the derivation last found the due dates."""
    return RegisterEntry.removed_at.is_(None) & (
        (RegisterEntry.dbs_due_on <= horizon) | (RegisterEntry.training_due_on <= horizon))


def due_entries(horizon: date) -> Select:
    """The entries of ``due_condition``, with what ``dues_of`` reads."""
    return select(RegisterEntry.id, RegisterEntry.trust_id, RegisterEntry.user_id,
                  RegisterEntry.dbs_due_on, RegisterEntry.training_due_on).where(
        due_condition(horizon))


def dues_of(row, horizon: date) -> list[tuple[str, date]]:
    """What of a ``due_entries`` row is due on or before ``horizon``, and when."""
    return [(what, due_on) for what, due_on in (("DBS check", row.dbs_due_on),
                                                 ("Safeguarding training", row.training_due_on))
            if due_on is not None and due_on <= horizon]


def due_items(rows, people: dict[int, User], on: date, horizon: date) -> list[DueCheck]:
    """``due_entries`` rows as the checks and training due, most urgent first."""
    due = [DueCheck(people[row.user_id], due_on, due_on <= on, what)
           for row in rows for what, due_on in dues_of(row, horizon)]
    return sorted(due, key=lambda d: (d.due_on, d.person.name))


def due_checks(trust: Trust, *, within_days: int = DUE_SOON_DAYS,
               now: datetime | None = None) -> list[DueCheck]:
    """DBS checks and safeguarding training of the trust's register due within
    ``within_days`` or already overdue, most urgent first."""
    on = today(now)
    horizon = on + timedelta(days=within_days)
    rows = db.session.execute(due_entries(horizon).where(
        RegisterEntry.trust_id == trust.id)).all()
    people = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_({r.user_id for r in rows})))} if rows else {}
    return due_items(rows, people, on, horizon)


def send_due_reminders(now: datetime | None = None) -> int:
    """Remind each trust's central team (once per item and due date) of checks and training
    due within 30 days or overdue."""
    from lms.models import Role, SentReminder
    from lms.notifications import send_email

    sent = 0
    for trust in db.session.scalars(select(Trust)):
        items = due_checks(trust, now=now)
        fresh = []
        for item in items:
            key = f"{item.what}:{item.person.id}:{item.due_on.isoformat()}"
            if db.session.scalar(select(SentReminder.id).where(
                    SentReminder.kind == "register-due", SentReminder.key == key)) is None:
                db.session.add(SentReminder(kind="register-due", subject_type="Trust",
                                            subject_id=trust.id, key=key))
                fresh.append(item)
        if not fresh:
            continue
        for person in db.session.scalars(select(User).join(
                Membership, Membership.user_id == User.id).where(
                Membership.trust_id == trust.id, Membership.role == Role.CENTRAL_TEAM,
                Membership.ended_at.is_(None))):
            send_email(person.email, "DBS checks and training due", "register_due",
                       person=person, trust=trust, items=fresh, today=today(now))
        sent += len(fresh)
    return sent
