"""What real servers send, through the real inbox: payloads shaped after Mastodon 4.x, Pleroma/Akkoma,
Misskey/Sharkey/Firefish, GoToSocial, Lemmy, Friendica and WordPress's ActivityPub plugin (their documentation and
source: the fields they set, how they address a note, how they sign), posted by the stand-in peer with real RSA
keys and signatures.

For each shape, what must happen: a comment (public replies), nothing shown with a 202 (private mentions,
followers-only replies, activities we do not handle), or a clear 4xx: never a 500, never a half-written row,
nothing private published.
"""

from __future__ import annotations

import pytest

from tests.comments_service.federation.conftest import wait_for
from tests.comments_service.federation.test_replies import posts, thread
from tests.fedi_peer import Peer

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
MASTODON_CONTEXT = ["https://www.w3.org/ns/activitystreams", {
    "ostatus": "http://ostatus.org#", "atomUri": "ostatus:atomUri", "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
    "conversation": "ostatus:conversation", "sensitive": "as:sensitive", "toot": "http://joinmastodon.org/ns#",
    "votersCount": "toot:votersCount", "Hashtag": "as:Hashtag", "Emoji": "toot:Emoji"}]


@pytest.fixture
def open_service(make_service):
    service = make_service(MODERATION="none")
    assert service.announce("dr-a", posts(service)).status_code == 200
    return service


def inbox(service) -> str:
    return service.url("/comments/ap/inbox")


def post_url(service) -> str:
    return service.url("/dr-a/ouvert.html")


def comments(service) -> list:
    return service.sql("SELECT text, status FROM comments ORDER BY id")


def mastodon_reply(peer, service, number: int, text: str, to: list, cc: list, **fields) -> dict:
    """A Create of a reply as Mastodon 4 sends it; `to`/`cc` carry its visibility (docs.joinmastodon.org,
    spec/activitypub: public `to` Public; unlisted `cc` Public; followers-only `to` the followers; direct only
    the accounts mentioned), on the activity and on the Note alike."""
    status = f"{peer.actor_id}/statuses/11327042211098{number:04d}"
    blog = service.actor_url("dr-a")
    mention = (f'<span class="h-card" translate="no"><a href="{service.url("/dr-a/")}" class="u-url mention">'
               "@<span>dr-a</span></a></span>")
    content = f"<p>{mention} {text}</p>"
    note = {
        "id": status, "type": "Note", "summary": None, "inReplyTo": post_url(service),
        "published": "2025-04-01T10:00:00Z", "url": f"http://{peer.host}/@{peer.username}/{number}",
        "attributedTo": peer.actor_id, "to": to, "cc": cc, "sensitive": False, "atomUri": status,
        "inReplyToAtomUri": post_url(service), "conversation": f"tag:{peer.host},2025-04-01:objectId={number}",
        "content": content, "contentMap": {"fr": content}, "attachment": [],
        "tag": [{"type": "Mention", "href": blog, "name": "@dr-a@" + service.host}],
        "replies": {"id": status + "/replies", "type": "Collection",
                    "first": {"type": "CollectionPage", "next": status + "/replies?page=true",
                              "partOf": status + "/replies", "items": []}},
    } | fields
    return {"@context": MASTODON_CONTEXT, "id": status + "/activity", "type": "Create", "actor": peer.actor_id,
            "published": note["published"], "to": to, "cc": cc, "object": note}


# -- who may read it: public and unlisted replies become comments, private ones never ---------------------

def visibilities(peer, service) -> dict:
    blog, followers = service.actor_url("dr-a"), peer.actor_id + "/followers"
    return {
        # Mastodon 4, Pleroma/Akkoma, Friendica, WordPress's plugin: a public reply
        "public": ([PUBLIC], [followers, blog]),
        # Mastodon « non listé », Misskey « home »: the public collection in cc
        "unlisted": ([followers], [PUBLIC, blog]),
        # GoToSocial writes a single value as a string; a JSON-LD processor compacts the IRI
        "public, as a string": (PUBLIC, blog),
        "as:Public": (["as:Public"], [blog]),
        "Public": ("Public", []),
    }


def private_addressings(peer, service) -> dict:
    blog, followers = service.actor_url("dr-a"), peer.actor_id + "/followers"
    return {
        # Mastodon « mention privée », Pleroma/Akkoma « direct »: only the accounts mentioned
        "direct": ([blog], []),
        # Misskey/Sharkey « specified » (to the accounts named, cc nothing), Firefish alike
        "specified": ([blog, "http://elsewhere.example/users/bob"], None),
        # Mastodon « abonnés seulement », Misskey « followers », GoToSocial followers-only
        "followers-only": ([followers], [blog]),
        # no addressing at all: nothing says everyone may read it
        "none": (None, None),
    }


