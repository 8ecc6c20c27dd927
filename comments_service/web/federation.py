"""The fediverse's routes (comments_service/federation/ does the work): discovery, actors, inboxes.

- `GET /.well-known/webfinger?resource=acct:<slug>@<host>`, `GET /.well-known/nodeinfo`, `GET /nodeinfo/2.1`:
  served at the service's root; `confreres serve` and the nginx of docs/operating.md route the network host's
  `/.well-known/webfinger` and `/.well-known/nodeinfo` here.
- `GET /ap/actors/<name>` (an actor; a browser is sent to the blog), `.../outbox` (`?page=N`), `.../followers`
  (the count only), `.../following`, `GET /ap/articles/<key>` (a post as an Article), `.../replies` (`?page=N`:
  the comments its thread shows), `GET /ap/comments/<id>` (an approved local comment as a Note).
- `POST /ap/actors/<name>/inbox` and the shared `POST /ap/inbox`: signed activities only (401 otherwise), 64 KB
  at most (413, the service's body cap).

Answers are JSON-LD (`application/activity+json`, or the `ld+json` profile when that is what was asked);
errors keep the service's one JSON shape.
"""

from __future__ import annotations

import json

from flask import Blueprint, current_app, redirect, request
from werkzeug.exceptions import HTTPException

from comments_service.core import ids
from comments_service.core.db import get_db
from comments_service.core.errors import ApiError, error_response, from_http_exception
from comments_service.domain import crossblog
from comments_service.federation import articles, delivery, documents, inbox, notes, urls
from comments_service.web.body import dumps

bp = Blueprint("federation", __name__)


@bp.errorhandler(ApiError)
def _api_error(err: ApiError):
    return error_response(err, err.headers)  # remote servers are programs: the JSON error shape


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return error_response(from_http_exception(exc))


def _network():
    return current_app.extensions["confreres_network"]


def _json(doc, mimetype: str | None = None, status: int = 200, cache: int = 60):
    if mimetype is None:
        asked = {value.split(";", 1)[0].strip().lower() for value, _quality in request.accept_mimetypes}
        ld = "application/ld+json" in asked and documents.ACTIVITY_JSON not in asked  # werkzeug keeps the profile
        mimetype = documents.LD_PROFILE if ld else documents.ACTIVITY_JSON
    response = current_app.response_class(dumps(doc), status=status)
    response.headers["Content-Type"] = mimetype
    response.headers["Cache-Control"] = f"public, max-age={cache}"
    response.headers["Vary"] = "Accept"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _wants_html() -> bool:
    asked = {value.split(";", 1)[0].strip().lower() for value, _quality in request.accept_mimetypes}
    if asked & {documents.ACTIVITY_JSON, "application/ld+json", "application/json"}:
        return False
    return request.accept_mimetypes.best_match(["text/html"]) == "text/html" and "text/html" in asked


def _actor_name(name: str) -> str:
    if not urls.is_actor(_network(), name):
        raise ApiError(404, "unknown_actor", "Aucun acteur de ce nom sur ce réseau.")
    return name


MAX_PAGE = 1_000_000  # ?page= beyond any outbox, still within SQLite's integers


# -- discovery ------------------------------------------------------------------------------------------

@bp.get("/.well-known/webfinger")
def webfinger():
    resource = request.args.get("resource", "")
    if not resource:
        raise ApiError(400, "missing_field", "Indiquez le compte cherché (?resource=acct:nom@hôte).", "resource")
    name = documents.webfinger_name(_network(), resource)
    if name is None:
        raise ApiError(404, "unknown_account", "Aucun compte de ce nom sur ce réseau.", "resource")
    return _json(documents.webfinger(_network(), name), mimetype=documents.JRD)


@bp.get("/.well-known/nodeinfo")
def nodeinfo_links():
    # from network.toml, not the request: this one arrives through the network host's /.well-known/
    return _json(documents.nodeinfo_links(_network().comments_url + "nodeinfo/2.1"), mimetype="application/json")


@bp.get("/nodeinfo/2.1")
def nodeinfo():
    return _json(documents.nodeinfo(get_db(), _network()),
                 mimetype=f'application/json; profile="{documents.NODEINFO_SCHEMA}#"')


# -- actors and collections -----------------------------------------------------------------------------

@bp.get("/ap/actors/<name>")
def actor(name: str):
    name = _actor_name(name)
    network = _network()
    if _wants_html():
        return redirect(network.url if name == urls.NETWORK_ACTOR else network.site(name).url, code=303)
    return _json(documents.actor(get_db(), network, name))


@bp.get("/ap/actors/<name>/outbox")
def outbox(name: str):
    return _json(documents.outbox(get_db(), _network(), _actor_name(name), _page()))


@bp.get("/ap/actors/<name>/followers")
def followers(name: str):
    return _json(documents.followers(get_db(), _network(), _actor_name(name)))


@bp.get("/ap/actors/<name>/following")
def following(name: str):
    return _json(documents.following(_network(), _actor_name(name)))


def _page() -> int | None:
    """`?page=N` of a collection (None: the collection itself); 400 when it is no page number."""
    return ids.query_int("page", 1, 1, MAX_PAGE) if "page" in request.args else None


def _article_doc(key: str) -> dict:
    row = articles.find(get_db(), _network(), key) if len(key) == 24 and key.isalnum() else None
    if row is None:
        raise ApiError(404, "unknown_post", "Aucun billet publié à cette adresse.")
    return json.loads(row["article"])


@bp.get("/ap/articles/<key>")
def article(key: str):
    doc = _article_doc(key)
    if _wants_html():
        return redirect(doc["url"], code=303)
    counts = crossblog.fediverse(get_db(), doc["url"])
    thread = notes.replies(get_db(), _network(), doc["url"], doc["id"], None)
    return _json(documents.article(doc, likes=counts["likes"], shares=counts["boosts"], replies=thread))


@bp.get("/ap/articles/<key>/replies")
def article_replies(key: str):
    doc = _article_doc(key)
    return _json(notes.replies(get_db(), _network(), doc["url"], doc["id"], _page()))


@bp.get("/ap/comments/<id:comment_id>")
def comment_note(comment_id: int):
    """An approved local comment as a Note (notes.py: what is served, what is not)."""
    found = notes.served(get_db(), _network(), comment_id)
    if found is None:
        raise ApiError(404, "unknown_comment", "Aucun commentaire publié à cette adresse.")
    doc = notes.note(get_db(), _network(), *found)
    if _wants_html():
        return redirect(doc["url"], code=303)
    return _json(doc)


# -- inboxes --------------------------------------------------------------------------------------------

def _receive(name: str | None):
    body = request.get_data(cache=True)  # 413 past the service's body cap
    db = get_db()
    path = (request.script_root + request.path) or "/"
    try:
        received = inbox.receive(current_app._get_current_object(), db, _network(), name, request.method, path,
                                 request.headers, body)
    except inbox.InboxError as exc:
        headers = {"WWW-Authenticate": 'Signature realm="confreres"'} if exc.status == 401 else None
        raise ApiError(exc.status, exc.code, exc.message, headers=headers) from None
    if received.queued:
        delivery.kick(current_app._get_current_object())
    return _json({"received": received.kind}, mimetype="application/json", status=202, cache=0)


@bp.post("/ap/actors/<name>/inbox")
def actor_inbox(name: str):
    return _receive(_actor_name(name))


@bp.post("/ap/inbox")
def shared_inbox():
    return _receive(None)
