"""Remote actors: fetched through confreres.safe_http (never a private address unless allow-listed), kept in
`fed_remote_actors` with the key that verifies their signatures and the inboxes we deliver to.

A fetch is a signed GET (the network's actor signs it), so instances that require signed fetches
("authorized fetch") answer too. An actor's document must come from the origin of its id, and its key must
be one of its own: a page elsewhere cannot lend its key to someone else's actor.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urldefrag, urlsplit

from comments_service.core.db import write
from comments_service.domain import validate
from comments_service.domain.posts import iso, query_one, utcnow
from comments_service.federation import keys, signatures, urls
from confreres import sanitize
from confreres.registry import Network
from confreres.safe_http import FetchError, Guard, configured_allow_hosts

log = logging.getLogger(__name__)

ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
USER_AGENT = "Confreres-Federation/1.0"
MAX_ACTOR_BYTES = 256 * 1024
COLUMNS = "id, key_id, public_pem, inbox, shared_inbox, username, name, url"


class RemoteError(Exception):
    """A remote actor that could not be fetched or whose document is unusable (French message)."""


def guard(config, timeout: float | None = None) -> Guard:
    """The outgoing client of the federation: the allow-list of every outgoing request, short timeouts."""
    return Guard(configured_allow_hosts(config), timeout=float(timeout or config.get("FEDERATION_TIMEOUT", 5)),
                 max_bytes=MAX_ACTOR_BYTES, max_redirects=2, user_agent=USER_AGENT)


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).netloc or "").lower()
    except ValueError:
        return ""


def by_key(db, key_id: str):
    return query_one(db, f"SELECT {COLUMNS} FROM fed_remote_actors WHERE key_id = ?", (key_id,))


def by_id(db, actor_id: str):
    return query_one(db, f"SELECT {COLUMNS} FROM fed_remote_actors WHERE id = ?", (actor_id,))


def _http_url(value) -> str | None:
    return value if isinstance(value, str) and validate.is_http_url(value) and len(value) <= validate.MAX_URL else None


def _key_of(doc: dict, key_id: str | None) -> dict | None:
    found = doc.get("publicKey")
    candidates = found if isinstance(found, list) else [found]
    candidates = [k for k in candidates if isinstance(k, dict) and isinstance(k.get("publicKeyPem"), str)]
    for key in candidates:
        if key_id is None or key.get("id") == key_id:
            return key
    return None


def _get(db, network: Network, client: Guard, url: str) -> tuple[dict, str]:
    """The JSON document at `url` (signed GET) and the URL it came from; RemoteError when unusable."""
    headers = signatures.sign(keys.private_key(db, urls.NETWORK_ACTOR), urls.key_id(network, urls.NETWORK_ACTOR),
                              "GET", url, None, {"Accept": ACCEPT})
    try:
        fetched = client.get(url, headers=headers)
    except FetchError as exc:
        log.info("actor %s unreachable: %s", url, exc)
        raise RemoteError("acteur injoignable") from None
    if fetched.status != 200 or fetched.truncated:
        raise RemoteError(f"acteur illisible ({fetched.status})")
    try:
        doc = json.loads(fetched.body)
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        raise RemoteError("acteur illisible (pas du JSON)") from None
    if not isinstance(doc, dict):
        raise RemoteError("acteur illisible")
    return doc, fetched.url


def _owner_of(doc: dict, url: str) -> str | None:
    """The actor to fetch when the document at a keyId `url` is not the actor itself: a key served apart (its
    `owner`), or GoToSocial's `/main-key`, a stub of the actor without its inbox (its `id`). Same origin only."""
    if _http_url(doc.get("inbox")):
        return None
    owner = _http_url(doc.get("owner")) or _http_url(doc.get("id"))
    if owner is None or urldefrag(owner)[0] == url or host_of(owner) != host_of(url):
        return None
    return urldefrag(owner)[0]


def fetch(db, network: Network, client: Guard, url: str, key_id: str | None = None):
    """Fetch the actor at `url` (signed GET), check it, store it; its row. RemoteError when unusable.

    With `key_id`, `url` is the key's address: it may serve the actor (Mastodon, Pleroma, Misskey: `…#main-key`)
    or only the key, the actor then fetched from it; either way the actor must list that key as its own."""
    url = urldefrag(url)[0]
    doc, fetched_url = _get(db, network, client, url)
    if key_id is not None and (owner := _owner_of(doc, url)) is not None:
        url = owner
        doc, fetched_url = _get(db, network, client, url)
    ident, inbox = _http_url(doc.get("id")), _http_url(doc.get("inbox"))
    if not ident or not inbox:
        raise RemoteError("acteur sans identifiant ou sans boîte de réception")
    if host_of(ident) != host_of(fetched_url) or host_of(ident) != host_of(url):
        raise RemoteError("l'acteur ne vient pas de son propre domaine")
    key = _key_of(doc, key_id)
    if key is None or (key.get("owner") not in (None, ident)) or host_of(str(key.get("id", ""))) != host_of(ident):
        raise RemoteError("clé publique absente ou étrangère à l'acteur")
    endpoints = doc.get("endpoints") if isinstance(doc.get("endpoints"), dict) else {}
    row = (
        ident, str(key.get("id") or ident + "#main-key"), key["publicKeyPem"], inbox,
        _http_url(endpoints.get("sharedInbox")),
        sanitize.one_line(str(doc.get("preferredUsername") or ""))[:100],
        sanitize.one_line(sanitize.text(str(doc.get("name") or "")))[:100],
        _http_url(doc.get("url")) if not isinstance(doc.get("url"), list) else None,
        iso(utcnow()),
    )
    with write(db):
        db.conn.execute("DELETE FROM fed_remote_actors WHERE key_id = ? AND id != ?", (row[1], ident))
        db.conn.execute(
            "INSERT INTO fed_remote_actors (id, key_id, public_pem, inbox, shared_inbox, username, name, url, fetched)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET key_id = excluded.key_id,"
            " public_pem = excluded.public_pem, inbox = excluded.inbox, shared_inbox = excluded.shared_inbox,"
            " username = excluded.username, name = excluded.name, url = excluded.url, fetched = excluded.fetched",
            row,
        )
    return by_id(db, ident)


def for_key(db, network: Network, client: Guard, key_id: str, refresh: bool = False):
    """(row, fresh) of the actor owning `key_id`: from the database unless `refresh`, else fetched."""
    if not _http_url(key_id):
        raise RemoteError("keyId invalide")
    row = None if refresh else by_key(db, key_id)
    if row is not None:
        return row, False
    return fetch(db, network, client, key_id, key_id), True
