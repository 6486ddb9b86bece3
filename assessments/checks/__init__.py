"""Formative checks: a module's short check, any number of tries, feedback at once. Below the
course, which counts passed checks towards progress."""
