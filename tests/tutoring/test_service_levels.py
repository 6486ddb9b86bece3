"""Providers held to their service levels: each session's events against the levels its
programme version agreed, and each provider's figures over a period, counted by the
database."""

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from credentials.endorsements import services as endorsements
from credentials.endorsements.models import Endorsement
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.tutoring import service_levels
from lms.tutoring.programmes import ProgrammeTerms, change_programme
from lms.tutoring.service_levels import (
    check_period,
    figures_for,
    provider_figures,
    session_events,
    term_so_far,
    weekly_slots,
)
from tests.factories import make_member, make_provider, make_school, make_trust
from tests.tutoring_factory import (
    log_cancelled,
    log_delivered,
    make_cleared_tutor,
    make_group,
    make_programme,
)


def _provider_group(school=None, provider=None, **programme_terms):
    school = school or make_school()
    provider = provider or make_provider()
    programme = make_programme(school.trust, delivery_model="provider",
                               provider_id=provider.id, **programme_terms)
    return make_group(school, programme=programme, provider=provider)


def _today():
    return clock.today()


def _period(days_back: int = 40):
    return _today() - timedelta(days=days_back), _today()


# --- each session's events --------------------------------------------------------------------


def test_a_session_delivered_on_time_by_the_groups_tutor_yields_no_event(db_session):
    group = _provider_group()
    assert session_events(log_delivered(group)) == frozenset()


def test_a_cancellation_for_an_absent_tutor_with_no_cover_is_a_no_show(db_session):
    group = _provider_group()
    session = log_cancelled(group, reason="tutor_absent", notice_hours=48)
    assert session_events(session) == {"no_show"}


def test_a_cancellation_the_school_made_is_never_the_providers(db_session):
    group = _provider_group()
    day = _today()
    for offset, reason in enumerate(("pupils_absent", "school_event")):
        session = log_cancelled(group, day - timedelta(days=offset), reason=reason,
                                notice_hours=0)
        assert "no_show" not in session_events(session)
        assert "short_notice" not in session_events(session)


def test_a_provider_cancellation_with_less_notice_than_agreed_is_short_notice(db_session):
    group = _provider_group(sla_notice_hours=24)
    day = _today()
    short = log_cancelled(group, day, reason="other", notice_hours=2)
    unknown = log_cancelled(group, day - timedelta(days=1), reason="other")
    enough = log_cancelled(group, day - timedelta(days=2), reason="other", notice_hours=24)
    assert session_events(short) == {"short_notice"}
    assert session_events(unknown) == {"short_notice"}, "no notice recorded counts as short"
    assert "short_notice" not in session_events(enough)


def test_an_absent_tutor_at_two_hours_notice_is_both_a_no_show_and_short_notice(db_session):
    group = _provider_group(sla_notice_hours=24)
    session = log_cancelled(group, reason="tutor_absent", notice_hours=2)
    assert session_events(session) == {"no_show", "short_notice"}


def test_a_start_later_than_the_agreed_minutes_is_a_late_start(db_session):
    group = _provider_group(sla_late_minutes=5)
    day = _today()
    assert session_events(log_delivered(group, day, late_start_minutes=5)) == frozenset()
    late = log_delivered(group, day - timedelta(days=1), late_start_minutes=6)
    assert session_events(late) == {"late_start"}


def test_a_cover_tutor_is_an_event_and_not_a_no_show(db_session):
    group = _provider_group()
    cover = make_cleared_tutor(group.school)
    delivered = log_delivered(group, cover_tutor_id=cover.id)
    assert delivered.cover and session_events(delivered) == {"cover"}


def test_a_report_later_than_the_agreed_hours_is_a_late_report(db_session):
    group = _provider_group(sla_report_hours=48)
    on_time = log_delivered(group, _today())  # logged the same day
    late = log_delivered(group, _today() - timedelta(days=4))  # logged four days on
    assert on_time.report_hours <= 48 < late.report_hours
    assert session_events(on_time) == frozenset()
    assert session_events(late) == {"late_report"}


def test_a_session_is_judged_by_its_groups_programme_version(db_session):
    group = _provider_group(sla_late_minutes=5)
    programme = group.programme
    change_programme(programme, ProgrammeTerms(**{
        **ProgrammeTerms.of(programme).__dict__, "sla_late_minutes": 30}), actor=None)
    session = log_delivered(group, late_start_minutes=10)
    assert session_events(session) == {"late_start"}, "the group keeps the levels it began on"


def test_a_school_led_groups_sessions_yield_no_provider_events(db_session):
    group = make_group(make_school())
    assert session_events(log_cancelled(group, reason="tutor_absent")) == frozenset()


# --- the period -------------------------------------------------------------------------------


