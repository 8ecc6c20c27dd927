"""Rate limits (429 in the error shape), the IP hash and its purge."""

import sqlite3
from datetime import timedelta

import pytest

from comments_service.commands import purge_ips_command
from comments_service.core.db import connect
from comments_service.domain import comments as store
from comments_service.web import limits
from tests.conftest import SECRET


def test_writes_are_limited_per_client(make_app, urls, api_error):
    client = make_app(RATE_LIMIT="2/minute").test_client()
    for i in range(2):
        assert client.post("/api/comments", json={"url": urls.POST_B, "text": f"n°{i}"}).status_code == 201
    response = client.post("/api/comments", json={"url": urls.POST_B, "text": "de trop"})
    api_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0
    # another client is not affected
    other = client.post(
        "/api/comments", json={"url": urls.POST_B, "text": "autre"}, environ_base={"REMOTE_ADDR": "198.51.100.9"}
    )
    assert other.status_code == 201
    # reads are not counted against the write budget
    assert client.get("/api/comments", query_string={"url": urls.POST_B}).status_code == 200


def test_an_ipv6_client_is_counted_by_its_64_block(make_app, urls, api_error):
    """Every home and phone has 2^64 IPv6 addresses: counted one by one, each request had a budget of its own."""
    client = make_app(RATE_LIMIT="2/minute").test_client()

    def post(address, text):
        return client.post("/api/comments", json={"url": urls.POST_B, "text": text},
                           environ_base={"REMOTE_ADDR": address})

    for n in range(2):
        assert post(f"2001:db8:1:2::{n + 1}", f"n°{n}").status_code == 201
    api_error(post("2001:db8:1:2:ffff:ffff:ffff:ffff", "de trop"), 429, "rate_limited")
    assert post("2001:db8:1:3::1", "un autre réseau").status_code == 201
    assert limits.budget_key("::ffff:198.51.100.7") == "198.51.100.7"
    assert limits.budget_key("198.51.100.7") == "198.51.100.7" and limits.budget_key("unknown") == "unknown"


def test_write_budget_is_shared_between_api_and_form(make_app, urls):
    client = make_app(RATE_LIMIT="1/minute").test_client()
    assert client.post("/api/comments", json={"url": urls.POST_B, "text": "un"}).status_code == 201
    response = client.post("/thread", data={"url": urls.POST_B, "text": "deux"})
    assert response.status_code == 429 and response.mimetype == "text/html"


def test_the_no_js_form_over_the_write_budget_keeps_the_comment(make_app, urls):
    """The budget is spent before the form's view runs: the 429 used to be a bare error page, the comment lost."""
    from bs4 import BeautifulSoup

    client = make_app(RATE_LIMIT="1/minute").test_client()
    assert client.post("/api/comments", json={"url": urls.POST_B, "text": "un"}).status_code == 201
    page = BeautifulSoup(client.get("/thread", query_string={"url": urls.POST_B}).get_data(as_text=True), "html.parser")
    hidden = {i["name"]: i.get("value", "") for i in page.find("form", action="/thread").find_all("input", type="hidden")}
    typed = "Un long commentaire,\r\nécrit avec soin."
    response = client.post("/thread", data={**hidden, "text": typed, "author": "Zoé", "email": "zoe@example.org"})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert soup.find(id="f-text").get_text() == typed.replace("\r\n", "\n")
    assert soup.find(id="f-author")["value"] == "Zoé" and soup.find(id="f-email")["value"] == "zoe@example.org"
    assert "Patientez une minute" in soup.find(id="erreurs").get_text()
    assert soup.find("form", action="/thread").find("input", attrs={"name": "csrf"})["value"]  # the form can be sent again as it is
    # a refusal of any other page stays the service's error page
    api = client.post("/api/comments", json={"url": urls.POST_B, "text": "trois"})
    assert api.status_code == 429 and api.mimetype == "application/json"


