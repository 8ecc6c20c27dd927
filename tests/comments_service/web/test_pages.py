"""The no-JS path: server-rendered thread page, plain form with CSRF token, 303 after success, 400 on errors."""

import re

import pytest
from bs4 import BeautifulSoup


def open_thread(client, url, **params):
    response = client.get("/thread", query_string={"url": url, **params})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response, BeautifulSoup(response.get_data(as_text=True), "html.parser")


def form_fields(soup) -> dict:
    form = soup.find("form")
    return {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("type") != "checkbox"}


def submit(client, soup, **fields):
    data = {**form_fields(soup), **fields}
    return client.post("/thread", data=data)


def test_page_shows_thread_and_form(actions, client, urls):
    actions.comment("Premier **avis**", url=urls.POST_B, author="Zoé")
    response, soup = open_thread(client, urls.POST_B)
    assert soup.html["lang"] == "fr"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert soup.find("h1").text == "Commentaires sur « Billet B »"
    comment = soup.find("li", class_="comment")
    assert comment.find("strong").text == "avis"
    assert comment.find(class_="author").text.strip() == "Zoé"
    form = soup.find("form")
    assert form["method"] == "post"
    fields = form_fields(soup)
    assert fields["csrf"] and fields["url"] == urls.POST_B
    for name in ("text", "author", "email", "website"):
        assert soup.find(id=f"f-{name}") is not None
        assert soup.find("label", attrs={"for": f"f-{name}"}) is not None  # every field labelled
    text = soup.get_text()
    assert "Secret médical" in text and "Markdown" in text
    assert soup.find("a", string=re.compile("Charte")) is not None
    reply = [a for a in soup.find_all("a") if a.get_text().startswith("Répondre")]
    assert reply and reply[0]["href"].endswith("#form") and "parent=" in reply[0]["href"]


def test_post_success_redirects_303_with_confirmation(client, urls):
    _, soup = open_thread(client, urls.POST_B)
    response = submit(client, soup, text="Merci docteur", author="Marc")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/thread?") and "merci=approved" in location and "#comment-" in location
    page = client.get(location)
    assert "Merci ! Votre commentaire est publié." in page.get_data(as_text=True)
    assert "Merci docteur" in page.get_data(as_text=True)


def test_pending_confirmation(client, urls):
    _, soup = open_thread(client, urls.POST_A)
    response = submit(client, soup, text="Première fois ici")
    assert "merci=pending" in response.headers["Location"]
    page = BeautifulSoup(client.get(response.headers["Location"]).get_data(as_text=True), "html.parser").get_text()
    assert "attend la validation de l'auteur du blog" in page
    assert "Première fois ici" not in page  # not public yet


def test_reply_link_sets_the_parent(actions, client, urls):
    root = actions.comment("Racine", url=urls.POST_B, author="Zoé")
    _, soup = open_thread(client, urls.POST_B, parent=root["comment"]["id"])
    assert form_fields(soup)["parent"] == str(root["comment"]["id"])
    assert "Répondre à Zoé" in soup.get_text()
    response = submit(client, soup, text="Une réponse")
    assert response.status_code == 303
    thread = actions.thread(urls.POST_B).get_json()
    assert thread["comments"][0]["replies"][0]["html"] == "<p>Une réponse</p>"


def test_errors_reshow_the_form_with_what_was_typed(client, urls):
    _, soup = open_thread(client, urls.POST_B)
    typed = "Un long texte que je ne veux pas perdre <b>"
    response = submit(client, soup, text=typed, email="pas-un-email", website="javascript:alert(1)", author="Lou")
    assert response.status_code == 400
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert page.find("textarea").text == typed
    assert page.find(id="f-author")["value"] == "Lou"
    errors = page.find(class_="errors")
    assert errors["role"] == "alert"
    messages = errors.get_text()
    assert "e-mail" in messages and "http://" in messages
    assert page.find(id="f-email")["aria-invalid"] == "true"
    assert form_fields(page)["csrf"]  # a fresh token to try again


