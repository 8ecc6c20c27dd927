"""The CLI: every command has --help and is documented in the README; new-site keeps network.toml's layout."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from confreres import registry
from confreres.cli import cli

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def all_commands(group: click.Group, prefix=()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # `confreres service` loads its commands when listed
        command = group.get_command(ctx, name)
        path = (*prefix, name)
        if isinstance(command, click.Group):
            yield from all_commands(command, path)
        else:
            yield path


def test_every_command_has_help_and_is_in_the_readme():
    runner = CliRunner()
    commands = list(all_commands(cli))
    assert ("build",) in commands and ("publish", "init") in commands and ("service", "init-db") in commands
    for path in commands:
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output
        assert f"confreres {' '.join(path)}" in README, f"README does not document `confreres {' '.join(path)}`"


def test_new_site_registers_the_blog_and_keeps_comments(make_network):
    network = make_network(slugs=("dr-a",), posts=1)
    before = network.source.read_text(encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["--network", str(network.source), "new-site", "dr-nouveau", "--author", "Dr Jeanne Nouveau",
         "--specialty", "Pédiatrie"],
    )
    assert result.exit_code == 0, result.output
    after = network.source.read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n")), "the existing file (comments included) is kept as it was"
    assert "# test network" in after
    updated = registry.load(network.source)
    site = updated.site("dr-nouveau")
    assert site.title == "Le blog du Dr Jeanne Nouveau"
    assert site.url == "http://127.0.0.1:8000/dr-nouveau/"
    assert (site.path / "site.toml").is_file() and not (site.path / "pelicanconf.py").exists()
    assert registry.load_site_settings(site.path).pagination == 10
    assert (site.path / "content" / "pages" / "a-propos.md").is_file()


def test_new_site_refuses_a_bad_or_taken_slug_and_changes_nothing(make_network):
    network = make_network(slugs=("dr-a",), posts=1)
    before = network.source.read_text(encoding="utf-8")
    runner = CliRunner()
    bad = runner.invoke(cli, ["--network", str(network.source), "new-site", "Dr A!", "--author", "Dr A"])
    assert bad.exit_code != 0 and "« Dr A! » ne peut pas être l'identifiant d'un blog" in bad.output, bad.output
    taken = runner.invoke(cli, ["--network", str(network.source), "new-site", "dr-a", "--author", "Dr A"])
    assert taken.exit_code != 0 and "« dr-a » est déjà un blog du réseau" in taken.output, taken.output
    reserved = runner.invoke(cli, ["--network", str(network.source), "new-site", "comments", "--author", "Dr A"])
    assert reserved.exit_code != 0 and "« comments » est une adresse du réseau" in reserved.output, reserved.output
    (network.root / "sites" / "dr-b").mkdir()
    leftover = runner.invoke(cli, ["--network", str(network.source), "new-site", "dr-b", "--author", "Dr B"])
    assert leftover.exit_code != 0 and "existe déjà" in leftover.output, leftover.output
    assert network.source.read_text(encoding="utf-8") == before
    assert not (network.root / "sites" / "Dr A!").exists()


def test_new_site_run_against_a_moved_demo_writes_the_files_own_origin(make_network, monkeypatch):
    """README: a command run against a demo on another port sets CONFRERES_DEMO_ORIGIN; the new blog's URL in
    network.toml is still on the file's origin (the demo on 8000 would link to a port nothing listens on)."""
    network = make_network(slugs=("dr-a",), posts=1)
    monkeypatch.setenv("CONFRERES_DEMO_ORIGIN", "http://127.0.0.1:8010")
    result = CliRunner().invoke(cli, ["--network", str(network.source), "new-site", "dr-martin", "--author",
                                      "Dr Jeanne Martin", "--title", "Le carnet d'une pédiatre"])
    assert result.exit_code == 0, result.output
    assert 'url = "http://127.0.0.1:8000/dr-martin/"' in network.source.read_text(encoding="utf-8")
    assert registry.load(network.source).site("dr-martin").url == "http://127.0.0.1:8010/dr-martin/"  # moved
    monkeypatch.delenv("CONFRERES_DEMO_ORIGIN")
    site = registry.load(network.source).site("dr-martin")
    assert site.url == "http://127.0.0.1:8000/dr-martin/"
    welcome = (site.path / "content" / "dr-martin-bienvenue.md").read_text(encoding="utf-8")
    assert "Summary: Premier billet du blog « Le carnet d'une pédiatre »." in welcome