def test_the_no_js_report_form_spends_the_write_budget_and_keeps_the_reason(make_app, urls):
    """« Signaler » on the thread page is a write like the API's: over the budget, the form comes back open with the
    reason typed, the reason in French and Retry-After, and nothing is stored."""
    from bs4 import BeautifulSoup

    app = make_app(RATE_LIMIT="2/minute")
    client = app.test_client()
    cid = client.post("/api/comments", json={"url": urls.POST_B, "text": "un", "author": "Zoé"}).get_json()["comment"]["id"]
    page = BeautifulSoup(client.get("/thread", query_string={"url": urls.POST_B}).get_data(as_text=True), "html.parser")
    form = page.find("li", id=f"comment-{cid}").find("form", action="/signaler")
    hidden = {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}
    assert client.post("/api/comments", json={"url": urls.POST_B, "text": "deux"}).status_code == 201
    response = client.post("/signaler", data={**hidden, "reason": "Propos injurieux envers un confrère"})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert "Patientez une minute" in soup.find(id="erreurs-signalement").get_text()
    field = soup.find(id=f"f-reason-{cid}")
    assert field.get_text() == "Propos injurieux envers un confrère" and field.find_parent("details").has_attr("open")
    db = connect(app.config["DB"])
    try:
        assert db.conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == 0
    finally:
        db.close()


def test_reads_have_their_own_looser_limit(make_app, urls, api_error):
    client = make_app(RATE_LIMIT="1/minute", READ_RATE_LIMIT="3/minute").test_client()
    for _ in range(3):
        assert client.get("/api/counts", query_string={"url": urls.POST_B}).status_code == 200
    api_error(client.get("/api/comments", query_string={"url": urls.POST_B}), 429, "rate_limited")


def test_rate_limit_off(make_app, urls):
    client = make_app(RATE_LIMIT="off").test_client()
    for i in range(30):
        assert client.post("/api/comments", json={"url": urls.POST_B, "text": f"n°{i}"}).status_code == 201


def test_preflight_is_never_limited(make_app):
    client = make_app(RATE_LIMIT="1/minute", READ_RATE_LIMIT="1/minute").test_client()
    for _ in range(3):
        response = client.options(
            "/api/comments", headers={"Origin": "http://blogs.test", "Access-Control-Request-Method": "POST"}
        )
        assert response.status_code == 204


def test_ip_hash_is_keyed():
    assert limits.ip_hash("k1", "203.0.113.7") != limits.ip_hash("k2", "203.0.113.7")
    assert limits.ip_hash("k1", "203.0.113.7") == limits.ip_hash("k1", "203.0.113.7")
    assert "203" not in limits.ip_hash("k1", "203.0.113.7")


def test_purge_erases_old_ip_hashes(app, actions, urls):
    old = actions.comment("vieux", url=urls.POST_B)
    actions.comment("récent", url=urls.POST_B)
    actions.age(old["comment"]["id"], 31 * 24 * 60)
    actions.client.post(f"/api/comments/{old['comment']['id']}/report", json={"reason": "x"})
    actions.sql("UPDATE reports SET created = (SELECT created FROM comments WHERE id = ?)", (old["comment"]["id"],))
    db = connect(app.config["DB"])
    try:
        assert limits.purge_ip_hashes(db, 30) == 2
    finally:
        db.close()
    rows = {r["text"]: r["ip_hash"] for r in actions.sql("SELECT text, ip_hash FROM comments")}
    assert rows["vieux"] is None and rows["récent"]
    assert actions.sql("SELECT ip_hash FROM reports")[0]["ip_hash"] is None


def test_purge_command(runner, actions, urls):
    body = actions.comment("vieux", url=urls.POST_B)
    actions.age(body["comment"]["id"], 40 * 24 * 60)
    result = runner.invoke(purge_ips_command)
    assert result.exit_code == 0 and "1 empreinte(s)" in result.output


def test_proxy_fix_uses_forwarded_address(make_app, urls):
    app = make_app(PROXY_FIX=1, RATE_LIMIT="1/minute")
    client = app.test_client()
    for address in ("203.0.113.1", "203.0.113.2"):
        response = client.post(
            "/api/comments", json={"url": urls.POST_B, "text": address}, headers={"X-Forwarded-For": address}
        )
        assert response.status_code == 201
    expected = limits.ip_hash(app.config["SECRET_KEY"], "203.0.113.1")
    db = connect(app.config["DB"])
    try:
        assert store.query_one(db, "SELECT ip_hash FROM comments WHERE text = '203.0.113.1'")["ip_hash"] == expected
    finally:
        db.close()


