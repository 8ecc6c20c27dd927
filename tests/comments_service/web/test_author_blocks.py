"""« Bloquer l'auteur »: a blog's moderators block a commenter on that blog (domain/blocks.py).

By e-mail (normalised), by account, by network address (an IPv6 client by its /64); the blocked author's next
comment is spam but answered exactly as a pending one; other blogs are not affected; their pending comments become
spam at the block; « Débloquer » (page and API); another blog's author is refused; nothing of a block in public
outputs; the migration on an existing database.
"""

from __future__ import annotations

import pytest

from comments_service.core import db as dbmod
from comments_service.core.migrations import migrate, migrations
from comments_service.domain import blocks
from comments_service.domain.posts import query_one
from tests.comments_service.domain.test_verification import kit_cookie
from tests.comments_service.verification_kit import Kit

TROLL = "troll.pharma@exemple.fr"


@pytest.fixture
def app(make_app):
    return make_app(MODERATION="all")


@pytest.fixture
def kit(app, client):
    return Kit(app, client)


@pytest.fixture
def anne(kit):
    """The author of dr-a (a bearer session for the API)."""
    return kit.member("anne@dr-a.test", display_name="Dr Anne A", role="author", sites=("dr-a",))


def guest(actions, text, url, email=TROLL, author="Pharma Promo", ip="198.51.100.7", **fields):
    response = actions.client.post("/api/comments", json={"url": url, "text": text, "author": author, "email": email,
                                                          **fields}, environ_base={"REMOTE_ADDR": ip})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response


def status_of(actions, comment_id):
    row = actions.sql("SELECT status, blocked FROM comments WHERE id = ?", (comment_id,))[0]
    return row["status"], row["blocked"]


def block(client, member, comment_id, **body):
    return client.post(f"/api/moderation/{comment_id}", json={"action": "block", **body}, headers=member.headers)


def comparable(response) -> tuple:
    """What a writer learns of their comment's fate: status code, and the body but for what differs anyway."""
    body = response.get_json()
    comment = {k: v for k, v in body["comment"].items() if k not in ("id", "html", "created", "author")}
    rest = {k: v for k, v in body.items() if k not in ("comment", "edit_token", "text", "editable_until")}
    return response.status_code, sorted(body), comment, rest


def test_blocking_by_email_answers_the_next_comment_as_pending_and_stores_it_as_spam(actions, client, anne, urls):
    first = guest(actions, "Achetez nos pilules", urls.POST_A).get_json()
    done = block(client, anne, first["comment"]["id"])
    assert done.status_code == 200, done.get_json()
    assert done.get_json() == {"id": first["comment"]["id"], "action": "block", "status": "spam",
                               "block": {"id": done.get_json()["block"]["id"], "by": ["email"]}, "spammed": []}

    # the same address typed otherwise (case, spaces, a +tag), from another network: still them
    local, _, domain = TROLL.partition("@")
    again = guest(actions, "Nos pilules, encore", urls.POST_A2, email=f"  {local.title()}+2@{domain.upper()} ",
                  ip="203.0.113.9")
    honest = guest(actions, "Une vraie question", urls.POST_A2, email="lectrice@exemple.fr", author="Lectrice",
                   ip="192.0.2.1")
    assert comparable(again) == comparable(honest), "the troll learns nothing"
    assert again.get_json()["status"] == "pending" and again.get_json()["comment"]["status"] == "pending"
    spam_id = again.get_json()["comment"]["id"]
    assert status_of(actions, spam_id) == ("spam", 1)
    assert status_of(actions, honest.get_json()["comment"]["id"]) == ("pending", 0)
    # their own views keep saying « en attente »: the thread read with their token, their comment's source
    token = again.get_json()["edit_token"]
    mine = actions.thread(urls.POST_A2, tokens=[token]).get_json()["comments"]
    assert [(c["id"], c["status"]) for c in mine] == [(spam_id, "pending")]
    own = client.get(f"/api/comments/{spam_id}", headers={"X-Edit-Token": token}).get_json()
    assert own["status"] == "pending"
    assert actions.edit(spam_id, token, "Nos pilules, corrigé").status_code == 200
    # nothing for the blogger to moderate, nothing public
    queue = client.get("/api/moderation/queue", headers=anne.headers).get_json()
    assert spam_id not in [i["id"] for i in queue["items"]]
    assert actions.thread(urls.POST_A2).get_json()["total"] == 0

    (row,) = actions.sql("SELECT * FROM author_blocks")
    assert row["site"] == "dr-a" and row["author_name"] == "Pharma Promo" and row["comment_id"] == first["comment"]["id"]
    assert row["blocked_by"] == anne.id and row["created"] and row["account_id"] is None and row["ip_hash"] is None
    assert "troll" not in " ".join(str(v) for v in tuple(row)).lower(), "no raw e-mail in the table"
    assert row["email_hash"] == blocks.email_hash(actions.app.config["SECRET_KEY"], TROLL)