@pytest.mark.parametrize("kind", ["public", "unlisted", "public, as a string", "as:Public", "Public"])
def test_public_and_unlisted_replies_become_comments(open_service, peer, kind):
    to, cc = visibilities(peer, open_service)[kind]
    create = mastodon_reply(peer, open_service, 1, "Vu aussi en garde.", to, cc)
    answer = peer.post(inbox(open_service), create)
    assert answer.status_code == 202, answer.text
    assert comments(open_service) == [("Vu aussi en garde.", "approved")]


@pytest.mark.parametrize("kind", ["direct", "specified", "followers-only", "none"])
def test_a_private_reply_is_never_published(open_service, peer, kind):
    """A direct message to the blog in answer to a post (« mention privée ») once became a public comment under
    it, with its author's name: what was written for the blog's author alone, shown to everyone."""
    to, cc = private_addressings(peer, open_service)[kind]
    create = mastodon_reply(peer, open_service, 1, "Entre nous, mon patient X…", to, cc)
    for field, value in (("to", to), ("cc", cc)):
        if value is None:
            del create[field], create["object"][field]
    answer = peer.post(inbox(open_service), create)
    assert answer.status_code == 202, answer.text  # acknowledged (its server has nothing to retry), not kept
    assert comments(open_service) == [] and thread(open_service, post_url(open_service)) == []
    assert open_service.sql("SELECT COUNT(*) FROM fed_comments")[0][0] == 0


def test_the_notes_own_addressing_counts_before_the_activitys(open_service, peer):
    to, cc = private_addressings(peer, open_service)["direct"]
    create = mastodon_reply(peer, open_service, 1, "Privé.", to, cc) | {"to": [PUBLIC]}
    assert peer.post(inbox(open_service), create).status_code == 202
    assert comments(open_service) == []
    bare = mastodon_reply(peer, open_service, 2, "Public.", [PUBLIC], [])  # only the activity is addressed
    del bare["object"]["to"], bare["object"]["cc"]
    assert peer.post(inbox(open_service), bare).status_code == 202
    assert comments(open_service) == [("Public.", "approved")]


def test_an_edit_that_makes_a_reply_private_does_not_publish_its_new_text(open_service, peer):
    create = mastodon_reply(peer, open_service, 1, "Première version.", [PUBLIC], [])
    assert peer.post(inbox(open_service), create).status_code == 202
    update = {**create, "id": create["id"] + "/update", "type": "Update", "to": [open_service.actor_url("dr-a")],
              "cc": [], "object": {**create["object"], "to": [open_service.actor_url("dr-a")], "cc": [],
                                   "content": "<p>Le nom de mon patient</p>"}}
    assert peer.post(inbox(open_service), update).status_code == 202
    assert comments(open_service) == [("Première version.", "approved")]


# -- how they sign ---------------------------------------------------------------------------------------

def follow(peer, service, number: int = 1) -> dict:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{peer.actor_id}#follows/{number}",
            "type": "Follow", "actor": peer.actor_id, "object": service.actor_url("dr-a")}


@pytest.mark.parametrize(("algorithm", "names"), [
    ("rsa-sha256", ("(request-target)", "host", "date", "digest")),  # Mastodon, Pleroma/Akkoma, Misskey, Friendica
    ("hs2019", ("(request-target)", "host", "date", "digest")),  # GoToSocial
    ("hs2019", ("(request-target)", "content-type", "date", "digest", "host")),  # Lemmy (activitypub-federation)
    (None, ("(request-target)", "host", "date", "digest")),  # no label: the draft makes it optional
])
def test_the_signature_labels_servers_use_are_accepted(service, peer, algorithm, names):
    """GoToSocial and Lemmy label their RSA-SHA256 signatures `hs2019` (« the key says which »): every follow,
    reply or like they sent was refused with 401, « signature invalide »."""
    url = service.actor_url("dr-a") + "/inbox"
    answer = peer.post(url, follow(peer, service), algorithm=algorithm, names=names)
    assert answer.status_code == 202, answer.text
    assert service.followers("dr-a") == 1


def test_an_algorithm_we_do_not_verify_is_refused_clearly(service, peer):
    url = service.actor_url("dr-a") + "/inbox"
    answer = peer.post(url, follow(peer, service), algorithm="ed25519")
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "bad_signature"
    assert "algorithme de signature non pris en charge : ed25519" in answer.json()["error"]["message"]
    assert service.followers("dr-a") == 0


