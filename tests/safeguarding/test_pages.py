"""The pages: one phone-friendly form with no script needed, drafts, the immediate-danger
instruction first, the receipt; the DSL's page; bad input answered on the form with nothing
lost."""

import re

from sqlalchemy import func, select

from lms.platform.extensions import db
from lms.safeguarding import services
from lms.safeguarding.models import Concern, ConcernView
from tests.safeguarding_factory import PLANTED, make_safeguarding_school, raise_about_child

NEW = "/safeguarding/concerns/new"
TUTOR_PASSWORD = "tutor password 2026"


def _as(sign_in, user):
    """Commit what the test built, then sign ``user`` in (tutors chose their password when
    they accepted their nomination)."""
    db.session.commit()
    from lms.platform.roles import Role

    tutor_only = user.has_role(Role.TUTOR) and len(user.memberships) == 1
    return sign_in(user, TUTOR_PASSWORD) if tutor_only else sign_in(user)


def _concerns() -> int:
    return db.session.scalar(select(func.count(Concern.id)))


def test_every_page_a_tutor_sees_links_to_the_concern_form(db_session, sign_in):
    world = make_safeguarding_school()
    client = _as(sign_in, world.tutor)
    page = client.get("/").get_data(as_text=True)
    assert 'href="/safeguarding/concerns/new"' in page
    form = client.get(NEW).get_data(as_text=True)
    assert "<script" not in form.split("<main", 1)[-1].split("</main>")[0]
    assert "Call 999" in form


def test_sending_with_only_the_account_reaches_the_receipt(db_session, sign_in):
    world = make_safeguarding_school()
    client = _as(sign_in, world.tutor)
    answer = client.post(NEW, data={"account": PLANTED, "action": "send"})
    assert answer.status_code == 302
    concern = db.session.scalar(select(Concern))
    assert answer.headers["Location"].endswith(f"/safeguarding/concerns/{concern.id}/receipt")
    receipt = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert concern.reference in receipt and "were told at once" in receipt
    assert PLANTED not in receipt
    assert client.get(answer.headers["Location"]).headers["Cache-Control"] == "no-store"


def test_a_missing_account_keeps_everything_typed_as_a_draft(db_session, sign_in):
    world = make_safeguarding_school()
    client = _as(sign_in, world.tutor)
    answer = client.post(NEW, data={"account": "", "when": "After lunch", "action": "send"})
    assert answer.status_code == 400
    assert "Say what you saw or heard" in answer.get_data(as_text=True)
    assert _concerns() == 0
    assert services.draft_of(world.tutor)[0]["when"] == "After lunch"
    assert "After lunch" in client.get(NEW).get_data(as_text=True)


def test_a_draft_is_saved_and_comes_back(db_session, sign_in):
    world = make_safeguarding_school()
    client = _as(sign_in, world.tutor)
    answer = client.post(NEW, data={"account": "Half written", "action": "draft"})
    assert answer.status_code == 302 and _concerns() == 0
    assert "Half written" in client.get(NEW).get_data(as_text=True)


def test_immediate_danger_shows_the_999_instruction_before_sending(db_session, sign_in):
    world = make_safeguarding_school()
    client = _as(sign_in, world.tutor)
    first = client.post(NEW, data={"account": PLANTED, "immediate_danger": "y",
                                   "action": "send"})
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and _concerns() == 0
    assert page.index("call 999 now") < page.index("<h1>")
    assert 'name="danger_seen" type="hidden" value="1"' in page or \
        re.search(r'name="danger_seen"[^>]*value="1"', page)
    sent = client.post(NEW, data={"account": PLANTED, "immediate_danger": "y",
                                  "danger_seen": "1", "action": "send"})
    assert sent.status_code == 302
    assert db.session.scalar(select(Concern)).immediate_danger


def test_raised_from_a_session_page(db_session, sign_in):
    from lms.platform import clock

    world = make_safeguarding_school()
    client = _as(sign_in, world.tutor)
    day = clock.today().isoformat()
    log_page = client.get(f"/groups/{world.group.id}/sessions/{day}").get_data(as_text=True)
    assert f"group_id={world.group.id}" in log_page
    form = client.get(f"{NEW}?group_id={world.group.id}&day={day}").get_data(as_text=True)
    assert "marked stopped for safeguarding" in form
    client.post(NEW, data={"account": PLANTED, "group_id": str(world.group.id), "day": day,
                           "action": "send"})
    concern = db.session.scalar(select(Concern))
    assert (concern.group_id, concern.held_on.isoformat()) == (world.group.id, day)


