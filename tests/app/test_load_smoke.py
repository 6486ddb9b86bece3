"""The assessment load benchmark, run small on every PostgreSQL pass of the suite (so in CI).

``python -m bench.assessment_load`` starts the production profile (gunicorn on PostgreSQL,
Redis as broker and counter store, a Celery worker with its beat), has tutors sign in, answer
through the autosave endpoint and submit, then looks every confirmed answer up in the database
and verifies the audit chain. Here it runs with 20 tutors answering 5 questions each, on a
database and a Redis server of its own (never ``bench`` or the suite's), and must lose nothing.
Its figures are printed (``pytest -rA`` shows them); only the full run measures against the
targets.
"""

from __future__ import annotations

import importlib
import os
import re
import signal
import subprocess
import sys

import pytest

from tests.conftest import need_service
from tests.services import (
    NOT_INHERITED,
    ROOT,
    RedisServer,
    check_postgresql,
    check_redis_server_installed,
    postgresql_server_url,
    throwaway_database,
)

SMOKE = {"BENCH_TUTORS": "20", "BENCH_ITEMS": "5", "BENCH_INTERVAL": "0.5",
         "BENCH_WEB_WORKERS": "2", "BENCH_WEB_THREADS": "8"}
FIGURE = re.compile(r"^bench: (\S+) = ([-\d.]+) ")
TIMEOUT_SECONDS = 150


@pytest.mark.load_smoke
def test_the_assessment_load_benchmark_runs_small_and_loses_no_answer(tmp_path):
    server_url = postgresql_server_url()
    need_service("PostgreSQL", lambda: check_postgresql(server_url))
    need_service("redis-server", check_redis_server_installed)
    need_service("aiohttp (the bench extra: pip install -e '.[bench]')",
                 lambda: importlib.import_module("aiohttp"))
    redis = RedisServer(tmp_path)
    try:
        redis.start()
        with throwaway_database(server_url, "loadsmoke") as database_url:
            env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
            env.update(SMOKE, BENCH_DATABASE_URL=database_url, BENCH_REDIS_URL=redis.url())
            output, code = _run(env)
    finally:
        redis.stop()

    print("\n" + "\n".join(line for line in output.splitlines()
                           if line.startswith(("bench:", "prepared", "gunicorn and",
                                               f"{SMOKE['BENCH_TUTORS']} tutors"))))
    assert code == 0, output[-4000:]
    figures = {m.group(1): float(m.group(2)) for m in map(FIGURE.match, output.splitlines())
               if m}
    assert figures.get("assessment_load_tutors") == int(SMOKE["BENCH_TUTORS"]), output[-4000:]
    assert figures["answers_lost"] == 0
    assert figures["audit_entries_unsealed"] == 0
    assert figures["audit_chain_breaks"] == 0
    assert "bench: answers_lost = 0 answers" in output
    assert " 0 refused requests; 0 attempts not submitted;" in output


def _run(env: dict[str, str]) -> tuple[str, int]:
    """The benchmark in a process group of its own: its gunicorn and worker go with it if it
    has to be stopped."""
    process = subprocess.Popen([sys.executable, "-m", "bench.assessment_load"], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"the benchmark took more than {TIMEOUT_SECONDS} s:\n{output[-4000:]}")
    finally:
        try:  # anything it left behind (it stops its servers itself when all is well)
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return output, process.returncode
