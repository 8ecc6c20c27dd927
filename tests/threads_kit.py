"""Large and deep threads written fast: one INSERT of every row, in one transaction, then the post's new version.

`write_thread(db_path, url, roots=R, replies=N)` writes R top-level comments, each followed by a chain of N
replies (each answering the previous one, or with `fan` the top-level comment), all approved, with the columns store.add_comment fills for a
guest's comment. Returns the ids in conversation order.
"""

from __future__ import annotations

from comments_service.core.db import connect, write
from comments_service.domain import comments as store
from comments_service.domain.posts import bump_post, get_post


def write_thread(db_path: str, url: str, *, roots: int = 1, replies: int = 0, fan: bool = False) -> list[int]:
    """`fan`: every reply answers its top-level comment, instead of a chain."""
    db = connect(db_path)
    try:
        post = get_post(db, url)
        with write(db):
            start = db.conn.execute("SELECT coalesce(max(id), 0) FROM comments").fetchone()[0] + 1
            stamp = store.iso(store.utcnow())
            rows, ids = [], []
            for r in range(roots):
                parent = None
                for depth in range(replies + 1):
                    cid = start + len(ids)
                    text = f"r{r}-{depth}" if depth else f"r{r}"
                    rows.append((cid, post["url"], post["site"], parent, f"Auteur {text}", text,
                                 f"<p>Commentaire {text}</p>", stamp, "approved"))  # as domain/render.py makes it
                    ids.append(cid)
                    parent = ids[-1 - depth] if fan else cid
            db.conn.executemany(
                "INSERT INTO comments (id, post_url, site, parent_id, author_name, text, html, created, status)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            bump_post(db, post["url"])
    finally:
        db.close()
    return ids


def walk(nodes: list[dict]):
    """Every node of a nested thread with its level (1: top level), in reading order, without recursion."""
    stack = [(node, 1) for node in reversed(nodes)]
    while stack:
        node, level = stack.pop()
        yield node, level
        stack.extend((child, level + 1) for child in reversed(node.get("replies") or []))
