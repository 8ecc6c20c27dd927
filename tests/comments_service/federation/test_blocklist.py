"""The moderators' instance blocklist (`confreres federation block/unblock/blocked`, kept in the database): a
blocked instance's requests are refused (403) and nothing is delivered to it, even what was queued before;
unblocking resumes; the FEDERATION_BLOCKED_HOSTS setting still adds to the list."""

from __future__ import annotations

import re

import httpx
from click.testing import CliRunner

from confreres.cli import cli
from tests.comments_service.federation.test_replies import activity, posts
from tests.conftest import SECRET
from tests.fedi_peer import Peer


def command(service, *args, **settings):
    env = {"CONFRERES_DB": service.app.config["DB"], "CONFRERES_SECRET_KEY": SECRET,
           "CONFRERES_OUTGOING_ALLOW_HOSTS": "127.0.0.1", **{f"CONFRERES_{k}": v for k, v in settings.items()}}
    return CliRunner().invoke(cli, ["--network", str(service.network.source), "federation", *args], env=env)


def test_a_blocked_instance_is_refused_and_sent_nothing_until_unblocked(make_service, peer):
    service = make_service(FEDERATION_SEND="cron", MODERATION="none")
    inbox = service.url("/comments/ap/inbox")
    post_url = service.url("/dr-a/ouvert.html")
    with Peer("bruno") as bruno:
        for follower in (peer, bruno):
            assert follower.follow(service.actor_url("dr-a") + "/inbox", service.actor_url("dr-a"))[1].status_code == 202
        blocked = command(service, "block", f"http://{peer.host.upper()}/@alice")
        assert blocked.exit_code == 0, blocked.output
        assert blocked.output.strip() == f"Instance {peer.host} bloquée."
        assert command(service, "block", peer.host).output.strip() == f"L'instance {peer.host} était déjà bloquée."
        assert command(service, "block", "pas une/instance ?").exit_code == 2
        assert command(service, "blocked").output.startswith(f"{peer.host}  (depuis le ")

        # the Accept queued before the block is abandoned unsent; the other instance gets its own
        assert service.announce("dr-a", [{"url": post_url, "title": "Ouvert", "date": "2024-03-01"}]).status_code == 200
        sent = command(service, "deliver")
        assert sent.exit_code == 0, sent.output
        assert "instance bloquée" in sent.output
        assert peer.received == []
        assert len(bruno.of_type("Accept")) == 1 and len(bruno.of_type("Create")) == 1

        # its requests: 403, nothing stored
        refused = peer.post(inbox, activity(peer, "Like", post_url, 1))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "blocked_instance"
        assert peer.post(inbox, activity(peer, "Create", {
            "id": f"{peer.actor_id}/statuses/1", "type": "Note", "attributedTo": peer.actor_id,
            "inReplyTo": post_url, "content": "<p>Bonjour</p>"}, 2)).status_code == 403
        assert service.sql("SELECT COUNT(*) FROM fed_reactions")[0][0] == 0
        assert service.sql("SELECT COUNT(*) FROM comments")[0][0] == 0

        assert command(service, "unblock", peer.host).output.strip() == f"Instance {peer.host} débloquée."
        assert command(service, "blocked").output.strip() == "Aucune instance bloquée."
        assert peer.post(inbox, activity(peer, "Like", post_url, 3)).status_code == 202
        assert service.announce("dr-a", [{"url": post_url, "title": "Ouvert, corrigé", "date": "2024-03-01"}]
                                ).status_code == 200
        command(service, "deliver")
        assert len(peer.of_type("Update")) == 1 and all(d.verified for d in peer.received)


def test_the_setting_still_blocks(make_service, peer):
    setting = {"FEDERATION_BLOCKED_HOSTS": f"{peer.host.upper()}, "}
    service = make_service(**setting)
    assert command(service, "blocked", **setting).output.strip() == (
        f"{peer.host}  (réglage CONFRERES_FEDERATION_BLOCKED_HOSTS)")
    said = command(service, "unblock", peer.host, **setting).output
    assert "n'était pas bloquée ici" in said and "reste bloquée par le réglage" in said
    answer = peer.follow(service.actor_url("dr-a") + "/inbox", service.actor_url("dr-a"))[1]
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "blocked_instance"


