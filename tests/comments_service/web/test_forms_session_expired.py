"""A signed-in page's form sent after its session ended (expired, or signed out in another tab) while it was being
filled: nothing is saved, and what was typed is not lost in a redirect. The answer is the sign-in page (401), which
says so in French and shows a read-only copy of what the form carried (escaped; never its CSRF token), to copy before
signing in again; its sign-in link brings the member back to the page they were on. Nothing typed is stored
anywhere: not in the return address, a cookie or the sign-in mail.

A real SQLite file, a real SMTP server, the real sign-in link."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from tests.comments_service.domain.test_verification import declared
from tests.comments_service.verification_kit import CANDIDATE, CLAIRE, Kit, Member, import_people
from tests.conftest import Actions

EMAIL = "lea@exemple.fr"
INTERESTS = "Consultante pour <script>alert(1)</script> un laboratoire\r\n(2024) & « autres »."


@pytest.fixture
def app(make_app, smtp, tmp_path):
    app = make_app(**smtp.config)
    import_people(app, tmp_path)
    return app


@pytest.fixture
def lea(actions):
    """Léa, signed in in her browser (actions.client: the session cookie and the CSRF cookie)."""
    done = actions.sign_in(EMAIL)
    assert done.status_code == 303
    return actions.sql("SELECT id FROM accounts WHERE email = ?", (EMAIL,))[0]["id"]


def hidden(response, action: str) -> dict:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    form = soup.find("form", action=lambda a: a and a.endswith(action))
    return {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}


def expire_sessions(actions) -> None:
    """Léa's session reaches its end while the form is open."""
    actions.sql("UPDATE sessions SET expires = '2000-01-01T00:00:00Z'")


def copied(response) -> dict[str, str]:
    """{label: text} of the read-only copy the page shows."""
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    section = soup.find("section", class_="typed")
    if section is None:
        return {}
    shown = {}
    for area in section.find_all("textarea"):
        assert area.has_attr("readonly") and not area.has_attr("name"), "a copy, never sent again by a form"
        shown[section.find("label", attrs={"for": area["id"]}).get_text(strip=True)] = area.get_text()
    return shown


def expired_page(response, back: str) -> BeautifulSoup:
    assert response.status_code == 401, response.get_data(as_text=True)[:1000]
    assert response.mimetype == "text/html" and "no-store" in response.headers["Cache-Control"]
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    alert = soup.find(id="session-expiree")
    assert alert is not None and alert["role"] == "alert"
    assert "Votre session a expiré" in alert.get_text() and "rien n'a été enregistré" in alert.get_text()
    form = soup.find("form", action=lambda a: a and a.endswith("/auth"))
    assert form.find("input", attrs={"name": "return"})["value"] == back
    assert form.find(id="f-email") is not None
    return soup


def sign_in_again(actions, page) -> tuple[str, str]:
    """Send the page's sign-in form, open the mail's link, press « Me connecter »: (the mail's text, where it
    leads)."""
    since = len(actions.mailbox.mails)
    assert actions.submit(page, "/auth", email=EMAIL).status_code == 303
    mail = actions.mailbox.expect(to=EMAIL, subject="connexion", since=since)
    done = actions.submit(actions.open(mail.link("/auth/verify")), "/auth/verify")
    assert done.status_code == 303
    return mail.text, done.headers["Location"]


def test_the_account_form_sent_after_the_session_expired_shows_what_was_typed(actions, lea, smtp):
    fields = hidden(actions.client.get("/account"), "/account")
    expire_sessions(actions)
    typed = {**fields, "display_name": "Dr Pseudo", "interests": INTERESTS, "notify_comments": "daily",
             "public_profile": "1"}
    response = actions.client.post("/account", data=typed)

    expired_page(response, "/account")
    shown = copied(response)
    assert shown["Nom affiché ou pseudonyme"] == "Dr Pseudo"
    assert shown["Liens d'intérêts déclarés"] == INTERESTS.replace("\r\n", "\n")
    assert shown["Nouveaux commentaires sur mes blogs"] == "Résumé quotidien"
    assert shown["Profil public"] == "oui" and shown["Me prévenir par e-mail des réponses à mes commentaires"] == "non"
    body = response.get_data(as_text=True)
    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)" in body, "escaped"
    assert fields["csrf"] not in body, "the form's CSRF token is not shown back"
    assert actions.sql("SELECT display_name FROM accounts WHERE id = ?", (lea,))[0][0] == "", "not saved"
    for name, value in response.headers.items():
        assert "Pseudo" not in value and "laboratoire" not in value, f"{name} carries what was typed"

    text, location = sign_in_again(actions, response)
    assert location.endswith("/account"), "back to the page the form was on"
    assert "Dr Pseudo" not in text and "laboratoire" not in text, "nothing typed in the sign-in mail"
    assert actions.client.get("/account").status_code == 200


