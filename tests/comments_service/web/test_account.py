"""The profile (page and API), export of one's own data, deletion of the account (GDPR)."""

import json
import time

import pytest
from bs4 import BeautifulSoup

from tests.conftest import Actions


@pytest.fixture
def app(make_app, smtp):
    return make_app(**smtp.config)


@pytest.fixture
def member(actions, urls):
    """A member signed in from blog B, in her own browser: (bearer headers, a client without cookies).

    `actions` stays a guest's browser.
    """
    her_browser = Actions(actions.app, actions.app.test_client(), actions.mailbox)
    token = her_browser.session_token(her_browser.sign_in("marie@exemple.fr", return_to=urls.POST_B))
    return her_browser.bearer(token), actions.app.test_client()


def test_profile_through_the_api(member, api_error):
    headers, client = member
    before = client.get("/api/account", headers=headers).get_json()["account"]
    assert before["notify_comments"] == "immediate" and before["notify_replies"] is True
    assert before["show_specialty"] is False and before["display_name"] == "", "showing one's specialty is opt-in"

    changed = client.patch(
        "/api/account",
        json={
            "display_name": "Dr Pseudo",
            "show_specialty": True,
            "interests": "Consultante pour **un laboratoire** <script>alert(1)</script> [site](javascript:alert(2))",
            "notify_comments": "daily",
            "notify_replies": False,
        },
        headers=headers,
    )
    assert changed.status_code == 200
    account = changed.get_json()["account"]
    assert account["display_name"] == "Dr Pseudo" and account["notify_comments"] == "daily"
    assert account["show_specialty"] is True and account["notify_replies"] is False
    assert "<strong>un laboratoire</strong>" in account["interests_html"]
    assert "<script" not in account["interests_html"] and "javascript:" not in account["interests_html"]
    assert account["interests"].startswith("Consultante"), "the source is kept for editing"
    too_many = client.patch("/api/account", json={"interests": "[labo](https://x.fr) " * 101}, headers=headers)
    api_error(too_many, 400, "too_many_links", "interests")  # Markdown's time grows as the square of them

    api_error(client.patch("/api/account", json={"notify_comments": "hourly"}, headers=headers), 400, "invalid_choice", "notify_comments")
    api_error(client.patch("/api/account", json={"display_name": "x" * 101}, headers=headers), 400, "too_long", "display_name")
    # the lengths the API document gives are of the text as sent, before line breaks and invisible characters
    # are tidied (found by the schema fuzzer: 5,001 characters with a "\r\n" were accepted)
    api_error(client.patch("/api/account", json={"interests": "a" * 4998 + "\r\nb"}, headers=headers), 400, "too_long",
              "interests")
    api_error(client.patch("/api/account", json={"display_name": "Dr\u200b" * 34}, headers=headers), 400, "too_long",
              "display_name")
    assert client.patch("/api/account", json={"interests": "a" * 4998 + "\nb"}, headers=headers).status_code == 200
    api_error(client.patch("/api/account", json={"notify_replies": "peut-être"}, headers=headers), 400, "invalid_type")
    api_error(client.patch("/api/account", json={"display_name": "x"}), 401, "not_signed_in")


def test_the_display_name_signs_new_comments(member, urls):
    headers, client = member
    client.patch("/api/account", json={"display_name": "Dr Pseudo"}, headers=headers)
    body = client.post("/api/comments", json={"url": urls.POST_B, "text": "Bonjour", "author": "Autre"}, headers=headers)
    assert body.get_json()["comment"]["author"]["name"] == "Dr Pseudo"


def test_profile_page_saves_with_csrf_and_reshows_errors(actions, client):
    actions.sign_in("page@exemple.fr")
    page = client.get("/account")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Résumé quotidien" in text and "Immédiatement" in text and "Jamais" in text
    saved = actions.submit(page, "/account", display_name="Dr Page", notify_comments="never", interests="Aucun lien.")
    assert saved.status_code == 303
    account = client.get("/api/account").get_json()["account"]
    assert account["display_name"] == "Dr Page" and account["notify_comments"] == "never"
    assert account["notify_replies"] is False, "an unticked box is off"
    assert "Vos réglages sont enregistrés" in client.get(saved.headers["Location"]).get_data(as_text=True)

    bad = actions.submit(client.get("/account"), "/account", display_name="Dr " + "x" * 120, notify_comments="daily")
    assert bad.status_code == 400 and "trop long" in bad.get_data(as_text=True)
    assert client.post("/account", data={"display_name": "Forgé", "notify_comments": "daily"}).status_code == 403
    assert client.get("/api/account").get_json()["account"]["display_name"] == "Dr Page"


def test_account_page_needs_a_session(client):
    response = client.get("/account")
    assert response.status_code == 303 and "/auth?return=/account" in response.headers["Location"]


