"""A `git push` never runs code on the server: every way a pushed repository could is refused or inert.

Real bare repositories, real pushes through the pre-receive hook; the server holds a secret key
(`var/secret_key` and `$CONFRERES_SECRET_KEY` in the pusher's environment) whose bytes must reach
neither the published site nor the pusher's terminal.
"""

from __future__ import annotations

import os
import pwd
import shutil
import sqlite3
import tempfile
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from confreres import build, publish, registry
from confreres.publish import clean_git_env
from tests.confreres.test_publish import git

SECRET = "s3cr3t-0f-th3-n3tw0rk-ne-pas-divulguer"


@pytest.fixture
def server(make_network, tmp_path):
    """(network, repo, clone, push): a published blog dr-a and a way to push a change of its clone."""
    network = make_network(slugs=("dr-a", "dr-b"), posts=1)
    (network.root / "var").mkdir()
    (network.root / "var" / "secret_key").write_text(SECRET, encoding="utf-8")
    (network.root / "var" / "secret_key").chmod(0o600)
    assert all(r.ok for r in build.build(network, progress=False))
    repo = publish.init(network, "dr-a", tmp_path / "repos" / "dr-a.git")
    clone = tmp_path / "clone"
    git("clone", "--quiet", str(repo), str(clone))

    def push(files: dict[str, str] | None = None, env: dict | None = None):
        for name, text in (files or {}).items():
            path = clone / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        git("add", "-A", cwd=clone)
        git("commit", "-qm", "Essai", cwd=clone)
        return git_push(clone, env)

    return network, repo, clone, push


def git_push(clone: Path, env: dict | None = None, **run):
    """`git push origin main` from `clone`; `run`: more options of subprocess.run (e.g. preexec_fn)."""
    import subprocess

    full = clean_git_env()
    full.update({"GIT_AUTHOR_NAME": "Dr A", "GIT_AUTHOR_EMAIL": "a@example.org", "CONFRERES_SECRET_KEY": SECRET,
                 **(env or {})})
    return subprocess.run(["git", "push", "origin", "main"], cwd=clone, env=full, capture_output=True, text=True, **run)


def published_bytes(network) -> bytes:
    out = b""
    for path in network.output.rglob("*"):
        if path.is_file():
            out += path.read_bytes()
    return out


def assert_refused(network, pushed, *names: str):
    assert pushed.returncode != 0, pushed.stderr
    assert "publication REFUSÉE" in pushed.stderr
    for name in names:
        assert name in pushed.stderr, pushed.stderr
    assert SECRET not in pushed.stderr + pushed.stdout
    assert SECRET.encode() not in published_bytes(network)


def test_a_pushed_pelicanconf_is_refused_and_never_runs(server, tmp_path):
    network, _, _, push = server
    witness = tmp_path / "it-ran"
    code = (f"open({str(witness)!r}, 'w').write(open({str(network.root / 'var' / 'secret_key')!r}).read())\n"
            "import os\nprint(os.environ.get('CONFRERES_SECRET_KEY'))\nPLUGINS = ['comments', 'crosslinks']\n")
    pushed = push({"pelicanconf.py": code})
    assert_refused(network, pushed, "pelicanconf.py : ", "git rm pelicanconf.py", "site.toml")
    assert not witness.exists()