def test_the_rpps_declaration_sent_after_the_session_expired_shows_what_was_typed(actions, lea, smtp, app):
    fields = hidden(actions.client.get("/verification"), "/verification")
    expire_sessions(actions)
    typed = {**fields, "rpps": CANDIDATE, "last_name": "Quintard-Valmore", "first_name": "Éléonore",
             "display_name": "Stéthoscope bleu"}
    response = actions.client.post("/verification", data=typed)

    expired_page(response, "/verification")
    assert copied(response) == {
        "Numéro RPPS": CANDIDATE, "Nom d'exercice": "Quintard-Valmore", "Prénom d'exercice": "Éléonore",
        "Nom affiché à côté de vos commentaires": "Stéthoscope bleu",
    }
    assert fields["csrf"] not in response.get_data(as_text=True)
    assert actions.sql("SELECT COUNT(*) FROM verifications WHERE account_id = ?", (lea,))[0][0] == 0, "not declared"
    for name, value in response.headers.items():
        assert CANDIDATE not in value and "Quintard" not in value, f"{name} carries what was typed"

    text, location = sign_in_again(actions, response)
    assert location.endswith("/verification")
    assert CANDIDATE not in text and "Quintard" not in text, "nothing typed in the sign-in mail"
    assert actions.client.get("/verification").status_code == 200


def test_the_vouching_form_comes_back_to_its_own_page(actions, lea, smtp, app):
    kit = Kit(app, app.test_client())
    kit.grant(Member(lea, EMAIL, ""), CLAIRE, "Lefebvre", "Claire")  # Léa may vouch for a colleague
    path = f"/verification/parrainer/{kit.vouch_token(declared(kit))}"
    fields = hidden(actions.client.get(path), path)
    expire_sessions(actions)
    response = actions.client.post(path, data={**fields, "last_name": "Martin"})
    expired_page(response, path)
    assert copied(response) == {"Nom d'exercice de ce confrère": "Martin"}
    assert actions.sql("SELECT COUNT(*) FROM vouches")[0][0] == 0


def test_a_form_without_a_live_session_posted_by_another_site_shows_nothing_back(actions, lea, app):
    """A page of another site posting to /account in a visitor's name (no CSRF token of ours for this browser):
    the same page, but its text is never shown on ours."""
    expire_sessions(actions)
    forged = actions.client.post("/account", data={"display_name": "Appelez le 08 00 00 00 00", "csrf": "x"})
    expired_page(forged, "/account")
    assert copied(forged) == {} and "08 00 00 00 00" not in forged.get_data(as_text=True)
    stranger = Actions(app, app.test_client()).client.post("/verification", data={"rpps": CLAIRE})
    expired_page(stranger, "/verification")
    assert CLAIRE not in stranger.get_data(as_text=True)


def test_a_form_without_a_page_of_its_own_comes_back_to_the_page_it_was_on(actions, lea):
    fields = hidden(actions.client.get("/account"), "/account/delete")
    expire_sessions(actions)
    response = actions.client.post("/account/delete", data={**fields, "comments": "keep", "confirm": "1"})
    expired_page(response, "/account")
    assert copied(response) == {}
    assert actions.sql("SELECT COUNT(*) FROM accounts WHERE id = ?", (lea,))[0][0] == 1


def test_a_page_asked_without_a_session_still_leads_to_the_sign_in_page(client):
    response = client.get("/verification")
    assert response.status_code == 303 and "/auth?return=/verification" in response.headers["Location"]


def test_the_comment_moderation_forms_sent_after_the_session_expired_show_what_was_chosen(actions, lea, smtp, urls):
    actions.sql("UPDATE accounts SET role = 'moderator' WHERE id = ?", (lea,))
    comment = Actions(actions.app, actions.app.test_client()).comment("En attente", url=urls.POST_A)["comment"]["id"]
    fields = hidden(actions.client.get("/moderation"), f"/moderation/{comment}")
    expire_sessions(actions)

    response = actions.client.post(f"/moderation/{comment}", data={**fields, "action": "block", "address": "1"})
    expired_page(response, "/moderation")
    assert copied(response) == {"Décision": "Bloquer l'auteur", "Bloquer aussi son adresse réseau": "oui"}
    assert fields["csrf"] not in response.get_data(as_text=True)
    response = actions.client.post("/moderation/instances", data={**fields, "action": "block", "host": "spam.example"})
    expired_page(response, "/moderation")
    assert copied(response) == {"Instance": "spam.example", "Décision": "Bloquer l'instance"}
    for path in (f"/moderation/mentions/{comment}", "/moderation/blocks/1"):
        expired_page(actions.client.post(path, data={**fields, "action": "approve"}), "/moderation")
    assert actions.sql("SELECT status FROM comments WHERE id = ?", (comment,))[0][0] == "pending", "nothing decided"
    assert actions.sql("SELECT (SELECT COUNT(*) FROM author_blocks) + (SELECT COUNT(*) FROM fed_blocked_hosts)")[0][0] == 0

    text, location = sign_in_again(actions, response)
    assert location.endswith("/moderation"), "back to the queue"
    assert "spam.example" not in text
    assert actions.client.get("/moderation").status_code == 200
