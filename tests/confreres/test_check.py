"""`confreres check`: a ready server says so; each missing or broken part is named in French, exit 1.

Real parts: a network on disk, the comment service on a free port (tests/confreres/test_announce.py's
Service), a real SMTP server (aiosmtpd), a real RPPS directory import, real folders.
"""

from __future__ import annotations

import time

import httpx
import pytest
from click.testing import CliRunner

from comments_service.domain.rpps import import_directory
from confreres.cli import cli
from confreres.site_token import site_token
from tests.comments_service.directory_kit import write_extract
from tests.confreres.conftest import NO_SERVICE
from tests.confreres.test_announce import Service
from tests.smtp import SmtpServer, free_port

SECRET = "check-test-secret-" + "x" * 40


@pytest.fixture
def server(tmp_path, make_network, smtp):
    """A ready server: one blog, the service up and knowing its posts, SMTP up, the directory imported.

    Yields (network, env): the environment the service runs with, as `confreres check` reads it."""
    first = make_network(slugs=("dr-a",), posts=1)
    service = Service(tmp_path, first.source, secret=SECRET)
    network = make_network(slugs=("dr-a",), posts=1, comments_url=service.url)
    db = service.app.config["DB"]
    import_directory(write_extract(tmp_path / "PS_LibreAcces_Personne_activite_202611230000.txt"),
                     service.app.config["DIRECTORY_DB"])
    answer = httpx.put(service.url + "api/sites/dr-a/posts", timeout=10,
                       json={"posts": [{"url": network.site("dr-a").url + "dr-a-billet-0.html", "title": "Billet"}]},
                       headers={"Authorization": f"Bearer {site_token(SECRET, 'dr-a')}"})
    assert answer.status_code == 200, answer.text
    env = {
        "CONFRERES_NETWORK": str(network.source), "CONFRERES_SECRET_KEY": SECRET, "CONFRERES_DB": db,
        "CONFRERES_SMTP_HOST": "127.0.0.1", "CONFRERES_SMTP_PORT": str(smtp.port),
        "CONFRERES_RATE_LIMIT": None, "CONFRERES_RATE_LIMIT_STORAGE": None, "CONFRERES_MAIL_DIR": None,
        "CONFRERES_DIRECTORY_DB": None, "CONFRERES_DEMO_ORIGIN": None,
    }
    yield network, env
    service.stop()


def check(env: dict, *args):
    result = CliRunner().invoke(cli, ["check", "--timeout", "3", *args], env=env, catch_exceptions=False)
    return result.exit_code, result.output.splitlines()


def line(lines: list[str], start: str) -> str:
    found = [text for text in lines if text.startswith(start)]
    assert len(found) == 1, (start, lines)
    return found[0]


def test_a_ready_server_is_all_checked(server):
    network, env = server
    code, lines = check(env)
    assert code == 0, "\n".join(lines)
    assert lines[-1] == "Tout est prêt.", lines
    assert not [text for text in lines[1:-1] if not text.startswith("✓ ")], lines
    assert f"définie ({len(SECRET)} caractères)" in line(lines, "✓ Clé secrète")
    assert f"127.0.0.1:{env['CONFRERES_SMTP_PORT']} répond" in line(lines, "✓ Courriel")
    assert "médecins, importé le " in line(lines, "✓ Répertoire RPPS")
    assert "(1 blog)" in line(lines, "✓ Service de commentaires")
    assert "partagées par les workers" in line(lines, "✓ Limites de débit")
    assert "sites/dr-a/" in line(lines, "✓ Blog dr-a")


def test_a_relay_without_smtputf8_is_said(server):
    network, env = server
    relay = SmtpServer(smtputf8=False).start()
    try:
        code, lines = check({**env, "CONFRERES_SMTP_PORT": str(relay.port)})
    finally:
        relay.stop()
    assert code == 0, lines
    assert "sans SMTPUTF8 : un mail à une adresse non ASCII, josé@…, restera en file" in line(lines, "✓ Courriel")
    assert "SMTPUTF8" not in line(check(env)[1], "✓ Courriel"), "the fixture's relay offers it"


def test_each_problem_is_named_with_its_fix(server, tmp_path):
    network, env = server
    (network.root / ".cache").write_text("pas un dossier")  # a file where the build's caches go
    (network.root / "sites" / "dr-a" / "site.toml").write_text("pagination = 0\n", encoding="utf-8")
    network.source.write_text(network.source.read_text().replace(network.comments_url, NO_SERVICE))
    closed = free_port()
    env = {**env, "CONFRERES_SECRET_KEY": None, "CONFRERES_SMTP_PORT": str(closed),
           "CONFRERES_DIRECTORY_DB": str(tmp_path / "nulle-part.sqlite3")}
    code, lines = check(env)
    assert code == 1
    assert "CONFRERES_SECRET_KEY n'est pas définie" in line(lines, "✗ Clé secrète")
    assert "→ dans l'environnement du service : CONFRERES_SECRET_KEY=" in line(lines, "✗ Clé secrète")
    assert f"127.0.0.1:{closed} ne répond pas (connexion refusée)" in line(lines, "✗ Courriel")
    assert "ce n'est pas un dossier" in line(lines, "✗ Dossier .cache/")
    assert "→ remplacez le fichier" in line(lines, "✗ Dossier .cache/")
    assert "non importé" in line(lines, "✗ Répertoire RPPS")
    assert "→ téléchargez l'extraction" in line(lines, "✗ Répertoire RPPS")
    assert "injoignable" in line(lines, "✗ Service de commentaires")
    assert "connexion refusée" in line(lines, "✗ Service de commentaires")
    assert "site.toml : pagination" in line(lines, "✗ Blog dr-a")
    assert lines[-1] == "6 problèmes à corriger.", lines[-1]


