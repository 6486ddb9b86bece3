"""The demo trust's feedback (``demo load`` records it) makes the content report show
something real."""

from datetime import UTC, datetime

from sqlalchemy import func, select

from lms.accounts.models import User
from lms.feedback import report
from lms.feedback.models import LeaderSurvey, ModuleRating
from lms.platform import clock


def test_the_demo_feedback_fills_the_content_report(app, db_session, sign_in):
    result = app.test_cli_runner().invoke(args=["demo", "load", "--password", "demo-pass-2026"])
    assert result.exit_code == 0, result.output
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 60  # the clock is back
    assert db_session.scalar(select(func.count(ModuleRating.id))) >= 10
    assert db_session.scalar(select(func.count(LeaderSurvey.id))) >= 1
    assert db_session.scalar(select(func.count(LeaderSurvey.id)).where(
        LeaderSurvey.answered_at.is_not(None))) >= 1
    assert db_session.scalar(select(func.max(ModuleRating.created_at))) <= clock.now()
    assert db_session.scalar(select(func.max(LeaderSurvey.sent_at))) <= clock.now()
    reports = report.overall()
    assert any(row.ratings.n for r in reports for row in r.lessons)
    assert any(r.survey.answered for r in reports)
    assert any(m.ratings.comments for r in reports for m in r.modules)
    admin = db_session.scalar(select(User).where(User.email == "admin@demo.example"))
    client = sign_in(admin, "demo-pass-2026")
    for url in ("/programme/content-report", "/programme/content-report?by=version&sort=time",
                "/programme/content-report.csv"):
        assert client.get(url).status_code == 200
