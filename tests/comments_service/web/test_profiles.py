"""Public member profiles (/membres/<handle>, GET /api/members/<handle>) and « Profil public »."""

from __future__ import annotations

import re
import sqlite3

import pytest
from bs4 import BeautifulSoup

from comments_service.core.db import connect
from comments_service.core.migrations import migrations
from tests.comments_service.domain.test_verification import kit_cookie
from tests.comments_service.verification_kit import CLAIRE, Kit, import_people

PROFILE_PREFIX = "http://blogs.test/comments/membres/"


@pytest.fixture
def kit(app, client, tmp_path):
    import_people(app, tmp_path)
    return Kit(app, client)


@pytest.fixture
def claire(kit):
    """A verified physician under a pseudonym, with a declaration of interests."""
    member = kit.verified(CLAIRE, "Lefebvre", "Claire", "Plume de garde")
    response = kit.client.patch("/api/account", json={"interests": "Consultante pour **Labo X**."}, headers=member.headers)
    assert response.status_code == 200
    return member


def comment_as(actions, member, text, url):
    response = actions.post(text, url=url, headers=member.headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    if body["status"] != "approved":
        actions.approve(body["comment"]["id"])
    return body["comment"]


def local(url: str) -> str:
    assert url.startswith(PROFILE_PREFIX) or url.startswith("http://blogs.test/comments/api/"), url
    return url.removeprefix("http://blogs.test/comments")


def test_a_profile_shows_name_badge_interests_and_comments_across_blogs(kit, claire, actions, urls, client):
    first = comment_as(actions, claire, "Sur le premier billet, *mon avis*.", urls.POST_A)
    actions.age(first["id"], 60)
    second = comment_as(actions, claire, "Et sur le blog B.", urls.POST_B)
    guest = actions.approved_comment("Un invité", url=urls.POST_A, author="Invité")
    assert "profile" not in guest["comment"]["author"], "a guest has no profile"

    thread = actions.thread(urls.POST_A).get_json()
    mine = [c for c in thread["comments"] if c["id"] == first["id"]][0]
    profile_url = mine["author"]["profile"]
    handle = profile_url.removeprefix(PROFILE_PREFIX)
    assert re.fullmatch(r"[0-9a-f]{16}", handle)

    doc = client.get(f"/api/members/{handle}").get_json()
    member = doc["member"]
    assert member["name"] == "Plume de garde" and member["profile"] == profile_url and member["comment_count"] == 2
    assert member["badge"]["label"] == "Médecin vérifié · Médecine générale"
    assert "<strong>Labo X</strong>" in member["interests"]
    assert [c["id"] for c in doc["comments"]] == [second["id"], first["id"]], "newest first"
    older = doc["comments"][1]
    assert older == {
        "id": first["id"], "url": f"{urls.POST_A}#comment-{first['id']}",
        "post": {"url": urls.POST_A, "title": "Premier billet"}, "site": "dr-a",
        "site_title": "Le carnet du Dr A", "created": older["created"], "edited": None,
        "excerpt": "Sur le premier billet, mon avis.",
    }
    assert doc["comments"][0]["site_title"] == "Le blog du Dr B"
    assert doc["next"] is None and doc["page"] == 1

    page = client.get(f"/membres/{handle}")
    assert page.status_code == 200 and page.mimetype == "text/html"
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    assert soup.html["lang"] == "fr"
    assert soup.h1.get_text() == "Plume de garde"
    assert "Liens d'intérêts déclarés" in soup.get_text() and "Labo X" in soup.get_text()
    assert "2 commentaires publiés" in soup.get_text()
    links = [a["href"] for a in soup.select(".profile-comments a")]
    assert links == [f"{urls.POST_B}#comment-{second['id']}", f"{urls.POST_A}#comment-{first['id']}"]
    assert re.search(r"le \d{1,2}(er)? \w+ 20\d\d à \d{1,2} h \d\d", soup.get_text()), "French dates"
    text = page.get_data(as_text=True)
    assert claire.email not in text and "Lefebvre" not in text and CLAIRE not in text

    # the no-JS thread page and the comment feeds link to it too
    thread_page = client.get("/thread", query_string={"url": urls.POST_A}).get_data(as_text=True)
    assert f'href="{profile_url}"' in thread_page
    assert profile_url in client.get("/feeds/site/dr-a.atom").get_data(as_text=True)


def test_the_specialty_shows_only_as_the_member_chose(kit, claire, actions, urls, client):
    comment_as(actions, claire, "Avis.", urls.POST_A)
    assert client.patch("/api/account", json={"show_specialty": False}, headers=claire.headers).status_code == 200
    handle = actions.thread(urls.POST_A).get_json()["comments"][0]["author"]["profile"].removeprefix(PROFILE_PREFIX)
    member = client.get(f"/api/members/{handle}").get_json()["member"]
    assert member["badge"]["label"] == "Médecin vérifié"
    assert "Médecine générale" not in client.get(f"/membres/{handle}").get_data(as_text=True)


def test_an_unverified_member_has_a_profile_without_badge_or_interests(kit, actions, urls, client):
    member = kit.member(display_name="Lectrice assidue")
    client.patch("/api/account", json={"interests": "Rien à déclarer"}, headers=member.headers)
    body = comment_as(actions, member, "Merci !", urls.POST_B)
    doc = client.get(local(body["author"]["profile"]).replace("/membres/", "/api/members/")).get_json()
    assert doc["member"]["badge"] is None and "interests" not in doc["member"]
    assert doc["member"]["name"] == "Lectrice assidue"


def test_hiding_the_profile_answers_404_like_unknown_and_unlinks_comments(kit, claire, actions, urls, client, api_error):
    comment_as(actions, claire, "Avis public.", urls.POST_A)
    before = actions.thread(urls.POST_A)
    profile_url = before.get_json()["comments"][0]["author"]["profile"]
    handle = profile_url.removeprefix(PROFILE_PREFIX)
    assert client.get(f"/api/members/{handle}").status_code == 200

    account = client.patch("/api/account", json={"public_profile": False}, headers=claire.headers).get_json()
    assert account["account"]["public_profile"] is False and account["account"]["profile"] is None

    hidden = client.get(f"/api/members/{handle}")
    unknown = client.get("/api/members/0123456789abcdef")
    api_error(hidden, 404, "unknown_member")
    assert hidden.get_data() == unknown.get_data()
    assert client.get(f"/membres/{handle}").get_data() == client.get("/membres/0123456789abcdef").get_data()
    assert client.get(f"/membres/{handle}").status_code == 404

    after = actions.thread(urls.POST_A, etag=before.headers["ETag"])
    assert after.status_code == 200, "the cached thread got a new version"
    assert "profile" not in after.get_json()["comments"][0]["author"]
    assert profile_url not in client.get("/thread", query_string={"url": urls.POST_A}).get_data(as_text=True)
    assert profile_url not in client.get("/feeds/recent.atom").get_data(as_text=True)

    client.patch("/api/account", json={"public_profile": True}, headers=claire.headers)
    assert actions.thread(urls.POST_A).get_json()["comments"][0]["author"]["profile"] == profile_url
    assert client.get(f"/api/members/{handle}").status_code == 200


def test_the_account_page_sets_profil_public_without_js(kit, claire, actions, urls, client):
    comment_as(actions, claire, "Avis.", urls.POST_A)
    client.set_cookie("confreres_session", kit_cookie(kit, claire))
    page = client.get("/account")
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    box = soup.find("input", id="f-public_profile")
    assert box.has_attr("checked") and soup.find("label", attrs={"for": "f-public_profile"}).get_text() == "Profil public"
    profile_url = soup.find("a", string="voir mon profil")["href"]
    assert client.get(local(profile_url)).status_code == 200

    form = {"display_name": "Plume de garde", "notify_comments": "immediate", "show_specialty": "1"}
    assert actions.submit(page, "/account", **form).status_code == 303  # box left unticked
    assert kit.sql("SELECT profile_public FROM accounts WHERE id = ?", (claire.id,))[0]["profile_public"] == 0
    assert client.get(local(profile_url)).status_code == 404
    again = BeautifulSoup(client.get("/account").get_data(as_text=True), "html.parser")
    assert not again.find("input", id="f-public_profile").has_attr("checked")

    bad = actions.submit(client.get("/account"), "/account", **{**form, "notify_comments": "parfois"}, public_profile="1")
    assert bad.status_code == 400
    assert BeautifulSoup(bad.get_data(as_text=True), "html.parser").find("input", id="f-public_profile").has_attr("checked")


def test_bad_input_is_a_json_error(kit, claire, actions, urls, client, api_error):
    comment_as(actions, claire, "Avis.", urls.POST_A)
    handle = actions.thread(urls.POST_A).get_json()["comments"][0]["author"]["profile"].removeprefix(PROFILE_PREFIX)
    api_error(client.get(f"/api/members/{handle}?page=0"), 400, "invalid_param", "page")
    api_error(client.get(f"/api/members/{handle}?page=abc"), 400, "invalid_param", "page")
    api_error(client.get("/api/members/1"), 404, "unknown_member")
    api_error(client.get("/api/members/" + "A" * 16), 404, "unknown_member")
    assert client.get(f"/membres/{handle}?page=-1").status_code == 400
    api_error(client.patch("/api/account", json={"public_profile": "oui"}, headers=claire.headers), 400,
              "invalid_type", "public_profile")


def test_older_comments_are_one_link_away(kit, claire, actions, urls, client):
    ids = [comment_as(actions, claire, f"Commentaire numéro {n}", urls.POST_B)["id"] for n in range(23)]
    for age, comment_id in enumerate(reversed(ids)):
        actions.age(comment_id, age + 1)
    handle = actions.thread(urls.POST_B).get_json()["comments"][0]["author"]["profile"].removeprefix(PROFILE_PREFIX)
    first = client.get(f"/api/members/{handle}").get_json()
    assert [c["id"] for c in first["comments"]] == ids[::-1][:20]
    second = client.get(local(first["next"])).get_json()
    assert [c["id"] for c in second["comments"]] == ids[::-1][20:] and second["next"] is None

    soup = BeautifulSoup(client.get(f"/membres/{handle}").get_data(as_text=True), "html.parser")
    older = soup.find("a", string="Plus anciens")
    assert older["href"] == "?page=2" and soup.find("a", string="Plus récents") is None
    page2 = BeautifulSoup(client.get(f"/membres/{handle}{older['href']}").get_data(as_text=True), "html.parser")
    assert len(page2.select(".profile-comments li")) == 3 and page2.find("a", string="Plus récents")


def test_handles_are_random_and_given_to_existing_accounts(tmp_path):
    """m006 gives every existing account a random handle; a trigger gives one to each new account."""
    path = str(tmp_path / "old.sqlite3")
    db = connect(path)
    migrations.apply(db, stop_before="m006_member_profiles")
    for n in range(3):
        db.execute("INSERT INTO accounts (email, created) VALUES (?, '2024-01-01T00:00:00Z')", (f"a{n}@x.test",))
    db.conn.commit()
    from comments_service.core.migrations import migrate

    migrate(db)
    assert migrations.pending(db) == []
    db.execute("INSERT INTO accounts (email, created) VALUES ('new@x.test', '2024-01-02T00:00:00Z')")
    db.conn.commit()
    handles = [r[0] for r in db.execute("SELECT public_id FROM accounts ORDER BY id").fetchall()]
    db.close()
    assert len(set(handles)) == 4 and all(re.fullmatch(r"[0-9a-f]{16}", h) for h in handles)
    assert handles != sorted(handles) or len({h[:4] for h in handles}) == 4, "no visible ordering"
    with pytest.raises(sqlite3.IntegrityError):
        conn = sqlite3.connect(path)
        conn.execute("UPDATE accounts SET public_id = ? WHERE email = 'new@x.test'", (handles[0],))


def test_a_profile_leaves_out_threads_that_answer_404(kit, claire, actions, urls, client, network_file):
    """As /api/counts and the feeds: no comment on a post its blog removed, nor of a blog removed from
    network.toml, in the list or in the count."""
    from tests.comments_service.actions.test_posts import put
    from tests.comments_service.web.test_api_counts import without_blog_b

    kept = comment_as(actions, claire, "Sur le premier billet.", urls.POST_A)
    comment_as(actions, claire, "Sur le second billet.", urls.POST_A2)
    comment_as(actions, claire, "Sur le blog B.", urls.POST_B)
    handle = actions.thread(urls.POST_A).get_json()["comments"][0]["author"]["profile"].removeprefix(PROFILE_PREFIX)
    assert client.get(f"/api/members/{handle}").get_json()["member"]["comment_count"] == 3

    without_blog_b(actions.app, network_file)
    assert actions.thread(urls.POST_B).status_code == 404
    one_post = {"url": urls.POST_A, "title": "Premier billet", "date": "2024-03-01"}
    assert put(client, "dr-a", {"posts": [one_post]}).get_json()["unlisted"] == 3  # the second billet among them
    assert actions.thread(urls.POST_A2).status_code == 404

    doc = client.get(f"/api/members/{handle}").get_json()
    assert doc["member"]["comment_count"] == 1 and [c["id"] for c in doc["comments"]] == [kept["id"]]
    page = client.get(f"/membres/{handle}").get_data(as_text=True)
    assert "Sur le premier billet." in page and "Sur le blog B." not in page and "Sur le second billet." not in page
