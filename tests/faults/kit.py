"""The comment service under real gunicorn, killed with SIGKILL while writers post; the checks afterwards.

Shared by tests/faults/test_kills.py (a few hundred comments) and bench/reliability.py (thousands): nothing here
is a fixture. The pieces:

- `make_blogs(root, comments_url, ...)`: a network on disk (network.toml, sites/<slug>/content), not built;
- `Service`: gunicorn (sync workers) running `comments_service:create_app()` on 127.0.0.1:port, started in its
  own session so that `kill()` can SIGKILL the master and every worker at once (or only some of them);
- `confreres(...)`: the real CLI in a subprocess (`build`, `backup`), as cron runs it;
- `load(...)`: N writers posting unique comments (some replies) to the registered posts; a writer that gets no
  answer (connection refused or reset) sends the same text again until the service answers, so a comment
  committed just before a kill comes back as 409 « déjà envoyé », never twice. Meanwhile the service is killed
  and restarted `kills` times, and `confreres backup` runs once, halfway, with the writers and the kills going;
- `check_database(...)` and `check_api(...)`: every 201 is a row with its text, no duplicate, no half-written
  row, integrity ok; each thread (every page) and /api/counts say what the database says.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SECRET = "faults-" + "k" * 32
BLOG_BASE = "https://blogs.example/"
KILL_MODES = ("all", "workers", "master")  # the whole process group; the workers only (the master respawns them);
# the master only (its workers notice and leave, the restarted master binds the port once they have)


def make_blogs(root: Path, comments_url: str, slugs=("dr-a", "dr-b"), posts: int = 2) -> Path:
    """network.toml and sites/<slug>/content/*.md under `root`; returns network.toml's path."""
    parts = [f'[network]\nname = "Réseau en panne"\nurl = "{BLOG_BASE}"\ncomments_url = "{comments_url}"\n'
             'output = "public"\n']
    for slug in slugs:
        parts.append(f'[[sites]]\nslug = "{slug}"\ntitle = "Blog {slug}"\nauthor = "Dr {slug.title()}"\n'
                     f'url = "{BLOG_BASE}{slug}/"\nmoderation = "none"\n')
        for n in range(posts):
            add_post(root, slug, n)
    (root / "network.toml").write_text("\n".join(parts), encoding="utf-8")
    return root / "network.toml"


def add_post(root: Path, slug: str, n: int) -> None:
    content = root / "sites" / slug / "content"
    content.mkdir(parents=True, exist_ok=True)
    (content / f"billet-{n}.md").write_text(
        f"Title: Billet {n} de {slug}\nDate: 2025-03-{1 + n:02d} 09:00\nCategory: Pratique\nSlug: billet-{n}\n\n"
        f"La permanence des soins, billet {n}.\n", encoding="utf-8")


def post_urls(network_file: Path) -> list[str]:
    """Every post the build published (the blogs' posts.json), i.e. every post it announced."""
    out = network_file.parent / "public"
    urls = []
    for index in sorted(out.glob("*/posts.json")):
        urls += [p["url"] for p in json.loads(index.read_text(encoding="utf-8"))["posts"]]
    return urls


def environment(network_file: Path, db: Path) -> dict:
    return {**os.environ, "CONFRERES_NETWORK": str(network_file), "CONFRERES_DB": str(db),
            "CONFRERES_SECRET_KEY": SECRET, "CONFRERES_RATE_LIMIT": "off", "CONFRERES_READ_RATE_LIMIT": "off",
            "CONFRERES_MODERATION": "none", "PYTHONPATH": str(ROOT)}


def confreres(network_file: Path, db: Path, *args: str) -> subprocess.CompletedProcess:
    """The real CLI, as cron runs it."""
    return subprocess.run([str(BIN / "confreres"), "--network", str(network_file), *args], capture_output=True,
                          text=True, env=environment(network_file, db), timeout=600)


def cli(network_file: Path, *args: str, **popen) -> subprocess.Popen:
    """The real CLI started on a network without its comment service (`popen`: Popen's options)."""
    return subprocess.Popen([str(BIN / "confreres"), "--network", str(network_file), *args],
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, **popen)


