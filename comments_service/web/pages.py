"""The no-JavaScript path: a server-rendered thread page with a plain HTML form.

GET /thread?url=<post URL> shows the approved comments and the form; POST /thread validates and
stores through the same domain/validate.py and domain/comments.py as the API, then redirects (303) back with a
confirmation, or re-shows the form with what the reader typed and the errors (400). A text that could identify a
patient (domain/secrecy.py) is first given back with the warning, as the widget warns as one types; sent as it is
(« Envoyer tel quel »), the comment waits for moderation whatever the policy: the page (202) says why, and shows
the text that was sent.
The CSRF token is signed (itsdangerous), time-limited, bound to the thread and to a random
nonce in a first-party cookie of the service, so another site cannot post in a reader's name.

Signed in (the service's cookie session, web/auth.py) the page says « Connecté·e : <name> » with the
badge, and the form posts as the account: no name or e-mail fields, and store.add_comment applies
the account's name or pseudonym and badge on the server, as for the API. « Se connecter » asks for a
magic link that comes back to this page; « Se déconnecter » ends the session and comes back too.

Each comment has its « Signaler » form, folded in a <details>: POST /signaler reports it through
actions.comments.report_comment as POST /api/comments/<id>/report does (same validation, write budget, effect and
event), with its own CSRF binding; then back (303) to the comment's page, the confirmation beside it, or the page
again with that form open, the reason typed and the error.

One's own comments, within the edit window: POST /modifier and /supprimer edit and delete them as PATCH and DELETE
/api/comments/<id> do (actions.comments), proven by the edit token the form left in the `confreres_edits` cookie or
by the session; the writer's own pending comments are shown to them (the widget's X-Confreres-Tokens, as a cookie).
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from comments_service.actions import comments as actions
from comments_service.actions.comments import create_comment, report_comment
from comments_service.core import ids, tokens
from comments_service.core.db import get_db
from comments_service.core.errors import ApiError
from comments_service.domain import comments as store
from comments_service.domain import crossblog, public, secrecy, tree, validate
from comments_service.domain import verification as verify
from comments_service.domain.posts import find_post, iso, parse_iso, utcnow
from comments_service.web import limits
from comments_service.web.auth import EDITS_COOKIE, current_account
from comments_service.web.crossblog import int_arg
from comments_service.web.forms import (
    CSRF_COOKIE,
    browser_nonce,
    keep_typed_when_refused,
    over_budget,
    set_csrf_cookie,
)

bp = Blueprint("pages", __name__)

MESSAGES = {
    "approved": "Merci ! Votre commentaire est publié.",
    "pending": "Merci ! Votre commentaire attend la validation de l'auteur du blog.",
    "edited": "Votre commentaire a été modifié.",  # the widget's words
    "deleted": "Votre commentaire a été supprimé.",
}
REPORTED = "Merci : votre signalement a été transmis à la modération."  # the widget's words
FORM_FIELDS = ("author", "email", "website", "text", "parent", "notify")
MAX_PAGE = 10**6

def _network():
    return current_app.extensions["confreres_network"]


def _render(post, *, form=None, errors=(), status=200, message=None, parent_id=None, number=1, held=None,
            secret_warning="", report=None, reported=None, editing=None, own_error=None):
    """The thread page. `report` is a report form sent back ({"id", "reason", "error"}: open, with what was
    typed and why it was refused); `reported`, the comment just reported (its confirmation beside it); `editing`,
    the reader's own comment being edited ({"id", "text", "error"}); `own_error`, why an edit or a deletion of it
    was refused when its form cannot be shown ({"title", "error"})."""
    db = get_db()
    network = _network()
    config = current_app.config
    size = int(config["THREAD_PAGE_SIZE"])
    depth = int(config["THREAD_DEPTH"])
    starts = _cursors(db, post["url"], depth)  # pages are bounded in comments too: a large thread spans several
    offset, skip = starts[number - 1] if number <= len(starts) else (MAX_PAGE * size, 0)  # past the end: empty
    viewer = current_account()
    own = _own(db, post["url"], viewer)
    # the reader's own comments still waiting are shown to them, as the widget shows them (its edit tokens)
    waiting = store.pending_owned(db, post["url"], _claims())
    document = crossblog.thread(db, network, post, waiting, depth=depth, offset=offset, skip=skip, limit=size)
    nonce, new = browser_nonce()
    csrf = tokens.make_csrf_token(current_app.config["SECRET_KEY"], nonce, post["url"])
    form = dict(form or {})
    parent = None
    if parent_id:
        parent = _find(db, post["url"], parent_id)
        if parent is None:
            parent = None
            form["parent"] = ""
        else:
            form["parent"] = str(parent_id)
    try:
        site = network.site(post["site"])
    except KeyError:
        site = None
    by_field = {}
    for err in errors:
        by_field.setdefault(err.field or "form", err.message)
    events = list(tree.events(document["comments"]))
    shown = {c["id"] for kind, c in events if kind == "open" and not c.get("deleted")}
    back = "/thread?" + urlencode({"url": post["url"]})  # a path of the service, for sign-in and sign-out
    html = render_template(
        "thread.html",
        post=post,
        site=site,
        thread=document,
        mode=document["mode"],
        form=form,
        errors=list(errors),
        by_field=by_field,
        csrf=csrf,
        message=message,
        held=held,
        secret_warning=secret_warning,
        parent=parent,
        events=events,
        number=number,
        pages=len(starts),
        max_text=validate.MAX_TEXT,
        honeypot=validate.HONEYPOT,
        viewer=viewer,
        viewer_badge=verify.account_badge(db, viewer),
        back=back,
        signout_csrf=tokens.make_csrf_token(current_app.config["SECRET_KEY"], nonce, "signout"),
        report_csrf=tokens.make_csrf_token(current_app.config["SECRET_KEY"], nonce, _report_binding(post["url"])),
        max_reason=validate.MAX_REASON,
        report=report,
        report_shown=bool(report) and report["id"] in shown,  # its form is on this page: the error links to it
        reported=reported,
        reported_shown=reported in shown,
        reported_message=REPORTED,
        own=own,
        window=_window(),
        own_csrf=tokens.make_csrf_token(current_app.config["SECRET_KEY"], nonce, _own_binding(post["url"])),
        editing=editing if editing and editing["id"] in own else None,
        own_error=own_error,
    )
    response = current_app.make_response((html, status))
    response.headers["Cache-Control"] = "private, no-store"
    if new:
        set_csrf_cookie(response, nonce)
    return response





def _find(db, url: str, comment_id: int) -> dict | None:
    """The approved comment of this thread being answered (whatever page it is on): its author's name."""
    row = store.query_one(
        db, "SELECT author_name FROM comments WHERE id = ? AND post_url = ? AND status = 'approved'", (comment_id, url)
    )
    return None if row is None else {"id": comment_id, "author": {"name": row["author_name"] or public.ANONYMOUS}}


