"""Faults in the production profile lose nothing and do nothing twice.

The platform runs here as in production, started by the tests themselves: gunicorn on
PostgreSQL, Redis as Celery broker and counter store, and a Celery worker (with its beat). Then
a part of it fails while tutors are working:

* Redis is killed (and comes back empty, as a cache that keeps nothing on disk does);
* the Celery worker is killed in the middle of a CSV import (``kill -9``: first the pool
  process running it, then the whole worker, whose task a new worker takes back);
* PostgreSQL restarts, and stops for a moment, under gunicorn's feet.

Each test checks what people saw (every page answered, or failed with the friendly page), what
the database holds (every answer the server confirmed), and that work which had to be queued
was done once. The servers, the Redis server, the databases and the PostgreSQL cluster are
throwaway ones made here (``tests/services.py``); the suite's own database and Redis are not
touched. The production-profile tests run in the PostgreSQL pass of ``make test`` only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from tests.conftest import need_service
from tests.services import (
    Browser,
    CeleryWorker,
    Gunicorn,
    PostgresCluster,
    RedisServer,
    SmtpSink,
    app_environment,
    check_postgres_binaries,
    check_postgresql,
    check_redis_server_installed,
    postgresql_server_url,
    prepared_app,
    throwaway_database,
    wait_until,
)

TUTOR_PASSWORD = "tutor password 2026"
LEADER_PASSWORD = "correct horse battery staple"
ITEMS = 30
FRIENDLY = ("The service is briefly unavailable", "Nothing you had saved is lost")


# --- the world: people made through the real services before any server starts -----------


def build_world(app, *, tutors: int) -> SimpleNamespace:
    """A trust (no approval step), a school, its leader, and tutors whose course and checks
    are done, so each can start the assessment."""
    from lms.platform.extensions import db
    from lms.platform.roles import Role
    from tests.assessments.test_assessments import _finish_course
    from tests.factories import make_enrolment, make_member, make_school, make_trust

    with app.app_context():
        trust = make_trust("Faults Trust")
        school = make_school(trust)
        make_member(Role.SCHOOL_LEADER, school=school, email="leader@faults.example",
                    name="Lee Leader")
        db.session.commit()
        people = []
        for n in range(tutors):
            enrolment = make_enrolment(school, email=f"tutor{n}@faults.example",
                                       name=f"Tutor {n}")
            _finish_course(db.session, enrolment)
            people.append((enrolment.user.email, enrolment.id))
        world = SimpleNamespace(school_id=school.id, leader="leader@faults.example",
                                tutors=people)
        db.session.remove()
        db.engine.dispose()
    return world


def start_attempt(browser: Browser, enrolment_id: int) -> int:
    browser.get(f"/learn/{enrolment_id}/assessment")
    page = browser.post(f"/learn/{enrolment_id}/assessment/start")
    match = re.search(r"/attempts/(\d+)/", page.location)
    assert page.status == 302 and match, (page.status, page.body[:500])
    return int(match.group(1))


def autosave(browser: Browser, enrolment_id: int, attempt_id: int, position: int,
             choice: list[int]):
    return browser.post(f"/learn/{enrolment_id}/attempts/{attempt_id}/answers/{position}",
                        {"answer": [str(c) for c in choice]},
                        headers={"Accept": "application/json"})


@dataclass
class Save:
    began: float
    ended: float
    position: int
    choice: list[int]
    status: int
    body: str
    confirmed: bool


@dataclass
class Autosaver:
    """A tutor answering non-stop through the autosave endpoint, as the page's script does,
    changing each answer on every pass through the paper."""

    browser: Browser
    enrolment_id: int
    attempt_id: int
    pause: float = 0.02
    saves: list[Save] = field(default_factory=list)

    def __post_init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Autosaver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def save_once(self) -> Save:
        """The next answer: question ``n`` of the paper, round and round."""
        n = len(self.saves)
        position, choice = n % ITEMS, [(n // ITEMS + n) % 4]
        began = time.monotonic()
        page = autosave(self.browser, self.enrolment_id, self.attempt_id, position, choice)
        confirmed = False
        if page.status == 200:
            try:
                body = page.json()
                confirmed = body["position"] == position and body["selected"] == choice
            except (ValueError, KeyError):
                confirmed = False
        save = Save(began, time.monotonic(), position, choice, page.status, page.body,
                    confirmed)
        self.saves.append(save)
        return save

    def _run(self) -> None:
        while not self._stop.is_set():
            self.save_once()
            time.sleep(self.pause)


def answers_lost(app, savers: list[Autosaver]) -> list[str]:
    """Answers the server confirmed that the database does not hold. A later save of the same
    question that failed may still have committed, so its answer is accepted in place of the
    confirmed one; anything else in the database is an answer lost."""
    from assessments.attempts.models import AttemptItem
    from lms.platform.extensions import db

    lost = []
    with app.app_context():
        for saver in savers:
            held = dict(db.session.execute(
                select(AttemptItem.position, AttemptItem.selected)
                .where(AttemptItem.attempt_id == saver.attempt_id)).all())
            for position in range(ITEMS):
                saves = [s for s in saver.saves if s.position == position]
                last = max((i for i, s in enumerate(saves) if s.confirmed), default=None)
                if last is None:
                    continue
                allowed = [saves[last].choice] + [s.choice for s in saves[last + 1:]]
                if held.get(position) not in allowed:
                    lost.append(f"attempt {saver.attempt_id} question {position}: confirmed "
                                f"{saves[last].choice}, database holds {held.get(position)}")
        db.session.remove()
    return lost


def _worker_log_count(worker: CeleryWorker, pattern: str) -> int:
    return len(re.findall(pattern, worker.output(tail=10**8)))


# --- the production profile ---------------------------------------------------------------


@pytest.fixture(scope="module")
def production_stack(tmp_path_factory):
    """Redis, a database of its own on the suite's PostgreSQL server, the people, an SMTP
    server that counts, and gunicorn; each test starts the workers it needs."""
    server_url = postgresql_server_url()
    need_service("PostgreSQL", lambda: check_postgresql(server_url))
    need_service("redis-server", check_redis_server_installed)
    directory = tmp_path_factory.mktemp("faults")
    with contextlib.ExitStack() as stack:
        sink = SmtpSink().start()
        stack.callback(sink.stop)
        redis = RedisServer(directory)
        stack.callback(redis.stop)
        redis.start()
        url = stack.enter_context(throwaway_database(server_url, "faults"))
        app = prepared_app(url)
        stack.callback(_dispose, app)
        world = build_world(app, tutors=3)
        env = app_environment(DATABASE_URL=url, CELERY_BROKER_URL=redis.url(),
                              REDIS_URL=redis.url(), MAIL_SERVER="127.0.0.1",
                              MAIL_PORT=str(sink.port), MAIL_USE_TLS="0")
        web = Gunicorn(directory, env, workers=1, threads=6)
        stack.callback(web.stop)
        web.start().wait_ready()
        yield SimpleNamespace(app=app, url=url, redis=redis, sink=sink, web=web, env=env,
                              directory=directory, world=world)


@pytest.fixture
def stack(production_stack):
    """The production profile, with Redis up even if a test before this one failed while it
    was down."""
    if not production_stack.redis.ping():
        production_stack.redis.start()
    return production_stack


def _dispose(app) -> None:
    from lms.platform.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def workers(stack, request):
    """Start Celery workers for one test; every one is stopped when it ends."""
    started: list[CeleryWorker] = []

    def start(name: str, **kwargs) -> CeleryWorker:
        worker = CeleryWorker(stack.directory, kwargs.pop("env", stack.env),
                              name=f"{request.node.name[:20]}-{name}", **kwargs)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


# --- 1. Redis stops mid-run ---------------------------------------------------------------


@pytest.mark.faults
def test_redis_dies_mid_run_and_nothing_is_lost_or_done_twice(stack, workers):
    from celery import Celery

    from assessments.attempts.models import Attempt
    from credentials.endorsements.models import Endorsement
    from lms.notifications.models import EmailStatus, OutboxEmail
    from lms.platform.extensions import db
    from lms.programme.models import Nomination
    from tests.assessments.test_assessments import _right

    app, redis, sink, web = stack.app, stack.redis, stack.sink, stack.web
    worker = workers("w", beat=True)  # starting while the tutors sign in
    (a_email, a_id), (b_email, b_id), (c_email, c_id) = stack.world.tutors
    tutors = []
    for email, enrolment_id in ((a_email, a_id), (b_email, b_id)):
        browser = Browser(web.base)
        assert browser.sign_in(email, TUTOR_PASSWORD).status == 302
        tutors.append(Autosaver(browser, enrolment_id, start_attempt(browser, enrolment_id)))
    passer = Browser(web.base)
    assert passer.sign_in(c_email, TUTOR_PASSWORD).status == 302
    c_attempt = start_attempt(passer, c_id)
    leader = Browser(web.base)
    assert leader.sign_in(stack.world.leader, LEADER_PASSWORD).status == 302
    worker.wait_ready()
    for saver in tutors:
        saver.start()
    try:
        wait_until(lambda: all(len(s.saves) >= 5 for s in tutors), 20, "answers saved")

        # Redis goes, while the tutors keep answering.
        redis.kill()
        outage_began = time.monotonic()

        # Pages still answer; signing in still works (and a wrong password is still refused,
        # counted in this process: see lms.counters.RedisCounterStore).
        assert passer.get(f"/learn/{c_id}/attempts/{c_attempt}/q/0").status == 200
        assert leader.get("/").status == 200
        assert leader.get(f"/schools/{stack.world.school_id}/nominations").status == 200
        newcomer = Browser(web.base)
        assert newcomer.sign_in(stack.world.leader, LEADER_PASSWORD).status == 302
        assert newcomer.get("/").status == 200
        wrong = Browser(web.base).sign_in(stack.world.leader, "not the password at all")
        assert wrong.status == 400 and "Enter a correct email address and password" in wrong.body

        # Work that has to be queued: an invitation (the leader nominates someone) and an
        # endorsement (tutor C passes).
        nominated = leader.post(f"/schools/{stack.world.school_id}/nominations/new", {
            "name": "Nia Newcomer", "email": "nia@faults.example",
            "role_in_school": "teaching_assistant", "holds_qts": "no", "trn": "",
            "tutoring_phase": "primary", "subject_focus": "Reading", "confirmed": "yes"})
        assert nominated.status == 302, nominated.body[:1000]
        with app.app_context():
            rows = db.session.get(Attempt, c_attempt).items
            right = {row.position: _right(row.item, row.option_order) for row in rows}
            db.session.remove()
        for position, choice in right.items():
            page = autosave(passer, c_id, c_attempt, position, choice)
            assert page.status == 200 and page.json()["selected"] == choice, page.body
        submitted = passer.post(f"/learn/{c_id}/attempts/{c_attempt}/review")
        assert submitted.status == 302, submitted.body[:1000]
        result = passer.get(f"/learn/{c_id}/attempts/{c_attempt}/result")
        assert result.status == 200 and "You passed" in result.body
        assert not redis.ping()
        outage = time.monotonic() - outage_began

        # Both changes committed; their tasks could not be sent (the web process says so).
        with app.app_context():
            nomination = db.session.scalars(select(Nomination).where(
                Nomination.candidate_email == "nia@faults.example")).one()
            assert nomination.status.value == "invited"
            invitation = db.session.scalars(select(OutboxEmail).where(
                OutboxEmail.to_address == "nia@faults.example")).one()
            assert invitation.status == EmailStatus.QUEUED
            assert db.session.scalar(select(func.count(Endorsement.id))) == 0
            db.session.remove()
        assert "could not enqueue lms.tasks.deliver_email" in web.output(10**8)
        assert "could not enqueue credentials.tasks.issue_endorsement_for" in web.output(10**8)

        # Redis comes back empty: whatever it held is gone, so nothing is waiting for the
        # worker. The tutors answered throughout.
        redis.start()
        assert redis.ping()
        saves_at_return = sum(len(s.saves) for s in tutors)
        wait_until(lambda: sum(len(s.saves) for s in tutors) >= saves_at_return + 6, 20,
                   "answers after Redis came back")
    finally:
        for saver in tutors:
            saver.stop()

    statuses = {s.status for saver in tutors for s in saver.saves}
    assert statuses == {200}, [(s.status, s.body[:300]) for saver in tutors
                                for s in saver.saves if s.status != 200][:5]
    assert all(s.confirmed for saver in tutors for s in saver.saves)
    assert answers_lost(app, tutors) == []
    during = sum(1 for saver in tutors for s in saver.saves
                 if outage_began <= s.began <= outage_began + outage)
    assert during > 0

    # The sweeps the beat runs (every few minutes for emails, every minute for endorsements)
    # pick the lost work up; sent here as the beat sends them, without the wait.
    client = Celery("faults-client", broker=redis.url())
    try:
        wait_until(lambda: _worker_log_count(worker, r"Connected to redis") >= 2, 30,
                   lambda: f"the worker to reconnect:\n{worker.output()}")
        # The worker is taking tasks again, yet the lost work stays undone by itself.
        sealed = _worker_log_count(worker, r"seal_audit_log\[[-0-9a-f]+\] succeeded")
        client.send_task("lms.tasks.seal_audit_log")
        wait_until(lambda: _worker_log_count(
            worker, r"seal_audit_log\[[-0-9a-f]+\] succeeded") > sealed, 30,
            lambda: f"the worker to take a task:\n{worker.output()}")
        with app.app_context():
            assert db.session.get(OutboxEmail, invitation.id).status == EmailStatus.QUEUED
            assert db.session.scalar(select(func.count(Endorsement.id))) == 0
            db.session.remove()

        def sweep() -> None:
            client.send_task("lms.tasks.requeue_queued_emails",
                             kwargs={"older_than_seconds": 0})
            client.send_task("credentials.tasks.issue_missing_endorsements")

        sweep()

        def everything_done():
            with app.app_context():
                queued = db.session.scalar(select(func.count(OutboxEmail.id)).where(
                    OutboxEmail.status == EmailStatus.QUEUED))
                endorsed = db.session.scalar(select(func.count(Endorsement.id)))
                db.session.remove()
            return queued == 0 and endorsed == 1 and sink.sent_to()[c_email] >= 1

        wait_until(everything_done, 40, lambda: f"the lost work to be done:\n"
                                                f"{worker.output()}")
        # Again, as the beat will a few minutes later: nothing more happens.
        done = _worker_log_count(worker, r"requeue_queued_emails\[[-0-9a-f]+\] succeeded")
        sweep()
        wait_until(lambda: _worker_log_count(
            worker, r"requeue_queued_emails\[[-0-9a-f]+\] succeeded") > done and
            _worker_log_count(
                worker, r"issue_missing_endorsements\[[-0-9a-f]+\] succeeded in [0-9.]+s: 0\b")
            >= 1, 30, lambda: f"the second sweep:\n{worker.output()}")
        wait_until(lambda: _worker_log_count(worker, r"deliver_email\[[-0-9a-f]+\] received")
                   == _worker_log_count(worker, r"deliver_email\[[-0-9a-f]+\] succeeded"),
                   30, "the repeated deliveries to finish")
    finally:
        client.close()

    with app.app_context():
        endorsements = db.session.scalars(select(Endorsement)).all()
        assert [e.enrolment_id for e in endorsements] == [c_id]
        emails = db.session.scalars(select(OutboxEmail).where(
            OutboxEmail.status != EmailStatus.OUTBOX)).all()  # OUTBOX: made before the servers
        # Every email was given to the SMTP server exactly once, and nothing else was.
        assert all((e.status, e.attempts) == (EmailStatus.SENT, 1) for e in emails), [
            (e.to_address, e.subject, e.status, e.attempts) for e in emails]
        expected = {(e.to_address.lower(), e.subject): 1 for e in emails}
        assert dict(sink.delivered()) == expected
        assert ("nia@faults.example", invitation.subject) in expected
        assert (c_email, "Your tutor endorsement is ready") in expected
        db.session.remove()
    # The audit entries written while Redis was away are sealed by the beat once it is back.
    _assert_audit_sealed(app)
    print(f"\nRedis down {outage:.1f} s; {sum(len(s.saves) for s in tutors)} answers saved "
          f"({during} during the outage), all confirmed and held; sign-in worked; "
          f"{len(emails)} emails sent once each; 1 endorsement")


def _assert_audit_sealed(app, timeout: float = 30) -> None:
    from lms.audit import services as audit
    from lms.platform.extensions import db

    def sealed():
        with app.app_context():
            report = audit.verify_chain()
            db.session.remove()
        assert report.ok, report
        return report.awaiting_seal == 0

    wait_until(sealed, timeout, "the beat to seal the audit log", interval=0.5)


# --- 2. the worker is killed mid-task -----------------------------------------------------

IMPORT_ROWS = 1000


@pytest.mark.faults
def test_a_worker_killed_mid_import_is_replaced_and_the_import_happens_once(stack, workers):
    import redis as redis_client

    from lms.audit.models import AuditEntry
    from lms.notifications.models import OutboxEmail
    from lms.platform.extensions import db
    from lms.programme.models import ImportStatus, Nomination, NominationImport

    app, web = stack.app, stack.web
    # The worker's own settings: no SMTP server (each invitation is kept in the outbox, so
    # "sent once" is one outbox row each), and the short visibility timeout.
    env = {**stack.env, "MAIL_SERVER": "", "FAULTS_VISIBILITY_TIMEOUT": "4"}
    first = workers("first", env=env, app="tests.fault_worker")  # ready by the time it is needed
    leader = Browser(web.base)
    assert leader.sign_in(stack.world.leader, LEADER_PASSWORD).status == 302
    rows = "\n".join(f"Candidate {n},import{n}@faults.example,teaching assistant,no,,primary,"
                     "Reading" for n in range(IMPORT_ROWS))
    csv = ("name,email,role_in_school,holds_qts,trn,tutoring_phase,subject_focus\n"
           + rows + "\n").encode()
    leader.get(f"/schools/{stack.world.school_id}/nominations/import")
    page = leader.post(f"/schools/{stack.world.school_id}/nominations/import",
                       files={"file": ("tutors.csv", csv, "text/csv")})
    assert page.status == 302 and "/imports/" in page.location, page.body[:1000]
    import_id = int(page.location.rsplit("/", 1)[1])
    first.wait_ready()

    def progress() -> tuple[str, int, int]:
        with app.app_context():
            row = db.session.get(NominationImport, import_id)
            made = db.session.scalar(select(func.count(Nomination.id)).where(
                Nomination.import_id == import_id))
            result = (row.status.value, row.processed_rows, made)
            db.session.remove()
        return result

    def under_way(more_than: int):
        status, _, made = progress()
        return status == "importing" and made > more_than and made

    # Once part of the import has committed, kill the pool process running it: the worker
    # hands the task back to the broker at once (reject_on_worker_lost) and runs it again.
    before = wait_until(lambda: under_way(0), 30,
                        lambda: f"the import to be under way:\n{first.output()}",
                        interval=0.02)
    (child,) = first.pool_processes()
    os.kill(child, signal.SIGKILL)
    task = re.search(r"run_nomination_import\[([-0-9a-f]+)\] received", first.output(10**8))
    assert task, first.output()
    received = f"run_nomination_import[{task.group(1)}] received"
    wait_until(lambda: first.output(10**8).count(received) == 2, 30,
               lambda: f"the task to be run again:\n{first.output()}")
    assert "WorkerLostError" in first.output(10**8)

    # Once more has committed, kill the whole worker (kill -9, main process and pool).
    wait_until(lambda: under_way(before), 30,
               lambda: f"the import to go on:\n{first.output()}", interval=0.02)
    first.kill()
    status, _, made = progress()
    assert status == ImportStatus.IMPORTING.value and 0 < made < IMPORT_ROWS, progress()
    # Redis still holds the task, handed out but never acknowledged.
    broker = redis_client.Redis.from_url(stack.redis.url())
    try:
        assert broker.hlen("unacked") >= 1
    finally:
        broker.close()

    killed_at = time.monotonic()
    second = workers("second", env=env, app="tests.fault_worker").wait_ready()
    wait_until(lambda: progress()[0] == "done", 60,
               lambda: f"the import to finish: {progress()}\n{second.output()}")
    redelivered_after = time.monotonic() - killed_at
    # The same task, given to the new worker.
    assert received in second.output(10**8)

    with app.app_context():
        imported = db.session.get(NominationImport, import_id)
        assert (imported.imported_rows, imported.processed_rows, imported.total_rows) == (
            IMPORT_ROWS, IMPORT_ROWS, IMPORT_ROWS)
        emails = db.session.scalars(select(Nomination.candidate_email).where(
            Nomination.import_id == import_id)).all()
        assert len(emails) == len(set(emails)) == IMPORT_ROWS
        invitations = db.session.execute(
            select(OutboxEmail.to_address, func.count()).where(
                OutboxEmail.to_address.like("import%@faults.example"))
            .group_by(OutboxEmail.to_address)).all()
        assert len(invitations) == IMPORT_ROWS and {n for _, n in invitations} == {1}
        ids = [str(i) for i in db.session.scalars(select(Nomination.id).where(
            Nomination.import_id == import_id))]
        audited = db.session.scalars(select(AuditEntry.object_id).where(
            AuditEntry.action == "nomination.submitted", AuditEntry.object_id.in_(ids))).all()
        assert sorted(audited) == sorted(ids)
        db.session.remove()
    print(f"\npool process killed with {before} of {IMPORT_ROWS} rows committed: the task was "
          f"handed back and run again at once; whole worker killed with {made} committed: a "
          f"new worker took the task back and finished it {redelivered_after:.1f} s later; "
          f"{IMPORT_ROWS} nominations, invitations and audit entries, one each")


# --- 2b. the worker is killed in the middle of a safeguarding escalation ------------------

SWEEP = "safeguarding.tasks.escalate_overdue"
ESCALATE = "safeguarding.tasks.escalate_concern"


def _task_line(worker: CeleryWorker, name: str, task_id: str, what: str) -> str | None:
    """The worker's log line saying task ``task_id`` was ``what`` (received, succeeded)."""
    found = re.search(rf"{re.escape(name)}\[{re.escape(task_id)}\] {what}[^\n]*",
                      worker.output(10**8))
    return found.group(0) if found else None


