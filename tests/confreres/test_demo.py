"""The demo network builds, and its seeded threads go through the service's own store and API."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from comments_service import create_app
from confreres import build, registry
from confreres.seed import THREADS, seed_demo
from confreres.site_token import site_token
from tests.confreres.conftest import NO_SERVICE

ROOT = Path(__file__).resolve().parents[2]


def test_demo_network_builds_and_seeds(tmp_path):
    # A copy of the demo network, its comment service at NO_SERVICE: the build neither asks nor
    # announces to a `make demo` running on the committed URL, nor writes into the demo's folders.
    committed = (ROOT / "network.toml").read_text(encoding="utf-8")
    assert 'comments_url = "http://127.0.0.1:8000/comments/"' in committed
    (tmp_path / "network.toml").write_text(
        committed.replace('comments_url = "http://127.0.0.1:8000/comments/"', f'comments_url = "{NO_SERVICE}"'),
        encoding="utf-8")
    shutil.copytree(ROOT / "sites", tmp_path / "sites")
    network = registry.load(tmp_path / "network.toml")
    out = tmp_path / "public"
    results = build.build(network, out=out, progress=False)
    assert all(r.ok for r in results), [r.error for r in results]
    for site in network.sites:
        assert len(json.loads((out / site.slug / "posts.json").read_text(encoding="utf-8"))["posts"]) >= 6
        assert (out / site.slug / "pages" / "a-propos.html").is_file()
    # A demo post answers another blog, and the answered post shows it.
    answered = (out / "dr-lefebvre" / "epuisement-en-zone-rurale.html").read_text(encoding="utf-8")
    assert "Réponses des confrères" in answered and "dr-benali/epuisement-vu-du-divan.html" in answered

    app = create_app({"TESTING": True, "SECRET_KEY": "demo-test", "DB": str(tmp_path / "demo.sqlite3"),
                      "NETWORK": str(ROOT / "network.toml"), "RATE_LIMIT": "off"})
    client = app.test_client()
    for site in network.sites:
        posts = json.loads((out / site.slug / "posts.json").read_text(encoding="utf-8"))
        response = client.put(f"/api/sites/{site.slug}/posts", json={"posts": posts["posts"]},
                              headers={"Authorization": f"Bearer {site_token('demo-test', site.slug)}"})
        assert response.status_code == 200, response.get_json()

    added = seed_demo(network, app)
    expected = 0
    stack = [c for thread in THREADS.values() for c in thread]
    while stack:
        comment = stack.pop()
        expected += 1
        stack.extend(comment.replies)
    assert added == expected
    assert seed_demo(network, app) == 0, "seeding twice adds nothing"

    thread = client.get("/api/comments", query_string={"url": "http://127.0.0.1:8000/dr-lefebvre/epuisement-en-zone-rurale.html"})
    body = thread.get_json()
    assert body["total"] == 6
    assert body["comments"][0]["replies"][0]["replies"], "nested replies survive"
    assert "marie.demo@example.org" not in thread.get_data(as_text=True)
