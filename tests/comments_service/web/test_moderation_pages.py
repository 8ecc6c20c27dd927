"""Moderation by blog authors and network moderators: the page, the API, reports, cache invalidation."""

import pytest
from bs4 import BeautifulSoup

from tests.conftest import Actions


@pytest.fixture
def app(make_app, smtp):
    return make_app(**smtp.config, MODERATION="all")


@pytest.fixture
def browser(actions):
    """Another browser of the same network (its own cookies), signed in as `email` when asked."""

    def open_browser(email=None, **account):
        other = Actions(actions.app, actions.app.test_client(), actions.mailbox)
        if email:
            other.make_account(email, **account)
            assert other.sign_in(email).status_code == 303
        return other

    return open_browser


@pytest.fixture
def pending(actions, urls):
    """One pending comment on each blog, by guests."""
    return {
        "a": actions.comment("Sur le blog A", url=urls.POST_A, author="Lecteur A", email="lecteur.a@exemple.fr"),
        "b": actions.comment("Sur le blog B", url=urls.POST_B, author="Lectrice B", email="lectrice.b@exemple.fr"),
    }


def test_an_author_sees_the_queue_of_their_blogs_only(browser, pending):
    anne = browser("anne@dr-a.test", role="author", sites=["dr-a"], name="Dr Anne A")
    queue = anne.client.get("/api/moderation/queue").get_json()
    assert queue["sites"] == ["dr-a"]
    assert [item["id"] for item in queue["items"]] == [pending["a"]["comment"]["id"]]
    item = queue["items"][0]
    assert item["author"]["email"] == "lecteur.a@exemple.fr", "private page: the moderator sees the e-mail"
    assert item["post"]["title"] == "Premier billet" and item["status"] == "pending"

    page = anne.client.get("/moderation").get_data(as_text=True)
    assert "Sur le blog A" in page and "lecteur.a@exemple.fr" in page and "Premier billet" in page
    assert "Sur le blog B" not in page and "lectrice.b@exemple.fr" not in page
    for label in ("Approuver", "Rejeter", "Spam", "Supprimer"):
        assert label in page
    spam = BeautifulSoup(page, "html.parser").find("button", attrs={"name": "action", "value": "spam"})
    assert spam["aria-label"] == "Classer comme spam le commentaire de Lecteur A", (
        "a screen reader reads a sentence, not « Spam le commentaire de … »"
    )


def test_a_network_moderator_sees_every_blog(browser, pending):
    mod = browser("mod@confreres.test", role="moderator")
    queue = mod.client.get("/api/moderation/queue").get_json()
    assert queue["sites"] is None and queue["total"] == 2


def test_a_member_has_no_queue(browser, api_error, pending):
    reader = browser("lecteur@exemple.fr")
    api_error(reader.client.get("/api/moderation/queue"), 403, "not_moderator")
    assert reader.client.get("/moderation").status_code == 403
    api_error(reader.client.post(f"/api/moderation/{pending['a']['comment']['id']}", json={"action": "approve"}), 403)


def test_signed_out_visitors_are_sent_to_sign_in(client, api_error):
    response = client.get("/moderation")
    assert response.status_code == 303 and "/auth?return=/moderation" in response.headers["Location"]
    api_error(client.get("/api/moderation/queue"), 401, "not_signed_in")


def test_an_author_cannot_moderate_another_blog(browser, pending, api_error):
    anne = browser("anne@dr-a.test", role="author", sites=["dr-a"])
    api_error(anne.client.post(f"/api/moderation/{pending['b']['comment']['id']}", json={"action": "approve"}), 403, "not_moderator")


