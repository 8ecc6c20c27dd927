"""The planet in a real Chromium, served with the network's Content-Security-Policy as `confreres serve` does:
a hostile outside feed runs no script anywhere, and the search finds posts of every blog, grouped by blog, with
French stemming (Pagefind, served from /pagefind/, its WebAssembly allowed), without a single CSP violation."""

from __future__ import annotations

import pytest
from werkzeug.serving import make_server

from confreres import build, csp, planet_build
from confreres.serve import StaticSite
from tests.confreres.conftest import write_post
from tests.e2e.conftest import browser, free_port, page  # noqa: F401  (shared browser fixtures)

from .conftest import FeedServer, feed_bytes, make_planet_network

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    import threading

    feeds = FeedServer()
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    outside = [{"url": feeds.add("/hostile.atom", feed_bytes("hostile.atom.xml")), "title": "Blog piégé"},
               {"url": feeds.add("/good.atom", feed_bytes("good.atom.xml")), "title": "Le blog du Dr Externe"}]
    network = make_planet_network(tmp_path_factory.mktemp("browser") / "network", outside,
                                  "http://127.0.0.1:9/comments/", base=base)
    write_post(network.root / "sites" / "dr-b", "reponse-a-dr-a", "Réponse sur l'astreinte", date="2025-02-20 10:00",
               body="Mon avis sur l'astreinte hospitalière.", reply_to=f"{base}dr-a/dr-a-billet-0.html")
    assert all(r.ok for r in build.build(network, progress=False))
    httpd = make_server("127.0.0.1", port, StaticSite(network.output, headers=csp.headers(network)), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield base
    httpd.shutdown()
    feeds.close()


def test_hostile_feed_runs_no_script_on_any_planet_page(live, page):  # noqa: F811
    for path in ("", "page/2/", "blogs/", "blogs/ext-blog-piege/", "etat-des-flux/", "debats/", "feeds/all.atom.xml"):
        page.goto(live + path)
        page.wait_for_load_state("load")
        assert page.evaluate("window.__xss") is None, path
        if path.endswith(".xml"):  # Chromium's own XML tree viewer styles itself inline: the policy blocks that
            page.csp_violations.clear()
    page.goto(live + "blogs/ext-blog-piege/")
    assert "Titre en texte brut" in page.inner_text("main") and "<script" not in page.inner_text("main")
    assert page.js_errors == []
    assert page.csp_violations == [], page.csp_violations


def test_search_groups_results_by_blog_with_french_stemming(live, page):  # noqa: F811
    if not planet_build.search_available():
        pytest.skip("pagefind is not installed")
    page.goto(live + "recherche/?q=garde")
    page.wait_for_selector(".planet-search-group", timeout=15000)
    groups = page.locator(".planet-search-group h2").all_inner_texts()
    assert any(g.startswith("Blog dr-a") for g in groups) and any(g.startswith("Blog dr-b") for g in groups)
    links = page.locator(".planet-search-list a").evaluate_all("els => els.map(e => e.href)")
    assert all(link.startswith(live) and link.endswith(".html") for link in links)
    assert page.locator(".planet-search-list mark").count() > 0, "« garde » matches « gardes »"
    status = page.inner_text("#planet-search-status")
    assert "résultat" in status and "2 blogs" in status
    assert page.js_errors == []
    assert page.csp_violations == [], "the search (Pagefind's WebAssembly included) runs under the policy"


def test_search_excerpts_leave_out_the_reply_banner(live, page):  # noqa: F811
    """Only the title and the text are indexed: not « En réponse à … Médecin vérifié · … », the category, the tags."""
    if not planet_build.search_available():
        pytest.skip("pagefind is not installed")
    page.goto(live + "recherche/")
    page.wait_for_load_state("load")
    data = page.evaluate("""async () => {
        const pagefind = await import("/pagefind/pagefind.js");
        const search = await pagefind.search("astreinte");
        return Promise.all(search.results.map(r => r.data()));
    }""")
    answer = [d for d in data if d["url"].endswith("/dr-b/reponse-a-dr-a.html")]
    assert answer, [d["url"] for d in data]
    assert answer[0]["content"] == "Réponse sur l'astreinte. Mon avis sur l'astreinte hospitalière.", "no chrome"
    assert "En réponse à" not in answer[0]["content"] and "En réponse à" not in answer[0]["excerpt"]
    page.goto(live + "recherche/?q=astreinte")
    page.wait_for_selector(".planet-search-list a")
    assert "En réponse à" not in page.inner_text(".planet-search-list")
