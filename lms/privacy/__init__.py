"""A person's data: the export of everything held about them and erasure on request."""
