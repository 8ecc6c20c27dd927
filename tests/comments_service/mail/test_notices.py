"""Notification mails through a real SMTP server: new comments to blog authors (at once or in a daily
digest) with one-click moderation links, replies after a double opt-in, one-click unsubscribe
(RFC 8058), and an outbox that survives an SMTP outage."""

import time

import pytest

from tests.smtp import SmtpServer, free_port

GUEST = "lecteur@exemple.fr"


@pytest.fixture
def app(make_app, smtp):
    return make_app(**smtp.config)


@pytest.fixture
def anne(actions):
    """The author of blog A (first-comment policy), mailed at once."""
    return actions.make_account("anne@dr-a.test", role="author", sites=["dr-a"], name="Dr Anne A")


@pytest.fixture
def bruno(actions):
    """The author of blog B (no moderation)."""
    return actions.make_account("bruno@docteur-b.example", role="author", sites=["dr-b"], name="Dr Bruno B")


def test_a_pending_comment_mails_the_author_an_approve_link_that_works(actions, anne, smtp, urls):
    body = actions.comment("Question sur **les gardes**", url=urls.POST_A, author="Paul", email=GUEST)
    assert body["status"] == "pending"
    mail = smtp.mailbox.expect(to="anne@dr-a.test")
    assert mail.subject == "Commentaire à valider sur « Premier billet »"
    assert "Bonjour Dr Anne A," in mail.text and "Paul a commenté" in mail.text
    assert "> Question sur **les gardes**" in mail.text
    assert GUEST not in mail.raw.decode(), "the commenter's address stays on the moderation page"
    assert mail.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert mail.header("List-Unsubscribe").startswith("<http://blogs.test/comments/notify/unsubscribe?token=")

    approve = mail.link("/moderation/act?token=")
    page = actions.open(approve)
    assert page.status_code == 200 and "Approuver ce commentaire" in page.get_data(as_text=True)
    assert actions.open(approve).status_code == 200, "a mail scanner's prefetch changes nothing"
    assert actions.sql("SELECT status FROM comments")[0]["status"] == "pending"

    done = actions.submit(page, "/moderation/act")
    assert done.status_code == 200 and "approuvé" in done.get_data(as_text=True)
    assert actions.thread(urls.POST_A).get_json()["total"] == 1

    replay = actions.open(approve)
    assert replay.status_code == 410 and "déjà servi" in replay.get_data(as_text=True)
    assert actions.submit(page, "/moderation/act").status_code == 410
    reject = [link for link in mail.links if "/moderation/act" in link][1]
    late = actions.open(reject)
    assert late.status_code == 409 and "déjà été traité" in late.get_data(as_text=True)
    assert actions.thread(urls.POST_A).get_json()["total"] == 1


def test_the_reject_link_rejects(actions, anne, smtp, urls):
    actions.comment("Achetez mes pilules", url=urls.POST_A, author="Spam", email=GUEST)
    mail = smtp.mailbox.expect(to="anne@dr-a.test")
    reject = [link for link in mail.links if "/moderation/act" in link][1]
    page = actions.open(reject)
    assert "Rejeter ce commentaire" in page.get_data(as_text=True)
    assert actions.submit(page, "/moderation/act").status_code == 200
    assert actions.sql("SELECT status FROM comments")[0]["status"] == "rejected"


def test_an_expired_action_link_is_refused(make_app, smtp, urls):
    from tests.conftest import Actions

    app = make_app(**smtp.config, ACTION_LINK_MAX_AGE=1)
    actions = Actions(app, app.test_client(), smtp.mailbox)
    actions.make_account("anne@dr-a.test", role="author", sites=["dr-a"])
    actions.comment("Trop tard", url=urls.POST_A, email=GUEST)
    approve = smtp.mailbox.expect(to="anne@dr-a.test").link("/moderation/act")
    time.sleep(2.2)
    assert actions.open(approve).status_code == 410
    assert actions.sql("SELECT status FROM comments")[0]["status"] == "pending"


def test_a_published_comment_mails_a_link_to_it_and_no_moderation_link(actions, bruno, smtp, urls):
    body = actions.comment("Publié d'emblée", url=urls.POST_B, author="Paul")
    mail = smtp.mailbox.expect(to="bruno@docteur-b.example")
    assert mail.subject == "Nouveau commentaire sur « Billet B »"
    assert f"{urls.POST_B}#comment-{body['comment']['id']}" in mail.links
    assert not [link for link in mail.links if "/moderation/act" in link]


