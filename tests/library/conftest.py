import pytest


@pytest.fixture(autouse=True)
def no_observations(monkeypatch):
    """No observation scores unless a test gives some (the observations domain owns them)."""
    monkeypatch.setattr("lms.library.recommendations.observation_scores", lambda ids: {})
