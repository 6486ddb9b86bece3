"""Import nominations CSVs through the import job and report speed and memory.

Run: ``python -m bench.nomination_import`` (SQLite in a temporary directory, or the database in
``BENCH_DATABASE_URL``). Time is measured without tracing; memory is traced in separate runs of
500 and 2,500 rows to show that it grows only with the rows kept, not faster.
"""

from __future__ import annotations

import os
import tempfile
import time
import tracemalloc

from flask_migrate import upgrade
from sqlalchemy import text

from lms import create_app
from lms.platform.extensions import db

TARGET_SECONDS = 20.0
_urn = iter(range(700000, 799999))


def make_csv(rows: int, start: int = 0) -> str:
    lines = ["name,email,role_in_school,holds_qts,trn,tutoring_phase,subject_focus"]
    for i in range(start, start + rows):
        qts = i % 4 == 0
        lines.append(
            f"Candidate {i},candidate{i}@bench.example,"
            f"{'teacher' if qts else 'teaching assistant'},{'yes' if qts else 'no'},"
            f"{1000000 + i if qts else ''},{'primary' if i % 2 else 'secondary'},Maths"
        )
    return "\n".join(lines) + "\n"


def run_once(app, rows: int, start: int, *, trace: bool = False) -> tuple[float, float]:
    """Import ``rows`` rows as the background job does; return (seconds, peak MiB traced)."""
    from lms.organisations import services
    from lms.programme.imports import run_import
    from lms.programme.models import NominationImport

    with app.app_context():
        trust = services.create_trust(f"Bench trust {start}", actor=None)
        school = services.add_school(trust, urn=f"{next(_urn):06d}", name=f"School {start}",
                                     phase="primary", local_authority="Leeds",
                                     postcode="LS1 4AP", actor=None)
        record = NominationImport(school=school, filename="bench.csv",
                                  content=make_csv(rows, start))
        db.session.add(record)
        db.session.commit()
        if trace:
            tracemalloc.start()
        began = time.perf_counter()
        run_import(record, on_progress=lambda _: db.session.commit())
        db.session.commit()
        elapsed = time.perf_counter() - began
        peak = 0.0
        if trace:
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        assert record.imported_rows == rows, (record.status, record.row_errors[:3])
        return elapsed, peak


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({
            "LMS_ENV": "testing",
            "SECRET_KEY": "bench-secret-key-0123456789abcdefghijklmnop",
            "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{tmp}/bench.sqlite3",
        })
        with app.app_context():
            if url:
                with db.engine.begin() as conn:
                    conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            upgrade()
        seconds, _ = run_once(app, 5000, 0)
        _, small_peak = run_once(app, 500, 100_000, trace=True)
        _, big_peak = run_once(app, 2500, 200_000, trace=True)
    engine = "postgresql" if url else "sqlite"
    per_row_small = small_peak * 1024 / 500
    per_row_big = big_peak * 1024 / 2500
    print(f"nomination import on {engine}: 5,000 rows in {seconds:.1f} s; traced peak "
          f"{small_peak:.1f} MiB for 500 rows, {big_peak:.1f} MiB for 2,500 rows")
    print(f"bench: nomination_import_5000_rows = {seconds:.2f} s (target <= {TARGET_SECONDS:g})")
    print(f"bench: nomination_import_rate = {5000 / seconds:.0f} rows/s (target >= 250)")
    print(f"bench: nomination_import_memory_growth = {per_row_big / per_row_small:.2f} ratio "
          f"(target <= 1.5)")
    print(f"    peak memory per row kept: {per_row_small:.2f} KiB at 500 rows, "
          f"{per_row_big:.2f} KiB at 2,500 rows")


if __name__ == "__main__":
    main()
