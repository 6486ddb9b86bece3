"""What every page's header shows: the navigation and the training window."""

from __future__ import annotations

from flask_login import current_user

from lms.platform.roles import Role


def training_window():
    """A tutor's open enrolment, so every page can show the days left."""
    from flask import has_request_context

    if not has_request_context() or not current_user.is_authenticated:
        return None
    if not current_user.has_role(Role.TUTOR):
        return None
    from lms.programme.queries import active_enrolment

    return active_enrolment(current_user)


def navigation() -> list[tuple[str, str]]:
    """The links in the header for the signed-in user's roles."""
    from flask import has_request_context, url_for

    if not has_request_context():
        return []
    if not current_user.is_authenticated:
        return [("Sign in", url_for("lms.sign_in"))]
    items = [("Home", url_for("lms.home"))]
    if current_user.has_role(Role.PROGRAMME_ADMIN):
        items += [("Trusts", url_for("lms.trusts")),
                  ("Programme dashboard", url_for("lms.programme_dashboard")),
                  ("Outbox", url_for("lms.outbox"))]
    for membership in current_user.memberships:
        if membership.role in (Role.CENTRAL_TEAM, Role.TRUSTEE) and membership.trust_id:
            items.append(
                (membership.trust.name, url_for("lms.trust", trust_id=membership.trust_id))
            )
    items += _dashboard_links()
    tutoring = {m.school_id: m.school for m in current_user.memberships
                if m.role in (Role.SCHOOL_LEADER, Role.TUTORING_LEAD) and m.school_id}
    items += [("Tutoring" if len(tutoring) == 1 else f"Tutoring at {school.name}",
               url_for("tutoring.school_tutoring", school_id=school_id))
              for school_id, school in tutoring.items()]
    items += _after_training_links()
    items += _safeguarding_links()
    items += [("Account", url_for("lms.account"))]
    seen: set[str] = set()
    unique = []
    for label, href in items:
        if href not in seen:
            seen.add(href)
            unique.append((label, href))
    return unique


def _after_training_links() -> list[tuple[str, str]]:
    """An endorsed tutor's library, and a tutor's observations."""
    from flask import url_for

    from lms.library.policies import may_use_library

    if not current_user.has_role(Role.TUTOR):
        return []
    items = [("Library", url_for("library.index"))] if may_use_library(current_user) else []
    return items + [("Observations", url_for("observations.my_observations"))]


def _safeguarding_links() -> list[tuple[str, str]]:
    """The concerns list for those concerns are for, and each trust's safeguarding figures for
    its central team, trustees and safeguarding lead."""
    from flask import url_for

    from lms.safeguarding.policies import TRUST_COUNT_ROLES, may_receive_alerts

    items = []
    if may_receive_alerts(current_user):
        items.append(("Safeguarding concerns", url_for("safeguarding.inbox")))
    for membership in current_user.memberships:
        if membership.role in TRUST_COUNT_ROLES and membership.trust_id:
            items.append(("Safeguarding", url_for("safeguarding.trust_safeguarding",
                                                  trust_id=membership.trust_id)))
    return items


def _dashboard_links() -> list[tuple[str, str]]:
    """A trust's dashboard for its central team, trustees and cluster leads, a school's for
    its leaders; named after the trust or school only when someone has more than one."""
    from flask import url_for

    boards = []
    for membership in current_user.memberships:
        if membership.role in (Role.CENTRAL_TEAM, Role.TRUSTEE, Role.CLUSTER_LEAD) \
                and membership.trust_id:
            boards.append((membership, url_for("lms.trust_dashboard",
                                               trust_id=membership.trust_id)))
        elif membership.role == Role.SCHOOL_LEADER and membership.school_id:
            boards.append((membership, url_for("lms.school_dashboard",
                                               school_id=membership.school_id)))
    if len({href for _, href in boards}) == 1:
        return [("Dashboard", boards[0][1])]
    return [(f"{(m.school if m.role == Role.SCHOOL_LEADER else m.trust).name} dashboard", href)
            for m, href in boards]



def _may_raise_concern() -> bool:
    from flask import has_request_context

    if not has_request_context() or not current_user.is_authenticated:
        return False
    from lms.safeguarding.policies import may_raise

    return may_raise(current_user)


def init_app(app) -> None:
    @app.context_processor
    def _template_globals():
        # Worked out once per request: an email rendered during a request (a concern's alerts,
        # two templates for each person told) needs none of it, and must not pay for it.
        from flask import g, has_request_context

        if not has_request_context():
            return {"Role": Role, "nav_items": [], "training_window": None,
                    "may_raise_concern": False}
        if "page_globals" not in g:
            g.page_globals = {"Role": Role, "nav_items": navigation(),
                              "training_window": training_window(),
                              "may_raise_concern": _may_raise_concern()}
        return g.page_globals