def test_approving_through_the_api_publishes_and_changes_the_etag(actions, browser, pending, urls, api_error):
    anne = browser("anne@dr-a.test", role="author", sites=["dr-a"])
    before = actions.thread(urls.POST_A)
    assert before.get_json()["total"] == 0
    etag = before.headers["ETag"]
    assert actions.thread(urls.POST_A, etag=etag).status_code == 304

    comment_id = pending["a"]["comment"]["id"]
    done = anne.client.post(f"/api/moderation/{comment_id}", json={"action": "approve"})
    assert done.status_code == 200 and done.get_json() == {"id": comment_id, "action": "approve", "status": "approved"}
    after = actions.thread(urls.POST_A, etag=etag)
    assert after.status_code == 200, "the cached thread was invalidated"
    assert after.get_json()["total"] == 1
    assert actions.sql("SELECT moderated_by FROM comments WHERE id = ?", (comment_id,))[0][0] is not None
    assert anne.client.get("/api/moderation/queue").get_json()["total"] == 0

    api_error(anne.client.post(f"/api/moderation/{comment_id}", json={"action": "publish"}), 400, "invalid_choice", "action")
    api_error(anne.client.post(f"/api/moderation/{comment_id}", json={}), 400, "missing_field", "action")
    api_error(anne.client.post("/api/moderation/9999", json={"action": "approve"}), 404)
    api_error(anne.client.post(f"/api/moderation/{comment_id}", data="action=approve"), 415)


@pytest.mark.parametrize("action, status", [("reject", "rejected"), ("spam", "spam")])
def test_reject_and_spam_keep_the_comment_out(actions, browser, pending, urls, action, status):
    anne = browser("anne@dr-a.test", role="author", sites=["dr-a"])
    comment_id = pending["a"]["comment"]["id"]
    etag = actions.thread(urls.POST_A).headers["ETag"]
    assert anne.client.post(f"/api/moderation/{comment_id}", json={"action": action}).get_json()["status"] == status
    assert actions.sql("SELECT status FROM comments WHERE id = ?", (comment_id,))[0][0] == status
    assert actions.thread(urls.POST_A, etag=etag).status_code == 200
    assert actions.thread(urls.POST_A).get_json()["total"] == 0


def test_delete_removes_an_approved_comment_and_its_cache(actions, browser, urls):
    anne = browser("anne@dr-a.test", role="author", sites=["dr-a"])
    body = actions.approved_comment("Publié puis retiré", url=urls.POST_A)
    etag = actions.thread(urls.POST_A).headers["ETag"]
    done = anne.client.post(f"/api/moderation/{body['comment']['id']}", json={"action": "delete"})
    assert done.get_json()["status"] == "deleted"
    assert actions.thread(urls.POST_A, etag=etag).status_code == 200
    assert actions.thread(urls.POST_A).get_json()["total"] == 0


def test_the_page_buttons_work_without_javascript(actions, browser, pending, urls):
    anne = browser("anne@dr-a.test", role="author", sites=["dr-a"])
    page = anne.client.get("/moderation")
    comment_id = pending["a"]["comment"]["id"]
    done = anne.submit(page, f"/moderation/{comment_id}", action="approve")
    assert done.status_code == 303
    assert "Commentaire approuvé" in anne.client.get(done.headers["Location"]).get_data(as_text=True)
    assert actions.thread(urls.POST_A).get_json()["total"] == 1


@pytest.mark.parametrize("action, status", [("reject", "rejected"), ("spam", "spam"), ("delete", None)])
def test_every_page_button(actions, browser, pending, action, status):
    anne = browser("anne@dr-a.test", role="author", sites=["dr-a"])
    comment_id = pending["a"]["comment"]["id"]
    assert anne.submit(anne.client.get("/moderation"), f"/moderation/{comment_id}", action=action).status_code == 303
    rows = actions.sql("SELECT status FROM comments WHERE id = ?", (comment_id,))
    assert (rows[0][0] if rows else None) == status


def test_the_page_needs_its_csrf_token(actions, browser, pending):
    anne = browser("anne@dr-a.test", role="author", sites=["dr-a"])
    comment_id = pending["a"]["comment"]["id"]
    forged = anne.client.post(f"/moderation/{comment_id}", data={"action": "approve"})
    assert forged.status_code == 403
    _, fields = anne.form(anne.client.get("/moderation"), f"/moderation/{comment_id}")
    stolen = actions.client.post(f"/moderation/{comment_id}", data={**fields, "action": "approve"})
    assert stolen.status_code == 401 and "Approuver" not in stolen.get_data(as_text=True), (
        "no session in that browser: the sign-in page, its form shown back to no one (another browser's token)"
    )
    assert actions.sql("SELECT status FROM comments WHERE id = ?", (comment_id,))[0][0] == "pending"


