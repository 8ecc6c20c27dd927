"""Badge honesty (issue 6, and its twin in issue 5): "Médecin vérifié" only where the verification records say so.

A real network on disk (two blogs answering each other, and the planet), built by the real build,
next to the real comment service served over HTTP on 127.0.0.1. Dr A's account is linked to blog
dr-a and verified; Dr B's account is linked to dr-b and is not. The planet, the blogs' static
cross-links and the answers of the thread JSON show the badge for dr-a's author only; after a
revocation and a rebuild, nowhere; with the service down, the build succeeds without badges.
"""

from __future__ import annotations

import threading

import httpx
import pytest
from bs4 import BeautifulSoup
from werkzeug.serving import make_server

from comments_service import create_app
from comments_service.core.db import connect
from comments_service.domain import accounts
from comments_service.domain import verification as verify
from confreres import build, registry
from tests.confreres.conftest import write_post
from tests.planet.conftest import make_planet_network

BASE = "http://127.0.0.1:8000/"
SECRET = "badges-test-secret"
LABEL = "Médecin vérifié · Médecine générale"
RPPS_A = "10000001015"  # passes Luhn (tests.comments_service.directory_kit would put bench/ first on sys.path)


def make_network(root, comments_url: str) -> registry.Network:
    """Two blogs of one post each, and each answers the other's post; the planet."""
    network = make_planet_network(root, [], comments_url, posts=1, base=BASE)
    for slug, other in (("dr-a", "dr-b"), ("dr-b", "dr-a")):
        write_post(network.root / "sites" / slug, "reponse", f"{slug} répond", date="2025-03-05 09:00",
                   reply_to=f"{BASE}{other}/{other}-billet-0.html")
    return network


@pytest.fixture
def world(tmp_path, monkeypatch):
    """The service on a free port (its URL is the network's comments_url), the network, the two accounts."""
    holder = {}
    httpd = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    comments_url = f"http://127.0.0.1:{httpd.server_port}/"
    network = make_network(tmp_path / "network", comments_url)
    service = create_app({
        "TESTING": True, "SECRET_KEY": SECRET, "NETWORK": str(network.source), "DB": str(tmp_path / "c.sqlite3"),
        "RATE_LIMIT": "off", "READ_RATE_LIMIT": "off",
    })
    holder["app"] = service
    monkeypatch.setenv("CONFRERES_SECRET_KEY", SECRET)  # the build announces its posts to the service
    db = connect(service.config["DB"])
    try:
        author_a, _ = accounts.ensure_account(db, "a@exemple.test", role="author", display_name="Dr A", sites=("dr-a",))
        accounts.ensure_account(db, "b@exemple.test", role="author", display_name="Dr B", sites=("dr-b",))
        with service.app_context():
            verify.grant(service, db, author_a["id"], RPPS_A, "Lefebvre", "Claire", check_directory=False,
                         specialty="Médecine générale")
        db.conn.execute("UPDATE accounts SET show_specialty = 1 WHERE id = ?", (author_a["id"],))
        db.conn.commit()
    finally:
        db.close()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield network, service, author_a["id"], httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def run_build(network, force=False):
    results = build.build(network, progress=False, force=force)
    assert all(r.ok for r in results), [r.error for r in results]
    for result in results:
        if not result.skipped:
            assert build.announce_posts(network, network.site(result.slug), result.articles)
    return {r.slug: r for r in results}


def page(network, path: str) -> BeautifulSoup:
    return BeautifulSoup((network.output / path).read_text(encoding="utf-8"), "html.parser")


def badges_shown(network) -> dict[str, list[str]]:
    """Every badge of the static output, by where it is shown."""
    found = {}
    for slug in ("dr-a", "dr-b"):
        for name in (f"{slug}-billet-0", "reponse"):
            article = page(network, f"{slug}/{name}.html")
            for where in (".reply-to", ".answers", ".conversation"):
                for block in article.select(where):
                    found[f"{slug}/{name} {where}"] = [b.get_text(strip=True) for b in block.select(".badge")]
    for where in ("index.html", "blogs/index.html", "blogs/dr-a/index.html", "blogs/dr-b/index.html"):
        found[where] = [b.get_text(strip=True) for b in page(network, where).select(".badge--verified")]
    return found


def answer_badges(network) -> dict[str, object]:
    """GET /api/comments: the author badge of each answer, by answered post."""
    result = {}
    for slug in ("dr-a", "dr-b"):
        url = f"{BASE}{slug}/{slug}-billet-0.html"
        thread = httpx.get(network.comments_url + "api/comments", params={"url": url}).json()
        (answer,) = thread["answers"]
        result[slug] = answer["author"]["badge"]
    return result


def test_the_badge_shows_for_the_verified_author_only_and_leaves_on_revocation(world):
    network, service, author_a, _ = world
    run_build(network)

    # thread JSON: dr-b's post is answered by dr-a (verified), dr-a's by dr-b (not)
    answers = answer_badges(network)
    assert answers["dr-b"]["label"] == LABEL and answers["dr-a"] is None

    shown = badges_shown(network)
    assert shown["dr-b/reponse .reply-to"] == [LABEL], "« En réponse à « Billet 0 de dr-a », de Dr Dr-A »"
    assert shown["dr-a/reponse .reply-to"] == [], "dr-a answers dr-b, whose author is not verified"
    assert shown["dr-b/dr-b-billet-0 .answers"] == [LABEL], "« Réponses des confrères »: Dr A's answer"
    assert shown["dr-a/dr-a-billet-0 .answers"] == [], "Dr B's answer: no badge"
    for debate in ("dr-a/dr-a-billet-0", "dr-a/reponse", "dr-b/dr-b-billet-0", "dr-b/reponse"):
        assert shown[f"{debate} .conversation"] == [LABEL], "each debate names Dr A once, Dr B once"
    assert shown["index.html"] == [LABEL, LABEL], "the planet: dr-a's two posts, not dr-b's"
    assert shown["blogs/index.html"] == [LABEL] and shown["blogs/dr-b/index.html"] == []
    assert LABEL in shown["blogs/dr-a/index.html"]

    # the moderators revoke Dr A's verification; the next build (not forced) takes the badge off everywhere
    db = connect(service.config["DB"])
    try:
        with service.app_context():
            verify.revoke(service, db, author_a, "Radiation constatée par le conseil de l'Ordre")
    finally:
        db.close()
    assert answer_badges(network) == {"dr-a": None, "dr-b": None}
    results = run_build(network)
    assert not results["dr-b"].skipped, "dr-b names Dr A in its cross-links: rebuilt for the badge"
    assert all(badges == [] for badges in badges_shown(network).values()), badges_shown(network)


def test_a_service_that_is_down_means_no_badges_and_a_build_that_succeeds(world):
    network, _service, _author_a, httpd = world
    run_build(network)
    assert badges_shown(network)["dr-b/dr-b-billet-0 .answers"] == [LABEL]
    httpd.shutdown()
    httpd.server_close()
    results = build.build(network, progress=False, force=True)
    assert all(r.ok for r in results), [r.error for r in results]
    assert all(badges == [] for badges in badges_shown(network).values()), badges_shown(network)
    # the planet still lists every post
    assert len(page(network, "index.html").select("article.planet-entry")) == 4