def test_an_hs2019_label_does_not_let_another_key_in(service, peer):
    from cryptography.hazmat.primitives.asymmetric import rsa

    intruder = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    answer = peer.post(service.actor_url("dr-a") + "/inbox", follow(peer, service), algorithm="hs2019", key=intruder)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "bad_signature"
    assert service.followers("dr-a") == 0


# -- where their keys are ----------------------------------------------------------------------------------

def gotosocial(peer: Peer) -> str:
    """Shape `peer` as a GoToSocial account: its keyId `…/users/<name>/main-key`, a path of its own (no `#`), which
    serves a stub of the actor (id, type, preferredUsername, publicKey: no inbox), as GoToSocial's
    AccountToASMinimal does; the actor lists the key under that id. Its keyId."""
    key_id = peer.actor_id + "/main-key"
    key = {"id": key_id, "owner": peer.actor_id, "publicKeyPem": peer.public_pem}
    peer.actor_changes = {"publicKey": key}
    peer.documents = {f"/users/{peer.username}/main-key": {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": peer.actor_id, "type": "Person", "preferredUsername": peer.username, "publicKey": key}}
    return key_id


def test_a_gotosocial_account_follows_and_replies(open_service):
    """GoToSocial's keyId is a path of its own, whose document has no inbox: « acteur sans identifiant ou sans
    boîte de réception », 401, whatever it sent. The actor it names is now fetched, and must list that key."""
    service = open_service
    with Peer("gts") as peer:
        key_id = gotosocial(peer)
        answer = peer.post(inbox(service), follow(peer, service), key_id=key_id, algorithm="hs2019")
        assert answer.status_code == 202, answer.text
        assert service.followers("dr-a") == 1
        assert service.sql("SELECT id, key_id, inbox FROM fed_remote_actors") == [
            (peer.actor_id, key_id, peer.actor_id + "/inbox")]
        assert wait_for(lambda: peer.of_type("Accept")), "the Accept reaches the actor's inbox"
        # GoToSocial writes a single recipient as a string
        create = mastodon_reply(peer, service, 1, "Depuis GoToSocial.", PUBLIC, service.actor_url("dr-a"))
        assert peer.post(inbox(service), create, key_id=key_id, algorithm="hs2019").status_code == 202
        assert comments(service) == [("Depuis GoToSocial.", "approved")]


def test_a_key_served_apart_from_its_actor_is_taken_from_the_actor(open_service):
    """A key document of its own (`type: Key`, its `owner`): the owner is fetched, and its key verifies."""
    service = open_service
    with Peer("kim") as peer:
        key_id = f"http://{peer.host}/keys/kim-1"
        key = {"id": key_id, "type": "Key", "owner": peer.actor_id, "publicKeyPem": peer.public_pem}
        peer.actor_changes = {"publicKey": key}
        peer.documents = {"/keys/kim-1": {"@context": "https://w3id.org/security/v1", **key}}
        assert peer.post(inbox(service), follow(peer, service), key_id=key_id).status_code == 202
        assert service.followers("dr-a") == 1


@pytest.mark.parametrize("claim", ["the actor lists another key", "the owner is elsewhere"])
def test_a_key_document_cannot_lend_its_key_to_an_actor_that_does_not_claim_it(open_service, claim):
    service = open_service
    with Peer("gts") as peer:
        key_id = gotosocial(peer)
        stub = peer.documents[f"/users/{peer.username}/main-key"]
        if claim == "the actor lists another key":
            peer.actor_changes = {"publicKey": {**stub["publicKey"], "id": peer.actor_id + "#other-key"}}
        else:
            stub["id"] = stub["publicKey"]["owner"] = "http://127.0.0.1:9/users/gts"
        answer = peer.post(inbox(service), follow(peer, service), key_id=key_id, algorithm="hs2019")
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "unknown_key", answer.text
    assert service.followers("dr-a") == 0 and service.sql("SELECT COUNT(*) FROM fed_remote_actors")[0][0] == 0


# -- what a note holds ------------------------------------------------------------------------------------

def test_a_content_warning_heads_the_comment(open_service, peer):
    """Mastodon's « CW » (`sensitive` and the warning in `summary`; Misskey's `cw`, Pleroma's subject alike) was
    dropped: the text it warns of showed under the post with no warning. It now heads the comment, and stays
    when the reply is edited."""
    service = open_service
    create = mastodon_reply(peer, service, 1, "Le patient est décédé pendant la garde.", [PUBLIC], [],
                            sensitive=True, summary="décès, <b>garde</b> difficile")
    assert peer.post(inbox(service), create).status_code == 202
    ((text, _),) = comments(service)
    assert text == "**Avertissement de contenu : décès, garde difficile**\n\nLe patient est décédé pendant la garde."
    (shown,) = thread(service, post_url(service))
    assert shown["html"].startswith("<p><strong>Avertissement de contenu : décès, garde difficile</strong></p>")
    edited = {**create, "type": "Update", "id": create["id"] + "/edit",
              "object": {**create["object"], "content": "<p>Le patient est décédé, corrigé.</p>"}}
    assert peer.post(inbox(service), edited).status_code == 202
    assert comments(service)[0][0].startswith("**Avertissement de contenu : décès")


@pytest.mark.parametrize("summary", [None, "", "   ", ["liste"], {"fr": "objet"}])
def test_no_warning_no_heading(open_service, peer, summary):
    create = mastodon_reply(peer, open_service, 1, "Sans avertissement.", [PUBLIC], [], summary=summary)
    assert peer.post(inbox(open_service), create).status_code == 202
    assert comments(open_service) == [("Sans avertissement.", "approved")]


def test_a_note_with_only_a_content_map(open_service, peer):
    """ActivityStreams allows `contentMap` alone (the text per language): « La note est vide. », 400, once."""
    create = mastodon_reply(peer, open_service, 1, "x", [PUBLIC], [])
    del create["object"]["content"]
    create["object"]["contentMap"] = {"fr": "<p>Par langue.</p>"}
    assert peer.post(inbox(open_service), create).status_code == 202
    assert comments(open_service) == [("Par langue.", "approved")]


# -- following ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["id", "id with a trailing slash", "embedded actor"])
@pytest.mark.parametrize("undo", ["embedded Follow", "Follow by id only"])
def test_follow_and_undo_as_servers_write_them(service, peer, target, undo):
    """Mastodon, Pleroma, GoToSocial embed the Follow in their Undo; others name it by id; the Follow's object is
    our actor's id, some servers add a slash to it (it was a 404, « Aucun acteur de ce réseau »), others embed it."""
    blog = service.actor_url("dr-a")
    obj = {"id": blog, "type": "Service"} if target == "embedded actor" else blog + (
        "/" if target == "id with a trailing slash" else "")
    followed = {**follow(peer, service), "object": obj}
    answer = peer.post(inbox(service), followed)
    assert answer.status_code == 202, answer.text
    assert service.followers("dr-a") == 1
    (accept,) = wait_for(lambda: peer.of_type("Accept"))
    assert accept.activity["object"]["id"] == followed["id"] and accept.activity["object"]["object"] == blog
    undone = {"@context": "https://www.w3.org/ns/activitystreams", "id": followed["id"] + "/undo", "type": "Undo",
              "actor": peer.actor_id, "object": followed if undo == "embedded Follow" else followed["id"]}
    assert peer.post(inbox(service), undone).status_code == 202
    assert service.followers("dr-a") == 0


# -- what is acknowledged and left alone --------------------------------------------------------------------

def ignored_activities(peer, service) -> dict:
    post, article = post_url(service), service.sql("SELECT object_id FROM fed_articles")[0][0]
    base = {"@context": "https://www.w3.org/ns/activitystreams", "actor": peer.actor_id, "to": [PUBLIC]}
    return {
        # Mastodon's account migration
        "Move": {**base, "type": "Move", "object": peer.actor_id, "target": "http://elsewhere.example/users/a"},
        # an Accept or Reject of a follow we never sent
        "Accept": {**base, "type": "Accept", "object": {"type": "Follow", "id": "http://elsewhere.example/f/1"}},
        "Reject": {**base, "type": "Reject", "object": "http://elsewhere.example/f/1"},
        # Pleroma/Akkoma and Misskey emoji reactions
        "EmojiReact": {**base, "type": "EmojiReact", "object": article, "content": "🔥"},
        # a poll in reply to a post (Mastodon Question): not a Note
        "Create Question": {**base, "type": "Create", "object": {
            "id": peer.actor_id + "/statuses/99", "type": "Question", "attributedTo": peer.actor_id,
            "inReplyTo": post, "content": "<p>Oui ou non ?</p>", "to": [PUBLIC],
            "oneOf": [{"type": "Note", "name": "Oui", "replies": {"type": "Collection", "totalItems": 0}}]}},
        # the object by its id only (Pleroma may)
        "Create by id": {**base, "type": "Create", "object": peer.actor_id + "/statuses/98"},
        # a public post mentioning the blog, no reply: nothing to show
        "Create mention": {**base, "type": "Create", "object": {
            "id": peer.actor_id + "/statuses/97", "type": "Note", "attributedTo": peer.actor_id, "inReplyTo": None,
            "content": "<p>Lisez @dr-a</p>", "to": [PUBLIC]}},
        # Misskey's quote of a post (a renote with text): no inReplyTo
        "Misskey quote": {**base, "type": "Create", "object": {
            "id": peer.actor_id + "/notes/9x1", "type": "Note", "attributedTo": peer.actor_id, "content": "<p>À lire</p>",
            "_misskey_content": "À lire", "_misskey_quote": post, "quoteUrl": post, "quoteUri": post, "to": [PUBLIC]}},
        # a report to the network's moderators (Mastodon Flag): not handled here
        "Flag": {**base, "type": "Flag", "object": [service.actor_url("dr-a"), article], "content": "spam"},
        # Mastodon's featured collection
        "Add": {**base, "type": "Add", "object": peer.actor_id + "/statuses/1", "target": peer.actor_id + "/featured"},
        "Block": {**base, "type": "Block", "object": service.actor_url("dr-a")},
    }


@pytest.mark.parametrize("kind", ["Move", "Accept", "Reject", "EmojiReact", "Create Question",
                                  "Create by id", "Create mention", "Misskey quote", "Flag", "Add", "Block"])
def test_activities_we_do_not_handle_are_acknowledged_and_store_nothing(open_service, peer, kind):
    activity = {**ignored_activities(peer, open_service)[kind], "id": f"{peer.actor_id}#activity-{kind.split()[0]}"}
    answer = peer.post(inbox(open_service), activity)
    assert answer.status_code == 202, answer.text
    for table in ("comments", "fed_comments", "fed_reactions", "fed_followers", "fed_deliveries"):
        assert open_service.sql(f"SELECT COUNT(*) FROM {table}")[0][0] == 0, table


# -- replies as each server writes them ----------------------------------------------------------------------

def misskey(peer, service, number: int) -> dict:
    """Misskey 2024 / Sharkey / Firefish: an opaque id path (`/notes/<aid>`), `_misskey_content` (MFM) beside the
    HTML, `source` in MFM, `quoteUrl` of nothing, custom emoji in `tag`, the actor with `publicKey` a list."""
    peer.actor_changes = {
        "type": "Person", "name": None, "url": f"http://{peer.host}/@{peer.username}",
        "publicKey": [{"id": peer.key_id, "type": "Key", "owner": peer.actor_id, "publicKeyPem": peer.public_pem}],
        "icon": [{"type": "Image", "url": f"http://{peer.host}/files/avatar.webp", "sensitive": False}],
        "_misskey_summary": "Généraliste", "isCat": False}
    note_id = f"http://{peer.host}/notes/9zx{number}"
    return {"@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1",
                         {"Key": "sec:Key", "misskey": "https://misskey-hub.net/ns#",
                          "_misskey_content": "misskey:_misskey_content", "quoteUrl": "as:quoteUrl"}],
            "id": note_id + "/activity", "type": "Create", "actor": peer.actor_id, "published": "2025-04-01T10:00:00.000Z",
            "object": {"id": note_id, "type": "Note", "attributedTo": peer.actor_id, "summary": None,
                       "content": (f'<p><a href="{service.actor_url("dr-a")}" class="u-url mention">'
                                   f"@dr-a@{service.host}</a> Merci :blobcat:</p>"),
                       "_misskey_content": f"@dr-a@{service.host} Merci :blobcat:",
                       "source": {"content": f"@dr-a@{service.host} Merci :blobcat:",
                                  "mediaType": "text/x.misskeymarkdown"},
                       "quoteUrl": None, "published": "2025-04-01T10:00:00.000Z",
                       "to": [PUBLIC], "cc": [peer.actor_id + "/followers", service.actor_url("dr-a")],
                       "inReplyTo": post_url(service), "attachment": [], "sensitive": False,
                       "tag": [{"type": "Mention", "href": service.actor_url("dr-a"), "name": f"@dr-a@{service.host}"},
                               {"id": f"http://{peer.host}/emojis/blobcat", "type": "Emoji", "name": ":blobcat:",
                                "updated": "2024-01-01T00:00:00.000Z",
                                "icon": {"type": "Image", "mediaType": "image/png", "url": "http://x.example/b.png"}}]},
            "to": [PUBLIC], "cc": [peer.actor_id + "/followers", service.actor_url("dr-a")]}


def pleroma(peer, service, number: int) -> dict:
    """Pleroma/Akkoma: `directMessage`, `context`, `source` plain text, an empty `summary`, `sensitive` null,
    an image `attachment` (dropped: a comment carries no pictures), hashtags."""
    note_id = f"http://{peer.host}/objects/0b7c-{number}"
    content = '<p>Tout à fait <a class="hashtag" href="http://x.example/tag/garde" rel="tag">#garde</a></p>'
    return {"@context": ["https://www.w3.org/ns/activitystreams", f"http://{peer.host}/schemas/litepub-0.1.jsonld",
                         {"@language": "und"}],
            "id": f"http://{peer.host}/activities/1a2b-{number}", "type": "Create", "actor": peer.actor_id,
            "context": f"http://{peer.host}/contexts/c-{number}", "directMessage": False,
            "to": [PUBLIC], "cc": [peer.actor_id + "/followers"],
            "object": {"id": note_id, "type": "Note", "actor": peer.actor_id, "attributedTo": peer.actor_id,
                       "content": content, "contentMap": {"fr": content}, "summary": "", "sensitive": None,
                       "source": {"content": "Tout à fait #garde", "mediaType": "text/plain"},
                       "context": f"http://{peer.host}/contexts/c-{number}", "inReplyTo": post_url(service),
                       "to": [PUBLIC], "cc": [peer.actor_id + "/followers"], "published": "2025-04-01T10:00:00Z",
                       "attachment": [{"type": "Document", "mediaType": "image/png", "name": "une radio",
                                       "url": [{"type": "Link", "mediaType": "image/png",
                                                "href": f"http://{peer.host}/media/radio.png"}]}],
                       "tag": [{"type": "Hashtag", "href": "http://x.example/tag/garde", "name": "#garde"}]}}


def lemmy(peer, service, number: int) -> dict:
    """Lemmy: the comment's HTML beside its Markdown `source`, `mediaType`, `distinguished`, `audience` (its
    community), the article it answers by its id, signed hs2019 (test_the_signature_labels…)."""
    article = service.sql("SELECT object_id FROM fed_articles WHERE post_url = ?", (post_url(service),))[0][0]
    community = f"http://{peer.host}/c/medecine"
    note_id = f"http://{peer.host}/comment/{number}"
    return {"@context": ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"],
            "id": f"http://{peer.host}/activities/create/{number}", "type": "Create", "actor": peer.actor_id,
            "to": [PUBLIC], "cc": [community, service.actor_url("dr-a")], "audience": community, "tag": [],
            "object": {"id": note_id, "type": "Note", "attributedTo": peer.actor_id, "to": [PUBLIC],
                       "cc": [community], "audience": community, "content": "<p><strong>D'accord</strong> avec vous.</p>\n",
                       "mediaType": "text/html", "source": {"content": "**D'accord** avec vous.",
                                                            "mediaType": "text/markdown"},
                       "inReplyTo": article, "published": "2025-04-01T10:00:00.123456Z", "distinguished": False,
                       "language": {"identifier": "fr", "name": "Français"}, "tag": []}}


def friendica(peer, service, number: int) -> dict:
    """Friendica: `diaspora:guid`, `conversation`, `context`, a `contentMap`, `cc` with the followers only."""
    note_id = f"http://{peer.host}/objects/f00d-{number}"
    return {"@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1",
                         {"diaspora": "https://diasporafoundation.org/ns/", "litepub": "http://litepub.social/ns#"}],
            "id": note_id + "/Create", "type": "Create", "actor": peer.actor_id, "instrument": {
                "type": "Application", "name": "Friendica 'Yellow Archangel' 2024.12"},
            "to": [PUBLIC], "cc": [peer.actor_id + "/followers"], "object": {
                "id": note_id, "type": "Note", "attributedTo": peer.actor_id, "inReplyTo": post_url(service),
                "diaspora:guid": f"f00d-{number}", "context": f"http://{peer.host}/objects/ctx",
                "conversation": f"http://{peer.host}/objects/ctx", "sensitive": False, "summary": "",
                "content": "Intéressant.<br>Deux lignes.", "contentMap": {"fr": "Intéressant.<br>Deux lignes."},
                "to": [PUBLIC], "cc": [peer.actor_id + "/followers"], "published": "2025-04-01T10:00:00Z"}}


