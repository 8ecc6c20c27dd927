"""A published post changes address: its thread follows it.

A doctor corrects a title (Pelican makes the address from it), sets a `Slug:`, or changes the blog's permalinks:
the post's next announce lists it at a new address. Threads are keyed by address, so without this the post
would show an empty thread while its comments stayed behind at an address no page shows any more. The build
says which posts moved (plugins/comments: the same Markdown file at another address, `moved_from` in
posts.json); here, in the announce's transaction, everything kept for the old address moves to the new one:
comments, subscriptions, Webmentions (and those waiting to be checked), the fediverse's Article and reactions,
the answers already told. Another blog's post answering the old address keeps its `Reply_to` as written: its
answer is counted on the new one (`resolve`), like a comment sent from a page read before the move.
"""

from __future__ import annotations

from confreres.french import utc_iso, utcnow

# (table, column): tables whose rows belong to one post address; a row already there for the new address wins
_RE_KEYED = (
    ("subscriptions", "post_url"),  # PRIMARY KEY (email, post_url)
    ("mentions", "post_url"),  # UNIQUE (source, post_url)
    ("fed_reactions", "post_url"),  # PRIMARY KEY (post_url, actor, kind)
    ("answers_announced", "answered_url"),  # PRIMARY KEY (answer_url, answered_url)
    ("answer_notices", "answered_url"),
)


def resolve(db, url: str) -> str:
    """The address a post has now, for one it had before (itself when it never moved)."""
    row = db.conn.execute("SELECT new_url FROM post_moves WHERE old_url = ?", (url,)).fetchone()
    return row[0] if row else url


def resolve_many(db, urls: set[str]) -> dict[str, str]:
    """{earlier address: address now} for those of `urls` that moved."""
    urls = [u for u in urls if u]
    if not urls:
        return {}
    rows = db.conn.execute(
        f"SELECT old_url, new_url FROM post_moves WHERE old_url IN ({','.join('?' * len(urls))})", urls).fetchall()
    return dict(rows)


def first_addresses(db, urls) -> dict[str, str]:
    """{address now: the first address the post had} for those of `urls` that moved: what the ids of the feeds'
    entries are made of, which must never change (RFC 4287), while their links follow the post."""
    urls = sorted({u for u in urls if u})
    if not urls:
        return {}
    rows = db.conn.execute(
        f"SELECT new_url, old_url FROM post_moves WHERE new_url IN ({','.join('?' * len(urls))})"
        " ORDER BY moved DESC, rowid DESC", urls).fetchall()
    return dict(rows)  # the last row of each address wins: its earliest move


def follow(db, slug: str, items, now=None) -> dict[str, bool]:
    """Move the threads of the posts of `slug` that the announce lists at a new address (`item.moved_from`);
    inside the announce's transaction, after the new posts are recorded (domain/posts.sync). An earlier address
    that another post of the list has now, or that was never a post of this blog, moves nothing; one moved already
    is left alone (the build lists it every time). Returns the posts whose thread changed: {url: whether the
    blog's pages show the change} (posts.bump_post's `public`), one earlier address per move."""
    listed = {item.url for item in items}
    changed: dict[str, bool] = {}
    for item in items:
        for old in item.moved_from:
            if old in listed:
                continue  # the address is another post's now
            row = db.conn.execute("SELECT site FROM posts WHERE url = ?", (old,)).fetchone()
            if row is None or row[0] != slug or resolve(db, old) == item.url:
                continue  # not this blog's post, or moved there by an earlier announce (every build lists it)
            shown = _move(db, slug, old, item.url, now)
            changed[old] = False
            changed[item.url] = changed.get(item.url, False) or shown
    return changed


def _move(db, slug: str, old: str, new: str, now=None) -> bool:
    """Whether the thread moved had anything (its comments: the new pages, built before, show none yet)."""
    conn = db.conn
    stamp = utc_iso(now or utcnow())
    had = conn.execute("SELECT 1 FROM comments WHERE post_url = ? LIMIT 1", (old,)).fetchone()
    conn.execute("UPDATE comments SET post_url = ? WHERE post_url = ?", (new, old))
    for table, column in _RE_KEYED:
        conn.execute(f"UPDATE OR IGNORE {table} SET {column} = ? WHERE {column} = ?", (new, old))
        conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (old,))
    conn.execute("UPDATE webmention_requests SET post_url = ? WHERE post_url = ?", (new, old))
    # the post's Article on the fediverse keeps its id: the next step of the announce sends an Update
    if not conn.execute("SELECT 1 FROM fed_articles WHERE post_url = ?", (new,)).fetchone():
        conn.execute("UPDATE fed_articles SET post_url = ? WHERE post_url = ?", (new, old))
    conn.execute("UPDATE posts SET reply_to = ? WHERE reply_to = ?", (new, old))
    conn.execute("DELETE FROM post_moves WHERE old_url = ?", (new,))  # back at an address it had
    conn.execute("UPDATE post_moves SET new_url = ? WHERE new_url = ?", (new, old))
    conn.execute(
        "INSERT INTO post_moves (old_url, new_url, site, moved) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (old_url) DO UPDATE SET new_url = excluded.new_url, site = excluded.site, moved = excluded.moved",
        (old, new, slug, stamp),
    )
    return had is not None
