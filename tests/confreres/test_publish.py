"""Publishing through real git: clone, commit, push; accepted pushes go live, broken ones are refused."""

from __future__ import annotations

import subprocess

import pytest

from confreres import build, publish
from confreres.publish import clean_git_env


def git(*args, cwd=None, check=True):
    env = clean_git_env()
    env.update(GIT_AUTHOR_NAME="Dr A", GIT_AUTHOR_EMAIL="a@example.org", GIT_COMMITTER_NAME="Dr A",
               GIT_COMMITTER_EMAIL="a@example.org")
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(proc.stderr)
    return proc


@pytest.fixture
def published(make_network, tmp_path):
    network = make_network(slugs=("dr-a", "dr-b"), posts=1)
    assert all(r.ok for r in build.build(network, progress=False))
    repo = publish.init(network, "dr-a", tmp_path / "repos" / "dr-a.git")
    clone = tmp_path / "clone"
    git("clone", "--quiet", str(repo), str(clone))
    return network, repo, clone


def test_init_seeds_the_repository_with_the_site(published):
    network, repo, clone = published
    assert not (clone / "pelicanconf.py").exists() and (clone / ".gitignore").is_file()
    assert (clone / "content" / "dr-a-billet-0.md").is_file()
    assert (repo / "hooks" / "pre-receive").stat().st_mode & 0o111
    # the doctor's first `git log` reads French: « de « Blog dr-a » », never « de Blog dr-a »
    message = git("log", "-1", "--format=%s", cwd=clone).stdout.strip()
    assert message == "Contenu initial de « Blog dr-a »", message


def test_init_refuses_a_non_empty_folder_in_french(published, tmp_path):
    network, repo, _ = published
    with pytest.raises(publish.PublishError, match="existe et n'est pas vide"):
        publish.init(network, "dr-a", repo)


def test_a_push_publishes_the_post_and_prints_its_url(published):
    network, repo, clone = published
    (clone / "content" / "garde-de-nuit.md").write_text(
        "Title: Garde de nuit\nDate: 2025-05-02 07:00\nCategory: Pratique\nSlug: garde-de-nuit\n\nUne nuit de garde.\n",
        encoding="utf-8",
    )
    git("add", "-A", cwd=clone)
    git("commit", "-qm", "Nouveau billet", cwd=clone)
    pushed = git("push", "origin", "main", cwd=clone)
    url = "http://127.0.0.1:8000/dr-a/garde-de-nuit.html"
    assert url in pushed.stderr  # git relays the hook's output as "remote: ..."
    assert "dr-a-billet-0" not in pushed.stderr, "only the pushed posts are listed"
    live = network.output / "dr-a"
    assert "Garde de nuit" in (live / "garde-de-nuit.html").read_text(encoding="utf-8")
    # The server's copy of the sources follows the push, so full rebuilds agree with it.
    assert (network.sites[0].path / "content" / "garde-de-nuit.md").is_file()
    assert "Garde de nuit" in (network.output / "dr-a" / "index.html").read_text(encoding="utf-8")


def test_a_push_that_does_not_build_is_refused_and_the_live_site_kept(published):
    network, repo, clone = published
    live = (network.output / "dr-a").resolve()
    before = sorted(p.name for p in live.iterdir())
    (clone / "content" / "casse.md").write_text("Title: Cassé\nDate: hier soir\n\nTexte.\n", encoding="utf-8")
    git("add", "-A", cwd=clone)
    git("commit", "-qm", "Billet cassé", cwd=clone)
    pushed = git("push", "origin", "main", cwd=clone, check=False)
    assert pushed.returncode != 0
    assert "REFUSÉE" in pushed.stderr and "casse.md" in pushed.stderr
    assert "pre-receive hook declined" in pushed.stderr
    assert (network.output / "dr-a").resolve() == live
    assert sorted(p.name for p in live.iterdir()) == before
    assert not (network.sites[0].path / "content" / "casse.md").exists()
    # The refused commit is not on the server.
    heads = git("ls-remote", str(repo), "refs/heads/main").stdout.split()[0]
    assert heads != git("rev-parse", "HEAD", cwd=clone).stdout.strip()


def test_hook_environment_is_cleaned():
    env = clean_git_env({"GIT_DIR": "/x", "GIT_QUARANTINE_PATH": "/q", "GIT_PUSH_OPTION_0": "a", "PATH": "/usr/bin"})
    assert env == {"PATH": "/usr/bin"}


def test_a_post_whose_file_name_has_an_accent_is_listed_and_an_empty_commit_lists_none(published):
    """git quotes such a name in `git diff --name-only` (« "content/m\\303\\251moire.md" »): the pusher saw no
    address for it. An empty commit publishes nothing new: it lists no post."""
    network, repo, clone = published
    (clone / "content" / "mémoire-de-garde.md").write_text(
        "Title: Mémoire de garde\nDate: 2025-05-02 07:00\nSlug: memoire\n\nTexte.\n", encoding="utf-8")
    git("add", "-A", cwd=clone)
    git("commit", "-qm", "Billet", cwd=clone)
    pushed = git("push", "origin", "main", cwd=clone)
    assert "Mémoire de garde : http://127.0.0.1:8000/dr-a/memoire.html" in pushed.stderr, pushed.stderr
    git("commit", "-q", "--allow-empty", "-m", "Rien", cwd=clone)
    again = git("push", "origin", "main", cwd=clone)
    assert "publié en" in again.stderr and "/dr-a/memoire.html" not in again.stderr, again.stderr
    assert "dr-a-billet-0.html" not in again.stderr
