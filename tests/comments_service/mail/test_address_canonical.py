"""One inbox, one person: every stored address is in its canonical form (core/addresses.normalise_email), so that
`Jean.Dupont@Exemple.fr` and `jean.dupont@exemple.fr`, `Élodie@…` and `élodie@…` (SQLite's NOCASE folds ASCII only),
an accent typed decomposed, an IDN domain in Unicode or in punycode, sign into one account, and its export, its
deletion, « ne plus rien recevoir » and its unsubscribe links reach everything that address wrote. Two different
inboxes are never merged. Through a real SMTP server and a real database file."""

from __future__ import annotations

import json
import unicodedata

import pytest

from comments_service.core.addresses import normalise_email
from tests.comments_service.mail.test_address_variants import migrated_again
from tests.conftest import Actions

NFD = unicodedata.normalize("NFD", "élodie@exemple.fr")


@pytest.fixture
def app(make_app, smtp):
    return make_app(**smtp.config)


def test_the_canonical_form():
    assert normalise_email(" Jean.Dupont@Exemple.FR ") == "jean.dupont@exemple.fr"
    assert normalise_email("Élodie@exemple.fr") == normalise_email(NFD) == "élodie@exemple.fr"
    assert normalise_email("Jean@Médecin.fr") == normalise_email("jean@XN--MDECIN-BVA.fr") == "jean@xn--mdecin-bva.fr"
    distinct = ["jean.dupont@exemple.fr", "jeandupont@exemple.fr", "jean+x@exemple.fr", "strasse@exemple.fr",
                "straße@exemple.fr", "jean@straße.de", "jean@strasse.de"]
    assert len({normalise_email(email) for email in distinct}) == len(distinct), "two inboxes are never one"


def member(actions, email: str, post: str) -> tuple[Actions, dict]:
    her = Actions(actions.app, actions.app.test_client(), actions.mailbox)
    since = len(actions.mailbox.mails)
    assert her.request_link(email, **{"return": post}).status_code == 202
    (mail,) = [m for m in actions.mailbox.settle(0.3)[since:] if "connexion" in m.subject]
    signed = her.submit(her.open(mail.link("/auth/verify")), "/auth/verify")
    return her, her.bearer(her.session_token(signed))


def test_a_guest_and_the_member_of_one_inbox_are_one_person(actions, urls, smtp):
    """Comments written as a guest under variants of her address are hers: the export lists them with her reply
    subscriptions, the deletion erases them, and nothing of her stays."""
    actions.comment("Écrit en invitée", url=urls.POST_B, author="Élodie", email="Élodie@Exemple.fr", notify=True)
    actions.comment("Accent décomposé", url=urls.POST_B, author="Élodie", email=NFD)
    actions.comment("Domaine en Unicode", url=urls.POST_A, author="Jean", email="Jean.Dupont@Médecin.fr")
    actions.comment("Un autre lecteur", url=urls.POST_B, author="Elodie", email="elodie@exemple.fr")
    confirm = smtp.mailbox.expect(to="élodie@exemple.fr", subject="Confirmez")
    assert actions.submit(actions.open(confirm.link("/notify/confirm")), "/notify/confirm").status_code == 200

    her, headers = member(actions, "élodie@EXEMPLE.fr", urls.POST_B)
    data = her.client.get("/api/account/export", headers=headers).get_json()
    assert data["account"]["email"] == "élodie@exemple.fr"
    assert sorted(c["text"] for c in data["comments"]) == ["Accent décomposé", "Écrit en invitée"]
    assert [s["post_url"] for s in data["subscriptions"]] == [urls.POST_B]
    assert data["mail_address"]["confirmed"], "her confirmation, given at « Élodie@… », is hers"
    assert {m["kind"] for m in data["mails"]} >= {"confirm", "signin"}
    assert "Un autre lecteur" not in json.dumps(data, ensure_ascii=False), "elodie@ without accent is someone else"

    jean, jean_headers = member(actions, "jean.dupont@xn--mdecin-bva.fr", urls.POST_A)
    assert [c["text"] for c in jean.client.get("/api/account/export", headers=jean_headers).get_json()["comments"]] == [
        "Domaine en Unicode"]
    assert len(actions.sql("SELECT id FROM accounts")) == 2

    assert her.client.delete("/api/account", json={"comments": "erase"}, headers=headers).status_code == 200
    left = [tuple(row) for table in ("comments", "subscriptions", "mail_addresses", "outbox", "accounts")
            for row in actions.sql(f"SELECT * FROM {table}")]
    assert not [row for row in left if "élodie" in str(row).lower() or "élodie" in unicodedata.normalize(
        "NFC", str(row)).lower()], left
    assert sorted(c["text"] for c in actions.sql("SELECT text FROM comments")) == ["Domaine en Unicode", "Un autre lecteur"]


