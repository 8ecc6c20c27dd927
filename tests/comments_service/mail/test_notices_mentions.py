"""Mails for received Webmentions awaiting moderation, through a real SMTP server: the blog's authors hear
of them as of pending comments (at once, in the daily digest, or never), with the same one-click signed
approve / reject links behind a confirmation page.

The mentions are real: a page served on loopback links to the post, is sent as a Webmention and verified
by the service's own drain, as the background worker or cron would.
"""

from __future__ import annotations

import html

import pytest

from comments_service.actions import mentions as mention_actions
from tests.comments_service.web.test_webmention import h_entry
from tests.loopback import LoopbackServer


@pytest.fixture
def server():
    with LoopbackServer() as running:
        yield running


@pytest.fixture
def app(make_app, smtp, server):
    return make_app(**smtp.config, WEBMENTION_ALLOW_HOSTS=server.host, WEBMENTION_WORKER=False)


@pytest.fixture
def anne(actions):
    """The author of blog A (first-comment policy: a first mention from a site waits), mailed at once."""
    return actions.make_account("anne@dr-a.test", role="author", sites=["dr-a"], name="Dr Anne A")


def send(app, server, path: str, target: str, text: str) -> dict:
    """An outside page at `path` mentions `target`: sent as a Webmention and verified; the drain's result."""
    server.route(path, h_entry(target, text))
    response = app.test_client().post("/webmention", data={"source": server.url(path), "target": target})
    assert response.status_code == 202, response.get_data(as_text=True)
    (result,) = mention_actions.drain(app)
    return result


def mention_mails(actions) -> int:
    return actions.sql("SELECT COUNT(*) FROM outbox WHERE kind = 'new_mention'")[0][0]


def test_a_pending_mention_mails_the_author_once_and_its_link_approves_it_once(actions, anne, smtp, server, urls):
    result = send(actions.app, server, "/sur-a.html", urls.POST_A, "Je cite le blog A.")
    assert result["status"] == "pending"
    mail = smtp.mailbox.expect(to="anne@dr-a.test")
    assert mail.subject == "Mention à valider sur « Premier billet »"
    assert "Bonjour Dr Anne A," in mail.text and "Dr Externe a cité « Premier billet »" in mail.text
    assert "Je cite le blog A." in mail.text and server.url("/reponse.html") in mail.links
    assert "<script" not in mail.text and "__xss" not in mail.text
    assert mail.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert mail.header("List-Unsubscribe").startswith("<http://blogs.test/comments/notify/unsubscribe?token=")
    assert mail.addresses() == {"anne@dr-a.test", "ne-pas-repondre@blogs.test"}

    server.route("/sur-a.html", h_entry(urls.POST_A, "Je cite le blog A, corrigé."))
    actions.app.test_client().post("/webmention", data={"source": server.url("/sur-a.html"), "target": urls.POST_A})
    (again,) = mention_actions.drain(actions.app)
    assert again["result"] == "updated" and again["status"] == "pending"
    assert mention_mails(actions) == 1, "a mention is told once, whatever its source sends later"

    approve, reject = [link for link in mail.links if "/moderation/act" in link]
    page = actions.open(approve)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Approuver cette mention ?" in text and "Dr Externe" in text
    assert actions.open(approve).status_code == 200, "a mail scanner's prefetch changes nothing"
    assert actions.thread(urls.POST_A).get_json()["mentions"] == []

    done = actions.submit(page, "/moderation/act")
    assert done.status_code == 200 and "Mention approuvée" in done.get_data(as_text=True)
    (shown,) = actions.thread(urls.POST_A).get_json()["mentions"]
    assert shown["id"] == result["mention"]

    replay = actions.open(approve)
    assert replay.status_code == 410 and "déjà servi" in replay.get_data(as_text=True)
    assert actions.submit(page, "/moderation/act").status_code == 410
    late = actions.open(reject)
    assert late.status_code == 409
    assert "Cette mention a déjà été traitée : elle est approuvée." in html.unescape(late.get_data(as_text=True))
    assert actions.sql("SELECT status FROM mentions")[0][0] == "approved"


