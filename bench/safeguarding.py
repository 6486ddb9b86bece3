"""Raising a safeguarding concern under load, on PostgreSQL: 300 tutors of one trust signed in
at once send a concern within ten seconds, and each must reach the school's DSL (the alert
email in the outbox, the in-app alerts) within a second.

Run: ``python -m bench.safeguarding`` (database ``bench_safeguarding``, rebuilt;
``BENCH_SAFEGUARDING_DATABASE_URL`` names it; ``BENCH_SCHOOLS`` schools, default 30, of
``BENCH_SCHOOL_TUTORS`` tutors each, default 10; each concern sent at a random moment within
``BENCH_SPREAD`` seconds, default 10, as in the tutoring benchmark; with ``BENCH_SPREAD=0``
the concerns are sent in ``BENCH_WAVES`` waves, default 2, every tutor of a wave at the same
moment, the worst case; gunicorn with ``BENCH_WEB_WORKERS`` workers of
``BENCH_WEB_THREADS`` threads, default 4 and 8; Redis at ``BENCH_REDIS_URL``, database 13,
emptied first).

1. The trust: every school with a DSL, a deputy DSL, a school leader and its tutors, each
   tutor with a group of three pupils whose session today is logged; the trust with its
   safeguarding lead and central team. Built through the services, but for the register:
   each tutor's entry is set approved directly (its derivation is not what this measures).
2. A real gunicorn server: every tutor (aiohttp) signs in and opens the concern form from
   today's session, all of them before anyone sends; then each sends at a random moment
   within the spread (or, with no spread, the tutors split into waves, every tutor of a wave
   posting at the same moment and the next wave starting once the last has been answered).
3. The alert is written in the concern's transaction, so the response to the post bounds the
   time until the DSL's email is in the outbox (or queued for delivery): that time is the
   figure. Afterwards every concern is looked up: it must be there, told, with an alert for
   the DSL and for the deputy and the DSL's email naming it. A tutor refused anywhere on the
   way, or whose concern is short of any of those, is an error.
4. In-process, a concern from each of two tutors (the first warms the process): the second's
   SQL statements, and its time with nobody else waiting.

Sign-in is throttled only after failures, per address and per account: the tutors all sign in
from this one address, so Redis is emptied first (no earlier run's failures count) and every
password is right; it is hashed cheaply (Argon2id all the same), so that signing 300 tutors in
measures the app, not the hash.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.common import (
    DATABASE_URL,
    PASSWORD,
    TOKEN,
    Statements,
    bench_app,
    empty_redis,
    ensure_database,
    free_port,
    fresh_schema,
    percentile,
    signed_in_client,
    start_server,
)

URL = os.environ.get("BENCH_SAFEGUARDING_DATABASE_URL", DATABASE_URL + "_safeguarding")
SCHOOLS = int(os.environ.get("BENCH_SCHOOLS", 30))
SCHOOL_TUTORS = int(os.environ.get("BENCH_SCHOOL_TUTORS", 10))
SPREAD = float(os.environ.get("BENCH_SPREAD", 10))
WAVES = 1 if SPREAD else max(1, int(os.environ.get("BENCH_WAVES", 2)))
PUPILS = 3
TARGET_SECONDS = 1
RECEIPT = re.compile(r"/safeguarding/concerns/(\d+)/receipt$")
ACCOUNT = ("During today's session {pupil} said that nobody had been home since Friday and "
           "that they had not eaten breakfast. They asked me not to tell anyone.")


def prepare() -> tuple[list[dict], dict[int, dict]]:
    """A fresh schema holding the trust; the tutors (email, school, group, pupil, the form's
    path) and each school's DSL and deputy (``{school id: {"dsl": (id, email), "deputy":
    (id, email)}}``)."""
    from datetime import time as clock_time
    from datetime import timedelta

    from argon2 import PasswordHasher
    from flask import url_for
    from sqlalchemy import text

    from credentials.register.models import RegisterEntry, RegisterStatus
    from lms.accounts import services as accounts
    from lms.organisations import people
    from lms.organisations import services as organisations
    from lms.platform import clock
    from lms.platform.extensions import db
    from lms.platform.roles import Role
    from lms.tutoring import groups, pupils, sessions
    from lms.tutoring.programmes import ProgrammeTerms, create_programme

    ensure_database(URL)
    app = bench_app(URL, SERVER_NAME="bench.local")
    today = clock.today()
    # Signing 300 tutors in measures the app, not Argon2: a cheap hash of the same kind.
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    tutors, staff = [], {}
    with app.app_context():
        fresh_schema()
        now = clock.now()

        def person(email: str, name: str, role: Role, **scope):
            user = accounts.create_user(email, name, actor=None)
            user.password_hash, user.email_verified_at = cheap, now
            people.grant_membership(user, role, actor=None, **scope)
            return user

        trust = organisations.create_trust("Bench safeguarding trust", actor=None)
        person("lead@safeguarding.example", "Trust Safeguarding Lead",
               Role.TRUST_SAFEGUARDING_LEAD, trust=trust)
        person("central@safeguarding.example", "Central Team", Role.CENTRAL_TEAM, trust=trust)
        programme = create_programme(trust, ProgrammeTerms(
            name="Bench maths", subject="maths", delivery_model="small_group",
            rate_pence=3000))
        starts_on = today - timedelta(days=28)
        for s in range(SCHOOLS):
            school = organisations.add_school(
                trust, urn=f"{700000 + s:06d}", name=f"Bench school {s:02d}", phase="primary",
                local_authority="Leeds", postcode="LS1 4AP", actor=None)
            dsl = person(f"dsl{s}@safeguarding.example", f"DSL {s}", Role.DSL, school=school)
            deputy = person(f"deputy{s}@safeguarding.example", f"Deputy {s}",
                            Role.DEPUTY_DSL, school=school)
            person(f"head{s}@safeguarding.example", f"Head {s}", Role.SCHOOL_LEADER,
                   school=school)
            staff[school.id] = {"dsl": (dsl.id, dsl.email), "deputy": (deputy.id, deputy.email)}
            for t in range(SCHOOL_TUTORS):
                tutor = person(f"tutor{s}-{t}@safeguarding.example", f"Tutor {s}-{t}",
                               Role.TUTOR, school=school)
                db.session.add(RegisterEntry(trust_id=trust.id, user_id=tutor.id,
                                             status=RegisterStatus.APPROVED, reasons=[],
                                             schools=[school]))
                db.session.flush()
                placed = [pupils.add_pupil(school, pupils.details_from(
                    display_name=f"Pupil {s}-{t}-{p}", reference=f"ADM{t:02d}{p}",
                    year_group=5)) for p in range(PUPILS)]
                group = groups.create_group(
                    school, programme=programme, tutor=tutor, name=f"Maths group {t}",
                    weekday=today.weekday(), starts_at=clock_time(9, 0), starts_on=starts_on,
                    pupils=placed)
                for place in group.places:
                    place.joined_on = starts_on
                db.session.flush()
                sessions.log_session(group, sessions.SessionLog(
                    held_on=today, status="delivered", marks={
                        p.id: sessions.PupilMark("present", engagement=4) for p in placed}),
                    actor=tutor)
                tutors.append({"email": tutor.email, "id": tutor.id, "school_id": school.id,
                               "group_id": group.id, "pupil_id": placed[0].id,
                               "pupil": placed[0].display_name})
            db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        with app.test_request_context():
            for tutor in tutors:
                tutor["path"] = url_for(
                    "safeguarding.raise_concern", group_id=tutor["group_id"],
                    day=today.isoformat()).removeprefix("http://bench.local")
        db.session.remove()
        db.engine.dispose()
    return tutors, staff


def _form(tutor: dict, token: str, day: str) -> dict:
    return {"csrf_token": token, "danger_seen": "", "group_id": str(tutor["group_id"]),
            "day": day, "kind": "about_child", "school_id": str(tutor["school_id"]),
            "account": ACCOUNT.format(pupil=tutor["pupil"]), "when": "Today, during the session",
            "pupil_id": str(tutor["pupil_id"]), "category": "neglect", "subject_id": "",
            "subject_name": "", "action": "send"}


async def sign_in(http, tutor: dict) -> str | None:
    """Sign in and open the concern form from today's session; its token, or None."""
    page = await (await http.get("/sign-in")).text()
    response = await http.post("/sign-in", data={
        "email": tutor["email"], "password": PASSWORD,
        "csrf_token": TOKEN.search(page).group(1)}, allow_redirects=False)
    response.release()
    if response.status != 302:
        return None
    response = await http.get(tutor["path"])
    page = await response.text()
    match = TOKEN.search(page)
    return match.group(1) if response.status == 200 and match else None


