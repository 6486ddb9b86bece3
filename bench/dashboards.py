"""Dashboard figures at national scale, on PostgreSQL: 25 trusts, 2,000 schools and 100,000
tutors at every stage from the synthetic data generator.

Run: ``python -m bench.dashboards`` (databases ``bench`` and ``bench_small``, rebuilt;
``BENCH_DATABASE_URL`` names the first; ``BENCH_REQUESTS`` requests per page, default 40).
Each page is requested through the app as a signed-in user (the largest trust's central team,
a programme admin), timing the server's work from request to response and counting its SQL
statements. The same pages over a dataset fifty times smaller (5 trusts, 40 schools, 2,000
tutors) must take exactly as many statements: the count does not grow with tutors or schools.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from bench.common import (
    DATABASE_URL,
    bench_app,
    ensure_database,
    fresh_schema,
    has_rows,
    percentile,
    signed_in_client,
    statements_per_page,
)
from lms.accounts import services as accounts
from lms.organisations import people

REQUESTS = int(os.environ.get("BENCH_REQUESTS", 40))
SMALL_DATABASE_URL = DATABASE_URL + "_small"


def prepare(url: str, scale, *, reuse: bool) -> tuple[object, dict, str, float | None]:
    """An app on ``url`` with the synthetic dataset (made afresh unless ``reuse`` and there),
    every pipeline record built; the pages to request, a line about the data, and how long
    building every record took (``None`` if reused)."""
    from flask import url_for
    from sqlalchemy import func, select, text

    from lms.insight import pipeline
    from lms.insight.models import PipelineRecord
    from lms.insight.synthetic import generate
    from lms.organisations.models import Membership, School
    from lms.platform.extensions import db
    from lms.platform.roles import Role

    ensure_database(url)
    # Pages never rebuild during the run: the beat keeps records fresh in production.
    app = bench_app(url, DASHBOARD_MAX_AGE_SECONDS=24 * 3600, SERVER_NAME="bench.local")
    with app.app_context():
        reused = reuse and has_rows("pipeline_records")
        timings, rebuilt = "", None
        if not reused:
            fresh_schema()
            began = time.monotonic()
            generate(scale)
            db.session.commit()
            generated = time.monotonic() - began
            began = time.perf_counter()
            pipeline.rebuild()
            db.session.commit()
            rebuilt = time.perf_counter() - began
            db.session.execute(text("ANALYZE"))
            person = accounts.create_user("admin@synthetic.example", "Bench Admin", actor=None)
            people.grant_membership(person, Role.PROGRAMME_ADMIN, actor=None)
            db.session.commit()
            timings = f" (made in {generated:.0f} s; pipeline records built in {rebuilt:.1f} s)"
        sizes = db.session.execute(
            select(PipelineRecord.trust_id, func.count()).group_by(PipelineRecord.trust_id)
            .order_by(func.count().desc())).all()
        largest, largest_size = sizes[0]
        schools = dict(db.session.execute(select(School.trust_id, func.count())
                                          .group_by(School.trust_id)).all())
        central = db.session.scalar(select(func.min(Membership.user_id)).where(
            Membership.role == Role.CENTRAL_TEAM, Membership.trust_id == largest))
        admin = db.session.scalar(select(Membership.user_id).where(
            Membership.role == Role.PROGRAMME_ADMIN))
        with app.test_request_context():
            pages = {"trust": (central, url_for("lms.trust_dashboard", trust_id=largest)),
                     "programme": (admin, url_for("lms.programme_dashboard"))}
        about = (f"{sum(n for _, n in sizes):,} candidates in {len(sizes)} trusts and "
                 f"{sum(schools.values()):,} schools, the largest trust {largest_size:,} in "
                 f"{schools[largest]} schools{timings}")
        db.session.remove()
        db.engine.dispose()
    return app, pages, about, rebuilt


def main() -> None:
    from lms.insight.synthetic import Scale

    reuse = os.environ.get("BENCH_REUSE") == "1"  # measure the last run's data again
    small_app, small_pages, small_about, _ = prepare(SMALL_DATABASE_URL, Scale(5, 40, 2_000),
                                                     reuse=reuse)
    app, pages, about, rebuilt = prepare(DATABASE_URL, Scale(), reuse=reuse)
    print(f"national: {about}; small: {small_about} ({DATABASE_URL.rsplit('@', 1)[-1]})")
    small = statements_per_page(small_app, small_pages)
    big = statements_per_page(app, pages)
    times: dict[str, list[float]] = {}
    for name, (user_id, url) in pages.items():
        client = signed_in_client(app, user_id)
        times[name] = []
        for _ in range(REQUESTS):
            began = time.perf_counter()
            response = client.get(url)
            times[name].append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, url
        print(f"{name} dashboard {url}: p50 {statistics.median(times[name]):.0f} ms, p95 "
              f"{percentile(times[name], 0.95):.0f} ms over {REQUESTS} requests; "
              f"{big[name]} SQL statements ({small[name]} over the small dataset)")
    for name, values in times.items():
        print(f"bench: dashboard_{name}_p50 = {statistics.median(values):.0f} ms "
              f"(target <= 300)")
        print(f"bench: dashboard_{name}_p95 = {percentile(values, 0.95):.0f} ms "
              f"(target <= 300)")
        print(f"bench: dashboard_{name}_queries = {big[name]} statements (target <= 40)")
    growth = max(big[name] - small[name] for name in pages)
    print(f"bench: dashboard_query_growth = {growth} statements (target == 0)")
    if rebuilt is not None:
        print(f"bench: pipeline_rebuild_100k = {rebuilt:.1f} s (target <= 30)")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