@pytest.mark.faults
def test_a_worker_killed_before_an_escalation_commits_and_it_escalates_once(stack, workers):
    import redis as redis_client
    from celery import Celery
    from sqlalchemy.exc import OperationalError

    from lms.audit.models import AuditEntry
    from lms.notifications.models import OutboxEmail
    from lms.platform.extensions import db
    from lms.safeguarding.models import Concern, ConcernAlert, ConcernEntry, EntryKind
    from tests.safeguarding_factory import PLANTED, make_safeguarding_school, raise_about_child

    app = stack.app
    # No SMTP server (each alert email is kept in the outbox, so "emailed once" is one outbox
    # row each) and the short visibility timeout; the first worker holds every escalation,
    # made but not committed, until it is killed.
    env = {**stack.env, "MAIL_SERVER": "", "FAULTS_VISIBILITY_TIMEOUT": "4"}
    first = workers("first", env={**env, "FAULTS_ESCALATION_DELAY": "120"},
                    app="tests.fault_worker")

    # A concern about a child at a school with a DSL, two deputies and a trust safeguarding
    # lead, unacknowledged for 61 minutes: past the first threshold (an hour), well short of
    # the second. The data is moved back, not the clock.
    with app.app_context():
        world = make_safeguarding_school(deputies=2)
        concern = raise_about_child(world)
        concern.raised_at = datetime.now(UTC) - timedelta(minutes=61)
        db.session.commit()
        concern_id = concern.id
        escalated_to = {p.id: p.email.lower() for p in [*world.deputies, world.trust_lead]}
        # Emails from here on are the escalation's (the DSL and deputies were told at once).
        told_before = db.session.scalar(select(func.max(OutboxEmail.id)))
        db.session.remove()

    def state() -> SimpleNamespace:
        with app.app_context():
            found = SimpleNamespace(
                level=db.session.scalar(select(Concern.escalation_level).where(
                    Concern.id == concern_id)),
                entries=db.session.scalars(select(ConcernEntry.level).where(
                    ConcernEntry.concern_id == concern_id,
                    ConcernEntry.kind == EntryKind.ESCALATED)).all(),
                alerts=dict(db.session.execute(select(ConcernAlert.user_id, func.count()).where(
                    ConcernAlert.concern_id == concern_id, ConcernAlert.level == 1)
                    .group_by(ConcernAlert.user_id)).all()),
                emails=dict(db.session.execute(select(
                    func.lower(OutboxEmail.to_address), func.count()).where(
                    OutboxEmail.id > told_before, OutboxEmail.template == "safeguarding_alert")
                    .group_by(func.lower(OutboxEmail.to_address))).all()),
                audited=db.session.scalar(select(func.count(AuditEntry.id)).where(
                    AuditEntry.action == "safeguarding.concern_escalated",
                    AuditEntry.object_id == str(concern_id))))
            db.session.remove()
        return found

    first.wait_ready()
    client = Celery("faults-client", broker=stack.redis.url())
    broker = redis_client.Redis.from_url(stack.redis.url())
    try:
        # The beat's sweep finds the concern due and hands it to a task of its own, which
        # escalates it in its transaction and is held there, the concern's row locked.
        sweep = client.send_task(SWEEP).id
        holding = f"concern {concern_id} escalated to level 1, not committed"
        wait_until(lambda: holding in first.output(10**8), 30,
                   lambda: f"the escalation to be under way:\n{first.output()}")
        assert _task_line(first, SWEEP, sweep, r"succeeded in [0-9.]+s: 1\b"), first.output()
        task = re.search(rf"{re.escape(ESCALATE)}\[([-0-9a-f]+)\] received",
                         first.output(10**8))
        assert task, first.output()
        task_id = task.group(1)
        with app.app_context():
            with pytest.raises(OperationalError, match="could not obtain lock"):
                db.session.execute(select(Concern.id).where(Concern.id == concern_id)
                                   .with_for_update(nowait=True))
            db.session.rollback()
            db.session.remove()

        # Killed before the commit (kill -9, main process and pool): nothing of it is kept.
        first.kill()
        killed_at = time.monotonic()
        after_kill = state()
        assert (after_kill.level, after_kill.entries, after_kill.alerts, after_kill.emails,
                after_kill.audited) == (0, [], {}, {}, 0), after_kill
        # Redis still holds the task, handed out but never acknowledged.
        assert any(task_id.encode() in held for held in broker.hvals("unacked"))

        # A new worker takes the task back once the visibility timeout has passed, and
        # escalates the concern.
        second = workers("second", env=env, app="tests.fault_worker").wait_ready()
        succeeded = r"succeeded in [0-9.]+s: "
        redone = wait_until(lambda: _task_line(second, ESCALATE, task_id, succeeded), 30,
                            lambda: f"the task to be taken back:\n{second.output()}")
        redelivered_after = time.monotonic() - killed_at
        assert redone.endswith(": 1"), redone
        assert state().level == 1

        # The beat's next sweep, and a second task for the concern (as a sweep that read it
        # just before the escalation committed would send): neither escalates it again.
        again = client.send_task(SWEEP).id
        duplicate = client.send_task(ESCALATE, args=[concern_id]).id
        for name, sent in ((SWEEP, again), (ESCALATE, duplicate)):
            line = wait_until(lambda name=name, sent=sent: _task_line(second, name, sent,
                                                                      succeeded), 30,
                              lambda: f"the repeated work to run:\n{second.output()}")
            assert line.endswith(": 0"), line
    finally:
        client.close()
        broker.close()

    done = state()
    assert done.level == 1
    assert done.entries == [1]  # one ESCALATED entry in the chronology, for level 1
    assert done.alerts == {person: 1 for person in escalated_to}
    assert done.emails == {email: 1 for email in escalated_to.values()}
    assert done.audited == 1
    # Not a word of the account in any email, nor in either worker's log.
    with app.app_context():
        leaked = db.session.scalars(select(OutboxEmail.to_address).where(
            OutboxEmail.subject.contains(PLANTED) | OutboxEmail.body_text.contains(PLANTED)
            | OutboxEmail.body_html.contains(PLANTED))).all()
        db.session.remove()
    assert leaked == []
    assert PLANTED not in first.output(10**8) + second.output(10**8)
    print(f"\nworker killed holding an escalation (made, row locked, not committed): none of "
          f"it kept; a new worker took the task back {redelivered_after:.1f} s later and "
          f"escalated the concern; the next sweep and a second task escalated nothing; 1 "
          f"escalation entry, {len(done.alerts)} alerts and {len(done.emails)} emails (one "
          f"per deputy and the trust lead), no account text in any email or log")


