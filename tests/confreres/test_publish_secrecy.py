"""Medical secrecy on publish: a real `git push` through the pre-receive hook (confreres.publish), the build
refusing a post with a NIR, a phone or an e-mail, naming its file, line and column; softer findings printed."""

from __future__ import annotations

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
