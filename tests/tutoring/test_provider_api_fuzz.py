"""The session endpoints fuzzed from the OpenAPI document: whatever is sent, never a server
error, every refusal a problem document, every answer as documented; and nothing is logged
twice however often a request is retried."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import given
from schemathesis import GenerationMode

from credentials.providers import services as providers
from lms.platform.extensions import db
from tests.credentials.providers.test_api_fuzz import CHECKS, FUZZ, _send
from tests.factories import make_provider, make_school
from tests.tutoring_factory import make_cleared_tutor, make_group, make_programme

pytestmark = pytest.mark.once


@pytest.fixture
def operations(app, monkeypatch):
    monkeypatch.setitem(app.config, "API_REQUESTS_PER_MINUTE", 100_000)
    school = make_school()
    provider = make_provider()
    programme = make_programme(school.trust, delivery_model="provider", provider_id=provider.id)
    make_group(school, programme=programme, tutor=make_cleared_tutor(school))
    _, token = providers.create_api_key(provider, name="Fuzzer", actor=None)
    db.session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    found = {op.path: op for op in (r.ok() for r in schema.get_all_operations())}
    return found, {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("path", ["/sessions", "/groups"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_fuzzed_session_requests_never_fail_and_always_say_what_to_fix(operations, path, mode):
    found, auth = operations

    @FUZZ
    @given(case=found[path].as_strategy(mode))
    def run(case):
        _send(case, auth, CHECKS)

    run()
