"""The outgoing queue (`fed_deliveries`): one activity for one inbox, signed by its actor when sent.

Queuing is a row written in the caller's transaction: a push or an inbox request never waits for a remote
instance. A worker thread of the app (core/worker.py, kicked after each commit that queued something, when
FEDERATION_SEND is `background`) or `confreres federation deliver` (cron) sends what is due. A delivery that
fails for a reason that may pass (no answer, 5xx, 408, 429) is retried after RETRY_SECONDS, then twice as long
each time, MAX_ATTEMPTS times in all; any other refusal is final. Several processes may send at once: each
row is claimed (leased for LEASE seconds) in its own transaction.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

from comments_service.core.db import connect, write
from comments_service.core.worker import Worker
from comments_service.domain.posts import iso, parse_iso, query, query_one, utcnow
from comments_service.federation import keys, remote, signatures, urls
from confreres.registry import Network
from confreres.safe_http import FetchError

MAX_ATTEMPTS = 8
LEASE = 300  # seconds a claimed delivery is left to its sender before another may take it
KEEP_SENT_DAYS = 7
RETRYABLE = frozenset({408, 429})
SEND_MODES = ("background", "cron")
_lock = threading.Lock()


def queue(db, actor: str, inbox: str, activity: dict, now=None) -> int:
    """Queue `activity` (signed by the local `actor`) for `inbox`, inside the caller's transaction."""
    stamp = iso(now or utcnow())
    cursor = db.conn.execute(
        "INSERT INTO fed_deliveries (actor, inbox, activity, not_before, created) VALUES (?, ?, ?, ?, ?)",
        (actor, inbox, json.dumps(activity, ensure_ascii=False), stamp, stamp),
    )
    return cursor.lastrowid


def inboxes(db, actor: str) -> list[str]:
    """Where the followers of `actor` receive: each instance's shared inbox once, else each follower's own."""
    rows = query(
        db,
        "SELECT DISTINCT COALESCE(r.shared_inbox, r.inbox) AS inbox FROM fed_followers f"
        " JOIN fed_remote_actors r ON r.id = f.follower WHERE f.actor = ? ORDER BY 1",
        (actor,),
    )
    return [row["inbox"] for row in rows]


def _activity(kind: str, actor_id: str, obj, doc: dict, suffix: str) -> dict:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{doc['id']}#{suffix}", "type": kind,
            "actor": actor_id, "to": [urls.PUBLIC], "cc": doc.get("cc", []), "object": obj}


def queue_post_changes(db, network: Network, slug: str, changes: list[tuple[str, dict]], now=None) -> int:
    """Queue what a blog's announce changed (articles.sync) for its followers and the network's: the blog's
    Create/Update/Delete, and the network actor's Announce of each new post. Returns how many were queued."""
    if not changes:
        return 0
    stamp = iso(now or utcnow())
    own = inboxes(db, slug)
    network_inboxes = inboxes(db, urls.NETWORK_ACTOR)
    blog = urls.actor_id(network, slug)
    count = 0
    with write(db):
        for kind, doc in changes:
            suffix = f"{kind.lower()}-{stamp}"
            if kind == "Delete":
                activity = _activity(kind, blog, {"id": doc["id"], "type": "Tombstone"}, doc, suffix)
            else:
                activity = _activity(kind, blog, doc, doc, suffix)
            targets = own if kind == "Create" else sorted(set(own) | set(network_inboxes))
            for inbox in targets:
                queue(db, slug, inbox, activity, now)
                count += 1
            if kind == "Create":
                announce = _activity("Announce", urls.actor_id(network, urls.NETWORK_ACTOR), doc["id"], doc,
                                     f"announce-{stamp}")
                announce["cc"] = [urls.followers(network, urls.NETWORK_ACTOR), blog]
                for inbox in network_inboxes:
                    queue(db, urls.NETWORK_ACTOR, inbox, announce, now)
                    count += 1
    return count


# -- sending --------------------------------------------------------------------------------------------

def _claim(db, now):
    stamp = iso(now)
    with write(db):
        row = query_one(
            db,
            "SELECT id, actor, inbox, activity, attempts FROM fed_deliveries WHERE state = 'queued' AND not_before <= ?"
            " ORDER BY not_before, id LIMIT 1",
            (stamp,),
        )
        if row is None:
            return None
        db.conn.execute(
            "UPDATE fed_deliveries SET attempts = attempts + 1, not_before = ? WHERE id = ?",
            (iso(now + timedelta(seconds=LEASE)), row["id"]),
        )
    return row


