"""A blog removed from network.toml, taken off its followers' servers by `confreres federation delete-blog SLUG`
(federation/farewell.py): the followers' instance (the loopback peer, checking signatures with the key it kept, as
Mastodon does: the removed blog's actor answers 404) receives a signed `Delete` of each of its posts' Articles, then
of its actor, once; its followers are forgotten, its key once the deliveries are done. A blog still in network.toml,
or one removed by mistake and not named to the command, is untouched. Nothing private goes out."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
from click.testing import CliRunner

from comments_service import create_app
from comments_service.core.config import refresh_network
from comments_service.domain.posts import utcnow
from comments_service.federation import delivery
from confreres.cli import cli
from tests.comments_service.verification_kit import CLAIRE, Kit, import_people
from tests.conftest import SECRET

ACTIVITY = {"Accept": "application/activity+json"}
GUEST_EMAIL = "jeanne.privee@cabinet-secret.test"
GUEST_NAME = "Jeanne Privée-Secrète"
MEMBER_EMAIL = "claire.lefebvre@cabinet-secret.test"


def _posts(service, slug: str, count: int) -> list[dict]:
    return [{"url": service.url(f"/{slug}/billet-{n}.html"), "title": f"Billet {n} de {slug}", "date": f"2024-03-0{n}",
             "excerpt": f"Résumé {n}", "content": f"<p>Texte {n}</p>", "tags": ["essai"]} for n in range(1, count + 1)]


def _scene(make_service, peer, tmp_path, **config):
    """dr-a (1 post) and dr-b (2 posts, commented by a verified member and a guest), the peer following dr-a, dr-b
    and the network; the Accepts delivered (the peer keeps the three keys)."""
    service = make_service(FEDERATION_SEND="cron", FEDERATION_SENDERS=1, MODERATION="none", **config)
    assert service.announce("dr-a", _posts(service, "dr-a", 1)).status_code == 200
    assert service.announce("dr-b", _posts(service, "dr-b", 2)).status_code == 200
    import_people(service.app, tmp_path)
    kit = Kit(service.app, service.app.test_client())
    claire = kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire Lefebvre", email=MEMBER_EMAIL)
    post = service.url("/dr-b/billet-1.html")
    assert kit.client.post("/api/comments", json={"url": post, "text": "Bien vu."},
                           headers=claire.headers).status_code == 201
    assert kit.client.post("/api/comments", json={"url": post, "text": "Merci docteur.", "author": GUEST_NAME,
                                                  "email": GUEST_EMAIL}).status_code == 201
    for number, name in enumerate(("dr-a", "dr-b", "planete"), 1):
        assert peer.follow(service.actor_url(name) + "/inbox", service.actor_url(name), number)[1].status_code == 202
    sent = delivery.deliver(service.app)
    assert [result["state"] for result in sent] == ["sent"] * 3
    assert all(accept.verified for accept in peer.of_type("Accept"))
    peer.received.clear()
    return service


def _remove(service, slug: str) -> str:
    """Take `slug`'s [[sites]] block out of network.toml (the service reloads it); the file as it was."""
    path = service.network.source
    before = path.read_text(encoding="utf-8")
    blocks = before.split("\n[[sites]]\n")
    path.write_text("\n[[sites]]\n".join(b for b in blocks if f'slug = "{slug}"' not in b), encoding="utf-8")
    assert refresh_network(service.app, force=True)
    return before


def _cli(service, *args):
    env = {"CONFRERES_DB": service.app.config["DB"], "CONFRERES_SECRET_KEY": SECRET,
           "CONFRERES_OUTGOING_ALLOW_HOSTS": "127.0.0.1"}
    return CliRunner().invoke(cli, ["--network", str(service.network.source), *args], env=env)


def _key(service, name: str):
    rows = service.sql("SELECT public_pem FROM fed_actors WHERE name = ?", (name,))
    return rows[0][0] if rows else None


