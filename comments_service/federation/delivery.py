"""The outgoing queue: each activity once (`fed_activities`), then one delivery per inbox (`fed_deliveries`),
signed by the activity's actor when sent.

Queuing writes rows in the caller's transaction and contacts nobody: a push or an inbox request never waits
for a remote instance. A post's activities are written once with their `audience` (the local actors whose
followers receive them), so a push costs the same with 1 follower or 10,000; the sender turns them into one
delivery per inbox (an instance's shared inbox once) when it runs. The sender is a worker thread of the app
(core/worker.py, kicked after each commit that queued something, when FEDERATION_SEND is `background`) or
`confreres federation deliver` (cron); it sends with FEDERATION_SENDERS threads. A delivery that fails for a
reason that may pass (no answer, 5xx, 408, 429) is retried after FEDERATION_RETRY_SECONDS, then twice as long
each time, MAX_ATTEMPTS times in all; any other refusal is final. A delivery to a blocked instance
(blocklist.py) is abandoned unsent. Several processes may send at once: each
delivery is claimed (leased for LEASE seconds) in its own transaction.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

from comments_service.core.db import connect, write
from comments_service.core.worker import Worker
from comments_service.domain.posts import iso, parse_iso, query, query_one, utcnow
from comments_service.federation import blocklist, keys, remote, signatures, urls
from confreres.registry import Network
from confreres.safe_http import FetchError

MAX_ATTEMPTS = 8
LEASE = 300  # seconds a claimed delivery is left to its sender before another may take it
KEEP_DAYS = 7  # sent and abandoned deliveries kept this long (`confreres federation status`)
RETRYABLE = frozenset({408, 429})
_lock = threading.Lock()


def _activity_row(db, actor: str, activity: dict, audience: str, now) -> int:
    cursor = db.conn.execute(
        "INSERT INTO fed_activities (actor, activity, audience, created) VALUES (?, ?, ?, ?)",
        (actor, json.dumps(activity, ensure_ascii=False), audience, iso(now or utcnow())),
    )
    return cursor.lastrowid


def queue(db, actor: str, inbox: str, activity: dict, now=None) -> int:
    """Queue `activity` (signed by the local `actor`) for one `inbox`, inside the caller's transaction."""
    return queue_for(db, actor, [inbox], activity, now)