@bp.get("/thread")
def thread():
    post = find_post(get_db(), _network(), request.args.get("url"))
    editing = ids.parse_id(request.args.get("modifier"))
    row = store.get_comment(get_db(), editing) if editing else None
    return _render(
        post,
        message=MESSAGES.get(request.args.get("merci", "")),
        parent_id=ids.parse_id(request.args.get("parent")),
        number=int_arg("page", 1, MAX_PAGE),
        reported=ids.parse_id(request.args.get("signale")),
        editing={"id": editing, "text": row["text"], "error": None} if row else None,  # (_render: only one's own)
    )


# The form's largest body: 10,000 characters of 4 UTF-8 bytes, each percent-encoded (12 bytes), and the other
# fields; over the API's 64 KB, which a text of accented or emoji characters under its maxlength exceeded (a 413
# page, the text lost).
FORM_MAX_BYTES = 12 * (validate.MAX_TEXT + validate.MAX_AUTHOR + validate.MAX_EMAIL + validate.MAX_WEBSITE
                       + validate.MAX_URL) + 4096


def _typed() -> dict:
    """What the form posted, as typed (re-shown on error)."""
    request.max_content_length = FORM_MAX_BYTES
    # a textarea's line breaks come as "\r\n" (HTML's form encoding): one character each, as its maxlength counts
    return {key: request.form.get(key, "").replace("\r\n", "\n") for key in FORM_FIELDS}


RATE_LIMITED = (
    "Trop d'envois depuis votre connexion en peu de temps : votre commentaire n'est pas encore envoyé. Patientez"
    " une minute, puis renvoyez-le : votre texte est conservé ci-dessous."
)
REPORT_RATE_LIMITED = (
    "Trop d'envois depuis votre connexion en peu de temps : votre signalement n'est pas encore envoyé. Patientez"
    " une minute, puis renvoyez-le : votre motif est conservé ci-dessous."
)


