"""Item bank, blueprints, formative checks, summative attempts, grading and item analysis."""
