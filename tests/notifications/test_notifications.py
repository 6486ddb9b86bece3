from types import SimpleNamespace

from sqlalchemy import select

from lms.notifications.models import EmailStatus, OutboxEmail
from lms.notifications.services import deliver, send_email
from lms.platform.extensions import db
from lms.platform.roles import Role
from tests.factories import make_member


def _outbox():
    return db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()


def _send(to="reader@school.example"):
    return send_email(to, "Confirm your email address", "verify_email",
                      user=SimpleNamespace(name="Reader"), link="http://localhost/x")


def test_email_renders_text_and_html_and_lands_in_the_outbox_without_smtp(db_session):
    _send()
    db_session.commit()
    (email,) = _outbox()
    assert email.status == EmailStatus.OUTBOX
    assert "http://localhost/x" in email.body_text
    assert '<a href="http://localhost/x">' in email.body_html
    assert email.attempts == 1


def test_smtp_delivery_happens_only_after_the_change_commits(db_session, app, monkeypatch):
    sent = _fake_smtp(app, monkeypatch)
    _send()
    assert _outbox()[0].status == EmailStatus.QUEUED
    assert sent == []
    db_session.rollback()
    assert _outbox() == [] and sent == []
    _send()
    db_session.commit()
    assert sent == ["reader@school.example"]


def _fake_smtp(app, monkeypatch) -> list:
    sent = []

    class FakeSMTP:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self):
            pass

        def login(self, *args):
            pass

        def send_message(self, message):
            sent.append(message["To"])

    monkeypatch.setattr("lms.notifications.services.smtplib.SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example")
    return sent


def test_delivering_twice_sends_once(db_session, app, monkeypatch):
    sent = _fake_smtp(app, monkeypatch)
    email = _send()
    db_session.commit()
    db_session.refresh(email)
    assert email.status == EmailStatus.SENT
    deliver(email)
    assert sent == ["reader@school.example"]


def test_only_a_programme_admin_reads_the_outbox(db_session, sign_in, client):
    _send()
    admin = make_member(Role.PROGRAMME_ADMIN)
    leader = make_member(Role.SCHOOL_LEADER)
    db_session.commit()
    email_id = _outbox()[0].id
    sign_in(leader)
    assert client.get("/outbox").status_code == 403
    assert client.get(f"/outbox/{email_id}").status_code == 403
    client.post("/sign-out")
    sign_in(admin)
    assert "Confirm your email address" in client.get("/outbox").get_data(as_text=True)
    assert "http://localhost/x" in client.get(f"/outbox/{email_id}").get_data(as_text=True)
