"""The after-training reports are reached from the pages their readers already use: the
trust's page and dashboard for its central team, the programme dashboard for admins."""

from lms.platform.roles import Role
from tests.factories import make_member, make_school


def test_the_central_team_finds_the_impact_report_pilots_export_and_survey_settings(
        db_session, sign_in):
    school = make_school()
    trust_id = school.trust_id
    client = sign_in(make_member(Role.CENTRAL_TEAM, trust=school.trust))
    page = client.get(f"/trusts/{trust_id}").get_data(as_text=True)
    for href in (f"/trusts/{trust_id}/impact-report", f"/trusts/{trust_id}/research/pilots",
                 f"/trusts/{trust_id}/research/export", f"/trusts/{trust_id}/feedback/settings"):
        assert f'href="{href}"' in page
        assert client.get(href).status_code == 200
    dashboard = client.get(f"/trusts/{trust_id}/dashboard").get_data(as_text=True)
    assert f'href="/trusts/{trust_id}/impact-report"' in dashboard


def test_trustees_find_the_impact_report_but_not_the_settings(db_session, sign_in):
    school = make_school()
    client = sign_in(make_member(Role.TRUSTEE, trust=school.trust))
    page = client.get(f"/trusts/{school.trust_id}").get_data(as_text=True)
    assert f'href="/trusts/{school.trust_id}/impact-report"' in page
    assert "feedback/settings" not in page and "research/export" not in page


def test_programme_admins_find_the_programme_reports_on_their_dashboard(db_session, sign_in):
    client = sign_in(make_member(Role.PROGRAMME_ADMIN))
    page = client.get("/admin/dashboard").get_data(as_text=True)
    for href in ("/programme/impact-report", "/programme/content-report", "/research/export"):
        assert f'href="{href}"' in page
        assert client.get(href).status_code == 200