def test_build_command_reports_failure_with_exit_status(make_network):
    network = make_network(slugs=("dr-a",), posts=1)
    (network.sites[0].path / "content" / "casse.md").write_text("Title: X\nDate: jamais\n\nx\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--network", str(network.source), "build", "--quiet"])
    assert result.exit_code == 1
    assert "casse.md" in result.output


def test_bad_network_file_is_a_clear_error(tmp_path):
    path = tmp_path / "network.toml"
    path.write_text("[network]\nname = 'x'\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--network", str(path), "build"])
    assert result.exit_code != 0
    assert "network.url: missing" in result.output


def test_help_does_not_load_the_comment_service():
    code = "import sys; from confreres.cli import main; sys.argv = ['confreres', '--help']\ntry:\n    main()\n" \
           "except SystemExit:\n    pass\nprint('comments_service' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "False"


def test_service_commands_run_in_the_one_cli(app, confreres_for, urls, tmp_path):
    run = confreres_for(app)
    init = run("service", "init-db")
    assert init.exit_code == 0 and f"{app.config['DB']} : schéma à jour" in init.output
    purge = run("service", "purge-ips")
    assert purge.exit_code == 0 and "0 empreinte(s) d'IP de plus de 30 jours effacée(s)" in purge.output
    posts_json = tmp_path / "posts.json"
    posts_json.write_text(json.dumps({"posts": [{"url": urls.POST_B, "title": "Par la ligne de commande"}]}))
    synced = run("service", "sync-posts", "dr-b", str(posts_json))
    assert synced.exit_code == 0, synced.output
    assert json.loads(synced.output)["updated"] == 1
    assert run("service", "sync-posts", "dr-z", str(posts_json)).exit_code != 0
    assert "site-token" not in run("service", "--help").output  # one site-token: the confreres one