def queue_for(db, actor: str, targets: list[str], activity: dict, now=None) -> int:
    """Queue `activity` (signed by the local `actor`) for each of `targets` (inboxes) now, not for whoever follows
    when the sender runs (`audience`), inside the caller's transaction; how many deliveries."""
    stamp = iso(now or utcnow())
    activity_id = _activity_row(db, actor, activity, "", now)
    db.conn.executemany(
        "INSERT INTO fed_deliveries (activity_id, inbox, not_before, created) VALUES (?, ?, ?, ?)",
        [(activity_id, inbox, stamp, stamp) for inbox in targets],
    )
    return len(targets)


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
    Create/Update/Delete, and the network actor's Announce of each new post. Returns how many deliveries
    they will make (the sender writes them)."""
    if not changes:
        return 0
    own = set(inboxes(db, slug))
    network_inboxes = set(inboxes(db, urls.NETWORK_ACTOR))
    if not own and not network_inboxes:
        return 0
    stamp = iso(now or utcnow())
    blog = urls.actor_id(network, slug)
    count = 0
    with write(db):
        for kind, doc in changes:
            suffix = f"{kind.lower()}-{stamp}"
            if kind == "Delete":
                activity = _activity(kind, blog, {"id": doc["id"], "type": "Tombstone"}, doc, suffix)
            else:
                activity = _activity(kind, blog, doc, doc, suffix)
            if kind == "Create":
                if own:
                    _activity_row(db, slug, activity, slug, now)
                    count += len(own)
                if network_inboxes:
                    announce = _activity("Announce", urls.actor_id(network, urls.NETWORK_ACTOR), doc["id"], doc,
                                         f"announce-{stamp}")
                    announce["cc"] = [urls.followers(network, urls.NETWORK_ACTOR), blog]
                    _activity_row(db, urls.NETWORK_ACTOR, announce, urls.NETWORK_ACTOR, now)
                    count += len(network_inboxes)
            else:  # those who saw the post through the network's boost must see it change or go too
                _activity_row(db, slug, activity, f"{slug},{urls.NETWORK_ACTOR}", now)
                count += len(own | network_inboxes)
    return count


def expand(db, now=None) -> int:
    """Turn the activities queued for followers into one delivery per inbox; how many deliveries."""
    stamp = iso(now or utcnow())
    count = 0
    with write(db):
        for row in query(db, "SELECT id, audience FROM fed_activities WHERE audience != ''"):
            targets = sorted({inbox for name in row["audience"].split(",") for inbox in inboxes(db, name)})
            db.conn.executemany(
                "INSERT INTO fed_deliveries (activity_id, inbox, not_before, created) VALUES (?, ?, ?, ?)",
                [(row["id"], inbox, stamp, stamp) for inbox in targets],
            )
            db.conn.execute("UPDATE fed_activities SET audience = '' WHERE id = ?", (row["id"],))
            count += len(targets)
    return count


# -- sending --------------------------------------------------------------------------------------------

def _claim(db, now):
    stamp = iso(now)
    with write(db):
        row = query_one(
            db,
            "SELECT d.id, a.actor, d.inbox, a.activity, d.activity_id, d.attempts FROM fed_deliveries d"
            " JOIN fed_activities a ON a.id = d.activity_id WHERE d.state = 'queued' AND d.not_before <= ?"
            " ORDER BY d.not_before, d.id LIMIT 1",
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
        # only while still queued: abandoned while it was being sent (farewell.py), it stays abandoned
        recorded = db.conn.execute(
            "UPDATE fed_deliveries SET state = ?, not_before = COALESCE(?, not_before), last_error = ?, done = ?"
            " WHERE id = ? AND state = 'queued'",
            (state, iso(due) if due else None, error[:500], iso(now) if due is None else None, row["id"]),
        ).rowcount
        if not recorded:
            found = query_one(db, "SELECT state, last_error FROM fed_deliveries WHERE id = ?", (row["id"],))
            state, due, error = (found["state"], None, found["last_error"] or "") if found else ("failed", None, error)
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


def _purge(db, moment) -> None:
    """Forget what was sent or abandoned more than KEEP_DAYS ago (an activity with its deliveries)."""
    with write(db):
        db.conn.execute(
            "DELETE FROM fed_activities WHERE created < ? AND audience = '' AND NOT EXISTS ("
            " SELECT 1 FROM fed_deliveries d WHERE d.activity_id = fed_activities.id AND d.state = 'queued')",
            (iso(moment - timedelta(days=KEEP_DAYS)),),
        )


def deliver(app, limit: int | None = None, now=None) -> list[dict]:
    """Send every due delivery (at most `limit`) with FEDERATION_SENDERS threads; one result dict each.
    Never raises for one delivery: whatever happens to it is recorded on it."""
    network = app.extensions["confreres_network"]
    retry_seconds = float(app.config.get("FEDERATION_RETRY_SECONDS", 60))
    results: list[dict] = []
    taken = threading.Lock()
    db = connect(app.config["DB"])
    try:
        _purge(db, now or utcnow())
        expand(db, now)
        blocked = blocklist.hosts(db, app.config)
    finally:
        db.close()

    def sender() -> None:
        db = connect(app.config["DB"])
        signers: dict = {}
        try:
            with remote.guard(app.config) as client:
                while True:
                    with taken:
                        if limit is not None and len(results) >= limit:
                            return
                        moment = now or utcnow()
                        row = _claim(db, moment)
                    if row is None:
                        return
                    try:
                        if remote.host_of(row["inbox"]) in blocked:  # blocked since it was queued: never sent
                            result = _finish(db, row, moment, 403, "instance bloquée", retry_seconds)
                        else:
                            result = send(db, network, client, row, moment, retry_seconds, signers)
                    except Exception as exc:  # noqa: BLE001 - kept on that delivery, never on the queue
                        app.logger.exception("federation: delivery %s failed", row["id"])
                        result = _finish(db, row, moment, None, exc.__class__.__name__, retry_seconds)
                    with taken:
                        results.append(result)
        finally:
            db.close()

    threads = [threading.Thread(target=sender, name=f"confreres-federation-send-{n}", daemon=True)
               for n in range(max(1, int(app.config.get("FEDERATION_SENDERS", 4))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db = connect(app.config["DB"])
    try:  # a blog taken off the fediverse (farewell.py): its key, once none of its Deletes is left to send
        keys.forget_retired(db, urls.actor_names(network))
    finally:
        db.close()
    return sorted(results, key=lambda result: result["id"])


def next_due(app) -> float | None:
    """Seconds until the next queued delivery is due, or None when nothing is queued."""
    db = connect(app.config["DB"])
    try:
        if query_one(db, "SELECT 1 FROM fed_activities WHERE audience != '' LIMIT 1"):
            return 0.0
        row = query_one(db, "SELECT MIN(not_before) AS due FROM fed_deliveries WHERE state = 'queued'")
    finally:
        db.close()
    if row is None or row["due"] is None:
        return None
    return max(0.0, (parse_iso(row["due"]) - utcnow()).total_seconds())


def pending(db) -> dict:
    """What the queue holds: deliveries waiting (retried ones among them), abandoned ones."""
    expand(db)
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
