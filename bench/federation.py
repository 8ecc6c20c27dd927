"""Benchmark of the fediverse fan-out (run by hand): one post to 1,000 followers on 50 local sink instances.

Serves the real comment service on 127.0.0.1 (a temporary database), starts 50 sink instances (each answers
202 to any POST and counts it), gives one blog 1,000 followers spread over them, then measures:
  1. the push's added latency: PUT /api/sites/<slug>/posts announcing one new post, for the blog with 1,000
     followers (which queues 1,000 deliveries) against a blog with none, alternated, `--runs` times (medians);
  2. deliveries/s: `confreres federation deliver`'s work (delivery.deliver) until the queue is empty, every
     request signed (RSA-SHA256) and sent over real HTTP.
Followers have no shared inbox (the worst case: one delivery each). The machine may be shared: the figures
are printed as ratios against a baseline measured in the same run.

    .venv/bin/python bench/federation.py [--followers 1000] [--instances 50] [--runs 5]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

import httpx  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

SECRET = "bench-federation-secret"
NETWORK = """
[network]
name = "Banc fédéré"
url = "{origin}/"
comments_url = "{origin}/comments/"

[[sites]]
slug = "suivi"
title = "Blog suivi"
author = "Dr Suivi"
url = "{origin}/suivi/"

[[sites]]
slug = "seul"
title = "Blog sans abonnés"
author = "Dr Seul"
url = "{origin}/seul/"
"""


def run_sinks(count: int, ports, received) -> None:
    """In a process of its own (not competing with the sender for the GIL): `count` remote instances that
    take every delivery (202) and count them in `received`."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with received.get_lock():
                received.value += 1
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    servers = []
    for _ in range(count):
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        servers.append(httpd)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        ports.put(httpd.server_address[1])
    threading.Event().wait()


class _Late:
    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--followers", type=int, default=1000)
    parser.add_argument("--instances", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from comments_service import create_app
    from comments_service.core.db import connect, write
    from comments_service.federation import delivery
    from confreres import serve
    from confreres.site_token import site_token

    tmp = Path(tempfile.mkdtemp(prefix="bench-federation-"))
    late = _Late()
    httpd = make_server("127.0.0.1", 0, late, threaded=True)
    origin = f"http://127.0.0.1:{httpd.server_port}"
    (tmp / "network.toml").write_text(NETWORK.format(origin=origin), encoding="utf-8")
    app = create_app({"TESTING": True, "SECRET_KEY": SECRET, "NETWORK": str(tmp / "network.toml"),
                      "DB": str(tmp / "comments.sqlite3"), "RATE_LIMIT": "off", "READ_RATE_LIMIT": "off",
                      "FEDERATION_SEND": "cron", "OUTGOING_ALLOW_HOSTS": "127.0.0.1"})
    late.app = serve.make_app(app.extensions["confreres_network"], tmp, app)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    ports, received = multiprocessing.Queue(), multiprocessing.Value("i", 0)
    sinks = multiprocessing.Process(target=run_sinks, args=(args.instances, ports, received), daemon=True)
    sinks.start()
    sink_ports = [ports.get(timeout=30) for _ in range(args.instances)]
    db = connect(app.config["DB"])
    with write(db):
        for n in range(args.followers):
            port = sink_ports[n % len(sink_ports)]
            actor = f"http://127.0.0.1:{port}/users/u{n}"
            db.conn.execute(
                "INSERT INTO fed_remote_actors (id, key_id, public_pem, inbox, username, fetched)"
                " VALUES (?, ?, '', ?, ?, '2025-01-01T00:00:00Z')", (actor, actor + "#main-key", actor + "/inbox", f"u{n}"))
            db.conn.execute("INSERT INTO fed_followers (actor, follower, follow_id, created)"
                            " VALUES ('suivi', ?, ?, '2025-01-01T00:00:00Z')", (actor, actor + "#follow"))
    db.close()

    def announce(slug: str, count: int) -> tuple[float, int]:
        posts = [{"url": f"{origin}/{slug}/billet-{i}.html", "title": f"Billet {i}", "date": "2025-01-01"}
                 for i in range(count)]
        start = time.perf_counter()
        answer = httpx.put(f"{origin}/comments/api/sites/{slug}/posts", json={"posts": posts},
                           headers={"Authorization": f"Bearer {site_token(SECRET, slug)}"}, timeout=60)
        elapsed = time.perf_counter() - start
        answer.raise_for_status()
        return elapsed, answer.json()["federation"]["queued"]

    announce("suivi", 1)  # warm up: keys, first articles (the followers get this one too)
    announce("seul", 1)
    delivery.deliver(app)
    alone, followed = [], []
    for run in range(args.runs):
        seconds, _ = announce("seul", run + 2)
        alone.append(seconds)
        seconds, queued = announce("suivi", run + 2)
        followed.append(seconds)
        assert queued == args.followers, queued
        db = connect(app.config["DB"])
        with write(db):  # measured the push only: its deliveries are not sent
            db.conn.execute("DELETE FROM fed_activities WHERE audience != ''")
        db.close()
    base, fan = statistics.median(alone), statistics.median(followed)
    print(f"push (PUT posts, 1 new post), median of {args.runs}: no follower {base * 1000:.1f} ms, "
          f"{args.followers} followers {fan * 1000:.1f} ms: x{fan / base:.2f} (+{(fan / base - 1) * 100:.0f} %)")

    configured = int(app.config["FEDERATION_SENDERS"])
    announce("suivi", args.runs + 2)  # one new post: 1,000 deliveries
    for senders in (configured, 1):
        if senders == 1:
            db = connect(app.config["DB"])
            with write(db):  # the same 1,000 deliveries again, sent by one thread: the baseline
                db.conn.execute("UPDATE fed_deliveries SET state = 'queued', attempts = 0, done = NULL, not_before = created"
                                " WHERE activity_id = (SELECT MAX(activity_id) FROM fed_deliveries)")
            db.close()
        app.config["FEDERATION_SENDERS"] = senders
        before = received.value
        start = time.perf_counter()
        results = delivery.deliver(app)
        elapsed = time.perf_counter() - start
        sent = sum(1 for r in results if r["state"] == "sent")
        print(f"delivery with {senders} sender thread(s): {sent} sent ({received.value - before} received by "
              f"{args.instances} instances) in {elapsed:.2f} s: {sent / elapsed:.0f} deliveries/s")
    sinks.terminate()


if __name__ == "__main__":
    main()
