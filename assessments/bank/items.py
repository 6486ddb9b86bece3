"""Reading and checking the item bank files (``assessments/items/*.yml``)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lms.platform import yaml_text
from lms.platform.errors import DomainError

ITEMS_ROOT = Path(__file__).resolve().parent.parent / "items"
TYPES = {"single", "multiple"}
USES = {"summative", "formative"}
STATUSES = {"draft", "live", "retired"}
PATHWAYS = {"qts_refresher", "primary", "secondary"}


class BankError(DomainError):
    """An item file breaks a rule of the bank; the message names the file and the item."""


@dataclass(frozen=True)
class OptionSpec:
    text: str
    correct: bool
    feedback: str


@dataclass(frozen=True)
class ItemSpec:
    key: str
    topic: str
    type: str
    use: str
    pathways: tuple[str, ...]
    lesson: str
    difficulty: int
    status: str
    stem: str
    options: tuple[OptionSpec, ...]
    scenario: str | None = None
    scenario_key: str | None = None

    @property
    def content_hash(self) -> str:
        """Identifies this wording of the item: any change to it is a new version."""
        payload = {
            "type": self.type, "use": self.use, "pathways": sorted(self.pathways),
            "lesson": self.lesson, "difficulty": self.difficulty, "stem": self.stem,
            "scenario": self.scenario, "topic": self.topic,
            "options": [[o.text, o.correct, o.feedback] for o in self.options],
        }
        encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(encoded).hexdigest()[:16]

    @property
    def is_live_summative(self) -> bool:
        return self.status == "live" and self.use == "summative"


@dataclass
class Bank:
    items: list[ItemSpec] = field(default_factory=list)

    def live(self, pathway: str, topic: str, use: str) -> list[ItemSpec]:
        return [i for i in self.items if i.status == "live" and i.use == use
                and i.topic == topic and pathway in i.pathways]


def _option(raw: dict, where: str) -> OptionSpec:
    text = str(raw.get("text") or "").strip()
    feedback = str(raw.get("feedback") or "").strip()
    if not text or not feedback:
        raise BankError(f"{where}: every option needs text and feedback")
    return OptionSpec(text, bool(raw.get("correct")), feedback)


def _item(raw: dict, topic: str, where: str, scenario: str | None = None,
          scenario_key: str | None = None) -> ItemSpec:
    key = str(raw.get("key") or "").strip()
    where = f"{where} item {key or '?'}"
    if not key:
        raise BankError(f"{where}: an item needs a key")
    for name, allowed in (("type", TYPES), ("use", USES), ("status", STATUSES)):
        if raw.get(name) not in allowed:
            raise BankError(f"{where}: {name} must be one of {sorted(allowed)}")
    pathways = tuple(raw.get("pathways") or ())
    if not pathways or not set(pathways) <= PATHWAYS:
        raise BankError(f"{where}: pathways must be some of {sorted(PATHWAYS)}")
    if raw.get("difficulty") not in (1, 2, 3):
        raise BankError(f"{where}: difficulty must be 1, 2 or 3")
    options = tuple(_option(o, where) for o in raw.get("options") or [])
    correct = sum(o.correct for o in options)
    if len(options) < 3:
        raise BankError(f"{where}: an item needs at least three options")
    if raw["type"] == "single" and correct != 1:
        raise BankError(f"{where}: a single-best-answer item has exactly one correct option")
    if raw["type"] == "multiple" and not 1 <= correct < len(options):
        raise BankError(f"{where}: a multiple-response item needs some, not all, options correct")
    if len({o.text for o in options}) != len(options):
        raise BankError(f"{where}: two options have the same text")
    stem = str(raw.get("stem") or "").strip()
    lesson = str(raw.get("lesson") or "").strip()
    if not stem or not lesson:
        raise BankError(f"{where}: an item needs a stem and the lesson it tests")
    return ItemSpec(key=key, topic=topic, type=raw["type"], use=raw["use"], pathways=pathways,
                    lesson=lesson, difficulty=raw["difficulty"], status=raw["status"],
                    stem=stem, options=options, scenario=scenario, scenario_key=scenario_key)


def read_bank(root: Path = ITEMS_ROOT) -> Bank:
    """Read and check every item file; raise ``BankError`` on the first fault."""
    bank = Bank()
    seen: set[str] = set()
    for path in sorted(root.glob("*.yml")):
        try:
            data = yaml_text.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise BankError(f"{path.name}: not valid YAML: {exc}") from exc
        topic = data.get("topic")
        if topic != path.stem:
            raise BankError(f"{path.name}: topic must match the file name")
        for raw in data.get("items") or []:
            if "scenario" in raw:
                vignette = str(raw["scenario"]).strip()
                specs = [_item(sub, topic, path.name, vignette, raw.get("key"))
                         for sub in raw.get("items") or []]
            else:
                specs = [_item(raw, topic, path.name)]
            for spec in specs:
                if spec.key in seen:
                    raise BankError(f"{path.name}: item key {spec.key} is used twice")
                seen.add(spec.key)
                bank.items.append(spec)
    return bank
