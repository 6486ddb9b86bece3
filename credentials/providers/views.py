"""A provider's API keys."""

from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from credentials import bp
from credentials.providers.forms import ApiKeyForm
from lms.platform.authz import Access, Action, access, require
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.platform.web import commit_or_flash

# --- providers' API keys ------------------------------------------------------------------


def _provider(provider_id: int):
    from lms.organisations.models import Provider

    return require(Action.VIEW, db.session.get(Provider, provider_id))


@bp.route("/providers/<int:provider_id>/keys", methods=["GET", "POST"])
@access(Access.SIGNED_IN, roles=(Role.PROVIDER,))
def provider_keys(provider_id: int):
    from credentials.providers.models import ApiKey
    from credentials.providers.services import create_api_key

    provider = _provider(provider_id)
    form = ApiKeyForm()
    token = None
    if form.validate_on_submit():
        try:
            key, token = create_api_key(provider, name=form.name.data, actor=current_user)
        except DomainError as error:
            db.session.rollback()
            form.add_domain_error(error)
        else:
            db.session.commit()
            form = ApiKeyForm(formdata=None)
    keys = db.session.scalars(select(ApiKey).where(ApiKey.provider_id == provider.id)
                              .order_by(ApiKey.created_at.desc())).all()
    response = render_template("credentials/provider_keys.html", provider=provider, keys=keys,
                               form=form, token=token), 400 if form.errors else 200
    return response


@bp.post("/providers/<int:provider_id>/keys/<int:key_id>/revoke")
@access(Access.SIGNED_IN, roles=(Role.PROVIDER,))
def revoke_provider_key(provider_id: int, key_id: int):
    from credentials.providers.models import ApiKey
    from credentials.providers.services import revoke_api_key
    from lms.platform.forms import Form

    provider = _provider(provider_id)
    key = require(Action.MANAGE, db.session.get(ApiKey, key_id))
    if key.provider_id != provider.id or not Form().validate_on_submit():
        abort(400)
    commit_or_flash(lambda: revoke_api_key(key, actor=current_user),
                    f"The key “{key.name}” is revoked: requests with it are refused from now on.")
    return redirect(url_for("credentials.provider_keys", provider_id=provider.id))

