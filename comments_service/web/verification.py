"""Verification pages (French, no JavaScript, CSRF on every form) and the same as a JSON API.

Pages:
  GET/POST /verification                        the member's level, the declaration form (RPPS, names,
                                                 display name), their vouches and shareable vouching link,
                                                 the « Se connecter avec Pro Santé Connect » button
  POST     /verification/lien                   the candidate replaces their vouching link (the old one stops working)
  GET/POST /verification/parrainer/<token>      a verified physician vouches for the candidate of the link
  GET      /verification/psc                    leave for Pro Santé Connect (web/psc.py)
  GET      /verification/psc/retour             come back from it: the proof is recorded, or the reason why not
  GET      /verification/examen                 moderators: declared members waiting, verified members
  POST     /verification/examen/<id>            a moderator's review of a proof (audit-logged)
  POST     /verification/revoquer/<id>          a moderator's revocation, with its reason
API (JSON; the session of web/auth.py, bearer or cookie):
  GET  /api/verification                        the caller's status, links (page, vouching link, PSC)
  POST /api/verification                        declare {rpps, last_name, first_name, display_name?}
  POST /api/verification/vouch-link             a new vouching link for the caller (declared members)
  GET  /api/verification/vouch/<token>          the candidate of a vouching link (public name, level, count)
  POST /api/verification/vouch/<token>          vouch {last_name}
  GET  /api/verification/candidates             moderators: members waiting for a proof
  POST /api/verification/<id>/review            moderators: {proof, rpps, reason}
  POST /api/verification/<id>/revoke            moderators: {reason}
"""

from __future__ import annotations

import functools

from flask import Blueprint, current_app, redirect, request, url_for

from comments_service.actions.accounts import announce_rename
from comments_service.core import events as hooks
from comments_service.core.db import get_db
from comments_service.core.errors import ApiError
from comments_service.domain import verification as verify
from comments_service.domain.posts import query_one
from comments_service.mail import outbox
from comments_service.web import psc
from comments_service.web.auth import current_account, require_account, signed_in_page
from comments_service.web.body import json_body, json_response
from comments_service.web.forms import CSRF_MESSAGE, check_csrf, csrf_token, keep_typed_when_refused, page

bp = Blueprint("verification", __name__)


@bp.record_once
def _warn_half_configured_psc(state) -> None:
    app = state.app
    if app.extensions["confreres_network"].psc is not None and not app.config.get("PSC_CLIENT_SECRET"):
        app.logger.warning(
            "[psc] is set in network.toml but CONFRERES_PSC_CLIENT_SECRET is not: Pro Santé Connect stays off"
        )

NOTICES = {
    "declare": "Votre déclaration est enregistrée : il reste à apporter une preuve (ci-dessous).",
    "psc": "Pro Santé Connect a confirmé votre inscription : votre badge « Médecin vérifié » est actif.",
    "merci": "Merci : votre parrainage est enregistré.",
    "examine": "Examen enregistré : ce membre est vérifié.",
    "revoque": "Vérification révoquée.",
    "lien": "Nouveau lien de parrainage créé : l'ancien ne fonctionne plus.",
}


def _app():
    return current_app._get_current_object()


def _links(db, account_id: int, level: str | None) -> dict:
    """The member's links; the vouching link only while there is something to vouch for (level `declared`).

    Built from the configured `comments_url` (outbox.external), as every link the service hands out, never from the
    request's Host header: a vouching link is shared with confrères, and one built from a forged Host would send
    them, and the candidate's token, elsewhere."""
    vouch = None
    if level == "declared":
        vouch = outbox.external("verification.vouch_page", token=verify.vouch_link(db, account_id))
    return {
        "page": outbox.external("verification.page_status"),
        "vouch": vouch,
        "psc": outbox.external("verification.psc_start") if psc.configured(_app()) else None,
    }


def _api_status(db, account_id: int) -> dict:
    status = verify.status(db, account_id)
    return {**status, "links": _links(db, account_id, status["level"])}


def _json(obj, status: int = 200):
    return json_response(obj, status, {"Cache-Control": "private, no-store"})


