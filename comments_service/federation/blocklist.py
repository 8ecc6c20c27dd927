"""The instances the network blocks: their signed requests are refused (403, before any key is fetched) and
nothing is delivered to them. Moderators keep the list in the database (`confreres federation block HOST`,
`unblock`, `blocked`); the FEDERATION_BLOCKED_HOSTS setting adds to it. A host is `host` or `host:port`, as in
an actor's id; a blocked instance's followers stay recorded (unblocking it resumes the deliveries).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from comments_service.core.db import write
from comments_service.domain.posts import iso, query, utcnow

HOST = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?")


def normalise(value: str) -> str | None:
    """The host of `value` (`mastodon.example`, `Mastodon.Example:8443`, `https://mastodon.example/@x`), else
    None."""
    value = (value or "").strip()
    try:
        host = urlsplit(value if "//" in value else "//" + value).netloc.lower().rpartition("@")[2]
    except ValueError:
        return None
    return host if HOST.fullmatch(host) else None


def setting(config) -> frozenset[str]:
    return frozenset(h for h in (normalise(v) for v in str(config.get("FEDERATION_BLOCKED_HOSTS") or "").split(","))
                     if h)


def hosts(db, config) -> frozenset[str]:
    """Every blocked host: the moderators' list and the setting's."""
    return setting(config) | {row["host"] for row in query(db, "SELECT host FROM fed_blocked_hosts")}


def listed(db) -> list:
    return query(db, "SELECT host, created FROM fed_blocked_hosts ORDER BY host")


def block(db, host: str) -> bool:
    """Add `host` (normalised already); False when it was there."""
    with write(db):
        cursor = db.conn.execute("INSERT OR IGNORE INTO fed_blocked_hosts (host, created) VALUES (?, ?)",
                                 (host, iso(utcnow())))
    return cursor.rowcount == 1


def unblock(db, host: str) -> bool:
    with write(db):
        cursor = db.conn.execute("DELETE FROM fed_blocked_hosts WHERE host = ?", (host,))
    return cursor.rowcount == 1
