"""Medical secrecy on publish: a real `git push` through the pre-receive hook (confreres.publish), the build
refusing a post with a NIR, a phone or an e-mail, naming its file, line and column; softer findings printed."""

from __future__ import annotations

import os

from tests.confreres.test_publish_safety import assert_refused, server  # noqa: F401 (the fixture)

HEAD = "Title: Un cas difficile\nDate: 2024-03-12 08:30\n{extra}\n"


def post(body: str, extra: str = "") -> str:
    return HEAD.format(extra=extra) + "\n" + body + "\n"


def test_a_post_with_a_nir_is_refused_naming_line_and_column(server):  # noqa: F811
    network, _, _, push = server
    live = (network.output / "dr-a").resolve()
    pushed = push({"content/cas.md": post("Je l'ai revue hier.\nSa carte : 1 84 12 75 123 456 40, à retirer.",
                                          extra="Secret: vérifié")})
    assert_refused(network, pushed, "secret médical : content/cas.md, ligne 6, colonne 12",
                   "numéro de sécurité sociale", "« 1 84 12 75 123 456 40 »")
    assert (network.output / "dr-a").resolve() == live, "the live blog is untouched"
    assert not list(network.output.rglob("un-cas-difficile*"))


def test_a_phone_and_an_email_are_refused_unless_verified(server):  # noqa: F811
    network, _, _, push = server
    text = post("Appelez le 06 12 34 56 78\nou écrivez à jeanne.durand58@orange.fr.")
    pushed = push({"content/cas.md": text})
    assert_refused(network, pushed, "content/cas.md, ligne 5, colonne 12 : numéro de téléphone",
                   "content/cas.md, ligne 6, colonne 14 : adresse e-mail")
    pushed = push({"content/cas.md": text.replace("08:30\n", "08:30\nSecret: vérifié\n")})
    assert pushed.returncode == 0, pushed.stderr
    assert "publié en" in pushed.stderr and "ATTENTION" not in pushed.stderr


def test_warnings_are_printed_and_silenced_by_secret_verifie(server):  # noqa: F811
    network, _, _, push = server
    text = post("J'ai revu Mme Durand, née le 3 mars 1958.")
    pushed = push({"content/cas.md": text})
    assert pushed.returncode == 0, pushed.stderr
    assert "ATTENTION, secret médical" in pushed.stderr
    assert "content/cas.md, ligne 5, colonne 11 : ressemble au nom d'un patient" in pushed.stderr
    assert "content/cas.md, ligne 5, colonne 23 : date de naissance complète" in pushed.stderr
    assert "Un cas difficile" in (network.output / "dr-a" / "index.html").read_text(encoding="utf-8")
    pushed = push({"content/cas.md": text.replace("08:30\n", "08:30\nSecret: vérifié\n")})
    assert pushed.returncode == 0, pushed.stderr
    assert "secret médical" not in pushed.stderr


def test_confreres_build_refuses_and_warns_too(make_network):
    from click.testing import CliRunner

    from confreres.cli import cli

    network = make_network(slugs=("dr-a",), posts=1)
    cas = network.root / "sites" / "dr-a" / "content" / "cas.md"
    cas.write_text(post("J'ai revu M. Lambert, un homme de 54 ans de Vesoul."), encoding="utf-8")
    built = CliRunner().invoke(cli, ["--network", str(network.source), "build", "--no-announce"])
    assert built.exit_code == 0, built.output
    assert "⚠ secret médical : content/cas.md, ligne 5, colonne 11 : ressemble au nom d'un patient" in built.output
    cas.write_text(post("Tél. de sa fille : +33 6 12 34 56 78"), encoding="utf-8")
    built = CliRunner().invoke(cli, ["--network", str(network.source), "build", "--no-announce"])
    assert built.exit_code != 0
    assert "content/cas.md, ligne 5, colonne 20 : numéro de téléphone" in built.output


def test_a_push_lists_its_warnings_on_the_blogs_moderation_page_until_corrected(make_network, tmp_path):
    """A real push through the hook announces its posts with their warnings to a real comment service (HTTP):
    the blog's moderation page lists each line and span; a corrected push clears them."""
    import threading

    import httpx
    from werkzeug.serving import make_server

    from comments_service import create_app
    from comments_service.core.db import connect
    from comments_service.domain import accounts
    from confreres import build, publish
    from tests.confreres.test_publish import git
    from tests.confreres.test_publish_safety import SECRET, git_push

    holder = {}
    httpd = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    service = f"http://127.0.0.1:{httpd.server_port}/"
    network = make_network(slugs=("dr-a", "dr-b"), posts=1, comments_url=service)
    db_file = tmp_path / "c.sqlite3"
    holder["app"] = create_app({"TESTING": True, "SECRET_KEY": SECRET, "NETWORK": str(network.source),
                                "DB": str(db_file), "RATE_LIMIT": "off", "READ_RATE_LIMIT": "off"})
    db = connect(str(db_file))
    sessions = {}
    for email, site in (("a@dr-a.test", "dr-a"), ("b@dr-b.test", "dr-b")):
        row, _ = accounts.ensure_account(db, email, role="author", sites=(site,))
        sessions[site] = {"Authorization": f"Bearer {accounts.create_session(db, row['id'], 'bearer', 30)[0]}"}
    db.close()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        os.environ["CONFRERES_SECRET_KEY"] = SECRET  # the operator's `publish init` knows the secret
        try:
            assert all(r.ok for r in build.build(network, progress=False))
            repo = publish.init(network, "dr-a", tmp_path / "dr-a.git")
        finally:
            del os.environ["CONFRERES_SECRET_KEY"]
        clone = tmp_path / "clone"
        git("clone", "--quiet", str(repo), str(clone))
        cas = clone / "content" / "cas.md"
        cas.write_text(post("J'ai revu Mme Durand, née le 3 mars 1958, à Vesoul."), encoding="utf-8")
        git("add", "-A", cwd=clone)
        git("commit", "-qm", "Cas", cwd=clone)
        pushed = git_push(clone, env={"CONFRERES_SECRET_KEY": ""})
        assert pushed.returncode == 0 and "ATTENTION, secret médical" in pushed.stderr, pushed.stderr
        page = httpx.get(service + "moderation", headers=sessions["dr-a"]).text
        assert "1 billet à relire (secret médical)" in page and "« Un cas difficile »" in page
        assert ("content/cas.md, ligne 5, colonne 11 : ressemble au nom d&#39;un patient" in page
                and '<mark class="secret">Mme Durand</mark>' in page)
        assert "content/cas.md, ligne 5, colonne 23 : date de naissance complète" in page
        assert "à Vesoul" not in page, "the flagged spans only, nothing around them"
        assert "Mme Durand" not in httpx.get(service + "moderation", headers=sessions["dr-b"]).text
        posts_json = (network.output / "dr-a" / "posts.json").read_text(encoding="utf-8")
        assert "secrecy" not in posts_json and "Secret" not in posts_json, "posts.json is public: no warnings there"

        cas.write_text(post("J'ai revu Mme D., 66 ans."), encoding="utf-8")
        git("commit", "-qam", "Corrigé", cwd=clone)
        pushed = git_push(clone, env={"CONFRERES_SECRET_KEY": ""})
        assert pushed.returncode == 0 and "secret médical" not in pushed.stderr, pushed.stderr
        page = httpx.get(service + "moderation", headers=sessions["dr-a"]).text
        assert "à relire" not in page and "Mme Durand" not in page
    finally:
        httpd.shutdown()
        httpd.server_close()
