"""Sign-in by e-mail magic link, the profile page, and the same as a JSON API for the widget.

Pages (French, no JavaScript, CSRF on every form):
  GET/POST /auth             the sign-in form (re-shows the typed address on error)
  GET      /auth/sent        « un lien vous a été envoyé »
  GET      /auth/verify      the link of the mail: a page with one button (mail scanners prefetch
                             links: a GET never signs in nor spends the link)
  POST     /auth/verify      spends the link, creates the account if new, opens the sessions
  POST     /auth/signout     ends the cookie session
  GET/POST /account          profile, notification settings; /account/export, /account/delete
API (JSON, CORS for the network's origins):
  POST /api/auth/request {"email", "return"?}  -> 202, the same answer for any well-formed address
  POST /api/auth/signout {"everywhere"?}       -> ends the presented session (or all of them)
  GET/PATCH/DELETE /api/account, GET /api/account/export
  GET /api/account/comments?url=               -> the ids of one's own comments on that thread

After POST /auth/verify: a first-party cookie session for the service's pages, and, when the link
carried a `return` URL on a member blog, a second (bearer) session handed to that page in the
fragment: `<return>#confreres-session=<token>` — fragments never reach a server or a Referer.
"""

from __future__ import annotations

import json
from datetime import timedelta

from flask import Blueprint, current_app, redirect, request, url_for

from comments_service.actions.accounts import announce_rename, delete_account, export
from comments_service.core import events as hooks
from comments_service.core import tokens
from comments_service.core.db import get_db, write
from comments_service.core.errors import ApiError
from comments_service.domain import accounts, public, verification
from comments_service.mail import outbox
from comments_service.web.auth import (
    YES_NO,
    clear_session_cookie,
    current_account,
    current_session,
    require_account,
    set_session_cookie,
    signed_in_page,
)
from comments_service.web.body import json_body, json_response
from comments_service.web.forms import (
    CSRF_MESSAGE,
    check_csrf,
    csrf_token,
    keep_typed_when_refused,
    message,
    page,
)

bp = Blueprint("account", __name__)

FRAGMENT = "confreres-session"
SENT_MESSAGE = (
    "Si cette adresse est valide, un lien de connexion vient d'y être envoyé. Il est valable {minutes} minutes"
    " et ne sert qu'une fois."
)
DELETE_CHOICES = {"erase": False, "keep": True}


def _network():
    return current_app.extensions["confreres_network"]


def _max_age() -> int:
    return int(current_app.config["MAGIC_LINK_MAX_AGE"])


