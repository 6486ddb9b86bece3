"""A person's own data: downloading everything the platform holds about them, and erasure on
request."""

from __future__ import annotations

import json

from flask import Response, render_template
from flask_login import current_user
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from lms.accounts.models import User
from lms.platform.authz import Access, Action, access, require
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.forms import Form
from lms.platform.roles import Role
from lms.platform.web import bp
from lms.privacy import services as privacy


class ErasureForm(Form):
    reason = TextAreaField(
        "Reason for the erasure",
        description="Kept in the audit log for good, so name no one: for example, “request "
                    "received by email on 3 March, reference 1234”.",
        validators=[DataRequired("Give a reason for the erasure"), Length(max=1000)])
    confirm_email = StringField(
        "Type the person's email address to confirm",
        validators=[DataRequired("Type the person's email address to confirm")])


@bp.app_template_global("erasure_form")
def erasure_form() -> ErasureForm:
    """An empty erasure form, for the person's page."""
    return ErasureForm(formdata=None)


@bp.app_template_test("erased")
def erased(user: User | None) -> bool:
    """``{% if person is erased %}``: nothing may show an erased person's name."""
    return privacy.is_erased(user)


@bp.get("/privacy")
@access(Access.PUBLIC)
def privacy_notice():
    return render_template("lms/privacy.html")


@bp.get("/my/data.json")
@access(Access.SIGNED_IN)
def my_data():
    """Everything the platform holds about the signed-in person, as a JSON download."""
    from lms.platform.clock import today

    body = json.dumps(privacy.personal_data(current_user), ensure_ascii=False, indent=2)
    response = Response(body, content_type="application/json; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="my-data-{today():%Y-%m-%d}.json"')
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/users/<int:user_id>/erase")
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def erase_user(user_id: int):
    """Erase a person's personal data at their request: a programme admin only, with a reason
    and the person's email address typed to confirm."""
    person = require(Action.MANAGE, db.session.get(User, user_id))
    form = ErasureForm()
    if form.validate_on_submit():
        typed = (form.confirm_email.data or "").strip().lower()
        if typed != person.email:
            form.confirm_email.errors = [
                *form.confirm_email.errors,
                "The email address does not match this person's: type it exactly as shown"]
        else:
            try:
                report = privacy.erase_person(person, reason=form.reason.data,
                                              actor=current_user)
            except DomainError as error:
                db.session.rollback()
                form.add_domain_error(error)
            else:
                db.session.commit()
                return render_template("lms/erased.html", person=person, report=report)
    return render_template("lms/erase_person.html", person=person, form=form), 400