def test_reported_comments_come_with_their_reasons(actions, browser, urls, client):
    anne = browser("anne@dr-a.test", role="author", sites=["dr-a"])
    body = actions.approved_comment("Mon voisin M. Dupont, diabétique, 54 ans", url=urls.POST_A)
    comment_id = body["comment"]["id"]
    report = client.post(f"/api/comments/{comment_id}/report", json={"reason": "Patient identifiable"})
    assert report.status_code == 201
    queue = anne.client.get("/api/moderation/queue").get_json()
    (item,) = queue["items"]
    assert item["id"] == comment_id and item["status"] == "approved"
    assert [r["reason"] for r in item["reports"]] == ["Patient identifiable"]
    assert "Patient identifiable" in anne.client.get("/moderation").get_data(as_text=True)

    anne.client.post(f"/api/moderation/{comment_id}", json={"action": "delete"})
    assert anne.client.get("/api/moderation/queue").get_json()["total"] == 0


def test_approving_a_reported_comment_dismisses_its_reports(actions, browser, urls, client):
    anne = browser("anne@dr-a.test", role="author", sites=["dr-a"])
    body = actions.approved_comment("Un avis tranché", url=urls.POST_A)
    client.post(f"/api/comments/{body['comment']['id']}/report", json={"reason": "Pas d'accord"})
    anne.client.post(f"/api/moderation/{body['comment']['id']}", json={"action": "approve"})
    assert anne.client.get("/api/moderation/queue").get_json()["total"] == 0
    assert actions.sql("SELECT resolved_by FROM reports")[0][0] is not None


def test_admin_create_bootstraps_an_author_who_can_moderate(confreres, browser, pending, actions):
    result = confreres("admin", "create", "anne@dr-a.test", "--site", "dr-a", "--name", "Dr Anne A")
    assert result.exit_code == 0, result.output
    assert "Compte créé : anne@dr-a.test (author), auteur de dr-a" in result.output
    again = confreres("admin", "create", "anne@dr-a.test", "--role", "moderator")
    assert "Compte mis à jour : anne@dr-a.test (moderator), auteur de dr-a" in again.output
    assert confreres("admin", "create", "root@confreres.test").output.startswith("Compte créé : root@confreres.test (admin)")
    listing = confreres("admin", "list").output
    assert "moderator  anne@dr-a.test  Dr Anne A  [dr-a]" in listing and "admin      root@confreres.test" in listing

    bad = confreres("admin", "create", "x@exemple.fr", "--site", "nulle-part")
    assert bad.exit_code != 0 and "nulle-part" in bad.output
    assert confreres("admin", "create", "pas-une-adresse").exit_code != 0

    anne = browser()
    assert anne.sign_in("anne@dr-a.test").status_code == 303
    assert anne.client.get("/api/moderation/queue").get_json()["total"] == 2, "a moderator now: every blog"


def test_hostile_fields_are_escaped_on_the_moderation_page(actions, browser, urls, client):
    anne = browser("anne@dr-a.test", role="author", sites=["dr-a"])
    body = actions.comment(
        "<script>window.__xss=1</script>**gras** <img src=x onerror=alert(1)>", url=urls.POST_A,
        author='<script>alert("nom")</script>', email="x@exemple.fr",
    )
    actions.approve(body["comment"]["id"])
    client.post(f"/api/comments/{body['comment']['id']}/report", json={"reason": '<img src=x onerror="alert(2)">'})
    page = anne.client.get("/moderation").get_data(as_text=True)
    assert "<script" not in page and "<img" not in page
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in page, "the report's reason, escaped"
    assert "&lt;script&gt;alert(&#34;nom&#34;)&lt;/script&gt;" in page
    assert "<strong>gras</strong>" in page
