"""Formative checks, the summative attempt, grading, retakes, the window and adjustments."""

import threading
from datetime import timedelta

import pytest
import yaml
from sqlalchemy import select

from assessments.attempts.models import Attempt, AttemptItem
from assessments.attempts.services import (
    grant_adjustment,
    readiness,
    save_answer,
    start_attempt,
    submit_attempt,
    submit_timed_out,
)
from assessments.bank.models import ItemVersion
from assessments.bank.services import load_bank
from assessments.checks.services import start_check, submit_check
from courses.services import course_progress, load_content
from lms.audit.models import AuditEntry
from lms.notifications.models import OutboxEmail
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.roles import Role
from lms.programme.models import EnrolmentStatus
from tests.factories import make_enrolment, make_member, read_lesson, revisit_lesson


@pytest.fixture
def loaded(db_session):
    load_content()
    load_bank()
    db_session.commit()


def _right(item: ItemVersion, order: list[int]) -> list[int]:
    return [p for p, i in enumerate(order) if item.options[i]["correct"]]


def _wrong(item: ItemVersion, order: list[int]) -> list[int]:
    return [next(p for p, i in enumerate(order) if not item.options[i]["correct"])]


def _pass_check(db_session, enrolment, topic):
    check = start_check(enrolment, topic)
    answers = {}
    for index, entry in enumerate(check.items):
        item = db_session.get(ItemVersion, entry["item_version_id"])
        answers[index] = _right(item, entry["option_order"])
    submit_check(check, answers)
    return check


def _finish_course(db_session, enrolment):
    for module in course_progress(enrolment).modules:
        for lesson in module.module.lessons:
            read_lesson(enrolment, lesson)
        _pass_check(db_session, enrolment, module.module.slug)
    db_session.commit()


def _answer(attempt, right: int):
    for row in attempt.items:
        chosen = _right(row.item, row.option_order) if row.position < right else \
            _wrong(row.item, row.option_order)
        save_answer(attempt, row.position, chosen)


@pytest.fixture
def ready(db_session, loaded):
    enrolment = make_enrolment(tutoring_phase="primary")
    _finish_course(db_session, enrolment)
    return enrolment


def test_loading_the_bank_twice_adds_nothing(db_session, loaded):
    assert load_bank() == (0, db_session.query(ItemVersion).count())


def test_a_module_completes_only_when_its_check_is_passed(db_session, loaded):
    enrolment = make_enrolment()
    first = course_progress(enrolment).modules[0]
    for lesson in first.module.lessons:
        read_lesson(enrolment, lesson)
    progress = course_progress(enrolment)
    assert progress.modules[0].lessons_complete and not progress.modules[0].complete
    assert not progress.modules[1].unlocked
    check = start_check(enrolment, first.module.slug)
    assert 3 <= check.total <= 6
    feedback = submit_check(check, {i: [0] for i in range(check.total)})
    assert all(f.explanations for f in feedback)
    _pass_check(db_session, enrolment, first.module.slug)
    assert course_progress(enrolment).modules[1].unlocked


def test_a_marked_check_cannot_be_resubmitted(db_session, loaded):
    enrolment = make_enrolment()
    check = _pass_check(db_session, enrolment, "effective-tutoring")
    with pytest.raises(DomainError, match="already been marked"):
        submit_check(check, {})


def test_the_assessment_stays_locked_until_the_course_and_checks_are_done(db_session, loaded):
    enrolment = make_enrolment()
    state = readiness(enrolment)
    assert not state.ready
    assert any("Finish every lesson" in need for need in state.needs)
    assert any("Pass the check" in need for need in state.needs)
    with pytest.raises(DomainError):
        start_attempt(enrolment)


def test_an_attempt_follows_the_blueprint_and_the_server_holds_the_deadline(db_session, ready):
    attempt = start_attempt(ready)
    assert attempt.total == 30 and len(attempt.items) == 30
    assert attempt.deadline_at - attempt.started_at == timedelta(minutes=45)
    with pytest.raises(DomainError, match="Finish the attempt"):
        start_attempt(ready)


