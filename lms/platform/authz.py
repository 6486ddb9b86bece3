"""The one place that answers "may this user do this to this object?".

Views declare who may reach them with ``@access(...)``; then load objects through
``require(action, obj)``, which answers 404 when the user may not even know the object exists
and 403 when they may see it but not do this to it. List pages filter with the same facts
through the ``*_ids_for`` helpers of ``lms.organisations.policies``. Each domain registers the
policy for its own models with ``@policy(Model)``. A test enumerates the URL map and fails
on any route that has not declared its access.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

F = TypeVar("F", bound=Callable[..., Any])


class Action(enum.StrEnum):
    VIEW = "view"
    MANAGE = "manage"
    #: Move a school to another trust: a platform-level change.
    TRANSFER = "transfer"
    #: Nominate tutors at a school, and follow up those nominations.
    NOMINATE = "nominate"
    #: Approve or reject nominations, extend or withdraw enrolments: the central team's call.
    DECIDE = "decide"
    #: Work through the course and assessments of an enrolment: its tutor only.
    STUDY = "study"
    #: Log and correct a tutoring group's sessions: its tutor, and the school's tutoring staff.
    DELIVER = "deliver"


class Access(enum.StrEnum):
    #: Anyone, signed in or not (sign-in page, verification pages, health check).
    PUBLIC = "public"
    #: Any signed-in person; object checks inside the view narrow it further.
    SIGNED_IN = "signed_in"
    #: Someone whose password was just accepted and whose second factor is still to come
    #: (a marker in the session, for 10 minutes): the two-factor sign-in pages only.
    SECOND_FACTOR = "second_factor"


def access(kind: Access | str = Access.SIGNED_IN, roles: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Declare (and enforce) who may reach a view: public, any signed-in user, some roles, or
    someone half-way through signing in (password accepted, second factor pending)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if kind == Access.SECOND_FACTOR:
                if _pending_sign_in() is None:
                    from flask import redirect, url_for

                    return redirect(url_for("lms.sign_in"))
            elif kind != Access.PUBLIC:
                if not current_user.is_authenticated:
                    from lms.platform.extensions import login_manager

                    return login_manager.unauthorized()
                if roles and not (current_user.has_role(*roles) or current_user.is_programme_admin):
                    abort(403)
            return view(*args, **kwargs)

        wrapper.access = Access(kind)  # type: ignore[attr-defined]
        wrapper.roles = roles  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def _no_pending_sign_in() -> object | None:
    return None


_pending_sign_in: Callable[[], object | None] = _no_pending_sign_in


def pending_sign_in_loader(loader: Callable[[], object | None]) -> Callable[[], object | None]:
    """Register the function that answers who is half-way through signing in (their password
    accepted, their second factor to come), as Flask-Login's ``user_loader`` does for who is
    signed in. The accounts package registers it; ``Access.SECOND_FACTOR`` pages ask it."""
    global _pending_sign_in
    _pending_sign_in = loader
    return loader


# --- policies -----------------------------------------------------------------------------

_policies: dict[type, Callable[[Any, Action, Any], bool]] = {}


def policy(model: type) -> Callable:
    def register(fn: Callable[[Any, Action, Any], bool]):
        _policies[model] = fn
        return fn

    return register


def can(user: Any, action: Action, obj: Any) -> bool:
    if obj is None or user is None or not getattr(user, "is_authenticated", False):
        return False
    rule = _policies.get(type(obj))
    # The object's own rule first: a tutor reaching their own enrolment (every autosave of
    # an assessment) is answered without loading their memberships.
    if rule is not None and rule(user, action, obj):
        return True
    return action != Action.STUDY and user.is_programme_admin


def require(action: Action, obj: Any) -> Any:
    """Return ``obj`` if the current user may do ``action`` to it, else stop with 404 or 403."""
    if obj is None or not can(current_user, Action.VIEW, obj):
        abort(404)
    if action != Action.VIEW and not can(current_user, action, obj):
        abort(403)
    return obj
