"""Research background work."""
