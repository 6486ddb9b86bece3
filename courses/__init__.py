"""Pathway courses: pathways, modules, lessons, progress, and loading content from files."""
