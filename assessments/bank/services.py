"""Loading the item bank, and the live bank every paper and check is drawn from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from assessments.bank.items import ITEMS_ROOT, Bank, ItemSpec, OptionSpec, read_bank
from assessments.bank.models import ItemVersion, correct_indexes
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.memo import forget, session_memo

if TYPE_CHECKING:
    pass


# --- the bank -----------------------------------------------------------------------------


def load_bank(root: Path = ITEMS_ROOT) -> tuple[int, int]:
    """Load the item files: new wordings become new versions; unchanged ones are left alone.
    Returns (versions added, items now current)."""
    bank = read_bank(root)
    current = {(v.key, v.version): v for v in db.session.scalars(select(ItemVersion))}
    added = 0
    wanted = set()
    for spec in bank.items:
        version = spec.content_hash
        wanted.add((spec.key, version))
        row = current.get((spec.key, version))
        if row is None:
            row = ItemVersion(key=spec.key, version=version, topic=spec.topic,
                              lesson=spec.lesson, use=spec.use, type=spec.type,
                              pathways=list(spec.pathways), difficulty=spec.difficulty,
                              status=spec.status, stem=spec.stem, scenario=spec.scenario,
                              options=[{"text": o.text, "correct": o.correct,
                                        "feedback": o.feedback} for o in spec.options])
            db.session.add(row)
            added += 1
        row.status = spec.status
        row.is_current = True
    for key_version, row in current.items():
        if key_version not in wanted:
            row.is_current = False
    db.session.flush()
    forget("bank")
    return added, len(wanted)


@dataclass(frozen=True)
class BankSnapshot:
    """The current bank as plain specs, with each item's version id. Built once per change of
    the bank, not once per paper: hundreds of tutors start their attempts in the same minute."""

    bank: Bank
    ids: dict[str, int]

    def for_pathway(self, pathway: str) -> Bank:
        return Bank([i for i in self.bank.items if pathway in i.pathways])


_snapshot: tuple[tuple, BankSnapshot] | None = None


def current_bank() -> BankSnapshot:
    """The bank as the database holds it now. Its fingerprint (each current row's id, key,
    content hash and status) is read once per request, so a reload is seen at once."""
    global _snapshot
    memo = session_memo("bank")
    if "fingerprint" not in memo:
        memo["fingerprint"] = tuple(tuple(row) for row in db.session.execute(
            select(ItemVersion.id, ItemVersion.key, ItemVersion.version, ItemVersion.status)
            .where(ItemVersion.is_current.is_(True)).order_by(ItemVersion.id)))
    fingerprint = memo["fingerprint"]
    cached = _snapshot
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    rows = db.session.scalars(select(ItemVersion).where(ItemVersion.is_current.is_(True))).all()
    specs = [
        ItemSpec(key=r.key, topic=r.topic, type=r.type, use=r.use, pathways=tuple(r.pathways),
                 lesson=r.lesson, difficulty=r.difficulty, status=r.status, stem=r.stem,
                 options=tuple(OptionSpec(o["text"], o["correct"], o["feedback"])
                               for o in r.options), scenario=r.scenario)
        for r in rows
    ]
    snapshot = BankSnapshot(Bank(specs), {r.key: r.id for r in rows})
    _snapshot = (fingerprint, snapshot)
    return snapshot


def is_correct(options: list[dict], option_order: list[int], selected: list[int] | None
               ) -> bool:
    """Whether the positions chosen are exactly the item's keys, through the order shown."""
    chosen = {option_order[p] for p in (selected or []) if 0 <= p < len(option_order)}
    return chosen == correct_indexes(options)


def option_positions(raw, option_count: int | None) -> list[int]:
    """Positions from a form or API: whole numbers in range (when the count is known here),
    no repeats."""
    try:
        positions = sorted({int(p) for p in raw})
    except (TypeError, ValueError) as exc:
        raise DomainError("Choose one of the options shown") from exc
    if any(p < 0 or (option_count is not None and p >= option_count) for p in positions):
        raise DomainError("Choose one of the options shown")
    return positions

