"""Raising a concern, telling the people it is for, and what they do with it: acknowledge,
add to the chronology, record it in the school's own system, close it.

The account and every entry's details are encrypted before they are stored and are never
written to the audit log, an email or a log line: the audit log names only what kind of thing
happened to which concern.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from lms.accounts.models import User
from lms.audit import services as audit
from lms.organisations.models import Membership, School
from lms.platform import clock, crypto
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.safeguarding.models import (
    ADDABLE,
    CHILD_CATEGORIES,
    Category,
    Concern,
    ConcernAlert,
    ConcernDraft,
    ConcernEntry,
    ConcernKind,
    EntryKind,
    ReferralTo,
    Route,
    SafeguardingSettings,
)
from lms.safeguarding.policies import SCHOOL_ROLES
from lms.tutoring import sessions as tutoring_sessions
from lms.tutoring.models import GroupPupil, GroupStatus, Pupil, TutoringGroup

PURPOSE = "safeguarding-concern"
ACCOUNT_LIMIT = 20_000
DETAILS_LIMIT = 10_000
#: In-app alert level for a break-glass opening (the escalations are 1 and 2).
BREAK_GLASS_LEVEL = 9
UNNAMED_PUPIL = "A pupil the reporter could not name"


# --- the encrypted parts -------------------------------------------------------------------


def seal(value: dict[str, Any]) -> bytes:
    return crypto.encrypt(json.dumps(value).encode(), PURPOSE)


def unseal(token: bytes | None) -> dict[str, Any]:
    return json.loads(crypto.decrypt(token, PURPOSE)) if token else {}


def account_of(concern: Concern) -> dict[str, Any]:
    """The reporter's account (empty once purged): ``account``, ``when``, ``pupil``,
    ``subject``, ``reporter``, ``raised_from``."""
    return unseal(concern.account_encrypted)


def details_of(entry: ConcernEntry) -> str:
    return unseal(entry.details_encrypted).get("text", "")


# --- settings ------------------------------------------------------------------------------


def settings_for(trust_id: int) -> SafeguardingSettings:
    found = db.session.get(SafeguardingSettings, trust_id)
    return found or SafeguardingSettings(trust_id=trust_id, first_escalation_minutes=60,
                                         second_escalation_minutes=240, purge_days=30)


def set_settings(trust_id: int, *, first: int, second: int, purge_days: int,
                 actor: User) -> SafeguardingSettings:
    if not 5 <= first <= 1440:
        raise DomainError("The first escalation must come between 5 minutes and 24 hours",
                          field="first_escalation_minutes")
    if not first < second <= 2880:
        raise DomainError("The second escalation must come after the first, within 48 hours",
                          field="second_escalation_minutes")
    if not 1 <= purge_days <= 365:
        raise DomainError("Keep an account between 1 and 365 days after it is recorded in "
                          "the school's system", field="purge_days")
    found = db.session.get(SafeguardingSettings, trust_id)
    if found is None:
        found = SafeguardingSettings(trust_id=trust_id)
        db.session.add(found)
        db.session.flush()
    changes = audit.diff(found, first_escalation_minutes=first,
                         second_escalation_minutes=second, purge_days=purge_days)
    found.updated_by_id, found.updated_at = actor.id, clock.now()
    audit.record("safeguarding.settings_changed", audit.Ref("Trust", trust_id, trust_id),
                 actor=actor, trust_id=trust_id, changes=changes)
    return found


# --- who a concern can come from, and about ------------------------------------------------


def reporter_schools(user: User) -> list[School]:
    """The schools a person may raise a concern at: where they hold a school role, or tutor
    a group."""
    ids = {m.school_id for m in user.memberships if m.role in SCHOOL_ROLES and m.school_id}
    ids |= set(db.session.scalars(select(TutoringGroup.school_id).where(
        TutoringGroup.tutor_id == user.id, TutoringGroup.status == GroupStatus.ACTIVE)))
    if not ids:
        return []
    return list(db.session.scalars(select(School).where(School.id.in_(ids))
                                   .order_by(School.name)))


def pupils_for(user: User, school_id: int) -> list[tuple[int, str]]:
    """The pupils the reporter tutors at the school (all the school's pupils for its staff):
    the names they may pick from."""
    staff = school_id in {m.school_id for m in user.memberships if m.role in (
        Role.SCHOOL_LEADER, Role.TUTORING_LEAD, Role.DSL, Role.DEPUTY_DSL)}
    query = select(Pupil.id, Pupil.display_name).where(
        Pupil.school_id == school_id, Pupil.erased_at.is_(None))
    if not staff:
        query = query.join(GroupPupil, GroupPupil.pupil_id == Pupil.id).join(
            TutoringGroup, TutoringGroup.id == GroupPupil.group_id).where(
            TutoringGroup.tutor_id == user.id, GroupPupil.left_on.is_(None))
    return sorted({(row[0], row[1]) for row in db.session.execute(query)}, key=lambda r: r[1])


def adults_at(school_id: int, *, besides: User) -> list[tuple[int, str]]:
    """The people working at the school an allegation can name: its staff and its groups'
    tutors (never the reporter)."""
    staff = select(Membership.user_id).where(
        Membership.school_id == school_id, Membership.ended_at.is_(None))
    tutors = select(TutoringGroup.tutor_id).where(TutoringGroup.school_id == school_id)
    rows = db.session.execute(select(User.id, User.name).where(
        User.id.in_(staff.union(tutors)), User.id != besides.id,
        User.deactivated_at.is_(None)).order_by(User.name))
    return [(row[0], row[1]) for row in rows]


# --- drafts --------------------------------------------------------------------------------


def save_draft(user: User, fields: dict[str, str]) -> ConcernDraft:
    kept = {k: str(v)[:ACCOUNT_LIMIT] for k, v in fields.items() if v not in (None, "")}
    draft = db.session.get(ConcernDraft, user.id)
    if draft is None:
        draft = ConcernDraft(user_id=user.id, fields_encrypted=b"")
        db.session.add(draft)
    draft.fields_encrypted, draft.saved_at = seal(kept), clock.now()
    db.session.flush()
    return draft


def draft_of(user: User) -> tuple[dict[str, str], datetime | None]:
    draft = db.session.get(ConcernDraft, user.id)
    return (unseal(draft.fields_encrypted), draft.saved_at) if draft else ({}, None)


def discard_draft(user: User) -> None:
    draft = db.session.get(ConcernDraft, user.id)
    if draft is not None:
        db.session.delete(draft)
        db.session.flush()


# --- raising -------------------------------------------------------------------------------


@dataclass
class Report:
    """What a reporter sends. Only ``account`` is required: anything else missing must never
    stop a concern reaching the DSL."""

    school_id: int | None
    account: str
    kind: str = ConcernKind.ABOUT_CHILD.value
    when: str = ""
    category: str = ""
    pupil_id: int | None = None
    immediate_danger: bool = False
    subject_id: int | None = None
    subject_name: str = ""
    group_id: int | None = None
    held_on: date | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _choice(kind: type, value: str, default):
    try:
        return kind(value) if value else default
    except ValueError:
        return default


def _school(reporter: User, school_id: int | None) -> School:
    schools = reporter_schools(reporter)
    if school_id is None and len(schools) == 1:
        return schools[0]
    chosen = next((s for s in schools if s.id == school_id), None)
    if chosen is None:
        raise DomainError("Choose the school where this happened", field="school_id")
    return chosen


def _group(reporter: User, school: School, report: Report) -> TutoringGroup | None:
    if report.group_id is None:
        return None
    group = db.session.get(TutoringGroup, report.group_id)
    if group is None or group.school_id != school.id:
        return None
    staff = school.id in {m.school_id for m in reporter.memberships
                          if m.role in (Role.SCHOOL_LEADER, Role.TUTORING_LEAD)}
    return group if group.tutor_id == reporter.id or staff else None


def has_dsl(school_id: int) -> bool:
    return db.session.scalar(select(Membership.id).where(
        Membership.school_id == school_id, Membership.ended_at.is_(None),
        Membership.role.in_([Role.DSL, Role.DEPUTY_DSL])).limit(1)) is not None


def raise_concern(reporter: User, report: Report) -> Concern:
    """Save the concern and tell, in the same transaction, the people it is for."""
    account = (report.account or "").strip()
    if not account:
        raise DomainError("Say what you saw or heard, in your own words", field="account")
    if len(account) > ACCOUNT_LIMIT:
        raise DomainError(f"Keep the account under {ACCOUNT_LIMIT:,} characters: the DSL "
                          "will ask for more", field="account")
    school = _school(reporter, report.school_id)
    kind = _choice(ConcernKind, report.kind, ConcernKind.ABOUT_CHILD)
    now = clock.now()
    pupil = subject_name = None
    subject_id = None
    if kind == ConcernKind.ABOUT_CHILD:
        category = _choice(Category, report.category, Category.NOT_SURE)
        if category not in CHILD_CATEGORIES:
            category = Category.NOT_SURE
        names = dict(pupils_for(reporter, school.id))
        pupil = names.get(report.pupil_id) if report.pupil_id else None
        route = Route.DSL if has_dsl(school.id) else Route.TRUST_LEAD
    else:
        category = Category.ALLEGATION
        adults = dict(adults_at(school.id, besides=reporter))
        if report.subject_id in adults:
            subject_id, subject_name = report.subject_id, adults[report.subject_id]
        else:
            subject_name = (report.subject_name or "").strip()[:200] or "Not named"
        route = Route.LEADERS
    group = _group(reporter, school, report)
    concern = Concern(
        reference=f"SG-tmp-{secrets.token_hex(6)}", kind=kind, category=category,
        trust_id=school.trust_id, school_id=school.id, reporter_id=reporter.id,
        subject_id=subject_id, group_id=group.id if group else None,
        held_on=report.held_on if group else None,
        immediate_danger=bool(report.immediate_danger), route=route, raised_at=now,
        account_encrypted=seal({
            "account": account, "when": (report.when or "").strip()[:500],
            "pupil": pupil or (UNNAMED_PUPIL if kind == ConcernKind.ABOUT_CHILD else None),
            "subject": subject_name, "reporter": reporter.name,
            "raised_from": f"{group.name}, {report.held_on:%-d %B %Y}" if group
            and report.held_on else None}))
    db.session.add(concern)
    db.session.flush()
    concern.reference = f"SG-{now:%Y}-{concern.id:05d}"
    chronicle(concern, EntryKind.RAISED, reporter, at=now)
    if group is not None and report.held_on is not None:
        session = tutoring_sessions.session_on(group, report.held_on)
        if session is not None:
            concern.session_id = session.id
            tutoring_sessions.stop_for_safeguarding(session, actor=reporter)
    audit.record("safeguarding.concern_raised", concern, actor=reporter,
                 trust_id=concern.trust_id, changes={
                     "kind": (None, kind.value), "school_id": (None, school.id)})
    discard_draft(reporter)
    told = notify(concern, 0, now=now)
    if told:
        concern.told_at = now
        chronicle(concern, EntryKind.TOLD, None, at=now, level=0)
    return concern


def mark_session_if_raised(session) -> None:
    """A session logged after a concern was raised from it (that group, that day) is marked
    stopped for safeguarding."""
    concern = db.session.scalar(select(Concern).where(
        Concern.group_id == session.group_id, Concern.held_on == session.held_on,
        Concern.session_id.is_(None)).limit(1))
    if concern is not None:
        concern.session_id = session.id
        tutoring_sessions.stop_for_safeguarding(session, actor=None)


# --- telling people ------------------------------------------------------------------------


def members(role_filter, *roles: Role) -> list[User]:
    return list(db.session.scalars(select(User).join(
        Membership, Membership.user_id == User.id).where(
        Membership.ended_at.is_(None), Membership.role.in_(list(roles)), role_filter,
        User.deactivated_at.is_(None)).distinct().order_by(User.id)))


def recipients(concern: Concern, level: int) -> list[User]:
    """Who is told at each level: when raised (0), at the first threshold unacknowledged
    (1), at the second (2). Never the person an allegation is about."""
    at_school = Membership.school_id == concern.school_id

    def trust_leads() -> list[User]:  # looked up only where they are told
        return members(Membership.trust_id == concern.trust_id, Role.TRUST_SAFEGUARDING_LEAD)

    if concern.kind == ConcernKind.ABOUT_ADULT:
        people = members(at_school, Role.SCHOOL_LEADER) + trust_leads()
    elif concern.route == Route.TRUST_LEAD:
        people = trust_leads()
    elif level == 0:
        people = members(at_school, Role.DSL, Role.DEPUTY_DSL)
    elif level == 1:
        people = members(at_school, Role.DEPUTY_DSL) + trust_leads()
    else:
        people = members(at_school, Role.DSL, Role.DEPUTY_DSL) + trust_leads()
    if not people and level > 0:  # no deputy and no trust lead: remind whoever was told
        people = _first_told(concern)
    unique = {p.id: p for p in people if p.id != concern.subject_id}
    return list(unique.values())


def _first_told(concern: Concern) -> list[User]:
    return list(db.session.scalars(select(User).join(
        ConcernAlert, ConcernAlert.user_id == User.id).where(
        ConcernAlert.concern_id == concern.id, ConcernAlert.level == 0)))


def notify(concern: Concern, level: int, *, now: datetime | None = None) -> list[User]:
    """Alert (in the app and by email, neither saying anything of the concern) everyone at
    ``level`` not yet alerted at it. Safe to call again: nobody is alerted twice."""
    from lms.notifications.services import link_to, send_email

    people = recipients(concern, level)
    if not people:
        if level == 0:
            _tell_central_team(concern)
        return []
    already = set(db.session.scalars(select(ConcernAlert.user_id).where(
        ConcernAlert.concern_id == concern.id, ConcernAlert.level == level)))
    link = link_to("safeguarding.concern", concern_id=concern.id)
    for person in people:
        if person.id in already:
            continue
        db.session.add(ConcernAlert(user_id=person.id, concern_id=concern.id, level=level,
                                    created_at=now or clock.now()))
        send_email(person.email, "Safeguarding: a concern needs you" if level == 0
                   else "Safeguarding: a concern has not been acknowledged",
                   "safeguarding_alert", person=person, link=link, level=level)
    db.session.flush()
    return people


def _tell_central_team(concern: Concern) -> None:
    """Nobody could be told: the trust's central team hears that a school needs a DSL (and
    the trust a safeguarding lead), without a word of the concern."""
    from lms.notifications.services import send_email

    for person in members(Membership.trust_id == concern.trust_id, Role.CENTRAL_TEAM):
        send_email(person.email, "Safeguarding: nobody can receive a concern",
                   "safeguarding_nobody", person=person, school=concern.school)


def alerts_for(user: User) -> list[ConcernAlert]:
    return list(db.session.scalars(select(ConcernAlert).where(
        ConcernAlert.user_id == user.id, ConcernAlert.dismissed_at.is_(None))
        .order_by(ConcernAlert.created_at.desc())))


# --- acting on it --------------------------------------------------------------------------


def chronicle(concern: Concern, kind: EntryKind, actor: User | None, *, at: datetime | None = None,
           text: str | None = None, on: date | None = None, referral_to=None,
           level: int | None = None, corrects: ConcernEntry | None = None) -> ConcernEntry:
    entry = ConcernEntry(concern_id=concern.id, kind=kind, at=at or clock.now(), on=on,
                         actor_id=getattr(actor, "id", None), referral_to=referral_to,
                         level=level, corrects_id=corrects.id if corrects else None,
                         details_encrypted=seal({"text": text}) if text else None)
    db.session.add(entry)
    db.session.flush()
    db.session.expire(concern, ["entries"])
    return entry


def _open(concern: Concern) -> None:
    if concern.purged_at is not None:
        raise DomainError("This account has been purged from the platform: add to the "
                          "record in the school's system instead.")


def acknowledge(concern: Concern, *, actor: User) -> Concern:
    if concern.acknowledged_at is not None:
        raise DomainError("This concern has already been acknowledged.")
    concern.acknowledged_at = clock.now()
    concern.acknowledged_by_id = actor.id
    chronicle(concern, EntryKind.ACKNOWLEDGED, actor, at=concern.acknowledged_at)
    for alert in db.session.scalars(select(ConcernAlert).where(
            ConcernAlert.concern_id == concern.id, ConcernAlert.dismissed_at.is_(None),
            ConcernAlert.level < BREAK_GLASS_LEVEL)):
        alert.dismissed_at = concern.acknowledged_at
    audit.record("safeguarding.concern_acknowledged", concern, actor=actor,
                 trust_id=concern.trust_id)
    return concern


def add_entry(concern: Concern, *, actor: User, kind: str, text: str = "",
              on: date | None = None, referral_to: str | None = None,
              corrects_id: int | None = None) -> ConcernEntry:
    """Add one action to the chronology. Nothing in it is ever changed: a mistake is put
    right with a correction naming the entry it corrects."""
    _open(concern)
    if concern.acknowledged_at is None:
        raise DomainError("Acknowledge the concern first: the reporter and the escalation "
                          "wait on it.")
    chosen = _choice(EntryKind, kind, None)
    if chosen not in ADDABLE:
        raise DomainError("Choose what you are recording", field="kind")
    text = (text or "").strip()
    if len(text) > DETAILS_LIMIT:
        raise DomainError(f"Keep it under {DETAILS_LIMIT:,} characters", field="text")
    if on is not None and on > clock.today():
        raise DomainError("That date is in the future", field="on")
    to = None
    corrects = None
    if chosen == EntryKind.REFERRAL:
        to = _choice(ReferralTo, referral_to or "", None)
        if to is None:
            raise DomainError("Choose who the referral was made to", field="referral_to")
        if on is None:
            raise DomainError("Enter the date of the referral", field="on")
        if not text:
            raise DomainError("Enter the referral's reference (or say there is none)",
                              field="text")
    elif chosen == EntryKind.PARENTS_INFORMED:
        if on is None:
            raise DomainError("Enter the date they were informed", field="on")
    elif not text:
        raise DomainError("Write what you are recording", field="text")
    if chosen == EntryKind.CORRECTION:
        corrects = next((e for e in concern.entries if e.id == corrects_id), None)
        if corrects is None:
            raise DomainError("Choose the entry this corrects", field="corrects_id")
    entry = chronicle(concern, chosen, actor, text=text or None, on=on, referral_to=to,
                   corrects=corrects)
    audit.record("safeguarding.entry_added", concern, actor=actor, trust_id=concern.trust_id,
                 changes={"entry": (None, chosen.value)})
    return entry


def record_elsewhere(concern: Concern, *, actor: User, system: str, reference: str
                     ) -> Concern:
    """The school's own safeguarding system now holds the record: this account is purged
    after the trust's period, leaving the pointer."""
    _open(concern)
    system, reference = (system or "").strip(), (reference or "").strip()
    if not system:
        raise DomainError("Name the school's system (CPOMS, MyConcern, ...)", field="system")
    if not reference:
        raise DomainError("Enter the reference the school's system gave it", field="reference")
    if len(system) > 60 or len(reference) > 80:
        raise DomainError("That name or reference is too long", field="reference")
    if concern.recorded_elsewhere_at is not None:
        raise DomainError("This concern is already recorded in the school's system.")
    now = clock.now()
    concern.recorded_elsewhere_at = now
    concern.external_system, concern.external_reference = system, reference
    concern.purge_due_at = now + timedelta(days=settings_for(concern.trust_id).purge_days)
    chronicle(concern, EntryKind.RECORDED_ELSEWHERE, actor, at=now)
    audit.record("safeguarding.recorded_elsewhere", concern, actor=actor,
                 trust_id=concern.trust_id, changes={"external_system": (None, system)})
    return concern