class Service:
    """gunicorn with `workers` sync workers on 127.0.0.1:`port`, on `db`."""

    def __init__(self, network_file: Path, db: Path, port: int, log: Path, workers: int = 2, preload: bool = False):
        self.network_file, self.db, self.port, self.log, self.workers = network_file, db, port, log, workers
        self.preload = preload  # --preload: the master imports the app once, a new worker is a bare fork
        self.url = f"http://127.0.0.1:{port}/"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> float:
        """Start and wait until it answers; returns the seconds it took."""
        started = time.monotonic()
        argv = [str(BIN / "gunicorn"), "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
                "--log-level", "warning", "--timeout", "60", *(["--preload"] if self.preload else []),
                "comments_service:create_app()"]
        with open(self.log, "ab") as handle:
            self.proc = subprocess.Popen(argv, env=environment(self.network_file, self.db), stdout=handle,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "api/sites", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"gunicorn did not answer within {timeout:g} s:\n{self.log.read_text()[-3000:]}")

    def pids(self) -> list[int]:
        """The master, then its workers."""
        master = self.proc.pid
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        except OSError:
            children = []
        return [master, *(int(c) for c in children)]

    def kill(self, mode: str = "all") -> None:
        """SIGKILL the master and its workers (`all`), the workers only, or the master only; return once every
        process of the group has exited (a restarted master must be able to bind the port)."""
        pids = self.pids()
        if mode == "all":
            os.killpg(self.proc.pid, signal.SIGKILL)
        else:
            for pid in pids[1:] if mode == "workers" else pids[:1]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if mode == "workers":
            return  # the master lives on and forks new workers
        self.proc.wait(30)
        deadline = time.monotonic() + 60
        while any(Path(f"/proc/{pid}").exists() and _alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
            except ProcessLookupError:
                pass


def start_service(root: Path, **options) -> tuple[Path, Path, Service]:
    """(network.toml, the database, gunicorn started on them on a free port): a network under `root`, not built."""
    from tests.smtp import free_port

    port = free_port()
    network = make_blogs(root, f"http://127.0.0.1:{port}/")
    db = root / "var" / "comments.sqlite3"
    db.parent.mkdir()
    service = Service(network, db, port, root / "gunicorn.log", **options)
    service.start()
    return network, db, service


def lock_waiters(lock_file: Path) -> list[int]:
    """The processes waiting for `lock_file`'s flock (/proc/locks marks a blocked request with « -> »)."""
    try:
        inode = Path(lock_file).stat().st_ino
    except OSError:
        return []
    waiters = []
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields and fields[-3].endswith(f":{inode}"):
            waiters.append(int(fields[-4]))
    return waiters


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


# -- the load --------------------------------------------------------------------------------------

@dataclass
class Sent:
    text: str
    url: str
    parent: int | None = None
    answer: int | None = None  # 201 / 409 (stored by an earlier try) / None (no answer before the end)
    id: int | None = None
    began: float = 0.0  # when the try that got the answer was sent
    at: float = 0.0  # when its answer came


@dataclass
class Report:
    sent: list[Sent] = field(default_factory=list)
    kills: list[dict] = field(default_factory=list)  # mode, at, recovered: s from SIGKILL to the first 201 of a
    # request sent after it (an answer already on its way when the kill came does not count)
    backup: dict | None = None
    retries: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)  # a writer that met an answer it did not expect, and stopped

    @property
    def acknowledged(self) -> list[Sent]:
        return [s for s in self.sent if s.answer == 201]


def _writer(number: int, base: str, urls: list[str], count: int, report: Report, lock, stop) -> None:
    try:
        _write(number, base, urls, count, report, lock, stop)
    except Exception as exc:  # noqa: BLE001 - kept for the checks, which fail with it
        with lock:
            report.errors.append(f"writer {number}: {exc}")


def _write(number: int, base: str, urls: list[str], count: int, report: Report, lock, stop) -> None:
    last: dict[str, int] = {}
    with httpx.Client(timeout=10) as client:
        for n in range(count):
            url = urls[(number + n) % len(urls)]
            item = Sent(f"Commentaire {number}-{n} pendant les pannes.", url, last.get(url) if n % 4 == 3 else None)
            with lock:
                report.sent.append(item)
            body = {"url": url, "text": item.text, "author": f"Lecteur {number}"}
            if item.parent:
                body["parent"] = item.parent
            while not stop.is_set():
                began = time.monotonic()
                try:
                    response = client.post(base + "api/comments", json=body)
                except httpx.HTTPError:  # refused, reset, timed out: the service is down or just went down
                    with lock:
                        report.retries += 1
                    time.sleep(0.05)
                    continue
                if response.status_code in (201, 409):
                    item.answer, item.began, item.at = response.status_code, began, time.monotonic()
                    if response.status_code == 201:
                        item.id = response.json()["comment"]["id"]
                        last[url] = item.id
                    else:
                        assert response.json()["error"]["code"] == "duplicate", response.text
                    break
                if response.status_code >= 500:  # a worker killed mid-request behind a live master
                    with lock:
                        report.retries += 1
                    time.sleep(0.05)
                    continue
                raise AssertionError(f"{response.status_code} {response.text[:300]} for {body}")


