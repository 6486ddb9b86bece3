"""Endorsement figures: signing and issuing rates, offline verification rate, and how the
signed-credential endpoint keeps up with a trivial one under gunicorn.

Run: ``python -m bench.credentials``. Signing, issuing and verifying run in this process on one
core (CPU time); the endpoint comparison runs gunicorn on PostgreSQL (database ``bench``) and
alternates the two endpoints in short rounds within one run, so a noisy machine affects both.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from bench.common import DATABASE_URL, ENCRYPTION_KEY, SECRET_KEY, bench_app, ensure_database

ROOT = Path(__file__).resolve().parents[1]
SIGNINGS = int(os.environ.get("BENCH_SIGNINGS", 200))
ISSUES = int(os.environ.get("BENCH_ISSUES", 100))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", 32))
ROUND_SECONDS = float(os.environ.get("BENCH_ROUND_SECONDS", 3))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 4))


def _per_second(count: int, work) -> float:
    began = time.process_time()
    for index in range(count):
        work(index)
    return count / (time.process_time() - began)


def signing_figures() -> tuple[float, float]:
    """Credentials signed per second (canonicalisation, hashing and Ed25519), and the raw
    Ed25519 rate beside it."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from credentials.endorsements.proofs import sign
    from credentials.endorsements.services import build_credential
    from lms.platform import clock
    from lms.programme.models import Pathway, TutoringPhase

    key = Ed25519PrivateKey.generate()
    now = clock.now()
    with bench_app("sqlite://").test_request_context():
        documents = [build_credential(
            public_id=f"bench{i:06d}", tutor=SimpleNamespace(name=f"Tutor {i}",
                                                             email=f"t{i}@school.example"),
            pathway=Pathway.PRIMARY, phase=TutoringPhase.PRIMARY, course_version="0123abcd",
            passed_at=now, valid_from=now, valid_until=now,
            status_list_url="https://tutors.example.org/status/abc", status_index=i,
            salt=f"{i:032x}") for i in range(SIGNINGS)]
        sign(documents[0], private_key=key, verification_method="did:web:x#k",
             created="2026-01-01T00:00:00Z")  # warm the context caches
        rate = _per_second(SIGNINGS, lambda i: sign(
            documents[i], private_key=key, verification_method="did:web:x#k",
            created="2026-01-01T00:00:00Z"))
    raw = _per_second(20_000, lambda i: key.sign(b"%064d" % i))
    return rate, raw


def issue_and_verify_figures(tmp: Path) -> tuple[float, float]:
    """Endorsements issued per second through the real service (SQLite), and credentials
    verified offline per second (proof, dates, status list) with the DID document and status
    list given, as the offline command verifies them."""
    import json

    from flask_migrate import upgrade
    from sqlalchemy import select

    from credentials.endorsements import keys, status
    from credentials.endorsements.models import StatusList
    from credentials.endorsements.services import issue_endorsement
    from credentials.endorsements.verify import (
        StaticResolver,
        keys_from_did_document,
        verify_credential,
    )
    from lms.platform.extensions import db
    from lms.programme.models import EnrolmentStatus
    from tests.factories import make_enrolment, make_school

    app = bench_app(f"sqlite:///{tmp / 'issue.sqlite3'}")
    with app.app_context():
        upgrade()
        school = make_school()
        enrolments = []
        for _ in range(ISSUES + 1):
            enrolment = make_enrolment(school)
            enrolment.course_version = "0123abcd"
            enrolment.move_to(EnrolmentStatus.PASSED, "Passed the assessment.")
            enrolments.append(enrolment)
        db.session.commit()
        issue_endorsement(enrolments[-1])  # the key and the first status list
        db.session.commit()
        issued = []
        rate = _per_second(ISSUES, lambda i: issued.append(issue_endorsement(enrolments[i])))
        db.session.commit()
        resolver = StaticResolver(
            keys_from_did_document(keys.did_document()),
            {status.list_url(item): json.loads(item.credential)
             for item in db.session.scalars(select(StatusList))})
        texts = [e.credential for e in issued]
        verdicts = []
        verify_rate = _per_second(len(texts), lambda i: verdicts.append(
            verify_credential(texts[i], resolver)))
        assert all(v.valid for v in verdicts), [v.reason for v in verdicts if not v.valid][:3]
    return rate, verify_rate


# --- the endpoint against a trivial one, under gunicorn -----------------------------------


