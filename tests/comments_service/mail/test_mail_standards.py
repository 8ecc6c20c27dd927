"""The mails as mail clients and providers read them, captured by a real SMTP server (aiosmtpd) and parsed by
Python's `email` package: addresses that are not ASCII (RFC 6531/6532), the encoded words of French headers
(RFC 2047), lines (RFC 5322), threading (References), RFC 8058's one-click over HTTP, Reply-To."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta

import httpx
import pytest

from comments_service.actions.posts import sync_posts
from comments_service.core.config import ConfigError
from comments_service.core.db import connect
from comments_service.domain import verification
from comments_service.domain.posts import iso, utcnow
from comments_service.mail import outbox
from tests.comments_service.mail.letter_kit import NEW_B, recent_posts, subscribe
from tests.conftest import BLOG_A, COMMENTS_URL, POSTS, Actions
from tests.gunicorn import Gunicorn, environment
from tests.smtp import SmtpServer

JOSE = "josé@exemple.fr"


def test_an_address_that_is_not_ascii_gets_its_mail_over_smtputf8(make_app, smtp):
    app = make_app(**smtp.config)  # the relay offers SMTPUTF8
    actions = Actions(app, app.test_client(), smtp.mailbox)
    assert actions.request_link(JOSE).status_code == 202
    mail = smtp.mailbox.expect(to=JOSE, subject="connexion")
    assert f"\r\nTo: {JOSE}\r\n".encode() in mail.raw, "written as is (RFC 6532), not as an encoded word"
    parsed = email.message_from_string(mail.raw.decode("utf-8"), policy=email.policy.default)  # as such clients do
    assert parsed["To"].addresses[0].addr_spec == JOSE and parsed["Subject"] == "Votre lien de connexion à Confrères"
    assert mail.link("/auth/verify")


@pytest.fixture
def relay_ascii():
    server = SmtpServer(smtputf8=False).start()
    yield server
    server.stop()


def test_without_smtputf8_only_that_mail_waits_and_the_others_leave(make_app, relay_ascii, confreres_for):
    smtp = relay_ascii
    app = make_app(**smtp.config, MAIL_SEND="cron")
    actions = Actions(app, app.test_client(), smtp.mailbox)
    assert actions.request_link(JOSE).status_code == 202
    assert actions.request_link("paul@exemple.fr").status_code == 202
    run = confreres_for(app)
    result = run("notify", "send")  # smtplib's UnicodeEncodeError used to end the pass with a traceback
    assert result.exit_code == 1 and result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "1 e-mail(s) envoyé(s), 1 en échec" in result.output, result.output
    (paul,) = smtp.mailbox.settle(0.3)
    assert paul.recipients == ["paul@exemple.fr"]
    assert paul.raw.split(b"\r\n\r\n", 1)[0].isascii(), "an ASCII address keeps ASCII headers (RFC 2047 words)"
    (row,) = actions.sql("SELECT recipient, sent, last_error FROM outbox WHERE sent IS NULL")
    assert row["recipient"] == JOSE and "SMTPUTF8" in row["last_error"]
    again = run("notify", "send")
    assert "0 e-mail(s) envoyé(s), 1 en échec" in again.output, "retried, still waiting, never a traceback"


# -- headers: encoded words of at most 75 characters, lines of at most 78; bodies: lines of at most 998 octets ------

ENCODED_WORD = re.compile(rb"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
LONG_TITLE = "Gardes de nuit en zone rurale : témoignages, difficultés et propositions des médecins généralistes"


def check_header_lines(mail) -> None:
    head = mail.raw.split(b"\r\n\r\n", 1)[0]
    verbatim = ("list-unsubscribe:", "message-id:", "references:", "in-reply-to:")
    for line in head.split(b"\r\n"):
        assert all(len(word) <= 75 for word in ENCODED_WORD.findall(line)), line  # RFC 2047 2
        assert len(line) <= 78 or line.decode().lower().startswith(verbatim), line  # RFC 5322 2.1.1
    assert not re.search(rb"^List-Unsubscribe: =\?", head, re.M), "the URL as written, never encoded"


def body_lines(mail) -> list[bytes]:
    return mail.raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n")


def test_long_french_subjects_are_folded_in_short_encoded_words(make_app, smtp, confreres_for):
    app = make_app(**smtp.config)
    actions = Actions(app, app.test_client(), smtp.mailbox)
    actions.make_account("anne@dr-a.test", role="author", sites=["dr-a"], name="Dr Anne Àlvarez-Lefèvre")
    url = BLOG_A + "gardes.html"
    db = connect(app.config["DB"])
    try:
        sync_posts(db, app.extensions["confreres_network"], "dr-a",
                   {"posts": POSTS["dr-a"]["posts"] + [{"url": url, "title": LONG_TITLE, "date": "2024-04-01"}]})
    finally:
        db.close()
    actions.comment("Très juste.", url=url, author="Élodie Æbischer-Müller")
    mail = smtp.mailbox.expect(to="anne@dr-a.test")
    assert mail.subject == f"Commentaire à valider sur « {LONG_TITLE} »"
    assert str(mail.message["From"]) == "Confrères <ne-pas-repondre@blogs.test>"
    assert mail.header("List-Unsubscribe").startswith("<http://blogs.test/comments/notify/unsubscribe?token=")
    check_header_lines(mail)
    assert "Bonjour Dr Anne Àlvarez-Lefèvre," in mail.text and b"Content-Transfer-Encoding: 8bit" in mail.raw

    recent_posts(app)
    subscribe(actions, "lectrice@example.org")
    assert confreres_for(app)("letter", "send").exit_code == 0
    letter = smtp.mailbox.expect(to="lectrice@example.org", subject="La lettre des confrères :")
    assert re.fullmatch(r"La lettre des confrères : la semaine du .+ au .+ \d{4}", letter.subject), letter.subject
    check_header_lines(letter)


def test_a_line_past_998_octets_is_sent_in_quoted_printable(make_app, smtp, confreres_for):
    app = make_app(**smtp.config)
    run = confreres_for(app)
    granted = run("verify", "grant", "karim@exemple.test", "--rpps", "19900000449", "--last-name", "Benali",
                  "--first-name", "Karim", "--no-directory")
    assert granted.exit_code == 0, granted.output
    reason = ("Inscription à l'Ordre non retrouvée après vérification téléphonique, écrite et répétée ; " * 11)[:995]
    revoked = run("verify", "revoke", "karim@exemple.test", "--reason", reason.strip())
    assert revoked.exit_code == 0, revoked.output
    assert run("notify", "send").exit_code == 0
    mail = smtp.mailbox.expect(to="karim@exemple.test", subject="révoquée")
    assert len(f"Motif : {reason.strip()}".encode()) > 998
    assert max(len(line) for line in body_lines(mail)) <= 998, "no relay cuts or refuses it"
    assert b"Content-Transfer-Encoding: quoted-printable" in mail.raw
    assert f"Motif : {reason.strip()}\r\n" in mail.text, "the reader sees the reason whole, its lines as sent (CRLF)"
    check_header_lines(mail)


def test_a_letter_with_a_line_past_998_octets_still_gives_each_reader_their_own_link(make_app, smtp, confreres_for):
    app = make_app(**smtp.config)
    actions = Actions(app, app.test_client(), smtp.mailbox)
    recent_posts(app)
    excerpt = "🩺" * 300  # the longest excerpt kept, 4 octets a character
    db = connect(app.config["DB"])
    try:
        sync_posts(db, app.extensions["confreres_network"], "dr-b", {"posts": POSTS["dr-b"]["posts"] + [
            {"url": NEW_B, "title": "Le temps de consultation", "date": iso(utcnow() - timedelta(days=1)),
             "excerpt": excerpt}]})
    finally:
        db.close()
    for reader in ("lectrice@example.org", "lecteur@example.org"):
        subscribe(actions, reader)
    assert confreres_for(app)("letter", "send").exit_code == 0
    links = set()
    for reader in ("lectrice@example.org", "lecteur@example.org"):
        letter = smtp.mailbox.expect(to=reader, subject="La lettre des confrères :")
        assert max(len(line) for line in body_lines(letter)) <= 998
        text, html = letter.message.get_body(("plain",)).get_content(), letter.message.get_body(("html",)).get_content()
        assert excerpt in text and excerpt in html
        unsubscribe = letter.header("List-Unsubscribe")[1:-1]
        assert unsubscribe in text and unsubscribe in html.replace("&amp;", "&") and "urn:" not in text + html
        assert letter.to == reader
        links.add(unsubscribe)
    assert len(links) == 2, "each reader's own link"


# -- threading: the mails about one post refer to one stable id; each has its own Message-ID --------------------------

def test_the_mails_about_one_post_are_one_conversation(make_app, smtp, urls):
    app = make_app(**smtp.config)
    actions = Actions(app, app.test_client(), smtp.mailbox)
    actions.make_account("bruno@docteur-b.example", role="author", sites=["dr-b"], name="Dr Bruno B")
    actions.make_account("anne@dr-a.test", role="author", sites=["dr-a"], name="Dr Anne A")
    actions.sql("INSERT INTO mail_addresses (email, created, confirmed) VALUES ('paul@exemple.fr', 'x', 'x')")
    asked = actions.comment("Une question", url=urls.POST_B, author="Paul", email="paul@exemple.fr", notify=True)
    actions.comment("Autre avis", url=urls.POST_B, author="Jeanne", email="jeanne@exemple.fr")
    actions.reply(asked | {"url": urls.POST_B}, "Ma réponse", author="Inès", email="ines@exemple.fr")
    actions.comment("Sur un autre billet", url=urls.POST_A, author="Marc")
    mails = smtp.mailbox.wait(5)
    on_b = [m for m in mails if "« Billet B »" in m.subject]
    assert sorted(m.recipients[0] for m in on_b) == ["bruno@docteur-b.example"] * 3 + ["paul@exemple.fr"]
    (thread,) = {m.header("References") for m in on_b}
    assert re.fullmatch(r"<fil\.[0-9a-f]{32}@blogs\.test>", thread)
    assert all(m.header("In-Reply-To") == thread for m in on_b)
    (other,) = [m for m in mails if m not in on_b]
    assert other.recipients == ["anne@dr-a.test"] and other.header("References") not in (None, thread)
    ids = [m.header("Message-ID") for m in mails]
    assert len(set(ids)) == len(ids) and thread not in ids, "each mail its own id; none bears the post's"
    assert all(re.fullmatch(r"<[^<>@\s]+@blogs\.test>", i) for i in ids), ids
    assert actions.request_link("paul@exemple.fr").status_code == 202
    signin = smtp.mailbox.expect(to="paul@exemple.fr", subject="connexion")  # about no post: refers to none
    assert signin.header("References") is None and signin.header("In-Reply-To") is None


# -- RFC 8058 over HTTP: a mail provider's one POST, no cookie, no page, as gunicorn serves it in production -----------

ONE_CLICK = ("---FormBoundaryjWmhtjORrn\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n"
             "One-Click\r\n---FormBoundaryjWmhtjORrn--\r\n")  # RFC 8058's own example


def one_click(live, header: str, multipart: bool) -> httpx.Response:
    url = header.strip("<>")
    assert url.startswith(COMMENTS_URL), url
    target = live.url + "/" + url[len(COMMENTS_URL):]
    if multipart:
        return httpx.post(target, content=ONE_CLICK.encode(), follow_redirects=False,
                          headers={"Content-Type": "multipart/form-data; boundary=-FormBoundaryjWmhtjORrn"})
    return httpx.post(target, data={"List-Unsubscribe": "One-Click"}, follow_redirects=False)


def test_one_click_unsubscribe_over_http_as_mail_providers_post_it(make_app, smtp, confreres_for, tmp_path, urls):
    app = make_app(**smtp.config)
    actions = Actions(app, app.test_client(), smtp.mailbox)
    anne = actions.make_account("anne@dr-a.test", role="author", sites=["dr-a"], name="Dr Anne A")
    actions.comment("Une question", url=urls.POST_A, author="Paul")
    notice = smtp.mailbox.expect(to="anne@dr-a.test")
    recent_posts(app)
    subscribe(actions, "lectrice@example.org")
    assert confreres_for(app)("letter", "send").exit_code == 0
    letter = smtp.mailbox.expect(to="lectrice@example.org", subject="La lettre des confrères :")
    for mail in (notice, letter):
        assert mail.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
        assert re.fullmatch(r"<https?://[^<>\s]+>", mail.header("List-Unsubscribe")), "one URL, https in production"

    env = environment(SECRET_KEY=app.config["SECRET_KEY"], NETWORK=app.config["NETWORK"], DB=app.config["DB"],
                      MAIL_SEND="cron")  # the production rate limits (one-click spends no write budget)
    with Gunicorn(env, tmp_path / "gunicorn.log", workers=1) as live:
        answered = one_click(live, notice.header("List-Unsubscribe"), multipart=True)
        assert answered.status_code == 200 and "Désabonnement enregistré" in answered.text
        assert "set-cookie" not in answered.headers or "session" not in answered.headers["set-cookie"]
        assert actions.sql("SELECT notify_comments FROM accounts WHERE id = ?", (anne["id"],))[0][0] == "never"
        assert one_click(live, notice.header("List-Unsubscribe"), multipart=False).status_code == 200, "idempotent"

        answered = one_click(live, letter.header("List-Unsubscribe"), multipart=True)
        assert answered.status_code == 200 and "Désabonnement enregistré" in answered.text
        assert actions.sql("SELECT COUNT(*) FROM letter_subscribers")[0][0] == 0
        assert one_click(live, letter.header("List-Unsubscribe"), multipart=False).status_code == 200


# -- Reply-To: the mails that ask a member to answer reach the administrators, never `ne-pas-repondre@…` -------------

def revoke_and_send(app, confreres_for, email_address: str) -> None:
    run = confreres_for(app)
    granted = run("verify", "grant", email_address, "--rpps", "19900000449", "--last-name", "Benali",
                  "--first-name", "Karim", "--no-directory")
    assert granted.exit_code == 0, granted.output
    with app.app_context():  # what `confreres verify revoke` does, with this app's settings
        db = connect(app.config["DB"])
        try:
            account_id = actions_sql_one(db, "SELECT id FROM accounts WHERE email = ?", email_address)
            verification.revoke_report(app, db, account_id, "Inscription non retrouvée", actor="admin (test)")
        finally:
            db.close()
    outbox.deliver(app.config)


def actions_sql_one(db, query: str, *params):
    return db.conn.execute(query, params).fetchone()[0]


def test_a_revoked_member_who_answers_reaches_the_administrators(make_app, smtp, confreres_for):
    app = make_app(**smtp.config, SMTP_REPLY_TO="Administrateurs de Confrères <admin@blogs.test>", MAIL_SEND="cron")
    revoke_and_send(app, confreres_for, "karim@exemple.test")
    mail = smtp.mailbox.expect(to="karim@exemple.test", subject="révoquée")
    assert mail.message["Reply-To"].addresses[0].addr_spec == "admin@blogs.test"
    assert "répondez à ce message, il parvient aux administrateurs du réseau" in " ".join(mail.text.split())
    assert mail.addresses() == {"karim@exemple.test", "ne-pas-repondre@blogs.test", "admin@blogs.test"}


def test_without_a_reply_address_the_mail_does_not_ask_for_a_reply(make_app, smtp, confreres_for):
    app = make_app(**smtp.config, MAIL_SEND="cron")
    revoke_and_send(app, confreres_for, "karim@exemple.test")
    mail = smtp.mailbox.expect(to="karim@exemple.test", subject="révoquée")
    assert mail.header("Reply-To") is None
    text = " ".join(mail.text.split())
    assert "écrivez aux administrateurs du réseau" in text and "répondez" not in text


@pytest.mark.parametrize("value", ["pas une adresse", "a@b.fr, c@d.fr", "admin@localhost"])
def test_a_reply_address_that_is_not_one_stops_the_service_at_start(make_app, value):
    with pytest.raises(ConfigError, match="CONFRERES_SMTP_REPLY_TO"):
        make_app(SMTP_REPLY_TO=value)


# -- List-Id: each stream of notifications is one list that readers filter and providers tell apart -------------------

def test_each_stream_of_notifications_has_its_list_id(make_app, smtp, urls, confreres_for):
    app = make_app(**smtp.config)
    actions = Actions(app, app.test_client(), smtp.mailbox)
    bruno = actions.make_account("bruno@docteur-b.example", role="author", sites=["dr-b"], name="Dr Bruno B")
    actions.sql("INSERT INTO mail_addresses (email, created, confirmed) VALUES ('paul@exemple.fr', 'x', 'x')")
    asked = actions.comment("Une question", url=urls.POST_B, author="Paul", email="paul@exemple.fr", notify=True)
    actions.reply(asked | {"url": urls.POST_B}, "Ma réponse", author="Inès")
    author = smtp.mailbox.expect(to="bruno@docteur-b.example")
    reply = smtp.mailbox.expect(to="paul@exemple.fr", subject="vous a répondu")
    assert author.header("List-Id") == "Nouvelles de vos blogs <auteurs.blogs.test>"
    assert reply.header("List-Id") == "Réponses à vos commentaires <reponses.blogs.test>"
    for mail in (author, reply):  # RFC 2919: a phrase, whose specials would have to be quoted
        assert not set(':,;"') & set(mail.header("List-Id").partition("<")[0])
    actions.sql("UPDATE accounts SET notify_comments = 'daily' WHERE id = ?", (bruno["id"],))
    actions.comment("Pour le résumé", url=urls.POST_B, author="Jeanne")
    assert confreres_for(app)("notify", "digest").exit_code == 0
    digest = smtp.mailbox.expect(to="bruno@docteur-b.example", subject="Résumé du jour")
    assert digest.header("List-Id") == author.header("List-Id"), "the digest is the same stream"
    assert actions.request_link("paul@exemple.fr").status_code == 202
    signin = smtp.mailbox.expect(to="paul@exemple.fr", subject="connexion")
    assert signin.header("List-Id") is None, "a sign-in link is no list"


def test_the_letters_confirmation_lets_a_stranger_typed_inbox_refuse_all_mail(make_app, smtp):
    app = make_app(**smtp.config)
    actions = Actions(app, app.test_client(), smtp.mailbox)
    fields = {"email": "victime@example.org", "frequency": "weekly"}

    def ask():
        first = actions.client.post("/lettre", data=fields)  # the planet's static form, typed by anyone
        assert actions.submit(first, "/lettre", **fields).status_code == 303

    ask()
    mail = smtp.mailbox.expect(to="victime@example.org", subject="Confirmez votre abonnement")
    assert mail.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    header = mail.header("List-Unsubscribe").strip("<>")
    assert header in mail.links, "the same link in the text"
    one_click = app.test_client(use_cookies=False).post(actions.local(header), data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and "Désabonnement enregistré" in one_click.get_data(as_text=True)
    actions.sql("UPDATE outbox SET created = '2000-01-01T00:00:00Z'")  # later: past the hourly cap
    ask()
    assert len(smtp.mailbox.settle(0.5)) == 1, "« ne plus rien recevoir »: no more confirmations"


def test_each_reader_of_a_letter_gets_a_message_id_of_their_own(make_app, smtp, confreres_for):
    app = make_app(**smtp.config)
    actions = Actions(app, app.test_client(), smtp.mailbox)
    recent_posts(app)
    readers = ("lectrice@example.org", "lecteur@example.org", "troisieme@example.org")
    for reader in readers:
        subscribe(actions, reader)
    assert confreres_for(app)("letter", "send").exit_code == 0
    letters = [smtp.mailbox.expect(to=reader, subject="La lettre des confrères :") for reader in readers]
    ids = {letter.header("Message-ID") for letter in letters}
    assert len(ids) == 3 and all(re.fullmatch(r"<[^<>@\s]+@blogs\.test>", i) for i in ids), ids
    assert [letter.to for letter in letters] == list(readers)
    assert all(letter.header("Auto-Submitted") == "auto-generated" for letter in letters)
    assert all(letter.header("List-Id") == "La lettre des confrères <lettre.blogs.test>" for letter in letters)