def test_an_apostrophe_belongs_to_the_address(actions, urls, smtp):
    """« jean.d'arc@… » (RFC 5322's dot-atom allows it) was refused by the forms, and a relay's refusal naming it
    would have been logged « jean.d'<adresse> »: her comment, her confirmation mail and her sign-in go through."""
    email = "Jean.D'Arc@Exemple.fr"
    assert actions.comment("Écrit avec une apostrophe", url=urls.POST_B, author="Jeanne", email=email,
                           notify=True)["status"] == "approved"
    smtp.mailbox.expect(to="jean.d'arc@exemple.fr", subject="Confirmez")
    her, headers = member(actions, email, urls.POST_B)
    data = her.client.get("/api/account/export", headers=headers).get_json()
    assert [c["text"] for c in data["comments"]] == ["Écrit avec une apostrophe"]
    from comments_service.mail.transport import without_addresses
    assert without_addresses("550 5.1.1 <jean.d'arc@exemple.fr>: refusée") == "550 5.1.1 <<adresse>>: refusée"


def test_never_write_to_me_again_reaches_the_accented_capital(actions, urls, smtp):
    actions.comment("Prévenez-moi", url=urls.POST_B, author="Élodie", email="élodie@exemple.fr", notify=True)
    confirm = smtp.mailbox.expect(to="élodie@exemple.fr", subject="Confirmez")
    never = confirm.header("List-Unsubscribe").strip("<>")
    assert actions.app.test_client().post(actions.local(never), data={"List-Unsubscribe": "One-Click"}).status_code == 200
    since = len(smtp.mailbox.mails)
    actions.comment("Encore", url=urls.POST_A, author="É", email="ÉLODIE@EXEMPLE.FR", notify=True)
    actions.comment("Et encore", url=urls.POST_A, author="É", email=NFD, notify=True)
    assert smtp.mailbox.settle(0.5)[since:] == [] and not actions.sql("SELECT 1 FROM subscriptions")


def test_addresses_stored_before_the_migration_take_their_canonical_form(app, actions, urls):
    """Rows written as typed: each takes its canonical form; rows of one inbox become one (the earliest consent and a
    block kept, one subscription per thread, the letter's confirmed subscription); two accounts are never merged."""
    accounts = migrated_again(app, "m031_canonical_addresses", [
        ("INSERT OR IGNORE INTO posts (url, site, title, synced) VALUES (?, 'dr-b', 'B', 'x')", (urls.POST_B,)),
        ("INSERT INTO accounts (email, created) VALUES (?, 'x')",
         [("élodie@exemple.fr",), ("Élodie@Exemple.fr",), ("Jean.Dupont@Exemple.FR",)]),
        ("INSERT INTO comments (post_url, site, email, created) VALUES (?, 'dr-b', ?, 'x')",
         [(urls.POST_B, "Élodie@Exemple.fr"), (urls.POST_B, NFD)]),
        ("INSERT INTO subscriptions (email, post_url, created) VALUES (?, ?, 'x')",
         [("élodie@exemple.fr", urls.POST_B), ("Élodie@exemple.fr", urls.POST_B)]),
        ("INSERT INTO mail_addresses (email, address_key, created, confirmed, blocked) VALUES (?, ?, ?, ?, ?)",
         [("élodie@exemple.fr", "élodie@exemple.fr", "2026-02", None, None),
          ("Élodie@exemple.fr", "élodie@exemple.fr", "2026-01", "2026-01", "2026-03")]),
        ("INSERT INTO letter_subscribers (email, frequency, nonce, created, confirmed) VALUES (?, 'weekly', 'n', ?, ?)",
         [("élodie@exemple.fr", "2026-01", None), ("ÉLODIE@exemple.fr", "2026-02", "2026-02")]),
        ("INSERT INTO outbox (kind, recipient, recipient_key, subject, message, created) VALUES"
         " ('signin', 'Élodie+x@Exemple.fr', 'Élodie@exemple.fr', 's', 'm', 'x')",),
    ], "SELECT email FROM accounts ORDER BY id")
    assert accounts == ["élodie@exemple.fr", "Élodie@Exemple.fr", "jean.dupont@exemple.fr"], (
        "the second account of one inbox keeps its address: accounts are not merged"
    )
    assert [r[0] for r in actions.sql("SELECT email FROM comments")] == ["élodie@exemple.fr"] * 2
    assert [tuple(r) for r in actions.sql("SELECT email, post_url FROM subscriptions")] == [
        ("élodie@exemple.fr", urls.POST_B)]
    assert [tuple(r) for r in actions.sql("SELECT email, address_key, created, confirmed, blocked FROM mail_addresses")
            ] == [("élodie@exemple.fr", "élodie@exemple.fr", "2026-01", "2026-01", "2026-03")]
    assert [tuple(r) for r in actions.sql("SELECT email, confirmed FROM letter_subscribers")] == [
        ("élodie@exemple.fr", "2026-02")]
    assert [tuple(r) for r in actions.sql("SELECT recipient, recipient_key FROM outbox")] == [
        ("élodie+x@exemple.fr", "élodie@exemple.fr")]


