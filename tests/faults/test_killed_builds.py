"""Builds and pushes killed with SIGKILL (the OOM killer, an operator's `kill -9`, the push's own time limit): the
live blog stays whole and served, the next push goes through, and what the dead ones left is cleaned, crash after
crash. Real bare repositories, real `git push` through the pre-receive hook, real processes killed."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

from confreres import build
from confreres.planet_build import LIVE
from confreres.releases import RELEASE_NAME, RELEASES, is_release
from tests.confreres.conftest import NO_SERVICE, make_network, write_post  # noqa: F401 (fixture)
from tests.confreres.test_publish import git
from tests.confreres.test_publish_safety import git_push, server  # noqa: F401 (fixture)
from tests.faults import kit
from tests.planet.conftest import make_planet_network


def commit(clone: Path, name: str, title: str, bulk: int = 0) -> None:
    """One post `name`, and `bulk` more: a build that writes for a while after its release folder appears, so that
    the watcher kills it there even on a loaded machine (a build of a few posts could end before it looked)."""
    (clone / "content" / f"{name}.md").write_text(f"Title: {title}\nDate: 2025-05-02 07:00\nSlug: {name}\n\nTexte.\n",
                                                  encoding="utf-8")
    for n in range(bulk):
        (clone / "content" / f"{name}-{n}.md").write_text(
            f"Title: {title} {n}\nDate: 2025-05-01 07:{n % 60:02d}\nSlug: {name}-{n}\n\n" + "Texte long. " * 300 + "\n",
            encoding="utf-8")
    git("add", "-A", cwd=clone)
    git("commit", "-qm", title, cwd=clone)


def releases_of(out: Path, slug: str) -> list[Path]:
    return sorted(p for p in (out / RELEASES).iterdir() if is_release(p.name, slug))


def kill_when(condition, deadline: float = 120) -> list[int]:
    """In a thread: SIGKILL the pids `condition()` returns as soon as it returns some; `killed` lists them."""
    killed: list[int] = []

    def watch():
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            pids = condition()
            if pids:
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
                killed.extend(pids)
                return
            time.sleep(0.002)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return killed, thread


def test_a_push_whose_build_or_hook_is_killed_leaves_the_blog_online_and_nothing_behind(server, tmp_path):  # noqa: F811
    """The push's build killed mid-Pelican left its half-written release in public/.releases/, and the hook killed
    left the pushed tree in the temporary folder: the blog did not change, so no build ever removed them, and each
    crash added one more (a blog's images each time)."""
    network, repo, clone, _push = server
    out = network.output
    live = (out / "dr-a").resolve()
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {"TMPDIR": str(temp)}

    for attempt in range(2):  # the build killed as it writes its release, twice: nothing piles up
        commit(clone, f"tue-{attempt}", f"Billet tué {attempt}", bulk=150)

        def building(live=live):
            return [int(RELEASE_NAME.fullmatch(p.name)["pid"]) for p in releases_of(out, "dr-a") if p != live]

        killed, watcher = kill_when(building)
        pushed = git_push(clone, env)
        watcher.join()
        assert killed, "the build was killed while it wrote its release"
        assert pushed.returncode != 0 and "publication REFUSÉE, le site en ligne n'a pas changé" in pushed.stderr, \
            pushed.stderr
        assert (out / "dr-a").resolve() == live and (live / "index.html").is_file()
        assert releases_of(out, "dr-a") == [live], "the killed build's release is removed"
        git("reset", "-q", "--hard", "HEAD~1", cwd=clone)

    # The hook itself killed while it waits for the blog's build lock (held here, as by a cron build).
    commit(clone, "tue-hook", "Billet dont le crochet est tué")
    lock_file = out / RELEASES / ".dr-a.build.lock"
    with open(lock_file) as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        killed, watcher = kill_when(lambda: kit.lock_waiters(lock_file))
        pushed = git_push(clone, env)
        watcher.join()
    assert killed and pushed.returncode != 0, pushed.stderr
    assert (out / "dr-a").resolve() == live and (live / "index.html").is_file()
    assert [p.name for p in temp.iterdir()], "the dead hook left its copy of the pushed tree"

    again = git_push(clone, env)  # the next push publishes, and clears what the dead ones left
    assert again.returncode == 0 and "/dr-a/tue-hook.html" in again.stderr, again.stderr
    assert (out / "dr-a" / "tue-hook.html").is_file()
    assert list(temp.iterdir()) == [], "nothing left in the temporary folder"
    assert releases_of(out, "dr-a") == [(out / "dr-a").resolve()]
    assert not [p.name for p in network.site("dr-a").path.parent.iterdir() if p.name.startswith(".dr-a.")]


def test_a_full_build_killed_while_it_builds_a_blog_or_indexes_leaves_everything_online_and_is_cleaned(tmp_path):
    """cron's `confreres build` killed with its whole process group, once while a blog builds and once while Pagefind
    indexes the network: the live blogs and planet stay whole, the next build publishes without any cleaning by
    hand, and nothing of the dead ones is left (each left a search index and its staged pages, for good)."""
    network = make_planet_network(tmp_path / "network", [], NO_SERVICE, slugs=("dr-a", "dr-b"), posts=1)
    for n in range(120):  # pages for Pagefind to index: a few posts were indexed before a loaded machine's watcher looked
        write_post(network.site("dr-b").path, f"dr-b-archive-{n}", f"Archive {n}", date="2024-01-01 10:00")
    out = network.output
    assert all(r.ok for r in build.build(network, progress=False))
    before = {name: (out / name).resolve() for name in ("dr-a", "dr-b", LIVE)}

    def building_a_blog():
        return [p for p in releases_of(out, "dr-a") if p != before["dr-a"]]

    def indexing():
        return [p for p in (out / RELEASES).iterdir() if p.name.startswith(".search-index-")]

    for n, moment in enumerate((building_a_blog, indexing)):
        write_post(network.site("dr-a").path, f"nouveau-{n}", f"Nouveau billet {n}")
        cron = kit.cli(network.source, "build", "--quiet", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       start_new_session=True)
        deadline = time.monotonic() + 120
        while not moment() and cron.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        assert cron.poll() is None, f"the build ended before {moment.__name__}"
        os.killpg(cron.pid, signal.SIGKILL)
        cron.wait(30)
        for name in before:  # the live ones whole: the release before, or a finished one
            assert ((out / name).resolve() / "index.html").is_file(), name
        if moment is building_a_blog:
            assert (out / "dr-a").resolve() == before["dr-a"]
        assert moment(), "the dead build left something behind, for the next one to clean"

    again = kit.cli(network.source, "build", "--quiet", text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    output = again.communicate(timeout=300)
    assert again.returncode == 0, output
    assert (out / "dr-a" / "nouveau-1.html").is_file() and "Nouveau billet 1" in (out / "index.html").read_text()
    left = sorted(p.name for p in (out / RELEASES).iterdir() if p.name.startswith((".search", "dr-", "planet")))
    live = sorted((out / name).resolve().name for name in ("dr-a", "dr-b", LIVE))
    assert left == live, left


def test_a_hook_killed_while_its_build_runs_publishes_nothing(server):  # noqa: F811
    """The hook died (`kill -9`, or the doctor's connection cut and git with it) while its build ran: git refused the
    push, yet the orphaned build went on and put it online; the next cron build put the blog back as it was."""
    network, repo, clone, _push = server
    out = network.output
    live = (out / "dr-a").resolve()
    commit(clone, "orphelin", "Billet orphelin", bulk=150)  # still building when the hook is killed, however loaded
    builds: list[int] = []

    def building():
        for path in releases_of(out, "dr-a"):
            if path != live:
                child = int(RELEASE_NAME.fullmatch(path.name)["pid"])
                builds.append(child)
                with contextlib.suppress(OSError):  # its parent: the hook
                    return [int(Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[1])]
        return []

    killed, watcher = kill_when(building)
    pushed = git_push(clone)
    watcher.join()
    assert killed and pushed.returncode != 0, pushed.stderr
    deadline = time.monotonic() + 120
    while kit._alive(builds[-1]) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (out / "dr-a").resolve() == live and not (out / "dr-a" / "orphelin.html").exists(), \
        "the push git refused is not online"

    again = git_push(clone)
    assert again.returncode == 0 and (out / "dr-a" / "orphelin.html").is_file(), again.stderr
    assert releases_of(out, "dr-a") == [(out / "dr-a").resolve()]


def test_a_backup_killed_midway_leaves_its_copy_for_the_next_one_to_remove(tmp_path):
    """Each backup killed (the nightly timer's, by the OOM killer) left `.comments-<date>.sqlite3.<random>.tmp`, the
    database's size, which neither later backups nor the timer's pruning (`comments-*.sqlite3`) removed."""
    network = kit.make_blogs(tmp_path, "http://127.0.0.1:9/")
    db = tmp_path / "var" / "comments.sqlite3"
    db.parent.mkdir()
    assert kit.confreres(network, db, "service", "init-db").returncode == 0
    conn = sqlite3.connect(db)
    with conn:  # a database large enough for its copy to take a moment
        conn.execute("CREATE TABLE ballast (data BLOB)")
        conn.executemany("INSERT INTO ballast VALUES (?)", ((os.urandom(1 << 20),) for _ in range(64)))
    conn.close()
    folder = tmp_path / "sauvegardes"
    folder.mkdir()

    for _ in range(2):
        backup = subprocess.Popen([str(kit.BIN / "confreres"), "--network", str(network), "backup", str(folder)],
                                  env=kit.environment(network, db), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while backup.poll() is None and time.monotonic() < deadline:
            if any(p.suffix == ".tmp" and p.stat().st_size > 0 for p in folder.iterdir()):
                backup.kill()
                break
            time.sleep(0.001)
        assert backup.wait(30) == -signal.SIGKILL, "killed while it copied"
        assert [p for p in folder.iterdir() if p.suffix == ".tmp"], "its unfinished copy is there"
        time.sleep(1)  # the next backup's dated name differs from this one's

    done = kit.confreres(network, db, "backup", str(folder))
    assert done.returncode == 0 and "intégrité ok" in done.stdout, done.stdout + done.stderr
    left = sorted(p.name for p in folder.iterdir() if p.name != ".confreres-backup.lock")
    assert len(left) == 1 and left[0].startswith("comments-") and left[0].endswith(".sqlite3"), left
