"""What tutoring cost: one rule, used by every figure, page, export and report.

A group's cost over a period follows its programme version's cost model:

- per tutor hour: the rate for every hour delivered (cancelled sessions cost nothing);
- per pupil: the rate for every pupil who attended at least one session in the period;
- fixed per term: the rate for every school term (autumn: September to December, spring:
  January to March, summer: April to August) in which the group met at least once.

A provider's rate is the programme's rate. Cost per attended hour divides the cost by the
hours pupils actually attended, so ghost pupils (placed but absent) make it dearer, never
cheaper.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Integer, Select, case, cast, distinct, extract, func, literal, select

from lms.tutoring.models import (
    Attendance,
    CostModel,
    GroupTermTotal,
    PlaceTermTotal,
    Programme,
    SessionAttendance,
    SessionStatus,
    TutoringGroup,
    TutoringSession,
)


def term_number_of(day_column):
    """A number for the school term a day falls in (consecutive terms, consecutive numbers;
    ``periods.term_number`` in Python)."""
    month = cast(extract("month", day_column), Integer)
    year = cast(extract("year", day_column), Integer)
    return year * 3 + case((month >= 9, 2), (month >= 4, 1), else_=0)


def group_costs(start: date, end: date, *conditions) -> Select:
    """``(group_id, cost_pence)`` for the groups (narrowed by ``conditions`` on
    ``TutoringGroup``) with at least one delivered session from ``start`` to ``end``."""
    delivered = (TutoringSession.status == SessionStatus.DELIVERED) & \
        TutoringSession.held_on.between(start, end)
    sessions = (select(TutoringSession.group_id,
                       func.sum(TutoringSession.minutes_delivered).label("minutes"),
                       func.count(distinct(term_number_of(TutoringSession.held_on))).label("terms"))
                .join(TutoringGroup, TutoringGroup.id == TutoringSession.group_id)
                .where(delivered, *conditions)
                .group_by(TutoringSession.group_id).subquery())
    pupils = (select(TutoringSession.group_id,
                     func.count(distinct(SessionAttendance.pupil_id)).label("pupils"))
              .join(SessionAttendance, SessionAttendance.session_id == TutoringSession.id)
              .join(TutoringGroup, TutoringGroup.id == TutoringSession.group_id)
              .where(delivered, SessionAttendance.status != Attendance.ABSENT, *conditions)
              .group_by(TutoringSession.group_id).subquery())
    return (select(sessions.c.group_id,
                   cost_pence(sessions.c.minutes, pupils.c.pupils, sessions.c.terms))
            .join(TutoringGroup, TutoringGroup.id == sessions.c.group_id)
            .join(Programme, Programme.id == TutoringGroup.programme_id)
            .outerjoin(pupils, pupils.c.group_id == sessions.c.group_id))


def term_costs(term: int, *conditions) -> Select:
    """``group_costs`` for a whole term, from the kept totals (``lms.tutoring.totals``):
    the same rule over the group's minutes delivered and pupils who attended."""
    pupils = (select(PlaceTermTotal.group_id, func.count().label("pupils"))
              .join(TutoringGroup, TutoringGroup.id == PlaceTermTotal.group_id)
              .where(PlaceTermTotal.term == term, PlaceTermTotal.attended > 0, *conditions)
              .group_by(PlaceTermTotal.group_id).subquery())
    return (select(GroupTermTotal.group_id,
                   cost_pence(GroupTermTotal.minutes_delivered, pupils.c.pupils, literal(1)))
            .join(TutoringGroup, TutoringGroup.id == GroupTermTotal.group_id)
            .join(Programme, Programme.id == TutoringGroup.programme_id)
            .outerjoin(pupils, pupils.c.group_id == GroupTermTotal.group_id)
            .where(GroupTermTotal.term == term, GroupTermTotal.delivered > 0, *conditions))


def cost_pence(minutes, pupils, terms):
    """The cost rule, in whole pence, over a group's minutes delivered, pupils who attended
    and terms met in (columns of the statement it is used in, joined to ``Programme``)."""
    cost = case(
        (Programme.cost_model == CostModel.PER_TUTOR_HOUR,
         Programme.rate_pence * minutes / literal(60.0)),
        (Programme.cost_model == CostModel.PER_PUPIL,
         Programme.rate_pence * func.coalesce(pupils, 0)),
        else_=Programme.rate_pence * terms)
    return cast(func.round(cost), Integer).label("cost_pence")


def school_share(cost_pence: float, contribution_percent: int) -> float:
    """The part of a cost the school pays itself (the funder return asks for it)."""
    return cost_pence * contribution_percent / 100
