"""The JSON API under /api/: threads, comments, counts, the build's post list, the OpenAPI document.

Contract (issue 3): GET/POST /api/comments, PATCH/DELETE /api/comments/<id>, GET /api/counts,
PUT /api/sites/<slug>/posts, GET /api/openapi.json; plus POST /api/comments/<id>/report. Writes
accept JSON only (415 otherwise): a cross-site HTML form cannot send application/json, so it
cannot post in a reader's name. Thread reads are served from cached bytes with an ETag.

Tokens travel in headers, never cookies:
- edit token (returned by POST): `Authorization: Bearer <token>` or `X-Edit-Token: <token>`;
- the caller's own pending comments: `X-Confreres-Tokens: <token>, <token>, ...` on GET;
- the build's per-site token: `Authorization: Bearer <site_token(SECRET_KEY, slug)>`.

The Markdown source of a comment (`text`) and the end of its edit window (`editable_until`) go
only to its owner: in the POST and PATCH answers, and from GET /api/comments/<id> with the edit
token or the session of the account that wrote it. Public thread JSON never carries them. PATCH and
DELETE take the same proof (edit token, or the writer's session: a member edits from another device;
GET /api/account/comments?url= lists which comments of a thread are theirs), within the edit window.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Blueprint, current_app, request

from comments_service.actions import comments as actions
from comments_service.core import config, tokens
from comments_service.core import events as hooks
from comments_service.core.config import THREAD_PAGE_MAX
from comments_service.core.db import get_db
from comments_service.core.errors import ApiError
from comments_service.domain import comments as store
from comments_service.domain import crossblog, public, secrecy, validate
from comments_service.domain.accounts import looks_like_session
from comments_service.domain.posts import comments_mode, find_post
from comments_service.federation import delivery as federation_delivery
from comments_service.federation.publish import announce_posts
from comments_service.web import limits
from comments_service.web.auth import presented_account
from comments_service.web.body import dumps, json_body, json_response
from comments_service.web.cache import Entry
from comments_service.web.crossblog import int_arg
from comments_service.web.openapi import document as openapi_document
from confreres.site_token import check_site_token

bp = Blueprint("api", __name__, url_prefix="/api")

FORMAT = "4"  # bump when the thread JSON changes shape: it changes every ETag (4: pages, capped depth)
MAX_COUNT_URLS = 200
MAX_OFFSET = 10**9
POSTS_MAX_BYTES = 8 * 1024 * 1024
THREAD_VARY = "Origin, X-Confreres-Tokens"
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
)


def _network():
    return current_app.extensions["confreres_network"]


def _cache():
    return current_app.extensions["confreres_thread_cache"]


def _not_modified(etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in header.split(","))


def _conditional(body: bytes, etag: str, cache_control: str, vary: str = "Origin"):
    """200 with the bytes, or 304 when the client already holds this ETag (the hot path: kept lean)."""
    not_modified = _not_modified(etag)
    headers = [
        ("Content-Type", "application/json"),
        ("ETag", etag),
        ("Cache-Control", cache_control),
        ("Vary", vary),
        *SECURITY_HEADERS,
    ]
    return current_app.response_class(b"" if not_modified else body, status=304 if not_modified else 200, headers=headers)


# -- threads ------------------------------------------------------------------------------------

def page_args() -> dict:
    """?offset=, ?skip= and ?limit= of a thread read (top-level comments), with the depth shown: store.thread_document."""
    config = current_app.config
    return {
        "depth": int(config["THREAD_DEPTH"]),
        "offset": int_arg("offset", 0, MAX_OFFSET, minimum=0),
        "skip": int_arg("skip", 0, MAX_OFFSET, minimum=0),  # inside a top-level thread: page.next_skip
        "limit": int_arg("limit", int(config["THREAD_PAGE_SIZE"]), THREAD_PAGE_MAX),
    }


@bp.get("/comments")
def get_comments():
    db = get_db()
    network = _network()
    post = find_post(db, network, request.args.get("url"))
    url = post["url"]
    page = page_args()
    header = request.headers.get("X-Confreres-Tokens")
    if header:
        mine = store.pending_owned(db, url, tokens.owned_comments(current_app.config["SECRET_KEY"], header))
        if mine:
            body = dumps(crossblog.thread(db, network, post, mine, **page))
            etag = '"p' + hashlib.sha256(body).hexdigest()[:20] + '"'
            return _conditional(body, etag, "private, max-age=0, must-revalidate", THREAD_VARY)
    cache = _cache()
    key = f"{url} {page['offset']} {page['skip']} {page['limit']}"  # one entry per page (a URL never holds a space)
    entry = cache.get(key, post["version"])
    if entry is None:
        body = dumps(crossblog.thread(db, network, post, **page))
        mode = comments_mode(network, post)
        tag = f"{post['version']:x}-{mode}-{page['depth']}-{page['offset']}-{page['skip']}-{page['limit']}"
        entry = Entry(post["version"], f'"{FORMAT}-{tag}"', body)
        cache.put(key, entry)
    max_age = int(current_app.config["THREAD_MAX_AGE"])
    return _conditional(entry.body, entry.etag, f"public, max-age={max_age}, must-revalidate", THREAD_VARY)


@bp.post("/comments")
def create_comment():
    data = validate.comment(json_body())
    config = current_app.config
    if data.honeypot:
        # A bot filled the hidden field: answer like a comment awaiting moderation, store nothing.
        return json_response({"comment": None, "status": "pending", "edit_token": None, "message": SENT["pending"]}, 201)
    db = get_db()
    network = _network()
    post = find_post(db, network, data.url)
    account = presented_account()
    row, nonce = actions.create_comment(db, network, post, data, account=account, ip_hash=limits.request_ip_hash())
    token = tokens.make_edit_token(config["SECRET_KEY"], row["id"], nonce)
    return json_response(
        {
            **_own(row),
            "edit_token": token,
            "edit_window_minutes": int(config["EDIT_WINDOW"]),
            "message": sent_message(row),
        },
        201,
    )


# What the writer is told once the comment is sent (the widget shows `message` as it is)
SENT = {"approved": "Votre commentaire a été publié.", "pending": "Votre commentaire est en attente de validation."}


def sent_message(row) -> str:
    """« publié », « en attente de validation » (the blog's policy), or « en attente de modération : <why> » when
    its text could identify a patient (domain/secrecy.py)."""
    held = secrecy.held(row)
    status = store.owner_status(row)  # a blocked author is told what anyone whose comment waits is told
    if held and status == "pending":
        return f"Votre commentaire est en attente de modération : {held['reason']}"
    return SENT.get(status, SENT["pending"])


def _own(row) -> dict:
    """A comment as its owner sees it: the public shape, plus its Markdown source and edit deadline, and why it
    waits for moderation when its text could identify a patient (`reason` in French, the flagged `secrecy` spans)."""
    window = timedelta(minutes=int(current_app.config["EDIT_WINDOW"]))
    held = secrecy.held(row)
    return {
        "comment": public.comment(row),
        "status": store.owner_status(row),
        "text": row["text"],
        "editable_until": store.iso(store.parse_iso(row["created"]) + window),
        **({"reason": held["reason"], "secrecy": held["flags"]} if held else {}),
    }


def _edit_token() -> str:
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if not token or looks_like_session(token):  # a signed-in widget sends its session there: use X-Edit-Token
        token = request.headers.get("X-Edit-Token", "")
    return token


def missing_token() -> ApiError:
    """No credential at all: 401 and a Bearer challenge (a wrong one is a 403)."""
    return ApiError(401, "missing_token", "Jeton de modification manquant.",
                    headers={"WWW-Authenticate": 'Bearer realm="confreres"'})


def _edit_claim(comment_id: int) -> tokens.EditClaim:
    token = _edit_token()
    if not token:
        raise missing_token()
    claim = tokens.read_edit_token(current_app.config["SECRET_KEY"], token)
    if claim is None or claim.comment_id != comment_id:
        raise ApiError(403, "invalid_token", "Jeton de modification invalide pour ce commentaire.")
    return claim


def _owner_proof(comment_id: int) -> dict:
    """How the caller shows it wrote a comment: its edit token ({"nonce"}) or, without one, the session of a
    signed-in account ({"account_id"}); store.check_owner compares it with the comment."""
    if _edit_token():
        return {"nonce": _edit_claim(comment_id).nonce}
    account = presented_account()
    if account is None:
        raise missing_token()
    return {"account_id": account["id"]}


@bp.get("/comments/<id:comment_id>")
def get_own_comment(comment_id: int):
    """One's own comment with its source: for the edit token's holder, or the session of its writer."""
    row = store.get_comment(get_db(), comment_id)
    if row is None or row["status"] == "deleted":
        raise ApiError(404, "unknown_comment", "Ce commentaire n'existe pas.")
    store.check_owner(row, **_owner_proof(comment_id))
    return json_response(_own(row), headers={"Cache-Control": "private, no-store"})


@bp.patch("/comments/<id:comment_id>")
def edit_comment(comment_id: int):
    proof = _owner_proof(comment_id)
    text = validate.edit(json_body())
    row = actions.edit_comment(
        get_db(), comment_id, proof.get("nonce"), text, window_minutes=int(current_app.config["EDIT_WINDOW"]),
        account_id=proof.get("account_id"),
    )
    return json_response(_own(row))


@bp.delete("/comments/<id:comment_id>")
def delete_comment(comment_id: int):
    proof = _owner_proof(comment_id)
    outcome = actions.delete_comment(
        get_db(), comment_id, proof.get("nonce"), window_minutes=int(current_app.config["EDIT_WINDOW"]),
        account_id=proof.get("account_id"),
    )
    return json_response({"id": comment_id, "deleted": True, "placeholder": outcome == "soft"})


@bp.post("/comments/<id:comment_id>/report")
def report_comment(comment_id: int):
    reason = validate.report(json_body())
    report_id = actions.report_comment(get_db(), comment_id, reason, ip_hash=limits.request_ip_hash())
    return json_response({"report": report_id, "status": "received"}, 201)


# -- counts, posts, documentation -----------------------------------------------------------------

@bp.get("/counts")
def get_counts():
    urls = request.args.getlist("url")
    if not urls:
        raise ApiError(400, "missing_field", "Indiquez au moins une adresse (?url=...).", "url")
    if len(urls) > MAX_COUNT_URLS:
        raise ApiError(400, "too_many", f"{MAX_COUNT_URLS} adresses au plus par requête.", "url")
    body = dumps(store.counts(get_db(), urls, current_app.extensions["confreres_network"]))
    etag = '"c' + hashlib.sha256(body).hexdigest()[:20] + '"'
    max_age = int(current_app.config["THREAD_MAX_AGE"])
    return _conditional(body, etag, f"public, max-age={max_age}, must-revalidate")


@bp.put("/sites/<slug>/posts")
def put_site_posts(slug: str):
    try:
        _network().site(slug)
    except KeyError:
        config.refresh_network(current_app, force=True)  # a blog added to network.toml since the service started
    network = _network()
    try:
        network.site(slug)
    except KeyError:
        raise ApiError(404, "unknown_site", "Ce blog n'appartient pas au réseau.") from None
    token = limits.site_token_of_request()
    if not token:
        raise ApiError(401, "missing_site_token", "Jeton du blog manquant.",
                       headers={"WWW-Authenticate": 'Bearer realm="confreres"'})
    if not check_site_token(current_app.config["SECRET_KEY"], slug, token):
        raise ApiError(403, "invalid_site_token", "Jeton du blog invalide.")
    request.max_content_length = POSTS_MAX_BYTES  # a blog's whole list; comments keep the 64 KB cap
    db = get_db()
    summary = announce_posts(db, network, slug, json_body())  # and their deliveries to the fediverse, queued
    hooks.emit("posts.synced", **summary)
    if summary["federation"]["queued"]:
        federation_delivery.kick(current_app._get_current_object())
    return json_response(summary)


@bp.get("/openapi.json")
def openapi():
    """The document's `servers` URL is the network's configured comments_url (moved by CONFRERES_DEMO_ORIGIN in the
    demo), never the request's Host header: a forged Host must not put another origin in the document."""
    network = current_app.extensions["confreres_network"]
    return json_response(openapi_document(network.comments_url.rstrip("/") + "/api"))
