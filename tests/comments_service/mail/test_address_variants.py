"""Per-address caps on the mails a stranger can ask for count an inbox, not the address as typed: `victim+1@…`,
`victim+2@…`, `Victim@…` are one inbox (core/addresses.address_key), through a real SMTP server. The mail still goes
to the address typed, and its link signs into that address's own account."""

from __future__ import annotations

import pytest

from comments_service.core.addresses import address_key
from tests.conftest import Actions


@pytest.fixture
def app(make_app, smtp):
    return make_app(**smtp.config, MAGIC_LINKS_PER_HOUR=2)


def test_the_canonical_form_drops_case_spaces_and_the_tag_only():
    assert address_key(" Victim+Promo@Example.ORG ") == "victim@example.org"
    assert address_key("victim+1+2@example.org") == "victim@example.org"
    assert address_key("first.last@example.org") == "first.last@example.org"
    assert address_key("+only@example.org") == "+only@example.org"


def test_sign_in_links_to_tag_variants_share_one_hourly_cap(actions, smtp):
    typed = ["victime+1@exemple.fr", "victime+2@exemple.fr", "Victime@Exemple.fr", "victime+3@exemple.fr"]
    for email in typed:
        assert actions.request_link(email).status_code == 202, "the same answer for every address"
    queued = [row["recipient"] for row in actions.sql("SELECT recipient FROM outbox WHERE kind = 'signin' ORDER BY id")]
    assert queued == typed[:2], "two links an hour to the inbox (MAGIC_LINKS_PER_HOUR=2), whatever the variant"
    first = smtp.mailbox.expect(to="victime+1@exemple.fr", subject="connexion")
    smtp.mailbox.expect(to="victime+2@exemple.fr", subject="connexion")

    assert actions.submit(actions.open(first.link("/auth/verify?token=")), "/auth/verify").status_code == 303
    assert [row["email"] for row in actions.sql("SELECT email FROM accounts")] == ["victime+1@exemple.fr"], (
        "the link signs into the address typed, not its canonical form"
    )
    assert actions.request_link("autre+1@exemple.fr").status_code == 202
    assert actions.sql("SELECT recipient FROM outbox WHERE kind = 'signin' ORDER BY id DESC LIMIT 1")[0]["recipient"] == (
        "autre+1@exemple.fr"
    ), "another inbox has its own cap"


def test_thread_subscription_confirmations_to_tag_variants_share_one_daily_cap(actions, smtp, urls):
    for n in range(1, 4):
        actions.comment(f"Qu'en pensez-vous ({n}) ?", url=urls.POST_B, author="Paul", email=f"paul+{n}@exemple.fr", notify=True)
    confirmations = actions.sql("SELECT recipient FROM outbox WHERE kind = 'confirm'")
    assert [row["recipient"] for row in confirmations] == ["paul+1@exemple.fr"], "one confirmation a day to the inbox"
    smtp.mailbox.expect(to="paul+1@exemple.fr", subject="Confirmez")


def test_letter_confirmations_to_tag_variants_share_one_hourly_cap(app, smtp):
    reader = Actions(app, app.test_client(), smtp.mailbox)
    for n in range(1, 4):
        fields = {"email": f"lea+{n}@exemple.fr", "frequency": "weekly"}
        sent = reader.submit(reader.client.post("/lettre", data=fields), "/lettre", **fields)
        assert sent.status_code == 303 and sent.headers["Location"].endswith("/lettre/envoye"), "the same answer"
    confirmations = reader.sql("SELECT recipient FROM outbox WHERE kind = 'letter-confirm'")
    assert [row["recipient"] for row in confirmations] == ["lea+1@exemple.fr"], "one confirmation an hour to the inbox"
    smtp.mailbox.expect(to="lea+1@exemple.fr", subject="Confirmez votre abonnement")


