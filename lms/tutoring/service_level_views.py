"""Providers held to their service levels, and the procurement scorecard."""
