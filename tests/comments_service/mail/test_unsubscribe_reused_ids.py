"""An account's never-expiring unsubscribe link acts on that account only: `accounts.id` is reused once the newest
account is deleted, and the deleted account's old links must not unsubscribe the next one (through a real SMTP
server; the deletion by the account page). Links mailed before they carried a key keep working for the accounts
that existed then (core/migrations.m026_unsubscribe_keys)."""

from __future__ import annotations

import pytest

from comments_service.core import tokens
from comments_service.core.db import connect
from comments_service.core.migrations import migrate
from tests.conftest import SECRET


@pytest.fixture
def app(make_app, smtp):
    return make_app(**smtp.config)


def one_click(actions, link: str):
    return actions.app.test_client().post(actions.local(link), data={"List-Unsubscribe": "One-Click"})


def notify_setting(actions, email: str) -> str:
    return actions.sql("SELECT notify_comments FROM accounts WHERE email = ?", (email,))[0][0]


def test_a_deleted_accounts_link_does_not_unsubscribe_the_account_given_its_id(actions, smtp, urls):
    anne = actions.make_account("anne@dr-a.test", role="author", sites=["dr-a"], name="Dr Anne A")
    actions.comment("Un", url=urls.POST_A)
    old_link = smtp.mailbox.expect(to="anne@dr-a.test", subject="Commentaire").header("List-Unsubscribe").strip("<>")
    actions.sign_in("anne@dr-a.test")
    deleted = actions.submit(actions.client.get("/account"), "/account/delete", comments="erase", confirm="1")
    assert deleted.status_code == 303, deleted.get_data(as_text=True)

    claire = actions.make_account("claire@dr-a.test", role="author", sites=["dr-a"], name="Dr Claire C")
    assert claire["id"] == anne["id"], "the id of the newest account, deleted, is given to the next one"

    for response in (actions.open(old_link), one_click(actions, old_link)):
        assert response.status_code == 400
        text = response.get_data(as_text=True)
        assert "lien de désabonnement n&#39;est pas valide" in text or "lien de désabonnement n'est pas valide" in text
        assert "claire" not in text.lower() and "anne" not in text.lower(), "the refusal tells of no account"
    assert notify_setting(actions, "claire@dr-a.test") == "immediate"

    since = len(smtp.mailbox.mails)
    actions.comment("Deux", url=urls.POST_A)
    own = smtp.mailbox.expect(to="claire@dr-a.test", subject="Commentaire", since=since)
    assert one_click(actions, own.header("List-Unsubscribe").strip("<>")).status_code == 200, "her own link works"
    assert notify_setting(actions, "claire@dr-a.test") == "never"


def test_unkeyed_links_work_for_the_accounts_that_existed_before_keys_only(app, actions):
    before = actions.make_account("ancien@dr-a.test", role="author", sites=["dr-a"])
    db = connect(app.config["DB"])
    try:
        with db.conn:  # the database as it was before m026_unsubscribe_keys, its accounts mailed unkeyed links
            db.conn.execute("ALTER TABLE accounts DROP COLUMN unsubscribe_unkeyed")
            db.conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm026_unsubscribe_keys'")
        assert migrate(db) == ["m026_unsubscribe_keys"]
    finally:
        db.close()
    after = actions.make_account("nouveau@dr-a.test", role="author", sites=["dr-a"])

    def unkeyed(account):  # what mail/outbox.queue_for_author put in the mails before
        return "/notify/unsubscribe?token=" + tokens.make_unsubscribe_token(SECRET, {"s": "author", "a": account["id"]})

    assert actions.client.post(unkeyed(after)).status_code == 400, "an account created since was never mailed one"
    assert notify_setting(actions, "nouveau@dr-a.test") == "immediate"
    assert actions.client.post(unkeyed(before)).status_code == 200, "an old mail's link keeps working"
    assert notify_setting(actions, "ancien@dr-a.test") == "never"

    forged = tokens.make_unsubscribe_token(SECRET, {"s": "replies", "a": after["id"], "k": "0" * 24})
    assert actions.client.post("/notify/unsubscribe?token=" + forged).status_code == 400
