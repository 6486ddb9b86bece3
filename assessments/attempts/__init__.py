"""The summative assessment: readiness, attempts, autosave, grading, adjustments, item analysis, and
the tutor's pages for checks and attempts (they show course progress, so they sit above the
course). Announces ``events.attempt_passed``."""
