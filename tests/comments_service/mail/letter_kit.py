"""Steps of the letter's tests: recent posts on the test network, and a subscription made as a reader makes it
(the static page's form, the service's page, the confirmation link from the real SMTP server's mailbox)."""

from __future__ import annotations

from datetime import timedelta

from comments_service.actions.posts import sync_posts
from comments_service.core.db import connect
from comments_service.domain.posts import iso, utcnow
from tests.conftest import BLOG_A, BLOG_B, POSTS

NEW_A = BLOG_A + "billet-de-la-semaine.html"
NEW_A_ANSWER = BLOG_A + "reponse-au-dr-b.html"
NEW_B = BLOG_B + "2026/billet-recent/"


def recent_posts(app, days_ago: float = 2) -> None:
    """Two new posts on dr-a (one answers a new post of dr-b: a debate) and one on dr-b, `days_ago` days old."""
    when = iso(utcnow() - timedelta(days=days_ago))
    a = {"posts": POSTS["dr-a"]["posts"] + [
        {"url": NEW_A, "title": "Les gardes <em>de nuit</em>", "date": when,
         "excerpt": "Une nuit de garde en zone rurale, racontée sans fard."},
        {"url": NEW_A_ANSWER, "title": "Réponse au Dr B", "date": when, "reply_to": NEW_B, "excerpt": "Je ne suis pas d'accord."},
    ]}
    b = {"posts": POSTS["dr-b"]["posts"] + [
        {"url": NEW_B, "title": "Le temps de consultation", "date": when, "excerpt": "Quinze minutes, vraiment ?"},
    ]}
    db = connect(app.config["DB"])
    try:
        network = app.extensions["confreres_network"]
        sync_posts(db, network, "dr-a", a)
        sync_posts(db, network, "dr-b", b)
    finally:
        db.close()


def subscribe(actions, email: str, frequency: str = "weekly", specialties=(), sites=()):
    """Post the static page's form (no CSRF token), press « M'abonner » on the service's page, then confirm
    from the mail: returns the confirmation page's response."""
    since = len(actions.mailbox.mails)
    fields = {"email": email, "frequency": frequency, "specialties": list(specialties), "sites": list(sites)}
    first = actions.client.post("/lettre", data=fields)
    assert first.status_code == 200, first.get_data(as_text=True)
    sent = actions.submit(first, "/lettre", **fields)
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/lettre/envoye"), sent.get_data(as_text=True)
    mail = actions.mailbox.expect(to=email, subject="Confirmez votre abonnement", since=since)
    page = actions.open(mail.link("/lettre/confirmer"))
    assert page.status_code == 200 and "Je confirme" in page.get_data(as_text=True)
    done = actions.submit(page, "/lettre/confirmer")
    assert done.status_code == 200 and "Abonnement confirmé" in done.get_data(as_text=True), done.get_data(as_text=True)
    return done