def _body() -> dict:
    payload = json_body()
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_json", "Le corps de la requête doit être un objet JSON.")
    return payload


STALE_LINK = (
    "Ce lien de parrainage n'est pas (ou plus) valide : le confrère a pu en créer un nouveau. Demandez-lui le "
    "lien affiché sur sa page « Vérification »."
)


def _candidate(token: str) -> int:
    candidate_id = verify.candidate_of_link(get_db(), token)
    if candidate_id is None:  # unknown, replaced, or an old signed link (before issue 10)
        raise ApiError(404, "unknown_candidate", STALE_LINK)
    return candidate_id


def _candidate_summary(db, candidate_id: int) -> dict:
    from comments_service.domain.comments import query_one

    row = query_one(
        db,
        "SELECT a.display_name, v.level, v.specialty FROM accounts a LEFT JOIN verifications v ON v.account_id = a.id"
        " WHERE a.id = ?",
        (candidate_id,),
    )
    if row is None:
        raise ApiError(404, "unknown_candidate", STALE_LINK)
    return {
        "name": row["display_name"] or "Un membre",
        "level": row["level"],
        "vouches": len(verify.vouches(db, candidate_id)),
        "vouches_needed": verify.VOUCHES_NEEDED,
    }


# -- API ------------------------------------------------------------------------------------------------

@bp.get("/api/verification")
def api_status():
    account = require_account()
    return _json(_api_status(get_db(), account["id"]))


@bp.post("/api/verification")
def api_declare():
    payload = _body()
    account = require_account()
    db = get_db()
    verify.declare(
        _app(), db, account["id"], payload.get("rpps"), payload.get("last_name"), payload.get("first_name"),
        display_name=payload.get("display_name"),
    )
    hooks.emit("verification.declared", account_id=account["id"])  # sends a contested number's notice, if any
    announce_rename(db, account["id"], account["display_name"])  # under a pseudonym: the Notes sent away take it
    return _json(_api_status(db, account["id"]))


def _renew_link(db, account_id: int) -> None:
    if verify.level_of(db, account_id) != "declared":
        raise ApiError(409, "nothing_to_vouch", "Un lien de parrainage ne sert qu'à une inscription déclarée, pas encore vérifiée.")
    verify.renew_vouch_link(db, account_id)


@bp.post("/api/verification/vouch-link")
def api_renew_vouch_link():
    """A new vouching link for the caller; the old one stops working."""
    account = require_account()
    db = get_db()
    _renew_link(db, account["id"])
    return _json(_api_status(db, account["id"]))


@bp.get("/api/verification/vouch/<token>")
def api_vouch_candidate(token: str):
    require_account()
    return _json({"candidate": _candidate_summary(get_db(), _candidate(token))})


@bp.post("/api/verification/vouch/<token>")
def api_vouch(token: str):
    payload = _body()
    account = require_account()
    candidate_id = _candidate(token)
    db = get_db()
    verify.vouch(_app(), db, candidate_id, account, payload.get("last_name"))
    return _json({"candidate": _candidate_summary(db, candidate_id)}, 201)


def _moderator() -> dict:
    account = require_account()
    if account.get("role") not in verify.REVIEWER_ROLES:
        raise ApiError(403, "not_a_moderator", "Réservé aux modérateurs du réseau.")
    return account


@bp.get("/api/verification/candidates")
def api_candidates():
    _moderator()
    return _json({"candidates": verify.candidates(get_db())})


@bp.post("/api/verification/<id:account_id>/review")
def api_review(account_id: int):
    payload = _body()
    moderator = _moderator()
    db = get_db()
    verify.review(
        _app(), db, account_id, moderator, proof=payload.get("proof"), rpps_seen=payload.get("rpps"),
        reason=payload.get("reason"),
    )
    return _json({"account": account_id, "level": verify.level_of(db, account_id)})