def test_the_no_javascript_form_answers_a_blocked_author_as_pending(actions, client, anne, urls):
    first = guest(actions, "Achetez nos pilules", urls.POST_A).get_json()
    assert block(client, anne, first["comment"]["id"]).status_code == 200
    browser = actions.app.test_client()
    page = browser.get("/thread", query_string={"url": urls.POST_A})
    target, hidden = actions.form(page, "/thread")
    sent = browser.post(target, data={**hidden, "url": urls.POST_A, "text": "Encore nos pilules",
                                      "author": "Pharma Promo", "email": TROLL})
    assert sent.status_code == 303 and "merci=pending" in sent.headers["Location"]
    assert actions.sql("SELECT status FROM comments WHERE text = 'Encore nos pilules'")[0][0] == "spam"


def test_blocking_a_signed_in_author_by_account(actions, client, kit, anne, urls):
    troll = kit.member("troll@compte.test", display_name="Compte Troll")
    mod = kit.member("mod@confreres.test", display_name="Modération", role="moderator")
    posted = actions.post("Premier", url=urls.POST_A, headers=troll.headers).get_json()
    done = block(client, anne, posted["comment"]["id"]).get_json()
    assert done["block"]["by"] == ["account", "email"]
    later = actions.post("Second", url=urls.POST_A2, headers=troll.headers)
    assert later.status_code == 201 and later.get_json()["status"] == "pending"
    assert status_of(actions, later.get_json()["comment"]["id"]) == ("spam", 1)
    listed = client.get("/api/account/comments", query_string={"url": urls.POST_A2}, headers=troll.headers).get_json()
    assert [c["status"] for c in listed["comments"]] == ["pending"]

    # a network moderator is trusted everywhere (published at once), yet can be blocked on a blog
    own = actions.post("Avis de modérateur", url=urls.POST_A, headers=mod.headers).get_json()
    assert own["status"] == "approved"
    assert block(client, anne, own["comment"]["id"]).status_code == 200
    blocked = actions.post("Encore un avis", url=urls.POST_A, headers=mod.headers).get_json()
    assert blocked["status"] == "pending" and status_of(actions, blocked["comment"]["id"]) == ("spam", 1)


def test_the_blogs_own_author_cannot_be_blocked(actions, client, kit, anne, urls, api_error):
    admin = kit.member("root@confreres.test", role="admin")
    mine = actions.post("Je réponds à mes lecteurs", url=urls.POST_A, headers=anne.headers).get_json()
    api_error(block(client, admin, mine["comment"]["id"]), 400, "own_author")
    assert actions.sql("SELECT COUNT(*) FROM author_blocks")[0][0] == 0
    assert status_of(actions, mine["comment"]["id"]) == ("approved", 0)


def test_blocking_by_network_address_groups_an_ipv6_client_by_its_64(actions, client, anne, urls, api_error):
    first = guest(actions, "Sans e-mail", urls.POST_A, email="", ip="2001:db8:1:2::10").get_json()
    api_error(block(client, anne, first["comment"]["id"]), 400, "unidentified", "address")
    api_error(block(client, anne, first["comment"]["id"], address="oui"), 400, "invalid_type", "address")
    done = block(client, anne, first["comment"]["id"], address=True).get_json()
    assert done["block"]["by"] == ["address"]
    same_net = guest(actions, "Autre adresse du même /64", urls.POST_A2, email="autre@exemple.fr",
                     ip="2001:db8:1:2:ffff::1").get_json()
    assert same_net["status"] == "pending" and status_of(actions, same_net["comment"]["id"]) == ("spam", 1)
    other_net = guest(actions, "Un autre réseau", urls.POST_A2, email="autre@exemple.fr",
                      ip="2001:db8:1:3::10").get_json()
    assert status_of(actions, other_net["comment"]["id"]) == ("pending", 0)
    (row,) = actions.sql("SELECT ip_hash, email_hash FROM author_blocks")
    assert row["ip_hash"] and "2001" not in row["ip_hash"] and row["email_hash"] is None


