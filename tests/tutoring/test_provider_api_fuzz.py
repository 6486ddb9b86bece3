"""The session endpoints fuzzed from the OpenAPI document: whatever is sent, never a server
error, every refusal a problem document, every answer as documented; and, for sessions of a
real group in any shape, nothing is ever logged twice however often a request is retried."""

from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from sqlalchemy import delete, func, select

from credentials.providers import services as providers
from lms.platform import clock
from lms.platform.extensions import db
from lms.tutoring.models import SessionAttendance, TutoringSession
from tests.credentials.providers.test_api_fuzz import CHECKS, FUZZ, _send
from tests.factories import make_provider, make_school
from tests.tutoring_factory import make_cleared_tutor, make_group, make_programme

pytestmark = pytest.mark.once


@pytest.fixture
def delivered(app, monkeypatch):
    monkeypatch.setitem(app.config, "API_REQUESTS_PER_MINUTE", 100_000)
    school = make_school()
    provider = make_provider()
    programme = make_programme(school.trust, delivery_model="provider", provider_id=provider.id)
    group = make_group(school, programme=programme, tutor=make_cleared_tutor(school))
    _, token = providers.create_api_key(provider, name="Fuzzer", actor=None)
    db.session.commit()
    return group, {"Authorization": f"Bearer {token}"}


@pytest.fixture
def operations(app, delivered):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return {op.path: op for op in (r.ok() for r in schema.get_all_operations())}


def _forget_sessions() -> None:
    db.session.rollback()
    db.session.execute(delete(SessionAttendance))
    db.session.execute(delete(TutoringSession))
    db.session.commit()


@pytest.mark.parametrize("path", ["/sessions", "/groups"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_fuzzed_session_requests_never_fail_and_always_say_what_to_fix(
        operations, delivered, path, mode):
    _, auth = delivered

    @FUZZ
    @given(case=operations[path].as_strategy(mode))
    def run(case):
        _send(case, auth, CHECKS)
        _forget_sessions()

    run()


@pytest.mark.parametrize("path", ["/sessions", "/groups"])
def test_fuzzed_requests_without_a_key_are_refused(operations, path):
    @FUZZ
    @given(case=operations[path].as_strategy(GenerationMode.POSITIVE))
    def run(case):
        case.headers = {k: v for k, v in (case.headers or {}).items()
                        if k.lower() != "authorization"}
        assert _send(case, None).status_code == 401

    run()


def _bodies(group):
    pupils = [p.pupil.pseudonym for p in group.current_places] + ["P-00000000"]
    mark = st.fixed_dictionaries(
        {"pupil": st.sampled_from(pupils), "status": st.sampled_from(["present", "late",
                                                                      "absent", "gone"])},
        optional={"absence_reason": st.sampled_from(["ill", "other", "nope", None]),
                  "engagement": st.one_of(st.none(), st.integers(0, 6))})
    return st.fixed_dictionaries(
        {"group_id": st.just(group.id),
         "held_on": st.integers(-35, 1).map(
             lambda n: (clock.today() + timedelta(days=n)).isoformat()),
         "status": st.sampled_from(["delivered", "cancelled"])},
        optional={"minutes_delivered": st.one_of(st.none(), st.integers(-1, 300)),
                  "late_start_minutes": st.integers(0, 250),
                  "cancel_reason": st.sampled_from(["tutor_absent", "school_event", "x"]),
                  "notice_hours": st.integers(0, 50),
                  "attendance": st.lists(mark, max_size=4),
                  "note": st.text(max_size=300)})


def _count() -> int:
    return db.session.scalar(select(func.count(TutoringSession.id)))


def test_a_retried_session_of_any_shape_is_never_counted_twice(client, delivered):
    group, auth = delivered

    @FUZZ
    @given(body=_bodies(group), other=_bodies(group))
    def run(body, other):
        try:
            _retry(body, other)
        finally:
            _forget_sessions()

    def _retry(body, other):
        headers = {**auth, "Idempotency-Key": "retry-me"}
        first = client.post("/api/v1/sessions", json=body, headers=headers, csrf=False)
        again = client.post("/api/v1/sessions", json=body, headers=headers, csrf=False)
        assert first.status_code in (201, 422), first.get_data(as_text=True)
        assert again.status_code == (200 if first.status_code == 201 else 422)
        assert _count() == (first.status_code == 201)
        if first.status_code == 201:
            assert again.get_json()["id"] == first.get_json()["id"]
            reused = client.post("/api/v1/sessions", json=other, headers=headers, csrf=False)
            # The same session again, another one refused, or a body that is not one at all.
            assert reused.status_code in (200, 409, 422)
            assert _count() == 1

    run()
