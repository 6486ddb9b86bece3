"""Programme, pupil, group, session-log and progress pages."""
