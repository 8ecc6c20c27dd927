"""The static snapshot of long and deep threads, and of threads the service failed to give (issue 10, item 8).

A real network built by the real build next to the real comment service over HTTP (test_fresh_comments'
`world`). The snapshot holds the thread's first page and links the service's page for the rest; a chain of
1,000 replies is shown capped; a thread the service answered with an error is never shown as « Aucun commentaire ».
"""

from __future__ import annotations

import re

from tests.confreres.test_fresh_comments import BASE, POST_A, run_build, world  # noqa: F401  (the shared fixture)
from tests.threads_kit import write_thread

POST_A1 = f"{BASE}dr-a/dr-a-billet-1.html"


def test_the_snapshot_holds_the_first_page_links_the_rest_and_caps_deep_chains(world):  # noqa: F811
    run_build(world.network)  # the service learns the posts
    write_thread(world.service.config["DB"], POST_A, roots=60)
    chain = write_thread(world.service.config["DB"], POST_A1, replies=999)
    run_build(world.network)

    page = world.page("dr-a/dr-a-billet-0.html")
    assert len(page.select(".comments-snapshot > ol > li")) == 50
    more = page.select_one(".comments-snapshot .comments-more a")
    assert more.get_text(strip=True) == "Commentaires suivants (10)"
    assert more["href"].startswith(world.network.comments_url + "thread?url=") and "page=2" in more["href"]

    deep = world.page("dr-a/dr-a-billet-1.html")
    assert len(deep.select(".comments-snapshot li.comment")) == 200  # a page is bounded in comments too
    last = deep.find(id=f"comment-{chain[199]}").find_parent("li")
    assert len(last.find_parents("ol", class_="comment-replies")) == 4  # five levels shown
    assert last.select_one(".comment-parent").get_text(strip=True) == "en réponse à Auteur r0-198"
    more = deep.select_one(".comments-snapshot .comments-more a")
    assert more.get_text(strip=True) == "Commentaires suivants (800)" and "page=2" in more["href"]


def test_a_thread_the_service_fails_to_give_is_not_shown_as_without_comments(world):  # noqa: F811
    run_build(world.network)
    write_thread(world.service.config["DB"], POST_A, roots=3)
    service = world.holder["service"]

    def failing(environ, start_response):
        """The real service, except that its thread reads fail (as a 1,000-deep chain made them fail)."""
        if environ["PATH_INFO"].endswith("/api/comments"):
            body = b'{"error": {"code": "internal", "message": "Erreur interne.", "field": null}}'
            start_response("500 Internal Server Error", [("Content-Type", "application/json"),
                                                         ("Content-Length", str(len(body)))])
            return [body]
        return service(environ, start_response)

    world.holder["app"] = failing
    run_build(world.network)
    failed = world.page("dr-a/dr-a-billet-0.html").select_one(".comments-snapshot")
    assert "Aucun commentaire" not in failed.get_text()
    assert "n'ont pas pu être chargés" in failed.get_text()
    assert failed.select_one(".comments-unknown a")["href"].startswith(world.network.comments_url + "thread?url=")
    other = world.page("dr-a/dr-a-billet-1.html").select_one(".comments-snapshot")
    assert re.search("Aucun commentaire pour l'instant", other.get_text()), "counted as none: truly none"

    world.holder["app"] = lambda environ, start: start("503 Service Unavailable", [("Content-Length", "0")]) or [b""]
    from confreres import build

    results = build.build(world.network, progress=False, force=True)
    assert all(r.ok for r in results)
    for post in ("dr-a-billet-0", "dr-a-billet-1"):
        text = world.page(f"dr-a/{post}.html").select_one(".comments-snapshot").get_text()
        assert "Aucun commentaire" not in text and "n'ont pas pu être chargés" in text, post


def test_each_comment_of_the_snapshot_links_its_reply_form(world):  # noqa: F811
    """Without JavaScript the static copy had one « Commenter (sans JavaScript) » link at its foot: answering one
    comment meant finding it again on the service's page. Each comment now links the service's form answering it
    (the widget removes the copy)."""
    from urllib.parse import parse_qs, urlsplit

    from bs4 import BeautifulSoup

    run_build(world.network)
    ids = write_thread(world.service.config["DB"], POST_A, roots=2, replies=1)
    run_build(world.network)
    links = world.page("dr-a/dr-a-billet-0.html").select(".comments-snapshot .comment-actions a")
    assert [a.get_text(" ", strip=True) for a in links] == [
        "Répondre à Auteur r0", "Répondre à Auteur r0-1", "Répondre à Auteur r1", "Répondre à Auteur r1-1"]
    href = links[2]["href"]
    assert href.startswith(world.network.comments_url + "thread?url=") and href.endswith(f"parent={ids[2]}#form")
    query = parse_qs(urlsplit(href).query)
    assert query["url"] == [POST_A]
    answered = world.service.test_client().get("/thread", query_string={k: v[0] for k, v in query.items()})
    heading = BeautifulSoup(answered.get_data(as_text=True), "html.parser").find(id="ecrire")
    assert heading.get_text(strip=True) == "Répondre à Auteur r1"
