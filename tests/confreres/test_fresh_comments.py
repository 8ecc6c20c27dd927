"""A cron `confreres build` keeps the static comments fresh, rebuilding only what the comment service changed.

A real network on disk (two blogs with the comments plugin, and the planet), built by the real build,
next to the real comment service served over HTTP on 127.0.0.1. A comment approved on a post of dr-a:
the next build (not forced) rebuilds dr-a (its page shows the comment) and the planet (its count and
« Débats en cours »), not dr-b. Nothing changed: nothing is rebuilt, not even the planet. The service
down: nothing is rebuilt, the command exits 0; a blog built while the service answered errors has no
snapshot and is rebuilt once it answers again.
"""

from __future__ import annotations

import threading

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from werkzeug.serving import make_server

from comments_service import create_app
from comments_service.core.db import connect
from comments_service.domain import comments as store
from comments_service.domain import validate
from comments_service.domain.posts import get_post
from confreres import build, planet_build, registry
from confreres.cli import cli
from tests.confreres.conftest import write_post
from tests.planet.conftest import make_planet_network

BASE = "http://127.0.0.1:8000/"
SECRET = "fresh-test-secret"
POST_A = f"{BASE}dr-a/dr-a-billet-0.html"
COMMENT = "Les gardes de nuit, on en reparle à la prochaine réunion de secteur."


class World:
    def __init__(self, network: registry.Network, service, httpd):
        self.network, self.service, self.httpd = network, service, httpd

    def live(self) -> dict[str, str]:
        """Where each blog's and the planet's live link points: a new target is a rebuild."""
        out = self.network.output
        return {name: str((out / name).resolve()) for name in ("dr-a", "dr-b", planet_build.LIVE)}

    def approve_comment(self, url: str = POST_A, text: str = COMMENT):
        db = connect(self.service.config["DB"])
        try:
            post = get_post(db, url)
            data = validate.CommentInput(url=url, text=text, author="Dr Paul Martin", email="paul@exemple.test")
            store.add_comment(db, self.network, post, data, policy="none")
        finally:
            db.close()

    def page(self, path: str) -> BeautifulSoup:
        return BeautifulSoup((self.network.output / path).read_text(encoding="utf-8"), "html.parser")


@pytest.fixture
def world(tmp_path, monkeypatch):
    holder = {}
    httpd = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    network = make_planet_network(tmp_path / "network", [], f"http://127.0.0.1:{httpd.server_port}/", posts=2,
                                  base=BASE)
    service = create_app({
        "TESTING": True, "SECRET_KEY": SECRET, "NETWORK": str(network.source), "DB": str(tmp_path / "c.sqlite3"),
        "RATE_LIMIT": "off", "READ_RATE_LIMIT": "off",
    })
    holder["app"] = service
    holder["service"] = service
    monkeypatch.setenv("CONFRERES_SECRET_KEY", SECRET)  # the build announces its posts to the service
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    world = World(network, service, httpd)
    world.holder = holder
    try:
        yield world
    finally:
        httpd.shutdown()
        httpd.server_close()


def run_build(network) -> dict[str, object]:
    """The sites' results by slug, and the planet's under "planet"."""
    results = build.build(network, progress=False)
    assert all(r.ok for r in results), [r.error for r in results]
    for result in results:
        if not result.skipped:
            assert build.announce_posts(network, network.site(result.slug), result.articles)
    return {**{r.slug: r for r in results}, "planet": results.planet}


def comments_shown(world, slug: str, post: str) -> list[str]:
    return [c.get_text(" ", strip=True) for c in world.page(f"{slug}/{post}.html").select(".comments-snapshot .comment-text")]


def planet_count(world, url: str) -> str:
    """The comment count the planet's front page shows for a post."""
    (link,) = world.page("index.html").select(f'.planet-entry .post-meta a[href="{url}#commentaires"]')
    return link.get_text(strip=True)


def test_a_comment_approved_rebuilds_its_blog_and_the_planet_only(world):
    network = world.network
    run_build(network)  # the service learns the posts: threads open
    assert comments_shown(world, "dr-a", "dr-a-billet-0") == []
    assert planet_count(world, POST_A) == "0 commentaire"
    before = world.live()

    results = run_build(network)
    assert all(r.skipped for r in results.values()), "announcing posts without comments changes nothing"
    assert world.live() == before, "nothing changed: nothing rebuilt, not even the planet"

    world.approve_comment()
    results = run_build(network)
    assert not results["dr-a"].skipped and results["dr-a"].reason == "comments"
    assert results["dr-b"].skipped
    after = world.live()
    assert after["dr-a"] != before["dr-a"] and after["dr-b"] == before["dr-b"]
    assert not results["planet"].skipped
    assert after[planet_build.LIVE] != before[planet_build.LIVE], "the planet shows the new count"
    assert comments_shown(world, "dr-a", "dr-a-billet-0") == [COMMENT]
    assert planet_count(world, POST_A) == "1 commentaire"
    debates = [a.get_text(strip=True) for a in world.page("debats/index.html").select(".planet-debates a")]
    assert debates == ["Billet 0 de dr-a"], "« Débats en cours »"

    results = run_build(network)
    assert all(r.skipped for r in results.values()) and world.live() == after, "and then nothing again"


