"""The disk refuses a build's writes (full, a quota, a file size limit): the build and the push say so in French,
nothing half-written goes live, and the next try once there is room publishes. The limit is the kernel's own:
RLIMIT_FSIZE set in the child process (`confreres build`, `git push` and the hook under it), so each write past it
fails with EFBIG as a full disk fails with ENOSPC."""

from __future__ import annotations

import contextlib
import resource
import shutil
import subprocess

import pytest

from confreres.releases import RELEASES, is_release
from tests.confreres.conftest import make_network  # noqa: F401 (fixture)
from tests.confreres.test_publish import git
from tests.confreres.test_publish_safety import git_push, server  # noqa: F401 (fixture)
from tests.faults import kit
from tests.faults.test_killed_builds import commit

LIMIT = 30_000  # bytes: more than any file of the small blogs, less than the long post's page
LONG_POST = "Title: Un long billet\nDate: 2025-04-01 08:00\nSlug: long\n\n" + "La permanence des soins. " * 2000 + "\n"
ENGLISH = ("Errno", "File too large", "No space left", "Traceback", "nom trop long")


def limited(limit: int = LIMIT):
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def only_live(out, slug):
    return [p for p in (out / RELEASES).iterdir() if is_release(p.name, slug)] == [(out / slug).resolve()]


def test_a_build_the_disk_refuses_says_so_in_french_and_keeps_the_live_blog(tmp_path):
    network = kit.make_blogs(tmp_path, "http://127.0.0.1:9/")
    first = kit.cli(network, "build", "--quiet", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert first.wait(300) == 0, first.communicate()
    out = tmp_path / "public"
    live = (out / "dr-a").resolve()
    (tmp_path / "sites" / "dr-a" / "content" / "long.md").write_text(LONG_POST, encoding="utf-8")

    full = kit.cli(network, "build", "--quiet", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                   preexec_fn=limited)
    said = "".join(full.communicate(timeout=300))
    assert full.returncode == 1, said
    assert "✗ dr-a : la construction a échoué : un fichier dépasse la taille que le serveur accepte d'écrire : rien " \
           "n'a été publié, le site en ligne n'a pas changé" in said, said
    assert not any(word in said for word in ENGLISH), said
    assert (out / "dr-a").resolve() == live and (live / "index.html").is_file() and not (live / "long.html").exists()
    assert only_live(out, "dr-a"), "nothing half-written left"

    again = kit.cli(network, "build", "--quiet", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert again.wait(300) == 0, again.communicate()
    assert (out / "dr-a" / "long.html").is_file() and only_live(out, "dr-a")


def test_a_push_the_disk_refuses_is_refused_in_french_and_the_next_one_publishes(server):  # noqa: F811
    """The pushed tree went to a temporary file, then to the disk: on a disk nearly full, git's English error, or
    « ne peut pas être écrit sur le serveur (File too large) : nom trop long ? »."""
    network, repo, clone, _push = server
    out = network.output
    live = (out / "dr-a").resolve()
    (clone / "content" / "long.md").write_text(LONG_POST, encoding="utf-8")
    git("add", "-A", cwd=clone)
    git("commit", "-qm", "Long", cwd=clone)

    refused = git_push(clone, preexec_fn=limited)
    assert refused.returncode != 0, refused.stderr
    assert "un fichier dépasse la taille que le serveur accepte d'écrire : rien n'a été publié, le site en ligne " \
           "n'a pas changé" in refused.stderr, refused.stderr
    assert not any(word in refused.stderr for word in ENGLISH), refused.stderr
    assert (out / "dr-a").resolve() == live and not (live / "long.html").exists() and only_live(out, "dr-a")

    accepted = git_push(clone)
    assert accepted.returncode == 0 and "/dr-a/long.html" in accepted.stderr, accepted.stderr


def test_a_push_whose_sources_the_disk_cannot_take_is_refused_before_anything_goes_live(server, tmp_path):  # noqa: F811
    """`sites/` on its own disk, full (a real 2 MiB tmpfs, filled until ENOSPC): the push's build went live, then the
    copy of its tree into `sites/` failed with a Python traceback in the doctor's terminal; git refused the push that
    readers were already shown, and the next cron build put the blog back as it was."""
    network, repo, clone, _push = server
    sites = network.site("dr-a").path.parent
    kept = tmp_path / "sites-before"
    shutil.copytree(sites, kept, symlinks=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(sites)], capture_output=True).returncode:
        pytest.skip("no right to mount a tmpfs here (not root)")
    try:
        shutil.copytree(kept, sites, symlinks=True, dirs_exist_ok=True)
        ballast = sites / "ballast.bin"
        with open(ballast, "wb", buffering=0) as handle, contextlib.suppress(OSError):
            while True:
                handle.write(b"\0" * 65536)
        out = network.output
        live = (out / "dr-a").resolve()
        commit(clone, "plein", "Billet sur un disque plein")

        refused = git_push(clone)
        assert refused.returncode != 0, refused.stderr
        assert "publication REFUSÉE, le site en ligne n'a pas changé" in refused.stderr, refused.stderr
        assert "le disque du serveur est plein" in refused.stderr and "Traceback" not in refused.stderr, refused.stderr
        assert (out / "dr-a").resolve() == live and not (out / "dr-a" / "plein.html").exists()
        assert (network.site("dr-a").path / "content").is_dir() and not [p for p in sites.iterdir()
                                                                          if p.name.startswith(".dr-a.")]

        ballast.unlink()
        accepted = git_push(clone)
        assert accepted.returncode == 0 and (out / "dr-a" / "plein.html").is_file(), accepted.stderr
        assert (network.site("dr-a").path / "content" / "plein.md").is_file()
    finally:
        subprocess.run(["umount", "-l", str(sites)], check=False)


def test_a_backup_the_disk_refuses_says_so_in_french_and_leaves_nothing(tmp_path):
    """« Erreur : la sauvegarde a échoué : disk I/O error » (or « database or disk is full »)."""
    network = kit.make_blogs(tmp_path, "http://127.0.0.1:9/")
    db = tmp_path / "var" / "comments.sqlite3"
    db.parent.mkdir()
    assert kit.confreres(network, db, "service", "init-db").returncode == 0
    folder = tmp_path / "sauvegardes"
    folder.mkdir()
    size = db.stat().st_size
    assert size > 200_000, size  # the limit: more than the service's own writes (WAL, -shm), less than the copy

    refused = subprocess.run([str(kit.BIN / "confreres"), "--network", str(network), "backup", str(folder)],
                             capture_output=True, text=True, env=kit.environment(network, db), preexec_fn=lambda: limited(200_000),
                             timeout=300)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"la copie n'a pas pu être écrite dans {folder} (disque plein, quota ou taille de fichier limitée ?) : " \
           "aucune sauvegarde écrite, la base en service n'a pas changé" in refused.stderr, refused.stderr
    assert not any(word in refused.stderr for word in (*ENGLISH, "disk I/O error", "disk is full")), refused.stderr
    assert [p.name for p in folder.iterdir()] == [".confreres-backup.lock"], "no unfinished copy"

    done = kit.confreres(network, db, "backup", str(folder))
    assert done.returncode == 0 and "intégrité ok" in done.stdout, done.stdout + done.stderr
