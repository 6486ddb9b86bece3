"""Trusts, clusters, schools and providers (``services``), the roles people hold in them
(``people``: memberships and staff invitations), the scope facts and policies every other
policy builds on (``policies``: ``trust_ids_for``, ``school_ids_for``, ``school_rule``), and
``queries.school_leaders``."""
