"""The delivery queue: a dead instance is retried with exponential backoff and never blocks the push; a refusal
is final; private keys never appear in a public answer, a delivery or an export."""

from __future__ import annotations

import io
from datetime import timedelta

import httpx

from comments_service.core.db import connect
from comments_service.domain.export import write_export
from comments_service.domain.posts import parse_iso
from comments_service.federation import delivery
from tests.comments_service.federation.conftest import wait_for
from tests.fedi_peer import Peer

AP = {"Accept": "application/activity+json"}


def post(service, name="premier"):
    return {"url": service.url(f"/dr-a/{name}.html"), "title": name.title(), "date": "2024-03-01"}


def test_a_dead_instance_is_retried_with_backoff_and_never_blocks_the_push(make_service, peer):
    service = make_service(FEDERATION_SEND="cron", FEDERATION_RETRY_SECONDS=60)
    inbox = service.actor_url("dr-a") + "/inbox"
    with Peer("bob") as dead:
        assert dead.follow(inbox, service.actor_url("dr-a"))[1].status_code == 202
        assert peer.follow(inbox, service.actor_url("dr-a"))[1].status_code == 202
        results = delivery.deliver(service.app)
        assert [r["state"] for r in results] == ["sent", "sent"] and dead.of_type("Accept")
    # bob's instance is gone (connection refused from now on)

    answer = service.announce("dr-a", [post(service)])
    assert answer.status_code == 200 and answer.json()["federation"] == {"queued": 2}

    first = delivery.deliver(service.app)
    by_inbox = {r["inbox"]: r for r in first}
    assert by_inbox[f"http://{peer.host}/inbox"]["state"] == "sent" and peer.of_type("Create")[0].verified
    failed = by_inbox[f"http://{dead.host}/inbox"]
    assert failed["state"] == "queued" and failed["attempts"] == 1 and failed["status"] is None

    retry_at = parse_iso(failed["retry_at"])
    assert delivery.deliver(service.app) == [], "not due yet"
    waits = []
    moment = retry_at
    for attempt in range(2, delivery.MAX_ATTEMPTS + 1):
        (again,) = delivery.deliver(service.app, now=moment)
        assert again["attempts"] == attempt
        if again["state"] == "queued":
            waits.append((parse_iso(again["retry_at"]) - moment).total_seconds())
            moment = parse_iso(again["retry_at"])
    assert waits == [60 * 2 ** n for n in range(1, delivery.MAX_ATTEMPTS - 1)], "exponential backoff"
    assert again["state"] == "failed", "given up after MAX_ATTEMPTS"
    assert delivery.deliver(service.app, now=moment + timedelta(days=1)) == []

    # the next publication still goes to the live instance at once
    assert service.announce("dr-a", [post(service), post(service, "second")]).json()["federation"] == {"queued": 2}
    delivery.deliver(service.app)
    assert len(peer.of_type("Create")) == 2


def test_a_refusal_is_final(make_service, peer):
    service = make_service(FEDERATION_SEND="cron")
    assert peer.follow(service.actor_url("dr-a") + "/inbox", service.actor_url("dr-a"))[1].status_code == 202
    delivery.deliver(service.app)
    peer.status = 403
    service.announce("dr-a", [post(service)])
    (result,) = delivery.deliver(service.app)
    assert result["state"] == "failed" and result["status"] == 403


def test_private_keys_never_leave_the_database(service, peer):
    inbox = service.actor_url("dr-a") + "/inbox"
    peer.follow(inbox, service.actor_url("dr-a"))
    peer.follow(service.url("/comments/ap/inbox"), service.actor_url("planete"), number=2)
    service.announce("dr-a", [post(service)])
    for name in ("dr-a", "dr-b", "planete"):
        httpx.get(service.actor_url(name), headers=AP)  # every key made
    (article,) = service.sql("SELECT object_id FROM fed_articles")
    answers = [
        httpx.get(service.url("/.well-known/webfinger"), params={"resource": f"acct:dr-a@{service.host}"}).text,
        httpx.get(service.url("/.well-known/nodeinfo")).text,
        httpx.get(service.url("/comments/nodeinfo/2.1")).text,
        httpx.get(article[0], headers=AP).text,
    ]
    for name in ("dr-a", "dr-b", "planete"):
        for suffix in ("", "/outbox", "/outbox?page=1", "/followers", "/following"):
            answers.append(httpx.get(service.actor_url(name) + suffix, headers=AP).text)
    wait_for(lambda: peer.of_type("Create") and peer.of_type("Announce"))
    answers += [d.body.decode() + str(d.headers) for d in peer.received]
    db = connect(service.app.config["DB"])
    try:
        for private in (False, True):
            out = io.StringIO()
            write_export(db, service.network, out, private=private)
            answers.append(out.getvalue())
    finally:
        db.close()
    secrets = [row[0] for row in service.sql("SELECT private_pem FROM fed_actors")]
    assert len(secrets) == 3
    everything = "\n".join(answers)
    assert "PRIVATE KEY" not in everything
    for pem in secrets:
        body = "".join(pem.splitlines()[1:-1])
        assert all(body[i:i + 40] not in everything for i in range(0, len(body) - 40, 40))