def test_warnings_do_not_fail(server, tmp_path):
    network, env = server
    from comments_service import create_app

    own = str(tmp_path / "courte.sqlite3")  # a database of that short key (the service's records its own)
    create_app({"TESTING": True, "SECRET_KEY": "court", "NETWORK": env["CONFRERES_NETWORK"], "DB": own})
    short = {**env, "CONFRERES_SECRET_KEY": "court", "CONFRERES_RATE_LIMIT_STORAGE": "memory://", "CONFRERES_DB": own}
    code, lines = check(short)
    assert code == 0, lines
    assert "ne fait que 5 caractères" in line(lines, "! Clé secrète")
    assert "N fois plus large" in line(lines, "! Limites de débit")
    assert lines[-1] == "2 avertissements.", lines


def test_the_demo_secret_and_bad_settings_are_refused(server):
    network, env = server
    code, lines = check({**env, "CONFRERES_SECRET_KEY": "dev-insecure-secret-change-me"})
    assert code == 1 and "clé de démonstration" in line(lines, "✗ Clé secrète")
    code, lines = check({**env, "CONFRERES_SMTP_PORT": "vingt-cinq"})
    assert code == 1 and "CONFRERES_SMTP_PORT='vingt-cinq'" in line(lines, "✗ Réglages du service")


def test_an_unwritable_database_folder(server, tmp_path):
    network, env = server
    blocked = tmp_path / "bloque"
    blocked.write_text("un fichier, pas un dossier")
    code, lines = check({**env, "CONFRERES_DB": str(blocked / "comments.sqlite3")})
    assert code == 1
    assert "impossible d'écrire dans" in line(lines, "✗ Base de commentaires")
    assert "impossible d'écrire dans" in line(lines, "✗ Limites de débit")  # its file is beside the database


def test_a_broken_network_file(tmp_path):
    bad = tmp_path / "network.toml"
    bad.write_text("[network\n", encoding="utf-8")
    code, lines = check({"CONFRERES_NETWORK": str(bad)})
    assert code == 1 and lines[0].startswith("✗ network.toml : ")


def test_a_blog_whose_posts_the_service_does_not_know(server, make_network):
    """A blog added (or a database restored) but never announced: comments on it are refused until a build."""
    network, env = server
    make_network(slugs=("dr-a", "dr-b"), posts=1, comments_url=network.comments_url)
    time.sleep(2.2)  # the service looks at network.toml again every 2 s (core/config.py NetworkFile)
    code, lines = check(env)
    assert code == 0, lines
    assert "le service ne connaît aucun de ses billets" in line(lines, "! Blog dr-b")
    assert "→ lancez `confreres build`" in line(lines, "! Blog dr-b")
    assert "(2 blogs)" in line(lines, "✓ Service de commentaires")


def test_a_database_set_up_with_another_key_or_mailing_by_smtp_is_named(server, tmp_path):
    """The database records its key's fingerprint and that it mails by SMTP (comments_service/core/identity.py): an
    environment with another key, or with CONFRERES_MAIL_DIR, is one the service and every command refuse."""
    network, env = server
    code, lines = check({**env, "CONFRERES_SECRET_KEY": "une-autre-cle-" + "y" * 40})
    assert code == 1
    assert "a été créée avec une autre clé secrète" in line(lines, "✗ Réglages enregistrés")
    assert "→ chargez l'environnement du service (set -a; . /etc/confreres/env; set +a)" in line(
        lines, "✗ Réglages enregistrés")
    from comments_service import create_app

    create_app({"TESTING": True, "SECRET_KEY": SECRET, "NETWORK": env["CONFRERES_NETWORK"], "DB": env["CONFRERES_DB"],
                "SMTP_HOST": "127.0.0.1", "SMTP_PORT": int(env["CONFRERES_SMTP_PORT"])})  # the service, on SMTP
    code, lines = check({**env, "CONFRERES_MAIL_DIR": str(tmp_path / "mail")})
    assert code == 1 and "envoie ses mails par SMTP" in line(lines, "✗ Réglages enregistrés")
    code, lines = check(env)
    assert code == 0 and not [text for text in lines if "Réglages enregistrés" in text], lines
