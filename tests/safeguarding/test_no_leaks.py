"""A concern's words never leave its encrypted columns: not into a log line, an email, the
audit log, a page for someone it is not for, or any plain column. A phrase is planted in
every place a person can write and then searched for everywhere else."""

import logging
from datetime import timedelta

from sqlalchemy import LargeBinary, select, text

from lms.audit.models import AuditEntry
from lms.notifications.models import OutboxEmail
from lms.platform import clock
from lms.platform.extensions import db
from lms.safeguarding import escalation, services
from lms.safeguarding.models import Concern
from tests.safeguarding_factory import PLANTED, make_safeguarding_school

TUTOR_PASSWORD = "tutor password 2026"
NOTE = "the blue bicycle was left by the canal"
WHEN = "just before the minibus at twenty past four"


def _plain_text_everywhere() -> str:
    """Every non-binary column of every table, as text."""
    found = []
    for table in db.metadata.sorted_tables:
        columns = [c.name for c in table.columns if not isinstance(c.type, LargeBinary)]
        if not columns:
            continue
        quoted = ", ".join(f'"{c}"' for c in columns)
        for row in db.session.execute(text(f'SELECT {quoted} FROM "{table.name}"')):
            found.append(repr(tuple(row)))
    return "\n".join(found)


def test_the_planted_phrases_appear_nowhere_but_in_the_concern(db_session, client, sign_in,
                                                                 caplog):
    caplog.set_level(logging.DEBUG)
    world = make_safeguarding_school()
    db.session.commit()
    sign_in(world.tutor, TUTOR_PASSWORD)
    client.post("/safeguarding/concerns/new", data={"account": PLANTED, "when": WHEN,
                                                     "action": "draft"})
    sent = client.post("/safeguarding/concerns/new", data={
        "account": PLANTED, "when": WHEN, "immediate_danger": "y", "danger_seen": "1",
        "action": "send"})
    assert sent.status_code == 302
    concern = db.session.scalar(select(Concern))
    receipt = client.get(sent.headers["Location"]).get_data(as_text=True)
    client.post("/sign-out")

    clock.travel(timedelta(minutes=61))
    for concern_id in escalation.due():
        escalation.escalate(concern_id)
    db.session.commit()

    dsl = sign_in(world.dsl)
    page = dsl.get(f"/safeguarding/concerns/{concern.id}").get_data(as_text=True)
    assert PLANTED in page and WHEN in page
    dsl.post(f"/safeguarding/concerns/{concern.id}/acknowledge")
    dsl.post(f"/safeguarding/concerns/{concern.id}/entries",
             data={"kind": "note", "text": NOTE})
    dsl.post(f"/safeguarding/concerns/{concern.id}/entries",
             data={"kind": "referral", "referral_to": "police", "on": "2026-13-01",
                   "text": NOTE})  # refused: a bad date, and nothing of it may leak either
    assert dsl.get(f"/safeguarding/concerns/{concern.id}/account.pdf").status_code == 200
    counts = dsl.get(f"/schools/{world.school.id}/safeguarding").get_data(as_text=True)
    dsl.post("/sign-out")
    lead = sign_in(world.trust_lead)
    figures = lead.get(f"/trusts/{world.trust.id}/safeguarding").get_data(as_text=True)
    csv = lead.get(f"/trusts/{world.trust.id}/safeguarding/figures.csv").get_data(as_text=True)

    phrases = (PLANTED, NOTE, WHEN)
    logs = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    emails = "\n".join(f"{e.subject}\n{e.body_text}\n{e.body_html}"
                       for e in db.session.scalars(select(OutboxEmail)))
    audit = "\n".join(f"{a.action} {a.changes} {a.reason}"
                      for a in db.session.scalars(select(AuditEntry)))
    assert emails and audit and logs
    for phrase in phrases:
        assert phrase not in logs, f"in the logs: {phrase}"
        assert phrase not in emails, f"in an email: {phrase}"
        assert phrase not in audit, f"in the audit log: {phrase}"
        assert phrase not in _plain_text_everywhere(), f"in a plain column: {phrase}"
        for shown in (receipt, counts, figures, csv):
            assert phrase not in shown
    assert services.account_of(concern)["account"] == PLANTED
    assert services.details_of(concern.entries[-1]) == NOTE