@pytest.mark.parametrize("files, names", [
    ({"content/outil.py": "import os\n"}, ["content/outil.py", "fichier de code"]),
    ({"publishconf.py": "X = 1\n"}, ["publishconf.py"]),
    ({"plugins/evil/__init__.py": "def register(): pass\n", "plugins/evil/README.md": "x\n"},
     ["plugins/evil/__init__.py", "plugins/evil/README.md"]),
    ({"themes/perso/templates/base.html": "{{ 1 }}\n"}, ["themes/perso/templates/base.html", "gabarits"]),
    ({"content/templates/article.html": "{{ 1 }}\n"}, ["content/templates/article.html", "gabarits"]),
    ({"content/evil.rst": "Titre\n#####\n\n:date: 2025-01-01\n\n.. include:: /etc/hostname\n"},
     ["content/evil.rst", "Markdown"]),
    ({"content/page.html": "<html><head><title>x</title></head></html>\n"}, ["content/page.html", "Markdown"]),
    ({"Makefile": "all:\n\ttrue\n"}, ["Makefile", "structure d'un blog"]),
    # git archive obeys it: « $Format:%ae$ » would publish the committer's address, export-ignore drop checked files
    ({"content/files/.gitattributes": "* export-subst\n", "content/files/auteur.txt": "$Format:%ae$\n"},
     ["content/files/.gitattributes : fichier .gitattributes refusé", "export-subst"]),
    ({"site.toml": 'PLUGINS = ["evil"]\n'}, ["site.toml : PLUGINS : clé inconnue"]),
    ({"site.toml": 'PLUGIN_PATHS = ["/tmp"]\n'}, ["site.toml : PLUGIN_PATHS : clé inconnue"]),
    ({"site.toml": 'THEME = "/etc"\n'}, ["site.toml : THEME : clé inconnue"]),
    ({"site.toml": 'pagination = 10\nREADERS = {}\n'}, ["site.toml : READERS : clé inconnue"]),
    ({"site.toml": 'timezone = "Europe"\n'}, ["site.toml : timezone : fuseau horaire inconnu"]),  # a folder of zones
    ({"site.toml": f'timezone = "{"A" * 100_000}"\n'}, ["site.toml : timezone : fuseau horaire inconnu"]),
    ({"site.toml": "a = " + "[" * 5000 + "]" * 5000 + "\n"}, ["site.toml : ce n'est pas du TOML valide"]),
])
def test_code_plugins_themes_and_unknown_settings_are_refused_by_name(server, files, names):
    network, repo, clone, push = server
    live = (network.output / "dr-a").resolve()
    pushed = push(files)
    assert_refused(network, pushed, *names)
    assert (network.output / "dr-a").resolve() == live, "the live blog is untouched"
    heads = git("ls-remote", str(repo), "refs/heads/main").stdout.split()[0]
    assert heads != git("rev-parse", "HEAD", cwd=clone).stdout.strip()


@pytest.mark.parametrize("target", ["absolute", "relative", "inside"])
def test_a_symlink_is_refused(server, target):
    network, _, clone, push = server
    secret = network.root / "var" / "secret_key"
    link = clone / "content" / "images" / "cle.txt"
    link.parent.mkdir(parents=True)
    if target == "absolute":
        link.symlink_to(secret)
    elif target == "relative":
        link.symlink_to(os.path.relpath(secret, link.parent))
    else:
        link.symlink_to("../pages/a-propos.md")
    pushed = push()
    assert_refused(network, pushed, "content/images/cle.txt : lien symbolique")


def test_a_submodule_is_refused(server):
    network, _, clone, _ = server
    head = git("rev-parse", "HEAD", cwd=clone).stdout.strip()
    git("update-index", "--add", "--cacheinfo", f"160000,{head},content/module", cwd=clone)
    git("commit", "-qm", "Sous-module", cwd=clone)
    pushed = git_push(clone)
    assert_refused(network, pushed, "content/module : sous-module")


POST = "Title: Piège\nDate: 2025-05-02 07:00\nCategory: Pratique\nSlug: piege\n{meta}\n\n{body}\n"


@pytest.mark.parametrize("meta, body, names", [
    ("Save_as: ../../../../evasion.html", "Texte.", ["piege.md", "evasion.html"]),
    ("Save_as: /tmp/confreres-evasion.html", "Texte.", ["piege.md", "evasion.html"]),
    ("Template: ../../../../var/secret_key", "Texte.", ["Template"]),
    ("", "[clé]({attach}../../../var/secret_key)", ["var/secret_key", "hors du dossier content/"]),
    ("", "[clé]({static}/../../../var/secret_key)", ["var/secret_key", "hors du dossier content/"]),
    ("", "![clé]({static}../../dr-b/content/dr-b-billet-0.md)", ["dr-b-billet-0.md", "hors du dossier content/"]),
])
def test_metadata_and_links_cannot_reach_outside_the_blog(server, meta, body, names):
    network, _, _, push = server
    pushed = push({"content/piege.md": POST.format(meta=meta, body=body)})
    assert_refused(network, pushed, *names)
    assert not (network.root / "evasion.html").exists() and not Path("/tmp/confreres-evasion.html").exists()
    assert not list(network.output.rglob("secret_key"))


@pytest.mark.parametrize("meta", [
    "Url: https://evil.example/phish",
    "Url: ../../x.html",
    "Url: //evil.example/phish",
    "Url: javascript:alert(1)",
    "Url: /x.html",
    "Slug: https://evil.example/phish",
    "Save_as: sous/../x.html",
])
def test_an_address_outside_the_blog_is_refused_naming_the_post(server, meta):
    """A `Url` (or `Slug`, `Save_as`) leading out of the blog's URL would put a foreign link on the blog and the
    planet, and a comment thread under another address: refused, naming the post's file."""
    network, _, _, push = server
    text = POST.format(meta=meta, body="Texte.")
    pushed = push({"content/piege.md": text.replace("Slug: piege\n", "") if meta.startswith("Slug") else text})
    assert_refused(network, pushed, "content/piege.md : l'adresse", "sortirait du blog")
    assert "evil.example" not in (network.output / "index.html").read_text(encoding="utf-8")


