"""Groups: a programme, a tutor the register approves for the school, and its pupils."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time

from sqlalchemy import select

from lms.accounts.models import User
from lms.audit import services as audit
from lms.organisations.models import Provider, School
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.validation import required
from lms.tutoring.clearance import clearance
from lms.tutoring.models import (
    DeliveryModel,
    GroupPupil,
    GroupStatus,
    Programme,
    Pupil,
    TutoringGroup,
)


def _cleared(school: School, tutor: User) -> None:
    answer = clearance(school.trust_id, school.id, tutor.id)
    if not answer.approved:
        raise DomainError(f"{tutor.name} cannot be given pupils: {answer.message}. Only a "
                          "tutor the register approves for this school can tutor here.",
                          field="tutor_id")


def create_group(school: School, *, programme: Programme, tutor: User, name: str,
                 weekday: int, starts_at: time, starts_on: date,
                 provider: Provider | None = None, pupils: Iterable[Pupil] = (),
                 actor=None) -> TutoringGroup:
    if programme.trust_id != school.trust_id:
        raise DomainError("Choose one of the trust's programmes", field="programme_id")
    if not programme.is_current:
        raise DomainError("That programme has changed since; choose its current version",
                          field="programme_id")
    if programme.delivery_model == DeliveryModel.PROVIDER:
        provider = provider or programme.provider
    if weekday not in range(7):
        raise DomainError("Choose the day of the week", field="weekday")
    _cleared(school, tutor)
    group = TutoringGroup(school_id=school.id, trust_id=school.trust_id, programme=programme,
                          programme_key=programme.key,
                          name=required(name, "name", "group's name", 120), tutor_id=tutor.id,
                          provider_id=provider.id if provider else None, weekday=weekday,
                          starts_at=starts_at, starts_on=starts_on,
                          created_by_id=getattr(actor, "id", None))
    db.session.add(group)
    db.session.flush()
    audit.record("tutoring.group_created", group, actor=actor, changes={
        "programme": (None, f"{programme.name} v{programme.version}"),
        "tutor_id": (None, tutor.id), "weekday": (None, weekday),
        "starts_on": (None, starts_on)})
    add_pupils(group, pupils, actor=actor)
    return group


def add_pupils(group: TutoringGroup, pupils: Iterable[Pupil], *, on: date | None = None,
               actor=None) -> list[GroupPupil]:
    """Place pupils in the group: all of them, or none with the reason."""
    pupils = list(dict.fromkeys(pupils))
    if not pupils:
        return []
    if group.status != GroupStatus.ACTIVE:
        raise DomainError("This group has ended; start a new one", field="pupil_ids")
    for pupil in pupils:
        if pupil.school_id != group.school_id or pupil.erased_at is not None:
            raise DomainError("Choose pupils of this school", field="pupil_ids")
    current = {p.pupil_id for p in group.current_places}
    new = [p for p in pupils if p.id not in current]
    limit = group.programme.max_group_size
    if len(current) + len(new) > limit:
        raise DomainError(f"{group.programme.name} groups have at most {limit} "
                          f"pupil{'s' if limit != 1 else ''}; this group would have "
                          f"{len(current) + len(new)}", field="pupil_ids")
    elsewhere = dict(db.session.execute(
        select(GroupPupil.pupil_id, TutoringGroup.name)
        .join(TutoringGroup, TutoringGroup.id == GroupPupil.group_id)
        .where(GroupPupil.programme_key == group.programme_key, GroupPupil.left_on.is_(None),
               GroupPupil.group_id != group.id,
               GroupPupil.pupil_id.in_([p.id for p in new]))).all())
    if elsewhere:
        clash = next(p for p in new if p.id in elsewhere)
        raise DomainError(f"{clash.display_name} is already in {elsewhere[clash.id]}, another "
                          f"{group.programme.name} group", field="pupil_ids")
    day = on or max(group.starts_on, clock.today())
    places = [GroupPupil(group=group, pupil_id=p.id, programme_key=group.programme_key,
                         joined_on=day) for p in new]
    db.session.add_all(places)
    db.session.flush()
    for place in places:
        audit.record("tutoring.pupil_placed", group, actor=actor,
                     changes={"pupil": (None, next(p.pseudonym for p in new
                                                   if p.id == place.pupil_id))})
    return places


def remove_pupil(group: TutoringGroup, pupil: Pupil, *, actor=None) -> GroupPupil:
    place = next((p for p in group.current_places if p.pupil_id == pupil.id), None)
    if place is None:
        raise DomainError("That pupil is not in this group")
    place.left_on = clock.today()
    audit.record("tutoring.pupil_left", group, actor=actor,
                 changes={"pupil": (pupil.pseudonym, None)})
    return place


def change_tutor(group: TutoringGroup, tutor: User, *, reason: str, actor=None
                 ) -> TutoringGroup:
    _cleared(group.school, tutor)
    changes = audit.diff(group, tutor_id=tutor.id)
    if changes:
        audit.record("tutoring.group_tutor_changed", group, actor=actor, changes=changes,
                     reason=required(reason, "reason", "reason", 1000))
    return group


def end_group(group: TutoringGroup, *, actor=None) -> TutoringGroup:
    if group.status == GroupStatus.ENDED:
        raise DomainError("This group has already ended")
    today = clock.today()
    for place in group.current_places:
        place.left_on = today
    changes = audit.diff(group, status=GroupStatus.ENDED, ended_on=today)
    audit.record("tutoring.group_ended", group, actor=actor, changes=changes)
    return group