def test_build_speaks_french_to_the_doctor(make_network, tmp_path):
    """`confreres build` as run in a terminal: counts in French (1 billet, 2 billets), no English line."""
    import subprocess
    import sys

    from tests.confreres.conftest import write_post

    network = make_network(slugs=("dr-a", "dr-b"), posts=1)
    write_post(network.site("dr-b").path, "second", "Second billet")
    (network.site("dr-b").path / "content" / "casse.md").write_text("Title: X\nDate: jamais\n\nx\n", encoding="utf-8")
    command = Path(sys.executable).with_name("confreres")
    done = subprocess.run([str(command), "--network", str(network.source), "build"], capture_output=True,
                          text=True, cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    lines = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == 1, lines
    assert any(line.startswith("✓ dr-a (1 billet, ") for line in lines), lines
    assert f"1/2 blogs construits dans {network.output}" in lines, lines
    english = ("built", " not ", "unavailable", "skipped", "answer", "folder", "build ━")
    assert not [line for line in lines if any(word in line for word in english)], lines
    write_post(network.site("dr-a").path, "deux", "Deux")
    (network.site("dr-b").path / "content" / "casse.md").unlink()
    again = subprocess.run([str(command), "--network", str(network.source), "build", "--quiet"], capture_output=True,
                           text=True, cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert "✓ dr-a (2 billets, " in again.stdout and "✓ dr-b (2 billets, " in again.stdout, again.stdout + again.stderr


def test_build_prints_durations_the_french_way(make_network):
    """« ✓ dr-a (1 billet, 0,4 s) », with a decimal comma, as a push prints « publié en 0,4 s »."""
    network = make_network(slugs=("dr-a",), posts=1)
    result = CliRunner().invoke(cli, ["--network", str(network.source), "build", "--quiet", "--no-announce"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^✓ dr-a \(1 billet, \d+,\d\u202fs\)$", result.output, re.M), result.output
    assert not re.search(r"\d\.\d s", result.output), result.output


def test_the_confreres_command_says_its_errors_in_french(make_network):
    """What a doctor types runs `main`: a refused command reads « Erreur : … », never click's English « Error: »;
    a mistyped option keeps click's usage, and a success still exits 0."""
    network = make_network(slugs=("dr-a",), posts=1)

    def run(*args):
        return subprocess.run([sys.executable, "-m", "confreres.cli", "--network", str(network.source), *args],
                              capture_output=True, text=True, timeout=60)

    taken = run("new-site", "dr-a", "--author", "Dr A")
    assert taken.returncode == 1, taken
    assert taken.stderr.startswith("Erreur : « dr-a » est déjà un blog du réseau"), taken.stderr
    assert "Error" not in taken.stderr
    mistyped = run("new-site", "dr-b", "--auteur", "Dr B")
    assert mistyped.returncode == 2 and "Usage:" in mistyped.stderr, mistyped
    assert run("--help").returncode == 0
    created = run("new-site", "dr-b", "--author", "Dr B")
    assert created.returncode == 0 and "Site créé" in created.stdout, created


def test_new_site_goes_after_the_last_blog_not_under_the_comments_that_follow_it(make_network):
    """network.toml ends with the commented [[feeds]] example (as the shipped one does): the new blog is written
    after the last blog, a blank line before it, and the example stays last, untouched."""
    network = make_network(slugs=("dr-a",), posts=1)
    feeds = '\n# Outside doctor blogs the planet follows.\n# [[feeds]]\n# url = "https://exemple.fr/feeds/all.atom.xml"\n'
    network.source.write_text(network.source.read_text(encoding="utf-8") + feeds, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--network", str(network.source), "new-site", "dr-b", "--author", "Dr B"])
    assert result.exit_code == 0, result.output
    after = network.source.read_text(encoding="utf-8")
    assert after.endswith(feeds), after
    assert 'url = "http://127.0.0.1:8000/dr-a/"\n\n[[sites]]\nslug = "dr-b"\n' in after, after
    assert [site.slug for site in registry.load(network.source).sites] == ["dr-a", "dr-b"]


@pytest.mark.parametrize("command", [["notify", "send"], ["service", "purge-ips"]])
def test_a_bad_setting_is_named_in_one_line_not_a_traceback(make_network, monkeypatch, command):
    """A typo in /etc/confreres/env (CONFRERES_SMTP_PORT=58 7) stops a timer's command with the setting named and
    exit status 1, as gunicorn says it at start, not with a Python traceback to read in the journal."""
    network = make_network(slugs=("dr-a",), posts=1)
    monkeypatch.setenv("CONFRERES_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("CONFRERES_SMTP_PORT", "58 7")
    result = CliRunner().invoke(cli, ["--network", str(network.source), *command])
    assert result.exit_code == 1, result.output
    assert "CONFRERES_SMTP_PORT='58 7': expected a whole number" in result.output, result.output
    assert not isinstance(result.exception, RuntimeError) and "Traceback" not in result.output, result.exception


def test_a_command_run_without_the_environment_file_stops_before_mailing(make_network, tmp_path):
    """An operator's `confreres notify send` without /etc/confreres/env made a secret key of its own in var/ and wrote
    the waiting mails to var/mail/, counted as sent, their links signed with a key the service refuses. It now stops
    with one « Erreur : … » line naming the cure, the mail waits for the service's own transport; a change of key on
    purpose is `confreres service accept-settings`, after which the service's old key is the one refused."""

    from comments_service import create_app
    from comments_service.core.config import ConfigError
    from comments_service.core.db import connect
    from tests.smtp import free_port

    network = make_network(slugs=("dr-a",), posts=1)
    service = {"SECRET_KEY": "the-service-key-" + "k" * 32, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": free_port(),
               "MAIL_SEND": "cron", "RATE_LIMIT": "off", "NETWORK": str(network.source)}
    app = create_app(service)  # the service, started with the environment file
    assert app.test_client().post("/api/auth/request", json={"email": "dr.a@example.fr"}).status_code == 202
    bare = {key: value for key, value in os.environ.items() if not key.startswith("CONFRERES_")}

    def by_hand(*args, answer=None):
        return subprocess.run([sys.executable, "-m", "confreres.cli", "--network", str(network.source), *args],
                              capture_output=True, text=True, timeout=60, env=bare, input=answer)

    sent = by_hand("notify", "send")
    assert sent.returncode == 1, sent
    assert sent.stderr.startswith("Erreur : ") and sent.stderr.count("\n") == 1, sent.stderr
    assert "another secret key" in sent.stderr and "set -a; . /etc/confreres/env; set +a" in sent.stderr, sent.stderr
    assert "CONFRERES_SECRET_KEY is not set" in sent.stderr and "Traceback" not in sent.stderr
    assert not (network.root / "var" / "mail").exists()
    assert not (network.root / "var" / "secret_key").exists(), "the key it made, refused, is not left for later commands"
    db = connect(app.config["DB"])
    try:
        assert db.execute("SELECT COUNT(*) FROM outbox WHERE sent IS NULL").fetchone()[0] == 1
    finally:
        db.close()

    declined = by_hand("service", "accept-settings", answer="n\n")
    assert declined.returncode == 1 and "rien n'a été changé" in declined.stderr, declined
    assert by_hand("admin", "list").returncode == 1
    accepted = by_hand("service", "accept-settings", "--yes")
    assert accepted.returncode == 0 and "enregistrés" in accepted.stdout, accepted
    assert by_hand("admin", "list").returncode == 0
    with pytest.raises(ConfigError, match="another secret key"):
        create_app(service)


def test_a_key_made_by_a_refused_command_is_not_left_behind(make_network, monkeypatch):
    """A command run without /etc/confreres/env made var/secret_key, was refused by the database (which records another
    key), and left the file: `confreres build` then announced posts signed with it. The file made by the refused
    command is removed; a key file that was there before is kept, and so is one the database adopts."""
    from comments_service import create_app
    from comments_service.core import identity
    from comments_service.core.db import connect

    network = make_network(slugs=("dr-a",), posts=1)
    for name in [n for n in os.environ if n.startswith("CONFRERES_")]:
        monkeypatch.delenv(name)
    key_file = network.root / "var" / "secret_key"
    create_app({"SECRET_KEY": "the-service-key-" + "k" * 32, "NETWORK": str(network.source)})  # the service's key

    refused = CliRunner().invoke(cli, ["--network", str(network.source), "verify", "list"])
    assert refused.exit_code == 1 and "another secret key" in refused.output, refused.output
    assert not key_file.exists(), "the key this command made and the database refused is gone"

    key_file.write_text("an-old-key-of-the-operators", encoding="utf-8")  # not this command's: left alone
    assert CliRunner().invoke(cli, ["--network", str(network.source), "verify", "list"]).exit_code == 1
    assert key_file.read_text(encoding="utf-8") == "an-old-key-of-the-operators"

    key_file.unlink()
    fresh = network.root / "fresh.sqlite3"  # a new database adopts the key the command makes: kept
    monkeypatch.setenv("CONFRERES_DB", str(fresh))
    assert CliRunner().invoke(cli, ["--network", str(network.source), "verify", "list"]).exit_code == 0
    db = connect(str(fresh))
    try:
        assert identity.recorded(db)["secret_key"] == identity.fingerprint(key_file.read_text(encoding="utf-8"))
    finally:
        db.close()