def migrated_again(app, migration: str, before: list[tuple], read: str) -> list:
    """The database as it was before `migration` (`before`: statements and their parameters, the columns it added
    dropped first, then rows), migrated again; the rows of `read` after."""
    from comments_service.core.db import connect
    from comments_service.core.migrations import migrate

    db = connect(app.config["DB"])
    try:
        with db.conn:
            for statement, *params in before:
                (db.conn.executemany if params and isinstance(params[0], list) else db.conn.execute)(statement, *params)
            db.conn.execute("DELETE FROM _sqlite_migrations WHERE name = ?", (migration,))
        assert migrate(db) == [migration]
        return [row[0] for row in db.conn.execute(read)]
    finally:
        db.close()


def test_mails_queued_before_the_migration_get_their_key_by_the_same_rule(app):
    typed = [" Victime+Promo@Exemple.FR ", "victime+1+2@exemple.fr", "prenom.nom@exemple.fr", "+seul@exemple.fr"]
    keys = migrated_again(app, "m025_outbox_recipient_key", [
        ("DROP INDEX outbox_recipient_key",),
        ("ALTER TABLE outbox DROP COLUMN recipient_key",),
        ("INSERT INTO outbox (kind, recipient, subject, message, created) VALUES ('signin', ?, 's', 'm', ?)",
         [(email, "2026-01-01T00:00:00Z") for email in typed]),
    ], "SELECT recipient_key FROM outbox ORDER BY id")
    assert keys == [address_key(email) for email in typed]


def test_never_write_to_me_again_holds_for_every_variant_of_the_inbox(actions, smtp, urls):
    actions.sql("INSERT INTO mail_addresses (email, created, confirmed) VALUES ('paul+fils@exemple.fr', 'x', 'x')")
    asked = actions.comment("Prévenez-moi", url=urls.POST_B, author="Paul", email="paul+fils@exemple.fr", notify=True)
    actions.comment("Et moi", url=urls.POST_B, author="Paul", email="paul@exemple.fr", notify=True)
    confirm = smtp.mailbox.expect(to="paul@exemple.fr", subject="Confirmez")
    never = confirm.header("List-Unsubscribe").strip("<>")
    assert "tout e-mail" in actions.open(never).get_data(as_text=True), "« Ne plus rien recevoir »"
    one_click = actions.app.test_client().post(actions.local(never), data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200

    actions.reply(asked | {"url": urls.POST_B}, "Une réponse", author="Jeanne", email="jeanne@exemple.fr")
    actions.comment("Encore", url=urls.POST_B, author="Paul", email=" Paul+Autre@Exemple.FR ", notify=True)
    assert [m.recipients for m in smtp.mailbox.settle(0.8)] == [["paul@exemple.fr"]], (
        "no reply to the confirmed `+fils` variant, no confirmation to another variant: one inbox, blocked"
    )
    assert actions.sql("SELECT COUNT(*) FROM outbox WHERE recipient_key = 'paul@exemple.fr'")[0][0] == 1

    member = Actions(actions.app, actions.app.test_client(), smtp.mailbox)  # the owner, by a variant they receive
    headers = member.bearer(member.session_token(member.sign_in("Paul+Compte@exemple.fr", return_to=urls.POST_B)))
    assert member.client.patch("/api/account", json={"notify_replies": True}, headers=headers).status_code == 200
    assert actions.sql("SELECT COUNT(*) FROM mail_addresses WHERE blocked IS NOT NULL")[0][0] == 0, (
        "turning mails back on, signed in at any variant of the inbox, lifts its block"
    )


def test_addresses_blocked_before_the_migration_block_their_variants(app, actions, smtp, urls):
    keys = migrated_again(app, "m028_mail_address_key", [
        ("DROP INDEX mail_addresses_blocked_key",),
        ("ALTER TABLE mail_addresses DROP COLUMN address_key",),
        ("INSERT INTO mail_addresses (email, created, blocked) VALUES (' Éloïse+Vieux@Exemple.FR ', 'x', 'x')",),
    ], "SELECT address_key FROM mail_addresses")
    assert keys == ["éloïse@exemple.fr"], "Python's lower(): accents included"
    actions.comment("Prévenez-moi", url=urls.POST_B, author="Éloïse", email="ÉLOÏSE@exemple.fr", notify=True)
    assert smtp.mailbox.settle(0.5) == [] and actions.sql("SELECT COUNT(*) FROM outbox")[0][0] == 0
