"""A pseudonymous verified physician: their real name, RPPS and e-mail appear in no public output.

The member has a distinctive identity, comments (a comment and a reply, one in an "entre confrères"
thread), is vouched for, declares interests, answers a confrère. Then every GET route of the service is
requested — anonymously, and as another signed-in member where a page needs one — plus the feeds, the
public export (`confreres export comments` without --private) and the vouching and review pages that
other members and moderators see; none may contain the real name, the RPPS (either form) or the e-mail.
A route added later fails the test until it is scanned or listed as the owner's or admins' own view.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from click.testing import CliRunner

from comments_service.domain import verification as verify
from tests.comments_service.verification_kit import CANDIDATE, CLAIRE, KARIM, Kit, import_people

EMAIL = "eleonore.quintard-valmore@cabinet-secret.test"
REAL_NAME = "Éléonore Quintard-Valmore"
PSEUDONYM = "Stéthoscope bleu"
# Routes that show the signed-in owner their own data, or need a single-use link, or are demo-only:
NOT_PUBLIC = {
    "/api/account", "/api/account/export", "/account", "/account/export",  # the owner's own data (GDPR)
    "/auth", "/auth/sent", "/auth/verify", "/notify/confirm", "/notify/unsubscribe", "/moderation/act",
    "/dev/mail", "/dev/mail/<name>", "/webmention/<token>",  # signed links, demo-only (off here)
    "/static/<path:filename>",
}


def fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def assert_clean(label: str, text: str):
    folded = fold(text)
    for secret in ("quintard", "valmore", "eleonore", fold(EMAIL), "cabinet-secret"):
        assert secret not in folded, f"{label} reveals {secret!r}"
    assert CANDIDATE not in re.sub(r"[\s.\-]", "", text), f"{label} reveals the RPPS (or its national form)"


@pytest.fixture
def world(app, client, tmp_path, urls, actions):
    import_people(app, tmp_path)
    kit = Kit(app, client)
    claire = kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire Lefebvre", role="author", sites=("dr-a",))
    karim = kit.verified(KARIM, "Benali", "Karim", "Dr Karim Benali")
    secret = kit.member(email=EMAIL, display_name=REAL_NAME, sites=("dr-b",))  # the author of dr-b, too
    # Before taking a pseudonym, the member commented under their real name; a confrère answered, the
    # thread was read (and cached), and dr-a's author waits for her daily digest.
    kit.sql("UPDATE accounts SET notify_comments = 'daily' WHERE id = ?", (claire.id,))
    early = actions.post("Un avis d'avant.", url=urls.POST_A2, headers=secret.headers).get_json()["comment"]
    actions.approve(early["id"])
    actions.post("Une question, avant.", url=urls.POST_A2, headers=secret.headers)  # still pending
    answer = actions.post("Je vous réponds.", url=urls.POST_A2, headers=karim.headers, parent=early["id"])
    assert answer.status_code == 201
    assert actions.thread(urls.POST_A2).get_json()["comments"][0]["author"]["name"] == REAL_NAME
    declared = kit.declare(secret, CANDIDATE, "QUINTARD-VALMORE", "Éléonore", display_name=PSEUDONYM)
    assert declared.status_code == 200, declared.get_json()
    assert kit.vouch(claire, secret, "Quintard-Valmore").status_code == 201
    assert kit.vouch(karim, secret, "Quintard-Valmore").status_code == 201
    assert kit.status(secret)["level"] == "verified"
    client.patch("/api/account", json={"interests": "Aucun lien d'intérêts.", "show_specialty": True}, headers=secret.headers)
    first = actions.post("Mon avis de généraliste.", url=urls.POST_A, headers=secret.headers,
                         author="Éléonore Quintard-Valmore", email=EMAIL).get_json()
    actions.approve(first["comment"]["id"])
    reply = actions.post("Merci, consœur.", url=urls.POST_A, headers=claire.headers, parent=first["comment"]["id"])
    assert reply.status_code == 201
    actions.post("Je précise.", url=urls.POST_A, headers=secret.headers, parent=reply.get_json()["comment"]["id"])
    assert actions.post("Entre nous.", url=urls.POST_CONFRERES, headers=secret.headers).status_code == 201
    assert actions.post("Sur le billet B.", url=urls.POST_B, headers=secret.headers).status_code == 201
    thread = actions.thread(urls.POST_A).get_json()
    assert thread["comments"][0]["author"]["name"] == PSEUDONYM
    assert thread["comments"][0]["author"]["badge"]["label"] == "Médecin vérifié · Médecine générale"
    # GET /api/sites (scanned below) gives dr-b the badge of its pseudonymous author, under network.toml's name
    (dr_b,) = [s for s in client.get("/api/sites").get_json()["sites"] if s["slug"] == "dr-b"]
    assert dr_b["author"]["name"] == "Dr Bruno B" and dr_b["author"]["badge"]["level"] == "verified"
    return kit, secret, claire


def assert_no_source(label: str, data) -> None:
    """No `text` nor `editable_until` key anywhere in a JSON document (what only a comment's owner gets)."""
    if isinstance(data, dict):
        leaked = {"text", "editable_until"} & set(data)
        assert not leaked, f"{label} carries {leaked}"
        for value in data.values():
            assert_no_source(label, value)
    elif isinstance(data, list):
        for value in data:
            assert_no_source(label, value)


def actions_thread_author(app, url) -> dict:
    return app.test_client().get("/api/comments", query_string={"url": url}).get_json()["comments"][0]["author"]


def actions_thread_first(app, url) -> int:
    return app.test_client().get("/api/comments", query_string={"url": url}).get_json()["comments"][0]["id"]


def test_no_public_output_reveals_who_the_pseudonym_is(world, app, urls, network_file, monkeypatch):
    kit, secret, claire = world
    posts = [urls.POST_A, urls.POST_A2, urls.POST_CONFRERES, urls.POST_B, urls.POST_CLOSED]
    other = kit.member(display_name="Un autre membre")
    anonymous = app.test_client()
    member_browser = app.test_client()
    from tests.comments_service.domain.test_verification import kit_cookie

    member_browser.set_cookie("confreres_session", kit_cookie(kit, other))
    scanned: set[str] = set()
    db = kit.db()
    try:
        own_ids = [row[0] for row in db.conn.execute("SELECT id FROM comments WHERE account_id = ?", (secret.id,))]
    finally:
        db.close()
    assert len(own_ids) == 6

    from confreres.site_token import site_token
    from tests.conftest import POSTS

    for slug in ("dr-a", "dr-b"):  # the posts as the fediverse sees them (Articles, their comments as Notes)
        anonymous.put(f"/api/sites/{slug}/posts", json=POSTS[slug],
                      headers={"Authorization": f"Bearer {site_token(app.config['SECRET_KEY'], slug)}"})
    article_keys = [row["object_id"].rsplit("/", 1)[1] for row in kit.sql("SELECT object_id FROM fed_articles")]
    assert article_keys
    as_note = anonymous.get(f"/ap/comments/{actions_thread_first(app, urls.POST_A)}",
                            headers={"Accept": "application/activity+json"}).get_data(as_text=True)
    assert f"<strong>{PSEUDONYM}</strong> a commenté" in as_note, "the Note shows the pseudonym"

    def scan(rule: str, path: str, **kwargs):
        for who, browser, headers in (("anonyme", anonymous, {}), ("membre", member_browser, other.headers)):
            response = browser.get(path, headers=headers, **kwargs)
            assert response.status_code < 500, (path, response.status_code)
            assert_clean(f"{who} GET {path} {kwargs}", response.get_data(as_text=True))
            # a comment's Markdown source and edit deadline are its owner's alone (GET /api/comments/<id>)
            if response.is_json and response.status_code == 200 and path != "/api/openapi.json":
                assert_no_source(f"{who} GET {path} {kwargs}", response.get_json())
        scanned.add(rule)

    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule in NOT_PUBLIC:
            continue
        if rule.rule in ("/api/comments", "/thread", "/feeds/thread.atom", "/api/account/comments"):
            for url in posts:
                scan(rule.rule, rule.rule, query_string={"url": url})
        elif rule.rule == "/api/counts":
            scan(rule.rule, rule.rule, query_string=[("url", u) for u in posts])
        elif rule.rule == "/feeds/site/<slug>.atom":
            for slug in ("dr-a", "dr-b"):
                scan(rule.rule, f"/feeds/site/{slug}.atom")
        elif rule.rule == "/api/comments/<id:comment_id>":  # the owner's source: others are refused
            for comment_id in own_ids:
                scan(rule.rule, f"/api/comments/{comment_id}")
        elif rule.rule in ("/membres/<handle>", "/api/members/<handle>"):  # every member's public profile
            for row in kit.sql("SELECT public_id FROM accounts"):
                scan(rule.rule, rule.rule.replace("<handle>", row["public_id"]))
        elif rule.rule in ("/api/verification/vouch/<token>", "/verification/parrainer/<token>"):
            scan(rule.rule, rule.rule.replace("<token>", kit.vouch_token(secret)))
        elif rule.rule.startswith("/ap/actors/<name>"):  # the fediverse's actors and their collections
            for name in ("planete", "dr-a", "dr-b"):
                scan(rule.rule, rule.rule.replace("<name>", name))
                scan(rule.rule, rule.rule.replace("<name>", name), query_string={"page": 1})
        elif rule.rule in ("/ap/articles/<key>", "/ap/articles/<key>/replies"):  # the posts, once announced
            for key in article_keys:
                scan(rule.rule, rule.rule.replace("<key>", key))
                scan(rule.rule, rule.rule.replace("<key>", key), query_string={"page": 1})
        elif rule.rule == "/ap/comments/<id:comment_id>":  # every comment, as the fediverse would see it
            for row in kit.sql("SELECT id FROM comments"):
                scan(rule.rule, f"/ap/comments/{row['id']}")
        elif not rule.arguments:
            scan(rule.rule, rule.rule)
    missing = {
        r.rule for r in app.url_map.iter_rules() if "GET" in r.methods and r.rule not in NOT_PUBLIC
    } - scanned
    profile = anonymous.get(actions_thread_author(app, urls.POST_A)["profile"].removeprefix("http://blogs.test/comments"))
    assert PSEUDONYM in profile.get_data(as_text=True) and "Mon avis de généraliste" in profile.get_data(as_text=True)
    assert not missing, f"GET routes not scanned: {missing}"

    # the blog's author moderates a report on the pseudonym's comment: no address there either
    first_id = actions_thread_first(app, urls.POST_A)
    assert app.test_client().post(f"/api/comments/{first_id}/report", json={"reason": "À vérifier"}).status_code == 201
    author_browser = app.test_client()
    author_browser.set_cookie("confreres_session", kit_cookie(kit, claire))
    queue_page = author_browser.get("/moderation").get_data(as_text=True)
    assert "Mon avis de généraliste" in queue_page
    assert_clean("the blog author's moderation page", queue_page)
    queue = app.test_client().get("/api/moderation/queue", headers=claire.headers)
    assert queue.status_code == 200 and "Mon avis de généraliste" in queue.get_data(as_text=True)
    assert_clean("the blog author's moderation queue", queue.get_data(as_text=True))

    # what moderators (not admins) see: the review page and the candidates' API
    moderator = kit.member(display_name="Modérateur", role="moderator")
    moderator_browser = app.test_client()
    moderator_browser.set_cookie("confreres_session", kit_cookie(kit, moderator))
    assert_clean("moderator review page", moderator_browser.get("/verification/examen").get_data(as_text=True))
    assert_clean("candidates API", app.test_client().get("/api/verification/candidates", headers=moderator.headers)
                 .get_data(as_text=True))
    # the verification status the member sees of their own account does not echo it either
    assert_clean("own status", app.test_client().get("/api/verification", headers=secret.headers).get_data(as_text=True))
    # nor the no-JS thread page they are signed in on (« Connecté·e : <pseudonym> » and the badge)
    own_browser = app.test_client()
    own_browser.set_cookie("confreres_session", kit_cookie(kit, secret))
    own_pages = {url: own_browser.get("/thread", query_string={"url": url}).get_data(as_text=True) for url in posts}
    for url, own_page in own_pages.items():
        assert_clean(f"own thread page {url}", own_page)
    assert f"Connecté·e : <strong>{PSEUDONYM}</strong>" in own_pages[urls.POST_A]
    # someone who declares the pseudonymous member's number learns nothing, and neither does the mail
    curious = kit.member(display_name="Curieux")
    attempt = kit.declare(curious, CANDIDATE, "Quintard-Valmore", "Éléonore")
    assert attempt.status_code == 200 and attempt.get_json()["level"] == "declared"
    assert PSEUDONYM not in attempt.get_data(as_text=True)
    [notice] = kit.sql("SELECT message FROM outbox WHERE kind = 'verification_contested'")
    assert "Curieux" not in notice["message"] and kit.sql("SELECT email FROM accounts WHERE id = ?", (curious.id,))[0][
        "email"] not in notice["message"]

    # the digest dr-a's author had not received yet names the comments' current author only
    from comments_service.mail import notices as notify

    db = kit.db()
    try:
        with app.app_context():
            assert notify.queue_digests(db)["comments"] >= 2
    finally:
        db.close()
    [digest] = kit.sql("SELECT message FROM outbox WHERE kind = 'digest'")
    assert PSEUDONYM in digest["message"]
    assert_clean("the daily digest", digest["message"])

    # the public export (for the planet, backups shared with the blogger...)
    monkeypatch.setenv("CONFRERES_SECRET_KEY", app.config["SECRET_KEY"])
    monkeypatch.setenv("CONFRERES_DB", app.config["DB"])
    from confreres.cli import cli

    export = CliRunner().invoke(cli, ["--network", str(network_file), "export", "comments"])
    assert export.exit_code == 0, export.output
    assert PSEUDONYM in export.output
    assert_clean("confreres export comments", export.output)

    # the secrets are where they belong: the admins' list, and the owner's own export
    db = kit.db()
    try:
        listing = verify.admin_list(db)
    finally:
        db.close()
    assert any(m["rpps"] == CANDIDATE and m["last_name"] == "QUINTARD-VALMORE" for m in listing)
    own = app.test_client().get("/api/account/export", headers=secret.headers).get_data(as_text=True)
    assert EMAIL in own