def _seed_postgres() -> list[str]:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from credentials.endorsements.services import issue_endorsement
    from lms.platform.extensions import db
    from lms.programme.models import EnrolmentStatus
    from tests.factories import make_enrolment, make_school

    ensure_database()
    app = bench_app(DATABASE_URL)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        school = make_school()
        ids = []
        for _ in range(50):
            enrolment = make_enrolment(school)
            enrolment.course_version = "0123abcd"
            enrolment.move_to(EnrolmentStatus.PASSED, "Passed the assessment.")
            ids.append(issue_endorsement(enrolment).public_id)
        db.session.commit()
        db.engine.dispose()
    return ids


def _serve(port: int, log: Path) -> subprocess.Popen:
    import urllib.request

    env = {**os.environ, "LMS_ENV": "development", "SECRET_KEY": SECRET_KEY,
           "ENCRYPTION_KEY": ENCRYPTION_KEY, "DATABASE_URL": DATABASE_URL,
           "BASE_URL": "https://tutors.example.org", "LOG_LEVEL": "WARNING",
           # Every request comes from this one address: the per-address limit would stop the
           # comparison after its first second.
           "VERIFICATION_REQUESTS_PER_MINUTE": str(10**9)}
    for name in ("CELERY_BROKER_URL", "REDIS_URL"):
        env.pop(name, None)
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", "8",
             "--keep-alive", "30", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
             "lms.wsgi:app"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.monotonic() + 60
    answered = 0
    while time.monotonic() < deadline and answered < 20:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                answered += 1
        except OSError:
            time.sleep(0.2)
    if answered < 20:
        process.kill()
        raise RuntimeError(f"gunicorn did not start:\n{log.read_text()[-2000:]}")
    return process


async def _round(base: str, paths: list[str], seconds: float) -> float:
    """Requests per second that CONCURRENCY clients get through in ``seconds``."""
    import aiohttp

    done = 0
    stop = time.perf_counter() + seconds

    async def client(offset: int) -> None:
        nonlocal done
        async with aiohttp.ClientSession(base_url=base) as http:
            n = offset
            while time.perf_counter() < stop:
                async with http.get(paths[n % len(paths)]) as response:
                    await response.read()
                    assert response.status == 200, response.status
                done += 1
                n += 1

    began = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(CONCURRENCY)))
    return done / (time.perf_counter() - began)


def endpoint_ratio(ids: list[str]) -> tuple[float, float, float]:
    from bench.common import free_port

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = _serve(port, Path(tmp) / "gunicorn.log")
        try:
            base = f"http://127.0.0.1:{port}"
            credential = [f"/credentials/{i}.json" for i in ids]
            trivial = ["/healthz"]
            asyncio.run(_round(base, credential, 1))  # warm both
            asyncio.run(_round(base, trivial, 1))
            json_rates, trivial_rates = [], []
            for _ in range(ROUNDS):
                json_rates.append(asyncio.run(_round(base, credential, ROUND_SECONDS)))
                trivial_rates.append(asyncio.run(_round(base, trivial, ROUND_SECONDS)))
        finally:
            server.terminate()
            server.wait(timeout=30)
    json_rate, trivial_rate = statistics.median(json_rates), statistics.median(trivial_rates)
    return json_rate, trivial_rate, json_rate / trivial_rate


def main() -> None:
    sys.path.insert(0, str(ROOT))
    rate, raw = signing_figures()
    with tempfile.TemporaryDirectory() as tmp:
        issue_rate, verify_rate = issue_and_verify_figures(Path(tmp))
    json_rate, trivial_rate, ratio = endpoint_ratio(_seed_postgres())
    print(f"raw Ed25519 signatures: {raw:,.0f}/s; GET /credentials/<id>.json {json_rate:.0f} "
          f"requests/s, GET /healthz {trivial_rate:.0f} requests/s ({CONCURRENCY} clients)")
    print(f"bench: credential_signing_rate = {rate:.0f} credentials/s (target >= 100)")
    print(f"bench: ed25519_raw_signing_rate = {raw:.0f} signatures/s (target >= 1000)")
    print(f"bench: endorsement_issue_rate = {issue_rate:.0f} endorsements/s (target >= 50)")
    print(f"bench: offline_verification_rate = {verify_rate:.0f} credentials/s (target >= 50)")
    print(f"bench: verify_json_vs_trivial = {ratio:.2f} ratio (target >= 0.6)")


if __name__ == "__main__":
    main()
