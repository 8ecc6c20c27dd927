"""The no-JS path: server-rendered thread page, plain form with CSRF token, 303 after success, 400 on errors."""

import re

import pytest
from bs4 import BeautifulSoup


def open_thread(client, url, **params):
    response = client.get("/thread", query_string={"url": url, **params})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response, BeautifulSoup(response.get_data(as_text=True), "html.parser")


def comment_form(soup):
    """The comment form (each comment also has its report form)."""
    return soup.find("form", action=re.compile(r"/thread$"))


def form_fields(soup) -> dict:
    form = comment_form(soup)
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
    form = comment_form(soup)
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
    # shown to its writer only (the edit token kept in this browser's cookie, as the widget keeps it), marked waiting
    assert "Première fois ici" in page and "En attente de validation par l'auteur du blog : seul·e vous le voyez" in page
    stranger = client.application.test_client()
    assert "Première fois ici" not in stranger.get(response.headers["Location"]).get_data(as_text=True)  # not public


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


# -- « Signaler » without JavaScript ---------------------------------------------------------------------------

def report_form(soup, comment_id):
    """The report form of a comment (a <form> of its own, in the comment's <li>)."""
    item = soup.find("li", id=f"comment-{comment_id}")
    return item.find("form", action=re.compile(r"/signaler$"))


def send_report(client, soup, comment_id, **fields):
    form = report_form(soup, comment_id)
    hidden = {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}
    return client.post(form["action"], data={**hidden, **fields})


def test_every_comment_has_a_labelled_report_form_that_names_it(actions, client, urls):
    zoe = actions.comment("Premier avis", url=urls.POST_B, author="Zoé")["comment"]["id"]
    anne = actions.comment("Second avis", url=urls.POST_B, author="Anne")["comment"]["id"]
    _, soup = open_thread(client, urls.POST_B)
    for comment_id, named in ((zoe, "Signaler le commentaire de Zoé"), (anne, "Signaler le commentaire d'Anne")):
        form = report_form(soup, comment_id)
        assert form["method"] == "post" and form.find_parent("details") is not None  # folded, opened without script
        reason = form.find("textarea", attrs={"name": "reason"})
        label = soup.find("label", attrs={"for": reason["id"]})
        assert label is not None and "Motif du signalement" in label.get_text()
        assert reason["maxlength"] == "1000" and reason.has_attr("required")
        assert form.find("button", type="submit").get_text() == named
        assert form.find("input", attrs={"name": "csrf"})["value"]
        assert form.find_parent("details").find("summary").get_text() == named


def test_a_report_from_the_page_is_the_apis(app, actions, client, urls):
    """Same validation, effect and event as POST /api/comments/<id>/report; a confirmation beside the comment."""
    from comments_service.core import events

    heard = []
    events.register(app, lambda name, data: heard.append((name, data)))
    cid = actions.comment("Un avis", url=urls.POST_B, author="Zoé")["comment"]["id"]
    _, soup = open_thread(client, urls.POST_B)
    response = send_report(client, soup, cid, reason="Secret médical :\r\nle patient est reconnaissable.")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/thread?") and f"signale={cid}" in location and location.endswith("#merci")
    page = BeautifulSoup(client.get(location).get_data(as_text=True), "html.parser")
    notice = page.find(id="merci")
    assert notice.get_text() == "Merci : votre signalement a été transmis à la modération."
    assert notice["role"] == "status" and notice.find_parent("li")["id"] == f"comment-{cid}"  # beside the comment
    rows = actions.sql("SELECT comment_id, reason, ip_hash FROM reports")
    assert [(r["comment_id"], r["reason"]) for r in rows] == [(cid, "Secret médical : le patient est reconnaissable.")]
    assert rows[0]["ip_hash"]
    assert ("comment.reported", {"comment_id": cid, "report_id": 1}) in heard
    # one report per reader and comment, from the page or the API
    assert send_report(client, soup, cid, reason="Encore").status_code == 303
    assert client.post(f"/api/comments/{cid}/report", json={"reason": "Et encore"}).get_json()["report"] == 1
    assert len(actions.sql("SELECT id FROM reports")) == 1


@pytest.mark.parametrize(("reason", "words"), [("", "Indiquez le motif"), ("x" * 1001, "trop long")], ids=["empty", "too-long"])
def test_a_refused_report_comes_back_open_with_the_reason_and_why(actions, client, urls, reason, words):
    actions.comment("Un autre avis", url=urls.POST_B, author="Marc")
    cid = actions.comment("Un avis", url=urls.POST_B, author="Zoé")["comment"]["id"]
    _, soup = open_thread(client, urls.POST_B)
    response = send_report(client, soup, cid, reason=reason)
    assert response.status_code == 400
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    summary = page.find(id="erreurs-signalement")
    assert summary["role"] == "alert" and words in summary.get_text()
    assert summary.find("a")["href"] == f"#f-reason-{cid}" and dead_links(page, summary) == []
    form = report_form(page, cid)
    assert form.find_parent("details").has_attr("open")
    field = form.find("textarea")
    assert field.get_text() == reason and field["aria-invalid"] == "true"
    assert words in page.find(id=field["aria-describedby"].split()[-1]).get_text()
    assert page.find_all("details", open=True) == [form.find_parent("details")]  # only that one is open
    assert page.find(id="erreurs") is None  # the comment form is not in error
    assert actions.sql("SELECT COUNT(*) FROM reports")[0][0] == 0


