"""Receiving Webmentions: synchronous checks, background verification against real pages on loopback,
moderation, updates and deletions, and the private-address refusal."""

from __future__ import annotations

import time

import pytest

from comments_service.actions import mentions as mention_actions
from comments_service.core.db import connect
from comments_service.domain import mention_queue
from comments_service.domain.mentions import set_mention_status
from confreres.safe_http import Guard, Refused, is_public
from tests.conftest import COMMENTS_URL
from tests.loopback import LoopbackServer

MENTION_KEYS = {"kind", "id", "type", "url", "source", "author", "title", "html", "published", "received", "updated"}


def h_entry(target: str, text: str = "Très juste, et je le dis sur mon blog.", extra: str = "") -> str:
    return f"""<!doctype html><html lang="fr"><head><title>Le blog externe</title></head><body>
<article class="h-entry">
  <h1 class="p-name">Une réponse venue d'ailleurs</h1>
  <span class="p-author h-card"><img class="u-photo" src="https://externe.example/moi.jpg" alt="">
    <a class="p-name u-url" href="https://externe.example/">Dr Externe</a></span>
  <time class="dt-published" datetime="2024-05-01T10:00:00+02:00">1er mai</time>
  <div class="e-content"><p>{text} Voir <a href="{target}">ce billet</a>.</p>
    <script>window.__xss = 1</script><img src="x" onerror="alert(1)">{extra}</div>
  <a class="u-url" href="/reponse.html">lien</a>
</article></body></html>"""


@pytest.fixture
def server():
    with LoopbackServer() as running:
        yield running


@pytest.fixture
def wm_app(make_app, server):
    return make_app(WEBMENTION_ALLOW_HOSTS=server.host, WEBMENTION_WORKER=False)


@pytest.fixture
def wm(wm_app):
    return WM(wm_app)