def test_export_contains_own_data_only(actions, urls, member):
    headers, client = member
    # a guest comment written earlier with the same address is hers too
    actions.comment("Écrit avant de créer mon compte", url=urls.POST_B, author="Marie", email="marie@exemple.fr")
    client.post("/api/comments", json={"url": urls.POST_B, "text": "Écrit connectée"}, headers=headers)
    other = actions.comment("Un autre lecteur", url=urls.POST_B, author="Paul", email="paul@exemple.fr")
    actions.reply(other | {"url": urls.POST_B}, "Paul encore", email="paul@exemple.fr")

    response = client.get("/api/account/export", headers=headers)
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.get_json()
    assert data["account"]["email"] == "marie@exemple.fr"
    assert sorted(c["text"] for c in data["comments"]) == ["Écrit avant de créer mon compte", "Écrit connectée"]
    assert [s["kind"] for s in data["sessions"]] == ["cookie", "bearer"]
    raw = json.dumps(data, ensure_ascii=False)
    assert "paul@exemple.fr" not in raw and "Paul" not in raw and "Un autre lecteur" not in raw
    assert "token_hash" not in raw and "ip_hash" not in raw and "edit_nonce" not in raw


def test_export_from_the_account_page(actions, client):
    actions.sign_in("page@exemple.fr")
    response = client.get("/account/export")
    assert response.status_code == 200
    assert response.get_json()["account"]["email"] == "page@exemple.fr"


def test_deleting_the_account_erases_its_comments(actions, urls, member, api_error):
    headers, client = member
    mine = client.post("/api/comments", json={"url": urls.POST_B, "text": "Mon avis"}, headers=headers).get_json()
    lonely = client.post("/api/comments", json={"url": urls.POST_B, "text": "Sans réponse"}, headers=headers).get_json()
    actions.reply(mine | {"url": urls.POST_B}, "Je réponds à Marie", author="Paul", email="paul@exemple.fr")

    response = client.delete("/api/account", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"deleted": True, "comments_removed": 2, "comments_anonymised": 0}
    api_error(client.get("/api/account", headers=headers), 401)
    assert not actions.sql("SELECT * FROM accounts WHERE email = 'marie@exemple.fr'")
    assert not actions.sql("SELECT * FROM sessions")
    thread = actions.thread(urls.POST_B).get_json()
    (placeholder,) = thread["comments"]
    assert placeholder["id"] == mine["comment"]["id"] and placeholder["deleted"] is True
    assert placeholder["replies"][0]["author"]["name"] == "Paul", "others' replies stay"
    assert lonely["comment"]["id"] not in {r["id"] for r in actions.sql("SELECT id FROM comments")}
    assert "marie@exemple.fr" not in str([dict(r) for r in actions.sql("SELECT * FROM comments")])


def test_deleting_the_account_can_keep_comments_anonymised(actions, urls, client):
    actions.sign_in("garde@exemple.fr")
    client.post("/api/comments", json={"url": urls.POST_B, "text": "Utile pour d'autres"})
    page = client.get("/account")
    refused = actions.submit(page, "/account/delete", comments="keep")
    assert refused.status_code == 400, "the confirmation box is required"
    assert 'value="keep" checked' in refused.get_data(as_text=True), "the choice made is shown again"
    assert 'aria-invalid="true" aria-describedby="f-confirm-err"' in refused.get_data(as_text=True)
    tampered = actions.submit(client.get("/account"), "/account/delete", comments="garder", confirm="1")
    assert tampered.status_code == 400 and "effacés ou gardés" in tampered.get_data(as_text=True)
    assert "Utile" in actions.thread(urls.POST_B).get_json()["comments"][0]["html"], "nothing erased on a bad value"
    assert client.get("/api/account").status_code == 200
    deleted = actions.submit(client.get("/account"), "/account/delete", comments="keep", confirm="1")
    assert deleted.status_code == 303 and "etat=supprime" in deleted.headers["Location"]
    (comment,) = actions.thread(urls.POST_B).get_json()["comments"]
    assert comment["author"]["name"] == "Compte supprimé" and "Utile" in comment["html"]
    row = actions.sql("SELECT email, account_id, website FROM comments")[0]
    assert tuple(row) == (None, None, None)
    assert client.get("/api/account").status_code == 401