# --- 3. PostgreSQL restarts ---------------------------------------------------------------


@pytest.fixture
def cluster():
    postgresql_server_url()
    need_service("PostgreSQL server programs (initdb, pg_ctl)", check_postgres_binaries)
    cluster = PostgresCluster()
    try:
        yield cluster.init().start()
    finally:
        cluster.remove()


@pytest.mark.faults
def test_postgresql_restarts_under_gunicorn_and_it_recovers_without_losing_answers(
        stack, cluster, tmp_path):
    import psycopg

    with psycopg.connect(cluster.url().replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("CREATE DATABASE lms")
    app = prepared_app(cluster.url("lms"))
    try:
        world = build_world(app, tutors=2)
        assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
        env = app_environment(DATABASE_URL=cluster.url("lms"),
                              CELERY_BROKER_URL=stack.redis.url(1),
                              REDIS_URL=stack.redis.url(1))
        web = Gunicorn(tmp_path, env, workers=2, threads=4)
        try:
            web.start().wait_ready()
            _restart_under_load(app, cluster, web, world)
        finally:
            web.stop()
    finally:
        _dispose(app)


def _restart_under_load(app, cluster, web, world) -> None:
    savers = []
    for email, enrolment_id in world.tutors:
        browser = Browser(web.base)
        assert browser.sign_in(email, TUTOR_PASSWORD).status == 302
        savers.append(Autosaver(browser, enrolment_id, start_attempt(browser, enrolment_id),
                                pause=0.01))
    reader = Browser(web.base)
    assert reader.sign_in(world.tutors[0][0], TUTOR_PASSWORD).status == 302
    pages = [f"/learn/{savers[0].enrolment_id}/attempts/{savers[0].attempt_id}/q/3", "/"]

    # 1. A restart while the tutors answer: what is in flight may fail, cleanly.
    for saver in savers:
        saver.start()
    try:
        wait_until(lambda: all(len(s.saves) >= 5 for s in savers), 20, "answers saved")
        began = time.monotonic()
        cluster.restart()  # -m fast: sessions are ended, the server goes and comes back
        restarted = time.monotonic()
        saves_then = [len(s.saves) for s in savers]
        wait_until(lambda: all(len(s.saves) >= n + 5 for s, n in zip(savers, saves_then,
                                                                          strict=True)),
                   20, "answers after the restart")
    finally:
        for saver in savers:
            saver.stop()
    in_flight = [s for saver in savers for s in saver.saves
                 if s.began <= restarted and s.ended >= began]
    first_after = [next(s for s in saver.saves if s.began > restarted) for saver in savers]

    # 2. A restart while nothing happens: every pooled connection is dead, and the next
    # requests must not notice (pool_pre_ping tests a connection before lending it).
    cluster.restart()
    after_idle = [saver.save_once() for saver in savers for _ in range(4)]
    after_idle_pages = [reader.get(path) for path in pages * 4]

    # 3. A stop long enough to see what a request meets while the database is away.
    cluster.stop("fast")
    while_down = [saver.save_once() for saver in savers]
    pages_down = [reader.get(path) for path in pages]
    cluster.start()
    back = [saver.save_once() for saver in savers for _ in range(4)]
    pages_back = [reader.get(path) for path in pages]

    everything = [s for saver in savers for s in saver.saves]
    failed = [s for s in everything if s.status != 200]
    for save in failed:
        _assert_clean_failure(save.status, save.body, json=True)
    # After the restart under load, each tutor's next answer is saved...
    assert all(s.status == 200 and s.confirmed for s in first_after), first_after
    # ...and after the idle restart, every request, gunicorn untouched.
    assert all(s.status == 200 and s.confirmed for s in after_idle), [
        (s.status, s.body[:200]) for s in after_idle if not s.confirmed]
    assert [p.status for p in after_idle_pages] == [200] * len(after_idle_pages)
    # While it is stopped: the problem document for the page's script, the friendly page.
    for save in while_down:
        _assert_clean_failure(save.status, save.body, json=True)
    assert all(s.body.lstrip().startswith("{") for s in while_down)
    for page in pages_down:
        _assert_clean_failure(page.status, page.body, json=False)
    assert all(s.status == 200 and s.confirmed for s in back)
    assert [p.status for p in pages_back] == [200, 200]
    assert answers_lost(app, savers) == []
    print(f"\nPostgreSQL restart under load took {restarted - began:.1f} s: "
          f"{len(in_flight)} answers sent meanwhile, "
          f"{sum(s.status != 200 for s in in_flight)} refused cleanly "
          f"(statuses {sorted({s.status for s in failed})}, problem+json), the rest saved; "
          f"after an idle restart {len(after_idle) + len(after_idle_pages)} requests all "
          f"200; while stopped autosave {while_down[0].status} problem+json and pages "
          f"{pages_down[0].status}/{pages_down[1].status} friendly; "
          f"{len(everything)} answers sent, none confirmed lost")


def _assert_clean_failure(status: int, body: str, *, json: bool) -> None:
    assert status == 503, (status, body[:500])
    assert "Traceback" not in body and 'File "' not in body and "psycopg" not in body
    if json:
        assert '"title"' in body and '"status"' in body, body[:500]
    else:
        assert all(words in body for words in FRIENDLY), body[:500]


# --- the pieces the faults rely on, on any database ---------------------------------------


def test_the_sweep_queues_again_an_email_whose_task_was_lost(app, db_session):
    """An email still queued (its task lost with the broker) is delivered by the sweep, once;
    a fresh one is left to the task that is on its way."""
    from lms.notifications.models import EmailStatus, OutboxEmail
    from lms.notifications.tasks import requeue_queued_emails
    from lms.platform import clock

    lost = OutboxEmail(to_address="lost@school.example", subject="s", body_text="t",
                       body_html="h", template="verify_email", status=EmailStatus.QUEUED)
    db_session.add(lost)
    db_session.commit()
    clock.travel(timedelta(minutes=6))
    fresh = OutboxEmail(to_address="fresh@school.example", subject="s", body_text="t",
                        body_html="h", template="verify_email", status=EmailStatus.QUEUED)
    db_session.add(fresh)
    db_session.commit()
    assert requeue_queued_emails.apply().get() == 1
    db_session.rollback()  # end the read, to see what the task committed
    # No SMTP server here, so delivering keeps it in the outbox.
    assert (lost.status, lost.attempts) == (EmailStatus.OUTBOX, 1)
    assert fresh.status == EmailStatus.QUEUED
    assert requeue_queued_emails.apply(kwargs={"older_than_seconds": 0}).get() == 1
    assert requeue_queued_emails.apply(kwargs={"older_than_seconds": 0}).get() == 0
    db_session.rollback()  # end the read, to see what the task committed
    assert (lost.attempts, fresh.attempts) == (1, 1)
    assert "requeue-queued-emails" in app.config["CELERY"]["beat_schedule"]


def test_while_redis_is_down_sign_in_throttling_counts_in_the_process(app):
    """Neither a 500 for every sign-in nor unlimited guessing: each process counts alone."""
    from lms.accounts.security import record_sign_in_failure, sign_in_throttle
    from lms.platform.counters import RedisCounterStore
    from tests.services import free_port

    store = RedisCounterStore(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    app.extensions["lms.counters"] = store
    assert sign_in_throttle("tutor@school.example", "203.0.113.9").allowed
    for _ in range(app.config["SIGN_IN_MAX_FAILURES"]):
        record_sign_in_failure("tutor@school.example", "203.0.113.9")
    throttle = sign_in_throttle("tutor@school.example", None)
    assert not throttle.allowed
    assert throttle.retry_after > app.config["SIGN_IN_LOCK"] - timedelta(minutes=1)
    assert store.hit("api:1", 1, timedelta(minutes=1))[0]
    assert not store.hit("api:1", 1, timedelta(minutes=1))[0]


def test_a_broker_that_never_answers_does_not_hold_the_request(app, caplog):
    """A partition, not a refusal: the broker's port accepts connections and then says
    nothing. Committing a change that enqueues work must still return (the task is logged as
    not sent, for the sweeps to pick up) instead of waiting on the socket for ever."""
    import socket

    from lms import create_app
    from lms.audit.tasks import seal_audit_log
    from lms.platform.jobs import enqueue_after_commit

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)  # the kernel completes connections; nothing ever reads or writes
    port = silent.getsockname()[1]
    partitioned = create_app({"LMS_ENV": "testing", "SECRET_KEY": "k" * 40,
                              "SQLALCHEMY_DATABASE_URI": "sqlite://",
                              "CELERY": {**app.config["CELERY"], "task_always_eager": False,
                                         "broker_url": f"redis://127.0.0.1:{port}/0",
                                         "result_backend": None}})
    finished = threading.Event()

    def commit_a_change() -> None:
        with partitioned.app_context():
            from lms.platform.extensions import db

            enqueue_after_commit(seal_audit_log)
            db.session.commit()
        finished.set()

    try:
        with caplog.at_level(logging.ERROR, logger="lms.platform.jobs"):
            worker = threading.Thread(target=commit_a_change, daemon=True)
            worker.start()
            worker.join(timeout=120)
        assert finished.is_set(), "the commit is still waiting on a broker that never answers"
        assert "could not enqueue lms.tasks.seal_audit_log" in caplog.text
    finally:
        silent.close()
