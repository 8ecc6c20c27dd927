"""The production setup, run: the shipped nginx site (deploy/nginx/confreres.conf, rendered by `confreres deploy
nginx`) in front of a real gunicorn started as its systemd unit starts it, mail through a real SMTP server, the
blogs built and announced by `confreres build` through nginx. A reader's and a blogger's main story, over HTTP.

One test: under xdist a second one could land on another worker and boot the whole stack again.
"""

from __future__ import annotations

import json
import re
import subprocess
from contextlib import ExitStack
from types import SimpleNamespace
from urllib.parse import urlsplit

import httpx
import pytest
from bs4 import BeautifulSoup

from confreres import csp
from tests.deploy.conftest import Nginx, require_nginx
from tests.e2e.conftest import LIVE_SECRET, write_live_network
from tests.gunicorn import BIN, Gunicorn, environment
from tests.smtp import SmtpServer, free_port

AUTHOR = "auteur@dr-a.test"
GZIP = {"Accept-Encoding": "gzip"}


def confreres(env: dict, *args: str) -> str:
    """Run a `confreres` command as the operator (or a timer) would; its standard output."""
    done = subprocess.run([str(BIN / "confreres"), *args], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"confreres {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    require_nginx()
    root = tmp_path_factory.mktemp("deploy")
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    network = write_live_network(root, base)  # two blogs, moderation "first-comment"
    with ExitStack() as stack:
        smtp = SmtpServer().start()
        stack.callback(smtp.stop)
        env = environment(NETWORK=network.source, SECRET_KEY=LIVE_SECRET, PROXY_FIX=1, **smtp.config)
        confreres(env, "admin", "create", AUTHOR, "--site", "dr-a", "--name", "Dr A")
        service = stack.enter_context(Gunicorn(env, root / "gunicorn.log"))
        site = root / "confreres.conf"
        site.write_text(confreres(env, "deploy", "nginx", "--listen", f"127.0.0.1:{port}",
                                  "--gunicorn", f"127.0.0.1:{service.port}",
                                  "--access-log", str(root / "nginx" / "site-access.log")), encoding="utf-8")
        nginx = Nginx(site, root / "nginx", port).start()
        stack.callback(nginx.stop)
        built = confreres(env, "build", "--quiet")  # its announces go through nginx to gunicorn
        client = stack.enter_context(httpx.Client(base_url=base, timeout=30))
        yield SimpleNamespace(network=network, base=base, client=client, mailbox=smtp.mailbox, built=built,
                              service=service, nginx=nginx)
        assert "Traceback" not in service.output(), service.output()


def test_the_main_story_through_nginx_and_gunicorn(stack):
    network, client = stack.network, stack.client
    post = f"{stack.base}dr-a/dr-a-billet-0.html"
    static_policy = csp.policy(network)

    # the build told the service its posts through the proxy (PUT <comments_url>api/sites/<slug>/posts)
    assert "non annoncé" not in stack.built, stack.built
    sites = client.get("/comments/api/sites").json()
    assert sites and json.dumps(sites).count("dr-a") >= 1, sites

    # -- reading a post: the page, revalidated, compressed, with its security and Webmention headers
    page = client.get("/dr-a/dr-a-billet-0.html", headers=GZIP)
    assert page.status_code == 200 and "Billet 0 de dr-a" in page.text
    assert page.headers["content-encoding"] == "gzip"
    assert page.headers["cache-control"] == "no-cache"
    assert page.headers.get_list("content-security-policy") == [static_policy]
    assert "'unsafe-inline'" not in static_policy and "https://" not in static_policy  # no third-party origin
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert page.headers["link"] == f'<{network.comments_url}webmention>; rel="webmention"'
    assert "strict-transport-security" not in page.headers  # plain HTTP here: HSTS only over HTTPS
    again = client.get("/dr-a/dr-a-billet-0.html", headers={**GZIP, "If-None-Match": page.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    since = client.get("/dr-a/dr-a-billet-0.html", headers={"If-Modified-Since": page.headers["last-modified"]})
    assert since.status_code == 304

    css = client.get("/dr-a/theme/css/main.css", headers=GZIP)
    assert css.status_code == 200 and css.headers["content-encoding"] == "gzip"
    assert css.headers["cache-control"] == "max-age=3600"  # not fingerprinted: an hour, then revalidated
    assert "link" not in css.headers and css.headers["content-security-policy"] == static_policy
    for hidden in ("/dr-a/.confreres-build.json", "/.releases/", "/dr-a/.releases", "/dr-a/absent.html"):
        missing = client.get(hidden)
        assert missing.status_code == 404 and "Page introuvable" in missing.text, hidden  # in French
        assert missing.headers["content-security-policy"] == static_policy
    # the planet's Pagefind index files are named after their content (kept for good), its OPML is typed
    (network.output / "pagefind" / "index").mkdir(parents=True)
    (network.output / "pagefind" / "index" / "fr_0a1b2c.pf_index").write_bytes(b"\0" * 10)
    (network.output / "pagefind" / "pagefind.js").write_text("export {};", encoding="utf-8")
    (network.output / "blogs.opml").write_text("<opml/>", encoding="utf-8")
    assert client.get("/pagefind/index/fr_0a1b2c.pf_index").headers["cache-control"] == "max-age=315360000"
    assert client.get("/pagefind/pagefind.js").headers["cache-control"] == "max-age=3600"
    assert client.get("/blogs.opml").headers["content-type"].startswith("text/x-opml")
    moved = client.get("/dr-a")
    assert moved.status_code == 301 and moved.headers["location"] == "/dr-a/"

    # -- the thread, through the proxy: the service's own headers, not the blogs' policy; 304 when unchanged
    thread = client.get("/comments/api/comments", params={"url": post}, headers=GZIP)
    assert thread.status_code == 200 and thread.json()["comments"] == []
    assert len(thread.headers.get_list("content-security-policy")) == 1
    assert thread.headers["content-security-policy"] != static_policy
    cached = client.get("/comments/api/comments", params={"url": post},
                        headers={**GZIP, "If-None-Match": thread.headers["etag"]})
    assert cached.status_code == 304
    document = client.get("/comments/api/openapi.json", headers=GZIP)
    assert document.headers["content-encoding"] == "gzip"
    assert document.json()["servers"][0]["url"] == f"{network.comments_url}api"  # host and prefix from nginx

    # -- a reader comments (the widget's request); the blogger approves it from the mail, through nginx
    written = client.post("/comments/api/comments",
                          json={"url": post, "text": "Merci pour ce billet.", "author": "Un lecteur",
                                "email": "lecteur@exemple.fr"})
    assert written.status_code == 201, written.text
    assert written.json()["status"] == "pending"
    mail = stack.mailbox.expect(to=AUTHOR, subject=None, timeout=20)
    approve = mail.link("/moderation/act?token=")
    assert approve.startswith(f"{network.comments_url}moderation/act"), approve
    confirm = client.get(approve)
    assert confirm.status_code == 200, confirm.text
    form = BeautifulSoup(confirm.text, "html.parser").find("form", action=lambda a: a and "moderation/act" in a)
    assert form["action"] == "/comments/moderation/act"  # url_for under the prefix nginx sends
    fields = {i["name"]: i.get("value", "") for i in form.find_all("input")}
    done = client.post(form["action"], data=fields)
    assert done.status_code == 200 and "approuvé" in done.text, done.text
    fresh = client.get("/comments/api/comments", params={"url": post},
                       headers={"If-None-Match": thread.headers["etag"]})
    assert fresh.status_code == 200
    assert [c["text"] if "text" in c else c["html"] for c in fresh.json()["comments"]][0].count("Merci pour ce billet")

    # -- the same reader without JavaScript: the page's link, the form (its CSRF cookie under /comments/), 303
    nojs = BeautifulSoup(page.text, "html.parser").find("a", string=lambda s: s and "sans JavaScript" in s)
    assert nojs["href"].startswith(f"{network.comments_url}thread?url="), nojs
    with httpx.Client(timeout=30) as browser:
        thread_page = browser.get(nojs["href"])
        assert thread_page.status_code == 200 and "Merci pour ce billet" in thread_page.text
        assert any(cookie.path == "/comments/" for cookie in browser.cookies.jar), list(browser.cookies.jar)
        form = BeautifulSoup(thread_page.text, "html.parser").find("form", action=lambda a: a and a.endswith("/thread"))
        fields = {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}
        fields.update(text="Et sans JavaScript, cela marche aussi.", author="Un lecteur", email="lecteur@exemple.fr")
        posted = browser.post(f"{stack.base.rstrip('/')}{form['action']}", data=fields)
        assert posted.status_code == 303, posted.text
        assert posted.headers["location"].startswith("/comments/thread?url="), posted.headers["location"]
        after = browser.get(f"{stack.base.rstrip('/')}{posted.headers['location']}")
        assert after.status_code == 200 and "Merci !" in after.text

    # -- feeds: the blog's (static, revalidated) and the thread's (the service's)
    feed = client.get("/dr-a/feeds/all.atom.xml", headers=GZIP)
    assert feed.status_code == 200 and "<feed" in feed.text and feed.headers["content-encoding"] == "gzip"
    assert feed.headers["cache-control"] == "no-cache"
    assert client.get("/dr-a/feeds/all.atom.xml", headers={"If-None-Match": feed.headers["etag"]}).status_code == 304
    tag_feed = next((network.output / "dr-a" / "feeds").glob("tag-*.atom.xml")).name
    former = client.get(f"/dr-a/feeds/{tag_feed.replace('.atom.xml', '.rss.xml')}")  # tags' feeds are Atom only now
    assert former.status_code == 301 and former.headers["location"] == f"/dr-a/feeds/{tag_feed}"
    assert client.get(former.headers["location"]).status_code == 200
    comments_feed = client.get("/comments/feeds/thread.atom", params={"url": post})
    assert comments_feed.status_code == 200 and "Merci pour ce billet" in comments_feed.text
    assert comments_feed.headers["content-type"].startswith("application/atom+xml")

    # -- request sizes: the service's own JSON 413 past 64 KB, nginx's past 1 MB; a blog's post list may be larger
    big = client.post("/comments/api/comments", json={"url": post, "text": "x" * 100_000})
    assert big.status_code == 413 and big.json()["error"]["code"] == "payload_too_large"
    huge = client.post("/comments/api/comments", content=b"x" * 2_000_000, headers={"Content-Type": "application/json"})
    assert huge.status_code == 413 and "payload_too_large" not in huge.text  # refused by nginx, never proxied
    posts = client.put("/comments/api/sites/dr-a/posts", content=b" " * 2_000_000,
                       headers={"Content-Type": "application/json", "Authorization": "Bearer faux"})
    assert posts.status_code in (401, 403), posts.text  # reached the service, which checks the token

    # -- WebFinger and NodeInfo at the origin's root are answered by the service (its own CSP), not by nginx
    for path in ("/.well-known/webfinger?resource=acct:dr-a@127.0.0.1", "/.well-known/nodeinfo"):
        answer = client.get(path)
        assert answer.status_code in (200, 400, 404), (path, answer.status_code)
        assert answer.headers.get("content-security-policy", static_policy) != static_policy, path
        assert urlsplit(str(answer.url)).path.startswith("/.well-known/")

    # nginx never lost an answer of gunicorn's (a reset connection: a 502 for someone)
    assert "upstream" not in stack.nginx.errors(), stack.nginx.errors()

    # the access logs (nginx's, gunicorn's as its unit runs it) name the paths followed, never a mailed link's token
    logs = {"nginx": (stack.nginx.dir / "site-access.log").read_text(encoding="utf-8"), "gunicorn": stack.service.output()}
    for name, text in logs.items():
        assert re.search(r'"GET (/comments)?/moderation/act HTTP/1\.[01]" 200', text), (name, text)
        assert "token=" not in text and approve.split("token=", 1)[1] not in text, (name, text)
        assert "lecteur@exemple.fr" not in text, name
    assert not (stack.nginx.dir / "access.log").exists() or "moderation/act" not in (
        stack.nginx.dir / "access.log").read_text(encoding="utf-8"), "the site's own log, not the combined one"
