"""Library background work."""
