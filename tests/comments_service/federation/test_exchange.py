"""The service and a remote instance exchanging over real HTTP: discovery, a signed Follow, the Accept, then
the posts a blog announces delivered as Create / Update / Delete, each signature checked by the other side's
own implementation; the Undo."""

from __future__ import annotations

import httpx

from tests.comments_service.federation.conftest import wait_for

AP = {"Accept": "application/activity+json"}


def posts(service, *extra):
    base = [{"url": service.url("/dr-a/premier.html"), "title": "Premier billet", "date": "2024-03-01",
             "excerpt": "Le début.", "content": "<p>Le <em>début</em>.</p>", "tags": ["garde"]}]
    return base + list(extra)


def test_discovery_at_the_network_root(service):
    answer = httpx.get(service.url("/.well-known/webfinger"), params={"resource": f"acct:dr-a@{service.host}"})
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/jrd+json")
    finger = answer.json()
    assert finger["subject"] == f"acct:dr-a@{service.host}"
    (self_link,) = [link for link in finger["links"] if link["rel"] == "self"]
    assert self_link == {"rel": "self", "type": "application/activity+json", "href": service.actor_url("dr-a")}
    planete = httpx.get(service.url("/.well-known/webfinger"), params={"resource": f"acct:planete@{service.host}"})
    assert planete.json()["links"][0]["href"] == service.actor_url("planete")
    assert httpx.get(service.url("/.well-known/webfinger"),
                     params={"resource": "acct:dr-a@ailleurs.example"}).status_code == 404
    assert httpx.get(service.url("/.well-known/webfinger"), params={"resource": f"acct:dr-z@{service.host}"}
                     ).json()["error"]["code"] == "unknown_account"

    links = httpx.get(service.url("/.well-known/nodeinfo")).json()["links"]
    assert links[0]["href"] == service.url("/comments/nodeinfo/2.1")
    info = httpx.get(links[0]["href"]).json()
    assert info["version"] == "2.1" and info["protocols"] == ["activitypub"] and info["usage"]["users"]["total"] == 2


def test_actor_documents_and_content_negotiation(service):
    actor = httpx.get(service.actor_url("dr-a"), headers=AP)
    assert actor.headers["Content-Type"] == "application/activity+json"
    doc = actor.json()
    assert doc["id"] == service.actor_url("dr-a") and doc["preferredUsername"] == "dr-a"
    assert doc["name"] == "Le carnet du Dr A" and "Notes de consultation" in doc["summary"]
    assert doc["url"] == service.url("/dr-a/") and doc["inbox"] == service.actor_url("dr-a") + "/inbox"
    assert doc["endpoints"]["sharedInbox"] == service.url("/comments/ap/inbox")
    assert doc["publicKey"]["owner"] == doc["id"] and "BEGIN PUBLIC KEY" in doc["publicKey"]["publicKeyPem"]
    icon = httpx.get(doc["icon"]["url"])
    assert icon.status_code == 200 and icon.headers["Content-Type"] == doc["icon"]["mediaType"] == "image/png"
    assert icon.content.startswith(b"\x89PNG")
    again = httpx.get(service.actor_url("dr-a"), headers=AP).json()
    assert again["publicKey"] == doc["publicKey"], "the key is made once and kept"
    assert httpx.get(service.actor_url("dr-b"), headers=AP).json()["publicKey"] != doc["publicKey"]

    profile = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
    ld = httpx.get(service.actor_url("dr-a"), headers={"Accept": profile})
    assert ld.headers["Content-Type"] == profile and ld.json()["id"] == doc["id"]
    browser = httpx.get(service.actor_url("dr-a"), headers={"Accept": "text/html,*/*;q=0.8"})
    assert browser.status_code == 303 and browser.headers["Location"] == service.url("/dr-a/")
    assert httpx.get(service.actor_url("dr-z"), headers=AP).status_code == 404


def test_follow_accept_publish_update_delete_undo(service, peer):
    inbox = service.actor_url("dr-a") + "/inbox"
    follow, answer = peer.follow(inbox, service.actor_url("dr-a"))
    assert answer.status_code == 202, answer.text

    (accept,) = wait_for(lambda: peer.of_type("Accept"))
    assert accept.verified, accept.problem
    assert accept.path == "/users/alice/inbox"
    assert accept.activity["actor"] == service.actor_url("dr-a") and accept.activity["object"]["id"] == follow["id"]
    assert service.followers("dr-a") == 1 and service.followers("dr-b") == 0
    listing = httpx.get(service.actor_url("dr-a") + "/followers", headers=AP).text
    assert peer.host not in listing, "the count is public, the list is not"

    first = service.announce("dr-a", posts(service))
    assert first.status_code == 200 and first.json()["federation"] == {"queued": 1}
    (create,) = wait_for(lambda: peer.of_type("Create"))
    assert create.verified, create.problem
    assert create.path == "/inbox", "delivered to the instance's shared inbox"
    article = create.activity["object"]
    assert article["type"] == "Article" and article["name"] == "Premier billet"
    assert article["url"] == service.url("/dr-a/premier.html") and article["attributedTo"] == service.actor_url("dr-a")
    assert "<em>début</em>" in article["content"] and article["tag"] == [{"type": "Hashtag", "name": "#garde"}]
    assert article["published"] == "2024-03-01T00:00:00Z"
    fetched = httpx.get(article["id"], headers=AP).json()
    assert fetched["id"] == article["id"] and fetched["url"] == article["url"]

    assert service.announce("dr-a", posts(service)).json()["federation"] == {"queued": 0}, "unchanged: nothing"
    changed = posts(service)
    changed[0]["title"] = "Premier billet, corrigé"
    assert service.announce("dr-a", changed).json()["federation"] == {"queued": 1}
    (update,) = wait_for(lambda: peer.of_type("Update"))
    assert update.verified and update.activity["object"]["name"] == "Premier billet, corrigé"

    assert service.announce("dr-a", []).json()["federation"] == {"queued": 1}
    (delete,) = wait_for(lambda: peer.of_type("Delete"))
    assert delete.verified and delete.activity["object"] == {"id": article["id"], "type": "Tombstone"}
    assert httpx.get(article["id"], headers=AP).status_code == 404

    outbox = httpx.get(service.actor_url("dr-a") + "/outbox", headers=AP).json()
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 0

    assert peer.undo(inbox, follow).status_code == 202
    assert service.followers("dr-a") == 0


def test_the_network_actor_announces_every_member_post(service, peer):
    _, answer = peer.follow(service.url("/comments/ap/inbox"), service.actor_url("planete"))
    assert answer.status_code == 202
    wait_for(lambda: peer.of_type("Accept"))
    post = {"url": service.url("/dr-b/billet.html"), "title": "Billet B", "date": "2024-04-02T08:00:00+02:00"}
    assert service.announce("dr-b", [post]).json()["federation"] == {"queued": 1}
    (announce,) = wait_for(lambda: peer.of_type("Announce"))
    assert announce.verified, announce.problem
    assert announce.activity["actor"] == service.actor_url("planete")
    assert httpx.get(announce.activity["object"], headers=AP).json()["url"] == post["url"]
    outbox = httpx.get(service.actor_url("planete") + "/outbox", params={"page": 1}, headers=AP).json()
    assert [item["object"]["url"] for item in outbox["orderedItems"]] == [post["url"]]