def test_a_removed_blog_is_deleted_from_its_followers_servers_once(make_service, peer, tmp_path):
    service = _scene(make_service, peer, tmp_path)
    articles = dict(service.sql("SELECT post_url, object_id FROM fed_articles WHERE site = 'dr-b'"))
    keys_before = {name: _key(service, name) for name in ("dr-a", "dr-b", "planete")}
    _remove(service, "dr-b")
    assert httpx.get(service.actor_url("dr-b"), headers=ACTIVITY).status_code == 404

    status = _cli(service, "federation", "status")
    assert status.exit_code == 0, status.output
    assert ("dr-b : absent de network.toml, encore 1 abonné et 2 billets sur le fédivers (pour l'en retirer : "
            "confreres federation delete-blog dr-b)") in status.output
    tried = _cli(service, "federation", "delete-blog", "dr-b", "--dry-run")
    assert tried.exit_code == 0, tried.output
    assert "3 livraisons seraient mises en file" in tried.output and "Essai : rien n'a changé." in tried.output
    assert service.sql("SELECT COUNT(*) FROM fed_followers WHERE actor = 'dr-b'") == [(1,)]

    done = _cli(service, "federation", "delete-blog", "dr-b")
    assert done.exit_code == 0, done.output
    assert ("« dr-b » : suppression de 2 billets et du compte vers 1 boîte de réception, 3 livraisons mises en file ; "
            "1 abonné oublié.") in done.output
    assert service.sql("SELECT COUNT(*) FROM fed_followers WHERE actor = 'dr-b'") == [(0,)]
    assert service.sql("SELECT COUNT(*) FROM fed_articles WHERE site = 'dr-b' AND deleted IS NULL") == [(0,)]
    assert _key(service, "dr-b") == keys_before["dr-b"], "kept to sign the Deletes"

    sent = delivery.deliver(service.app)
    assert [result["state"] for result in sent] == ["sent"] * 3
    received = peer.of_type("Delete")
    assert len(received) == 3 and len(peer.received) == 3
    assert all(d.verified for d in received), [d.problem for d in received]
    assert {d.path for d in received} == {"/inbox"}, "the instance's shared inbox, once for its follows of dr-b and planete"
    blog = service.actor_url("dr-b")
    assert [d.activity["object"] for d in received] == [
        {"id": articles[service.url("/dr-b/billet-1.html")], "type": "Tombstone"},
        {"id": articles[service.url("/dr-b/billet-2.html")], "type": "Tombstone"},
        blog,
    ], "the posts first, then the account"
    for d in received:
        sent_activity = d.activity
        assert sent_activity["actor"] == blog and sent_activity["type"] == "Delete"
        assert set(sent_activity) == {"@context", "id", "type", "actor", "to", "cc", "object"}
        assert sent_activity["cc"] == [blog + "/followers"]
        for private in (GUEST_EMAIL, GUEST_NAME, MEMBER_EMAIL, CLAIRE, "Lefebvre", "Claire", "Dr Bruno B", "Merci",
                        "Texte", "Billet", "Résumé", "remote_addr", "ip_hash"):
            assert private not in d.body.decode(), private
    assert _key(service, "dr-b") is None, "forgotten once its deliveries are done"

    # nothing twice: the command again, the sender again, a restarted service
    again = _cli(service, "federation", "delete-blog", "dr-b")
    assert again.exit_code == 0, again.output
    assert "Rien à envoyer" in again.output
    assert delivery.deliver(service.app) == []
    restarted = create_app(dict(service.app.config))
    assert delivery.deliver(restarted) == []
    assert len(peer.received) == 3

    # dr-a and the network untouched
    assert {name: _key(service, name) for name in ("dr-a", "planete")} == {
        name: keys_before[name] for name in ("dr-a", "planete")}
    assert service.followers("dr-a") == 1 and service.followers("planete") == 1
    assert httpx.get(service.actor_url("dr-a"), headers=ACTIVITY).status_code == 200
    ((dr_a_article,),) = service.sql("SELECT object_id FROM fed_articles WHERE site = 'dr-a' AND deleted IS NULL")
    assert httpx.get(dr_a_article, headers=ACTIVITY).status_code == 200