def rows_naming(actions, word: str) -> list[tuple]:
    """(table, row) for every row of the database that contains `word` (case-insensitive), wherever it is."""
    tables = [row[0] for row in actions.sql("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return [(table, dict(row)) for table in tables for row in actions.sql(f"SELECT * FROM {table}")
            if word in str(tuple(row)).lower()]


def test_a_deleted_account_still_receives_nothing_if_it_asked_for_nothing(actions, urls, smtp):
    """« Ne plus rien recevoir » outlives the account: deleting it erased the block too, and a stranger who then
    typed the address with « Me prévenir des réponses » had a confirmation mailed to an inbox that refused all mail.
    The block is all that stays: the address and when it asked, no consent, subscription or mail."""
    actions.comment("Prévenez-moi", url=urls.POST_B, author="Marie", email="Marie@Exemple.fr", notify=True)
    confirm = smtp.mailbox.expect(to="marie@exemple.fr", subject="Confirmez")  # the address in its canonical form
    actions.submit(actions.open(confirm.link("/notify/confirm")), "/notify/confirm")
    never = confirm.header("List-Unsubscribe").strip("<>")
    assert actions.app.test_client().post(actions.local(never), data={"List-Unsubscribe": "One-Click"}).status_code == 200

    her = Actions(actions.app, actions.app.test_client(), smtp.mailbox)
    headers = her.bearer(her.session_token(her.sign_in("marie@exemple.fr", return_to=urls.POST_B)))
    assert her.client.delete("/api/account", json={"comments": "erase"}, headers=headers).status_code == 200
    ((table, kept),) = rows_naming(actions, "marie")
    assert table == "mail_addresses" and kept["blocked"], kept
    assert {key: kept[key] for key in ("email", "address_key", "confirm_sent", "confirmed")} == {
        "email": "marie@exemple.fr", "address_key": "marie@exemple.fr", "confirm_sent": None, "confirmed": None}

    since = len(smtp.mailbox.mails)
    stranger = Actions(actions.app, actions.app.test_client(), smtp.mailbox)
    stranger.comment("Abonnée malgré elle", url=urls.POST_A, author="X", email="marie+x@exemple.fr", notify=True)
    assert smtp.mailbox.settle(0.5)[since:] == [], "no mail to the inbox that asked for none"
    assert not actions.sql("SELECT * FROM outbox WHERE recipient_key = 'marie@exemple.fr'")


def sent(actions, kind: str) -> None:
    """Wait until the background sender has marked the mail of `kind` sent (it does so after the SMTP server took it)."""
    deadline = time.monotonic() + 10
    while not actions.sql("SELECT 1 FROM outbox WHERE kind = ? AND sent IS NOT NULL", (kind,)):
        assert time.monotonic() < deadline, f"no {kind} mail marked sent"
        time.sleep(0.02)


@pytest.mark.parametrize("choice", ["erase", "keep"])
def test_the_copies_of_sent_mails_that_quote_a_deleted_accounts_comments_go_too(actions, urls, smtp, choice):
    """A reply mailed to the comment's author keeps its text in the outbox for 30 days (never read again): the account's
    deletion left there what it erased, its words and its name, until then."""
    actions.sql("INSERT INTO mail_addresses (email, created, confirmed) VALUES ('paul@exemple.fr', 'x', 'x')")
    paul = actions.comment("Qu'en pensez-vous ?", url=urls.POST_B, author="Paul", email="paul@exemple.fr", notify=True)
    her = Actions(actions.app, actions.app.test_client(), smtp.mailbox)
    headers = her.bearer(her.session_token(her.sign_in("marie@exemple.fr", return_to=urls.POST_B)))
    her.client.patch("/api/account", json={"display_name": "Marie Curieuse"}, headers=headers)
    reply = {"url": urls.POST_B, "text": "Ma réponse très personnelle", "parent": paul["comment"]["id"]}
    assert her.client.post("/api/comments", json=reply, headers=headers).status_code == 201
    assert "très personnelle" in smtp.mailbox.expect(to="paul@exemple.fr", subject="vous a répondu").text
    sent(actions, "reply")

    assert her.client.delete("/api/account", json={"comments": choice}, headers=headers).status_code == 200
    assert not rows_naming(actions, "curieuse"), "her name is nowhere"
    left = [table for table, _ in rows_naming(actions, "très personnelle")]
    assert left == (["comments"] if choice == "keep" else []), "her words only where she chose to keep them"
    assert not actions.sql("SELECT 1 FROM outbox WHERE kind = 'reply'"), "the copy of the mail sent to Paul"


def test_the_account_page_names_the_blogs_by_their_titles(actions, client):
    actions.make_account("auteure@exemple.fr", role="author", sites=("dr-a",))
    actions.sign_in("auteure@exemple.fr")
    page = client.get("/account").get_data(as_text=True)
    assert "auteur de\n    « Le carnet du Dr A »" in page and "auteur de\n    dr-a" not in page


def test_the_account_pages_notification_choice_error_describes_its_group(actions):
    actions.make_account("auteur@example.org", role="author", sites=["dr-a"])
    actions.sign_in("auteur@example.org")
    page = actions.submit(actions.client.get("/account"), "/account", display_name="Dr A", notify_comments="parfois")
    assert page.status_code == 400
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    group = soup.find(id=soup.select_one("#erreurs a")["href"][1:])
    assert group.name == "fieldset" and soup.find(id=group["aria-describedby"]) is not None