def signed_in(service, email: str, role: str, sites=()):
    """A browser (the app's test client) signed in as a new account of that role."""
    from comments_service.core.db import connect
    from comments_service.domain import accounts

    db = connect(service.app.config["DB"])
    try:
        row, _ = accounts.ensure_account(db, email, role=role, sites=tuple(sites), display_name=email.split("@")[0])
        token, _ = accounts.create_session(db, row["id"], "cookie", 30)
    finally:
        db.close()
    browser = service.app.test_client()
    browser.set_cookie("confreres_session", token)
    return browser


def page_form(page, action: str) -> dict:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    (form,) = [f for f in soup.find_all("form") if f.get("action", "").endswith(action) and f.find("input", id=True)]
    return {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}


def test_the_network_moderators_block_from_the_moderation_page(make_service, peer):
    service = make_service(MODERATION="all")
    moderator = signed_in(service, "modo@example.test", "moderator")
    page = moderator.get("/moderation")
    assert "Instances du fédivers bloquées" in page.get_data(as_text=True)
    hidden = page_form(page, "/moderation/instances")

    wrong = moderator.post("/moderation/instances", data={**hidden, "host": "pas une/instance", "action": "block"})
    assert wrong.status_code == 400 and 'value="pas une/instance"' in wrong.get_data(as_text=True), "re-shown"
    wrong_page = wrong.get_data(as_text=True)  # the error is the field's: announced, and tied to it
    assert 'aria-invalid="true" aria-describedby="instance-host-err"' in wrong_page
    assert '<span id="instance-host-err" class="error">' in wrong_page and 'href="#instance-host"' in wrong_page
    forged = moderator.post("/moderation/instances", data={"csrf": "x", "host": peer.host, "action": "block"})
    assert forged.status_code == 403 and service.sql("SELECT COUNT(*) FROM fed_blocked_hosts")[0][0] == 0

    done = moderator.post("/moderation/instances", data={**hidden, "host": peer.host, "action": "block"})
    assert done.status_code == 303
    shown = moderator.get(done.headers["Location"]).get_data(as_text=True)
    assert "Instance bloquée." in shown and f"{peer.host} <span" in shown
    answer = peer.follow(service.actor_url("dr-a") + "/inbox", service.actor_url("dr-a"))[1]
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "blocked_instance"

    # a blog's author moderates their blog's comments, not the network's instances
    assert service.announce("dr-a", posts(service)).status_code == 200
    assert httpx.post(service.url("/comments/api/comments"), json={"url": service.url("/dr-a/ouvert.html"),
                                                                   "text": "En attente.", "author": "Jo"}).status_code == 201
    author = signed_in(service, "auteur@example.test", "author", sites=("dr-a",))
    author_page = author.get("/moderation")
    assert author_page.status_code == 200 and "Instances du fédivers" not in author_page.get_data(as_text=True)
    own_csrf = re.search(r'name="csrf" value="([^"]+)"', author_page.get_data(as_text=True)).group(1)
    refused = author.post("/moderation/instances", data={"csrf": own_csrf, "host": peer.host, "action": "unblock"})
    assert refused.status_code == 403 and "Seuls les modérateurs du réseau" in refused.get_data(as_text=True)
    assert service.sql("SELECT host FROM fed_blocked_hosts") == [(peer.host,)]

    unblock = moderator.post("/moderation/instances", data={**hidden, "host": peer.host, "action": "unblock"})
    assert unblock.status_code == 303
    assert peer.follow(service.actor_url("dr-a") + "/inbox", service.actor_url("dr-a"))[1].status_code == 202
    assert service.sql("SELECT COUNT(*) FROM fed_blocked_hosts")[0][0] == 0
