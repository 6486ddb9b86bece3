"""Feedback background work."""