def test_server_side_builds_read_no_rst_nor_html(make_network):
    """A file that reached the server another way is inert too: docutils' `include` never runs."""
    network = make_network(slugs=("dr-a",), posts=1)
    secret = network.root / "var" / "secret_key"
    secret.parent.mkdir()
    secret.write_text(SECRET, encoding="utf-8")
    content = network.sites[0].path / "content"
    (content / "inclus.rst").write_text(
        f"Inclus\n######\n\n:date: 2025-01-01\n:slug: inclus\n\n.. include:: {secret}\n\n.. raw:: html\n   :file: {secret}\n",
        encoding="utf-8")
    (content / "brut.html").write_text(
        "<html><head><title>Brut</title><meta name='date' content='2025-01-01'></head><body>x</body></html>\n",
        encoding="utf-8")
    [result] = build.build(network, progress=False)
    assert result.ok, result.error
    assert SECRET.encode() not in published_bytes(network)
    assert not (network.output / "dr-a" / "inclus.html").exists()
    assert not (network.output / "dr-a" / "brut.html").exists()


def test_a_normal_push_with_site_toml_publishes(server):
    network, _, clone, push = server
    (clone / "site.toml").write_text('pagination = 5\ntimezone = "America/Cayenne"\n', encoding="utf-8")
    (clone / "content" / "images").mkdir()
    (clone / "content" / "images" / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    pushed = push({"content/garde.md": "Title: Garde\nDate: 2025-05-02 07:00\nSlug: garde\n\n"
                                       "Une nuit. ![photo]({static}/images/photo.png)\n",
                   "README.md": "Mon blog.\n"})
    assert pushed.returncode == 0, pushed.stderr
    assert "http://127.0.0.1:8000/dr-a/garde.html" in pushed.stderr
    assert (network.output / "dr-a" / "images" / "photo.png").is_file()
    assert "2025-05-02T07:00:00-03:00" in (network.output / "dr-a" / "feeds" / "all.atom.xml").read_text(encoding="utf-8")
    assert SECRET not in pushed.stderr


def test_publish_init_refuses_a_site_folder_with_code(make_network, tmp_path):
    network = make_network(slugs=("dr-a",), posts=1)
    (network.sites[0].path / "pelicanconf.py").write_text("PLUGINS = []\n", encoding="utf-8")
    with pytest.raises(publish.PublishError, match="pelicanconf.py"):
        publish.init(network, "dr-a", tmp_path / "dr-a.git")
    assert not (tmp_path / "dr-a.git").exists()


def test_the_build_of_a_push_gets_no_secret():
    env = publish.build_env({"PATH": "/usr/bin", "LC_ALL": "C.UTF-8", "CONFRERES_SECRET_KEY": SECRET,
                             "CONFRERES_SMTP_PASSWORD": "p", "CONFRERES_PSC_CLIENT_SECRET": "c", "HOME": "/root",
                             "CONFRERES_DEMO_ORIGIN": "http://127.0.0.1:8010"}, home="/tmp/x")
    assert env == {"PATH": "/usr/bin", "LC_ALL": "C.UTF-8", "HOME": "/tmp/x",
                   "CONFRERES_DEMO_ORIGIN": "http://127.0.0.1:8010"}
    assert publish.without_secrets({"CONFRERES_SECRET_KEY": "k", "CONFRERES_SMTP_HOST": "h", "PATH": "/b"}) == {
        "PATH": "/b"}


def test_the_hook_announces_posts_with_the_blog_token_not_the_secret_key(make_network, tmp_path, monkeypatch):
    from comments_service import create_app

    holder = {}
    httpd = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    network = make_network(slugs=("dr-a",), posts=1, comments_url=f"http://127.0.0.1:{httpd.server_port}/")
    db = tmp_path / "c.sqlite3"
    holder["app"] = create_app({"TESTING": True, "SECRET_KEY": SECRET, "NETWORK": str(network.source), "DB": str(db),
                                "RATE_LIMIT": "off", "READ_RATE_LIMIT": "off"})
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        assert all(r.ok for r in build.build(network, progress=False))
        monkeypatch.setenv("CONFRERES_SECRET_KEY", SECRET)  # the operator's `publish init` knows the secret
        repo = publish.init(network, "dr-a", tmp_path / "dr-a.git")
        monkeypatch.delenv("CONFRERES_SECRET_KEY")
        token = repo / publish.TOKEN_FILE
        assert token.stat().st_mode & 0o777 == 0o600
        clone = tmp_path / "clone"
        git("clone", "--quiet", str(repo), str(clone))
        (clone / "content" / "annonce.md").write_text("Title: Annonce\nDate: 2025-05-03 07:00\nSlug: annonce\n\nTexte.\n",
                                                      encoding="utf-8")
        git("add", "-A", cwd=clone)
        git("commit", "-qm", "Annonce", cwd=clone)
        pushed = git_push(clone, env={"CONFRERES_SECRET_KEY": ""})  # the hook has no secret at all
        assert pushed.returncode == 0, pushed.stderr
        assert "refusé la liste" not in pushed.stderr and "pas de jeton" not in pushed.stderr
        with sqlite3.connect(db) as conn:
            urls = {row[0] for row in conn.execute("SELECT url FROM posts")}
        assert "http://127.0.0.1:8000/dr-a/annonce.html" in urls
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root (as in CI)")
def test_the_build_runs_as_the_build_user(make_network, tmp_path):
    """With CONFRERES_BUILD_USER (hook run as root), the build of a push runs as that user, who cannot read var/."""
    user = pwd.getpwnam("nobody")
    network = make_network(slugs=("dr-a",), posts=1)
    base = Path(tempfile.mkdtemp(prefix="confreres-builduser-"))
    try:
        base.chmod(0o755)
        root = base / "network"
        shutil.copytree(network.root, root)
        network = registry.load(root / "network.toml")
        (root / "var").mkdir(mode=0o700)
        (root / "var" / "secret_key").write_text(SECRET, encoding="utf-8")
        assert all(r.ok for r in build.build(network, progress=False))
        for path in [network.output, *network.output.rglob("*"), root / ".cache", *(root / ".cache").rglob("*")]:
            os.lchown(path, user.pw_uid, user.pw_gid)
        repo = publish.init(network, "dr-a", base / "dr-a.git")
        clone = base / "clone"
        git("clone", "--quiet", str(repo), str(clone))
        (clone / "content" / "nuit.md").write_text("Title: Nuit\nDate: 2025-05-03 07:00\nSlug: nuit\n\nTexte.\n",
                                                   encoding="utf-8")
        git("add", "-A", cwd=clone)
        git("commit", "-qm", "Nuit", cwd=clone)
        pushed = git_push(clone, env={"CONFRERES_BUILD_USER": "nobody"})
        assert pushed.returncode == 0, pushed.stderr
        page = network.output / "dr-a" / "nuit.html"
        assert page.resolve().stat().st_uid == user.pw_uid
        (clone / "content" / "jour.md").write_text("Title: Jour\nDate: 2025-05-04 07:00\n\nTexte.\n", encoding="utf-8")
        git("add", "-A", cwd=clone)
        git("commit", "-qm", "Jour", cwd=clone)
        refused = git_push(clone, env={"CONFRERES_BUILD_USER": "personne-inconnue"})
        assert refused.returncode != 0 and "mal configuré" in refused.stderr  # never built with more rights
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("keep", [[], ["site.toml"], ["content/images/photo.png"]])
def test_a_push_that_deletes_every_post_and_page_is_refused_in_french(server, keep):
    """`git rm -r .` and a push: the archive of an empty tree failed with « nom trop long ? », a tree without
    content/ with « le dossier content/ manque dans /tmp/confreres-push-… », and one with images only emptied the
    blog. Refused, saying how to hide a post or get the files back; the live blog kept."""
    network, repo, clone, _ = server
    live = (network.output / "dr-a").resolve()
    git("rm", "-rq", ".", cwd=clone)
    for name in keep:
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        (clone / name).write_text('pagination = 5\n' if name == "site.toml" else "x", encoding="utf-8")
    git("add", "-A", cwd=clone)
    git("commit", "-q", "--allow-empty", "-m", "Tout effacé", cwd=clone)
    pushed = git_push(clone)
    assert_refused(network, pushed, "aucun billet ni page (content/*.md)", "Status: draft", "git revert")
    assert "nom trop long" not in pushed.stderr and "confreres-push-" not in pushed.stderr
    assert (network.output / "dr-a").resolve() == live and (live / "dr-a-billet-0.html").is_file()
    assert (network.site("dr-a").path / "content" / "dr-a-billet-0.md").is_file()
