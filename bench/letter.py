"""Benchmark of « La lettre des confrères » (run by hand): queue and send a week's letter to many subscribers.

A network of three blogs with a week of posts and a live debate, --subscribers confirmed subscribers (a third
for the whole network, a third for one specialty, a third for one blog), then `queue_letters` (claims + outbox,
what `confreres letter send` does first) and `outbox.deliver_many` (the hand-over to SMTP, what it does then) to a real local SMTP
server (aiosmtpd, in its own process) that discards what it receives. Baseline measured in the same run: the bare SMTP hand-over
of as many one-line mails (transport.send, no database, no rendering). Target on this 2-core machine:
>= 200 letters/s queued and >= 200 sent. The machine may be shared: read the ratios, not only the rates.

    .venv/bin/python bench/letter.py [--subscribers 10000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from _helpers import free_port

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from comments_service import create_app  # noqa: E402
from comments_service.actions.posts import sync_posts  # noqa: E402
from comments_service.core.db import connect  # noqa: E402
from comments_service.domain.posts import iso, utcnow  # noqa: E402
from comments_service.mail import letter, outbox, transport  # noqa: E402

NETWORK = """
[network]
name = "Réseau du banc d'essai"
url = "http://bench.test/"
comments_url = "http://bench.test/comments/"

[[sites]]
slug = "dr-a"
title = "Le carnet du Dr A"
author = "Dr Anne A"
specialty = "Médecine générale"
url = "http://bench.test/dr-a/"

[[sites]]
slug = "dr-b"
title = "Le divan du Dr B"
author = "Dr Bruno B"
specialty = "Psychiatrie"
url = "http://bench.test/dr-b/"

[[sites]]
slug = "dr-c"
title = "Le bloc du Dr C"
author = "Dr Chloé C"
specialty = "Chirurgie infantile"
url = "http://bench.test/dr-c/"
"""


SINK = """
import asyncio, sys
from aiosmtpd.controller import Controller

class Sink:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Sink.count += 1
        return "250 OK"

controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]), ready_timeout=10)
controller.start()
print("ready", flush=True)
sys.stdin.readline()  # a line asks for the count; then it stops
print(Sink.count, flush=True)
controller.stop()
"""


class Sink:
    """A real SMTP server (aiosmtpd) in its own process, which discards every mail and counts them."""

    def __init__(self, port: int):
        self.process = subprocess.Popen([sys.executable, "-c", SINK, str(port)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "ready"

    def stop(self) -> int:
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        count = int(self.process.stdout.readline())
        self.process.wait(10)
        return count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=2_000, help="one-line mails of the bare SMTP baseline")
    args = parser.parse_args()

    port = free_port()
    sink = Sink(port)
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "network.toml").write_text(NETWORK, encoding="utf-8")
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "NETWORK": str(Path(folder) / "network.toml"),
                          "DB": str(Path(folder) / "c.sqlite3"), "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port,
                          "MAIL_SEND": "cron", "RATE_LIMIT": "off"})
        network = app.extensions["confreres_network"]
        db = connect(app.config["DB"])
        now = utcnow()
        for slug in ("dr-a", "dr-b", "dr-c"):
            base = network.site(slug).url
            posts = [{"url": f"{base}billet-{i}.html", "title": f"Billet {i} du {slug}", "date": iso(now - timedelta(hours=6 + 10 * i)),
                      "excerpt": "Une phrase qui donne envie de lire, assez longue pour ressembler à un vrai résumé. " * 2}
                     for i in range(4)]
            if slug == "dr-b":
                posts[0]["reply_to"] = "http://bench.test/dr-a/billet-0.html"
            sync_posts(db, network, slug, {"posts": posts})
        filters = [("[]", "[]"), ('["psychiatrie"]', "[]"), ("[]", '["dr-c"]')]
        with db.conn:
            db.conn.executemany(
                "INSERT INTO letter_subscribers (email, frequency, specialties, sites, nonce, created, confirmed)"
                " VALUES (?, 'weekly', ?, ?, ?, ?, ?)",
                [(f"abonne{i}@example.org", *filters[i % 3], f"nonce{i}", iso(now), iso(now))
                 for i in range(args.subscribers)],
            )

        config = app.config
        message = transport.build(sender="Confrères <b@bench.test>", to="x@example.org", subject="Essai", text="Essai.\n")
        start = time.perf_counter()
        for i in range(args.baseline):
            transport.send(config, recipient="x@example.org", message=message, name=str(i))
        baseline = args.baseline / (time.perf_counter() - start)

        with app.app_context():
            start = time.perf_counter()
            summary = letter.queue_letters(db, "weekly", now=now)
            queue_seconds = time.perf_counter() - start
        start = time.perf_counter()
        sent = outbox.deliver_many(config)
        send_seconds = time.perf_counter() - start
        assert sent["sent"] == summary["queued"] == args.subscribers, (sent, summary)
        size = db.conn.execute("SELECT coalesce(SUM(length(message)), 0) FROM outbox").fetchone()[0]
        db.close()
    received = sink.stop()
    assert received == args.baseline + args.subscribers, received

    queued_rate = summary["queued"] / queue_seconds
    sent_rate = sent["sent"] / send_seconds
    print(f"letters: {summary['queued']} subscribers, {summary['posts']} posts and {summary['debates']} debate(s) in the week")
    print(f"baseline, bare SMTP hand-over (one-line mails, no database): {baseline:8.0f} mails/s")
    print(f"queued (claim + render + outbox, 100 per transaction): {queued_rate:8.0f} letters/s"
          f"  ({queue_seconds:.1f} s; target >= 200/s)")
    print(f"sent (outbox -> local SMTP sink, {outbox.SENDERS} connections):            {sent_rate:8.0f} letters/s"
          f"  ({send_seconds:.1f} s; target >= 200/s; {sent_rate / baseline:.2f} x the baseline)")
    print(f"letters left in the outbox once sent: {size / 1e6:.1f} MB (erased: only their subject and date stay)")
    print("The machine may be shared with other work: timings are noisy; compare with the baseline of the same run.")


if __name__ == "__main__":
    main()
