"""Hostile input at the inbox: unsigned, wrong key, replayed, digest mismatch, another actor's activity, too
big, a blocked instance: a clear 4xx in the service's JSON error shape, and nothing stored."""

from __future__ import annotations

import email.utils
import json
import time

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def follow_body(peer, service, name="dr-a"):
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{peer.actor_id}#follows/9",
            "type": "Follow", "actor": peer.actor_id, "object": service.actor_url(name)}


def refused(response, status: int, code: str):
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    return response


def nothing_stored(service):
    assert service.sql("SELECT COUNT(*) FROM fed_followers")[0][0] == 0
    assert service.sql("SELECT COUNT(*) FROM fed_deliveries")[0][0] == 0
    assert service.sql("SELECT COUNT(*) FROM fed_activities")[0][0] == 0


@pytest.fixture
def inbox(service):
    return service.actor_url("dr-a") + "/inbox"


def test_unsigned_is_401(service, peer, inbox):
    body = json.dumps(follow_body(peer, service)).encode()
    answer = httpx.post(inbox, content=body, headers={"Content-Type": "application/activity+json"})
    refused(answer, 401, "unsigned")
    assert answer.headers["WWW-Authenticate"].startswith("Signature")
    nothing_stored(service)


def test_signed_with_another_key_is_401(service, peer, inbox):
    intruder = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused(peer.post(inbox, follow_body(peer, service), key=intruder), 401, "bad_signature")
    nothing_stored(service)


def test_replayed_with_an_old_date_is_401(service, peer, inbox):
    old = email.utils.formatdate(time.time() - 3600, usegmt=True)
    refused(peer.post(inbox, follow_body(peer, service), date=old), 401, "bad_signature")
    nothing_stored(service)


def test_digest_of_another_body_is_401(service, peer, inbox):
    body = json.dumps(follow_body(peer, service)).encode()
    headers = peer.signed_headers(inbox, b'{"type": "Follow"}')  # signed for another body
    refused(httpx.post(inbox, content=body, headers=headers), 401, "bad_signature")
    nothing_stored(service)


def test_an_activity_of_another_actor_is_401(service, peer, inbox):
    activity = {**follow_body(peer, service), "actor": "http://127.0.0.1:9/users/someone-else"}
    refused(peer.post(inbox, activity), 401, "actor_mismatch")
    nothing_stored(service)


def test_a_key_on_a_private_address_not_allowed_is_never_fetched(make_service, peer):
    service = make_service(OUTGOING_ALLOW_HOSTS="")
    refused(peer.post(service.actor_url("dr-a") + "/inbox", follow_body(peer, service)), 401, "unknown_key")
    nothing_stored(service)


def test_oversize_is_413(service, peer, inbox):
    activity = {**follow_body(peer, service), "content": "x" * 70_000}
    refused(peer.post(inbox, activity), 413, "payload_too_large")
    nothing_stored(service)


def test_a_blocked_instance_is_403_before_any_fetch(make_service, peer):
    service = make_service(FEDERATION_BLOCKED_HOSTS=peer.host)
    refused(peer.post(service.actor_url("dr-a") + "/inbox", follow_body(peer, service)), 403, "blocked_instance")
    nothing_stored(service)
    assert service.sql("SELECT COUNT(*) FROM fed_remote_actors")[0][0] == 0


def test_following_an_unknown_actor_is_404(service, peer):
    activity = {**follow_body(peer, service), "object": service.actor_url("dr-z")}
    refused(peer.post(service.url("/comments/ap/inbox"), activity), 404, "unknown_actor")
    nothing_stored(service)


def test_a_key_change_is_picked_up(service, peer, inbox):
    """The remote instance rotated its key: the kept one fails, the actor is fetched again, the request passes."""
    assert peer.post(inbox, follow_body(peer, service)).status_code == 202
    peer.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    undo = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{peer.actor_id}#undo/9", "type": "Undo",
            "actor": peer.actor_id, "object": follow_body(peer, service)}
    assert peer.post(inbox, undo).status_code == 202
    assert service.followers("dr-a") == 0