def load(service: Service, urls: list[str], *, total: int, clients: int = 8, kills: int = 3,
         backup_to: Path | None = None, modes=KILL_MODES, deadline: float = 600) -> Report:
    """`clients` writers post `total` comments while the service is killed `kills` times and started again."""
    report = Report()
    lock, stop = threading.Lock(), threading.Event()
    share = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]
    threads = [threading.Thread(target=_writer, args=(i, service.url, urls, share[i], report, lock, stop),
                                daemon=True) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()

    def acked() -> int:
        with lock:
            return sum(1 for s in report.sent if s.answer == 201)

    def wait_for(count: int) -> None:
        while acked() < count and any(t.is_alive() for t in threads) and time.monotonic() - started < deadline:
            time.sleep(0.02)

    def take_backup() -> None:
        with lock:
            before = [s.id for s in report.sent if s.answer == 201]
        began = time.monotonic()
        result = confreres(service.network_file, service.db, "backup", str(backup_to))
        report.backup = {"seconds": time.monotonic() - began, "output": result.stdout + result.stderr,
                         "exit": result.returncode, "acked_before": before,
                         "size": backup_to.stat().st_size if backup_to.exists() else 0}

    steps = kills + (1 if backup_to else 0)
    backup_step = (steps + 1) // 2 if backup_to else -1
    for step in range(steps):
        wait_for(total * (step + 1) // (steps + 1))
        if step == backup_step - 1:  # in its own thread: the writers and the kills go on meanwhile
            backing_up = threading.Thread(target=take_backup, daemon=True)
            backing_up.start()
            threads.append(backing_up)
            continue
        mode = modes[len(report.kills) % len(modes)]
        at = time.monotonic()
        service.kill(mode)
        if mode != "workers":
            service.start()
        report.kills.append({"mode": mode, "at": at})
    for thread in threads:
        thread.join(max(0.0, deadline - (time.monotonic() - started)))
    stop.set()
    report.seconds = time.monotonic() - started
    for kill in report.kills:
        after = [s.at for s in report.sent if s.answer == 201 and s.began > kill["at"]]
        kill["recovered"] = min(after) - kill["at"] if after else None
    return report


# -- the checks ------------------------------------------------------------------------------------

def check_database(db: Path, report: Report) -> dict:
    """What the database holds against what the writers were told; raises on any loss or damage."""
    conn = sqlite3.connect(db)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        foreign = conn.execute("PRAGMA foreign_key_check").fetchall()
        rows = {r[0]: r[1:] for r in conn.execute("SELECT id, text, post_url, parent_id, html, status FROM comments")}
    finally:
        conn.close()
    acked = report.acknowledged
    lost = [s for s in acked if s.id not in rows or rows[s.id][0] != s.text or rows[s.id][1] != s.url]
    texts = [r[0] for r in rows.values()]
    twice = sorted({t for t in texts if texts.count(t) > 1}) if len(set(texts)) != len(texts) else []
    half = [i for i, r in rows.items() if not r[3] or r[4] != "approved" or (r[2] is not None and r[2] not in rows)]
    sent = {s.text for s in report.sent}
    strangers = [i for i, r in rows.items() if r[0] not in sent]
    answered = {s.text for s in report.sent if s.answer in (201, 409)}
    found = {
        "integrity": integrity, "foreign_key_errors": len(foreign), "rows": len(rows), "acknowledged": len(acked),
        "found": len(acked) - len(lost), "lost": len(lost), "duplicates": len(twice), "half_written": len(half),
        "strangers": len(strangers), "stored_after_lost_answer": sum(1 for s in report.sent if s.answer == 409),
        "stored_unanswered": sum(1 for r in rows.values() if r[0] not in answered),
    }
    problems = {k: found[k] for k in ("lost", "duplicates", "half_written", "strangers", "foreign_key_errors")
                if found[k]}
    if report.errors:
        problems["writers"] = report.errors
    if integrity != "ok" or problems:
        raise AssertionError(f"the database after the kills: {found}; {problems}; lost: {[s.text for s in lost][:5]}")
    return found


def thread_ids(base: str, url: str) -> tuple[int, set[int]]:
    """(total, every comment id on every page) of one thread, read through the public API."""
    ids: set[int] = set()
    params = {"url": url, "limit": 200, "offset": 0, "skip": 0}
    while True:
        body = httpx.get(base + "api/comments", params=params, timeout=30).raise_for_status().json()
        stack = list(body["comments"])
        while stack:
            node = stack.pop()
            ids.add(node["id"])
            stack.extend(node.get("replies") or [])
        page = body["page"]
        if page["next"] is None:
            return body["total"], ids
        params.update(offset=page["next"], skip=page["next_skip"])


def check_api(base: str, db: Path, urls: list[str]) -> dict:
    """Every thread (all its pages) and /api/counts agree with the database, post by post."""
    conn = sqlite3.connect(db)
    try:
        stored = {url: {r[0] for r in conn.execute(
            "SELECT id FROM comments WHERE post_url = ? AND status = 'approved'", (url,))} for url in urls}
    finally:
        conn.close()
    counts = httpx.get(base + "api/counts", params=[("url", u) for u in urls], timeout=30).raise_for_status().json()
    disagree = []
    for url in urls:
        total, ids = thread_ids(base, url)
        if not (total == len(stored[url]) == counts[url] and ids == stored[url]):
            disagree.append((url, total, counts[url], len(stored[url]), len(ids ^ stored[url])))
    if disagree:
        raise AssertionError(f"threads or counts disagree with the database: {disagree}")
    return {"threads": len(urls), "comments": sum(len(v) for v in stored.values())}
