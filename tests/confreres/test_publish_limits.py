"""Pushes that are too big, or at the same time, or that the disk cannot take: refused in French, the live blog
whole (real bare repositories, real pushes through the pre-receive hook)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from confreres import publish
from tests.confreres.test_publish import git
from tests.confreres.test_publish_safety import git_push, server  # noqa: F401 (fixture)


def plumbing(args: list[str], cwd, data: bytes = b"") -> str:
    return subprocess.run(["git", *args], cwd=cwd, input=data, capture_output=True, check=True).stdout.decode().strip()


def commit_tree(clone, tree: str, message: str) -> None:
    head = plumbing(["rev-parse", "HEAD"], clone)
    commit = plumbing(["commit-tree", tree, "-p", head, "-m", message], clone)
    git("update-ref", "HEAD", commit, cwd=clone)  # no checkout: the clone's disk need not hold it either


def test_a_git_bomb_is_refused_before_anything_is_written(server):  # noqa: F811
    """A few KB of objects naming 21,000 files (one blob in folders of folders): refused from `git ls-tree`."""
    network, repo, clone, _push = server
    blob = plumbing(["hash-object", "-w", "--stdin"], clone, b"![x](x.png)\n")
    level = plumbing(["mktree"], clone, "".join(f"100644 blob {blob}\tf{n}.png\n" for n in range(21)).encode())
    for _ in range(3):  # 21 x 10 x 10 x 10 = 21,000 entries
        level = plumbing(["mktree"], clone, "".join(f"040000 tree {level}\td{n}\n" for n in range(10)).encode())
    images = plumbing(["mktree"], clone, f"040000 tree {level}\timages\n".encode())
    root = plumbing(["ls-tree", "HEAD"], clone).splitlines()
    content = next(line for line in root if line.endswith("\tcontent")).split()[2]
    listing = plumbing(["ls-tree", content], clone) + f"\n040000 tree {images.split()[0]}\tbombe\n"
    new_content = plumbing(["mktree"], clone, listing.encode())
    top = "\n".join(line if not line.endswith("\tcontent") else f"040000 tree {new_content}\tcontent" for line in root)
    commit_tree(clone, plumbing(["mktree"], clone, (top + "\n").encode()), "Bombe")
    live = (network.output / "dr-a").resolve()
    pushed = git_push(clone)
    assert pushed.returncode != 0 and "le blog est trop gros : plus de 20\u202f000 fichiers" in pushed.stderr, pushed.stderr
    assert (network.output / "dr-a").resolve() == live and not (network.site("dr-a").path / "content" / "bombe").exists()


def test_a_name_the_disk_cannot_take_is_said_in_french(server):  # noqa: F811
    network, repo, clone, _push = server
    blob = plumbing(["hash-object", "-w", "--stdin"], clone, b"x")
    root = plumbing(["ls-tree", "HEAD"], clone)
    content = next(line for line in root.splitlines() if line.endswith("\tcontent")).split()[2]
    long_name = "n" * 300 + ".png"  # over the 255 bytes a file name may have
    folder = plumbing(["mktree"], clone, f"100644 blob {blob}\t{long_name}\n".encode())
    files = plumbing(["ls-tree", content], clone) + f"\n040000 tree {folder}\tfiles\n"
    new_content = plumbing(["mktree"], clone, files.encode())
    top = "\n".join(line if not line.endswith("\tcontent") else f"040000 tree {new_content}\tcontent"
                    for line in root.splitlines())
    commit_tree(clone, plumbing(["mktree"], clone, (top + "\n").encode()), "Nom trop long")
    pushed = git_push(clone)
    assert pushed.returncode != 0 and "ne peut pas être écrit sur le serveur" in pushed.stderr, pushed.stderr
    assert "Traceback" not in pushed.stderr and "/confreres/" not in pushed.stderr


def test_a_name_not_in_utf8_or_with_a_line_break_is_refused_in_french(server):  # noqa: F811
    """Such names (an old Windows or Mac tool, a script) broke the build with a Python error, or were published
    with names that split the lists of files; refused, each named on one line."""
    network, repo, clone, _push = server
    blob = plumbing(["hash-object", "-w", "--stdin"], clone, b"Title: X\nDate: 2025-05-02 07:00\n\nTexte.\n")
    root = plumbing(["ls-tree", "HEAD"], clone)
    content = next(line for line in root.splitlines() if line.endswith("\tcontent")).split()[2]
    listing = subprocess.run(["git", "ls-tree", "-z", content], cwd=clone, capture_output=True, check=True).stdout
    listing += b"".join(b"100644 blob %s\t%s\0" % (blob.encode(), name) for name in (b"m\xe9moire.md", b"deux\nlignes.md"))
    new_content = plumbing(["mktree", "-z"], clone, listing)
    top = "\n".join(line if not line.endswith("\tcontent") else f"040000 tree {new_content}\tcontent"
                    for line in root.splitlines())
    commit_tree(clone, plumbing(["mktree"], clone, (top + "\n").encode()), "Noms")
    live = (network.output / "dr-a").resolve()
    pushed = git_push(clone)
    assert pushed.returncode != 0, pushed.stderr
    assert "content/m\ufffdmoire.md : nom de fichier qui n'est pas en UTF-8" in pushed.stderr, pushed.stderr
    assert "content/deux\\nlignes.md : nom de fichier avec un retour à la ligne" in pushed.stderr, pushed.stderr
    assert "Traceback" not in pushed.stderr and "UnicodeEncodeError" not in pushed.stderr
    assert (network.output / "dr-a").resolve() == live


def test_two_pushes_at_once_publish_one_whole_blog(server, tmp_path):  # noqa: F811
    """Two doctors' clones (or one doctor's two machines) push from the same base at the same moment: one is
    published, the other told in French to pull first; the live blog is whole and is the branch's head."""
    network, repo, clone, _push = server
    other = tmp_path / "other"
    git("clone", "--quiet", str(repo), str(other))
    for where, title in ((clone, "Depuis le cabinet"), (other, "Depuis la maison")):
        (where / "content" / "nouveau.md").write_text(f"Title: {title}\nDate: 2025-05-02 07:00\nSlug: nouveau\n\n{title}.\n",
                                                      encoding="utf-8")
        git("add", "-A", cwd=where)
        git("commit", "-qm", title, cwd=where)
    results = {}
    threads = [threading.Thread(target=lambda w=w: results.update({w: git_push(w)})) for w in (clone, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted = [w for w, r in results.items() if r.returncode == 0]
    assert len(accepted) == 1, {str(w): r.stderr for w, r in results.items()}
    refused = results[other if accepted == [clone] else clone].stderr
    assert "faites « git pull »" in refused or "failed to push" in refused, refused
    head = plumbing(["rev-parse", "main"], repo)
    assert head == plumbing(["rev-parse", "HEAD"], accepted[0])
    live = (network.output / "dr-a").resolve()
    assert live.is_dir() and (live / "index.html").is_file() and (live / "nouveau.html").is_file()
    title = "Depuis le cabinet" if accepted == [clone] else "Depuis la maison"
    assert title in (live / "nouveau.html").read_text(encoding="utf-8")
    assert title in (network.site("dr-a").path / "content" / "nouveau.md").read_text(encoding="utf-8")
    assert publish.PUBLISHED.format(slug="dr-a") in {p.name for p in (network.output / ".releases").iterdir()}


def test_a_build_that_takes_too_long_is_stopped_and_the_next_push_goes_through(server):  # noqa: F811
    network, repo, clone, push = server
    live = (network.output / "dr-a").resolve()
    slow = push({"content/nouveau.md": "Title: Nouveau\nDate: 2025-05-02 07:00\n\nTexte.\n"},
                env={"CONFRERES_PUSH_TIMEOUT": "0.05"})
    assert slow.returncode != 0 and "la construction a dépassé 0,1\u202fs : arrêtée" in slow.stderr, slow.stderr
    assert (network.output / "dr-a").resolve() == live
    wrong = git_push(clone, env={"CONFRERES_PUSH_TIMEOUT": "bientôt"})
    assert wrong.returncode != 0 and "CONFRERES_PUSH_TIMEOUT='bientôt'" in wrong.stderr
    again = git_push(clone)
    assert again.returncode == 0, again.stderr
    assert (network.output / "dr-a" / "nouveau.html").is_file()


# What cron's `confreres build` runs for a blog whose sources differ from its live release, started the moment a
# push's build has put its release live (and before the hook has replaced the server's copy of the sources).
CRON_BUILD = """
import os, sys, time
from confreres import build
network, out = sys.argv[1:]
live, deadline = os.path.join(out, "dr-a"), time.monotonic() + 120
before = os.readlink(live)
print("prêt", flush=True)
while os.readlink(live) == before and time.monotonic() < deadline:
    time.sleep(0.001)
result = build.build_site(network, "dr-a", out)
print(result.ok, result.skipped, result.error, flush=True)
"""


def test_a_cron_build_right_after_a_push_keeps_the_push_online(server):  # noqa: F811
    """The push's child freed the blog's build lock once its release was live, before the hook replaced the server's
    sources: a cron build waiting for the lock rebuilt the sources from before the push and put them back online
    (the push said « publié », the post was gone until the next cron)."""
    network, repo, clone, _push = server
    cron = subprocess.Popen([sys.executable, "-c", CRON_BUILD, str(network.source), str(network.output)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert cron.stdout.readline().strip() == "prêt"
    (clone / "content" / "nouveau.md").write_text("Title: Nouveau\nDate: 2025-05-02 07:00\nSlug: nouveau\n\nTexte.\n",
                                                  encoding="utf-8")
    git("add", "-A", cwd=clone)
    git("commit", "-qm", "Nouveau", cwd=clone)
    pushed = git_push(clone)
    out, err = cron.communicate(timeout=300)
    assert pushed.returncode == 0 and "/dr-a/nouveau.html" in pushed.stderr, pushed.stderr
    assert out.startswith("True"), out + err
    assert (network.site("dr-a").path / "content" / "nouveau.md").is_file()
    assert (network.output / "dr-a" / "nouveau.html").is_file(), "the live blog is the pushed one"


def test_a_push_bringing_too_much_on_any_ref_or_in_history_is_refused(server):  # noqa: F811
    """Only main's last tree was checked: 200 MB on a branch (or in a commit since undone, or a tag) were stored on
    the server for good, without a word. What the push brings (git's quarantine) is counted, every ref included."""
    network, repo, clone, push = server
    limit = {"CONFRERES_PUSH_MAX_MB": "1"}  # what the operator allows; 500 MB by default
    (clone / "content" / "files").mkdir()
    (clone / "content" / "files" / "archive.bin").write_bytes(os.urandom(3 * 2**20))
    git("checkout", "-qb", "brouillons", cwd=clone)
    git("add", "-A", cwd=clone)
    git("commit", "-qm", "Gros fichier", cwd=clone)
    big = plumbing(["rev-parse", "HEAD:content/files/archive.bin"], clone)
    for ref in ("brouillons", "HEAD:refs/tags/v1"):
        pushed = git_push_ref(clone, ref, limit)
        assert pushed.returncode != 0, pushed.stderr
        assert "push REFUSÉ" in pushed.stderr and "1 Mo au plus (toutes branches, étiquettes" in pushed.stderr, pushed.stderr
    git("rm", "-q", "content/files/archive.bin", cwd=clone)
    git("commit", "-qm", "Effacé", cwd=clone)  # the tip is small, its parent is not
    pushed = git_push_ref(clone, "brouillons:main", limit)
    assert pushed.returncode != 0 and "git rebase" in pushed.stderr, pushed.stderr
    assert subprocess.run(["git", "cat-file", "-e", big], cwd=repo).returncode != 0, "nothing of it stays"
    wrong = git_push_ref(clone, "brouillons", {"CONFRERES_PUSH_MAX_MB": "inf"})
    assert wrong.returncode != 0 and "mal configuré" in wrong.stderr, wrong.stderr
    git("checkout", "-q", "main", cwd=clone)
    small = push({"content/petit.md": "Title: Petit\nDate: 2025-05-02 07:00\n\nTexte.\n"}, env=limit)
    assert small.returncode == 0, small.stderr


def git_push_ref(clone, ref: str, env: dict):
    return subprocess.run(["git", "push", "origin", ref], cwd=clone, capture_output=True, text=True,
                          env={**publish.clean_git_env(), **env})