def test_a_deleted_account_loses_its_follows(service, peer, inbox):
    """Mastodon's account deletion: a Delete whose object is the actor itself; an unknown one is acknowledged."""
    assert peer.post(inbox, follow_body(peer, service)).status_code == 202
    assert service.followers("dr-a") == 1
    delete = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{peer.actor_id}#delete",
              "type": "Delete", "actor": peer.actor_id, "object": peer.actor_id, "to": [PUBLIC]}
    assert peer.post(inbox, delete).status_code == 202
    assert service.followers("dr-a") == 0 and service.sql("SELECT COUNT(*) FROM fed_remote_actors")[0][0] == 0
    gone = {**delete, "actor": "http://127.0.0.1:9/users/gone", "object": "http://127.0.0.1:9/users/gone"}
    assert peer.post(inbox, gone, key_id="http://127.0.0.1:9/users/gone#main-key").status_code == 202
    assert service.sql("SELECT COUNT(*) FROM fed_remote_actors")[0][0] == 0


def test_refusals_say_why_in_french_without_the_library_or_network_details(make_service, peer, service):
    """Once: « signature invalide (KeyError: 'algorithm') », « acteur injoignable : http://…: ConnectError:
    [Errno 111] … »: internal details to whoever asks. They stay in the service's log."""
    inbox = service.actor_url("dr-a") + "/inbox"
    broken = {"Signature": f'keyId="{peer.actor_id}#main-key",headers="(request-target) host date",signature="eA=="',
              "Date": email.utils.formatdate(usegmt=True)}
    answer = httpx.post(inbox, content=b"{}", headers=broken)
    assert answer.status_code == 401 and "Error" not in answer.text and "algorithm" not in answer.text, answer.text
    unreachable = {**broken, "Signature": broken["Signature"].replace(peer.actor_id, "http://127.0.0.1:1/x")}
    answer = httpx.post(inbox, content=b"{}", headers=unreachable)
    assert answer.status_code == 401 and "Errno" not in answer.text and "127.0.0.1:1" not in answer.text, answer.text


def test_activitypub_paths_answer_json_errors(service):
    """A 405 or 404 under /ap/ (and /.well-known/) once answered the HTML page meant for browsers."""
    for method, path, status in (("GET", "/comments/ap/inbox", 405), ("GET", "/comments/ap/nothing", 404),
                                 ("GET", "/comments/.well-known/webfinger?resource=acct:x@y", 404),
                                 ("GET", "/comments/ap/actors/dr-a/outbox?page=9223372036854775807", 400),
                                 ("GET", "/comments/ap/actors/planete/outbox?page=abc", 400)):
        answer = httpx.request(method, service.url(path), headers={"Accept": "application/activity+json"})
        assert answer.status_code == status, (path, answer.status_code, answer.text[:200])
        assert answer.headers["content-type"].startswith("application/json"), (path, answer.headers["content-type"])
        assert answer.json()["error"]["message"]


def test_json_nested_thousands_deep_is_400_signed_or_not(service, peer, inbox):
    """json.loads raises RecursionError, not ValueError, past ~1,000 levels: it was a 500."""
    deep = ("[" * 30_000 + "]" * 30_000).encode()
    signed = peer.signed_headers(inbox, deep)
    refused(httpx.post(inbox, content=deep, headers=signed, timeout=10), 400, "invalid_json")
    stranger = {**signed, "Signature": signed["Signature"].replace(peer.actor_id, "https://nowhere.invalid/actor")}
    assert httpx.post(inbox, content=deep, headers=stranger, timeout=10).status_code == 401
    nothing_stored(service)


@pytest.mark.parametrize("inner", [["x"], 7, None, {"type": "Like", "id": ["a"]}, {"type": "Announce", "id": 3}])
def test_an_undo_of_something_odd_is_not_a_500(service, peer, inbox, inner):
    activity = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{peer.actor_id}#undo/odd",
                "type": "Undo", "actor": peer.actor_id, "object": inner}
    assert peer.post(inbox, activity).status_code in (202, 400, 404)