async def tutor_raises(base: str, tutor: dict, wave: int, gates: list[asyncio.Event],
                       ready: asyncio.Barrier, answered: list[asyncio.Barrier],
                       results: dict) -> None:
    """Sign in and open the form (every tutor before anyone sends), wait for this tutor's
    wave, send the concern, and wait for the rest of the wave to be answered."""
    import aiohttp

    from lms.platform import clock

    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url=base, cookie_jar=jar) as http:
        try:
            token = await sign_in(http, tutor)
        except Exception:  # refused on the way in, however: counted as an error
            token = None
        finally:
            await ready.wait()
        await gates[wave].wait()
        await asyncio.sleep(tutor.get("delay", 0.0))
        status, location = None, ""
        try:
            if token is not None:
                began = time.perf_counter()
                response = await http.post(tutor["path"],
                                           data=_form(tutor, token, clock.today().isoformat()),
                                           allow_redirects=False)
                await response.read()
                elapsed = time.perf_counter() - began
                status, location = response.status, response.headers.get("Location", "")
                results["times"].append(elapsed)
        except Exception:  # no answer: counted as an error
            status = None
        finally:
            await answered[wave].wait()
        match = RECEIPT.search(location.split("?")[0]) if status == 302 else None
        if match:
            results["concerns"][tutor["id"]] = int(match.group(1))
        else:
            results["refused"].append((tutor["email"], status if token else "sign-in"))


