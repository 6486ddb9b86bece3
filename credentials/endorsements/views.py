"""Public verification (page, JSON, QR code, certificate, DID document, status lists), the
tutor's endorsements, and the central team's suspend / reinstate / revoke."""

from __future__ import annotations

import functools
import hashlib
from datetime import timedelta
from urllib.parse import urlencode

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from credentials import bp
from credentials.endorsements import services
from credentials.endorsements.certificate import certificate_pdf, qr_svg
from credentials.endorsements.keys import did_document
from credentials.endorsements.models import Endorsement, StatusList, VerificationCheck
from credentials.endorsements.queries import endorsement_for
from credentials.endorsements.status import list_url
from lms.platform.authz import Access, Action, access, can, require
from lms.platform.counters import client_key, counters, wait_in_words
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.forms import RequiredReasonForm
from lms.platform.web import error_response
from lms.programme.models import Pathway

#: What ``Accept`` may ask for to get the signed credential instead of the page.
CREDENTIAL_TYPES = ("application/vc+ld+json", "application/vc", "application/ld+json",
                    "application/json")


def _json_response(body: str, *, mimetype: str = "application/json", max_age: int = 0,
                   etag: bool = False, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype=mimetype)
    response.headers["Cache-Control"] = (f"public, max-age={max_age}" if max_age
                                         else "no-cache")
    response.headers["Access-Control-Allow-Origin"] = "*"
    if etag:
        response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:32])
        response.make_conditional(request)
    return response


def _problem(status: int, title: str, detail: str) -> Response:
    import json

    return _json_response(json.dumps({"type": "about:blank", "title": title, "status": status,
                                      "detail": detail}),
                          mimetype="application/problem+json", status=status)


# --- the issuer and its status lists -------------------------------------------------------


@bp.get("/.well-known/did.json")
@access(Access.PUBLIC)
def did_json():
    import json

    document = did_document()
    db.session.commit()
    return _json_response(json.dumps(document, indent=2), mimetype="application/did+json",
                          max_age=300, etag=True)


@bp.get("/status/<list_id>")
@access(Access.PUBLIC)
def status_list(list_id: str):
    """A signed BitstringStatusListCredential; verifiers may cache it for its ``ttl``."""
    listing = db.session.scalar(select(StatusList).where(StatusList.public_id == list_id)) \
        if services.is_public_id(list_id) else None
    if listing is None or listing.credential is None:
        return _problem(404, "Status list not found", "No status list has this address.")
    wanted = request.accept_mimetypes.best_match(["application/vc+ld+json", "application/json"])
    return _json_response(listing.credential, mimetype=wanted or "application/json",
                          max_age=current_app.config["STATUS_LIST_TTL_SECONDS"], etag=True)


# --- one endorsement, for anyone ----------------------------------------------------------


def _limited_per_address(view):
    """At most ``VERIFICATION_REQUESTS_PER_MINUTE`` requests a minute from one network
    address to the page, JSON, QR code and certificate together; then 429 with Retry-After,
    as the friendly page or, to a client asking for JSON, a problem document."""

    @functools.wraps(view)
    def limited(*args, **kwargs):
        limit = current_app.config["VERIFICATION_REQUESTS_PER_MINUTE"]
        allowed, retry_after = counters.hit(client_key("verify:addr", request.remote_addr),
                                            limit, timedelta(minutes=1))
        if allowed:
            return view(*args, **kwargs)
        detail = (f"This network has checked more than {limit} endorsements in a minute. Try "
                  f"again in {wait_in_words(retry_after)}. Tutoring providers checking many "
                  "tutors can use the verification API.")
        if request.endpoint == "credentials.credential_json" or _wants_credential():
            response = _problem(429, "Too many requests", detail)
        else:
            response = current_app.make_response(error_response(429, detail))
        response.headers["Retry-After"] = str(retry_after)
        response.headers["Cache-Control"] = "no-store"
        return response

    return limited


def _wants_credential() -> bool:
    return request.accept_mimetypes.best_match(["text/html", *CREDENTIAL_TYPES]) \
        in CREDENTIAL_TYPES


def _credential_response(public_id: str) -> Response:
    """The signed credential, or a problem document when there is none."""
    text = services.issued_credential(public_id)
    if text is None:
        return _problem(404, "Credential not found", "No endorsement has this address.")
    wanted = request.accept_mimetypes.best_match(CREDENTIAL_TYPES) or "application/json"
    response = _json_response(text, mimetype=wanted)
    if request.args.get("download"):
        response.headers["Content-Disposition"] = (
            f'attachment; filename="tutor-endorsement-{public_id}.json"')
    return response


@bp.get("/credentials/<public_id>")
@access(Access.PUBLIC)
@_limited_per_address
def credential(public_id: str):
    """The verification page: live status first, then who, what and when. With an ``Accept``
    asking for a credential, the signed credential itself."""
    if _wants_credential():
        response = _credential_response(public_id)
    else:
        endorsement = services.find_endorsement(public_id)
        status = services.public_status(endorsement)
        response = Response(render_template(
            "credentials/credential.html", endorsement=endorsement, status=status,
            page_url=services.credential_url(public_id) if endorsement else None,
            status_list_url=list_url(endorsement.status_list) if endorsement else None),
            status=200 if endorsement else 404)
        response.headers["Cache-Control"] = "no-cache"
    response.vary.add("Accept")
    return response


