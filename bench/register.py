"""Register figures on PostgreSQL: deriving the status of 100,000 register entries at once,
and exporting a 20,000-entry register as CSV and as XLSX.

Run: ``python -m bench.register`` (database ``bench``, rebuilt; ``BENCH_DATABASE_URL`` to
change it). Five trusts of 20,000 endorsed tutors each are generated with every entry pending,
as if all their facts had just been recorded; then the whole register is derived (the worst
case: every entry changes, each change audited), derived again (the nightly sweep when nothing
lapsed), and the largest trust's register is exported.
"""

from __future__ import annotations

import io
import os
import sys
import time

from bench.common import DATABASE_URL, bench_app, ensure_database, fresh_schema

ENTRIES = int(os.environ.get("BENCH_REGISTER_ENTRIES", 100_000))
TRUSTS = 5


def main() -> None:
    from sqlalchemy import func, select, text

    from credentials.register.derivation import refresh_register
    from credentials.register.exports import register_csv, register_xlsx
    from credentials.register.models import RegisterEntry
    from lms.insight.synthetic import Scale, generate
    from lms.organisations.models import Trust
    from lms.platform.extensions import db

    ensure_database()
    app = bench_app()
    with app.app_context():
        fresh_schema()
        began = time.monotonic()
        generate(Scale(TRUSTS, 500, ENTRIES), stage_weights={"endorsed": 1},
                 trust_weights=[1] * TRUSTS, course_detail=False, derive_register=False)
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        entries = db.session.scalar(select(func.count()).select_from(RegisterEntry))
        print(f"generated {entries:,} register entries in {time.monotonic() - began:.0f} s "
              f"({DATABASE_URL.rsplit('@', 1)[-1]})")

        began = time.perf_counter()
        changes = refresh_register(notify=False)
        db.session.commit()
        derive_all = time.perf_counter() - began
        began = time.perf_counter()
        unchanged = refresh_register(notify=False)
        db.session.commit()
        derive_again = time.perf_counter() - began
        counts = dict(db.session.execute(select(RegisterEntry.status, func.count())
                                         .group_by(RegisterEntry.status)).all())
        print(f"derived {entries:,} entries: {len(changes):,} changed in {derive_all:.2f} s; "
              f"again with {len(unchanged)} changed in {derive_again:.2f} s; "
              + ", ".join(f"{k.value} {v:,}" for k, v in sorted(counts.items())))

        db.session.expunge_all()
        trust = db.session.scalars(select(Trust).order_by(Trust.id)).first()
        size = db.session.scalar(select(func.count()).where(RegisterEntry.trust_id == trust.id))
        began = time.perf_counter()
        csv_bytes = sum(len(chunk.encode()) for chunk in register_csv(trust))
        csv_seconds = time.perf_counter() - began
        began = time.perf_counter()
        out = io.BytesIO()
        register_xlsx(trust, None, out)
        xlsx_seconds = time.perf_counter() - began
        print(f"exported {size:,} entries: CSV {csv_bytes / 2**20:.1f} MiB in "
              f"{csv_seconds:.2f} s, XLSX {len(out.getvalue()) / 2**20:.1f} MiB in "
              f"{xlsx_seconds:.2f} s")
        db.engine.dispose()
    print(f"bench: register_recompute_{ENTRIES // 1000}k_all_changed = {derive_all:.2f} s "
          f"(target <= 10)")
    print(f"bench: register_recompute_{ENTRIES // 1000}k_none_changed = {derive_again:.2f} s "
          f"(target <= 10)")
    print(f"bench: register_export_csv_{size // 1000}k = {csv_seconds:.2f} s (target <= 5)")
    print(f"bench: register_export_xlsx_{size // 1000}k = {xlsx_seconds:.2f} s (target <= 5)")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
