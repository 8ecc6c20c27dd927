"""What the network's size costs each request of the comment service (run by hand).

A thread read, `/api/counts` and a comment written, each with an `Origin` as the widget sends it, through the Flask
app in process (a real SQLite file), with one blog and then with `--sites` more in network.toml (the blog asked
about listed last, the worst place for a scan of the list). Prints the CPU time per request (process time: the
machine is shared) and the ratio to one blog: a request must not cost more as the network grows.

    .venv/bin/python bench/network_size.py [--sites 12000] [--requests 300]
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE_URL = "http://blog.bench/"
POST = SITE_URL + "billet.html"


def measure(others: int, requests: int) -> dict[str, float]:
    """CPU ms per request of each kind, with `others` more blogs before the bench's own: run in a fresh process (the
    service reads its settings from the environment once)."""
    out = subprocess.run([sys.executable, __file__, "--child", str(others), "--requests", str(requests)],
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout
    return {name: float(value) for name, value in (line.split() for line in out.splitlines() if line.strip())}


def child(others: int, requests: int) -> None:
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    from _helpers import network_toml

    tmp = Path(tempfile.mkdtemp(prefix="bench-network-size-"))
    (tmp / "network.toml").write_text(network_toml(SITE_URL, others), encoding="utf-8")
    os.environ.update({"CONFRERES_NETWORK": str(tmp / "network.toml"), "CONFRERES_DB": str(tmp / "db.sqlite3"),
                       "CONFRERES_SECRET_KEY": "bench-network-size", "CONFRERES_RATE_LIMIT": "off",
                       "CONFRERES_MODERATION": "none"})
    from comments_service import create_app
    from comments_service.actions.posts import sync_posts
    from comments_service.core.db import connect
    from confreres import registry

    app = create_app()
    db = connect(str(tmp / "db.sqlite3"))
    sync_posts(db, registry.load(tmp / "network.toml"), "dr-bench", {"posts": [{"url": POST, "title": "Billet"}]})
    db.close()
    client = app.test_client()
    origin = {"Origin": SITE_URL.rstrip("/")}
    numbers = itertools.count()

    def write():
        body = {"url": POST, "text": f"Écriture {next(numbers)} : *merci* pour ce billet.", "author": "Dr Bench",
                "email": "bench@example.org"}
        return client.post("/api/comments", json=body, headers=origin)

    kinds = {"read": lambda: client.get("/api/comments?url=" + POST, headers=origin),
             "counts": lambda: client.get("/api/counts?url=" + POST, headers=origin), "write": write}
    for _ in range(20):  # a thread with comments; imports and caches warm
        assert write().status_code == 201
    for name, request in kinds.items():
        for _ in range(20):
            request()
        start = time.process_time()
        for _ in range(requests):
            response = request()
        assert response.status_code in (200, 201), (name, response.status_code)
        print(name, 1000 * (time.process_time() - start) / requests)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=12000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.requests)
        return 0
    one, many = measure(0, args.requests), measure(args.sites, args.requests)
    print(f"{'request':10} {'1 blog':>10} {f'{args.sites + 1} blogs':>14} {'ratio':>7}")
    for name in one:
        print(f"{name:10} {one[name]:7.2f} ms {many[name]:11.2f} ms {many[name] / one[name]:6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
