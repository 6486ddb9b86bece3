"""A school set up for safeguarding (its DSL, deputies, leader, the trust safeguarding lead,
a tutor with a group) and concerns raised in it."""

from __future__ import annotations

from types import SimpleNamespace

from lms.platform.roles import Role
from lms.safeguarding import services
from tests.factories import make_member, make_school, make_trust
from tests.tutoring_factory import make_group

PLANTED = "the purple umbrella was hidden under the stairs"


def make_safeguarding_school(*, dsl: bool = True, deputies: int = 1, trust_lead: bool = True,
                             trust=None, group: bool = True) -> SimpleNamespace:
    trust = trust or make_trust()
    school = make_school(trust)
    world = SimpleNamespace(trust=trust, school=school)
    world.dsl = make_member(Role.DSL, school=school, name="Dana Designated") if dsl else None
    world.deputies = [make_member(Role.DEPUTY_DSL, school=school, name=f"Deputy {n}")
                      for n in range(deputies)]
    world.leader = make_member(Role.SCHOOL_LEADER, school=school, name="Hilary Head")
    world.trust_lead = make_member(Role.TRUST_SAFEGUARDING_LEAD, trust=trust,
                                   name="Tariq Trustlead") if trust_lead else None
    world.central = make_member(Role.CENTRAL_TEAM, trust=trust, name="Cass Central")
    world.group = make_group(school) if group else None
    world.tutor = world.group.tutor if group else make_member(Role.TUTOR, school=school)
    return world


def raise_about_child(world, *, reporter=None, account: str = PLANTED, **overrides):
    reporter = reporter or world.tutor
    report = services.Report(school_id=world.school.id, account=account, **overrides)
    return services.raise_concern(reporter, report)


def raise_about_adult(world, subject, *, reporter=None, account: str = PLANTED, **overrides):
    reporter = reporter or world.tutor
    report = services.Report(school_id=world.school.id, account=account, kind="about_adult",
                             subject_id=subject.id, **overrides)
    return services.raise_concern(reporter, report)
