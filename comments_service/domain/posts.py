"""Posts: the list each blog announces (sync), their versions (the threads' ETags), their lookup.

Below the comments, the mentions, the accounts and the verification records, which all bump a
post's version when what its thread shows changes (`bump_post`). Also the time and query helpers
every record module uses (they are reached as `comments.utcnow`, `comments.query`... too).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import replace
from datetime import datetime

from comments_service.core.db import write
from comments_service.core.errors import ApiError
from comments_service.domain import moves, validate
from confreres.french import parse_iso, utc_iso, utcnow  # noqa: F401 (domain modules read them here)
from confreres.registry import Network

log = logging.getLogger(__name__)
_WARNED_EMPTY: set[tuple[str, str]] = set()  # (database file, blog) already named in the log: once per process

# -- time ---------------------------------------------------------------------------------------

# The one ISO 8601 formatter and parser of the network (confreres.french), under the names the domain uses.
iso = utc_iso


# -- helpers ------------------------------------------------------------------------------------

def query(db, sql: str, params=()) -> list[sqlite3.Row]:
    cursor = db.conn.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor.execute(sql, params).fetchall()


def query_one(db, sql: str, params=()) -> sqlite3.Row | None:
    cursor = db.conn.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor.execute(sql, params).fetchone()


# -- versions ----------------------------------------------------------------------------------

def bump_post(db, url: str, public: bool = True) -> None:
    """Give the post a new version: strictly increasing, and unique across database re-creations.

    `public=False` for a change a static snapshot of the thread cannot show (a comment or mention that
    is and stays hidden, the post's own metadata): `public_version`, which GET /api/sites's
    `comments_version` is made of (crossblog.comments_versions), then stays put.
    """
    stamp = int(time.time() * 1000)
    if public:
        db.conn.execute(
            "UPDATE posts SET version = max(version + 1, ?), public_version = max(public_version + 1, ?) WHERE url = ?",
            (stamp, stamp, url),
        )
    else:
        db.conn.execute("UPDATE posts SET version = max(version + 1, ?) WHERE url = ?", (stamp, url))


def bump_site_answers(db, account_id: int) -> None:
    """New versions for the threads answered by posts of the blogs this account writes (account_sites).

    Those threads show each answer's author badge (crossblog.site_badges): a change of the account's
    verification, shown specialty or blogs must not leave them cached with the old badge.
    """
    db.conn.execute(
        "UPDATE posts SET version = max(version + 1, ?1), public_version = max(public_version + 1, ?1) WHERE url IN ("
        " SELECT p.reply_to FROM posts p JOIN account_sites s ON s.site = p.site"
        " WHERE s.account_id = ?2 AND p.reply_to IS NOT NULL)",
        (int(time.time() * 1000), account_id),
    )


# -- posts --------------------------------------------------------------------------------------

def sync(db, network: Network, slug: str, payload: dict, now: datetime | None = None) -> tuple[dict, list[tuple[str, str]]]:
    """Make the site's list of posts exactly `payload["posts"]` (the body of PUT /api/sites/<slug>/posts,
    also the shape of a site's published posts.json).

    Posts missing from the list are unlisted, not deleted: their comments stay, and come back if
    the post does. A post that answers another (reply_to) and appears, changes or goes also bumps
    the answered post, whose thread lists it. Raises KeyError for an unknown site, ApiError(400)
    for a bad payload.

    Returns (summary, pairs): the (answer, answered) pairs whose answered blog's authors may be told
    (actions/posts.py hands them to mail/notices.py in the same transaction).
    """
    network.site(slug)
    items = validate.posts(network, slug, payload)
    stamp = iso(now or utcnow())
    summary = {"site": slug, "created": 0, "updated": 0, "unchanged": 0, "unlisted": 0, "moved": 0}
    columns = "url, site, title, published, reply_to, comments_mode, excerpt, listed"
    answered: set[str] = set()  # posts whose list of answers changed
    with write(db):
        # a post answering one that has since moved answers it at its address now (domain/moves.py)
        moved = moves.resolve_many(db, {item.reply_to for item in items if item.reply_to})
        items = [replace(item, reply_to=moved[item.reply_to]) if item.reply_to in moved else item for item in items]
        existing = {row["url"]: row for row in query(db, f"SELECT {columns} FROM posts WHERE site = ?", (slug,))}
        existing_urls = set(existing)
        for item in items:
            row = existing.pop(item.url, None)
            if row is None:
                row = query_one(db, f"SELECT {columns} FROM posts WHERE url = ?", (item.url,))
            values = (slug, item.title, item.date, item.reply_to, item.comments, item.excerpt)
            if row is None:
                db.conn.execute(
                    "INSERT INTO posts (url, site, title, published, reply_to, comments_mode, excerpt, listed, version,"
                    " synced) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                    (item.url, *values, int(time.time() * 1000), stamp),
                )
                summary["created"] += 1
                answered.add(item.reply_to)
            elif tuple(row[k] for k in ("site", "title", "published", "reply_to", "comments_mode", "excerpt")) != values or not row["listed"]:
                db.conn.execute(
                    "UPDATE posts SET site = ?, title = ?, published = ?, reply_to = ?, comments_mode = ?, excerpt = ?,"
                    " listed = 1, synced = ? WHERE url = ?",
                    (*values, stamp, item.url),
                )
                bump_post(db, item.url, public=False)  # the blog's own build changed it: its pages show it already
                summary["updated"] += 1
                answered.update((item.reply_to, row["reply_to"]))
            else:
                summary["unchanged"] += 1
        for url, row in existing.items():
            if row["listed"]:
                db.conn.execute("UPDATE posts SET listed = 0, synced = ? WHERE url = ?", (stamp, url))
                bump_post(db, url, public=False)
                summary["unlisted"] += 1
                answered.add(row["reply_to"])
        changed = moves.follow(db, slug, items, now=now)
        summary["moved"] = sum(1 for url in changed if url not in {item.url for item in items})
        for url, shown in changed.items():
            bump_post(db, url, public=shown)  # a moved thread with comments: the blog's next build shows them
        for url in answered - {None}:
            bump_post(db, url)  # its thread shows its answers: new ETag
        # answers to tell the answered blog's authors (mail/notices.py keeps each pair once: rebuilds never re-mail);
        # a post of this blog that appears now may have been answered already by another blog
        pairs = [(item.url, item.reply_to) for item in items if item.reply_to]
        created = {item.url for item in items if item.url not in existing_urls}
        if created:
            pairs += [
                (row["url"], row["reply_to"])
                for row in query(db, "SELECT url, reply_to FROM posts WHERE reply_to IS NOT NULL AND listed = 1")
                if row["reply_to"] in created
            ]
    return summary, pairs


def get_post(db, url: str) -> sqlite3.Row | None:
    return query_one(
        db,
        "SELECT url, site, title, published, reply_to, comments_mode, version FROM posts WHERE url = ? AND listed = 1",
        (url,),
    )


def find_post(db, network: Network, raw_url, field: str = "url") -> sqlite3.Row:
    """The listed post at `raw_url`, or ApiError 400 (bad URL) / 404 (outside the network, unknown post)."""
    url = validate.thread_url(raw_url, field)
    post = get_post(db, url) or get_post(db, moves.resolve(db, url))  # a page from before the post moved
    if post is not None and network.has_site(post["site"]):  # a blog removed from network.toml loses its threads
        return post
    site = network.site_for_url(url)
    if site is None:
        raise ApiError(404, "not_in_network", "Cette adresse n'appartient à aucun blog du réseau.", field)
    _warn_if_no_posts(db, site.slug)
    raise ApiError(404, "unknown_post", "Aucun billet publié à cette adresse.", field)


def _warn_if_no_posts(db, slug: str) -> None:
    """Say in the log, once per blog and process, that the service knows no post of a blog it is asked about:
    a database started empty or restored from before the blog's posts were announced refuses every comment
    until `confreres build` announces them again."""
    if query_one(db, "SELECT 1 FROM posts WHERE site = ? AND listed = 1", (slug,)):
        return
    key = (db.conn.execute("PRAGMA database_list").fetchone()[2], slug)
    if key in _WARNED_EMPTY:
        return
    _WARNED_EMPTY.add(key)
    log.warning("the comment service knows no post of the blog %s: its comments are refused until "
                "`confreres build` announces its posts (PUT /api/sites/%s/posts)", slug, slug)


def comments_mode(network: Network, post) -> str:
    """The post's own mode (from its metadata) or else its site's; "open" for a site since removed."""
    if post["comments_mode"]:
        return post["comments_mode"]
    try:
        return network.site(post["site"]).comments
    except KeyError:
        return "open"