def test_weekly_slots_count_the_days_of_the_groups_weekday():
    from datetime import date

    monday = date(2025, 9, 1)
    assert weekly_slots(0, monday, monday) == 1
    assert weekly_slots(1, monday, monday) == 0
    assert weekly_slots(0, monday, monday + timedelta(days=27)) == 4
    assert weekly_slots(4, monday, monday + timedelta(days=27)) == 4
    assert weekly_slots(0, monday + timedelta(days=1), monday + timedelta(days=7)) == 1
    assert weekly_slots(0, monday, monday - timedelta(days=1)) == 0


def test_a_period_is_of_days_that_happened_in_order_at_most_two_years():
    from datetime import date

    today = date(2026, 3, 10)
    check_period(date(2026, 1, 1), today, today)
    for start, end, message in (
            (date(2026, 3, 11), date(2026, 3, 11), "start date must be today or in the past"),
            (date(2026, 3, 1), date(2026, 3, 11), "end date must be today or in the past"),
            (date(2026, 3, 5), date(2026, 3, 1), "same as or after the start date"),
            (date(2023, 1, 1), date(2026, 3, 1), "2 years or shorter"),
            (date(1999, 12, 31), date(2000, 1, 5), "on or after 1 January 2000")):
        with pytest.raises(DomainError, match=message):
            check_period(start, end, today)
    assert term_so_far(today) == (date(2026, 1, 1), today)
    assert term_so_far(date(2025, 10, 2))[0] == date(2025, 9, 1)
    assert term_so_far(date(2026, 5, 2))[0] == date(2026, 4, 1)


# --- each provider's figures ------------------------------------------------------------------


def test_booked_sessions_are_the_weekly_slots_and_delivery_rate_the_share_delivered(
        db_session):
    group = _provider_group()  # weekly on today's weekday, from 28 days ago
    today = _today()
    log_delivered(group, today - timedelta(days=28))
    log_delivered(group, today - timedelta(days=21))
    log_delivered(group, today - timedelta(days=14))
    log_cancelled(group, today - timedelta(days=7), reason="tutor_absent", notice_hours=1)
    figures = figures_for(group.trust_id, group.provider_id, *_period())
    assert figures.booked == 5  # 28, 21, 14 and 7 days ago, and today
    assert (figures.delivered, figures.cancelled) == (3, 1)
    assert figures.delivery_rate == pytest.approx(3 / 5)
    assert (figures.no_shows, figures.short_notice) == (1, 1)


def test_slots_count_from_the_group_start_to_its_end_within_the_period(db_session):
    group = _provider_group()
    today = _today()
    figures = figures_for(group.trust_id, group.provider_id, today - timedelta(days=10), today)
    assert figures.booked == 2  # 7 days ago and today
    group.ended_on = today - timedelta(days=1)
    db_session.flush()
    figures = figures_for(group.trust_id, group.provider_id, today - timedelta(days=10), today)
    assert figures.booked == 1


def test_each_event_is_counted_for_its_provider_only(db_session):
    school = make_school()
    first, second = make_provider("Alpha Tutors"), make_provider("Beta Tutors")
    a = _provider_group(school, first, sla_late_minutes=5)
    b = _provider_group(school, second)
    today = _today()
    cover = make_cleared_tutor(school)
    log_delivered(a, today, late_start_minutes=20)
    log_delivered(a, today - timedelta(days=1), cover_tutor_id=cover.id)
    log_cancelled(a, today - timedelta(days=2), reason="other", notice_hours=3)
    log_delivered(b, today)
    by_name = {f.provider.name: f for f in provider_figures(school.trust_id, *_period())}
    alpha, beta = by_name["Alpha Tutors"], by_name["Beta Tutors"]
    assert (alpha.late_starts, alpha.cover, alpha.short_notice, alpha.no_shows) == (1, 1, 1, 0)
    assert (beta.late_starts, beta.cover, beta.short_notice, beta.delivered) == (0, 0, 0, 1)


def test_report_timeliness_is_the_share_of_sessions_logged_within_the_agreed_hours(
        db_session):
    group = _provider_group(sla_report_hours=48)
    today = _today()
    log_delivered(group, today)
    log_delivered(group, today - timedelta(days=1))
    log_delivered(group, today - timedelta(days=5))
    log_cancelled(group, today - timedelta(days=6), reason="other", notice_hours=30)
    figures = figures_for(group.trust_id, group.provider_id, *_period())
    assert (figures.reports, figures.late_reports) == (4, 2)
    assert figures.report_on_time_rate == pytest.approx(0.5)


def test_cost_per_attended_hour_divides_the_cost_by_the_hours_pupils_attended(db_session):
    group = _provider_group(rate_pence=3000, cost_model="per_tutor_hour")  # 2 pupils
    today = _today()
    log_delivered(group, today)  # both there: 2 attended hours for 1 tutor hour
    absent = (group.places[0].pupil_id,)
    log_delivered(group, today - timedelta(days=1), absent=absent)  # one there: 1 hour
    figures = figures_for(group.trust_id, group.provider_id, *_period())
    assert figures.cost_pence == pytest.approx(6000)
    assert figures.attended_minutes == 180
    assert figures.cost_per_attended_hour_pence == pytest.approx(2000)