def test_duplicate_window_is_configurable(make_app, urls, api_error):
    client = make_app(DUPLICATE_WINDOW=0).test_client()
    assert client.post("/api/comments", json={"url": urls.POST_B, "text": "même"}).status_code == 201
    # window of 0 minutes: only the same second counts; a comment one minute old is not a duplicate
    db = connect(client.application.config["DB"])
    try:
        db.conn.execute("UPDATE comments SET created = ?", (store.iso(store.utcnow() - timedelta(minutes=1)),))
        db.conn.commit()
    finally:
        db.close()
    assert client.post("/api/comments", json={"url": urls.POST_B, "text": "même"}).status_code == 201


def test_every_route_is_limited_or_named_exempt(make_app, urls):
    """Past both budgets, every route and method answers 429, except the exemptions named in limits.EXEMPT.

    Once a hand-kept list of blueprints left 16 routes unlimited; a route that escapes the budgets, or an
    exemption that names no route, fails here."""
    app = make_app(RATE_LIMIT="1/minute", READ_RATE_LIMIT="1/minute", FEDERATION_RATE_LIMIT="1/minute")
    client = app.test_client()
    assert client.get("/api/counts", query_string={"url": urls.POST_B}).status_code == 200
    assert client.post("/api/comments", json={"url": urls.POST_B, "text": "un"}).status_code == 201
    assert client.post("/ap/inbox", json={}).status_code == 401  # unsigned: the instance's budget is spent
    adapter = app.url_map.bind("localhost")
    seen, unlimited = set(), []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = adapter.build(rule.endpoint, {name: "1" for name in rule.arguments}, method=method)
            status = client.open(path, method=method).status_code
            seen.add(rule.endpoint)
            if rule.endpoint in limits.EXEMPT:
                assert status != 429, (method, path)
            elif status != 429:
                unlimited.append(f"{method} {rule.rule} ({rule.endpoint}): {status}")
    assert not unlimited, "routes with no rate limit; limit them or name them in limits.EXEMPT:\n" + "\n".join(
        unlimited
    )
    assert set(limits.EXEMPT) <= seen, "an exemption names a route that no longer exists"
    assert len(seen) > 60


def test_profiles_moderation_and_notification_pages_are_limited(make_app, api_error):
    """Once left out by a hand-kept list of blueprints: now under the default read budget."""
    client = make_app(RATE_LIMIT="1/minute", READ_RATE_LIMIT="2/minute").test_client()
    paths = ("/membres/dr-inconnu", "/api/members/dr-inconnu", "/moderation", "/api/moderation/queue",
             "/notify/confirm?token=x", "/notify/unsubscribe?token=x")
    for n, path in enumerate(paths):
        reader = {"REMOTE_ADDR": f"198.51.100.{n + 1}"}  # a client of its own for each page
        first = [client.get(path, environ_base=reader).status_code for _ in range(2)]
        assert 429 not in first, (path, first)
        response = client.get(path, environ_base=reader)
        assert response.status_code == 429, path
        if path.startswith("/api/"):
            api_error(response, 429, "rate_limited")


def test_moderation_and_notification_writes_share_the_write_budget(make_app, urls):
    client = make_app(RATE_LIMIT="1/minute").test_client()
    assert client.post("/api/comments", json={"url": urls.POST_B, "text": "un"}).status_code == 201
    assert client.post("/moderation/act", data={"token": "x"}).status_code == 429
    assert client.post("/notify/unsubscribe", data={"token": "x"}).status_code == 429
    assert client.post("/api/moderation/1", json={"action": "approve"}).status_code == 429


def test_the_default_storage_is_a_file_beside_the_database(make_app, tmp_path):
    app = make_app(RATE_LIMIT="2/minute")
    assert app.config["RATE_LIMIT_STORAGE"] == "sqlite://" + str(tmp_path.resolve() / "comments-limits.sqlite3")