def test_a_blog_still_listed_or_unknown_is_refused_and_nothing_changes(make_service, peer, tmp_path):
    service = _scene(make_service, peer, tmp_path)
    before = service.sql("SELECT COUNT(*) FROM fed_activities")
    for slug, said in (("dr-a", "« dr-a » est encore dans network.toml"),
                       ("planete", "« planete » est encore dans network.toml"),
                       ("dr-bb", "le fédivers n'a jamais connu de blog « dr-bb »")):
        refused = _cli(service, "federation", "delete-blog", slug)
        assert refused.exit_code == 1 and said in refused.output and "rien n'a changé" in refused.output, refused.output
    assert service.sql("SELECT COUNT(*) FROM fed_activities") == before
    assert service.followers("dr-a") == 1 and service.followers("dr-b") == 1
    assert delivery.deliver(service.app) == [] and peer.received == []


def test_a_blog_removed_by_mistake_loses_nothing_on_the_fediverse(make_service, peer, tmp_path):
    """A typo in network.toml (or a bad merge) takes the blog's pages dark, never its followers' copies: nothing is
    sent until the operator names the blog; put back, it is the same account with the same key."""
    service = _scene(make_service, peer, tmp_path)
    key = _key(service, "dr-b")
    before = _remove(service, "dr-b")
    assert httpx.get(service.actor_url("dr-b"), headers=ACTIVITY).status_code == 404
    assert delivery.deliver(service.app) == []
    assert delivery.deliver(create_app(dict(service.app.config))) == []
    assert _cli(service, "federation", "deliver").exit_code == 0
    assert peer.received == [] and _key(service, "dr-b") == key

    service.network.source.write_text(before, encoding="utf-8")
    assert refresh_network(service.app, force=True)
    actor = httpx.get(service.actor_url("dr-b"), headers=ACTIVITY).json()
    assert actor["publicKey"]["publicKeyPem"] == key and service.followers("dr-b") == 1
    assert service.announce("dr-b", _posts(service, "dr-b", 3)).json()["federation"]["queued"] == 2  # and the boost
    delivery.deliver(service.app)
    (create,) = peer.of_type("Create")
    assert create.verified and create.activity["object"]["name"] == "Billet 3 de dr-b"


def test_the_deletes_are_retried_and_the_key_kept_until_they_are_done(make_service, peer, tmp_path):
    service = _scene(make_service, peer, tmp_path)
    peer.status = 503  # the instance is down: dr-b's new post (and the network's boost of it) waits for a retry
    assert service.announce("dr-b", _posts(service, "dr-b", 3)).json()["federation"]["queued"] == 2
    assert [result["state"] for result in delivery.deliver(service.app)] == ["queued"] * 2
    _remove(service, "dr-b")
    done = _cli(service, "federation", "delete-blog", "dr-b")
    assert done.exit_code == 0, done.output
    assert "3 billets et du compte vers 1 boîte de réception, 4 livraisons mises en file" in done.output
    assert "2 livraisons en attente abandonnées" in done.output, "its Create, its boost: never after its Delete"

    assert [result["state"] for result in delivery.deliver(service.app)] == ["queued"] * 4
    assert _key(service, "dr-b") is not None, "kept while a Delete waits for its retry"
    peer.status = 202
    peer.received.clear()
    later = utcnow() + timedelta(minutes=5)
    assert [result["state"] for result in delivery.deliver(service.app, now=later)] == ["sent"] * 4
    assert [d.activity["type"] for d in peer.received] == ["Delete"] * 4
    assert all(d.verified for d in peer.received), [d.problem for d in peer.received]
    assert json.loads(peer.received[-1].body)["object"] == service.actor_url("dr-b")
    assert _key(service, "dr-b") is None
    assert delivery.deliver(service.app, now=later + timedelta(hours=1)) == []


def test_a_blog_whose_account_no_server_ever_fetched_is_only_taken_dark(make_service, peer):
    """Followed through the network only, its actor never fetched: no server holds its account or its key, so no
    Delete could be verified; its posts are marked deleted and no key is made for it."""
    service = make_service(FEDERATION_SEND="cron")
    assert peer.follow(service.actor_url("planete") + "/inbox", service.actor_url("planete"))[1].status_code == 202
    assert service.announce("dr-b", _posts(service, "dr-b", 2)).status_code == 200
    assert [result["state"] for result in delivery.deliver(service.app)] == ["sent"] * 3  # the Accept, two boosts
    assert _key(service, "dr-b") is None
    _remove(service, "dr-b")
    done = _cli(service, "federation", "delete-blog", "dr-b")
    assert done.exit_code == 0, done.output
    assert "suppression de 2 billets et du compte (aucun serveur à prévenir) ; 0 abonné oublié." in done.output
    assert delivery.deliver(service.app) == [] and _key(service, "dr-b") is None
    assert service.sql("SELECT COUNT(*) FROM fed_articles WHERE site = 'dr-b' AND deleted IS NULL") == [(0,)]