def _finish(db, row, now, status: int | None, error: str, retry_seconds: float) -> dict:
    attempts = row["attempts"] + 1
    if status is not None and 200 <= status < 300:
        state, due = "sent", None
    elif (status is None or status >= 500 or status in RETRYABLE) and attempts < MAX_ATTEMPTS:
        state, due = "queued", now + timedelta(seconds=retry_seconds * 2 ** (attempts - 1))
    else:
        state, due = "failed", None
    with write(db):
        db.conn.execute(
            "UPDATE fed_deliveries SET state = ?, not_before = COALESCE(?, not_before), last_error = ?, done = ?"
            " WHERE id = ?",
            (state, iso(due) if due else None, error[:500], iso(now) if due is None else None, row["id"]),
        )
    return {"id": row["id"], "inbox": row["inbox"], "state": state, "status": status, "attempts": attempts,
            "error": error, "retry_at": iso(due) if due else None}


def send(db, network: Network, client, row, now, retry_seconds: float, signers: dict) -> dict:
    """Sign and POST one claimed delivery; record what came of it."""
    body = row["activity"].encode()
    if row["actor"] not in signers:
        signers[row["actor"]] = keys.private_key(db, row["actor"])
    headers = signatures.sign(signers[row["actor"]], urls.key_id(network, row["actor"]), "POST", row["inbox"], body,
                              {"Content-Type": "application/activity+json", "Accept": remote.ACCEPT})
    try:
        answer = client.post(row["inbox"], body, headers)
    except FetchError as exc:
        return _finish(db, row, now, None if exc.transient else 400, str(exc), retry_seconds)
    return _finish(db, row, now, answer.status, "" if answer.status < 300 else f"HTTP {answer.status}", retry_seconds)


def deliver(app, limit: int | None = None, now=None) -> list[dict]:
    """Send every due delivery (at most `limit`); one result dict each. Never raises for one delivery."""
    network = app.extensions["confreres_network"]
    retry_seconds = float(app.config.get("FEDERATION_RETRY_SECONDS", 60))
    results: list[dict] = []
    db = connect(app.config["DB"])
    signers: dict = {}
    try:
        moment = now or utcnow()
        with write(db):
            db.conn.execute("DELETE FROM fed_deliveries WHERE state = 'sent' AND done < ?",
                            (iso(moment - timedelta(days=KEEP_SENT_DAYS)),))
        with remote.guard(app.config) as client:
            while limit is None or len(results) < limit:
                moment = now or utcnow()
                row = _claim(db, moment)
                if row is None:
                    break
                try:
                    results.append(send(db, network, client, row, moment, retry_seconds, signers))
                except Exception as exc:  # noqa: BLE001 - kept on that delivery, never on the queue
                    app.logger.exception("federation: delivery %s failed", row["id"])
                    results.append(_finish(db, row, moment, None, exc.__class__.__name__, retry_seconds))
    finally:
        db.close()
    return results


def next_due(app) -> float | None:
    """Seconds until the next queued delivery is due, or None when nothing is queued."""
    db = connect(app.config["DB"])
    try:
        row = query_one(db, "SELECT MIN(not_before) AS due FROM fed_deliveries WHERE state = 'queued'")
    finally:
        db.close()
    if row is None or row["due"] is None:
        return None
    return max(0.0, (parse_iso(row["due"]) - utcnow()).total_seconds())


def pending(db) -> dict:
    row = query_one(db, "SELECT COUNT(*) AS queued, SUM(attempts > 0) AS retried FROM fed_deliveries"
                        " WHERE state = 'queued'")
    failed = query_one(db, "SELECT COUNT(*) AS n FROM fed_deliveries WHERE state = 'failed'")["n"]
    return {"queued": row["queued"] or 0, "retried": row["retried"] or 0, "failed": failed}


def worker(app) -> Worker:
    with _lock:
        found = app.extensions.get("confreres_federation_worker")
        if found is None:
            def step():
                deliver(app)
                return next_due(app)

            found = app.extensions["confreres_federation_worker"] = Worker(
                app, "confreres-federation", step, failure="federation: delivery worker failed")
        return found


def kick(app) -> None:
    """Wake the sender (started when needed) unless deliveries are left to cron."""
    if app.config.get("FEDERATION_SEND", "background") == "background":
        worker(app).kick()