def test_rows_that_differ_from_their_canonical_form_by_ascii_case_alone_are_kept(app, actions, urls):
    """The columns are COLLATE NOCASE: `Marie@Exemple.fr` and `marie@exemple.fr` are equal there, and the migration
    took such a row for its own duplicate. It deleted it: « ne plus rien recevoir » asked at `Marie@Exemple.fr`
    before the upgrade was forgotten (she was mailed again), a confirmed address had to confirm again, and reply
    subscriptions kept the address as typed."""
    from comments_service.core.db import connect
    from comments_service.mail.outbox import is_blocked

    addresses = migrated_again(app, "m031_canonical_addresses", [
        ("INSERT OR IGNORE INTO posts (url, site, title, synced) VALUES (?, 'dr-b', 'B', 'x')", (urls.POST_B,)),
        ("INSERT INTO mail_addresses (email, address_key, created, confirmed, blocked) VALUES (?, ?, ?, ?, ?)",
         [("Marie@Exemple.fr", "marie@exemple.fr", "2026-01", None, "2026-02"),
          ("Paul+blog@Exemple.FR", "paul@exemple.fr", "2026-01", "2026-01", None),
          ("Zoé@Exemple.fr", "zoé@exemple.fr", "2026-01", None, None),
          ("ZOÉ@exemple.fr", "zoé@exemple.fr", "2026-03", "2026-03", None)]),
        ("INSERT INTO subscriptions (email, post_url, created) VALUES (?, ?, 'x')",
         [("Paul+blog@Exemple.FR", urls.POST_B), ("Zoé@Exemple.fr", urls.POST_B), ("ZOÉ@exemple.fr", urls.POST_B)]),
    ], "SELECT email, confirmed, blocked FROM mail_addresses ORDER BY email")
    assert [tuple(r) for r in actions.sql("SELECT email, address_key, created, confirmed, blocked FROM mail_addresses"
                                          " ORDER BY email")] == [
        ("marie@exemple.fr", "marie@exemple.fr", "2026-01", None, "2026-02"),
        ("paul+blog@exemple.fr", "paul@exemple.fr", "2026-01", "2026-01", None),
        ("zoé@exemple.fr", "zoé@exemple.fr", "2026-01", "2026-03", None),
    ], addresses
    assert sorted(tuple(r) for r in actions.sql("SELECT email, post_url FROM subscriptions")) == [
        ("paul+blog@exemple.fr", urls.POST_B), ("zoé@exemple.fr", urls.POST_B)]
    db = connect(app.config["DB"])
    try:
        assert is_blocked(db, "marie@exemple.fr") and is_blocked(db, "Marie+news@exemple.fr"), "her refusal holds"
    finally:
        db.close()