def test_without_the_box_the_address_is_not_blocked(actions, client, anne, urls):
    first = guest(actions, "Premier", urls.POST_A).get_json()
    block(client, anne, first["comment"]["id"])
    same_ip = guest(actions, "Même poste, autre e-mail", urls.POST_A2, email="collegue@hopital.fr").get_json()
    assert status_of(actions, same_ip["comment"]["id"]) == ("pending", 0), "a hospital's colleague is not blocked"


def test_pending_comments_become_spam_and_other_blogs_are_not_affected(actions, client, anne, urls):
    one = guest(actions, "Un", urls.POST_A).get_json()["comment"]["id"]
    two = guest(actions, "Deux", urls.POST_A2).get_json()["comment"]["id"]
    on_b = guest(actions, "Sur le blog B", urls.POST_B).get_json()["comment"]["id"]
    done = block(client, anne, one).get_json()
    assert done["spammed"] == [two]
    assert status_of(actions, one) == ("spam", 1) and status_of(actions, two) == ("spam", 1)
    assert status_of(actions, on_b) == ("pending", 0)
    later_b = guest(actions, "Encore sur B", urls.POST_B).get_json()["comment"]["id"]
    assert status_of(actions, later_b) == ("pending", 0)


def test_a_reported_approved_comment_blocked_leaves_the_thread(actions, client, anne, urls):
    shown = guest(actions, "Publié puis signalé", urls.POST_A).get_json()["comment"]["id"]
    actions.approve(shown)
    assert actions.thread(urls.POST_A).get_json()["total"] == 1
    assert block(client, anne, shown).get_json()["status"] == "spam"
    assert actions.thread(urls.POST_A).get_json()["total"] == 0
    assert status_of(actions, shown) == ("spam", 0)


def test_list_and_unblock_through_the_api(actions, client, anne, kit, urls, api_error):
    first = guest(actions, "Premier", urls.POST_A).get_json()["comment"]["id"]
    block_id = block(client, anne, first).get_json()["block"]["id"]
    listed = client.get("/api/moderation/blocks", headers=anne.headers)
    assert listed.headers["Cache-Control"] == "private, no-store"
    (item,) = listed.get_json()["blocks"]
    assert item == {"id": block_id, "site": "dr-a", "author_name": "Pharma Promo", "comment": first,
                    "created": item["created"], "blocked_by": "Dr Anne A", "by": ["email"]}
    assert "hash" not in listed.get_data(as_text=True) and TROLL not in listed.get_data(as_text=True)

    bruno = kit.member("bruno@dr-b.test", display_name="Dr Bruno B", role="author", sites=("dr-b",))
    assert client.get("/api/moderation/blocks", headers=bruno.headers).get_json()["blocks"] == []
    api_error(client.delete(f"/api/moderation/blocks/{block_id}", headers=bruno.headers), 403, "not_moderator")
    api_error(client.delete("/api/moderation/blocks/9999", headers=anne.headers), 404, "unknown_block")

    done = client.delete(f"/api/moderation/blocks/{block_id}", headers=anne.headers)
    assert done.status_code == 200 and done.get_json() == {"id": block_id, "site": "dr-a", "unblocked": True}
    assert client.get("/api/moderation/blocks", headers=anne.headers).get_json()["blocks"] == []
    assert status_of(actions, first) == ("spam", 1), "unblocking restores no old comment"
    later = guest(actions, "Après le déblocage", urls.POST_A2).get_json()["comment"]["id"]
    assert status_of(actions, later) == ("pending", 0)