def _thread_over_budget(error: ApiError):
    form = _typed()
    post = find_post(get_db(), _network(), request.form.get("url"))
    return _render(post, form=form, errors=[over_budget(error, RATE_LIMITED)], status=429,
                   parent_id=ids.parse_id(form["parent"]))


def _report_over_budget(error: ApiError):
    post = find_post(get_db(), _network(), request.form.get("url"))
    return _report_page(post, _report_typed(), over_budget(error, REPORT_RATE_LIMITED))


@bp.post("/thread")
def post_thread():
    form = _typed()
    post = find_post(get_db(), _network(), request.form.get("url"))
    parent_id = ids.parse_id(form["parent"])  # SQLite's range: no OverflowError
    nonce = request.cookies.get(CSRF_COOKIE, "")
    config = current_app.config
    if not tokens.check_csrf_token(
        config["SECRET_KEY"], request.form.get("csrf", ""), nonce, post["url"], int(config["CSRF_MAX_AGE"])
    ):
        error = ApiError(
            403,
            "invalid_csrf",
            "Le formulaire a expiré ou ne vient pas de cette page. Vérifiez votre texte puis renvoyez-le"
            " (les cookies doivent être autorisés pour ce site).",
        )
        return _render(post, form=form, errors=[error], status=403, parent_id=parent_id)

    account = current_account()
    payload = {**form, "url": post["url"], validate.HONEYPOT: request.form.get(validate.HONEYPOT, "")}
    payload["notify"] = bool(request.form.get("notify"))
    if account:  # the account's name, address and reply settings apply (store.add_comment, mail/notices.py)
        payload.update(email="", notify=False, author=form["author"] if not account["display_name"] else "")
    data, errors = validate.comment_errors(payload)
    if errors:
        return _render(post, form=form, errors=errors, status=400, parent_id=parent_id)
    if data.honeypot:
        return redirect(url_for("pages.thread", url=post["url"], merci="pending") + "#merci", 303)
    warning = secrecy.check(data.text)["message"]
    if warning and not request.form.get("secret_ok"):  # medical secrecy: said before anything is sent
        return _render(post, form=form, parent_id=parent_id, secret_warning=warning)
    try:
        db = get_db()
        row, _nonce = create_comment(db, _network(), post, data, account=account, ip_hash=limits.request_ip_hash())
    except ApiError as error:
        return _render(post, form=form, errors=[error], status=error.status, parent_id=parent_id)
    token = tokens.make_edit_token(config["SECRET_KEY"], row["id"], _nonce)  # « Modifier » without JavaScript
    secret = secrecy.held(row)
    if secret:  # medical secrecy: held whatever the policy; the page says why and shows the text sent (202)
        response = _render(post, status=202, held={"reason": secret["reason"], "text": row["text"], "id": row["id"]})
        _remember(response, token)
        return response
    status = store.owner_status(row)  # a blocked author's comment (domain/blocks.py) is answered as a pending one
    anchor = f"#comment-{row['id']}" if status == "approved" else "#merci"
    number = _page_of(db, post["url"], row["id"]) if status == "approved" else 1
    page = {"page": number} if number > 1 else {}
    response = redirect(url_for("pages.thread", url=post["url"], merci=status, **page) + anchor, 303)
    _remember(response, token)
    return response


# -- one's own comment without JavaScript: « Modifier », « Supprimer » within the edit window ----------------------
# The widget keeps each comment's edit token in localStorage; the no-JS form keeps it in a first-party cookie of the
# service, HttpOnly, for the edit window only (the last MAX_KEPT comments). A signed-in writer proves it by the session.

MAX_KEPT = 10
NOT_EDITED = "Votre modification n'est pas enregistrée :"
NOT_DELETED = "Votre commentaire n'a pas été supprimé :"
NOT_YOURS = "Ce commentaire ne peut plus être modifié depuis ce navigateur : le délai est passé, ou il n'a pas été" \
    " écrit ici."


def _window() -> int:
    return int(current_app.config["EDIT_WINDOW"])


def _claims() -> dict[int, str]:
    """{comment id: nonce} of the edit tokens this browser keeps (tokens.owned_comments reads them, as the API)."""
    return tokens.owned_comments(current_app.config["SECRET_KEY"], request.cookies.get(EDITS_COOKIE, ""))


