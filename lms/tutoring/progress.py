"""Progress: one definition per programme (its scale and evidence source), and for each
pupil in a group the five measures the trust standardises."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lms.audit import services as audit
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.tutoring.models import EvidenceSource, GroupPupil, MeasureScale

MAX_NEXT_ACTION = 200


@dataclass(frozen=True)
class ProgressRecord:
    baseline: float | None
    target: float | None
    current: float | None
    current_on: date | None
    evidence_source: str | None
    #: None leaves the next action as it was.
    next_action: str | None = None


def _on_scale(value: float | None, scale: MeasureScale, field: str, label: str) -> float | None:
    if value is None:
        return None
    low, high = scale.bounds
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise DomainError(f"{label} must be on the programme's scale, {scale.label.lower()}: "
                          f"from {low:g} to {high:g}", field=field)
    if scale != MeasureScale.SCORE and float(value) != int(value):
        raise DomainError(f"{label} must be a whole number on this scale", field=field)
    return float(value)


def record_progress(place: GroupPupil, record: ProgressRecord, *, actor=None) -> GroupPupil:
    programme = place.group.programme
    scale = programme.measure_scale
    baseline = _on_scale(record.baseline, scale, "baseline", "Baseline")
    target = _on_scale(record.target, scale, "target", "Target")
    current = _on_scale(record.current, scale, "current", "Current status")
    if current is not None and record.current_on is None:
        raise DomainError("Give the date of the current status", field="current_on")
    if record.current_on is not None and record.current_on > clock.today():
        raise DomainError("The current status cannot be dated in the future", field="current_on")
    if current is not None and baseline is None and place.baseline is None:
        raise DomainError("Record the baseline before the current status", field="baseline")
    if baseline is not None and target is not None and target < baseline:
        raise DomainError("The target must be at or above the baseline", field="target")
    try:
        source = EvidenceSource(record.evidence_source or programme.evidence_source)
    except ValueError:
        raise DomainError("Choose where the evidence comes from", field="evidence_source") \
            from None
    values: dict = {"evidence_source": source}
    if record.next_action is not None:
        action = record.next_action.strip()
        if len(action) > MAX_NEXT_ACTION:
            raise DomainError(f"Keep the next action to {MAX_NEXT_ACTION} characters",
                              field="next_action")
        values["next_action"] = action
    if baseline is not None:
        values["baseline"] = baseline
        if place.baseline is None or place.baseline != baseline:
            values["baseline_on"] = clock.today()
    if target is not None:
        values["target"] = target
    if current is not None:
        values.update(current=current, current_on=record.current_on)
    changes = audit.diff(place, **values)
    if changes:
        place.progress_updated_at = clock.now()
        if "next_action" in changes:  # what it says about the pupil stays out of the log
            changes["next_action"] = ("…", "…")
        audit.record("tutoring.progress_recorded", place.group, actor=actor, changes={
            "pupil": (place.pupil.pseudonym, place.pupil.pseudonym), **changes})
    return place