def test_no_mail_for_ones_own_comment_or_another_blog(actions, anne, smtp, urls):
    headers = actions.bearer(actions.session_token(actions.sign_in("anne@dr-a.test", return_to=urls.POST_A)))
    actions.app.test_client().post("/api/comments", json={"url": urls.POST_A, "text": "Merci à tous"}, headers=headers)
    actions.comment("Sur l'autre blog", url=urls.POST_B)
    mails = smtp.mailbox.settle(0.8)
    assert [m.subject for m in mails] == ["Votre lien de connexion à Confrères"]


def test_the_no_js_form_notifies_too(actions, anne, smtp, urls, client):
    page = client.get("/thread", query_string={"url": urls.POST_A})
    assert actions.submit(page, "/thread", text="Depuis le formulaire", author="Sans JS").status_code == 303
    assert smtp.mailbox.expect(to="anne@dr-a.test").subject.startswith("Commentaire à valider")


def test_the_daily_digest_groups_comments_and_is_idempotent(actions, anne, smtp, urls, confreres):
    actions.sql("UPDATE accounts SET notify_comments = 'daily' WHERE id = ?", (anne["id"],))
    first = actions.comment("Premier du jour", url=urls.POST_A, author="Paul", email=GUEST)
    actions.comment("Deuxième du jour", url=urls.POST_A, author="Jeanne")
    actions.comment("Sur l'autre billet", url=urls.POST_A2, author="Marc")
    assert smtp.mailbox.settle(0.8) == [], "nothing until the digest"

    result = confreres("notify", "digest")
    assert result.exit_code == 0, result.output
    assert "1 résumé(s) (3 commentaire(s))" in result.output
    (digest,) = smtp.mailbox.wait(1)
    assert digest.recipients == ["anne@dr-a.test"]
    assert digest.subject == "Résumé du jour : 3 nouveaux commentaires, 3 à valider"
    text = digest.text
    assert "« Premier billet »" in text and "« Second billet »" in text
    assert text.index("Premier du jour") < text.index("Deuxième du jour")
    assert len([link for link in digest.links if "/moderation/act" in link]) == 6

    again = confreres("notify", "digest")
    assert "0 résumé(s)" in again.output
    assert len(smtp.mailbox.settle(0.5)) == 1, "a comment is never in two digests"

    approve = [link for link in digest.links if "/moderation/act" in link][0]
    assert actions.submit(actions.open(approve), "/moderation/act").status_code == 200
    assert actions.sql("SELECT status FROM comments WHERE id = ?", (first["comment"]["id"],))[0][0] == "approved"

    actions.comment("Le lendemain", url=urls.POST_A, author="Paul", email=GUEST)
    confreres("notify", "digest")
    second = smtp.mailbox.wait(2)[1]
    assert "Le lendemain" in second.text and "Premier du jour" not in second.text
    assert second.subject == "Résumé du jour : 1 nouveau commentaire"  # Paul is now a returning guest


def test_never_means_no_mail(actions, anne, smtp, urls, confreres):
    actions.sql("UPDATE accounts SET notify_comments = 'never'")
    actions.comment("Silence", url=urls.POST_A)
    confreres("notify", "digest")
    assert smtp.mailbox.settle(0.5) == []


def test_replies_need_a_double_opt_in(actions, smtp, urls):
    asked = actions.comment("Qu'en pensez-vous ?", url=urls.POST_B, author="Paul", email=GUEST, notify=True)
    confirm = smtp.mailbox.expect(to=GUEST, subject="Confirmez")
    actions.reply(asked | {"url": urls.POST_B}, "Première réponse", author="Jeanne", email="jeanne@exemple.fr")
    assert [m.subject for m in smtp.mailbox.settle(0.8)] == [confirm.subject], "no reply mail before confirming"

    page = actions.open(confirm.link("/notify/confirm?token="))
    assert page.status_code == 200 and GUEST in page.get_data(as_text=True)
    assert actions.sql("SELECT confirmed FROM mail_addresses")[0][0] is None, "a GET confirms nothing"
    assert actions.submit(page, "/notify/confirm").status_code == 200
    assert actions.sql("SELECT confirmed FROM mail_addresses")[0][0] is not None

    reply = actions.reply(asked | {"url": urls.POST_B}, "Deuxième réponse", author="Jeanne", email="jeanne@exemple.fr")
    mail = smtp.mailbox.expect(to=GUEST, subject="vous a répondu")
    assert mail.subject == "Jeanne vous a répondu sur « Billet B »"
    assert f"{urls.POST_B}#comment-{reply['comment']['id']}" in mail.links
    assert "> Deuxième réponse" in mail.text and "> Qu'en pensez-vous ?" in mail.text
    assert "jeanne@exemple.fr" not in mail.raw.decode()

    actions.comment("Encore moi", url=urls.POST_B, author="Paul", email=GUEST, notify=True)
    assert len([m for m in smtp.mailbox.settle(0.8) if "Confirmez" in m.subject]) == 1, "confirmed once for all"