def test_answers_autosave_and_a_double_submit_changes_nothing(db_session, ready):
    attempt = start_attempt(ready)
    _answer(attempt, right=30)
    db_session.commit()
    db_session.expire_all()
    assert all(row.selected for row in db_session.get(Attempt, attempt.id).items)
    submit_attempt(attempt)
    first = (attempt.correct, attempt.submitted_at)
    submit_attempt(attempt)
    assert (attempt.correct, attempt.submitted_at) == first
    assert attempt.passed and ready.status == EnrolmentStatus.PASSED
    with pytest.raises(DomainError, match="submitted"):
        save_answer(attempt, 0, [0])


def test_time_up_refuses_answers_and_submit_and_the_sweep_submits_what_was_saved(db_session,
                                                                                   ready):
    attempt = start_attempt(ready)
    _answer(attempt, right=25)
    db_session.commit()
    clock.travel(timedelta(minutes=46))
    with pytest.raises(DomainError, match="Time is up"):
        save_answer(attempt, 0, [1])
    with pytest.raises(DomainError, match="Time is up"):
        submit_attempt(attempt)
    assert submit_timed_out() == 1
    assert submit_timed_out() == 0
    assert attempt.auto_submitted and attempt.correct == 25 and attempt.passed


def test_a_first_fail_flags_topics_and_gates_the_second_attempt(db_session, ready):
    leader = make_member(Role.SCHOOL_LEADER, school=ready.school)
    attempt = start_attempt(ready)
    _answer(attempt, right=20)
    submit_attempt(attempt)
    db_session.commit()
    assert not attempt.passed and ready.status == EnrolmentStatus.ACTIVE
    flagged = {t for t, r in attempt.topic_results.items() if not r["secure"]}
    assert flagged and all(attempt.topic_results[t]["lessons"] for t in flagged)
    state = readiness(ready)
    assert any("Wait until" in need for need in state.needs)
    assert any("Revisit the lesson" in need for need in state.needs)
    clock.travel(timedelta(hours=25))
    assert any("Revisit" in need for need in readiness(ready).needs)
    from courses.services import view_lesson

    progress = course_progress(ready)
    lessons = [lesson for module in progress.modules for lesson in module.module.lessons]
    for lesson in lessons:  # a glance at each is not a revisit
        view_lesson(ready, lesson)
    assert any("Revisit" in need for need in readiness(ready).needs)
    for lesson in lessons:
        revisit_lesson(ready, lesson)
    assert readiness(ready).ready
    second = start_attempt(ready)
    assert second.number == 2 and second.seed != attempt.seed
    _answer(second, right=10)
    submit_attempt(second)
    assert ready.status == EnrolmentStatus.FAILED
    db_session.commit()
    told = db_session.scalars(select(OutboxEmail.to_address).where(
        OutboxEmail.subject.contains("did not pass"))).all()
    assert told == [leader.email]


def test_no_second_attempt_when_the_cool_off_runs_past_the_deadline(db_session, ready):
    ready.deadline_at = clock.now() + timedelta(hours=12)
    attempt = start_attempt(ready)
    _answer(attempt, right=0)
    submit_attempt(attempt)
    assert any("not enough time" in need for need in readiness(ready).needs)


def test_adjustments_add_time_and_attempts_with_a_reason(db_session, ready):
    with pytest.raises(DomainError, match="reason"):
        grant_adjustment(ready, "extra_time", 25, reason=" ", actor=None)
    grant_adjustment(ready, "extra_time", 25, reason="Dyslexia: access arrangement",
                     actor=None)
    grant_adjustment(ready, "extra_attempt", 1, reason="Illness on the day", actor=None)
    attempt = start_attempt(ready)
    assert attempt.deadline_at - attempt.started_at == timedelta(minutes=45) * 1.25
    for _ in range(2):
        _answer(attempt, right=0)
        submit_attempt(attempt)
        clock.travel(timedelta(hours=25))
        progress = course_progress(ready)
        for module in progress.modules:
            for lesson in module.module.lessons:
                revisit_lesson(ready, lesson)
        attempt = start_attempt(ready)
    assert attempt.number == 3