def wordpress(peer, service, number: int) -> dict:
    """WordPress's ActivityPub plugin: a comment federated as a Note, its id the comment's address."""
    note_id = f"http://{peer.host}/?c={number}"
    return {"@context": ["https://www.w3.org/ns/activitystreams", {"Hashtag": "as:Hashtag", "sensitive": "as:sensitive"}],
            "id": note_id + "&activity=create", "type": "Create", "actor": peer.actor_id,
            "to": [PUBLIC], "cc": [peer.actor_id + "/followers"],
            "object": {"id": note_id, "type": "Note", "attributedTo": peer.actor_id, "inReplyTo": post_url(service),
                       "url": note_id, "content": "<p>Bel article, merci.</p>", "contentMap": {"fr": "<p>Bel article, merci.</p>"},
                       "sensitive": False, "summary": None, "published": "2025-04-01T10:00:00Z",
                       "to": [PUBLIC], "cc": [peer.actor_id + "/followers"], "tag": []}}


@pytest.mark.parametrize(("server", "text"), [
    (misskey, "Merci :blobcat:"),
    (pleroma, "Tout à fait [#garde](http://x.example/tag/garde)"),
    (lemmy, "**D'accord** avec vous."),
    (friendica, "Intéressant.  \nDeux lignes."),
    (wordpress, "Bel article, merci."),
])
def test_a_reply_from_each_server_becomes_a_comment_then_goes_with_its_delete(open_service, server, text):
    service = open_service
    with Peer("alice") as peer:
        create = server(peer, service, 1)
        answer = peer.post(inbox(service), create, algorithm="hs2019" if server is lemmy else "rsa-sha256")
        assert answer.status_code == 202, answer.text
        assert comments(service) == [(text, "approved")]
        (shown,) = thread(service, post_url(service))
        assert "<img" not in shown["html"]
        assert not shown["author"].get("badge")
        # Pleroma and Lemmy delete by the bare id; Mastodon and Misskey with a Tombstone
        obj = create["object"]["id"] if server in (pleroma, lemmy) else {"id": create["object"]["id"], "type": "Tombstone"}
        gone = {"@context": "https://www.w3.org/ns/activitystreams", "id": create["id"] + "/delete",
                "type": "Delete", "actor": peer.actor_id, "to": [PUBLIC], "object": obj}
        assert peer.post(inbox(service), gone).status_code == 202
        assert thread(service, post_url(service)) == []


