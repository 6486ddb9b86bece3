"""Whether a tutor may tutor at a school now: the register's answer, asked every time.

A group never stores "paused"; it is paused while its tutor is not approved for its school,
so a suspended endorsement or a lapsed DBS check stops sessions the moment the register
says so, and reinstatement restarts them with nothing to undo.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from credentials.register.models import RegisterEntry, RegisterStatus, register_entry_schools
from lms.platform.extensions import db


@dataclass(frozen=True)
class Clearance:
    approved: bool
    #: The register status for the school ("not on the register" when there is no entry).
    status: str
    reasons: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        why = f" ({'; '.join(self.reasons)})" if self.reasons else ""
        return f"their register status for this school is {self.status}{why}"


NOT_LISTED = "not on the register"
NOT_FOR_SCHOOL = "not listed for this school"


def clearance(trust_id: int, school_id: int, tutor_id: int) -> Clearance:
    entry = db.session.scalar(select(RegisterEntry).where(
        RegisterEntry.trust_id == trust_id, RegisterEntry.user_id == tutor_id))
    if entry is None:
        return Clearance(False, NOT_LISTED)
    if school_id not in {s.id for s in entry.schools}:
        return Clearance(False, NOT_FOR_SCHOOL)
    return Clearance(entry.status == RegisterStatus.APPROVED, entry.status.value,
                     tuple(entry.reasons or ()))


def cleared_pairs(trust_ids: Iterable[int]) -> set[tuple[int, int]]:
    """Every (tutor id, school id) the register approves in these trusts, in one query."""
    ids = list(trust_ids)
    if not ids:
        return set()
    rows = db.session.execute(
        select(RegisterEntry.user_id, register_entry_schools.c.school_id)
        .join(register_entry_schools, register_entry_schools.c.entry_id == RegisterEntry.id)
        .where(RegisterEntry.trust_id.in_(ids), RegisterEntry.status == RegisterStatus.APPROVED))
    return {(user_id, school_id) for user_id, school_id in rows}


def approved_for_school(tutor_id, school_id, trust_id):
    """The same rule as ``cleared_pairs``, as a condition on the columns of a statement
    (a group's tutor, school and trust): the tutor's entry is approved and lists the school."""
    return (select(RegisterEntry.id)
            .join(register_entry_schools, register_entry_schools.c.entry_id == RegisterEntry.id)
            .where(RegisterEntry.trust_id == trust_id, RegisterEntry.user_id == tutor_id,
                   RegisterEntry.status == RegisterStatus.APPROVED,
                   register_entry_schools.c.school_id == school_id).exists())


def approved_tutors(trust_id: int, school_id: int) -> list[int]:
    """The ids of the tutors the register approves for this school."""
    return list(db.session.scalars(
        select(RegisterEntry.user_id)
        .join(register_entry_schools, register_entry_schools.c.entry_id == RegisterEntry.id)
        .where(RegisterEntry.trust_id == trust_id, RegisterEntry.status == RegisterStatus.APPROVED,
               register_entry_schools.c.school_id == school_id)))