def _minutes() -> int:
    return max(1, _max_age() // 60)


def request_link(email: str, return_to: str) -> None:
    """Queue the magic-link mail (unless the address's hourly cap is reached): same outcome for the caller."""
    db = get_db()
    token = tokens.make_magic_token(current_app.config["SECRET_KEY"], email, return_to)
    link = outbox.external("account.verify", token=token)
    with write(db):
        outbox.queue_signin(db, email, link, max_age=_max_age())
    hooks.emit("mail.queued", kind="signin")


def _service_path(path: str) -> str:
    return (request.script_root or "") + path


# -- API ---------------------------------------------------------------------------------------------

def _json_body(optional: bool = False) -> dict:
    if optional and not request.get_data(cache=True):
        return {}
    return json_body()


def _json(obj, status: int = 200, headers: dict | None = None):
    return json_response(obj, status, headers)


@bp.post("/api/auth/request")
def api_request_link():
    payload = _json_body()
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_json", "Le corps de la requête doit être un objet JSON.")
    email = accounts.email_input(payload.get("email"))
    return_to = accounts.return_input(_network(), payload.get("return", ""))
    request_link(email, return_to)
    return _json({"status": "sent", "message": SENT_MESSAGE.format(minutes=_minutes())}, 202)


@bp.post("/api/auth/signout")
def api_signout():
    payload = _json_body(optional=True)
    account = require_account()
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_json", "Le corps de la requête doit être un objet JSON.")
    if not isinstance(payload.get("everywhere", False), bool):  # {"everywhere": {}} ended this session only
        raise ApiError(400, "invalid_type", "Le champ « everywhere » doit valoir true ou false.", "everywhere")
    session = current_session()
    db = get_db()
    if payload.get("everywhere") is True:
        ended = accounts.delete_sessions(db, account["id"])
    else:
        ended = int(accounts.delete_session(db, session["token"]))
    response = _json({"signed_out": True, "sessions_ended": ended})
    if session["via"] == "cookie":
        clear_session_cookie(response)
    return response


def _account_document(db, account_id: int) -> dict:
    row = accounts.get_account(db, account_id)
    session = current_session()
    own = accounts.session_account(row)
    document = public.own_account(row, accounts.sites_of(db, account_id), own)
    # The badge the member's next comment gets, as the thread shows it (label and tooltip): the widget's
    # « Connecté·e » line shows it as is, it never composes one.
    document["badge"] = verification.account_badge(db, own)
    return {
        "account": document,
        "session": {"kind": session["kind"], "expires": session["expires"]} if session else None,
    }


@bp.get("/api/account")
def api_account():
    account = require_account()
    return _json(_account_document(get_db(), account["id"]), headers={"Cache-Control": "private, no-store"})


@bp.get("/api/account/comments")
def api_account_comments():
    """Which comments of a thread the signed-in account wrote: the widget offers « Modifier » / « Supprimer »
    on them (within the edit window) even on a device that holds no edit token."""
    from comments_service.domain import comments as store
    from comments_service.domain.posts import find_post

    account = require_account()
    db = get_db()
    post = find_post(db, _network(), request.args.get("url"))
    own = store.account_comments(db, account["id"], post["url"], int(current_app.config["EDIT_WINDOW"]))
    return _json({"url": post["url"], "comments": own}, headers={"Cache-Control": "private, no-store"})


def _save_profile(db, account: dict, changes: dict) -> None:
    if "display_name" in changes:  # no physician's name as a pseudonym (domain/verification.py)
        verification.check_display_name(current_app, db, account["id"], changes["display_name"])
    accounts.update_profile(db, account["id"], changes)
    if "interests" in changes or "profile_public" in changes:  # shown beside (or linked from) the member's
        verification.bump_account_threads(db, account["id"])  # comments: their threads get new ETags
    if "show_specialty" in changes:  # past comments show or hide it too
        verification.apply_specialty_choice(db, account["id"])
    if changes.get("notify_replies") or changes.get("notify_comments") in ("immediate", "daily"):
        outbox.unblock_address(db, account["email"])
    if "display_name" in changes:  # committed: the Notes already sent away take the new name too (federation)
        announce_rename(db, account["id"], account["display_name"])


@bp.patch("/api/account")
def api_update_account():
    account = require_account()
    changes = accounts.profile_input(_json_body())
    db = get_db()
    _save_profile(db, account, changes)
    return _json(_account_document(db, account["id"]), headers={"Cache-Control": "private, no-store"})


def _export_response(account: dict):
    data = export(get_db(), account["id"])
    body = json.dumps(data, ensure_ascii=False, indent=2).encode()
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="confreres-mes-donnees.json"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/api/account/export")
def api_export():
    return _export_response(require_account())


@bp.delete("/api/account")
def api_delete_account():
    account = require_account()
    payload = _json_body(optional=True)
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_json", "Le corps de la requête doit être un objet JSON.")
    choice = payload["comments"] if "comments" in payload else request.args.get("comments") or "erase"
    if not isinstance(choice, str) or choice not in DELETE_CHOICES:  # {"comments": {}} erased them before
        raise ApiError(400, "invalid_choice", "« comments » vaut erase ou keep.", "comments")
    summary = delete_account(get_db(), account["id"], keep_comments=DELETE_CHOICES[choice])
    response = _json(summary)
    clear_session_cookie(response)
    return response


# -- sign-in pages ----------------------------------------------------------------------------------------

def _auth_page(form: dict, errors=(), status: int = 200, notice: str | None = None):
    by_field = {}
    for err in errors:
        by_field.setdefault(err.field or "form", err.message)
    return page(
        "auth.html",
        status,
        form=form,
        errors=list(errors),
        by_field=by_field,
        csrf=csrf_token("auth"),
        account=current_account(),
        notice=notice,
        minutes=_minutes(),
    )


NOTICES = {
    "sortie": "Vous êtes déconnecté(e).",
    "supprime": "Votre compte a été supprimé.",
}


@bp.get("/auth")
def auth_page():
    form = {"email": "", "return": request.args.get("return", "")}
    try:
        form["return"] = accounts.return_input(_network(), form["return"])
    except ApiError:
        form["return"] = ""
    return _auth_page(form, notice=NOTICES.get(request.args.get("etat", "")))


def _auth_typed() -> dict:
    """What the sign-in form posted, as typed (re-shown on error)."""
    return {"email": request.form.get("email", "").strip()[:500], "return": request.form.get("return", "")}


@bp.post("/auth")
def auth_submit():
    form = _auth_typed()
    if not check_csrf("auth"):
        return _auth_page(form, [ApiError(403, "invalid_csrf", CSRF_MESSAGE)], 403)
    errors = []
    try:
        email = accounts.email_input(form["email"])
    except ApiError as err:
        errors.append(err)
    try:
        return_to = accounts.return_input(_network(), form["return"])
    except ApiError as err:
        form["return"] = ""
        errors.append(err)
    if errors:
        return _auth_page(form, errors, 400)
    request_link(email, return_to)
    return redirect(url_for("account.auth_sent"), 303)


@bp.get("/auth/sent")
def auth_sent():
    return message(
        "Vérifiez votre messagerie",
        SENT_MESSAGE.format(minutes=_minutes()),
        hint="Rien reçu après quelques minutes ? Regardez dans les courriers indésirables, puis redemandez un lien.",
        links=[(url_for("account.auth_page"), "Demander un nouveau lien")],
    )


LINK_ERRORS = {
    "invalid": (400, "Ce lien de connexion n'est pas valide (il a peut-être été coupé par votre messagerie)."),
    "expired": (410, "Ce lien de connexion a expiré : demandez-en un nouveau."),
    "used": (410, "Ce lien de connexion a déjà servi : demandez-en un nouveau."),
}


def _link_error(reason: str):
    status, text = LINK_ERRORS[reason]
    return message("Lien de connexion", text, status, links=[(url_for("account.auth_page"), "Recevoir un nouveau lien")])


def _claim(token: str) -> tuple[tokens.MagicClaim, str]:
    claim = tokens.read_magic_token(current_app.config["SECRET_KEY"], token, _max_age())
    if accounts.nonce_used(get_db(), claim.nonce):
        raise tokens.LinkError("used")
    try:
        return_to = accounts.return_input(_network(), claim.return_to)
    except ApiError:
        return_to = ""
    return claim, return_to


def _form_action_csp() -> str:
    network = _network()
    origins = sorted(set(network.origins) | {accounts.origin_of(network.comments_url)})
    return (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' " + " ".join(origins)
        + "; base-uri 'none'; frame-ancestors 'none'"
    )


@bp.get("/auth/verify")
def verify():
    token = request.args.get("token", "")
    try:
        claim, return_to = _claim(token)
    except tokens.LinkError as err:
        return _link_error(err.reason)
    response = page(
        "auth_verify.html", token=token, email=claim.email, return_to=return_to, csrf=csrf_token("auth-verify")
    )
    response.headers["Content-Security-Policy"] = _form_action_csp()
    return response


@bp.post("/auth/verify")
def verify_post():
    token = request.form.get("token", "")
    try:
        claim, return_to = _claim(token)
    except tokens.LinkError as err:
        return _link_error(err.reason)
    if not check_csrf("auth-verify"):
        return message("Connexion", CSRF_MESSAGE, 403, links=[(url_for("account.verify", token=token), "Recommencer")])
    db = get_db()
    days = int(current_app.config["SESSION_DAYS"])
    bearer = None
    try:
        with write(db):
            expires = claim.signed_at + timedelta(seconds=_max_age())
            if not accounts.use_nonce(db, claim.nonce, "signin", expires):
                raise tokens.LinkError("used")
            row, _created = accounts.ensure_account(db, claim.email)
            cookie, _ = accounts.create_session(db, row["id"], "cookie", days)
            if return_to.startswith(("http://", "https://")):
                bearer, _ = accounts.create_session(db, row["id"], "bearer", days)
    except tokens.LinkError as err:
        return _link_error(err.reason)
    if bearer:
        target = f"{return_to}#{FRAGMENT}={bearer}"
    elif return_to:
        target = _service_path(return_to)
    else:
        target = url_for("account.account_page")
    response = redirect(target, 303)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    set_session_cookie(response, cookie)
    return response


@bp.post("/auth/signout")
def signout():
    """Ends the cookie session (or all of them); `return`, a path of the service such as the no-JS thread
    page it was pressed on, is where to go next (else the sign-in page says « vous êtes déconnecté(e) »)."""
    if not check_csrf("signout"):
        return message("Déconnexion", CSRF_MESSAGE, 403, links=[(url_for("account.account_page"), "Mon compte")])
    session = current_session()
    if session is not None:
        db = get_db()
        if request.form.get("everywhere"):
            accounts.delete_sessions(db, current_account()["id"])
        else:
            accounts.delete_session(db, session["token"])
    try:
        back = accounts.return_input(_network(), request.form.get("return", ""))
    except ApiError:
        back = ""
    target = _service_path(back) if back.startswith("/") else url_for("account.auth_page", etat="sortie")
    response = redirect(target, 303)
    clear_session_cookie(response)
    return response


# -- account page ------------------------------------------------------------------------------------------

def _blog_titles(slugs: list[str]) -> list[str]:
    """The blogs' titles (« Le carnet du Dr A »), not their slugs, as the author reads them."""
    titles = {site.slug: site.title for site in _network().sites}
    return [titles.get(slug, slug) for slug in slugs]


def _account_page(account: dict, form: dict | None = None, errors=(), status: int = 200, notice=None,
                  delete_choice: str = "erase"):
    db = get_db()
    row = accounts.get_account(db, account["id"])
    by_field = {}
    for err in errors:
        by_field.setdefault(err.field or "form", err.message)
    from comments_service.domain import letter, moderation

    subscription = letter.find(db, row["email"])
    subscribed = subscription is not None and subscription["confirmed"] is not None
    return page(
        "account.html",
        status,
        letter_what=letter.describe(_network(), letter.settings_of(subscription)) if subscribed else "",
        letter_unsubscribe=url_for("letter_links.unsubscribe", token=tokens.make_letter_unsubscribe_token(
            current_app.config["SECRET_KEY"], subscription["id"], subscription["nonce"])) if subscribed else "",
        account=row,
        form=form or {**dict(row), "public_profile": bool(row["profile_public"])},
        profile_url=public.profile_url(row["public_id"]),
        sites=_blog_titles(accounts.sites_of(db, account["id"])),
        moderates=moderation.moderated_sites(db, account) != [],
        sessions=accounts.count_sessions(db, account["id"]),
        errors=list(errors),
        by_field=by_field,
        notice=notice,
        delete_choice=delete_choice,
        csrf=csrf_token(f"account:{account['id']}"),
        signout_csrf=csrf_token("signout"),
        modes=(("immediate", "Immédiatement"), ("daily", "Résumé quotidien"), ("never", "Jamais")),
        session_days=int(current_app.config["SESSION_DAYS"]),
    )


@bp.get("/account")
@signed_in_page
def account_page(account):
    notice = "Vos réglages sont enregistrés." if request.args.get("etat") == "enregistre" else None
    return _account_page(account, notice=notice)


def _account_typed() -> dict:
    """What the profile form posted, as typed (re-shown on error)."""
    return {
        "display_name": request.form.get("display_name", ""),
        "show_specialty": bool(request.form.get("show_specialty")),
        "interests": request.form.get("interests", "").replace("\r\n", "\n"),  # a textarea's line breaks: one each
        "notify_comments": request.form.get("notify_comments", ""),
        "notify_replies": bool(request.form.get("notify_replies")),
        "public_profile": bool(request.form.get("public_profile")),
    }


PROFILE_FIELDS = {  # what a profile form posted after its session ended shows back (auth.expired_form)
    "display_name": "Nom affiché ou pseudonyme",
    "show_specialty": ("Afficher ma spécialité à côté de mes commentaires", YES_NO),
    "interests": "Liens d'intérêts déclarés",
    "notify_comments": ("Nouveaux commentaires sur mes blogs",
                        {"immediate": "Immédiatement", "daily": "Résumé quotidien", "never": "Jamais"}),
    "notify_replies": ("Me prévenir par e-mail des réponses à mes commentaires", YES_NO),
    "public_profile": ("Profil public", YES_NO),
}


@bp.post("/account")
@signed_in_page(typed=PROFILE_FIELDS)
def account_submit(account):
    form = _account_typed()
    if not check_csrf(f"account:{account['id']}"):
        return _account_page(account, form, [ApiError(403, "invalid_csrf", CSRF_MESSAGE)], 403)
    try:
        changes = accounts.profile_input(form)
        _save_profile(get_db(), account, changes)
    except ApiError as err:
        return _account_page(account, form, [err], err.status)
    return redirect(url_for("account.account_page", etat="enregistre"), 303)


@bp.get("/account/export")
@signed_in_page
def account_export(account):
    return _export_response(account)


@bp.post("/account/delete")
@signed_in_page
def account_delete(account):
    if not check_csrf(f"account:{account['id']}"):
        return _account_page(account, None, [ApiError(403, "invalid_csrf", CSRF_MESSAGE)], 403)
    choice = request.form.get("comments", "erase")
    if choice not in DELETE_CHOICES:  # never erase comments on a value the form does not offer
        error = ApiError(400, "invalid_choice", "Choisissez si vos commentaires sont effacés ou gardés.", "comments")
        return _account_page(account, None, [error], 400)
    if not request.form.get("confirm"):
        error = ApiError(400, "missing_field", "Cochez la case pour confirmer la suppression.", "confirm")
        return _account_page(account, None, [error], 400, delete_choice=choice)
    delete_account(get_db(), account["id"], keep_comments=DELETE_CHOICES[choice])
    response = redirect(url_for("account.auth_page", etat="supprime"), 303)
    clear_session_cookie(response)
    return response


# -- over the write budget: the forms come back with what was typed (web/forms.py) ------------------------------

def _auth_over_budget(error: ApiError):
    form = _auth_typed()
    try:
        form["return"] = accounts.return_input(_network(), form["return"])
    except ApiError:
        form["return"] = ""
    return _auth_page(form, [error], 429)


def _account_over_budget(error: ApiError):
    account = current_account()  # the view's signed_in_page had not run yet
    return None if account is None else _account_page(account, _account_typed(), [error], 429)


def _delete_over_budget(error: ApiError):
    account = current_account()
    if account is None:
        return None
    choice = request.form.get("comments", "erase")
    return _account_page(account, None, [error], 429, delete_choice=choice if choice in DELETE_CHOICES else "erase")


keep_typed_when_refused(bp, auth_submit=_auth_over_budget, account_submit=_account_over_budget,
                        account_delete=_delete_over_budget)