def close(concern: Concern, *, actor: User, outcome: str) -> Concern:
    _open(concern)
    outcome = (outcome or "").strip()
    if not outcome:
        raise DomainError("Record the outcome before closing", field="outcome")
    if concern.closed_at is not None:
        raise DomainError("This concern is already closed.")
    if concern.acknowledged_at is None:
        raise DomainError("Acknowledge the concern first.")
    concern.closed_at = clock.now()
    chronicle(concern, EntryKind.OUTCOME, actor, text=outcome[:DETAILS_LIMIT])
    chronicle(concern, EntryKind.CLOSED, actor, at=concern.closed_at)
    audit.record("safeguarding.concern_closed", concern, actor=actor, trust_id=concern.trust_id)
    return concern


def purge_due(now: datetime | None = None) -> int:
    """Empty the accounts recorded in schools' own systems whose period here has passed,
    keeping the pointer: who, where, when, the chronology's kinds and dates, the
    reference."""
    now = now or clock.now()
    due = list(db.session.scalars(select(Concern).where(
        Concern.purge_due_at <= now, Concern.purged_at.is_(None)).with_for_update()))
    for concern in due:
        concern.account_encrypted = None
        for entry in concern.entries:
            entry.details_encrypted = None
        concern.purged_at = now
        chronicle(concern, EntryKind.PURGED, None, at=now)
        audit.record("safeguarding.account_purged", concern, trust_id=concern.trust_id)
    return len(due)
