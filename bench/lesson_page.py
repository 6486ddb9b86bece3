"""Size and render time of a typical lesson page, as a tutor on a phone receives it.

Run: ``python -m bench.lesson_page``. Transferred size counts the HTML and the one stylesheet
uncompressed, as the app itself sends them (a compressing proxy makes them smaller still; that
figure is printed too). Every lesson of a pathway is opened in turn, as a tutor would, passing
each module's check before going on to the next module.
"""

from __future__ import annotations

import gzip
import statistics
import tempfile
import time
from datetime import timedelta

from flask_migrate import upgrade

from lms import create_app
from lms.platform import clock
from lms.platform.extensions import db

TARGET_BYTES = 60 * 1024


def pass_module_check(app, enrolment_id: int, topic: str) -> None:
    """Answer a module's check correctly, as a tutor who has learnt the module would."""
    from assessments.bank.models import ItemVersion
    from assessments.checks.services import check_topics, checks_passed, start_check, submit_check
    from lms.programme.models import Enrolment

    with app.app_context():
        enrolment = db.session.get(Enrolment, enrolment_id)
        if (topic not in check_topics(enrolment.pathway.value)
                or topic in checks_passed(enrolment)):
            return
        check = start_check(enrolment, topic)
        answers = {}
        for index, entry in enumerate(check.items):
            item = db.session.get(ItemVersion, entry["item_version_id"])
            answers[index] = [entry["option_order"].index(i) for i in item.correct_indexes]
        submit_check(check, answers)
        assert check.passed, topic
        db.session.commit()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({
            "LMS_ENV": "testing",
            "SECRET_KEY": "bench-secret-key-0123456789abcdefghijklmnop",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
        })
        with app.app_context():
            upgrade()
            from lms.demo import load

            load("bench-password-2026")
            db.session.commit()
            from courses.services import course_progress
            from lms.programme.models import Enrolment, EnrolmentStatus

            enrolment = db.session.query(Enrolment).filter_by(
                status=EnrolmentStatus.ACTIVE).first()
            outline = course_progress(enrolment).version
            email = enrolment.user.email
            enrolment_id = enrolment.id
            lesson_ids = [(lesson.id, module.slug) for module in outline.modules
                          for lesson in module.lessons]
        client = app.test_client()
        page = client.get("/sign-in").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/sign-in", data={"email": email, "password": "bench-password-2026",
                                      "csrf_token": token})
        css = client.get("/static/app.css").data
        sizes, raw_sizes, times = [], [], []
        module = None
        for lesson_id, slug in lesson_ids:
            if module is not None and slug != module:
                pass_module_check(app, enrolment_id, module)
            module = slug
            url = f"/learn/{enrolment_id}/lessons/{lesson_id}"
            began = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - began)
            assert response.status_code == 200, (url, response.status_code)
            html = response.data
            raw_sizes.append(len(html) + len(css))
            sizes.append(len(gzip.compress(html)) + len(gzip.compress(css)))
            clock.travel(timedelta(minutes=45))  # the tutor reads and does the activities
            client.post(url + "/complete", data={"csrf_token": token})
    typical = statistics.median(raw_sizes)
    largest = max(raw_sizes)
    print(f"lesson pages: {len(sizes)} rendered; HTML+CSS gzip-compressed median "
          f"{statistics.median(sizes) / 1024:.1f} KiB, largest {max(sizes) / 1024:.1f} KiB")
    print(f"bench: lesson_page_transferred = {typical / 1024:.1f} KiB (target <= 60)")
    print(f"bench: lesson_page_transferred_largest = {largest / 1024:.1f} KiB (target <= 60)")
    print(f"bench: lesson_page_render_p50 = {statistics.median(times) * 1000:.1f} ms "
          f"(target <= 100)")


if __name__ == "__main__":
    main()