@bp.post("/api/verification/<id:account_id>/revoke")
def api_revoke(account_id: int):
    payload = _body()
    moderator = _moderator()
    db = get_db()
    cleared = verify.revoke(_app(), db, account_id, payload.get("reason"), actor_id=moderator["id"])
    hooks.emit("verification.revoked", account_id=account_id)  # sends the member's notice
    return _json({"account": account_id, "level": "revoked", "comments_unbadged": cleared})


# -- pages ----------------------------------------------------------------------------------------------

def _status_page(account: dict, form: dict | None = None, errors=(), status: int = 200, notice=None):
    db = get_db()
    state = verify.status(db, account["id"])
    row = verify.account_row(db, account["id"])
    by_field = {}
    for err in errors:
        by_field.setdefault(err.field or "form", err.message)
    form = form if form is not None else {"display_name": row["display_name"]}
    return page(
        "verification.html",
        status,
        account=account,
        state=state,
        links=_links(db, account["id"], state["level"]),
        psc_enabled=psc.configured(_app()),
        pseudonyms=current_app.extensions["confreres_network"].policies.pseudonyms,
        form=form,
        errors=list(errors),
        by_field=by_field,
        notice=notice,
        is_moderator=account.get("role") in verify.REVIEWER_ROLES,
        csrf=csrf_token(f"verification:{account['id']}"),
    )


@bp.get("/verification")
@signed_in_page
def page_status(account):
    return _status_page(account, notice=NOTICES.get(request.args.get("etat", "")))


def _declared() -> dict:
    """What the declaration form posted, as typed (re-shown on error)."""
    return {key: request.form.get(key, "") for key in ("rpps", "last_name", "first_name", "display_name")}


DECLARATION_FIELDS = {  # what a declaration posted after its session ended shows back (auth.expired_form)
    "rpps": "Numéro RPPS",
    "last_name": "Nom d'exercice",
    "first_name": "Prénom d'exercice",
    "display_name": "Nom affiché à côté de vos commentaires",
}


@bp.post("/verification")
@signed_in_page(typed=DECLARATION_FIELDS)
def page_declare(account):
    form = _declared()
    if not check_csrf(f"verification:{account['id']}"):
        return _status_page(account, form, [ApiError(403, "invalid_csrf", CSRF_MESSAGE)], 403)
    try:
        verify.declare(_app(), get_db(), account["id"], form["rpps"], form["last_name"], form["first_name"],
                       display_name=form["display_name"])
    except ApiError as err:
        return _status_page(account, form, [err], err.status)
    hooks.emit("verification.declared", account_id=account["id"])
    announce_rename(get_db(), account["id"], account["display_name"])
    return redirect(url_for("verification.page_status", etat="declare"), 303)


@bp.post("/verification/lien")
@signed_in_page
def page_renew_vouch_link(account):
    if not check_csrf(f"verification:{account['id']}"):
        return _status_page(account, errors=[ApiError(403, "invalid_csrf", CSRF_MESSAGE)], status=403)
    try:
        _renew_link(get_db(), account["id"])
    except ApiError as err:
        return _status_page(account, errors=[err], status=err.status)
    return redirect(url_for("verification.page_status", etat="lien") + "#parrainage", 303)


def _vouch_page(account: dict, token: str, candidate_id: int, form=None, errors=(), status=200, notice=None):
    db = get_db()
    by_field = {}
    for err in errors:
        by_field.setdefault(err.field or "form", err.message)
    return page(
        "verification_vouch.html",
        status,
        account=account,
        token=token,
        candidate=_candidate_summary(db, candidate_id),
        is_self=account["id"] == candidate_id,
        voucher_verified=verify.level_of(db, account["id"]) == "verified",
        already=bool(query_one(
            db, "SELECT 1 FROM vouches WHERE candidate_id = ? AND voucher_id = ?", (candidate_id, account["id"])
        )),
        # past the attempt limit the form would only answer 429: say so instead of showing it
        locked=verify.vouch_limit(_app(), db, candidate_id, account["id"], verify.utcnow()),
        form=form or {},
        errors=list(errors),
        by_field=by_field,
        notice=notice,
        csrf=csrf_token(f"vouch:{candidate_id}"),
    )


