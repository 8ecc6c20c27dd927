"""The blogs' Content-Security-Policy in a real Chromium, served by `confreres serve`'s app: the widget posts a
comment without a single violation, and a script a doctor pushes under content/files/ never runs."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.confreres.conftest import write_post

from .conftest import Server, build_network, free_port, write_live_network

pytestmark = pytest.mark.e2e


def test_the_widget_works_under_the_policy(live_network, page):
    live = live_network(moderation="none")
    url = live.post_url("dr-a-billet-1")
    response = page.goto(url)
    headers = response.headers
    policy = headers["content-security-policy"]
    assert f"script-src {live.site.url}theme/js/ " in policy and "'unsafe-inline'" not in policy
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy and "base-uri 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"]

    expect(page.locator(".comments-app")).to_be_visible()
    page.locator("#cf-text").fill("Sous une politique stricte, *sans* souci.")
    page.locator("#cf-author").fill("Dr Prudent")
    page.get_by_role("button", name="Publier").click()
    expect(page.get_by_role("status")).to_have_text("Votre commentaire a été publié.")
    expect(page.locator(".comments-live .comment-text em")).to_have_text("sans")
    page.reload()
    expect(page.locator(".comments-live")).to_contain_text("Sous une politique stricte")
    page.goto(live.site.url)
    expect(page.locator(f'.comment-count[data-count-url="{url}"]')).to_have_text("1 commentaire")
    assert page.js_errors == []
    assert page.csp_violations == [], page.csp_violations


def test_a_script_pushed_with_the_content_never_runs(tmp_path, page):
    from confreres import serve

    port = free_port()
    network = write_live_network(tmp_path, f"http://127.0.0.1:{port}/")
    site = network.root / "sites" / "dr-a"
    (site / "content" / "files").mkdir(parents=True)
    (site / "content" / "files" / "outil.js").write_text("window.__pushed = 1;\n", encoding="utf-8")
    write_post(site, "piege", "Un billet piégé", date="2025-05-01 10:00",
               body='<script src="files/outil.js"></script>\n<script>window.__inline = 1</script>\n\nTexte.')
    build_network(network)
    with Server(serve.make_app(network, network.output), port):
        page.goto(f"{network.sites[0].url}piege.html")
        page.wait_for_load_state("load")
        assert page.evaluate("window.__pushed") is None, "a file under content/files/ is not a script source"
        assert page.evaluate("window.__inline") is None
        assert any("outil.js" in v for v in page.csp_violations), page.csp_violations
        assert any("inline" in v for v in page.csp_violations), page.csp_violations
        # the theme's own script still runs (the widget starts, even with no comment service behind)
        assert page.evaluate("!!document.querySelector('script[src$=\"/theme/js/comments.js\"]')")
        served = page.request.get(f"{network.sites[0].url}files/outil.js")
        assert "default-src 'none'" in served.headers["content-security-policy"]