IMPORTED = "Merci pour ce billet, lu sur l'ancien blog."
WXR = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Ancien blog</title><link>https://ancien-blog.example/</link><wp:wxr_version>1.2</wp:wxr_version>
<item><title>Billet 0 de dr-a</title><link>https://ancien-blog.example/2019/03/dr-a-billet-0/</link>
<wp:post_id>7</wp:post_id><wp:post_name>dr-a-billet-0</wp:post_name><wp:status>publish</wp:status>
<wp:post_type>post</wp:post_type>
<wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_author>Lectrice fidèle</wp:comment_author>
<wp:comment_date_gmt>2019-03-02 10:00:00</wp:comment_date_gmt><wp:comment_content>{IMPORTED}</wp:comment_content>
<wp:comment_approved>1</wp:comment_approved><wp:comment_type></wp:comment_type><wp:comment_parent>0</wp:comment_parent>
</wp:comment></item></channel></rss>
"""


def test_imported_comments_reach_the_pages_text_at_the_next_build(world, tmp_path):
    """The README's last step of moving a blog in: `import comments`, then `build` (or cron's) writes them into
    the pages; until then the page's own copy still says there are none."""
    from comments_service.importers import wordpress

    network = world.network
    run_build(network)
    export = tmp_path / "export.xml"
    export.write_text(WXR, encoding="utf-8")
    db = connect(world.service.config["DB"])
    try:
        assert wordpress.import_wordpress(db, network, "dr-a", export).imported == 1
    finally:
        db.close()
    assert comments_shown(world, "dr-a", "dr-a-billet-0") == []
    results = run_build(network)
    assert not results["dr-a"].skipped and results["dr-a"].reason == "comments"
    assert comments_shown(world, "dr-a", "dr-a-billet-0") == [IMPORTED]


def test_a_comment_on_the_other_blog_rebuilds_that_blog_only(world):
    network = world.network
    run_build(network)
    before = world.live()
    world.approve_comment(f"{BASE}dr-b/dr-b-billet-1.html", "Merci, confrère.")
    results = run_build(network)
    assert results["dr-a"].skipped and not results["dr-b"].skipped
    after = world.live()
    assert after["dr-a"] == before["dr-a"] and after["dr-b"] != before["dr-b"]
    assert comments_shown(world, "dr-b", "dr-b-billet-1") == ["Merci, confrère."]


def test_the_service_down_rebuilds_nothing_and_the_build_succeeds(world):
    network = world.network
    run_build(network)
    world.approve_comment()  # a change the build can no longer learn of
    world.httpd.shutdown()
    world.httpd.server_close()
    before = world.live()

    result = CliRunner().invoke(cli, ["--network", str(network.source), "build", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "✓ dr-a (inchangé)" in result.output and "✓ dr-b (inchangé)" in result.output
    assert "✓ planète (inchangée)" in result.output
    assert world.live() == before, "service down: no comparison, no rebuild"


def test_a_blog_built_while_the_service_fails_is_rebuilt_once_it_answers(world):
    network = world.network
    run_build(network)
    world.approve_comment()
    world.holder["app"] = lambda environ, start: start("503 Service Unavailable", [("Content-Length", "0")]) or [b""]
    write_post(network.root / "sites" / "dr-a", "nouveau", "Un nouveau billet", date="2025-06-01 08:00")
    results = build.build(network, progress=False)
    assert all(r.ok for r in results)
    results = {r.slug: r for r in results}
    assert not results["dr-a"].skipped and results["dr-b"].skipped
    assert comments_shown(world, "dr-a", "dr-a-billet-0") == [], "no snapshot: the service did not answer"

    world.holder["app"] = world.holder["service"]
    results = run_build(network)
    assert results["dr-a"].reason == "comments", "its snapshot was incomplete: retaken"
    assert results["dr-b"].skipped
    assert comments_shown(world, "dr-a", "dr-a-billet-0") == [COMMENT]
    assert all(r.skipped for r in run_build(network).values())
