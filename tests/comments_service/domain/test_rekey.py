"""A deliberate change of the secret key (`confreres service rotate-key`, domain/rekey.py) keeps what the database keyed.

The members' RPPS hashes and the blocks' e-mail keys were HMACs under the old key: after a key change none matched,
the next directory import found no member (and refused to revoke them all), and every block by e-mail blocked nobody.
The rotation re-keys them in one transaction with the new key's fingerprint, ends the sessions, erases the IP hashes,
and refuses (changing nothing) without the old key, with a wrong one, or on any failure. Real SQLite files, real apps,
the real CLI and directory import.
"""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from comments_service.actions.verification import recheck_directory
from comments_service.core import identity
from comments_service.core.config import ConfigError
from comments_service.core.db import connect
from comments_service.domain import blocks, rekey
from comments_service.domain import verification as verify
from confreres.cli import cli
from tests.comments_service.verification_kit import (
    CANDIDATE,
    CLAIRE,
    HELENE,
    KARIM,
    PEOPLE,
    Kit,
    import_people,
    write_extract,
)
from tests.conftest import POST_A, POST_A2, SECRET

NEW = "the-new-key-after-the-leak-" + "n" * 40
TROLL = "troll.pharma@exemple.fr"


@pytest.fixture
def app(make_app):
    return make_app(MODERATION="all")


@pytest.fixture
def kit(app, client, tmp_path):
    import_people(app, tmp_path)
    return Kit(app, client)


@pytest.fixture
def network(kit, app, network_file, tmp_path):
    """Verified, declared, contested and revoked members, a block by e-mail and one by address alone, sessions."""
    members = {
        "claire": kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire Lefebvre"),
        "karim": kit.verified(KARIM, "Benali", "Karim", "Dr Karim Benali"),
        "helene": kit.verified(HELENE, "Rousseau", "Hélène", "Dr Hélène Rousseau"),
        "candidate": kit.member(display_name="Stéthoscope bleu"),
        "curious": kit.member(email="curieux@exemple.test", display_name="Autre pseudo"),
        "anne": kit.member("anne@dr-a.test", display_name="Dr Anne A", role="author", sites=("dr-a",)),
    }
    for name in ("candidate", "curious"):  # the second declaration of the same number is contested
        assert kit.declare(members[name], CANDIDATE, "Quintard-Valmore", "Eleonore").status_code == 200
    db = kit.db()
    try:
        with app.app_context():
            verify.revoke(app, db, members["helene"].id, "radiée (test)", actor="test")
    finally:
        db.close()
    by_email = guest(kit, "Achetez nos pilules", POST_A, email=TROLL)
    by_address = guest(kit, "Sans e-mail", POST_A, email="", ip="198.51.100.99")
    for comment_id, body in ((by_email, {}), (by_address, {"address": True})):
        done = kit.client.post(f"/api/moderation/{comment_id}", json={"action": "block", **body},
                               headers=members["anne"].headers)
        assert done.status_code == 200, done.get_json()
    return members


def guest(kit, text, url, *, email, ip="198.51.100.7", client=None) -> int:
    response = (client or kit.client).post("/api/comments", json={"url": url, "text": text, "author": "Pharma Promo",
                                                                  "email": email}, environ_base={"REMOTE_ADDR": ip})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["comment"]["id"]


def confreres(app, network_file, *args, env=None, answer=None):
    settings = {"CONFRERES_DB": app.config["DB"], "CONFRERES_DIRECTORY_DB": app.config["DIRECTORY_DB"],
                "CONFRERES_SECRET_KEY": NEW, "CONFRERES_OLD_SECRET_KEY": SECRET, "CONFRERES_RATE_LIMIT": "off",
                "CONFRERES_SMTP_HOST": None, "CONFRERES_MAIL_DIR": None, **(env or {})}
    return CliRunner().invoke(cli, ["--network", str(network_file), *args], env=settings, input=answer)


def dump(app) -> list[str]:
    conn = sqlite3.connect(app.config["DB"])
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def rows(app, sql, params=()):
    db = connect(app.config["DB"])
    try:
        return db.conn.execute(sql, params).fetchall()
    finally:
        db.close()


