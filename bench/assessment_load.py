"""Many tutors take the assessment at once against a real gunicorn server on PostgreSQL.

Each simulated tutor signs in, starts an attempt, saves an answer every ``INTERVAL`` seconds
through the autosave endpoint, then submits. Afterwards every answer a tutor saw saved is looked
up in the database: an answer that is missing or different counts as lost.

The platform runs as in production: gunicorn on PostgreSQL, Redis as the broker and for shared
counters, and a Celery worker with its beat (which seals the audit log every few seconds). After
the run the audit chain must be whole, every entry sealed.

Run: ``python -m bench.assessment_load`` (``BENCH_TUTORS``, ``BENCH_INTERVAL``, ``BENCH_ITEMS``,
``BENCH_DATABASE_URL``, ``BENCH_REDIS_URL``, ``BENCH_WEB_WORKERS`` and ``BENCH_WEB_THREADS``
override the defaults: 300 tutors, 2 s, all 30 items, database ``bench`` on the local
PostgreSQL, created if missing, Redis database 13, emptied first, and gunicorn with 4 workers
of 8 threads). ``tests/app/test_load_smoke.py`` runs it small, on databases of its own, in CI.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import (
    DATABASE_URL,
    ENCRYPTION_KEY,
    PASSWORD,
    ROOT,
    SECRET_KEY,
    TOKEN,
    empty_redis,
    ensure_database,
    free_port,
    percentile,
    server_environment,
    start_server,
)

TUTORS = int(os.environ.get("BENCH_TUTORS", 300))
INTERVAL = float(os.environ.get("BENCH_INTERVAL", 2.0))
ITEMS = int(os.environ.get("BENCH_ITEMS", 30))


def prepare() -> list[tuple[str, int]]:
    """A fresh schema, content, bank and TUTORS tutors whose course and checks are done."""
    from argon2 import PasswordHasher
    from flask_migrate import upgrade
    from sqlalchemy import text

    from assessments.bank.services import load_bank
    from assessments.checks.models import FormativeResult
    from courses.models import LessonProgress
    from courses.services import load_content
    from lms import create_app
    from lms.accounts.models import User
    from lms.organisations import services
    from lms.organisations.models import Membership
    from lms.platform import clock
    from lms.platform.extensions import db
    from lms.platform.roles import Role
    from lms.programme.models import (
        Enrolment,
        EnrolmentStatus,
        Nomination,
        NominationStatus,
        Pathway,
        RoleInSchool,
        TutoringPhase,
    )

    ensure_database()
    app = create_app({"LMS_ENV": "testing", "SECRET_KEY": SECRET_KEY,
                      "ENCRYPTION_KEY": ENCRYPTION_KEY, "SQLALCHEMY_DATABASE_URI": DATABASE_URL})
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        versions = {v.pathway: v for v in _loaded(load_content)}
        load_bank()
        trust = services.create_trust("Load trust", actor=None)
        school = services.add_school(trust, urn="999999", name="Load school", phase="primary",
                                     local_authority="Leeds", postcode="LS1 4AP", actor=None)
        db.session.commit()
        # A cheap Argon2id hash so that signing 300 tutors in measures the app, not hashing.
        password_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(
            PASSWORD)
        version = versions[Pathway.PRIMARY]
        lessons = version.lessons
        topics = [m.slug for m in version.modules]
        now = clock.now()
        tutors = []
        for n in range(TUTORS):
            user = User(email=f"tutor{n}@load.example", name=f"Tutor {n}",
                        password_hash=password_hash, email_verified_at=now)
            db.session.add(user)
            db.session.flush()
            db.session.add(Membership(user_id=user.id, role=Role.TUTOR, trust_id=trust.id,
                                      school_id=school.id))
            nomination = Nomination(
                school_id=school.id, trust_id=trust.id, candidate_name=user.name,
                candidate_email=user.email, role_in_school=RoleInSchool.TEACHING_ASSISTANT,
                tutoring_phase=TutoringPhase.PRIMARY, pathway=Pathway.PRIMARY,
                status=NominationStatus.ACCEPTED, accepted_at=now)
            db.session.add(nomination)
            db.session.flush()
            enrolment = Enrolment(user_id=user.id, nomination_id=nomination.id,
                                  school_id=school.id, trust_id=trust.id,
                                  pathway=Pathway.PRIMARY, course_version=version.version,
                                  opened_at=now, deadline_at=now.replace(year=now.year + 1),
                                  status=EnrolmentStatus.ACTIVE)
            db.session.add(enrolment)
            db.session.flush()
            db.session.add_all(LessonProgress(enrolment_id=enrolment.id, lesson_id=lesson.id,
                                              started_at=now, last_seen_at=now,
                                              completed_at=now) for lesson in lessons)
            db.session.add_all(FormativeResult(enrolment_id=enrolment.id, topic=topic,
                                               items=[], correct=4, total=4, passed=True,
                                               submitted_at=now) for topic in topics)
            tutors.append((user.email, enrolment.id))
        db.session.commit()
        db.engine.dispose()
    return tutors


def _loaded(load_content):
    from courses.models import CourseVersion
    from lms.platform.extensions import db

    load_content()
    db.session.commit()
    return db.session.query(CourseVersion).all()


def start_worker(tmp: Path, wait: bool = True) -> subprocess.Popen:
    """The Celery worker with its beat, as production runs them; returns once it is ready
    (or at once, to start the web server meanwhile: then ``wait_for_worker``)."""
    log = tmp / "worker.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "lms.worker", "worker", "--concurrency=1",
             "--beat", "--schedule", str(tmp / "beat-schedule"), "--loglevel=INFO"],
            env=server_environment(), stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    if wait:
        wait_for_worker(tmp)
    return process


def wait_for_worker(tmp: Path) -> None:
    log = tmp / "worker.log"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "ready." not in log.read_text():
        time.sleep(0.2)


async def tutor_session(base: str, email: str, enrolment_id: int, results: dict) -> None:
    import aiohttp

    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url=base, cookie_jar=jar) as http:
        page = await (await http.get("/sign-in")).text()
        token = TOKEN.search(page).group(1)
        response = await http.post("/sign-in", data={"email": email, "password": PASSWORD,
                                                     "csrf_token": token},
                                   allow_redirects=False)
        response.release()
        assert response.status == 302, (email, response.status)
        page = await (await http.get(f"/learn/{enrolment_id}/assessment")).text()
        token = TOKEN.search(page).group(1)
        response = await http.post(f"/learn/{enrolment_id}/assessment/start",
                                   data={"csrf_token": token}, allow_redirects=False)
        response.release()
        location = response.headers.get("Location", "")
        match = re.search(r"/attempts/(\d+)/", location)
        assert match, (email, response.status, location)
        attempt_id = int(match.group(1))
        results["started"].append(time.perf_counter())
        saved: dict[int, int] = {}
        await asyncio.sleep(random.uniform(0, INTERVAL))
        for position in range(ITEMS):
            choice = random.randrange(4)
            began = time.perf_counter()
            try:
                response = await http.post(
                    f"/learn/{enrolment_id}/attempts/{attempt_id}/answers/{position}",
                    data={"csrf_token": token, "answer": str(choice)})
                status = response.status
                await response.read()
            except aiohttp.ClientError:
                status = None
            results["autosave"].append(time.perf_counter() - began)
            results["done"].append(time.perf_counter())
            if status == 200:
                saved[position] = choice
            else:
                results["errors"] += 1
            await asyncio.sleep(INTERVAL)
        began = time.perf_counter()
        response = await http.post(f"/learn/{enrolment_id}/attempts/{attempt_id}/review",
                                   data={"csrf_token": token}, allow_redirects=False)
        response.release()
        results["submit"].append(time.perf_counter() - began)
        results["submitted"].append(began)
        if response.status != 302:
            results["errors"] += 1
        results["saved"][attempt_id] = saved


async def run_all(base: str, tutors: list[tuple[str, int]]) -> dict:
    results = {"autosave": [], "submit": [], "errors": 0, "saved": {}, "started": [],
               "done": [], "submitted": []}
    await asyncio.gather(*(tutor_session(base, email, eid, results) for email, eid in tutors))
    return results


def lost_answers(saved: dict[int, dict[int, int]]) -> tuple[int, int]:
    """Answers the server confirmed that the database does not hold, and attempts not
    submitted."""
    from sqlalchemy import create_engine, text

    engine = create_engine(DATABASE_URL)
    lost = 0
    unsubmitted = 0
    with engine.connect() as conn:
        for attempt_id, answers in saved.items():
            rows = dict(conn.execute(text(
                "SELECT position, selected FROM attempt_items WHERE attempt_id = :a"),
                {"a": attempt_id}).all())
            lost += sum(1 for position, choice in answers.items()
                        if rows.get(position) != [choice])
            status = conn.execute(text("SELECT status FROM attempts WHERE id = :a"),
                                  {"a": attempt_id}).scalar()
            unsubmitted += status != "submitted"
    engine.dispose()
    return lost, unsubmitted


def audit_after_run(wait: float = 20.0) -> tuple[int, bool]:
    """Entries still unsealed once the beat has had time to run, and whether the chain holds."""
    from lms import create_app
    from lms.audit import services as audit

    app = create_app({"LMS_ENV": "testing", "SECRET_KEY": SECRET_KEY,
                      "ENCRYPTION_KEY": ENCRYPTION_KEY, "SQLALCHEMY_DATABASE_URI": DATABASE_URL})
    with app.app_context():
        deadline = time.monotonic() + wait
        while True:
            report = audit.verify_chain()
            if report.awaiting_seal == 0 or time.monotonic() > deadline:
                break
            audit.db.session.rollback()
            time.sleep(1)
        audit.db.engine.dispose()
    return report.awaiting_seal, report.ok


def steady_throughput(results: dict) -> tuple[float, float]:
    """Autosaves answered per second between the last start and the first submit, when every
    tutor is answering: the rate the server sustains against the load offered."""
    begin, end = max(results["started"]), min(results["submitted"])
    served = sum(1 for t in results["done"] if begin <= t <= end)
    return served / max(end - begin, 1e-9), end - begin


def main() -> None:
    began = time.perf_counter()
    tutors = prepare()
    print(f"prepared {len(tutors)} tutors in {time.perf_counter() - began:.1f} s")
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        empty_redis()
        began = time.perf_counter()
        # Both start at once; the worker is usually ready before gunicorn's last process.
        worker = start_worker(Path(tmp), wait=False)
        try:
            server = start_server(port, Path(tmp) / "gunicorn.log")
        except BaseException:
            worker.kill()
            raise
        wait_for_worker(Path(tmp))
        print(f"gunicorn and the worker ready in {time.perf_counter() - began:.1f} s")
        try:
            began = time.perf_counter()
            results = asyncio.run(run_all(f"http://127.0.0.1:{port}", tutors))
            elapsed = time.perf_counter() - began
            unsealed, chain_ok = audit_after_run()
        finally:
            for process in (server, worker):
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
    lost, unsubmitted = lost_answers(results["saved"])
    rate, window = steady_throughput(results)
    offered = len(tutors) / INTERVAL
    print(f"{len(tutors)} tutors, {ITEMS} answers each every {INTERVAL:g} s, {elapsed:.1f} s; "
          f"every attempt started {max(results['started']) - began:.1f} s after the first "
          f"sign-in; {results['errors']} refused requests; {unsubmitted} attempts not "
          f"submitted; steady state (all answering) {window:.0f} s")
    print(f"bench: assessment_load_tutors = {len(tutors)} tutors (target >= 300)")
    print(f"bench: assessment_load_throughput = {rate:.0f} requests/s "
          f"(target >= {0.9 * offered:.0f})")
    print(f"bench: autosave_p50 = {1000 * statistics.median(results['autosave']):.0f} ms "
          f"(target <= 200)")
    print(f"bench: autosave_p95 = {1000 * percentile(results['autosave'], 0.95):.0f} ms "
          f"(target <= 200)")
    print(f"bench: submit_p50 = {1000 * statistics.median(results['submit']):.0f} ms "
          f"(target <= 500)")
    print(f"bench: submit_p95 = {1000 * percentile(results['submit'], 0.95):.0f} ms "
          f"(target <= 500)")
    print(f"bench: answers_lost = {lost} answers (target == 0)")
    print(f"bench: audit_entries_unsealed = {unsealed} entries (target == 0)")
    print(f"bench: audit_chain_breaks = {0 if chain_ok else 1} breaks (target == 0)")


if __name__ == "__main__":
    main()