def _remember(response, token: str) -> None:
    """Keep the new comment's edit token in the cookie, with the others still within their window."""
    secret, window = current_app.config["SECRET_KEY"], _window() * 60
    kept = [raw.strip() for raw in request.cookies.get(EDITS_COOKIE, "").split(",")
            if tokens.read_edit_token(secret, raw.strip(), max_age=window)]
    response.set_cookie(EDITS_COOKIE, ", ".join([*kept, token][-MAX_KEPT:]), max_age=window, httponly=True,
                        samesite="Lax", secure=request.is_secure, path=(request.script_root or "") + "/")


def _own(db, url: str, viewer) -> dict[int, str]:
    """{id: end of the edit window (ISO)} of this thread's comments the reader may still edit: by this browser's edit
    tokens, or written by the signed-in account."""
    window, now = timedelta(minutes=_window()), utcnow()
    own = {}
    claims = _claims()
    if claims:
        marks = ",".join("?" * len(claims))
        for row in store.query(db, f"SELECT id, edit_nonce, created FROM comments WHERE post_url = ? AND status !="
                                   f" 'deleted' AND id IN ({marks})", (url, *claims)):
            end = parse_iso(row["created"]) + window
            if end > now and tokens.nonce_matches(row["edit_nonce"], claims[row["id"]]):
                own[row["id"]] = iso(end)
    if viewer:
        for c in store.account_comments(db, viewer["id"], url, _window()):
            if parse_iso(c["editable_until"]) > now:
                own[c["id"]] = c["editable_until"]
    return own


def _own_binding(url: str) -> str:
    return "own:" + url


def _own_request():
    """The post, the comment id and the owner's proof ({"nonce"} or {"account_id"}) of a « Modifier » or
    « Supprimer » form; an ApiError (with the post) when the form cannot be taken."""
    post = find_post(get_db(), _network(), request.form.get("url"))
    comment_id = ids.parse_id(request.form.get("comment", ""))
    config = current_app.config
    if not tokens.check_csrf_token(config["SECRET_KEY"], request.form.get("csrf", ""), request.cookies.get(CSRF_COOKIE, ""),
                                   _own_binding(post["url"]), int(config["CSRF_MAX_AGE"])):
        return post, comment_id, None, ApiError(403, "invalid_csrf", "Le formulaire a expiré ou ne vient pas de cette"
                                                " page. Renvoyez-le (les cookies doivent être autorisés pour ce site).")
    nonce = _claims().get(comment_id) if comment_id else None
    viewer = current_account()
    if nonce:
        return post, comment_id, {"nonce": nonce}, None
    if viewer and comment_id:
        return post, comment_id, {"account_id": viewer["id"]}, None
    return post, comment_id, None, ApiError(403, "not_owner", NOT_YOURS)


def _own_page(post, comment_id, text, error: ApiError):
    """The thread page again, on the comment's page, its edit form open with the text typed and the error."""
    number = _page_of(get_db(), post["url"], comment_id) if comment_id else 1
    if comment_id in _own(get_db(), post["url"], current_account()):
        return _render(post, status=error.status, number=number,
                       editing={"id": comment_id, "text": text, "error": error})
    return _render(post, status=error.status, number=number, own_error={"title": NOT_EDITED, "error": error})


@bp.post("/modifier")
def edit():
    """« Enregistrer » an edit of one's own comment: the API's PATCH, by the browser's edit token or the session."""
    request.max_content_length = FORM_MAX_BYTES
    text = request.form.get("text", "").replace("\r\n", "\n")
    post, comment_id, proof, error = _own_request()
    if error is None:
        try:
            actions.edit_comment(get_db(), comment_id, proof.get("nonce"), validate.edit({"text": text}),
                                 window_minutes=_window(), account_id=proof.get("account_id"))
        except ApiError as refused:
            error = refused
    if error is not None:
        return _own_page(post, comment_id, text, error)
    number = _page_of(get_db(), post["url"], comment_id)
    page = {"page": number} if number > 1 else {}
    return redirect(url_for("pages.thread", url=post["url"], merci="edited", **page) + f"#comment-{comment_id}", 303)


@bp.post("/supprimer")
def delete():
    """« Supprimer définitivement » one's own comment: the API's DELETE, by the same proof."""
    post, comment_id, proof, error = _own_request()
    if error is None:
        try:
            actions.delete_comment(get_db(), comment_id, proof.get("nonce"), window_minutes=_window(),
                                   account_id=proof.get("account_id"))
        except ApiError as refused:
            error = refused
    if error is not None:
        return _render(post, status=error.status, own_error={"title": NOT_DELETED, "error": error})
    return redirect(url_for("pages.thread", url=post["url"], merci="deleted") + "#merci", 303)