def test_after_a_rotation_members_stay_verified_through_a_reimport_and_blocks_still_block(
        app, kit, network, network_file, make_app, tmp_path):
    members = network
    rotated = confreres(app, network_file, "service", "rotate-key", "--yes")
    assert rotated.exit_code == 0, rotated.output
    assert "5 empreinte(s) RPPS et 1 blocage(s) par e-mail refaits" in rotated.output, rotated.output
    assert "1 blocage(s) par adresse réseau" in rotated.output and "1 blocage(s) qui ne désignaient plus personne" \
        in rotated.output
    assert SECRET not in rotated.output and NEW not in rotated.output

    with pytest.raises(ConfigError, match="another secret key"):
        make_app(SECRET_KEY=SECRET)  # the old key is the refused one now
    fresh = make_app(SECRET_KEY=NEW, MODERATION="all")
    client = fresh.test_client()

    # every hash is the new key's, prefixes kept: holder, contested declaration, revocation
    hashes = dict(rows(fresh, "SELECT account_id, rpps_hash FROM verifications"))
    key = verify.rpps_hash(NEW, CANDIDATE)
    assert hashes[members["candidate"].id] == key
    assert hashes[members["curious"].id] == verify.contested_key(members["curious"].id, key)
    assert hashes[members["claire"].id] == verify.rpps_hash(NEW, CLAIRE)
    assert hashes[members["helene"].id] == f"revoked:{members['helene'].id}:{verify.rpps_hash(NEW, HELENE)}"

    # the same directory imported again (the command an operator runs): nobody revoked
    source = write_extract(tmp_path / "PS_LibreAcces_Personne_activite_202612010000.txt", PEOPLE)
    imported = confreres(fresh, network_file, "directory", "import", str(source))
    assert imported.exit_code == 0, imported.output
    assert "0 révoqué(s)" in imported.output, imported.output
    assert list(recheck_directory(fresh))[0].endswith("4 toujours inscrit(s), 0 révoqué(s).")
    levels = dict(rows(fresh, "SELECT account_id, level FROM verifications"))
    assert [levels[members[m].id] for m in ("claire", "karim", "candidate", "curious", "helene")] == \
        ["verified", "verified", "declared", "declared", "revoked"]
    assert dict(rows(fresh, "SELECT id, badge_level FROM accounts"))[members["claire"].id] == "verified"

    # the blocked author is still blocked on that blog, by the new key of their address (a +tag too)
    (email_key,) = rows(fresh, "SELECT email_hash FROM author_blocks")[0]
    assert email_key == blocks.email_hash(NEW, TROLL)
    again = guest(kit, "Nos pilules, encore", POST_A2, email="Troll.Pharma+2@exemple.fr", ip="203.0.113.9",
                  client=client)
    honest = guest(kit, "Une vraie question", POST_A2, email="lectrice@exemple.fr", ip="192.0.2.1", client=client)
    status = dict(rows(fresh, "SELECT id, status FROM comments"))
    assert (status[again], status[honest]) == ("spam", "pending")

    # sessions ended (a leaked key could open any), IP hashes that could never match again erased
    assert client.get("/api/verification", headers=members["claire"].headers).status_code == 401
    assert rows(fresh, "SELECT COUNT(*) FROM sessions")[0][0] == 0
    assert rows(fresh, "SELECT COUNT(*) FROM comments WHERE ip_hash IS NOT NULL AND id < ?", (again,))[0][0] == 0


def test_the_rotation_refuses_without_what_it_needs_and_changes_nothing(app, kit, network, network_file):
    before = dump(app)

    def refused(result, *words):
        assert result.exit_code == 1, result.output
        assert "rien n'a été changé" in result.output and "Traceback" not in result.output, result.output
        for word in words:
            assert word in result.output, result.output
        assert dump(app) == before

    refused(confreres(app, network_file, "service", "rotate-key", "--yes", env={"CONFRERES_SECRET_KEY": None}),
            "CONFRERES_SECRET_KEY, qui n'est pas définie")
    refused(confreres(app, network_file, "service", "rotate-key", "--yes", env={"CONFRERES_OLD_SECRET_KEY": None},
                      answer="\n"), "l'ancienne clé secrète n'est pas donnée")
    refused(confreres(app, network_file, "service", "rotate-key", "--yes", env={"CONFRERES_OLD_SECRET_KEY": "devine"}),
            "l'ancienne clé donnée n'est pas celle que la base enregistre")
    refused(confreres(app, network_file, "service", "rotate-key", "--yes", env={"CONFRERES_SECRET_KEY": SECRET}),
            "est l'ancienne")
    refused(confreres(app, network_file, "service", "rotate-key", answer="n\n"))
    assert SECRET not in confreres(app, network_file, "service", "rotate-key", "--yes",
                                   env={"CONFRERES_OLD_SECRET_KEY": "devine"}).output

    # typed at the hidden prompt (never an argument, which `ps` shows), it works
    typed = confreres(app, network_file, "service", "rotate-key", env={"CONFRERES_OLD_SECRET_KEY": None},
                      answer=f"y\n{SECRET}\n")
    assert typed.exit_code == 0, typed.output
    assert SECRET not in typed.output
    db = connect(app.config["DB"])
    try:
        assert identity.recorded(db)["secret_key"] == identity.fingerprint(NEW)
    finally:
        db.close()
    refused_again = confreres(app, network_file, "service", "rotate-key", "--yes")
    assert refused_again.exit_code == 1 and "enregistre déjà la clé" in refused_again.output


def test_a_failure_midway_rolls_the_whole_rotation_back(app, kit, network):
    """One transaction: the RPPS hashes and blocks re-keyed before a later step fails are not kept, nor the key."""
    db = connect(app.config["DB"])
    try:
        db.conn.execute("CREATE TRIGGER fail BEFORE DELETE ON sessions BEGIN SELECT RAISE(ABORT, 'disque plein'); END")
        before = dump(app)
        with pytest.raises(sqlite3.DatabaseError, match="disque plein"):
            rekey.rotate(db, {**app.config, "SECRET_KEY": NEW}, SECRET)
    finally:
        db.close()
    assert dump(app) == before
    assert rows(app, "SELECT COUNT(*) FROM verifications WHERE rpps_hash = ?", (verify.rpps_hash(SECRET, CLAIRE),)
                )[0][0] == 1


def test_accept_settings_remakes_the_rpps_hashes_under_the_key_it_records(app, kit, network, network_file, make_app):
    """The old key lost: `accept-settings` records the new one and makes the members' hashes again from the numbers
    kept (no old key needed), in the same transaction: the next import finds them."""
    accepted = confreres(app, network_file, "service", "accept-settings", "--yes",
                         env={"CONFRERES_OLD_SECRET_KEY": None})
    assert accepted.exit_code == 0, accepted.output
    assert "5 empreinte(s) RPPS refaite(s)" in accepted.output and "rotate-key" in accepted.output
    fresh = make_app(SECRET_KEY=NEW, MODERATION="all")
    assert list(recheck_directory(fresh))[0].endswith("4 toujours inscrit(s), 0 révoqué(s).")
    again = confreres(app, network_file, "service", "accept-settings", "--yes")
    assert again.exit_code == 0 and "0 empreinte(s) RPPS refaite(s)" in again.output, again.output
