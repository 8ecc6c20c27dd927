"""Answers between blogs by mail: when a blog's build declares a post whose reply_to is a post of another
blog, the answered blog's authors hear of it once — at once, in the daily digest or never, as for new
comments — through the outbox and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from confreres.site_token import site_token
from tests.comments_service.mail import test_notices as notify_tests

ANSWER = "http://blogs.test/dr-a/reponse-au-dr-b.html"
LATER_B = "https://docteur-b.example/2024/billet-futur/"


# the app with a real SMTP server, and the authors of blogs A and B, as in the other notification tests
app, anne, bruno = notify_tests.app, notify_tests.anne, notify_tests.bruno


def declare(client, urls, slug: str, *extra: dict):
    """What each build does: PUT the blog's whole list of posts (with its site token)."""
    posts = [*urls.POSTS[slug]["posts"], *extra]
    response = client.put(
        f"/api/sites/{slug}/posts", json={"posts": posts}, headers={"Authorization": f"Bearer {site_token(urls.SECRET, slug)}"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def answer(title="Ma réponse au Dr B", reply_to=None, **fields) -> dict:
    return {"url": ANSWER, "title": title, "date": "2024-04-01", "reply_to": reply_to,
            "excerpt": "Je ne suis pas d'accord avec mon confrère.", **fields}


def outbox(actions, kind: str):
    return actions.sql("SELECT recipient, subject FROM outbox WHERE kind = ? ORDER BY id", (kind,))


def test_an_answer_mails_the_answered_blogs_authors_once(actions, anne, bruno, smtp, urls, client):
    declare(client, urls, "dr-a", answer(reply_to=urls.POST_B))
    mail = smtp.mailbox.expect(to="bruno@docteur-b.example")
    assert mail.subject == "Dr Anne A a répondu à votre billet « Billet B »"
    assert "Bonjour Dr Bruno B," in mail.text
    assert f"Dr Anne A a répondu à votre billet « Billet B » sur son blog : {ANSWER}" in mail.text
    assert "« Ma réponse au Dr B » — Le carnet du Dr A" in mail.text and "pas d'accord" in mail.text
    assert mail.header("List-Unsubscribe").startswith("<http://blogs.test/comments/notify/unsubscribe?token=")
    assert mail.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert mail.addresses() == {"bruno@docteur-b.example", "ne-pas-repondre@blogs.test"}

    # every rebuild declares it again; an edit, an unlisting and a comeback are no news either
    declare(client, urls, "dr-a", answer(reply_to=urls.POST_B))
    declare(client, urls, "dr-a", answer("Titre corrigé", reply_to=urls.POST_B))
    declare(client, urls, "dr-a")
    declare(client, urls, "dr-a", answer(reply_to=urls.POST_B))
    assert [tuple(r) for r in outbox(actions, "answer")] == [
        ("bruno@docteur-b.example", "Dr Anne A a répondu à votre billet « Billet B »")
    ]
    assert not smtp.mailbox.to("anne@dr-a.test"), "the answering blog's author hears nothing"


def test_an_answer_within_one_blog_or_by_the_same_author_is_no_news(actions, anne, smtp, urls, client):
    declare(client, urls, "dr-a", answer(reply_to=urls.POST_A))  # dr-a answers itself
    anne_on_b = actions.make_account("anne@dr-a.test", sites=["dr-b"])  # Anne also writes blog B
    declare(client, urls, "dr-a", answer(reply_to=urls.POST_B))
    assert anne_on_b["id"] == anne["id"]
    assert outbox(actions, "answer") == []


def test_a_post_answered_before_it_was_declared_is_told_when_it_is(actions, bruno, smtp, urls, client):
    declare(client, urls, "dr-a", answer(reply_to=LATER_B))
    assert outbox(actions, "answer") == [], "the answered post is not known yet"
    declare(client, urls, "dr-b", {"url": LATER_B, "title": "Billet futur", "date": "2024-05-01"})
    mail = smtp.mailbox.expect(to="bruno@docteur-b.example")
    assert mail.subject == "Dr Anne A a répondu à votre billet « Billet futur »"
    declare(client, urls, "dr-a", answer(reply_to=LATER_B))
    assert len(outbox(actions, "answer")) == 1


def test_the_daily_digest_includes_answers_once(actions, bruno, smtp, urls, client, confreres):
    actions.sql("UPDATE accounts SET notify_comments = 'daily' WHERE id = ?", (bruno["id"],))
    declare(client, urls, "dr-a", answer(reply_to=urls.POST_B))
    actions.comment("Bravo pour ce billet", url=urls.POST_B, author="Paul")
    assert outbox(actions, "answer") == [] and outbox(actions, "new_comment") == []

    result = confreres("notify", "digest")
    assert result.exit_code == 0, result.output
    assert "1 résumé(s) (1 commentaire(s), 1 réponse(s) de confrères)" in result.output
    digest = smtp.mailbox.expect(to="bruno@docteur-b.example")
    assert digest.subject == "Résumé du jour : 1 nouveau commentaire, 1 réponse d'un confrère"
    assert "Bravo pour ce billet" in digest.text
    assert f"Dr Anne A a répondu à votre billet « Billet B » sur son blog : {ANSWER}" in digest.text

    declare(client, urls, "dr-a", answer(reply_to=urls.POST_B))
    again = confreres("notify", "digest")
    assert "0 résumé(s)" in again.output
    assert len(outbox(actions, "digest")) == 1, "an answer is never in two digests"

    declare(client, urls, "dr-b", {"url": LATER_B, "title": "Billet futur", "date": "2024-05-01"})
    declare(client, urls, "dr-a", answer(reply_to=urls.POST_B),
            {"url": ANSWER.replace(".html", "-2.html"), "title": "Deuxième réponse", "reply_to": LATER_B})
    confreres("notify", "digest")
    (_, second) = [m for m in smtp.mailbox.wait(2) if m.subject.startswith("Résumé")]
    assert second.subject == "Résumé du jour : 1 réponse d'un confrère"
    assert "« Billet futur »" in second.text and "Billet B" not in second.text
    assert "Voici les réponses des confrères à vos billets" in second.text


def test_never_means_no_mail_and_the_unsubscribe_link_says_never(actions, bruno, smtp, urls, client):
    declare(client, urls, "dr-b", {"url": LATER_B, "title": "Billet futur", "date": "2024-05-01"})
    declare(client, urls, "dr-a", answer(reply_to=urls.POST_B))
    mail = smtp.mailbox.expect(to="bruno@docteur-b.example")
    link = mail.header("List-Unsubscribe").strip("<>")
    assert link in mail.links
    one_click = actions.app.test_client().post(actions.local(link), data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert actions.sql("SELECT notify_comments FROM accounts WHERE id = ?", (bruno["id"],))[0][0] == "never"

    declare(client, urls, "dr-a", answer(reply_to=urls.POST_B),
            {"url": ANSWER.replace(".html", "-2.html"), "title": "Deuxième réponse", "reply_to": LATER_B})
    assert len(outbox(actions, "answer")) == 1
    assert actions.sql("SELECT COUNT(*) FROM answer_notices")[0][0] == 1


def test_answers_declared_without_the_service_are_mailed_by_notify_send(actions, bruno, smtp, urls, confreres):
    """`confreres import wordpress` (or any script) may declare posts straight into the database."""
    from comments_service.actions.posts import sync_posts
    from comments_service.core.db import connect

    db = connect(actions.app.config["DB"])
    try:
        sync_posts(db, actions.app.extensions["confreres_network"], "dr-a",
                         {"posts": [*urls.POSTS["dr-a"]["posts"], answer(reply_to=urls.POST_B)]})
    finally:
        db.close()
    assert outbox(actions, "answer") == []
    result = confreres("notify", "send")
    assert result.exit_code == 0, result.output
    assert smtp.mailbox.expect(to="bruno@docteur-b.example").subject.startswith("Dr Anne A a répondu")
    assert confreres("notify", "send").exit_code == 0
    assert len(outbox(actions, "answer")) == 1