async def run_all(base: str, tutors: list[dict]) -> dict:
    import random

    results = {"times": [], "concerns": {}, "refused": [], "waves": []}
    moments = random.Random(18)
    for tutor in tutors:
        tutor["delay"] = moments.uniform(0, SPREAD) if SPREAD else 0.0
    waves = [tutors[n::WAVES] for n in range(WAVES)]
    gates = [asyncio.Event() for _ in waves]
    ready = asyncio.Barrier(len(tutors) + 1)
    answered = [asyncio.Barrier(len(wave) + 1) for wave in waves]
    began = time.perf_counter()
    tasks = [asyncio.create_task(tutor_raises(base, tutor, n, gates, ready, answered, results))
             for n, wave in enumerate(waves) for tutor in wave]
    await ready.wait()
    results["signed_in"] = time.perf_counter() - began
    for n in range(len(waves)):
        began = time.perf_counter()
        gates[n].set()
        await answered[n].wait()
        results["waves"].append((len(waves[n]), time.perf_counter() - began))
    await asyncio.gather(*tasks)
    return results


def undelivered(tutors: list[dict], staff: dict[int, dict], concerns: dict[int, int]) -> int:
    """Concerns answered as sent that are not in the database whole: the concern, told, its
    session marked stopped for safeguarding, the DSL's and the deputy's alerts and the DSL's
    email naming it."""
    from sqlalchemy import create_engine, text

    engine = create_engine(URL)
    with engine.connect() as conn:
        raised = {row.id: row for row in conn.execute(text(
            "SELECT c.id, c.reporter_id, c.told_at, s.stopped_for_safeguarding_at AS stopped "
            "FROM safeguarding_concerns c LEFT JOIN tutoring_sessions s "
            "ON s.id = c.session_id"))}
        alerts = set(conn.execute(text(
            "SELECT concern_id, user_id FROM safeguarding_alerts WHERE level = 0")).all())
        emails = set()
        for to, body in conn.execute(text(
                "SELECT to_address, body_text FROM outbox_emails "
                "WHERE template = 'safeguarding_alert'")):
            emails.update((to, int(n)) for n in re.findall(r"/safeguarding/concerns/(\d+)\b",
                                                           body))
    engine.dispose()
    missing = 0
    for tutor in tutors:
        concern_id = concerns.get(tutor["id"])
        if concern_id is None:
            continue  # refused: counted already
        row = raised.get(concern_id)
        people = staff[tutor["school_id"]]
        missing += (row is None or row.reporter_id != tutor["id"] or row.told_at is None
                    or row.stopped is None
                    or (concern_id, people["dsl"][0]) not in alerts
                    or (concern_id, people["deputy"][0]) not in alerts
                    or (people["dsl"][1], concern_id) not in emails)
    return missing