def test_the_paper_is_frozen_at_the_item_versions_drawn(db_session, ready, tmp_path):
    attempt = start_attempt(ready)
    row = db_session.scalars(select(AttemptItem).where(
        AttemptItem.attempt_id == attempt.id)).first()
    before = (row.item.id, row.item.stem)
    import shutil

    from assessments.bank.items import ITEMS_ROOT

    shutil.copytree(ITEMS_ROOT, tmp_path / "items")
    path = tmp_path / "items" / f"{row.item.topic}.yml"
    data = yaml.safe_load(path.read_text())
    for raw in data["items"]:
        if raw["key"] == row.item.key:
            raw["stem"] += " (reworded)"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    added, _ = load_bank(tmp_path / "items")
    assert added == 1
    db_session.expire_all()
    row = db_session.get(AttemptItem, row.id)
    assert (row.item.id, row.item.stem) == before and not row.item.is_current


def test_a_bad_question_or_option_number_is_refused_and_nothing_is_saved(db_session, ready):
    attempt = start_attempt(ready)
    db_session.commit()
    with pytest.raises(DomainError, match="Choose one of the options shown"):
        save_answer(attempt, 0, [len(attempt.items[0].option_order)])
    with pytest.raises(DomainError, match="Choose one of the options shown"):
        save_answer(attempt, 0, ["two"])
    with pytest.raises(DomainError, match="not part of this attempt"):
        save_answer(attempt, attempt.total, [0])
    db_session.rollback()
    assert all(row.selected is None for row in db_session.get(Attempt, attempt.id).items)


# --- two tabs at once (real concurrency needs PostgreSQL: SQLite serialises writers) ------


def _other_tab(app, work) -> tuple[threading.Thread, list]:
    """Run ``work(session)`` in a thread with a database session of its own, as a second
    browser tab's request would; what it returns or the message it raises lands in the list."""
    outcome: list = []

    def run():
        from lms.platform.extensions import db

        with app.app_context():
            try:
                outcome.append(work(db.session))
                db.session.commit()
            except DomainError as error:
                db.session.rollback()
                outcome.append(error.message)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.fixture
def two_writers(db_session):
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("needs two concurrent writers, which SQLite serialises anyway")


def test_two_tabs_submitting_at_the_same_moment_grade_the_attempt_once(app, db_session, ready,
                                                                       two_writers):
    attempt = start_attempt(ready)
    _answer(attempt, right=30)
    db_session.commit()
    # This tab starts submitting and holds the attempt while it grades.
    db_session.refresh(attempt, with_for_update=True)
    other, outcome = _other_tab(app, lambda s: submit_attempt(s.get(Attempt, attempt.id)).correct)
    other.join(timeout=0.5)
    assert other.is_alive(), "the second submit should wait for the first"
    submit_attempt(attempt)
    db_session.commit()
    other.join(timeout=10)
    assert outcome == [30]
    submitted = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "attempt.submitted", AuditEntry.object_id == str(attempt.id))).all()
    assert len(submitted) == 1


def test_an_answer_sent_while_the_paper_is_being_graded_is_refused_not_lost(app, db_session,
                                                                             ready, two_writers):
    attempt = start_attempt(ready)
    _answer(attempt, right=29)
    db_session.commit()
    last = attempt.items[29]
    late = _right(last.item, last.option_order)
    db_session.refresh(attempt, with_for_update=True)
    other, outcome = _other_tab(
        app, lambda s: save_answer(s.get(Attempt, attempt.id), 29, late).position)
    other.join(timeout=0.5)
    assert other.is_alive(), "the save should wait for the grading"
    submit_attempt(attempt)
    db_session.commit()
    other.join(timeout=10)
    assert outcome == ["This attempt has been submitted; answers can no longer change."]
    db_session.expire_all()
    graded = db_session.get(Attempt, attempt.id)
    assert graded.correct == 29 and graded.items[29].selected != late


def test_a_submit_waits_for_an_answer_being_saved_and_counts_it(app, db_session, ready,
                                                                two_writers):
    attempt = start_attempt(ready)
    _answer(attempt, right=29)
    db_session.commit()
    last = attempt.items[29]
    save_answer(attempt, 29, _right(last.item, last.option_order))  # saved, not yet committed
    other, outcome = _other_tab(app, lambda s: submit_attempt(s.get(Attempt, attempt.id)).correct)
    other.join(timeout=0.5)
    assert other.is_alive(), "the submit should wait for the save"
    db_session.commit()
    other.join(timeout=10)
    assert outcome == [30]