@bp.get("/credentials/<public_id>.json")
@access(Access.PUBLIC)
@_limited_per_address
def credential_json(public_id: str):
    return _credential_response(public_id)


@bp.get("/credentials/<public_id>/qr.svg")
@access(Access.PUBLIC)
@_limited_per_address
def credential_qr(public_id: str):
    if services.find_endorsement(public_id) is None:
        abort(404)
    response = Response(qr_svg(services.credential_url(public_id)), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/credentials/<public_id>/certificate.pdf")
@access(Access.PUBLIC)
@_limited_per_address
def credential_certificate(public_id: str):
    endorsement = services.find_endorsement(public_id) or abort(404)
    pdf = certificate_pdf(endorsement, services.public_status(endorsement),
                          services.credential_url(public_id),
                          current_app.config["ISSUER_NAME"])
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'{"attachment" if request.args.get("download") else "inline"}; '
        f'filename="tutor-endorsement-{public_id}.pdf"')
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/achievements/<slug>")
@access(Access.PUBLIC)
def achievement(slug: str):
    """What each endorsement certifies (the ``Achievement`` in every credential)."""
    pathway = next((p for p in Pathway if p.value.replace("_", "-") == slug), None) \
        or abort(404)
    name, description, narrative = services.ACHIEVEMENTS[pathway]
    return render_template("credentials/achievement.html", name=name, description=description,
                           narrative=narrative, pathway=pathway)


# --- the tutor's own endorsements ---------------------------------------------------------


def linkedin_url(endorsement: Endorsement) -> str:
    """LinkedIn's documented "add a certification to your profile" link."""
    name = services.ACHIEVEMENTS[endorsement.pathway][0]
    return "https://www.linkedin.com/profile/add?" + urlencode({
        "startTask": "CERTIFICATION_NAME",
        "name": name,
        "organizationName": current_app.config["ISSUER_NAME"],
        "issueYear": endorsement.issued_at.year,
        "issueMonth": endorsement.issued_at.month,
        "expirationYear": endorsement.valid_until.year,
        "expirationMonth": endorsement.valid_until.month,
        "certUrl": services.credential_url(endorsement.public_id),
        "certId": endorsement.public_id,
    })


@bp.get("/my/endorsements")
@access(Access.SIGNED_IN)
def my_endorsements():
    endorsements = db.session.scalars(select(Endorsement).where(
        Endorsement.user_id == current_user.id).order_by(Endorsement.issued_at.desc())).all()
    checks = {e.id: db.session.scalars(
        select(VerificationCheck).where(VerificationCheck.endorsement_id == e.id)
        .order_by(VerificationCheck.checked_at.desc()).limit(20)).all() for e in endorsements}
    return render_template("credentials/my_endorsements.html", endorsements=endorsements,
                           checks=checks, status_of=services.public_status,
                           url_of=services.credential_url, linkedin_url=linkedin_url)


# --- staff --------------------------------------------------------------------------------


def _forms() -> dict[str, RequiredReasonForm]:
    return {name: RequiredReasonForm(prefix=name) for name in ("suspend", "reinstate", "revoke")}


@bp.get("/endorsements/<int:endorsement_id>")
@access(Access.SIGNED_IN)
def endorsement(endorsement_id: int):
    item = require(Action.VIEW, db.session.get(Endorsement, endorsement_id))
    return _staff_page(item, _forms())


def _staff_page(item: Endorsement, forms: dict, status: int = 200):
    return render_template("credentials/endorsement.html", endorsement=item, forms=forms,
                           status=services.public_status(item),
                           can_decide=can(current_user, Action.DECIDE, item),
                           page_url=services.credential_url(item.public_id)), status


_CHANGES = {
    "suspend": (services.suspend_endorsement, "The endorsement is suspended."),
    "reinstate": (services.reinstate_endorsement, "The endorsement is valid again."),
    "revoke": (services.revoke_endorsement, "The endorsement is revoked."),
}


@bp.post("/endorsements/<int:endorsement_id>/<any(suspend, reinstate, revoke):change>")
@access(Access.SIGNED_IN)
def change_endorsement(endorsement_id: int, change: str):
    item = require(Action.DECIDE, db.session.get(Endorsement, endorsement_id))
    forms = _forms()
    form = forms[change]
    if form.validate_on_submit():
        service, message = _CHANGES[change]
        try:
            service(item, reason=form.reason.data, actor=current_user)
        except DomainError as error:
            db.session.rollback()
            form.add_domain_error(error)
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("credentials.endorsement", endorsement_id=item.id))
    return _staff_page(item, forms, 400)


@bp.app_context_processor
def _endorsement_lookup() -> dict:
    """Pages of lower domains (an assessment's result) link to the endorsement it issued
    without importing this package."""
    return {"endorsement_for": endorsement_for}
