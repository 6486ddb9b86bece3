"""The header's links after training: an endorsed tutor's library, a tutor's observations."""

from lms.home.navigation import navigation
from tests.factories import make_endorsement, make_enrolment


def _labels(app, user) -> list[str]:
    from flask_login import login_user

    with app.test_request_context("/"):
        login_user(user)
        return [label for label, _ in navigation()]


def test_an_endorsed_tutor_has_the_library_and_their_observations(app, db_session):
    tutor = make_endorsement().user
    assert {"Library", "Observations"} <= set(_labels(app, tutor))


def test_a_tutor_still_training_has_no_library_yet(app, db_session):
    tutor = make_enrolment().user
    labels = _labels(app, tutor)
    assert "Library" not in labels and "Observations" in labels