@bp.get("/verification/parrainer/<token>")
@signed_in_page
def vouch_page(account, token: str):
    candidate_id = _candidate(token)
    return _vouch_page(account, token, candidate_id, notice=NOTICES.get(request.args.get("etat", "")))


def _vouch_typed() -> dict:
    return {"last_name": request.form.get("last_name", "")}


@bp.post("/verification/parrainer/<token>")
@signed_in_page(typed={"last_name": "Nom d'exercice de ce confrère"})
def vouch_submit(account, token: str):
    candidate_id = _candidate(token)
    form = _vouch_typed()
    if not check_csrf(f"vouch:{candidate_id}"):
        return _vouch_page(account, token, candidate_id, form, [ApiError(403, "invalid_csrf", CSRF_MESSAGE)], 403)
    try:
        verify.vouch(_app(), get_db(), candidate_id, account, form["last_name"])
    except ApiError as err:
        return _vouch_page(account, token, candidate_id, form, [err], err.status)
    return redirect(url_for("verification.vouch_page", token=token, etat="merci"), 303)


# -- Pro Santé Connect ------------------------------------------------------------------------------------

def _psc_cookie_path() -> str:
    return (request.script_root or "") + "/verification/psc"


@bp.get("/verification/psc")
@signed_in_page
def psc_start(account):
    if not psc.configured(_app()):
        raise ApiError(404, "psc_not_configured", "Pro Santé Connect n'est pas configuré sur ce réseau.")
    try:
        url, cookie = psc.start(_app(), account["id"])
    except psc.PscError as err:
        return _status_page(account, errors=[ApiError(err.status, err.code, err.message)], status=err.status)
    response = redirect(url, 302)
    response.set_cookie(
        psc.COOKIE, cookie, max_age=psc.FLOW_MAX_AGE, httponly=True, samesite="Lax", secure=request.is_secure,
        path=_psc_cookie_path(),
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/verification/psc/retour")
@signed_in_page
def psc_callback(account):
    if not psc.configured(_app()):
        raise ApiError(404, "psc_not_configured", "Pro Santé Connect n'est pas configuré sur ce réseau.")
    try:
        if request.args.get("error"):
            raise psc.PscError("psc_cancelled", "La connexion à Pro Santé Connect a été annulée ou refusée.", 400)
        flow = psc.read_flow(_app(), request.cookies.get(psc.COOKIE, ""), request.args.get("state", ""), account["id"])
        identity = psc.finish(_app(), flow, request.args.get("code", ""))
        verify.verify_by_psc(_app(), get_db(), account["id"], identity.rpps, last_name=identity.last_name,
                             first_name=identity.first_name)
    except psc.PscError as err:
        response = _status_page(account, errors=[ApiError(err.status, err.code, err.message)], status=err.status)
    except ApiError as err:
        response = _status_page(account, errors=[err], status=err.status)
    else:
        response = redirect(url_for("verification.page_status", etat="psc"), 303)
    response.delete_cookie(psc.COOKIE, path=_psc_cookie_path(), httponly=True, samesite="Lax", secure=request.is_secure)
    return response


# -- moderators -------------------------------------------------------------------------------------------

def _review_page(account: dict, errors=(), status=200, notice=None, form=None, target=None):
    from comments_service.domain.comments import query

    db = get_db()
    verified = [
        dict(r) for r in query(
            db,
            "SELECT v.account_id, a.display_name, v.method, v.verified FROM verifications v"
            " JOIN accounts a ON a.id = v.account_id WHERE v.level = 'verified' ORDER BY v.verified DESC",
        )
    ]
    candidates = verify.candidates(db)
    by_field = {}
    for err in errors:
        by_field.setdefault(err.field or "form", err.message)
    # the ids of the form the errors came from (one form per member): None when that member's form is not shown
    shown = {c["account_id"] for c in candidates} | {v["account_id"] for v in verified}
    return page(
        "verification_review.html",
        status,
        account=account,
        candidates=candidates,
        verified=verified,
        by_field=by_field,
        suffix=f"-{target}" if target in shown else None,
        proofs=verify.PROOFS,
        methods=verify.METHOD_LABELS,
        errors=list(errors),
        notice=notice,
        form=form or {},
        target=target,
        csrf=csrf_token(f"verification-review:{account['id']}"),
    )


def moderator_page(view=None, *, typed: dict | None = None):
    """A page of the network's moderators: `signed_in_page` (`typed`: what its form shows back when posted after
    the session ended), then a 403 for anyone else."""

    def decorate(view):
        @functools.wraps(view)
        def checked(account, *args, **kwargs):
            if account.get("role") not in verify.REVIEWER_ROLES:
                raise ApiError(403, "not_a_moderator", "Réservé aux modérateurs du réseau.")
            return view(account, *args, **kwargs)

        return signed_in_page(checked, typed=typed)

    return decorate(view) if view is not None else decorate


@bp.get("/verification/examen")
@moderator_page
def review_page(account):
    return _review_page(account, notice=NOTICES.get(request.args.get("etat", "")))


def _review_typed() -> dict:
    return {key: request.form.get(key, "") for key in ("proof", "rpps", "reason")}


@bp.post("/verification/examen/<id:account_id>")
@moderator_page(typed={"proof": ("Justificatif examiné", verify.PROOFS), "rpps": "Numéro RPPS lu sur le justificatif",
                       "reason": "Ce que vous avez vérifié"})
def review_submit(account, account_id: int):
    form = _review_typed()
    if not check_csrf(f"verification-review:{account['id']}"):
        return _review_page(account, [ApiError(403, "invalid_csrf", CSRF_MESSAGE)], 403, form=form, target=account_id)
    try:
        verify.review(_app(), get_db(), account_id, account, proof=form["proof"], rpps_seen=form["rpps"],
                      reason=form["reason"])
    except ApiError as err:
        return _review_page(account, [err], err.status, form=form, target=account_id)
    return redirect(url_for("verification.review_page", etat="examine"), 303)


def _revoke_typed() -> dict:
    return {"reason": request.form.get("reason", "")}


@bp.post("/verification/revoquer/<id:account_id>")
@moderator_page(typed={"reason": "Motif de la révocation"})
def revoke_submit(account, account_id: int):
    form = _revoke_typed()
    if not check_csrf(f"verification-review:{account['id']}"):
        return _review_page(account, [ApiError(403, "invalid_csrf", CSRF_MESSAGE)], 403, form=form, target=account_id)
    try:
        verify.revoke(_app(), get_db(), account_id, form["reason"], actor_id=account["id"])
    except ApiError as err:
        return _review_page(account, [err], err.status, form=form, target=account_id)
    hooks.emit("verification.revoked", account_id=account_id)
    return redirect(url_for("verification.review_page", etat="revoque"), 303)


# -- over the write budget: the forms come back with what was typed (web/forms.py) ------------------------------
# The budget is spent before the view runs: these check who is signed in (and a moderator's role) as it would.

def _member_over_budget(page_of):
    def answer(error: ApiError):
        account = current_account()
        return None if account is None else page_of(account, error)

    return answer


def _moderator_over_budget(typed):
    def answer(account: dict, error: ApiError):
        if account.get("role") not in verify.REVIEWER_ROLES:
            return None
        return _review_page(account, [error], 429, form=typed(), target=request.view_args["account_id"])

    return _member_over_budget(answer)


def _vouch_over_budget(account: dict, error: ApiError):
    token = request.view_args["token"]
    return _vouch_page(account, token, _candidate(token), _vouch_typed(), [error], 429)


keep_typed_when_refused(
    bp,
    page_declare=_member_over_budget(lambda account, error: _status_page(account, _declared(), [error], 429)),
    page_renew_vouch_link=_member_over_budget(lambda account, error: _status_page(account, errors=[error], status=429)),
    vouch_submit=_member_over_budget(_vouch_over_budget),
    review_submit=_moderator_over_budget(_review_typed),
    revoke_submit=_moderator_over_budget(_revoke_typed),
)