# -- « Signaler » without JavaScript ---------------------------------------------------------------------------

def _report_binding(url: str) -> str:
    return "report:" + url


def _report_typed() -> dict:
    """What a report form posted, as typed (re-shown on error)."""
    # a textarea's line breaks come as "\r\n": one character each, as its maxlength counts
    return {"comment": request.form.get("comment", ""), "reason": request.form.get("reason", "").replace("\r\n", "\n")}


def _report_page(post, typed: dict, error: ApiError, status: int | None = None):
    """The thread page again, on the page of the comment, its report form open with the reason typed and why."""
    comment_id = ids.parse_id(typed["comment"])
    number = _page_of(get_db(), post["url"], comment_id) if comment_id else 1
    report = {"id": comment_id, "reason": typed["reason"], "error": error}
    return _render(post, status=status or error.status, number=number, report=report)


@bp.post("/signaler")
def report():
    """A reader reports a comment of the thread (« Chaque commentaire peut être signalé », the charter): the same
    validation, write budget, effect and event (`comment.reported`) as POST /api/comments/<id>/report; then the
    thread's page of that comment, the confirmation beside it (303)."""
    request.max_content_length = FORM_MAX_BYTES
    typed = _report_typed()
    db = get_db()
    post = find_post(db, _network(), request.form.get("url"))
    config = current_app.config
    if not tokens.check_csrf_token(config["SECRET_KEY"], request.form.get("csrf", ""), request.cookies.get(CSRF_COOKIE, ""),
                                   _report_binding(post["url"]), int(config["CSRF_MAX_AGE"])):
        error = ApiError(403, "invalid_csrf", "Le formulaire a expiré ou ne vient pas de cette page. Vérifiez le motif"
                         " puis renvoyez-le (les cookies doivent être autorisés pour ce site).")
        return _report_page(post, typed, error)
    comment_id = ids.parse_id(typed["comment"])
    if comment_id is None or _find(db, post["url"], comment_id) is None:  # the API's 404, for this thread
        return _report_page(post, typed, ApiError(404, "unknown_comment", "Ce commentaire n'existe pas (ou plus) :"
                                                  " il a pu être supprimé ou retiré par la modération."))
    try:
        reason = validate.report({"reason": typed["reason"]})
        report_comment(db, comment_id, reason, ip_hash=limits.request_ip_hash())
    except ApiError as error:
        return _report_page(post, typed, error)
    number = _page_of(db, post["url"], comment_id)
    page = {"page": number} if number > 1 else {}
    return redirect(url_for("pages.thread", url=post["url"], signale=comment_id, **page) + "#merci", 303)


# The no-JS forms over the write budget come back with what the reader typed (a bare error page lost it).
def _edit_over_budget(error: ApiError):
    post = find_post(get_db(), _network(), request.form.get("url"))
    text = request.form.get("text", "").replace("\r\n", "\n")
    return _own_page(post, ids.parse_id(request.form.get("comment", "")), text, over_budget(error))


def _delete_over_budget(error: ApiError):
    return _render(find_post(get_db(), _network(), request.form.get("url")),
                   own_error={"title": NOT_DELETED, "error": over_budget(error)})


keep_typed_when_refused(bp, post_thread=_thread_over_budget, report=_report_over_budget, edit=_edit_over_budget,
                        delete=_delete_over_budget)


def _cursors(db, url: str, depth: int = tree.DEFAULT_DEPTH, shape=None) -> list[tuple[int, int]]:
    """The (offset, skip) each page of the no-JS thread starts at (Tree.extent: pages bounded in comments too)."""
    size = int(current_app.config["THREAD_PAGE_SIZE"])
    shape = shape or store.thread_tree(store.shape_rows(db, url), depth=depth)
    return shape.cursors(size, size * tree.PAGE_COMMENTS)


def _page_of(db, url: str, comment_id: int) -> int:
    """The page of the no-JS thread that shows this comment."""
    shape = store.thread_tree(store.shape_rows(db, url), depth=int(current_app.config["THREAD_DEPTH"]))
    size = int(current_app.config["THREAD_PAGE_SIZE"])
    for number, (offset, skip) in enumerate(_cursors(db, url, shape=shape), 1):
        if comment_id in shape.extent(offset, size, skip, size * tree.PAGE_COMMENTS)[0]:
            return number
    return 1


@bp.get("/charte")
def charter():
    """The code of conduct between confrères (CSP R.4127-56), linked from every comment form."""
    return render_template("charter.html", network=_network())