def statements_per_raise(tutors: list[dict]) -> tuple[int, int, float]:
    """A concern from each of two tutors, in-process (the first warms the process): the
    second's SQL statements in its transaction and in the whole request, and its time.

    Without a broker the app seals the audit log in the request, after the commit; the
    server leaves that to the beat, so the transaction's count is the one it runs."""
    from sqlalchemy import event

    from lms.platform import clock
    from lms.platform.extensions import db

    app = bench_app(URL)
    counter = Statements(app)
    commits: list[int] = []
    with app.app_context():
        event.listen(db.engine, "commit", lambda conn: commits.append(counter.count))
    for tutor in tutors[:2]:
        client = signed_in_client(app, tutor["id"])
        page = client.get(tutor["path"])
        assert page.status_code == 200, page.status_code
        token = TOKEN.search(page.get_data(as_text=True)).group(1)
        counter.count = 0
        commits.clear()
        began = time.perf_counter()
        response = client.post(tutor["path"],
                               data=_form(tutor, token, clock.today().isoformat()))
        elapsed = time.perf_counter() - began
        assert response.status_code == 302, response.status_code
    with app.app_context():
        db.engine.dispose()
    return commits[0], counter.count, elapsed


def main() -> None:
    began = time.perf_counter()
    tutors, staff = prepare()
    print(f"{len(staff)} schools, {len(tutors)} tutors with today's session logged, in one "
          f"trust; made in {time.perf_counter() - began:.0f} s ({URL.rsplit('@', 1)[-1]})")
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        empty_redis()
        server = start_server(port, Path(tmp) / "gunicorn.log", URL)
        try:
            began = time.perf_counter()
            results = asyncio.run(run_all(f"http://127.0.0.1:{port}", tutors))
            elapsed = time.perf_counter() - began
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    missing = undelivered(tutors, staff, results["concerns"])
    times = results["times"] or [0.0]
    waves = ", ".join(f"{n} in {t:.1f} s ({n / t:.0f} a second)" for n, t in results["waves"])
    how = (f"each concern sent at a moment within {SPREAD:g} s" if SPREAD else
           f"the concerns sent in {WAVES} waves, every tutor of a wave at once")
    print(f"{len(tutors)} tutors signed in with the form open in {results['signed_in']:.1f} s; "
          f"{how}: answered {waves}; "
          f"{elapsed:.1f} s in all; {len(results['concerns'])} raised, "
          f"{len(results['refused'])} refused, {missing} short of an alert")
    for email, status in results["refused"][:5]:
        print(f"  refused: {email} ({status})")
    print(f"raise to the DSL's alert in the outbox: p50 {statistics.median(times):.2f} s, "
          f"p95 {percentile(times, 0.95):.2f} s, max {max(times):.2f} s")
    in_transaction, in_request, alone = statements_per_raise(tutors)
    print(f"one concern raised alone, in-process (nobody waiting): {in_transaction} SQL "
          f"statements in its transaction ({in_request} in the whole request, the audit seal the "
          f"server leaves to its beat among them), {1000 * alone:.0f} ms")
    print(f"bench: safeguarding_raise_to_alert_p95 = {percentile(times, 0.95):.2f} s "
          f"(target <= {TARGET_SECONDS})")
    print(f"bench: safeguarding_raise_errors = {len(results['refused']) + missing} count "
          f"(target == 0)")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
