"""The no-JS thread page with the service's own session: « Se connecter » (a magic link that comes back to the
thread), « Connecté·e : <name> » with the badge, a form that posts as the account, « Se déconnecter ». Also, on
the same real SMTP server: the notice to the holder of a number someone else declared."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from tests.comments_service.domain.test_verification import kit_cookie
from tests.comments_service.verification_kit import CANDIDATE, CLAIRE, Kit, import_people


@pytest.fixture
def app(make_app, smtp):
    return make_app(**smtp.config)


@pytest.fixture
def kit(app, client, tmp_path):
    import_people(app, tmp_path)
    return Kit(app, client)


def thread_page(client, url):
    response = client.get("/thread", query_string={"url": url})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def back_to(location: str) -> str:
    """The post of a `/thread?url=…` address (asserting that it is one)."""
    parts = urlsplit(location)
    assert parts.path == "/thread" and not parts.netloc, location
    return parse_qs(parts.query)["url"][0]


def field_names(response) -> set[str]:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    form = soup.find("form", action=re.compile(r"/thread$"))
    return {i.get("name") for i in form.find_all(["input", "textarea"])} if form else set()


def test_sign_in_from_the_thread_page_comment_as_the_account_and_sign_out(actions, client, smtp, urls):
    page = thread_page(client, urls.POST_A)
    html = page.get_data(as_text=True)
    assert "Connecté" not in html and {"author", "email", "notify"} <= field_names(page)
    link = BeautifulSoup(html, "html.parser").find("a", string="Se connecter")["href"]
    assert urlsplit(link).path == "/auth" and back_to(parse_qs(urlsplit(link).query)["return"][0]) == urls.POST_A

    # the sign-in page, the mail, the link: back on the thread page, signed in
    actions.make_account("marie@exemple.fr", name="Marie Lecomte")
    auth = client.get(link)
    assert client.post("/auth", data={**actions.form(auth, "/auth")[1], "email": "marie@exemple.fr"}).status_code == 303
    mail = smtp.mailbox.expect(to="marie@exemple.fr", subject="connexion")
    signed_in = actions.submit(actions.open(mail.link("/auth/verify")), "/auth/verify")
    assert signed_in.status_code == 303 and back_to(signed_in.headers["Location"]) == urls.POST_A

    page = client.get(signed_in.headers["Location"])
    html = page.get_data(as_text=True)
    assert "Connecté·e : <strong>Marie Lecomte</strong>" in html and "Se déconnecter" in html
    assert "Se connecter</a>" not in html
    assert {"author", "email", "notify"}.isdisjoint(field_names(page)), "the account's name and address apply"

    # the form posts as the account: a name or address in the request changes nothing
    posted = actions.submit(page, "/thread", text="Merci pour ce billet, vu de l'hôpital.", author="Dr Faux",
                            email="faux@exemple.fr")
    assert posted.status_code == 303
    [row] = actions.sql("SELECT c.author_name, c.email, a.email AS account FROM comments c"
                        " JOIN accounts a ON a.id = c.account_id")
    assert dict(row) == {"author_name": "Marie Lecomte", "email": "marie@exemple.fr", "account": "marie@exemple.fr"}

    # « Se déconnecter »: the session ends, and the reader is back on the thread, signed out
    page = client.get(posted.headers["Location"])
    out = actions.submit(page, "/auth/signout")
    assert out.status_code == 303 and back_to(out.headers["Location"]) == urls.POST_A
    assert not actions.sql("SELECT * FROM sessions")
    again = thread_page(client, urls.POST_A)
    assert "Connecté" not in again.get_data(as_text=True) and "email" in field_names(again)


def test_sign_out_elsewhere_than_the_network_goes_to_the_sign_in_page(kit, app):
    member = kit.member(display_name="Quelqu'un")
    browser = app.test_client()
    browser.set_cookie("confreres_session", kit_cookie(kit, member))
    page = browser.get("/account")
    csrf = re.search(r'action="/auth/signout"[^>]*>\s*<input type="hidden" name="csrf" value="([^"]+)"',
                     page.get_data(as_text=True)).group(1)
    out = browser.post("/auth/signout", data={"csrf": csrf, "return": "https://ailleurs.example/piege"})
    assert out.status_code == 303 and out.headers["Location"].endswith("/auth?etat=sortie")


def test_a_verified_member_writes_in_a_confreres_thread_with_badge_and_pseudonym(kit, app, actions, urls):
    claire = kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire Lefebvre")
    browser = app.test_client()
    browser.set_cookie("confreres_session", kit_cookie(kit, claire))
    page = thread_page(browser, urls.POST_CONFRERES)
    html = page.get_data(as_text=True)
    assert "Connecté·e : <strong>Dr Claire Lefebvre</strong>" in html
    assert re.search(r'<span class="badge" title="Inscription au RPPS vérifiée \(membre fondateur[^"]*">'
                     r"Médecin vérifié · Médecine générale</span>", html)
    assert "text" in field_names(page) and "author" not in field_names(page)
    posted = browser.post("/thread", data={**_hidden(page), "text": "Entre nous, un retour d'expérience."})
    assert posted.status_code == 303 and "merci=approved" in posted.headers["Location"]
    [comment] = actions.thread(urls.POST_CONFRERES).get_json()["comments"]
    assert comment["author"]["name"] == "Dr Claire Lefebvre"
    assert comment["author"]["badge"]["label"] == "Médecin vérifié · Médecine générale"


def test_others_are_refused_a_confreres_thread_with_an_explanation_and_keep_their_text(kit, app, urls, client):
    candidate = kit.member(display_name="Stéthoscope bleu")
    assert kit.declare(candidate, CANDIDATE, "Quintard-Valmore", "Éléonore").status_code == 200
    browser = app.test_client()
    browser.set_cookie("confreres_session", kit_cookie(kit, candidate))
    page = thread_page(browser, urls.POST_CONFRERES)
    html = page.get_data(as_text=True)
    assert "Connecté·e : <strong>Stéthoscope bleu</strong>" in html and "Médecin vérifié" not in html
    assert "réservé aux médecins vérifiés" in html and 'href="/verification"' in html and not field_names(page)

    # a verified member who loses the badge between the page and the post: refused, with the text given back
    claire = kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire Lefebvre")
    browser.set_cookie("confreres_session", kit_cookie(kit, claire))
    page = thread_page(browser, urls.POST_CONFRERES)
    moderator = kit.member(display_name="Modératrice", role="moderator")
    assert client.post(f"/api/verification/{claire.id}/revoke", json={"reason": "Erreur de saisie"},
                       headers=moderator.headers).status_code == 200
    refused = browser.post("/thread", data={**_hidden(page), "text": "Mon long texte."})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 403 and "réservé aux médecins vérifiés" in text
    assert "Mon long texte." in text and 'href="/verification"' in text


def _hidden(page) -> dict:
    return _hidden_of(page, "/thread")


def test_an_account_without_a_name_types_one(kit, app, urls, actions):
    member = kit.member(display_name="")
    browser = app.test_client()
    browser.set_cookie("confreres_session", kit_cookie(kit, member))
    page = thread_page(browser, urls.POST_B)
    session = BeautifulSoup(page.get_data(as_text=True), "html.parser").find(id="session")
    assert "Connecté·e — choisissez un nom sur votre compte" in session.get_text(" ", strip=True)
    assert "sans nom" not in session.get_text() and session.find("a", string="votre compte")["href"] == "/account"
    assert "author" in field_names(page) and "email" not in field_names(page)
    assert browser.post("/thread", data={**_hidden(page), "text": "Bonjour.", "author": "Lectrice"}).status_code == 303
    assert actions.thread(urls.POST_B).get_json()["comments"][0]["author"]["name"] == "Lectrice"


def test_the_holder_of_a_declared_number_is_told_by_mail(kit, app, smtp):
    """The notice goes out after the declaration's commit, through the real SMTP server."""
    claire = kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire Lefebvre")
    browser = app.test_client()
    browser.set_cookie("confreres_session", kit_cookie(kit, kit.member(email="autre@exemple.fr", display_name="Autre")))
    page = browser.get("/verification")
    form = {**_hidden_of(page, "/verification"), "rpps": CLAIRE, "last_name": "Lefebvre", "first_name": "Claire",
            "display_name": "Autre"}
    done = browser.post("/verification", data=form)
    assert done.status_code == 303 and done.location.endswith("/verification?etat=declare"), "like any declaration"
    mail = smtp.mailbox.expect(to=claire.email, subject="quelqu'un a tenté de déclarer votre numéro RPPS")
    assert "autre@exemple.fr" not in mail.addresses() and "Autre" not in mail.text
    assert "/verification" in mail.text


def _hidden_of(page, action: str) -> dict:
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    form = soup.find("form", action=re.compile(re.escape(action) + "$"))
    return {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}
