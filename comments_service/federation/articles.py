"""The announced posts as ActivityStreams `Article` objects, and what changed since the last announce.

`sync` runs after each announce of a blog's posts (PUT /api/sites/<slug>/posts: the push, `confreres build`):
it rebuilds each post's Article from what the build sent (title, excerpt, date, and when given the HTML
`content`, `tags` and `modified` date), compares it with the one in `fed_articles`, and returns the
activities to deliver: `Create` for a new post, `Update` for a changed one, `Delete` for one no longer listed.
The content goes through the network's one sanitiser. The build sends the content of its newest posts only
(plugins/comments: the list stays small); a post sent without it keeps the content it was last sent with.
"""

from __future__ import annotations

import hashlib
import html
import json
from datetime import UTC

from comments_service.core.db import write
from comments_service.core.errors import ApiError
from comments_service.domain import validate
from comments_service.domain.posts import iso, parse_iso, query, utcnow
from comments_service.federation import urls
from confreres import sanitize
from confreres.registry import Network

MAX_CONTENT = 100_000  # characters of a post's HTML sent as its Article's content
MAX_TAGS = 20


def _raw_items(payload) -> dict[str, dict]:
    """The announced items by their checked URL (validate.posts has refused the list already if bad)."""
    found = {}
    for item in payload.get("posts") or []:
        if isinstance(item, dict):
            try:
                found[validate.thread_url(item.get("url"), "url")] = item
            except ApiError:  # validate.posts has said which item is bad
                continue
    return found


def _tags(raw: dict) -> list[dict]:
    tags = raw.get("tags")
    if not isinstance(tags, list):
        return []
    shown = []
    for tag in tags[:MAX_TAGS]:
        if isinstance(tag, str) and sanitize.one_line(tag).strip():
            name = sanitize.one_line(tag).strip()[:60]
            shown.append({"type": "Hashtag", "name": "#" + name.replace(" ", "")})
    return shown


def article(network: Network, slug: str, item, raw: dict) -> dict:
    """The Article of one announced post (`item`: validate.PostInput; `raw`: what the build sent)."""
    content = raw.get("content") if isinstance(raw.get("content"), str) else ""
    content = sanitize.clean(content[:MAX_CONTENT]) if content else ""
    if not content:
        content = f"<p>{html.escape(item.excerpt)}</p>" if item.excerpt else ""
    link = f'<p><a href="{html.escape(item.url)}">{html.escape(item.url)}</a></p>'
    doc = {
        "id": urls.article_id(network, item.url),
        "type": "Article",
        "attributedTo": urls.actor_id(network, slug),
        "name": item.title,
        "summary": html.escape(item.excerpt) if item.excerpt else None,
        "content": content + link,
        "mediaType": "text/html",
        "url": item.url,
        "published": when(item.date),
        "to": [urls.PUBLIC],
        "cc": [urls.followers(network, slug)],
        "tag": _tags(raw),
    }
    modified = when(raw.get("modified"))
    if modified:
        doc["updated"] = modified
    return {key: value for key, value in doc.items() if value is not None}


def when(value) -> str | None:
    """An xsd:dateTime in UTC ('2024-03-01T00:00:00Z') from an ISO date or datetime; None when it is none."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = parse_iso(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso(moment)


def _digest(doc: dict) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def sync(db, network: Network, slug: str, payload: dict, now=None) -> list[tuple[str, dict]]:
    """Record the blog's Articles as announced now; the (kind, article) changes, kind Create/Update/Delete."""
    items = validate.posts(network, slug, payload)
    raw = _raw_items(payload)
    stamp = iso(now or utcnow())
    changes: list[tuple[str, dict]] = []
    with write(db):
        known = {row["post_url"]: row for row in query(
            db, "SELECT post_url, object_id, digest, article, deleted FROM fed_articles WHERE site = ?", (slug,))}
        for item in items:
            sent = raw.get(item.url, {})
            doc = article(network, slug, item, sent)
            row = known.pop(item.url, None)
            if row is not None:
                doc["id"] = row["object_id"]  # a post that moved (domain/moves.py) stays the Article its followers have
            if "content" not in sent and row is not None:  # builds send the content of their newest posts only
                doc["content"] = json.loads(row["article"]).get("content", doc["content"])
            digest = _digest(doc)
            if row is not None and row["digest"] == digest and row["deleted"] is None:
                continue
            kind = "Create" if row is None or row["deleted"] is not None else "Update"
            if kind == "Update" and "updated" not in doc:
                doc["updated"] = stamp
            db.conn.execute(
                "INSERT INTO fed_articles (post_url, site, object_id, article, digest, published, deleted)"
                " VALUES (?, ?, ?, ?, ?, ?, NULL) ON CONFLICT (post_url) DO UPDATE SET site = excluded.site,"
                " article = excluded.article, digest = excluded.digest, published = excluded.published, deleted = NULL",
                (item.url, slug, doc["id"], json.dumps(doc, ensure_ascii=False), digest, doc.get("published") or stamp),
            )
            changes.append((kind, doc))
        for url, row in known.items():
            if row["deleted"] is None:
                db.conn.execute("UPDATE fed_articles SET deleted = ? WHERE post_url = ?", (stamp, url))
                changes.append(("Delete", json.loads(row["article"])))
    return changes


def _live(network: Network, slug: str | None = None) -> tuple[str, tuple]:
    """(WHERE clause, its parameters) of the live Articles: not deleted, of a blog still in network.toml (a blog
    removed from it loses its threads, posts.find_post: its posts go dark for the fediverse too), of `slug`'s only
    when given."""
    slugs = [site.slug for site in network.sites if slug is None or site.slug == slug]
    return f"deleted IS NULL AND site IN ({','.join('?' * len(slugs)) or 'NULL'})", tuple(slugs)


def find(db, network: Network, key: str):
    """The live Article of id `<base>/articles/<key>` (urls.article_key), else None (a deleted post's, or one of a
    blog removed from network.toml: both answer 404, as a deleted comment's Note does): one lookup in the unique
    index (a `LIKE '%…'` on the key read every Article of the network for each fetch)."""
    where, params = _live(network)
    rows = query(db, f"SELECT article FROM fed_articles WHERE object_id = ? AND {where}",
                 (f"{urls.base(network)}/articles/{key}", *params))
    return rows[0] if rows else None


def count(db, network: Network) -> int:
    """How many live Articles the network has (nodeinfo's `localPosts`)."""
    where, params = _live(network)
    return query(db, f"SELECT COUNT(*) AS n FROM fed_articles WHERE {where}", params)[0]["n"]


def page(db, network: Network, slug: str | None, offset: int, limit: int) -> tuple[int, list[dict]]:
    """(total, Articles) of a blog's live posts (every member blog's when `slug` is None), newest first."""
    where, params = _live(network, slug)
    total = query(db, f"SELECT COUNT(*) AS n FROM fed_articles WHERE {where}", params)[0]["n"]
    rows = query(
        db, f"SELECT article FROM fed_articles WHERE {where} ORDER BY published DESC, post_url LIMIT ? OFFSET ?",
        (*params, limit, offset),
    ) if limit else []
    return total, [json.loads(row["article"]) for row in rows]