def test_an_actor_without_a_username_or_a_name_is_shown_by_a_handle(open_service, peer):
    peer.actor_changes = {"preferredUsername": None, "name": None, "url": None, "icon": None}
    create = mastodon_reply(peer, open_service, 1, "Anonyme.", [PUBLIC], [])
    assert peer.post(inbox(open_service), create).status_code == 202
    (shown,) = thread(open_service, post_url(open_service))
    assert shown["author"]["name"] == f"@inconnu@{peer.host}" and shown["author"]["website"] == peer.actor_id


def test_likes_and_boosts_as_servers_send_them(open_service, peer):
    """Mastodon's Like and Announce (by the Article's id), Misskey's reaction as a Like with its emoji, Lemmy's
    vote as a Like: counted once per account; their Undo (embedded) takes it back."""
    service = open_service
    article = service.sql("SELECT object_id FROM fed_articles WHERE post_url = ?", (post_url(service),))[0][0]
    base = {"@context": "https://www.w3.org/ns/activitystreams", "actor": peer.actor_id}
    like = {**base, "id": f"{peer.actor_id}#likes/1", "type": "Like", "object": article,
            "content": "👍", "_misskey_reaction": "👍"}
    boost = {**base, "id": f"{peer.actor_id}/statuses/5/activity", "type": "Announce", "object": article,
             "to": [PUBLIC], "cc": [service.actor_url("dr-a"), peer.actor_id + "/followers"],
             "published": "2025-04-01T10:00:00Z"}
    for activity in (like, boost, {**like, "id": f"http://{peer.host}/activities/like/7", "audience": "x"}):
        assert peer.post(inbox(service), activity).status_code == 202
    assert sorted(service.sql("SELECT kind FROM fed_reactions")) == [("Announce",), ("Like",)]
    undo = {**base, "id": f"{peer.actor_id}#undo/5", "type": "Undo", "object": boost}
    assert peer.post(inbox(service), undo).status_code == 202
    assert service.sql("SELECT kind FROM fed_reactions") == [("Like",)]


