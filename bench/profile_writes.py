"""Profile of the comment write path (run by hand): N POST /api/comments on one thread through the Flask app in process.

Same settings as bench/comments.py (moderation off, rate limit off), a real SQLite file in a temporary
folder; prints the CPU time per write (process time: the machine is shared, wall time is not ours alone) and cProfile's top functions (cumulative), so the note can say where a
write's time goes (Markdown, the sanitiser, the duplicate check, versions, notifications, the commit).

`--sites N` adds N other blogs to network.toml: a write's cost must not grow with the network.
`--members N` first creates N member accounts with display names (first name and surname, some pseudonyms of one
word, some initials), through accounts.ensure_account as sign-in does: every guest comment is checked against the
members' names (verification.check_author_name), so this shows whether a write's cost grows with the network.

    .venv/bin/python bench/profile_writes.py [--writes 2000] [--top 40] [--members 20000] [--sites 12000]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _helpers import network_toml  # noqa: E402

SITE_URL = "http://blog.bench/"
POST_URL = SITE_URL + "billet.html"


FIRST = ("Claire", "Karim", "Marie", "Jean", "Anne", "Pierre", "Sophie", "Nicolas", "Isabelle", "Philippe", "Nathalie",
         "Thomas", "Camille", "Julien", "Élodie", "Hélène", "François", "Amina", "Mehdi", "Léa", "Lucas", "Chloé",
         "Antoine", "Céline", "Yann", "Sarah", "Olivier", "Aurélie", "Hugo", "Inès", "Paul", "Laure", "Jean-Pierre",
         "Marie-Claire", "Samuel", "Émilie", "Romain", "Nadia", "Vincent", "Agnès")
LAST = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
        "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard",
        "André", "Lefèvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Garnier",
        "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu",
        "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Benali", "Haddad", "Nguyen",
        "O'Neil", "Le Gall", "Da Silva")


def member_name(rng) -> str:
    """A reader's or a physician's public name, as members choose them."""
    roll = rng.random()
    if roll < 0.15:  # a pseudonym of one word
        return rng.choice(FIRST) + rng.choice(("", str(rng.randrange(100))))
    first, last = rng.choice(FIRST), rng.choice(LAST)
    if roll < 0.20:
        return f"{first[0]}. {last}"
    if roll < 0.35:
        return f"Dr {first} {last}"
    return f"{first} {last}"


def add_members(db, count: int) -> None:
    import random

    from comments_service.core.db import write
    from comments_service.domain import accounts

    rng = random.Random(27)
    with write(db):  # one transaction; each account as sign-in and a profile edit make it
        for n in range(count):
            accounts.ensure_account(db, f"membre{n}@bench.example", display_name=member_name(rng))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--members", type=int, default=0, help="members with display names created before the writes")
    parser.add_argument("--sites", type=int, default=0, help="other blogs in network.toml (a network's size)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-profile-writes-"))
    network_file = tmp / "network.toml"
    network_file.write_text(network_toml(SITE_URL, args.sites), encoding="utf-8")
    os.environ.update({"CONFRERES_NETWORK": str(network_file), "CONFRERES_DB": str(tmp / "db.sqlite3"),
                       "CONFRERES_SECRET_KEY": "bench-profile", "CONFRERES_RATE_LIMIT": "off",
                       "CONFRERES_MODERATION": "none"})
    from comments_service import create_app
    from comments_service.actions.posts import sync_posts
    from comments_service.core.db import connect
    from confreres import registry

    app = create_app()
    db = connect(str(tmp / "db.sqlite3"))
    sync_posts(db, registry.load(network_file), "dr-bench", {"posts": [{"url": POST_URL, "title": "Billet"}]})
    if args.members:
        start = time.perf_counter()
        add_members(db, args.members)
        print(f"{args.members} members with display names created in {time.perf_counter() - start:.1f} s")
    db.close()
    client = app.test_client()

    def post(n):
        body = {"url": POST_URL, "text": f"Écriture {n} : *merci* pour ce billet.", "author": "Dr Bench",
                "email": "bench@example.org"}
        response = client.post("/api/comments", json=body, environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert response.status_code == 201, response.get_data(as_text=True)

    for n in range(50):  # warm-up: imports, compiled regexes, the kept connection
        post(-n - 1)
    batch = 500
    for first in range(0, args.writes, batch):  # the thread grows: a write must not slow down with it
        start = time.process_time()
        for n in range(first, first + batch):
            post(n)
        each = (time.process_time() - start) / batch
        print(f"writes {first + 1}-{first + batch} on one thread: {1000 * each:.2f} ms of CPU each")
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for n in range(args.writes, args.writes + batch):
        post(n)
    profiler.disable()
    pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