def dead_links(page, block) -> list[str]:
    return [a["href"] for a in block.find_all("a", href=True) if page.find(id=a["href"][1:]) is None]


def test_a_report_without_a_valid_token_keeps_the_reason(actions, app, urls):
    cid = actions.comment("Un avis", url=urls.POST_B, author="Zoé")["comment"]["id"]
    client = app.test_client()
    _, soup = open_thread(client, urls.POST_B)
    other = app.test_client()  # another browser: no CSRF cookie, the token is not its own
    form = report_form(soup, cid)
    hidden = {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}
    response = other.post("/signaler", data={**hidden, "reason": "Propos injurieux"})
    assert response.status_code == 403
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert "expiré" in page.find(id="erreurs-signalement").get_text()
    assert report_form(page, cid).find("textarea").get_text() == "Propos injurieux"
    assert actions.sql("SELECT COUNT(*) FROM reports")[0][0] == 0
    # a comment form's token is not a report's
    comment_token = form_fields(soup)["csrf"]
    assert client.post("/signaler", data={**hidden, "csrf": comment_token, "reason": "x"}).status_code == 403


def test_reporting_a_comment_that_is_not_on_the_thread(actions, client, urls):
    here = actions.comment("Ici", url=urls.POST_B, author="Zoé")["comment"]["id"]
    elsewhere = actions.approved_comment("Ailleurs", url=urls.POST_A)["comment"]["id"]
    _, soup = open_thread(client, urls.POST_B)
    for wrong in (str(elsewhere), "999", "abc"):
        response = send_report(client, soup, here, comment=wrong, reason="Spam")
        assert response.status_code == 404
        page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        summary = page.find(id="erreurs-signalement")
        assert "n'existe pas" in summary.get_text() and summary.find("a") is None  # no form of it to link to
    assert actions.sql("SELECT COUNT(*) FROM reports")[0][0] == 0


def test_a_report_comes_back_to_the_page_of_its_comment(make_app, urls):
    from tests.conftest import Actions

    app = make_app(THREAD_PAGE_SIZE=1)
    client = app.test_client()
    steps = Actions(app, client)
    steps.comment("Premier", url=urls.POST_B)
    second = steps.comment("Second", url=urls.POST_B, author="Zoé")["comment"]["id"]
    _, soup = open_thread(client, urls.POST_B, page=2)
    assert send_report(client, soup, second, reason="").status_code == 400
    response = send_report(client, soup, second, reason="Publicité")
    assert "page=2" in response.headers["Location"]
    page = BeautifulSoup(client.get(response.headers["Location"]).get_data(as_text=True), "html.parser")
    assert page.find(id="merci").find_parent("li")["id"] == f"comment-{second}"


# -- one's own comment without JavaScript (browser walk: tests/e2e/test_no_javascript.py) ---------------------------

def session_cookie(app, email: str, name: str) -> str:
    from comments_service.core.db import connect
    from comments_service.domain import accounts

    db = connect(app.config["DB"])
    try:
        row, _ = accounts.ensure_account(db, email, display_name=name)
        return accounts.create_session(db, row["id"], "cookie", 30)[0]
    finally:
        db.close()


def modify_link(soup):
    return next((a for a in soup.find_all("a") if a.get_text().startswith("Modifier")), None)


def own_form(soup, action: str) -> dict:
    form = soup.find("form", action=lambda a: a and a.endswith(action))
    assert form is not None, soup.get_text()[:2000]
    return {i["name"]: i.get("value", "") for i in form.find_all("input")}


