"""Dashboard figures at national scale, on PostgreSQL: 25 trusts, 2,000 schools and 100,000
tutors at every stage from the synthetic data generator.

Run: ``python -m bench.dashboards`` (database ``bench``, rebuilt; ``BENCH_DATABASE_URL`` to
change it; ``BENCH_REQUESTS`` requests per page, default 40). Each page is requested through
the app as a signed-in user (the largest trust's central team, a programme admin), timing
the server's work from request to response and counting its SQL statements. The same pages for
the smallest trust, and the programme view narrowed to it, must take exactly as many
statements: the count does not grow with tutors or schools.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from bench.common import DATABASE_URL, bench_app, ensure_database, fresh_schema

REQUESTS = int(os.environ.get("BENCH_REQUESTS", 40))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    from flask import url_for
    from sqlalchemy import event, func, select, text

    from lms import pipeline, services
    from lms.extensions import db
    from lms.models import Membership, PipelineRecord, Role, School
    from lms.synthetic import Scale, generate

    ensure_database()
    # Pages never rebuild during the run: the beat keeps records fresh in production.
    app = bench_app(DASHBOARD_MAX_AGE_SECONDS=24 * 3600, SERVER_NAME="bench.local")
    with app.app_context():
        fresh_schema()
        began = time.monotonic()
        made = generate(Scale())
        db.session.commit()
        generated = time.monotonic() - began
        began = time.perf_counter()
        pipeline.rebuild()
        db.session.commit()
        rebuilt = time.perf_counter() - began
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        sizes = db.session.execute(
            select(PipelineRecord.trust_id, func.count()).group_by(PipelineRecord.trust_id)
            .order_by(func.count().desc())).all()
        (largest, largest_size), (smallest, smallest_size) = sizes[0], sizes[-1]
        schools = dict(db.session.execute(select(School.trust_id, func.count())
                                          .group_by(School.trust_id)).all())
        central = db.session.scalar(select(Membership.user_id).where(
            Membership.role == Role.CENTRAL_TEAM, Membership.trust_id == largest))
        person = services.create_user("admin@synthetic.example", "Bench Admin", actor=None)
        services.grant_membership(person, Role.PROGRAMME_ADMIN, actor=None)
        db.session.commit()
        admin = person.id
        with app.test_request_context():
            pages = {
                "trust": (central, url_for("lms.trust_dashboard", trust_id=largest),
                          url_for("lms.trust_dashboard", trust_id=smallest)),
                "programme": (admin, url_for("lms.programme_dashboard"),
                              url_for("lms.programme_dashboard", trust=smallest)),
            }
        db.session.remove()
        print(f"generated {made['nominations']:,} candidates in {made['trusts']} trusts and "
              f"{made['schools']:,} schools in {generated:.0f} s; every trust's pipeline "
              f"records rebuilt in {rebuilt:.1f} s; largest trust {largest_size:,} candidates "
              f"in {schools[largest]} schools, smallest {smallest_size:,} in "
              f"{schools[smallest]} ({DATABASE_URL.rsplit('@', 1)[-1]})")

    statements = [0]
    results = {}
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute",
                     lambda *args: statements.__setitem__(0, statements[0] + 1))
        client = app.test_client()
        for name, (user_id, big, small) in pages.items():
            with client.session_transaction() as session:
                session["_user_id"] = str(user_id)
                session["_fresh"] = True
            counts = {}
            for label, url in (("small", small), ("big", big)):
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                statements[0] = 0
                client.get(url)
                counts[label] = statements[0]
            times = []
            for _ in range(REQUESTS):
                began = time.perf_counter()
                response = client.get(big)
                times.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200
            results[name] = (times, counts)
            print(f"{name} dashboard {big}: p50 {statistics.median(times):.0f} ms, p95 "
                  f"{_percentile(times, 0.95):.0f} ms over {REQUESTS} requests; "
                  f"{counts['big']} SQL statements, {counts['small']} for {small}")
        db.engine.dispose()
    for name, (times, counts) in results.items():
        print(f"bench: dashboard_{name}_p50 = {statistics.median(times):.0f} ms "
              f"(target <= 300)")
        print(f"bench: dashboard_{name}_p95 = {_percentile(times, 0.95):.0f} ms "
              f"(target <= 300)")
        print(f"bench: dashboard_{name}_queries = {counts['big']} statements "
              f"(target <= 40)")
    growth = max(counts["big"] - counts["small"] for _, counts in results.values())
    print(f"bench: dashboard_query_growth = {growth} statements (target == 0)")
    print(f"bench: pipeline_rebuild_100k = {rebuilt:.1f} s (target <= 30)")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