class WordPressBlog(Peer):
    """A blog with WordPress's ActivityPub plugin, without pretty permalinks: its author's actor is `/?author=1`
    (a query, no path), its key `/?author=1#main-key`, its inbox under `/wp-json/`."""

    @property
    def actor_id(self) -> str:
        return f"http://{self.host}/?author=1"

    def __enter__(self):
        super().__enter__()
        rest = f"http://{self.host}/wp-json/activitypub/1.0/actors/1"
        self.actor_changes = {"inbox": rest + "/inbox", "outbox": rest + "/outbox", "followers": rest + "/followers",
                              "following": rest + "/following", "url": f"http://{self.host}/author/admin/",
                              "preferredUsername": "admin", "name": "Dr Wordpress",
                              "endpoints": {"sharedInbox": f"http://{self.host}/wp-json/activitypub/1.0/inbox"}}
        self.documents = {"/": self.actor()}
        return self


def test_a_wordpress_author_whose_actor_is_a_query(open_service):
    service = open_service
    with WordPressBlog() as blog:
        assert blog.post(inbox(service), follow(blog, service)).status_code == 202
        assert blog.post(inbox(service), wordpress(blog, service, 1)).status_code == 202
        (shown,) = thread(service, post_url(service))
        assert shown["author"] == {**shown["author"], "name": "Dr Wordpress", "website": f"http://{blog.host}/author/admin/"}
        assert service.sql("SELECT inbox, shared_inbox FROM fed_remote_actors") == [
            (f"http://{blog.host}/wp-json/activitypub/1.0/actors/1/inbox", f"http://{blog.host}/wp-json/activitypub/1.0/inbox")]