def test_a_member_edits_their_comment_from_another_device(app, urls):
    """Signed in, the session proves the comment is theirs (no edit token in that browser), as in the widget;
    another account's session does not."""
    token = session_cookie(app, "lea@exemple.fr", "Léa Membre")
    writer = app.test_client()
    writer.set_cookie("confreres_session", token)
    _, soup = open_thread(writer, urls.POST_B)
    assert submit(writer, soup, text="Écrit depuis le cabinet.").status_code == 303

    elsewhere = app.test_client()  # the same account, another browser: no edit cookie
    elsewhere.set_cookie("confreres_session", token)
    _, soup = open_thread(elsewhere, urls.POST_B)
    link = modify_link(soup)
    assert link is not None and "modifier=" in link["href"]
    response = elsewhere.get("/thread" + link["href"])
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert page.find(id="f-edit").get_text() == "Écrit depuis le cabinet."
    response = elsewhere.post("/modifier", data={**own_form(page, "/modifier"), "text": "Écrit depuis la maison."})
    assert response.status_code == 303 and "merci=edited" in response.headers["Location"]
    assert "Écrit depuis la maison." in elsewhere.get(response.headers["Location"]).get_data(as_text=True)

    other = app.test_client()  # another member: no « Modifier », and the form refused
    other.set_cookie("confreres_session", session_cookie(app, "paul@exemple.fr", "Paul Membre"))
    _, soup = open_thread(other, urls.POST_B)
    assert modify_link(soup) is None
    comment_id = int(page.find("form", class_="edit").find("input", attrs={"name": "comment"})["value"])
    csrf = own_form(page, "/modifier")["csrf"]
    other.set_cookie("confreres_csrf", elsewhere.get_cookie("confreres_csrf").value)  # even with a valid form token
    response = other.post("/modifier", data={"csrf": csrf, "url": urls.POST_B, "comment": comment_id, "text": "Volé."})
    assert response.status_code == 403
    said = BeautifulSoup(response.get_data(as_text=True), "html.parser").find(id="erreurs").get_text()
    assert "Ce commentaire n'a pas été écrit depuis ce compte." in said
    response = other.post("/supprimer", data={"csrf": csrf, "url": urls.POST_B, "comment": comment_id})
    assert response.status_code == 403
    assert "Écrit depuis la maison." in app.test_client().get("/thread", query_string={"url": urls.POST_B}).get_data(
        as_text=True)


def test_own_comment_once_the_window_is_over(app, client, urls):
    """Past the edit window, « Modifier » and « Supprimer » are gone, and a form kept open is refused with why."""
    _, soup = open_thread(client, urls.POST_B)
    assert submit(client, soup, text="Vite écrit.", author="Marc").status_code == 303
    _, soup = open_thread(client, urls.POST_B)
    form = own_form(soup, "/supprimer")
    app.config["EDIT_WINDOW"] = 0
    _, soup = open_thread(client, urls.POST_B)
    assert soup.find("details", class_="delete") is None and soup.find(class_="own") is None
    response = client.post("/supprimer", data=form)
    assert response.status_code == 403
    text = BeautifulSoup(response.get_data(as_text=True), "html.parser").find(id="erreurs").get_text()
    assert "délai de modification" in text
    assert "Vite écrit." in client.get("/thread", query_string={"url": urls.POST_B}).get_data(as_text=True)


def test_the_edit_cookie_keeps_the_last_comments_of_this_browser(client, urls):
    """Several comments from one browser, on two threads: each keeps its « Modifier » (the cookie holds them all)."""
    for url, text in ((urls.POST_B, "Premier envoi."), (urls.POST_A, "Deuxième envoi."), (urls.POST_B, "Troisième.")):
        _, soup = open_thread(client, url)
        assert submit(client, soup, text=text, author="Marc").status_code == 303
    for url, count in ((urls.POST_B, 2), (urls.POST_A, 1)):
        _, soup = open_thread(client, url)
        assert len(soup.find_all("details", class_="delete")) == count, url


def test_signing_out_forgets_the_edit_cookie(app, urls):
    """A member who signs out on a shared computer (a hospital's): whoever uses that browser next gets neither
    « Modifier » nor « Supprimer » on their comment, nor their waiting comment, and cannot post the forms."""
    writer = app.test_client()
    writer.set_cookie("confreres_session", session_cookie(app, "lea@exemple.fr", "Léa Membre"))
    _, soup = open_thread(writer, urls.POST_B)
    assert submit(writer, soup, text="Écrit par Léa au service.").status_code == 303
    _, soup = open_thread(writer, urls.POST_B)
    delete_form = own_form(soup, "/supprimer")
    signout = soup.find("form", action=lambda a: a and a.endswith("/auth/signout"))
    response = writer.post(signout["action"], data={i["name"]: i.get("value", "") for i in signout.find_all("input")})
    assert response.status_code == 303
    assert writer.get_cookie("confreres_edits") is None
    _, soup = open_thread(writer, urls.POST_B)  # the next person at that computer
    assert "Écrit par Léa au service." in soup.get_text()
    assert modify_link(soup) is None and soup.find("details", class_="delete") is None
    comment_id = delete_form["comment"]
    assert "f-edit" not in writer.get("/thread", query_string={"url": urls.POST_B, "modifier": comment_id}).get_data(
        as_text=True)
    assert writer.post("/supprimer", data=delete_form).status_code == 403  # its form kept (CSRF still good): not hers
    assert writer.post("/modifier", data={**delete_form, "text": "Réécrit par un autre."}).status_code == 403
    assert "Écrit par Léa au service." in app.test_client().get("/thread", query_string={"url": urls.POST_B}).get_data(
        as_text=True)