def test_the_reject_link_rejects_a_mention_and_a_deleted_mention_is_gone(actions, anne, smtp, server, urls):
    send(actions.app, server, "/un.html", urls.POST_A, "Premier lien.")
    send(actions.app, server, "/deux.html", urls.POST_A2, "Second lien.")
    first = smtp.mailbox.expect(to="anne@dr-a.test", subject="Premier billet")
    second = smtp.mailbox.expect(to="anne@dr-a.test", subject="Second billet")
    reject = [link for link in first.links if "/moderation/act" in link][1]
    page = actions.open(reject)
    assert "Rejeter cette mention ?" in page.get_data(as_text=True)
    assert actions.submit(page, "/moderation/act").status_code == 200
    assert actions.sql("SELECT status FROM mentions WHERE source LIKE '%/un.html'")[0][0] == "rejected"

    actions.sql("DELETE FROM mentions WHERE source LIKE '%/deux.html'")
    gone = actions.open(second.link("/moderation/act"))
    assert gone.status_code == 400 and "Cette mention n'existe plus." in html.unescape(gone.get_data(as_text=True))


def test_another_blogs_author_gets_nothing_and_a_published_mention_mails_no_one(make_app, smtp, server, urls):
    from tests.conftest import Actions

    app = make_app(**smtp.config, WEBMENTION_ALLOW_HOSTS=server.host, WEBMENTION_WORKER=False, MODERATION="none")
    actions = Actions(app, app.test_client(), smtp.mailbox)
    actions.make_account("anne@dr-a.test", role="author", sites=["dr-a"])
    actions.make_account("bruno@docteur-b.example", role="author", sites=["dr-b"])
    assert send(app, server, "/sur-a.html", urls.POST_A, "Publié d'emblée.")["status"] == "approved"
    assert mention_mails(actions) == 0

    pending_app = make_app(**smtp.config, WEBMENTION_ALLOW_HOSTS=server.host, WEBMENTION_WORKER=False, MODERATION="all")
    assert send(pending_app, server, "/sur-b.html", urls.POST_B, "Pour le blog B.")["status"] == "pending"
    assert [r[0] for r in actions.sql("SELECT recipient FROM outbox WHERE kind = 'new_mention'")] == ["bruno@docteur-b.example"]


def test_never_and_unsubscribe_mean_no_mention_mail(actions, anne, smtp, server, urls):
    actions.comment("Un commentaire", url=urls.POST_A, email="lecteur@exemple.fr")
    link = smtp.mailbox.expect(to="anne@dr-a.test").header("List-Unsubscribe").strip("<>")
    fresh = actions.app.test_client()
    assert fresh.post(actions.local(link), data={"List-Unsubscribe": "One-Click"}).status_code == 200
    send(actions.app, server, "/sur-a.html", urls.POST_A, "Après le désabonnement.")
    assert mention_mails(actions) == 0
    assert actions.sql("SELECT COUNT(*) FROM mention_notices")[0][0] == 0


def test_the_daily_digest_includes_pending_mentions_with_working_links(actions, anne, smtp, server, urls, confreres):
    actions.sql("UPDATE accounts SET notify_comments = 'daily' WHERE id = ?", (anne["id"],))
    send(actions.app, server, "/sur-a.html", urls.POST_A, "Je cite le blog A.")
    send(actions.app, server, "/encore.html", urls.POST_A2, "Une autre mention.")
    assert actions.sql("SELECT COUNT(*) FROM outbox")[0][0] == 0, "nothing until the digest"

    result = confreres("notify", "digest")
    assert result.exit_code == 0, result.output
    assert "1 résumé(s) (0 commentaire(s), 2 mention(s) à valider)" in result.output
    (digest,) = smtp.mailbox.wait(1)
    assert digest.recipients == ["anne@dr-a.test"]
    assert digest.subject == "Résumé du jour : 2 mentions à valider"
    text = digest.text
    assert "== Mentions reçues (Webmention) à valider ==" in text
    assert "Je cite le blog A." in text and "Une autre mention." in text and "« Second billet »" in text
    links = [link for link in digest.links if "/moderation/act" in link]
    assert len(links) == 4

    assert "0 résumé(s)" in confreres("notify", "digest").output, "a mention is never in two digests"
    assert actions.sql("SELECT COUNT(*) FROM outbox WHERE kind = 'digest'")[0][0] == 1

    assert actions.submit(actions.open(links[0]), "/moderation/act").status_code == 200
    assert actions.sql("SELECT status FROM mentions ORDER BY id")[0][0] == "approved"
    assert actions.open(links[0]).status_code == 410


def test_a_mention_decided_before_the_digest_is_left_out(actions, anne, smtp, server, urls, confreres):
    actions.sql("UPDATE accounts SET notify_comments = 'daily' WHERE id = ?", (anne["id"],))
    send(actions.app, server, "/sur-a.html", urls.POST_A, "Déjà traitée.")
    actions.sql("UPDATE mentions SET status = 'approved'")
    result = confreres("notify", "digest")
    assert "0 résumé(s)" in result.output
    assert actions.sql("SELECT COUNT(*) FROM mention_notices WHERE queued IS NULL")[0][0] == 0