def test_a_moderator_of_another_blog_gets_403(actions, client, kit, urls, api_error):
    bruno = kit.member("bruno@dr-b.test", display_name="Dr Bruno B", role="author", sites=("dr-b",))
    on_a = guest(actions, "Sur A", urls.POST_A).get_json()["comment"]["id"]
    api_error(block(client, bruno, on_a), 403, "not_moderator")
    assert status_of(actions, on_a) == ("pending", 0)
    assert actions.sql("SELECT COUNT(*) FROM author_blocks")[0][0] == 0
    admin = kit.member("root@confreres.test", role="admin")
    assert block(client, admin, on_a).status_code == 200, "an admin blocks on any blog"


def test_bad_requests(actions, client, anne, urls, api_error):
    on_a = guest(actions, "Sur A", urls.POST_A).get_json()["comment"]["id"]
    api_error(block(client, anne, 9999), 404, "unknown_comment")
    api_error(client.post(f"/api/moderation/{on_a}", json={"action": "bloquer"}, headers=anne.headers), 400,
              "invalid_choice", "action")
    # a received mention has no author to block
    api_error(client.post("/api/moderation/mentions/1", json={"action": "block"}, headers=anne.headers), 400,
              "invalid_choice", "action")


def text_of(html: str) -> str:
    from bs4 import BeautifulSoup

    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())


def page_browser(app, kit, member):
    browser = app.test_client()
    browser.set_cookie("confreres_session", kit_cookie(kit, member))
    return browser


def test_the_page_blocks_and_unblocks_without_javascript(app, actions, kit, anne, urls):
    first = guest(actions, "Achetez nos pilules", urls.POST_A, author="Émile Promo").get_json()["comment"]["id"]
    browser = page_browser(app, kit, anne)
    page = browser.get("/moderation")
    html = page.get_data(as_text=True)
    assert "Bloquer l'auteur du commentaire d'Émile Promo" in text_of(html), "the button names the author"
    assert "un hôpital, une clinique ou un cabinet partage" in html
    assert f'id="address-{first}" name="address" value="1"' in html
    assert f'id="address-{first}" name="address" value="1" checked' not in html, "off by default"
    assert browser.post(f"/moderation/{first}", data={"action": "block"}).status_code == 403, "no CSRF token: refused"

    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    form = soup.find("form", id=f"block-{first}")
    csrf = form.find("input", attrs={"name": "csrf"})["value"]
    done = browser.post(form["action"], data={"csrf": csrf, "action": "block"})
    assert done.status_code == 303
    after = text_of(browser.get(done.headers["Location"]).get_data(as_text=True))
    assert "Auteur bloqué sur ce blog" in after and "Auteurs bloqués" in after
    assert "Émile Promo" in after and "par Dr Anne A" in after
    assert "ne republie pas ses anciens commentaires" in after
    assert status_of(actions, first) == ("spam", 1)

    soup = BeautifulSoup(browser.get("/moderation").get_data(as_text=True), "html.parser")
    (unblock,) = [f for f in soup.find_all("form") if "/moderation/blocks/" in f.get("action", "")]
    assert unblock.find("button").get_text(" ", strip=True) == "Débloquer Émile Promo"
    assert browser.post(unblock["action"], data={"action": ""}).status_code == 403, "no CSRF token: refused"
    gone = browser.post(unblock["action"], data={"csrf": unblock.find("input", attrs={"name": "csrf"})["value"]})
    assert gone.status_code == 303
    final = text_of(browser.get(gone.headers["Location"]).get_data(as_text=True))
    assert "Auteur débloqué" in final and "restent classés comme spam" in final and "Aucun auteur bloqué." in final
    assert actions.sql("SELECT COUNT(*) FROM author_blocks")[0][0] == 0


def test_a_refused_block_shows_the_box_as_ticked(app, actions, kit, anne, urls):
    first = guest(actions, "Ancien commentaire", urls.POST_A).get_json()["comment"]["id"]
    actions.sql("UPDATE comments SET ip_hash = NULL WHERE id = ?", (first,))  # purged after IP_RETENTION_DAYS
    browser = page_browser(app, kit, anne)
    page = browser.get("/moderation")
    target, hidden = actions.form(page, f"/moderation/{first}")
    refused = browser.post(target, data={**hidden, "action": "block", "address": "1"})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "n'est plus connue" in text_of(html) and f'href="#block-{first}"' in html
    assert f'id="address-{first}" name="address" value="1" checked' in html
    assert f'aria-describedby="address-hint-{first} block-err-{first}"' in html
    assert actions.sql("SELECT COUNT(*) FROM author_blocks")[0][0] == 0
    assert status_of(actions, first) == ("pending", 0), "nothing done"


