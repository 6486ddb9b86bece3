"""The roles a person can hold, each in its own kind of scope: the vocabulary every access
check uses."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    TUTOR = "tutor"
    SCHOOL_LEADER = "school_leader"
    TUTORING_LEAD = "tutoring_lead"
    CENTRAL_TEAM = "central_team"
    CLUSTER_LEAD = "cluster_lead"
    TRUSTEE = "trustee"
    PROVIDER = "provider"
    PROGRAMME_ADMIN = "programme_admin"
    #: A school's designated safeguarding lead, and their deputies (a school may have several).
    DSL = "dsl"
    DEPUTY_DSL = "deputy_dsl"
    #: The trust's lead for safeguarding: every school's concerns, and those of schools with
    #: no DSL.
    TRUST_SAFEGUARDING_LEAD = "trust_safeguarding_lead"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def scope(self) -> str:
        """The kind of organisation a membership of this role is scoped to."""
        return ROLE_SCOPES[self]


ROLE_LABELS = {
    Role.TUTOR: "Tutor",
    Role.SCHOOL_LEADER: "School leader",
    Role.TUTORING_LEAD: "Tutoring lead",
    Role.CENTRAL_TEAM: "Central team",
    Role.CLUSTER_LEAD: "Cluster lead",
    Role.TRUSTEE: "Trustee / auditor",
    Role.PROVIDER: "Tutoring provider",
    Role.PROGRAMME_ADMIN: "Programme admin",
    Role.DSL: "Designated safeguarding lead",
    Role.DEPUTY_DSL: "Deputy designated safeguarding lead",
    Role.TRUST_SAFEGUARDING_LEAD: "Trust safeguarding lead",
}

ROLE_SCOPES = {
    Role.TUTOR: "school",
    Role.SCHOOL_LEADER: "school",
    Role.TUTORING_LEAD: "school",
    Role.CENTRAL_TEAM: "trust",
    Role.CLUSTER_LEAD: "cluster",
    Role.TRUSTEE: "trust",
    Role.PROVIDER: "provider",
    Role.PROGRAMME_ADMIN: "platform",
    Role.DSL: "school",
    Role.DEPUTY_DSL: "school",
    Role.TRUST_SAFEGUARDING_LEAD: "trust",
}