ODD_VALUES = [None, 7, True, "", "x" * 3000, [], ["x"], [None, 7], {}, {"id": 3}, {"id": ["x"]}, {"fr": None}]


def test_odd_values_in_each_field_are_never_a_500_nor_half_written(open_service, peer):
    """Every field of a reply (and of its Create) given each odd value a server or a forger may send: a 202 or a
    clear 4xx, and every comment kept has its tie to the Note (no half-written reply)."""
    service = open_service
    template = mastodon_reply(peer, service, 1, "Bonjour.", [PUBLIC], [])
    number = 0
    for where in ("object", "activity"):
        fields = template["object"] if where == "object" else {k: v for k, v in template.items() if k != "object"}
        for field in fields:
            if where == "activity" and field in ("actor", "type", "@context"):
                continue  # who signs and what it is: refused (401/400) or ignored, tested elsewhere
            for value in ODD_VALUES:
                number += 1
                create = mastodon_reply(peer, service, number, "Bonjour.", [PUBLIC], [])
                (create["object"] if where == "object" else create)[field] = value
                answer = peer.post(inbox(service), create)
                assert answer.status_code in (202, 400, 401, 403, 404), (where, field, value, answer.text)
                assert answer.json().get("error", {"message": "ok"})["message"], (where, field, value)
    kept = service.sql("SELECT COUNT(*) FROM comments")[0][0]
    assert kept and kept == service.sql("SELECT COUNT(*) FROM fed_comments")[0][0]