def test_a_person_with_no_school_cannot_reach_the_form(db_session, sign_in):
    from lms.platform.roles import Role
    from tests.factories import make_member

    client = _as(sign_in, make_member(Role.PROVIDER))
    assert client.get(NEW).status_code == 403


def test_the_dsl_opens_acknowledges_and_adds_to_the_chronology(db_session, sign_in):
    world = make_safeguarding_school()
    concern = raise_about_child(world)
    client = _as(sign_in, world.dsl)
    listed = client.get("/safeguarding/concerns").get_data(as_text=True)
    assert concern.reference in listed and PLANTED not in listed
    page = client.get(f"/safeguarding/concerns/{concern.id}")
    assert page.status_code == 200 and PLANTED in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert db.session.scalar(select(func.count(ConcernView.id))) == 1
    assert client.post(f"/safeguarding/concerns/{concern.id}/acknowledge").status_code == 302
    refused = client.post(f"/safeguarding/concerns/{concern.id}/entries",
                          data={"kind": "referral", "text": "", "on": "2026-02-30"})
    assert refused.status_code == 400
    assert "must be a real date" in refused.get_data(as_text=True)
    added = client.post(f"/safeguarding/concerns/{concern.id}/entries",
                        data={"kind": "note", "text": "Spoke to the class teacher"})
    assert added.status_code == 302
    assert services.details_of(concern.entries[-1]) == "Spoke to the class teacher"
    pdf = client.get(f"/safeguarding/concerns/{concern.id}/account.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_the_admin_sees_only_the_break_glass_page_until_they_give_a_reason(db_session,
                                                                            sign_in):
    from lms.platform.roles import Role
    from tests.factories import make_member

    world = make_safeguarding_school()
    concern = raise_about_child(world)
    client = _as(sign_in, make_member(Role.PROGRAMME_ADMIN))
    page = client.get(f"/safeguarding/concerns/{concern.id}").get_data(as_text=True)
    assert "Break-glass" in page and PLANTED not in page
    short = client.post(f"/safeguarding/concerns/{concern.id}/break-glass",
                        data={"reason": "curious"})
    assert short.status_code == 400 and PLANTED not in short.get_data(as_text=True)
    opened = client.post(f"/safeguarding/concerns/{concern.id}/break-glass",
                         data={"reason": "Court order 12/2026 received by the trust today"})
    assert opened.status_code == 200 and PLANTED in opened.get_data(as_text=True)
    # Opening it again needs a reason again.
    again = client.get(f"/safeguarding/concerns/{concern.id}").get_data(as_text=True)
    assert PLANTED not in again


def test_the_trust_page_shows_counts_and_timings_never_content(db_session, sign_in):
    world = make_safeguarding_school()
    raise_about_child(world)
    client = _as(sign_in, world.central)
    page = client.get(f"/trusts/{world.trust.id}/safeguarding").get_data(as_text=True)
    assert "fewer than 5" in page and PLANTED not in page
    csv = client.get(f"/trusts/{world.trust.id}/safeguarding/figures.csv").get_data(
        as_text=True)
    assert csv.splitlines()[0].startswith("school,raised")
    assert "fewer than 5" in csv and PLANTED not in csv


def test_settings_form_answers_bad_input_on_the_form(db_session, sign_in):
    world = make_safeguarding_school()
    client = _as(sign_in, world.trust_lead)
    url = f"/trusts/{world.trust.id}/safeguarding/settings"
    bad = client.post(url, data={"first_escalation_minutes": "sixty",
                                 "second_escalation_minutes": "30", "purge_days": "30"})
    assert bad.status_code == 400
    assert "must be a whole number" in bad.get_data(as_text=True)
    order = client.post(url, data={"first_escalation_minutes": "60",
                                   "second_escalation_minutes": "30", "purge_days": "30"})
    assert order.status_code == 400 and "after the first" in order.get_data(as_text=True)
    ok = client.post(url, data={"first_escalation_minutes": "30",
                                "second_escalation_minutes": "120", "purge_days": "14"})
    assert ok.status_code == 302
    assert services.settings_for(world.trust.id).purge_days == 14


def test_the_dsls_home_page_alerts_them_until_someone_acknowledges(db_session, sign_in):
    world = make_safeguarding_school()
    concern = raise_about_child(world)
    client = _as(sign_in, world.dsl)
    home = client.get("/").get_data(as_text=True)
    assert "1 concern not acknowledged" in home and PLANTED not in home
    services.acknowledge(concern, actor=world.deputies[0])
    db.session.commit()
    assert "none waiting" in client.get("/").get_data(as_text=True)
