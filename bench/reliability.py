"""Faults survived, measured (run by hand): writers while gunicorn is SIGKILLed, and a backup taken meanwhile.

A network of blogs on disk (tests/faults/kit.py), built once by `confreres build` against the comment service
under real gunicorn (sync workers, a temporary SQLite file, moderation and rate limits off by their settings).
Then --clients writers post --comments comments (every fourth a reply) to the registered posts while the master
and the workers are killed with SIGKILL --kills times (in turn: the whole group, the workers only, the master
only) and gunicorn started again at once; `confreres backup` runs halfway with the writers going. Prints:

  - acknowledged (201), found in the database, lost (must be 0), duplicates and half-written rows (0),
    PRAGMA integrity_check; whether every thread (all pages) and /api/counts agree with the database;
  - per kill: the mode and the time from SIGKILL to the next acknowledged comment (restart included);
  - the backup: size, time, and a restore: a fresh gunicorn on the copy, `confreres build` re-announcing the
    post published after the backup (time), and a new comment accepted;
  - mails: --mails mails queued in the outbox while the SMTP relay (aiosmtpd, local) is down, one sending pass
    that fails them all, then the relay back: the pass that sends them (mails/s, one SMTP connection each, as
    mail/transport.py does), how many each recipient got (must be 1), and a last pass that sends nothing.

    .venv/bin/python bench/reliability.py [--comments 2000] [--clients 8] [--kills 5] [--workers 2] [--preload] [--mails 500]

Exit status 1 when a comment is lost or a check fails. The temporary folder is removed (--keep keeps it).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from tests.faults import kit  # noqa: E402
from tests.smtp import free_port  # noqa: E402


def restore(network: Path, backup: Path, port: int, tmp: Path, urls: list[str], new_post: str) -> dict:
    """Start a fresh service on a copy of the backup, let the build announce what it lacks, write once."""
    db = tmp / "restored" / "comments.sqlite3"
    db.parent.mkdir()
    shutil.copy(backup, db)
    service = kit.Service(network, db, port, tmp / "restored.log")
    try:
        started = service.start()
        kept = kit.check_api(service.url, db, urls)
        began = time.monotonic()
        built = kit.confreres(network, db, "build")
        seconds = time.monotonic() - began
        lines = [line for line in built.stdout.splitlines() if line.startswith(("↻", "✓"))]
        accepted = httpx.post(service.url + "api/comments", json={"url": new_post, "text": "Après la restauration."},
                              timeout=10).status_code
    finally:
        service.stop()
    return {"start": started, "kept": kept["comments"], "build": seconds, "build_exit": built.returncode,
            "announced": lines, "new_comment": accepted}


def mails(tmp: Path, count: int) -> dict:
    """The outbox through an SMTP outage: queued while the relay is down, sent once when it is back."""
    from comments_service.core.db import connect
    from comments_service.core.migrations import migrate
    from comments_service.domain.comments import iso, utcnow
    from comments_service.mail import transport as mailer
    from comments_service.mail.outbox import deliver
    from tests.smtp import SmtpServer

    logging.getLogger("comments_service.mail.outbox").setLevel(logging.ERROR)  # one warning per failed mail
    db_path = tmp / "mail.sqlite3"
    db = connect(str(db_path))
    migrate(db)
    sender = "Confrères <ne-pas-repondre@blogs.example>"
    rows = []
    for n in range(count):
        to = f"medecin{n}@example.org"
        subject = f"Nouveau commentaire n° {n} à modérer"
        text = f"Bonjour,\n\nUn commentaire attend votre décision sur « Billet {n} ».\n"
        rows.append(("comment", to, subject, mailer.build(sender=sender, to=to, subject=subject, text=text), iso(utcnow())))
    with db.conn:
        db.conn.executemany("INSERT INTO outbox (kind, recipient, subject, message, created) VALUES (?, ?, ?, ?, ?)", rows)
    db.close()
    port = free_port()
    config = {"DB": str(db_path), "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_TIMEOUT": 5, "SMTP_FROM": sender,
              "MAIL_DIR": "", "MAGIC_LINK_MAX_AGE": 900}
    began = time.monotonic()
    down = deliver(config)
    down_seconds = time.monotonic() - began
    server = SmtpServer(port).start()
    try:
        began = time.monotonic()
        back = deliver(config)
        seconds = time.monotonic() - began
        again = deliver(config)
        received = server.mailbox.settle(0.5)
    finally:
        server.stop()
    per_recipient = {}
    for mail in received:
        per_recipient[mail.recipients[0]] = per_recipient.get(mail.recipients[0], 0) + 1
    return {"down": down, "down_seconds": down_seconds, "back": back, "seconds": seconds, "again": again,
            "received": len(received), "twice": sum(1 for n in per_recipient.values() if n > 1),
            "missing": count - len(per_recipient)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--preload", action="store_true", help="gunicorn --preload (workers forked from a loaded app)")
    parser.add_argument("--blogs", type=int, default=3)
    parser.add_argument("--posts", type=int, default=4, help="posts per blog")
    parser.add_argument("--mails", type=int, default=500, help="mails through the SMTP outage (0: skip)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, databases)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-reliability-"))
    port = free_port()
    slugs = tuple(f"dr-{n}" for n in range(args.blogs))
    network = kit.make_blogs(tmp, f"http://127.0.0.1:{port}/", slugs=slugs, posts=args.posts)
    db = tmp / "var" / "comments.sqlite3"
    db.parent.mkdir()
    service = kit.Service(network, db, port, tmp / "gunicorn.log", workers=args.workers, preload=args.preload)
    print(f"Machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} (shared: timings are indicative); "
          f"gunicorn {args.workers} sync workers{' --preload' if args.preload else ''}; {args.clients} writers, {args.comments} comments, "
          f"{args.kills} kills; {args.blogs} blogs x {args.posts} posts", flush=True)
    ok = True
    try:
        print(f"first start: {service.start():.2f} s", flush=True)
        built = kit.confreres(network, db, "build", "--quiet")
        if built.returncode != 0:
            raise SystemExit(f"build failed:\n{built.stdout}{built.stderr}")
        urls = kit.post_urls(network)
        report = kit.load(service, urls, total=args.comments, clients=args.clients, kills=args.kills,
                      backup_to=tmp / "backup.sqlite3")
        try:
            found = kit.check_database(db, report)
        except AssertionError as exc:
            print(f"✗ {exc}")
            return 1
        agree = kit.check_api(service.url, db, urls)
        kit.add_post(tmp, slugs[0], args.posts)  # published after the backup: the restore must learn it
        rebuilt = kit.confreres(network, db, "build", "--quiet")
        if rebuilt.returncode != 0:
            raise SystemExit(f"build of the post published after the backup failed:\n{rebuilt.stdout}{rebuilt.stderr}")
        new_post = next(u for u in kit.post_urls(network) if u not in urls)
    finally:
        service.stop()

    rate = len(report.acknowledged) / report.seconds if report.seconds else 0.0
    print(f"\nload: {report.seconds:.1f} s, {rate:.0f} acknowledged comments/s across the outages, "
          f"{report.retries} retried requests")
    for key in ("acknowledged", "found", "lost", "duplicates", "half_written", "integrity", "rows",
                "stored_after_lost_answer", "stored_unanswered"):
        print(f"  {key:<26} {found[key]}")
    print(f"  threads and counts agree   yes ({agree['threads']} threads, {agree['comments']} comments, every page)")
    recovered = [k["recovered"] for k in report.kills if k["recovered"] is not None]
    print(f"kills: {len(report.kills)}")
    for n, kill in enumerate(report.kills, 1):
        shown = f"{kill['recovered']:.2f} s" if kill["recovered"] is not None else "no comment after it"
        print(f"  {n}. SIGKILL {kill['mode']:<8} -> next 201 after {shown}")
    if recovered:
        print(f"  time to recover: median {statistics.median(recovered):.2f} s, max {max(recovered):.2f} s")

    backup = report.backup or {}
    print(f"backup during the load: exit {backup.get('exit')}, {backup.get('size', 0) / 1024:.0f} KiB in "
          f"{backup.get('seconds', 0):.2f} s (CLI process included), {len(backup.get('acked_before', []))} "
          "comments acknowledged before it began")
    if backup.get("exit") == 0:
        restored = restore(network, tmp / "backup.sqlite3", port, tmp, urls, new_post)
        print(f"restore: service up in {restored['start']:.2f} s, {restored['kept']} comments served; "
              f"`confreres build` {restored['build']:.1f} s (exit {restored['build_exit']}): "
              f"{' / '.join(restored['announced'])}; new comment on the post published "
              f"after the backup: {restored['new_comment']}")
        ok = ok and restored["new_comment"] == 201 and restored["kept"] >= len(backup["acked_before"])
    else:
        ok = False
        print(backup.get("output", ""))
    ok = ok and found["lost"] == 0 and found["integrity"] == "ok"
    if args.mails:
        sent = mails(tmp, args.mails)
        rate = sent["back"]["sent"] / sent["seconds"] if sent["seconds"] else 0.0
        print(f"mails: relay down: {sent['down']['failed']} failed in {sent['down_seconds']:.2f} s, kept; relay back: "
              f"{sent['back']['sent']} sent in {sent['seconds']:.2f} s ({rate:.0f} mails/s); next pass sent "
              f"{sent['again']['sent']}; received {sent['received']}, twice {sent['twice']}, missing {sent['missing']}")
        ok = ok and sent["twice"] == 0 and sent["missing"] == 0 and sent["again"]["sent"] == 0
    print("✓ nothing lost, integrity ok, restore works" if ok else "✗ a check failed")
    if args.keep:
        print(f"kept: {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
