"""Writers under load while gunicorn is killed, and a backup taken meanwhile that restores (issue 12, item 3).

Real gunicorn (2 sync workers) on a free port and a temporary SQLite file, moderation and rate limits off by
their settings; the posts are registered the real way, by `confreres build` (the blogs' site tokens). Eight
writers post a few hundred comments (every fourth a reply) while the master and the workers are SIGKILLed three
times (all at once, the workers only, the master only) and gunicorn is started again; `confreres backup` runs
halfway through with the writers going. The longer run is bench/reliability.py (tests/faults/kit.py for both).
"""

from __future__ import annotations

import shutil

import httpx

from tests.faults import kit

COMMENTS = 240
KILLS = 3


def test_writers_lose_nothing_when_gunicorn_is_killed_and_a_backup_taken_meanwhile_restores(tmp_path):
    network, db, service = kit.start_service(tmp_path)
    try:
        built = kit.confreres(network, db, "build", "--quiet")
        assert built.returncode == 0, built.stdout + built.stderr
        urls = kit.post_urls(network)
        assert len(urls) == 4

        report = kit.load(service, urls, total=COMMENTS, kills=KILLS, backup_to=tmp_path / "backup.sqlite3")

        assert [k["mode"] for k in report.kills] == ["all", "workers", "master"]
        assert all(k["recovered"] is not None for k in report.kills), "each kill fell inside the load, which went on"
        assert all(s.answer in (201, 409) for s in report.sent), "every writer got its answer in the end"
        found = kit.check_database(db, report)  # raises on a loss, a duplicate, a half-written row, a bad integrity
        assert found["lost"] == 0 and found["integrity"] == "ok"
        assert found["rows"] == COMMENTS, found  # each comment once: 201, or 409 when an earlier try was stored
        kit.check_api(service.url, db, urls)

        # A post published after the backup: the live service learns it from this build, the backup never did.
        kit.add_post(tmp_path, "dr-a", 2)
        rebuilt = kit.confreres(network, db, "build", "--quiet")
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        new_post = next(u for u in kit.post_urls(network) if u not in urls)
    finally:
        service.stop()

    backup = report.backup
    assert backup["exit"] == 0 and "intégrité ok" in backup["output"], backup["output"]
    restored_db = tmp_path / "restored" / "comments.sqlite3"
    restored_db.parent.mkdir()
    shutil.copy(tmp_path / "backup.sqlite3", restored_db)
    restored = kit.Service(network, restored_db, service.port, tmp_path / "restored.log")  # same address: a move, a restore
    restored.start()
    try:
        before = set(backup["acked_before"])
        kept = kit.check_api(restored.url, restored_db, urls)
        assert kept["comments"] >= len(before), "every comment acknowledged before the backup began is in it"
        unknown = httpx.post(restored.url + "api/comments", json={"url": new_post, "text": "Trop tôt."}, timeout=10)
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_post"

        announced = kit.confreres(network, restored_db, "build")
        assert announced.returncode == 0, announced.stdout + announced.stderr
        # dr-a is announced again: rebuilt, since its comments differ from the backup's (the snapshot in its
        # pages is retaken), or, had its comments not moved, « ↻ » re-announced without a Pelican run.
        out = announced.stdout
        assert "✓ dr-a (3 billets" in out or "↻ dr-a : billets inconnus du service de commentaires, annoncés de " \
            "nouveau (3 billets, sans reconstruction)" in out, out
        accepted = httpx.post(restored.url + "api/comments", json={"url": new_post, "text": "Après la restauration."},
                              timeout=10)
        assert accepted.status_code == 201, accepted.text
        assert httpx.get(restored.url + "api/counts", params={"url": new_post}, timeout=10).json()[new_post] == 1
    finally:
        restored.stop()