def test_nothing_of_a_block_in_public_outputs(app, actions, client, anne, urls, confreres, tmp_path):
    first = guest(actions, "Premier", urls.POST_A).get_json()["comment"]["id"]
    actions.approve(first)
    approved = guest(actions, "Un avis publié", urls.POST_A, email="autre@exemple.fr", author="Paul").get_json()
    actions.approve(approved["comment"]["id"])
    block(client, anne, first)
    guest(actions, "Après le blocage", urls.POST_A)
    (row,) = actions.sql("SELECT email_hash FROM author_blocks")
    anonymous = app.test_client()
    outputs = {
        "thread JSON": anonymous.get("/api/comments", query_string={"url": urls.POST_A}),
        "thread page": anonymous.get("/thread", query_string={"url": urls.POST_A}),
        "thread feed": anonymous.get("/feeds/thread.atom", query_string={"url": urls.POST_A}),
        "blog feed": anonymous.get("/feeds/site/dr-a.atom"),
        "counts": anonymous.get("/api/counts", query_string={"url": urls.POST_A}),
        "sites": anonymous.get("/api/sites"),
        "blocks API, signed out": anonymous.get("/api/moderation/blocks"),
    }
    assert outputs["thread JSON"].get_json()["total"] == 1
    out = tmp_path / "export.json"
    result = confreres("export", "comments", "--out", str(out))
    assert result.exit_code == 0, result.output
    texts = {label: r.get_data(as_text=True) for label, r in outputs.items()}
    texts["public export"] = out.read_text(encoding="utf-8")
    for label, text in texts.items():
        lowered = text.lower()
        for secret in ("bloqu", "blocked", "author_blocks", row["email_hash"], "pharma promo", "après le blocage"):
            assert secret not in lowered, f"{label} reveals {secret!r}"


def test_the_migration_on_an_existing_database(tmp_path):
    db = dbmod.connect(str(tmp_path / "old.sqlite3"))
    migrations.apply(db, stop_before="m023_author_blocks")
    stamp = "2026-01-01T00:00:00Z"
    db.conn.execute("INSERT INTO posts (url, site, synced, version, public_version) VALUES ('http://a.test/1', 'dr-a', ?, 1, 1)",
                    (stamp,))
    db.conn.executemany(
        "INSERT INTO comments (post_url, site, author_name, email, status, created) VALUES ('http://a.test/1', 'dr-a', ?, ?, ?, ?)",
        [("Ancien", "ancien@exemple.fr", "pending", stamp), ("Publié", "p@exemple.fr", "approved", stamp)],
    )
    db.conn.commit()
    assert migrate(db)[0] == "m023_author_blocks"  # and the later ones
    assert [r[0] for r in db.conn.execute("SELECT blocked FROM comments ORDER BY id")] == [0, 0]
    assert {r[1] for r in db.conn.execute("PRAGMA table_info(author_blocks)")} == {
        "id", "site", "account_id", "email_hash", "ip_hash", "author_name", "comment_id", "blocked_by", "created"}
    row = query_one(db, "SELECT * FROM comments WHERE id = 1")
    result = blocks.block_author(db, "s3cret", row, by=None)
    assert result["spammed"] == [1] and result["by"] == ["email"]
    assert [r[0] for r in db.conn.execute("SELECT status FROM comments ORDER BY id")] == ["spam", "approved"]
    assert not migrations.pending(db)
    db.close()