def test_a_create_in_flight_when_the_blog_is_deleted_stays_abandoned(make_service, peer, tmp_path):
    """Another process's sender was sending dr-b's retried Create when the operator ran delete-blog: the instance's
    late 503 must not put it back in the queue, to arrive after the blog's Deletes."""
    from comments_service.core.db import connect
    from comments_service.federation.farewell import ABANDONED

    service = _scene(make_service, peer, tmp_path)
    peer.status = 503
    assert service.announce("dr-b", _posts(service, "dr-b", 3)).json()["federation"]["queued"] == 2
    assert [result["state"] for result in delivery.deliver(service.app)] == ["queued"] * 2
    later = utcnow() + timedelta(minutes=5)
    db = connect(service.app.config["DB"])
    try:
        claimed = delivery._claim(db, later)  # the other sender took the Create (or the boost), and waits on the instance
        _remove(service, "dr-b")
        done = _cli(service, "federation", "delete-blog", "dr-b")
        assert done.exit_code == 0 and "2 livraisons en attente abandonnées" in done.output, done.output
        answered = delivery._finish(db, claimed, later, 503, "HTTP 503", 60)  # its answer comes back
    finally:
        db.close()
    assert answered["state"] == "failed"
    assert service.sql("SELECT state, last_error FROM fed_deliveries WHERE id = ?", (claimed["id"],)) == [
        ("failed", ABANDONED)]
    peer.status = 202
    peer.received.clear()
    delivery.deliver(service.app, now=later + timedelta(hours=2))
    assert [d.activity["type"] for d in peer.received] == ["Delete"] * 4
    assert _key(service, "dr-b") is None


def test_an_answer_deleted_after_the_farewell_makes_no_key_for_the_gone_blog(make_service, peer, tmp_path):
    """A local answer to a Mastodon reply on dr-a's post, sent to its author; dr-a then taken off the fediverse (its
    account and all it posted deleted there, its key forgotten). The answer deleted afterwards: its Delete, signed by
    dr-a, made dr-a a new key nobody knows (never verified, kept for ever, unmarked); nothing is sent for it now."""
    from tests.comments_service.federation.test_notes import comment
    from tests.comments_service.federation.test_replies import activity, note, posts

    service = make_service(FEDERATION_SEND="cron", FEDERATION_SENDERS=1, MODERATION="none")
    assert service.announce("dr-a", posts(service)).status_code == 200
    post_url = service.url("/dr-a/ouvert.html")
    ((article,),) = service.sql("SELECT object_id FROM fed_articles WHERE post_url = ?", (post_url,))
    assert peer.post(service.url("/comments/ap/inbox"), activity(peer, "Create", note(peer, 1, article), 1)
                     ).status_code == 202
    ((remote_comment,),) = service.sql("SELECT comment_id FROM fed_comments")
    answer = comment(service, post_url, "Merci Alice.", author="Un lecteur", parent=remote_comment)
    assert [result["state"] for result in delivery.deliver(service.app)] == ["sent"]
    assert _key(service, "dr-a") is not None

    _remove(service, "dr-a")
    done = _cli(service, "federation", "delete-blog", "dr-a")
    assert done.exit_code == 0, done.output
    delivery.deliver(service.app)
    assert _key(service, "dr-a") is None
    peer.received.clear()

    assert httpx.delete(service.url(f"/comments/api/comments/{answer['comment']['id']}"),
                        headers={"X-Edit-Token": answer["edit_token"]}).status_code in (200, 204)
    delivery.deliver(service.app)
    assert _key(service, "dr-a") is None, "no key made for a blog gone from the fediverse"
    assert peer.received == []