def test_a_profile_edit_renames_the_accounts_comments(open_service, peer):
    """Mastodon sends an Update of the actor when its profile changes; it was ignored, so a remote writer who
    took a pseudonym in place of their real name kept their real name beside every reply, and on the next ones.
    The actor is fetched again (not taken from the activity) and its comments follow."""
    service = open_service
    assert peer.post(inbox(service), mastodon_reply(peer, service, 1, "Avant.", [PUBLIC], [])).status_code == 202
    assert thread(service, post_url(service))[0]["author"]["name"] == "Dr Alice"
    peer.actor_changes = {"name": "Docteur Plume", "url": f"http://{peer.host}/@plume"}
    forged = {**peer.actor(), "name": "Autre nom"}  # what the activity carries is not what is kept
    update = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{peer.actor_id}#updates/1",
              "type": "Update", "actor": peer.actor_id, "to": [PUBLIC], "object": forged}
    assert peer.post(inbox(service), update).status_code == 202
    (shown,) = thread(service, post_url(service))
    assert shown["author"]["name"] == "Docteur Plume" and shown["author"]["website"] == f"http://{peer.host}/@plume"
    assert peer.post(inbox(service), mastodon_reply(peer, service, 2, "Après.", [PUBLIC], [])).status_code == 202
    assert [c["author"]["name"] for c in thread(service, post_url(service))] == ["Docteur Plume"] * 2


def test_another_accounts_profile_cannot_be_edited(open_service, peer):
    service = open_service
    assert peer.post(inbox(service), mastodon_reply(peer, service, 1, "Avant.", [PUBLIC], [])).status_code == 202
    with Peer("mallory") as other:
        update = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{other.actor_id}#updates/1",
                  "type": "Update", "actor": other.actor_id, "object": {**peer.actor(), "name": "Détourné"}}
        assert other.post(inbox(service), update).status_code == 202
    assert thread(service, post_url(service))[0]["author"]["name"] == "Dr Alice"