def test_a_pending_reply_is_notified_when_approved(actions, anne, smtp, urls):
    actions.sql("INSERT INTO mail_addresses (email, created, confirmed) VALUES (?, 'x', 'x')", (GUEST,))
    asked = actions.approved_comment("Une question", url=urls.POST_A, author="Paul", email=GUEST, notify=True)
    reply = actions.reply(asked, "Une réponse à valider", author="Nouvelle", email="nouvelle@exemple.fr")
    assert reply["status"] == "pending"
    approve = smtp.mailbox.expect(to="anne@dr-a.test", subject="à valider", since=1)
    assert not smtp.mailbox.to(GUEST), "not before it is published"
    assert actions.submit(actions.open(approve.link("/moderation/act")), "/moderation/act").status_code == 200
    assert smtp.mailbox.expect(to=GUEST, subject="vous a répondu").subject.startswith("Nouvelle")


def test_unsubscribe_link_and_rfc8058_one_click(actions, smtp, urls):
    actions.sql("INSERT INTO mail_addresses (email, created, confirmed) VALUES (?, 'x', 'x')", (GUEST,))
    asked = actions.comment("Prévenez-moi", url=urls.POST_B, author="Paul", email=GUEST, notify=True)
    actions.reply(asked | {"url": urls.POST_B}, "Réponse 1", author="Jeanne")
    mail = smtp.mailbox.expect(to=GUEST, subject="vous a répondu")
    header = mail.header("List-Unsubscribe")
    link = header.strip("<>")
    assert link in mail.links, "the same link in the body"

    page = actions.open(link)
    assert page.status_code == 200 and "Billet B" in page.get_data(as_text=True)
    assert actions.sql("SELECT COUNT(*) FROM subscriptions")[0][0] == 1, "a GET unsubscribes nothing"

    fresh = actions.app.test_client()  # a mail provider: no cookie, no page, one POST
    one_click = fresh.post(actions.local(link), data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert actions.sql("SELECT COUNT(*) FROM subscriptions")[0][0] == 0
    assert fresh.post(actions.local(link), data={"List-Unsubscribe": "One-Click"}).status_code == 200, "idempotent"

    actions.reply(asked | {"url": urls.POST_B}, "Réponse 2", author="Jeanne")
    assert len(smtp.mailbox.settle(0.8)) == 1
    assert actions.client.post("/notify/unsubscribe?token=forged").status_code == 400


def test_an_author_unsubscribes_in_one_click(actions, anne, smtp, urls):
    actions.comment("Un", url=urls.POST_A)
    mail = smtp.mailbox.expect(to="anne@dr-a.test")
    link = mail.header("List-Unsubscribe").strip("<>")
    assert actions.app.test_client().post(actions.local(link), data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert actions.sql("SELECT notify_comments FROM accounts")[0][0] == "never"
    actions.comment("Deux", url=urls.POST_A)
    assert len(smtp.mailbox.settle(0.8)) == 1


def test_a_member_gets_replies_as_their_profile_says(actions, smtp, urls):
    from tests.conftest import Actions

    her_browser = Actions(actions.app, actions.app.test_client(), smtp.mailbox)
    headers = actions.bearer(her_browser.session_token(her_browser.sign_in("membre@exemple.fr", return_to=urls.POST_B)))
    member = actions.app.test_client()
    mine = member.post("/api/comments", json={"url": urls.POST_B, "text": "Signé"}, headers=headers).get_json()
    actions.reply(mine | {"url": urls.POST_B}, "Réponse au membre", author="Jeanne")
    mail = smtp.mailbox.expect(to="membre@exemple.fr", subject="vous a répondu")
    assert "Réglages des e-mails" in mail.text, "no opt-in needed: the sign-in proved the address"

    member.patch("/api/account", json={"notify_replies": False}, headers=headers)
    actions.reply(mine | {"url": urls.POST_B}, "Deuxième réponse", author="Jeanne")
    assert len(smtp.mailbox.settle(0.8)) == 2 and len(smtp.mailbox.to("membre@exemple.fr")) == 2


def test_no_mail_ever_shows_another_persons_address(actions, anne, bruno, smtp, urls):
    actions.sql("INSERT INTO mail_addresses (email, created, confirmed) VALUES (?, 'x', 'x')", (GUEST,))
    asked = actions.comment("Question", url=urls.POST_B, author="Paul", email=GUEST, notify=True)
    actions.reply(asked | {"url": urls.POST_B}, "Réponse de Jeanne", author="Jeanne", email="jeanne@exemple.fr", notify=True)
    actions.comment("Avis de Marc", url=urls.POST_A, author="Marc", email="marc@exemple.fr", website="https://marc.example")
    actions.request_link("anne@dr-a.test")
    smtp.mailbox.wait(6)
    mails = smtp.mailbox.settle(1.0)
    assert sorted(m.recipients[0] for m in mails) == sorted(
        ["anne@dr-a.test", "anne@dr-a.test", GUEST, "jeanne@exemple.fr", "bruno@docteur-b.example",
         "bruno@docteur-b.example"]
    ), [(m.recipients, m.subject) for m in mails]
    for mail in mails:
        assert mail.addresses() <= {mail.recipients[0].lower(), "ne-pas-repondre@blogs.test"}, (mail.subject, mail.addresses())


def test_an_smtp_outage_loses_nothing_and_notify_send_delivers_later(make_app, urls, confreres_for):
    from tests.conftest import Actions

    port = free_port()  # nothing listens there yet
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="Confrères <ne-pas-repondre@blogs.test>")
    actions = Actions(app, app.test_client())
    actions.make_account("anne@dr-a.test", role="author", sites=["dr-a"])
    started = time.monotonic()
    body = actions.comment("Pendant la panne", url=urls.POST_A, email=GUEST)
    assert body["status"] == "pending" and time.monotonic() - started < 2, "the request does not wait for SMTP"

    deadline = time.monotonic() + 10
    while not actions.sql("SELECT 1 FROM outbox WHERE attempts = 1 AND claimed IS NULL"):
        assert time.monotonic() < deadline, "the background sender tried once"
        time.sleep(0.05)
    (row,) = actions.sql("SELECT sent, last_error FROM outbox")
    assert row["sent"] is None and "Connection" in row["last_error"]

    server = SmtpServer(port).start()
    try:
        result = confreres_for(app)("notify", "send")
        assert result.exit_code == 0, result.output
        assert "1 e-mail(s) envoyé(s)" in result.output
        (mail,) = server.mailbox.wait(1)
        assert mail.recipients == ["anne@dr-a.test"] and "Pendant la panne" in mail.text
        assert actions.sql("SELECT sent FROM outbox")[0][0] is not None
    finally:
        server.stop()


def test_notify_send_without_transport_says_so(make_app, confreres_for):
    app = make_app()
    result = confreres_for(app)("notify", "send")
    assert result.exit_code != 0 and "CONFRERES_SMTP_HOST" in result.output


def test_a_guest_who_deletes_their_comments_leaves_no_address_behind(actions, urls, smtp):
    """The comment's row forgot the address, but its reply subscription and its double opt-in record kept it for
    ever. A subscription goes with the thread's last comment of that address asking for replies; the record with the
    address's last comment; « ne plus rien recevoir » stays (it must outlive everything)."""
    on_b = actions.comment("Prévenez-moi ici", url=urls.POST_B, author="Inès", email="ines@exemple.fr", notify=True)
    confirm = smtp.mailbox.expect(to="ines@exemple.fr", subject="Confirmez")
    assert actions.submit(actions.open(confirm.link("/notify/confirm")), "/notify/confirm").status_code == 200
    on_a = actions.comment("Et là aussi", url=urls.POST_A, author="Inès", email="ines@exemple.fr", notify=True)
    stays = actions.comment("Je reste", url=urls.POST_B, author="Paul", email="paul@exemple.fr", notify=True)
    assert sorted(r["post_url"] for r in actions.sql("SELECT post_url FROM subscriptions WHERE email = 'ines@exemple.fr'")
                  ) == sorted([urls.POST_A, urls.POST_B])

    assert actions.delete(on_b["comment"]["id"], on_b["edit_token"]).status_code == 200
    assert [r["post_url"] for r in actions.sql("SELECT post_url FROM subscriptions WHERE email = 'ines@exemple.fr'")] == [
        urls.POST_A]
    assert actions.sql("SELECT confirmed FROM mail_addresses WHERE email = 'ines@exemple.fr'")[0]["confirmed"], (
        "her other comment still asks for replies, with the consent she gave"
    )
    assert actions.delete(on_a["comment"]["id"], on_a["edit_token"]).status_code == 200
    left = [tuple(row) for table in ("comments", "subscriptions", "mail_addresses")
            for row in actions.sql(f"SELECT * FROM {table}")]
    assert "ines@" not in str(left), left
    assert actions.sql("SELECT COUNT(*) FROM subscriptions WHERE email = 'paul@exemple.fr'")[0][0] == 1

    never = smtp.mailbox.expect(to="paul@exemple.fr", subject="Confirmez").header("List-Unsubscribe").strip("<>")
    assert actions.app.test_client().post(actions.local(never), data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert actions.delete(stays["comment"]["id"], stays["edit_token"]).status_code == 200
    assert [tuple(r) for r in actions.sql("SELECT email, blocked IS NOT NULL FROM mail_addresses")] == [
        ("paul@exemple.fr", 1)], "« ne plus rien recevoir » outlives his comments"