class WM:
    """Steps of a Webmention test: send (the sender's POST), process (the worker), moderate, read."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()

    def send(self, source, target, **kwargs):
        return self.client.post("/webmention", data={"source": source, "target": target}, **kwargs)

    def accepted(self, source, target) -> str:
        response = self.send(source, target)
        assert response.status_code == 202, response.get_data(as_text=True)
        return response.headers["Location"]

    def process(self) -> list[dict]:
        return mention_actions.drain(self.app)

    def thread(self, url, **headers):
        return self.client.get("/api/comments", query_string={"url": url}, headers=headers)

    def moderate(self, mention_id, status="approved"):
        db = connect(self.app.config["DB"])
        try:
            return set_mention_status(db, mention_id, status)
        finally:
            db.close()

    def status(self, location):
        assert location.startswith(COMMENTS_URL), location
        return self.client.get("/" + location.removeprefix(COMMENTS_URL)).get_json()


def test_accepted_verified_moderated_then_shown(wm, server, urls):
    server.route("/reponse.html", h_entry(urls.POST_A))
    source = server.url("/reponse.html")
    before = wm.thread(urls.POST_A)

    location = wm.accepted(source, urls.POST_A)
    assert "/webmention/" in location
    assert wm.status(location)["status"] == "queued"
    assert server.requests == [], "nothing is fetched inside the request"

    (result,) = wm.process()
    assert result["state"] == "done" and result["result"] == "created" and result["status"] == "pending"
    assert [r.path for r in server.requests] == ["/reponse.html"]
    assert "text/html" in server.requests[0].headers["Accept"]
    assert wm.thread(urls.POST_A).get_json()["mentions"] == [], "pending: not shown (dr-a moderates first comments)"
    assert wm.status(location)["result"] == "created"

    wm.moderate(result["mention"])
    response = wm.thread(urls.POST_A, **{"If-None-Match": before.headers["ETag"]})
    assert response.status_code == 200, "approving a mention changes the thread's ETag"
    thread = response.get_json()
    assert thread["total"] == 0 and thread["comments"] == []
    (mention,) = thread["mentions"]
    assert set(mention) == MENTION_KEYS
    assert mention["kind"] == "mention" and mention["type"] == "mention"
    assert mention["source"] == source and mention["url"] == source  # its u-url, same origin
    assert mention["author"] == {"name": "Dr Externe", "website": "https://externe.example/"}
    assert mention["title"] == "Une réponse venue d'ailleurs"
    assert mention["published"] == "2024-05-01T08:00:00Z"
    assert mention["received"].endswith("Z") and mention["updated"] is None
    assert "Très juste" in mention["html"] and f'<a href="{urls.POST_A}" rel="nofollow ugc noopener">' in mention["html"]
    for bad in ("<script", "__xss", "<img", "onerror", "moi.jpg"):
        assert bad not in str(mention), bad

    page = wm.client.get("/thread", query_string={"url": urls.POST_A}).get_data(as_text=True)
    assert '<h2 id="mentions">Mentions</h2>' in page and "Dr Externe" in page and "Très juste" in page
    assert "<script>window" not in page
    feed = wm.client.get("/feeds/thread.atom", query_string={"url": urls.POST_A}).get_data(as_text=True)
    assert "Dr Externe a mentionné ce billet" in feed and "__xss" not in feed


def test_the_status_url_is_built_from_comments_url_never_from_the_host_header(wm, server, urls):
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    response = wm.send(server.url("/reponse.html"), urls.POST_A, headers=forged)
    assert response.status_code == 202, response.get_data(as_text=True)
    token = response.headers["Location"].rsplit("/", 1)[-1]
    assert response.headers["Location"] == f"{COMMENTS_URL}webmention/{token}"
    assert response.get_json()["location"] == response.headers["Location"]
    assert "evil.example" not in response.get_data(as_text=True)
    assert wm.status(response.headers["Location"])["status"] == "queued"


def test_a_site_without_moderation_shows_it_at_once_and_replies_are_typed(wm, server, urls):
    body = h_entry(urls.POST_B).replace(f'href="{urls.POST_B}"', f'class="u-in-reply-to" href="{urls.POST_B}"')
    server.route("/reponse.html", body)
    wm.accepted(server.url("/reponse.html"), urls.POST_B)
    (result,) = wm.process()
    assert result["status"] == "approved"  # dr-b: moderation = "none"
    (mention,) = wm.thread(urls.POST_B).get_json()["mentions"]
    assert mention["type"] == "reply"


def test_update_and_deletion_are_idempotent(wm, server, urls):
    server.route("/reponse.html", h_entry(urls.POST_B))
    source = server.url("/reponse.html")
    wm.accepted(source, urls.POST_B)
    assert wm.process()[0]["result"] == "created"

    wm.accepted(source, urls.POST_B)  # sent again, nothing changed
    etag = wm.thread(urls.POST_B).headers["ETag"]
    assert wm.process()[0]["result"] == "unchanged"
    assert wm.thread(urls.POST_B, **{"If-None-Match": etag}).status_code == 304

    server.route("/reponse.html", h_entry(urls.POST_B, text="J'ai changé d'avis."))
    wm.accepted(source, urls.POST_B)
    assert wm.process()[0]["result"] == "updated"
    (mention,) = wm.thread(urls.POST_B).get_json()["mentions"]
    assert "J'ai changé d'avis." in mention["html"] and mention["updated"] is not None
    assert wm.app.test_client().get("/api/comments", query_string={"url": urls.POST_B}).get_json()["mentions"][0]["id"] == mention["id"]

    server.route("/reponse.html", status=410)
    wm.accepted(source, urls.POST_B)
    assert wm.process()[0]["result"] == "deleted"
    assert wm.thread(urls.POST_B).get_json()["mentions"] == []
    wm.accepted(source, urls.POST_B)  # the sender tells us again: nothing left to delete, no error
    assert wm.process()[0] | {"token": None} == {
        "token": None, "source": source, "target": urls.POST_B, "state": "done", "result": "gone", "error": None
    }


def test_a_source_that_no_longer_links_deletes_the_mention(wm, server, urls):
    server.route("/reponse.html", h_entry(urls.POST_B))
    source = server.url("/reponse.html")
    wm.accepted(source, urls.POST_B)
    wm.process()
    server.route("/reponse.html", "<html><body><p>Billet réécrit, sans lien.</p></body></html>")
    wm.accepted(source, urls.POST_B)
    assert wm.process()[0]["result"] == "deleted"
    assert wm.thread(urls.POST_B).get_json()["mentions"] == []


@pytest.mark.parametrize(
    "page",
    [
        "<p>Aucun lien vers le billet.</p>",
        '<p>Un lien presque juste : <a href="{target}?utm=1">billet</a></p>',
        '<p>Un lien presque juste : <a href="{target}x">billet</a></p>',
        "<p>L'adresse en texte seulement : {target}</p>",
        "<!-- <a href=\"{target}\">dans un commentaire HTML</a> -->",
    ],
)
def test_a_source_without_a_link_to_the_exact_target_is_refused_and_recorded(wm, server, urls, page):
    server.route("/page.html", f"<html><body>{page.format(target=urls.POST_A)}</body></html>")
    location = wm.accepted(server.url("/page.html"), urls.POST_A)
    (result,) = wm.process()
    assert result["state"] == "failed" and result["result"] == "no_link"
    status = wm.status(location)
    assert status["status"] == "failed" and "lien" in status["error"]
    assert wm.app.test_client().get("/api/comments", query_string={"url": urls.POST_A}).get_json()["mentions"] == []
    db = connect(wm.app.config["DB"])
    try:
        assert db.execute("SELECT COUNT(*) FROM mentions").fetchone()[0] == 0
    finally:
        db.close()


def test_relative_links_and_link_elements_count(wm, server, urls):
    # a <link> to the target counts; a relative href resolving to it counts too
    server.route("/a.html", f'<html><head><link rel="in-reply-to" href="{urls.POST_B}"></head><body>x</body></html>')
    wm.accepted(server.url("/a.html"), urls.POST_B)
    assert wm.process()[0]["result"] == "created"
    server.route("/b.html", f'<html><head><base href="{urls.BLOG_A}"></head><body><a href="premier-billet.html">A</a></body></html>')
    wm.accepted(server.url("/b.html"), urls.POST_A)
    assert wm.process()[0]["result"] == "created"


def test_a_page_without_h_entry_is_a_mention_titled_by_its_title(wm, server, urls):
    server.route("/simple.html", f'<html><head><title>Revue de presse</title></head><body><a href="{urls.POST_B}">lu</a></body></html>')
    wm.accepted(server.url("/simple.html"), urls.POST_B)
    wm.process()
    (mention,) = wm.thread(urls.POST_B).get_json()["mentions"]
    assert mention["title"] == "Revue de presse" and mention["html"] == ""
    assert mention["author"] == {"name": "127.0.0.1", "website": None}


def test_private_address_sources_are_refused_without_the_allow_list(make_app, server, urls):
    wm = WM(make_app(WEBMENTION_ALLOW_HOSTS="", WEBMENTION_WORKER=False))
    server.route("/reponse.html", h_entry(urls.POST_B))
    location = wm.accepted(server.url("/reponse.html"), urls.POST_B)  # the URL itself is fine
    (result,) = wm.process()
    assert result["state"] == "failed" and result["result"] == "refused"
    assert server.requests == [], "no request ever reached the private address"
    status = wm.status(location)
    assert status["result"] == "refused"
    # The sender reads why, in French like the rest of the service's answers, never the addresses our resolver gives.
    assert status["error"] == "Source refusée : 127.0.0.1 désigne une adresse non publique : refusée"
    wm.accepted(server.url("/reponse.html").replace("127.0.0.1", "localhost"), urls.POST_B)
    (named,) = wm.process()
    assert named["error"] == "Source refusée : localhost désigne une adresse non publique : refusée", named


def test_redirects_are_capped_and_each_one_checked(wm, server, urls):
    server.route("/reponse.html", h_entry(urls.POST_B))
    for n in range(1, 5):
        server.route(f"/r{n}", status=302, headers={"Location": f"/r{n + 1}" if n < 4 else "/reponse.html"})
    server.route("/ok", status=301, headers={"Location": "/r3"})  # 2 hops to /r4 then the page: 3 redirects
    server.route("/elsewhere", status=302, headers={"Location": f"http://localhost:{server.port}/reponse.html"})

    wm.accepted(server.url("/r1"), urls.POST_B)  # 4 redirects
    assert wm.process()[0]["result"] == "refused"
    wm.accepted(server.url("/ok"), urls.POST_B)
    assert wm.process()[0]["result"] == "created"
    wm.accepted(server.url("/elsewhere"), urls.POST_B)  # "localhost" is not on the allow-list
    result = wm.process()[0]
    assert result["result"] == "refused" and "localhost" in result["error"]


def test_a_source_over_the_size_cap_is_refused(wm, server, urls):
    server.route("/gros.html", h_entry(urls.POST_B, extra="<p>" + "x" * (1024 * 1024) + "</p>"))
    wm.accepted(server.url("/gros.html"), urls.POST_B)
    assert wm.process()[0]["result"] == "too_large"


def test_a_failing_source_is_retried_then_given_up(wm, server, urls):
    server.route("/panne.html", status=503)
    wm.accepted(server.url("/panne.html"), urls.POST_B)
    assert wm.process()[0]["result"] == "retrying"
    assert wm.process() == [], "not before its retry time"
    db = connect(wm.app.config["DB"])
    try:
        db.execute("UPDATE webmention_requests SET not_before = '2000-01-01T00:00:00Z'")
        db.conn.commit()
    finally:
        db.close()
    assert wm.process()[0]["result"] == "retrying"
    db = connect(wm.app.config["DB"])
    try:
        db.execute("UPDATE webmention_requests SET not_before = '2000-01-01T00:00:00Z'")
        db.conn.commit()
    finally:
        db.close()
    assert wm.process()[0]["result"] == "unreachable"
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    ("data", "status", "code", "field"),
    [
        ({"target": "{post}"}, 400, "missing_field", "source"),
        ({"source": "{src}"}, 400, "missing_field", "target"),
        ({"source": "ftp://exemple.fr/x", "target": "{post}"}, 400, "invalid_url", "source"),
        ({"source": "javascript:alert(1)", "target": "{post}"}, 400, "invalid_url", "source"),
        ({"source": "{src}", "target": "not a url"}, 400, "invalid_url", "target"),
        ({"source": "{post}", "target": "{post}"}, 400, "same_url", "source"),
        ({"source": "{post}#commentaires", "target": "{post}"}, 400, "same_url", "source"),
        ({"source": "HTTP://BLOGS.TEST/dr-a/premier-billet.html?", "target": "{post}"}, 400, "same_url", "source"),
        ({"source": "{src}", "target": "https://ailleurs.example/billet"}, 400, "not_in_network", "target"),
        ({"source": "{src}", "target": "http://blogs.test/dr-a/inconnu.html"}, 400, "unknown_post", "target"),
        ({"source": "{src}", "target": "{closed}"}, 400, "mentions_closed", "target"),
        ({"source": "{src}", "target": "{confreres}"}, 400, "mentions_closed", "target"),
    ],
)
def test_synchronous_refusals(wm, api_error, urls, server, data, status, code, field):
    values = {"post": urls.POST_A, "src": server.url("/x.html"), "closed": urls.POST_CLOSED,
              "confreres": urls.POST_CONFRERES}
    response = wm.client.post("/webmention", data={k: v.format(**values) for k, v in data.items()})
    api_error(response, status, code, field)
    db = connect(wm.app.config["DB"])
    try:
        assert db.execute("SELECT COUNT(*) FROM webmention_requests").fetchone()[0] == 0
    finally:
        db.close()


def test_wrong_content_type_is_415(wm, api_error, server, urls):
    body = {"source": server.url("/x.html"), "target": urls.POST_A}
    api_error(wm.client.post("/webmention", json=body), 415, "unsupported_media_type")
    api_error(wm.client.post("/webmention", data=body, content_type="multipart/form-data"), 415)
    api_error(wm.client.post("/webmention", data=f"source={body['source']}", content_type="text/plain"), 415)
    api_error(wm.client.get("/webmention"), 405)  # in the JSON shape too: senders are programs
    api_error(wm.client.put("/webmention", data=body), 405)
    big = {"source": server.url("/x.html"), "target": urls.POST_A, "filler": "x" * 70_000}
    api_error(wm.client.post("/webmention", data=big), 413)


def test_the_same_pair_waiting_is_queued_once(wm, server, urls):
    source = server.url("/reponse.html")
    first = wm.accepted(source, urls.POST_B)
    assert wm.accepted(source, urls.POST_B) == first
    assert wm.client.get("/webmention/inconnu").status_code == 404


def test_the_background_worker_verifies_without_anyone_asking(make_app, server, urls):
    app = make_app(WEBMENTION_ALLOW_HOSTS=server.host, WEBMENTION_WORKER=True)
    wm = WM(app)
    server.route("/reponse.html", h_entry(urls.POST_B))
    location = wm.accepted(server.url("/reponse.html"), urls.POST_B)
    deadline = time.monotonic() + 15
    while wm.status(location)["status"] != "done" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert wm.status(location)["result"] == "created"
    assert len(wm.thread(urls.POST_B).get_json()["mentions"]) == 1
    worker = mention_actions.worker(app)
    worker.idle = 0.1  # let it stop
    worker.kick()
    deadline = time.monotonic() + 5
    while worker.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not worker.running


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
        ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False),
        ("240.0.0.1", False), ("255.255.255.255", False), ("::1", False), ("fe80::1", False), ("fc00::1", False),
        ("ff02::1", False), ("::ffff:127.0.0.1", False), ("2002:7f00:1::", False), ("::", False),
        ("93.184.215.14", True), ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
    ],
)
def test_address_classification(address, public):
    assert is_public(address) is public


def test_every_resolved_address_is_checked_and_the_connection_pinned():
    guard = Guard(allow=(), resolver=lambda host, port: ["93.184.215.14", "10.0.0.1"])
    with pytest.raises(Refused, match="rebind.example désigne une adresse non publique"):  # not which: a stranger reads it
        guard.check("https://rebind.example/page")
    guard = Guard(allow=(), resolver=lambda host, port: ["93.184.215.14"])
    url, headers, extensions = guard.check("https://public.example:8443/page?x=1")
    assert str(url) == "https://93.184.215.14:8443/page?x=1"
    assert headers == {"Host": "public.example:8443"} and extensions == {"sni_hostname": "public.example"}
    for bad in ("file:///etc/passwd", "gopher://x/", "http://user:pw@public.example/", "http:///nohost"):
        with pytest.raises(Refused):
            guard.check(bad)
    allowed = Guard(allow=["127.0.0.1:8080", "intranet.local"], resolver=lambda h, p: ["10.0.0.9"])
    assert allowed.check("http://127.0.0.1:8080/x")[1] == {}
    assert allowed.check("http://intranet.local:9000/x")[1] == {}
    with pytest.raises(Refused):
        allowed.check("http://127.0.0.1:8081/x")


def test_hostile_sources_are_recorded_one_by_one_and_never_jam_the_queue(wm, server, urls):
    """Invalid IPv4 spellings (httpx refuses them) and markup Python's HTML parser rejects used to escape the
    drain, which stopped there and retried the same request every 10 minutes for ever."""
    server.route("/casse.html", f'<![><img src=x><p>Lu quand même : <a href="{urls.POST_A}">ce billet</a></p>')
    server.route("/bonne.html", h_entry(urls.POST_A))
    bad = {wm.accepted(source, urls.POST_A): source for source in ("http://0177.0.0.1/", "http://1.2.3.04/x")}
    broken = wm.accepted(server.url("/casse.html"), urls.POST_A)
    good = wm.accepted(server.url("/bonne.html"), urls.POST_A)

    results = wm.process()
    assert len(results) == 4, results
    assert wm.status(good)["result"] == "created"
    assert wm.status(broken)["result"] == "created", "read by html5lib when html.parser gives up"
    for location, source in bad.items():
        status = wm.status(location)
        assert status["status"] == "failed" and status["result"] == "refused", status
        assert "adresse invalide" in status["error"] and source in status["error"]
    assert len(wm.thread(urls.POST_A).get_json()["mentions"]) == 0, "both still wait for moderation"
    assert wm.process() == [], "nothing left to retry"
    assert len(server.requests) == 2


def test_an_abandoned_verification_is_retried_within_the_bound_then_failed(wm, server, urls):
    """A request whose verification died with its process is claimed again, at most MAX_ATTEMPTS times in all."""
    server.route("/bonne.html", h_entry(urls.POST_A))
    location = wm.accepted(server.url("/bonne.html"), urls.POST_A)
    db = connect(wm.app.config["DB"])

    def killed_during_attempt(attempts):  # claimed long ago, never finished
        db.execute("UPDATE webmention_requests SET state = 'processing', attempts = ?, claimed = ?",
                   (attempts, "2000-01-01T00:00:00Z"))
        db.conn.commit()
        return mention_queue.claim(db)  # what the next drain does first

    try:
        assert killed_during_attempt(1)["attempts"] == 2, "claimed again"
        assert killed_during_attempt(mention_queue.MAX_ATTEMPTS) is None, "not past the bound"
    finally:
        db.close()
    status = wm.status(location)
    assert status["status"] == "failed" and status["result"] == "abandoned" and "interrompue" in status["error"]
    assert wm.process() == [], "given up: no further attempt"


def test_a_source_cannot_sign_as_a_member(wm, server, urls):
    """A guest may not sign with a member's public name, nor a fediverse reply (its handle stands instead): an
    outside page's h-card could, and dr-b shows mentions at once (« Zèbre Savant a répondu sur … »), an approved
    one taking the new name when its source changes. The source's host name stands instead."""
    from comments_service.domain import accounts

    db = connect(wm.app.config["DB"])
    try:
        accounts.ensure_account(db, "zebre@exemple.test", display_name="Zèbre Savant")
    finally:
        db.close()
    source = server.url("/reponse.html")
    server.route("/reponse.html", h_entry(urls.POST_B).replace(">Dr Externe<", ">Savant Zèbre<"))
    wm.accepted(source, urls.POST_B)
    assert wm.process()[0]["status"] == "approved"
    (mention,) = wm.thread(urls.POST_B).get_json()["mentions"]
    assert mention["author"]["name"] == server.host.split(":")[0]

    server.route("/reponse.html", h_entry(urls.POST_B))  # an ordinary name is kept, then a member's again refused
    wm.accepted(source, urls.POST_B)
    wm.process()
    assert wm.thread(urls.POST_B).get_json()["mentions"][0]["author"]["name"] == "Dr Externe"
    server.route("/reponse.html", h_entry(urls.POST_B).replace(">Dr Externe<", ">Dr Z\u0435bre Savant<"))
    wm.accepted(source, urls.POST_B)
    assert wm.process()[0]["result"] == "updated"
    assert wm.thread(urls.POST_B).get_json()["mentions"][0]["author"]["name"] == server.host.split(":")[0]
    page = wm.client.get("/thread", query_string={"url": urls.POST_B}).get_data(as_text=True)
    assert "Zèbre" not in page and "Z\u0435bre" not in page
