"""Likes and boosts from the fediverse, shown under the post by the widget: a real peer instance on loopback
likes and boosts a post through the service's inbox (signed requests); the live thread says so in French."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.fedi_peer import Peer

from .test_comments_widget import open_thread


def react(peer: Peer, inbox: str, kind: str, target: str, number: int):
    activity = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{peer.actor_id}/activities/{number}",
                "type": kind, "actor": peer.actor_id, "object": target}
    answer = peer.post(inbox, activity)
    assert answer.status_code == 202, answer.text


def test_the_widget_shows_likes_and_boosts_from_the_fediverse(live_network, page):
    live = live_network(OUTGOING_ALLOW_HOSTS="127.0.0.1")
    target = live.post_url("dr-a-billet-2")
    inbox = live.network.comments_url + "ap/inbox"
    open_thread(page, target)
    expect(page.locator(".comments-app")).to_be_visible()
    expect(page.locator(".comments-fediverse")).to_have_count(0)  # nothing yet: no line
    with Peer("alice") as alice, Peer("bruno") as bruno:
        react(alice, inbox, "Like", target, 1)
        react(alice, inbox, "Announce", target, 2)
        react(bruno, inbox, "Announce", target, 1)
    open_thread(page, target)
    expect(page.locator(".comments-fediverse")).to_have_text("2 partages et 1 « j'aime » sur le fédivers")
    assert not page.js_errors
