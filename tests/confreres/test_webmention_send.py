"""Sending Webmentions after a build: endpoint discovery (header, <link>, <a>), what is (re)sent and when,
the private-address refusal, the network.toml policy, and the whole loop with the real comment service."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from click.testing import CliRunner

from confreres import registry
from confreres import webmention as wm
from confreres.safe_http import ALLOW_ENV, LEGACY_ALLOW_ENV, Guard
from tests.loopback import LoopbackServer

PAGE = "<!doctype html><html><head><title>Cible</title>{head}</head><body><p>Un billet.</p>{body}</body></html>"


@pytest.fixture
def server():
    with LoopbackServer() as running:
        running.routes["/endpoint"] = lambda request: (202, {"Content-Type": "text/plain"}, "ok")
        yield running


@pytest.fixture
def guard(server):
    with Guard(allow=[server.host], timeout=3) as client:
        yield client


def target_page(server, path="/cible.html", head="", body="", headers=None):
    server.route(path, PAGE.format(head=head, body=body), headers=headers)
    return server.url(path)


def posted(server, path="/endpoint"):
    return [(r.query, r.form) for r in server.posts(path)]


SOURCE = "https://mon-blog.example/billet.html"


@pytest.mark.parametrize(
    ("headers", "head", "body", "endpoint"),
    [
        ({"Link": "<{base}/endpoint>; rel=\"webmention\""}, "", "", "/endpoint"),  # absolute, in the header
        ({"Link": "</endpoint>; rel=\"webmention\""}, "", "", "/endpoint"),  # relative, in the header
        ({"LinK": "</endpoint>; rel=webmention"}, "", "", "/endpoint"),  # odd case, rel unquoted
        ({"Link": "</autre>; rel=\"other\", </endpoint>; rel=\"webmention somethingelse\""}, "", "", "/endpoint"),
        ({"Link": ["</autre>; rel=\"not-webmention\"", "</endpoint>; rel=\"webmention\""]}, "", "", "/endpoint"),
        ({"Link": "</endpoint>; rel=\"webmention\""}, '<link rel="webmention" href="/faux">', "", "/endpoint"),  # header first
        ({}, '<link rel="webmention" href="/endpoint">', "", "/endpoint"),  # <link>
        ({}, '<link rel="somethingelse webmention" href="{base}/endpoint">', "", "/endpoint"),
        ({}, "", '<a rel="webmention" href="/endpoint">point Webmention</a>', "/endpoint"),  # <a rel>
        ({}, "", '<a rel="webmention" href="/endpoint">a</a><link rel="webmention" href="/faux">', "/endpoint"),  # first in the document
        ({}, '<!-- <link rel="webmention" href="/faux"> --><link rel="webmention" href="/endpoint">', "", "/endpoint"),
        ({}, "", '<p>&lt;link rel="webmention" href="/faux"&gt;</p><a rel="webmention" href="/endpoint">x</a>', "/endpoint"),
        ({}, '<link rel="webmention"><link rel="webmention" href="/endpoint">', "", "/endpoint"),  # no href: skipped
    ],
)
def test_discovery(server, guard, headers, head, body, endpoint):
    base = server.url("").rstrip("/")
    headers = {k: [x.format(base=base) for x in v] if isinstance(v, list) else v.format(base=base)
               for k, v in headers.items()}
    target = target_page(server, head=head.format(base=base), body=body, headers=headers)
    outcome = wm.send(SOURCE, target, guard)
    assert outcome.state == "sent", outcome
    assert outcome.endpoint == server.url(endpoint) and outcome.status == 202
    assert posted(server, endpoint) == [("", {"source": SOURCE, "target": target})]
    assert not posted(server, "/faux")


def test_the_endpoints_query_string_is_kept(server, guard):
    target = target_page(server, head='<link rel="webmention" href="/endpoint?version=1&amp;jeton=abc">')
    assert wm.send(SOURCE, target, guard).state == "sent"
    assert posted(server) == [("version=1&jeton=abc", {"source": SOURCE, "target": target})]
    request = server.posts("/endpoint")[0]
    assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")


def test_a_relative_endpoint_is_resolved_against_the_page_and_after_redirects(server, guard):
    server.routes["/billets/wm"] = server.routes["/endpoint"]
    target = target_page(server, "/billets/page.html", head='<link rel="webmention" href="wm">')
    assert wm.send(SOURCE, target, guard).endpoint == server.url("/billets/wm")

    server.routes["/deplace/wm"] = server.routes["/endpoint"]
    target_page(server, "/deplace/page.html", head='<link rel="webmention" href="wm">')
    server.route("/ancien.html", status=301, headers={"Location": "/deplace/page.html"})
    outcome = wm.send(SOURCE, server.url("/ancien.html"), guard)
    assert outcome.endpoint == server.url("/deplace/wm")
    assert posted(server, "/deplace/wm") == [("", {"source": SOURCE, "target": server.url("/ancien.html")})]


def test_an_empty_href_is_the_page_itself(server, guard):
    server.route("/soi.html", PAGE.format(head='<link rel="webmention" href="">', body=""))
    server.routes["/soi.html"] = lambda r: (
        (202, {"Content-Type": "text/plain"}, "ok") if r.method == "POST"
        else (200, {"Content-Type": "text/html"}, PAGE.format(head='<link rel="webmention" href="">', body=""))
    )
    outcome = wm.send(SOURCE, server.url("/soi.html"), guard)
    assert outcome.state == "sent" and outcome.endpoint == server.url("/soi.html")


def test_no_endpoint_and_failures(server, guard):
    assert wm.send(SOURCE, target_page(server), guard).state == "no_endpoint"
    assert wm.send(SOURCE, server.url("/introuvable"), guard).state == "no_endpoint"
    server.routes["/refuse"] = lambda request: (400, {"Content-Type": "text/plain"}, "non")
    outcome = wm.send(SOURCE, target_page(server, "/x.html", head='<link rel="webmention" href="/refuse">'), guard)
    assert (outcome.state, outcome.status, outcome.transient) == ("failed", 400, False)
    server.routes["/panne"] = lambda request: (503, {"Content-Type": "text/plain"}, "panne")
    outcome = wm.send(SOURCE, target_page(server, "/y.html", head='<link rel="webmention" href="/panne">'), guard)
    assert (outcome.state, outcome.transient) == ("failed", True)


def test_private_addresses_are_refused_without_the_allow_list(server, monkeypatch):
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    monkeypatch.delenv(LEGACY_ALLOW_ENV, raising=False)
    target = target_page(server, head='<link rel="webmention" href="/endpoint">')
    with Guard() as closed:
        outcome = wm.send(SOURCE, target, closed)
    assert outcome.state == "failed" and "non publique" in outcome.error and not outcome.transient
    assert server.requests == []
    # an outside page may not send our build to an endpoint on a private address either
    public_page = target_page(server, "/publique.html", head=f'<link rel="webmention" href="http://localhost:{server.port}/endpoint">')
    with Guard(allow=[server.host]) as half_open:
        outcome = wm.send(SOURCE, public_page, half_open)
    assert outcome.state == "failed" and "localhost" in outcome.error
    assert server.posts("/endpoint") == []


def test_link_header_parsing():
    values = ['<https://a.example/wm?x=1>; rel="webmention", <https://b.example/>; rel=other',
              '</rel>; rel="WebMention", <;weird>; title="a, b"; rel=webmention']
    assert wm.link_header_endpoints(values, "https://site.example/p/q") == [
        "https://a.example/wm?x=1", "https://site.example/rel", "https://site.example/p/;weird"
    ]


# -- what a build sends ----------------------------------------------------------------------------

def write_built_post(network, slug, name, links, text="Mon billet."):
    site = network.site(slug)
    out = network.output / slug
    out.mkdir(parents=True, exist_ok=True)
    anchors = " ".join(f'<a href="{url}">lien</a>' for url in links)
    (out / f"{name}.html").write_text(
        f'<html><body><nav><a href="https://menu.example/">menu</a></nav><article class="h-entry">'
        f'<div class="e-content"><p>{text} {anchors}</p></div></article>'
        f'<footer><a href="https://pied.example/">pied</a></footer></body></html>',
        encoding="utf-8",
    )
    posts_file = out / "posts.json"
    posts = json.loads(posts_file.read_text(encoding="utf-8"))["posts"] if posts_file.is_file() else []
    posts = [p for p in posts if p["url"] != f"{site.url}{name}.html"] + [{"url": f"{site.url}{name}.html", "title": name}]
    posts_file.write_text(json.dumps({"posts": posts}), encoding="utf-8")
    return f"{site.url}{name}.html"


def remove_built_post(network, slug, name):
    out = network.output / slug
    (out / f"{name}.html").unlink()
    posts = json.loads((out / "posts.json").read_text(encoding="utf-8"))["posts"]
    (out / "posts.json").write_text(json.dumps({"posts": [p for p in posts if not p["url"].endswith(f"/{name}.html")]}))


def test_only_new_changed_and_deleted_posts_are_sent(make_network, server, guard):
    network = make_network(slugs=("dr-a", "dr-b"), posts=0)
    one = target_page(server, "/un.html", head='<link rel="webmention" href="/endpoint">')
    two = target_page(server, "/deux.html", head='<link rel="webmention" href="/endpoint">')
    site = network.site("dr-a")
    inside = network.site("dr-b").url + "un-billet.html"
    source = write_built_post(network, "dr-a", "billet", [one, two, inside, "#note", "mailto:x@example.org"])

    summary = wm.send_site(network, site, guard=guard)
    assert (summary.posts, summary.count("sent")) == (1, 2)
    assert sorted(f["target"] for _, f in posted(server)) == sorted([one, two])  # never the menu, the footer, the network
    assert json.loads(wm.state_path(network, "dr-a").read_text())["posts"][source]["links"] == [one, two]

    summary = wm.send_site(network, site, guard=guard)
    assert (summary.posts, summary.outcomes) == (0, []), "nothing changed, nothing sent"

    write_built_post(network, "dr-a", "billet", [one], text="Mon billet corrigé.")  # `two` dropped
    server.requests.clear()
    summary = wm.send_site(network, site, guard=guard)
    assert sorted(f["target"] for _, f in posted(server)) == sorted([one, two]), "the dropped link is told too"

    write_built_post(network, "dr-a", "billet", [one], text="Mon billet corrigé.")
    server.requests.clear()
    assert wm.send_site(network, site, guard=guard).outcomes == []

    remove_built_post(network, "dr-a", "billet")
    summary = wm.send_site(network, site, guard=guard)
    assert [f for _, f in posted(server)] == [{"source": source, "target": one}], "a deleted post's links are told"
    assert json.loads(wm.state_path(network, "dr-a").read_text())["posts"] == {}


def test_transient_failures_are_retried_on_the_next_build(make_network, server, guard):
    network = make_network(slugs=("dr-a",), posts=0)
    state = {"fail": True}
    server.routes["/fragile"] = lambda r: ((503, {}, "panne") if state["fail"] else (202, {}, "ok"))
    target = target_page(server, "/cible.html", head='<link rel="webmention" href="/fragile">')
    write_built_post(network, "dr-a", "billet", [target])
    site = network.site("dr-a")
    assert wm.send_site(network, site, guard=guard).count("failed") == 1
    state["fail"] = False
    summary = wm.send_site(network, site, guard=guard)
    assert summary.count("sent") == 1 and summary.posts == 0
    assert wm.send_site(network, site, guard=guard).outcomes == []


def test_the_policy_is_off_by_default_and_never_fails_a_build(make_network, server, monkeypatch, capsys):
    network = make_network(slugs=("dr-a",), posts=0)
    assert network.policies.webmention_send is False
    write_built_post(network, "dr-a", "billet", [target_page(server, head='<link rel="webmention" href="/endpoint">')])
    assert wm.send_after_build(network, network.site("dr-a")) is None
    assert server.requests == []

    monkeypatch.setattr(wm, "send_site", lambda *a, **k: 1 / 0)
    on = registry.load(_with_policy(network))
    assert wm.send_after_build(on, on.site("dr-a")) is None
    assert "envoi interrompu" in capsys.readouterr().out


def _with_policy(network, value="true"):
    text = network.source.read_text(encoding="utf-8")
    network.source.write_text(text.replace("[[sites]]", f"[policies]\nwebmention_send = {value}\n\n[[sites]]", 1))
    return network.source


def test_the_policy_is_validated(make_network):
    network = make_network(slugs=("dr-a",), posts=0)
    with pytest.raises(registry.RegistryError, match="policies.webmention_send: must be true or false"):
        registry.load(_with_policy(network, '"oui"'))


def test_a_real_build_sends_for_its_posts(make_network, server, monkeypatch):
    """`confreres build` with webmention_send = true: the theme's post markup is what is read."""
    from bs4 import BeautifulSoup

    from confreres.cli import cli
    from tests.confreres.conftest import write_post

    monkeypatch.setenv(ALLOW_ENV, server.host)
    target = target_page(server, head='<link rel="webmention" href="/endpoint">')
    network = make_network(slugs=("dr-a",), posts=0)
    write_post(network.site("dr-a").path, "lien-externe", "Un lien vers l'extérieur",
               body=f"Je cite [ce billet]({target}) et [la HAS](https://www.has-sante.fr/) hors ligne.")
    monkeypatch.setattr(wm, "MAX_WORKERS", 1)
    with Guard(allow=[server.host]) as only_loopback:
        # keep the test offline: the HAS link is refused like a private address would be
        monkeypatch.setattr(wm, "Guard", lambda: _OfflineGuard(only_loopback))
        result = CliRunner().invoke(cli, ["--network", str(_with_policy(network)), "build", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "Webmention (dr-a) : 1 envoyée(s) pour 1 billet(s)" in result.output
    source = network.site("dr-a").url + "lien-externe.html"
    assert posted(server) == [("", {"source": source, "target": target})]
    # the built page advertises the network's receiving endpoint
    page = (network.output / "dr-a" / "lien-externe.html").read_text(encoding="utf-8")
    assert wm.html_endpoint(page, source) == network.comments_url + "webmention"
    assert BeautifulSoup(page, "html.parser").find(class_="e-content") is not None


class _OfflineGuard:
    def __init__(self, inner):
        self.inner = inner

    def get(self, url, headers=None):
        from confreres.safe_http import Refused

        if not url.startswith(f"http://{next(iter(self.inner.allow))}"):
            raise Refused(f"{url}: offline test")
        return self.inner.get(url, headers)

    def post_form(self, url, data):
        return self.inner.post_form(url, data)

    def close(self):
        pass


# -- the whole loop: our build sends, our service receives, verifies, a moderator approves ----------

def test_a_mention_sent_by_a_local_page_shows_under_the_post_after_moderation(tmp_path, server):
    from werkzeug.serving import make_server

    from comments_service import create_app
    from comments_service.actions.posts import sync_posts
    from comments_service.core.db import connect
    from comments_service.domain.mentions import set_mention_status
    from confreres import serve
    from confreres.safe_http import Guard as RealGuard

    holder = {}
    httpd = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    port = httpd.server_port
    base = f"http://127.0.0.1:{port}/"
    (tmp_path / "network.toml").write_text(
        f'[network]\nname = "Réseau"\nurl = "{base}"\ncomments_url = "{base}comments/"\n\n'
        f'[[sites]]\nslug = "dr-a"\ntitle = "Blog A"\nauthor = "Dr A"\nurl = "{base}dr-a/"\n',
        encoding="utf-8",
    )
    network = registry.load(tmp_path / "network.toml")
    target = f"{base}dr-a/billet.html"
    (tmp_path / "public" / "dr-a").mkdir(parents=True)
    (tmp_path / "public" / "dr-a" / "billet.html").write_text("<html><body>Billet</body></html>", encoding="utf-8")
    service = create_app({
        "TESTING": True, "SECRET_KEY": "s", "NETWORK": str(network.source), "DB": str(tmp_path / "c.sqlite3"),
        "RATE_LIMIT": "off", "READ_RATE_LIMIT": "off", "WEBMENTION_ALLOW_HOSTS": f"127.0.0.1:{port},{server.host}",
    })
    db = connect(service.config["DB"])
    try:
        sync_posts(db, network, "dr-a", {"posts": [{"url": target, "title": "Le billet"}]})
    finally:
        db.close()
    holder["app"] = serve.make_app(network, tmp_path / "public", service)  # the demo server: Link header
    import threading

    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        server.route("/reponse.html", f'<article class="h-entry"><p class="p-author h-card">Dr Dehors</p>'
                                      f'<div class="e-content">Voir <a href="{target}">ce billet</a>.</div></article>')
        source = server.url("/reponse.html")
        with RealGuard(allow=[f"127.0.0.1:{port}", server.host]) as guard:
            outcome = wm.send(source, target, guard)
        assert outcome.state == "sent" and outcome.status == 202
        assert outcome.endpoint == f"{base}comments/webmention", "found in the demo server's Link header"

        api = f"{base}comments/api/comments"
        deadline = time.monotonic() + 15
        db = connect(service.config["DB"])
        try:
            while not db.execute("SELECT COUNT(*) FROM mentions").fetchone()[0] and time.monotonic() < deadline:
                time.sleep(0.05)
            (mention_id, status) = db.execute("SELECT id, status FROM mentions").fetchone()
            assert status == "pending"
            assert httpx.get(api, params={"url": target}).json()["mentions"] == []
            set_mention_status(db, mention_id, "approved")
        finally:
            db.close()
        (mention,) = httpx.get(api, params={"url": target}).json()["mentions"]
        assert mention["author"]["name"] == "Dr Dehors" and "ce billet" in mention["html"]
        page = httpx.get(f"{base}comments/thread", params={"url": target}).text
        assert "Mentions" in page and "Dr Dehors" in page
    finally:
        httpd.shutdown()