def test_the_counters_on_disk_name_no_client_address(make_app, urls, tmp_path):
    """The docs promise no IP is stored, only keyed hashes (erased with a key rotation): the limits' file beside the
    database keyed each counter by the client's address, so whoever read it listed the network's visitors."""
    client = make_app(RATE_LIMIT="5/minute", READ_RATE_LIMIT="5/minute").test_client()
    for address in ("203.0.113.77", "2001:db8:77:1::5"):
        assert client.post("/api/comments", json={"url": urls.POST_B, "text": f"de {address}"},
                           environ_base={"REMOTE_ADDR": address}).status_code == 201
        assert client.get("/api/comments", query_string={"url": urls.POST_B},
                          environ_base={"REMOTE_ADDR": address}).status_code == 200
    files = sorted(tmp_path.glob("comments-limits.sqlite3*"))
    keys = [row[0] for row in sqlite3.connect(files[0]).execute("SELECT key FROM entries")]
    assert len(keys) == 4, keys
    written = b"".join(path.read_bytes() for path in files)
    for address in (b"203.0.113.77", b"2001:db8:77:1::", b"2001:db8:77:1::/64"):
        assert address not in written, address
    assert limits.ip_hash(SECRET, "203.0.113.77").encode() in written, "counted by its keyed hash"


def test_an_unknown_storage_is_refused_at_start(make_app):
    from comments_service.core.config import ConfigError

    with pytest.raises(ConfigError, match="CONFRERES_RATE_LIMIT_STORAGE='nosuch://x'"):
        make_app(RATE_LIMIT="2/minute", RATE_LIMIT_STORAGE="nosuch://x")
    with pytest.raises(ConfigError, match="CONFRERES_RATE_LIMIT_STRATEGY"):
        make_app(RATE_LIMIT="2/minute", RATE_LIMIT_STRATEGY="leaky-bucket")


@pytest.mark.parametrize("storage", ["memory://", "unreachable"])
def test_other_storages_and_a_broken_one_still_limit(make_app, urls, tmp_path, storage):
    """memory:// (one process, as before) works; a storage that fails counts in memory instead of failing."""
    if storage == "unreachable":
        storage = "sqlite://" + str(tmp_path / "no-such-dir" / "limits.sqlite3")
    client = make_app(RATE_LIMIT="2/minute", RATE_LIMIT_STORAGE=storage).test_client()
    statuses = [client.post("/api/comments", json={"url": urls.POST_B, "text": f"n°{i}"}).status_code for i in range(3)]
    assert statuses == [201, 201, 429]


def test_inboxes_have_a_budget_per_sending_address_apart_from_the_guests_writes(make_app, api_error):
    """A Mastodon server delivering many replies must not be cut by the guests' 10 writes a minute, nor one
    instance spend another's budget: the budget is its address's, before any signature is checked (the keyId a
    request names is anyone's to write: it let a stranger lock an instance out, or escape every budget)."""
    client = make_app(RATE_LIMIT="1/minute", FEDERATION_RATE_LIMIT="2/minute").test_client()

    def inbox(host, address):
        signature = f'keyId="https://{host}/users/x#main-key",algorithm="rsa-sha256",headers="date",signature="eA=="'
        return client.post("/ap/inbox", json={}, headers={"Signature": signature},
                           environ_base={"REMOTE_ADDR": address}).status_code

    assert [inbox("a.example", "192.0.2.1"), inbox("a.example", "192.0.2.1")] == [401, 401]  # within its budget
    assert inbox("a.example", "192.0.2.1") == 429
    assert inbox("b.example", "192.0.2.2") == 401, "another instance has its own budget"
    # a stranger naming b.example spends its own budget, not b's; naming a new host each time does not renew it
    assert [inbox("b.example", "198.51.100.66"), inbox("c.example", "198.51.100.66"),
            inbox("d.example", "198.51.100.66")] == [401, 401, 429]
    assert inbox("b.example", "192.0.2.2") == 401
    assert client.post("/api/comments", json={"url": "x", "text": "un"}).status_code != 429, "guests' writes unspent"


def test_typing_checks_and_one_click_unsubscribes_spend_the_reads_budget(make_app):
    client = make_app(RATE_LIMIT="1/minute", READ_RATE_LIMIT="3/minute").test_client()
    statuses = [client.post("/api/secrecy-check", json={"text": "Bonjour"}).status_code for _ in range(3)]
    statuses += [client.post("/lettre/desabonnement", data={"token": "x"}).status_code]
    assert 429 not in statuses[:3] and statuses[3] == 429, statuses