def test_the_textareas_maxlength_is_the_servers(actions, client, urls, api_error):
    """A browser sends a textarea's line breaks as "\r\n" while its maxlength counts each as one character: the
    form takes what the page lets a reader type; the JSON API counts what is sent, as its document says."""
    full = "ligne\n" * 1666 + "fin."
    assert len(full) == 10_000
    _, soup = open_thread(client, urls.POST_B)
    response = submit(client, soup, text=full.replace("\n", "\r\n"), author="Lou")
    assert response.status_code in (200, 303), response.get_data(as_text=True)[:500]
    assert actions.sql("SELECT length(text) FROM comments")[0][0] == len(full.strip())
    api_error(actions.post(full.replace("\n", "\r\n"), url=urls.POST_B), 400, "too_long", "text")
    api_error(actions.post("x" * 9_999 + " \x00", url=urls.POST_B), 400, "too_long", "text")


@pytest.mark.parametrize("character", ["€", "😷"])
def test_a_full_textarea_of_accents_or_emoji_is_taken_not_a_413(actions, client, urls, character):
    """10,000 characters, the textarea's maxlength: percent-encoded, « € » is 9 bytes, « 😷 » 12: over the API's
    64 KB cap, which answered a bare 413 page and lost the text."""
    _, soup = open_thread(client, urls.POST_B)
    response = submit(client, soup, text=character * 10_000, author="Lou")
    assert response.status_code in (200, 303), response.get_data(as_text=True)[:500]
    assert actions.sql("SELECT length(text) FROM comments")[0][0] == 10_000
    assert client.post("/thread", data={"text": "x" * 400_000}).status_code == 413  # still a cap


def test_empty_text_is_an_error(client, urls):
    _, soup = open_thread(client, urls.POST_B)
    response = submit(client, soup, text="   ")
    assert response.status_code == 400
    assert "Le texte du commentaire est vide." in response.get_data(as_text=True)


def test_bad_or_missing_csrf_is_refused(actions, client, urls):
    _, soup = open_thread(client, urls.POST_B)
    response = submit(client, soup, csrf="forged", text="Tentative")
    assert response.status_code == 403
    assert "Tentative" in response.get_data(as_text=True)  # the text is not lost
    assert actions.sql("SELECT COUNT(*) FROM comments")[0][0] == 0


def test_csrf_is_bound_to_the_browser(app, urls):
    alice = app.test_client()
    mallory = app.test_client()
    _, soup = open_thread(mallory, urls.POST_B)
    token = form_fields(soup)["csrf"]
    open_thread(alice, urls.POST_B)  # alice has her own cookie
    response = alice.post("/thread", data={"url": urls.POST_B, "csrf": token, "text": "Forgé"})
    assert response.status_code == 403


def test_csrf_is_bound_to_the_thread(client, urls):
    _, soup = open_thread(client, urls.POST_B)
    response = submit(client, soup, url=urls.POST_A, text="Ailleurs")
    assert response.status_code == 403


def test_csrf_expires(make_app, urls):
    client = make_app(CSRF_MAX_AGE=-1).test_client()
    _, soup = open_thread(client, urls.POST_B)
    assert submit(client, soup, text="Trop tard").status_code == 403


def test_honeypot_form(actions, client, urls):
    _, soup = open_thread(client, urls.POST_B)
    response = submit(client, soup, text="Spam", confreres_hp="https://spam.example/")
    assert response.status_code == 303 and "merci=pending" in response.headers["Location"]
    assert actions.sql("SELECT COUNT(*) FROM comments")[0][0] == 0


def test_duplicate_and_closed_show_the_error(actions, client, urls):
    _, soup = open_thread(client, urls.POST_B)
    assert submit(client, soup, text="Deux fois").status_code == 303
    response = submit(client, soup, text="Deux fois")
    assert response.status_code == 409 and "déjà envoyé" in response.get_data(as_text=True)
    _, closed = open_thread(client, urls.POST_CLOSED)
    assert closed.find("form") is None
    assert "Commentaires fermés" in closed.get_text()