def test_a_blocked_author_asking_for_replies_gets_the_confirmation_anyone_gets(actions, client, anne, urls):
    """A guest who ticks « Me prévenir des réponses » is mailed a confirmation at their own address; a blocked one
    too, or its absence would tell them they are blocked (here by network address, writing with a fresh address)."""
    first = guest(actions, "Achetez nos pilules", urls.POST_A).get_json()
    assert block(client, anne, first["comment"]["id"], address=True).status_code == 200

    def confirmations(email):
        return actions.sql("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'confirm' AND recipient = ?", (email,))[0]["n"]

    blocked = guest(actions, "Nos pilules, encore", urls.POST_A2, email="nouvelle@exemple.fr", notify=True)
    guest(actions, "Une vraie question", urls.POST_A2, email="lectrice@exemple.fr", author="Lectrice",
          ip="192.0.2.1", notify=True)
    assert status_of(actions, blocked.get_json()["comment"]["id"]) == ("spam", 1)
    assert (confirmations("nouvelle@exemple.fr"), confirmations("lectrice@exemple.fr")) == (1, 1)
    # and still no one else hears of the blocked comment
    assert actions.sql("SELECT COUNT(*) AS n FROM author_notices WHERE comment_id = ?",
                       (blocked.get_json()["comment"]["id"],))[0]["n"] == 0


def test_blocking_a_pseudonymous_physician_keeps_no_key_of_their_address(app, actions, client, kit, anne, urls,
                                                                        tmp_path):
    """A verified physician's address is hidden from the blogs' moderators, as it may tell who a pseudonym is: a
    block keyed by it would let the blogger try addresses as a guest (from another network) and see which one lands
    in spam, never in their queue, learning the pseudonym's address. Such an author is blocked by their account."""
    from tests.comments_service.verification_kit import CLAIRE, import_people

    import_people(app, tmp_path)
    zorro = kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Zorro")
    posted = actions.post("Un avis tranché", url=urls.POST_A, headers=zorro.headers).get_json()
    done = block(client, anne, posted["comment"]["id"])
    assert done.status_code == 200 and done.get_json()["block"]["by"] == ["account"]
    assert actions.sql("SELECT email_hash FROM author_blocks")[0]["email_hash"] is None
    # the blogger, as a guest typing the physician's real address from elsewhere: an ordinary pending comment
    guessed = guest(actions, "Qui êtes-vous ?", urls.POST_A2, email=zorro.email, author="Curieux", ip="203.0.113.50")
    assert status_of(actions, guessed.get_json()["comment"]["id"]) == ("pending", 0)
    queue = client.get("/api/moderation/queue", headers=anne.headers).get_json()
    assert guessed.get_json()["comment"]["id"] in [i["id"] for i in queue["items"]]
    # signed in, still blocked
    later = actions.post("Encore un avis", url=urls.POST_A2, headers=zorro.headers).get_json()
    assert later["status"] == "pending" and status_of(actions, later["comment"]["id"]) == ("spam", 1)


def test_a_member_blocked_before_declaring_an_rpps_number_keeps_no_key_of_their_address(app, actions, client, kit,
                                                                                         anne, urls, tmp_path):
    """Blocked by account and e-mail as an ordinary member, then a physician's declaration: the block forgets the
    e-mail's key (block_author would not make one now: moderators may not see that address), names the account
    still, and a guest typing that address is an ordinary pending comment."""
    from tests.comments_service.verification_kit import CANDIDATE, import_people

    import_people(app, tmp_path)
    member = kit.member(display_name="Stéthoscope bleu")
    posted = actions.post("Un avis", url=urls.POST_A, headers=member.headers).get_json()
    done = block(client, anne, posted["comment"]["id"])
    assert done.status_code == 200 and done.get_json()["block"]["by"] == ["account", "email"]
    assert actions.sql("SELECT email_hash FROM author_blocks")[0]["email_hash"] is not None
    assert kit.declare(member, CANDIDATE, "Quintard-Valmore", "Éléonore").status_code == 200
    assert actions.sql("SELECT email_hash, account_id FROM author_blocks")[0]["email_hash"] is None
    guessed = guest(actions, "Qui êtes-vous ?", urls.POST_A2, email=member.email, author="Curieux", ip="203.0.113.51")
    assert status_of(actions, guessed.get_json()["comment"]["id"]) == ("pending", 0)
    later = actions.post("Encore", url=urls.POST_A2, headers=member.headers).get_json()
    assert status_of(actions, later["comment"]["id"]) == ("spam", 1)  # still blocked by the account
