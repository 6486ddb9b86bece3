"""Observations background work."""