def test_a_provider_with_nothing_delivered_has_no_rates_and_no_cost_per_hour(db_session):
    trust = make_trust()
    provider = make_provider()
    make_programme(trust, delivery_model="provider", provider_id=provider.id)
    (figures,) = provider_figures(trust.id, *_period())
    assert figures.provider == provider and figures.booked == 0
    assert figures.delivery_rate is None and figures.report_on_time_rate is None
    assert figures.cost_per_attended_hour_pence is None


def test_the_provider_tutors_register_status_lists_those_not_cleared(db_session):
    school = make_school()
    provider = make_provider()
    kept = _provider_group(school, provider)
    lapsed = _provider_group(school, provider)
    endorsement = db_session.scalars(select(Endorsement).where(
        Endorsement.user_id == lapsed.tutor_id)).one()
    endorsements.suspend_endorsement(endorsement, reason="Allegation under review", actor=None)
    db_session.flush()
    figures = figures_for(school.trust_id, provider.id, *_period())
    assert figures.tutors_approved == 1 and figures.tutors_not_approved == 1
    (refused,) = figures.tutors_not_cleared
    assert refused.tutor_id == lapsed.tutor_id and refused.name == lapsed.tutor.name
    assert refused.school_names == (school.name,)
    assert kept.tutor_id != lapsed.tutor_id


def test_figures_cover_only_the_trust_and_the_period(db_session):
    group = _provider_group()
    other = _provider_group(provider=group.provider)  # the same provider at another trust
    today = _today()
    log_delivered(group, today)
    log_delivered(group, today - timedelta(days=20))
    log_delivered(other, today)
    figures = figures_for(group.trust_id, group.provider_id, today - timedelta(days=10), today)
    assert figures.delivered == 1


def test_the_figures_take_the_same_few_queries_however_many_sessions(db_session):
    school = make_school()
    provider = make_provider()
    groups = [_provider_group(school, provider) for _ in range(2)]

    def queries() -> int:
        statements = []

        def count(*_args):
            statements.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            provider_figures(school.trust_id, *_period())
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    log_delivered(groups[0], _today())
    few = queries()
    assert few >= 5
    for group in groups:
        for days in range(1, 15):
            log_delivered(group, _today() - timedelta(days=days))
    assert queries() == few


# --- the page ---------------------------------------------------------------------------------


def test_the_central_team_sees_each_providers_figures(db_session, client, sign_in):
    group = _provider_group()
    log_cancelled(group, reason="tutor_absent", notice_hours=2)
    central = make_member(Role.CENTRAL_TEAM, trust=group.school.trust)
    db_session.commit()
    sign_in(central)
    response = client.get(f"/trusts/{group.trust_id}/tutoring/providers")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert group.provider.name in body and "No-shows" in body and "Save the weights" in body
    assert 'role="region"' in body


def test_a_wrong_period_says_what_to_fix_and_shows_no_figures(db_session, client, sign_in):
    group = _provider_group()
    central = make_member(Role.CENTRAL_TEAM, trust=group.school.trust)
    db_session.commit()
    sign_in(central)
    url = f"/trusts/{group.trust_id}/tutoring/providers"
    response = client.get(url, query_string={"start": "2025-02-31", "end": ""})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Start date must be a real date" in body and "Enter the end date" in body
    future = (_today() + timedelta(days=3)).isoformat()
    response = client.get(url, query_string={"start": _today().isoformat(), "end": future})
    assert response.status_code == 400
    assert "The end date must be today or in the past" in response.get_data(as_text=True)
    response = client.get(url, query_string={"start": _today().isoformat(),
                                             "end": (_today() - timedelta(days=1)).isoformat()})
    assert "must be the same as or after" in response.get_data(as_text=True)


def test_trustees_see_the_page_without_the_forms(db_session, client, sign_in):
    group = _provider_group()
    trustee = make_member(Role.TRUSTEE, trust=group.school.trust)
    db_session.commit()
    sign_in(trustee)
    response = client.get(f"/trusts/{group.trust_id}/tutoring/providers")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and group.provider.name in body
    assert "Save the weights" not in body


def test_nobody_outside_the_trust_sees_its_providers(db_session, client, sign_in):
    group = _provider_group()
    outsider = make_member(Role.CENTRAL_TEAM, trust=make_trust())
    lead = make_member(Role.SCHOOL_LEADER, school=group.school)
    db_session.commit()
    for person in (outsider, lead):
        sign_in(person)
        assert client.get(f"/trusts/{group.trust_id}/tutoring/providers").status_code == 404
        assert client.get(f"/trusts/{group.trust_id}/tutoring/providers/"
                          f"{group.provider_id}/scores").status_code == 404


def test_service_levels_module_lists_every_event_with_a_label():
    assert set(service_levels.EVENTS) == set(service_levels.EVENT_LABELS)
    assert set(service_levels.EVENTS) == set(service_levels.event_conditions())