def test_notify_checkbox_needs_an_email(client, urls):
    _, soup = open_thread(client, urls.POST_B)
    response = submit(client, soup, text="Prévenez-moi", notify="1")
    assert response.status_code == 400
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert page.find(id="f-notify").has_attr("checked")
    assert submit(client, page, text="Prévenez-moi", notify="1", email="a@exemple.fr").status_code == 303


@pytest.mark.parametrize("url", ["https://ailleurs.example/x", "http://blogs.test/dr-a/inconnu.html"])
def test_unknown_threads_404(client, url):
    assert client.get("/thread", query_string={"url": url}).status_code == 404
    assert client.post("/thread", data={"url": url, "text": "x"}).status_code == 404


def test_deep_threads_flatten_below_depth_5(actions, client, urls):
    parent = actions.comment("Niveau 1", url=urls.POST_B)
    for depth in range(2, 9):
        parent = actions.comment(f"Niveau {depth}", url=urls.POST_B, parent=parent["comment"]["id"])
    _, soup = open_thread(client, urls.POST_B)
    deepest = soup.find(string=re.compile("Niveau 8")).find_parent("li")
    assert len(deepest.find_parents("ol", class_="replies")) == 4


def test_placeholder_and_dates(actions, client, urls):
    root = actions.comment("Racine", url=urls.POST_B)
    actions.comment("Réponse", url=urls.POST_B, parent=root["comment"]["id"])
    actions.delete(root["comment"]["id"], root["edit_token"])
    _, soup = open_thread(client, urls.POST_B)
    assert "Commentaire supprimé." in soup.get_text()
    time = soup.find("time")
    assert re.match(r"\d{4}-\d\d-\d\dT", time["datetime"]) and " à " in time.text


def test_charter_page(client):
    response = client.get("/charte")
    assert response.status_code == 200 and "Secret médical".lower() in response.get_data(as_text=True).lower()


# -- error links -------------------------------------------------------------------------------------------------

def dead_error_links(page) -> list[str]:
    """The links of the error summary whose target is not on the page."""
    links = [a["href"] for a in page.find(id="erreurs").find_all("a", href=True)]
    return [href for href in links if href.startswith("#") and page.find(id=href[1:]) is None]


@pytest.mark.parametrize("parent", ["abc", "999"])
def test_an_error_on_the_parent_is_said_without_a_dead_link(actions, client, urls, parent):
    """There is no field for the comment answered: an error on `parent` linked to #f-parent, which no element has."""
    _, soup = open_thread(client, urls.POST_B)
    response = submit(client, soup, text="Une réponse", parent=parent)
    assert response.status_code in (400, 404), response.status_code
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert page.find(id="erreurs").find("li").get_text().strip()
    assert dead_error_links(page) == []


@pytest.mark.parametrize(("signed_in", "name"), [(False, None), (True, None), (True, "Dr Pseudo")])
def test_every_error_link_of_the_thread_form_has_its_field(app, urls, signed_in, name):
    """Whatever field an error names, its link goes to an element of the page, or there is no link: signed in, the
    form shows no e-mail nor reply box (and no name field once the account has one)."""
    from comments_service.core.db import connect, get_db
    from comments_service.core.errors import ApiError
    from comments_service.domain import accounts
    from comments_service.domain.posts import find_post
    from comments_service.web import pages

    headers = {}
    if signed_in:
        db = connect(app.config["DB"])
        try:
            row, _ = accounts.ensure_account(db, "lea@exemple.fr", display_name=name)
            token, _ = accounts.create_session(db, row["id"], "cookie", 30)
        finally:
            db.close()
        headers["Cookie"] = f"confreres_session={token}"
    fields = (*pages.FORM_FIELDS, "url", None)
    errors = [ApiError(400, "invalid", f"Erreur sur {field}.", field) for field in fields]
    with app.test_request_context("/thread", headers=headers):
        response = pages._render(find_post(get_db(), app.extensions["confreres_network"], urls.POST_B),
                                 errors=errors, status=400)
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert ("Connecté·e" in page.get_text()) is signed_in
    assert len(page.find(id="erreurs").find_all("li")) == len(fields)  # every error said
    assert dead_error_links(page) == []
    assert page.find(id="erreurs").find("a", href="#f-text") is not None  # the links that can be, are
