"""A reader with JavaScript off, in Chromium (`java_script_enabled=False`): the service's plain forms, refused.

A refused form comes back as a new page. Its error list sat where the form is (below the whole thread on a
thread page) while the browser showed the page's top, and nothing was said: a screen reader read the same title as
before and the page's first line, a sighted reader saw the thread again and no error. Now the title begins with
« Erreur : » (« Attention : » for the medical-secrecy warning) and the error list (`.errors`, `autofocus`) takes
the focus, scrolled into view, each error linking to its field, which is marked and described by it; what was
typed is given back.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

TYPED = "Une question sur les gardes, écrite sans JavaScript."


@pytest.fixture
def nojs(browser):
    """A page of a browser whose JavaScript is off (Playwright's own evaluate still answers)."""
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    yield context.new_page()
    context.close()


def focused(page) -> str:
    return page.evaluate("document.activeElement.id || document.activeElement.tagName")


def in_view(page, selector: str) -> bool:
    return page.eval_on_selector(selector, "e => { const r = e.getBoundingClientRect();"
                                           " return r.top >= 0 && r.top < innerHeight; }")


def thread_page(nojs, live, url: str):
    """The blog's post, then its « Commenter (sans JavaScript) » link, as a reader follows it."""
    nojs.goto(url)
    with nojs.expect_navigation():
        nojs.get_by_role("link", name="Commenter (sans JavaScript)").click()
    return nojs


def publish(page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Publier").click()


def refused(page, field: str, says: str) -> None:
    """The page of a refused comment: its title, the error list focused and in view, the field tied to it."""
    assert page.title().startswith("Erreur : Commentaires sur"), page.title()
    expect(page.locator("#erreurs")).to_be_focused()  # (autofocus runs at a rendering step: waited for)
    assert in_view(page, "#erreurs"), "the error list is scrolled into view"
    expect(page.locator("#erreurs")).to_contain_text(says)
    link = page.locator("#erreurs a").first
    expect(link).to_have_attribute("href", f"#{field}")
    expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
    described = page.locator(f"#{field}").get_attribute("aria-describedby").split()
    assert f"{field}-err" in described
    expect(page.locator(f"#{field}-err")).to_contain_text(says)


def test_an_empty_comment_is_announced_and_tied_to_its_field(nojs, live_network):
    live = live_network()
    page = thread_page(nojs, live, live.post_url("dr-a-billet-0"))
    page.fill("#f-author", "Lectrice sans script")
    publish(page)
    refused(page, "f-text", "Le texte du commentaire est vide.")
    expect(page.locator("#f-author")).to_have_value("Lectrice sans script")


def test_a_comment_too_long_comes_back_with_its_text(nojs, live_network):
    """A browser that ignores `maxlength` (an older one, a paste in some): the server's limit, the text kept."""
    live = live_network()
    page = thread_page(nojs, live, live.post_url("dr-a-billet-0"))
    page.eval_on_selector("#f-text", "e => e.removeAttribute('maxlength')")
    long = TYPED + " " + "x" * 10_000
    page.fill("#f-text", long)
    publish(page)
    refused(page, "f-text", "10 000")
    assert page.input_value("#f-text") == long


def test_a_reply_over_the_write_budget_keeps_its_text(nojs, live_network):
    """Rate-limited (429): the page says why, takes the focus, keeps the reply's text and whom it answers."""
    live = live_network(RATE_LIMIT="1000/minute")
    url = live.post_url("dr-a-billet-1")
    first = live.comment(url, "Le premier commentaire du fil.", author="Premier")["comment"]["id"]
    page = thread_page(nojs, live, url)
    with page.expect_navigation():
        page.get_by_role("link", name="Répondre à Premier").click()
    expect(page.locator("#ecrire")).to_have_text("Répondre à Premier")
    live.app.config["RATE_LIMIT"] = "1/minute"  # (read at each request) then spent, from this address too
    for _ in range(3):
        if live.client.post("/api/comments", json={"url": url, "text": "Un envoi.", "author": "Second"}).status_code == 429:
            break
    page.fill("#f-text", TYPED)
    publish(page)
    assert page.title().startswith("Erreur : "), page.title()
    expect(page.locator("#erreurs")).to_be_focused()
    assert in_view(page, "#erreurs")
    expect(page.locator("#erreurs")).to_contain_text("Patientez une minute")
    assert page.input_value("#f-text") == TYPED
    expect(page.locator("#ecrire")).to_have_text("Répondre à Premier")
    assert page.locator("input[name=parent]").input_value() == str(first)


def test_the_medical_secrecy_warning_takes_the_focus(nojs, live_network):
    live = live_network()
    page = thread_page(nojs, live, live.post_url("dr-a-billet-2"))
    page.fill("#f-text", "Mme Durand, née le 3 mars 1958, va mieux.")
    publish(page)
    assert page.title().startswith("Attention : Commentaires sur"), page.title()
    expect(page.locator("#secret")).to_be_focused()
    assert in_view(page, "#secret")
    expect(page.locator("#f-text")).to_have_value("Mme Durand, née le 3 mars 1958, va mieux.")


def test_a_refused_report_takes_the_focus(nojs, live_network):
    """« Signaler » without a reason: the page of the comment, the summary focused, the form open with its error."""
    live = live_network()
    url = live.post_url("dr-b-billet-0", site=1)
    live.comment(url, "Un commentaire à signaler.", author="Quelqu'un")
    page = thread_page(nojs, live, url)
    page.locator("details.report summary").first.click()
    with page.expect_navigation():
        page.get_by_role("button", name="Signaler le commentaire de Quelqu'un").click()
    assert page.title().startswith("Erreur : "), page.title()
    expect(page.locator("#erreurs-signalement")).to_be_focused()
    expect(page.locator("details.report textarea")).to_have_attribute("aria-invalid", "true")


def test_the_sign_in_form_refused(nojs, live_network):
    live = live_network()
    nojs.goto(live.network.comments_url + "auth")
    nojs.fill("#f-email", "pas-une-adresse")
    with nojs.expect_navigation():
        nojs.get_by_role("button", name="Recevoir mon lien de connexion").click()
    assert nojs.title().startswith("Erreur : Connexion"), nojs.title()
    expect(nojs.locator("#erreurs")).to_be_focused()
    expect(nojs.locator("#f-email")).to_have_value("pas-une-adresse")
    expect(nojs.locator("#f-email")).to_have_attribute("aria-invalid", "true")


def test_the_letter_form_refused(nojs, live_network):
    live = live_network()
    nojs.goto(live.network.comments_url + "lettre")
    with nojs.expect_navigation():
        nojs.get_by_role("button", name="M'abonner").click()
    assert nojs.title().startswith("Erreur : La lettre"), nojs.title()
    expect(nojs.locator("#erreurs")).to_be_focused()


def test_a_page_without_error_keeps_its_title_and_focus(nojs, live_network):
    live = live_network()
    page = thread_page(nojs, live, live.post_url("dr-a-billet-0"))
    assert page.title().startswith("Commentaires sur"), page.title()
    assert focused(page) == "BODY"
    page.fill("#f-text", TYPED)
    publish(page)
    assert page.title().startswith("Commentaires sur"), page.title()
    expect(page.locator("#merci")).to_contain_text("Merci")


# -- one's own comment without JavaScript: « Modifier », « Supprimer » (the widget's, within the edit window) -------

def post_as_guest(page, text: str) -> None:
    page.fill("#f-text", text)
    page.fill("#f-author", "Lectrice sans script")
    publish(page)


def test_a_guest_edits_then_deletes_their_comment(nojs, live_network, browser):
    """Before, only the widget could: a reader without JavaScript could not correct a typo, nor take back a comment
    that said too much, within the 15 minutes the widget gives."""
    live = live_network()
    url = live.post_url("dr-a-billet-0")
    page = thread_page(nojs, live, url)
    post_as_guest(page, "Une questoin avec une faute.")
    mine = page.locator("li.comment", has_text="Une questoin avec une faute.")
    expect(mine.locator("p.own")).to_contain_text("Modifiable jusqu'au")
    with page.expect_navigation():
        mine.get_by_role("link", name="Modifier votre commentaire").click()
    expect(page.locator("#f-edit")).to_be_focused()  # the edit form opens focused on the text
    expect(page.locator("#f-edit")).to_have_value("Une questoin avec une faute.")

    page.fill("#f-edit", "")  # an empty edit is refused, announced, tied to its field
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer").click()
    assert page.title().startswith("Erreur : "), page.title()
    expect(page.locator("#erreurs-modification")).to_be_focused()
    expect(page.locator("#f-edit")).to_have_attribute("aria-invalid", "true")
    assert "f-edit-err" in page.locator("#f-edit").get_attribute("aria-describedby")

    page.fill("#f-edit", "Une question, corrigée.")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#merci")).to_have_text("Votre commentaire a été modifié.")
    expect(page.locator("li.comment", has_text="Une question, corrigée.")).to_contain_text("(modifié)")

    other = browser.new_context(java_script_enabled=False, locale="fr-FR")  # another browser: not theirs
    try:
        stranger = other.new_page()
        stranger.goto(page.url)
        expect(stranger.locator("li.comment", has_text="Une question, corrigée.")).to_be_visible()
        expect(stranger.get_by_role("link", name="Modifier votre commentaire")).to_have_count(0)
        expect(stranger.locator("details.delete")).to_have_count(0)
    finally:
        other.close()

    mine = page.locator("li.comment", has_text="Une question, corrigée.")
    mine.locator("details.delete summary").click()
    with page.expect_navigation():
        mine.get_by_role("button", name="Supprimer définitivement mon commentaire").click()
    expect(page.locator("#merci")).to_have_text("Votre commentaire a été supprimé.")
    expect(page.locator("li.comment", has_text="Une question, corrigée.")).to_have_count(0)
    assert live.sql("SELECT status FROM comments WHERE text LIKE 'Une question%'") in ([], [("deleted",)])


def test_a_guest_sees_and_corrects_their_waiting_comment(nojs, live_network, browser):
    """A first comment waits for the blogger: its writer sees it (as the widget shows it), « en attente », and may
    correct it; no one else sees it."""
    live = live_network(moderation="all")
    page = thread_page(nojs, live, live.post_url("dr-a-billet-1"))
    post_as_guest(page, "Ma question en attente.")
    expect(page.locator("#merci")).to_contain_text("attend la validation")
    mine = page.locator("li.comment", has_text="Ma question en attente.")
    expect(mine).to_contain_text("En attente de validation")
    expect(mine.get_by_role("link", name="Répondre")).to_have_count(0)  # nobody may answer it yet
    with page.expect_navigation():
        mine.get_by_role("link", name="Modifier votre commentaire").click()
    page.fill("#f-edit", "Ma question en attente, précisée.")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("li.comment", has_text="Ma question en attente, précisée.")).to_be_visible()
    assert live.sql("SELECT status, text FROM comments") == [("pending", "Ma question en attente, précisée.")]

    other = browser.new_context(java_script_enabled=False, locale="fr-FR")
    try:
        stranger = other.new_page()
        stranger.goto(page.url)
        expect(stranger.locator("li.comment")).to_have_count(0)
    finally:
        other.close()


def test_an_edit_form_is_refused_without_the_writers_proof(nojs, live_network):
    """A reader's own edit form, pointed at someone else's comment: refused, nothing changes."""
    live = live_network()
    url = live.post_url("dr-a-billet-2")
    theirs = live.comment(url, "Le commentaire de quelqu'un d'autre.", author="Autre")["comment"]["id"]
    page = thread_page(nojs, live, url)
    post_as_guest(page, "Mon propre commentaire.")
    with page.expect_navigation():
        page.get_by_role("link", name="Modifier votre commentaire").click()
    page.locator("form.edit input[name=comment]").evaluate("(e, id) => { e.value = id; }", theirs)
    page.fill("#f-edit", "Réécrit par un autre.")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer").click()
    assert page.title().startswith("Erreur : ")
    expect(page.locator("#erreurs")).to_be_focused()
    expect(page.locator("#erreurs")).to_contain_text("n'a pas été écrit ici")
    assert live.sql("SELECT text FROM comments WHERE id = ?", (theirs,)) == [("Le commentaire de quelqu'un d'autre.",)]


def test_a_comment_held_for_medical_secrecy_can_be_corrected(nojs, live_network):
    """Sent as it was despite the warning, the comment waits; its writer can still take the patient out of it."""
    live = live_network()
    page = thread_page(nojs, live, live.post_url("dr-b-billet-1", site=1))
    post_as_guest(page, "Mme Durand, née le 3 mars 1958, va mieux.")
    page.get_by_label("Envoyer tel quel").check()
    publish(page)
    expect(page.locator("#merci")).to_contain_text("en attente de modération")
    with page.expect_navigation():
        page.get_by_role("link", name="Corriger mon commentaire").click()
    expect(page.locator("#f-edit")).to_be_focused()
    page.fill("#f-edit", "Une patiente va mieux.")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#merci")).to_have_text("Votre commentaire a été modifié.")
    assert live.sql("SELECT text FROM comments") == [("Une patiente va mieux.",)]


def test_own_comment_forms_pass_axe(page, live_network):
    """The thread page with one's own comment (« Modifier », « Supprimer ») and its edit form sent back refused
    (the service's pages have no script: axe, which is one, needs JavaScript on)."""
    from .test_accessibility import report, violations

    live = live_network()
    page.goto(live.network.comments_url + "thread?" + urlencode({"url": live.post_url("dr-a-billet-0")}))
    post_as_guest(page, "Un commentaire à corriger.")
    page.locator("details.delete summary").click()
    assert not violations(page), report(violations(page))
    with page.expect_navigation():
        page.get_by_role("link", name="Modifier votre commentaire").click()
    page.fill("#f-edit", "")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer").click()
    found = violations(page)
    assert not found, report(found)


def test_the_blogger_moderates_without_javascript(browser, live_network):
    """Each decision comes back as a new page: its confirmation takes the focus (read first, right above the next
    comment to decide), and a refused decision its error, the title saying so."""
    from comments_service.core.db import connect
    from comments_service.domain import accounts

    live = live_network(moderation="all")
    url = live.post_url("dr-a-billet-0")
    live.comment(url, "Une question à valider.", author="Lecteur")
    live.comment(url, "Un autre, sans adresse.", author="Anonyme pressé")
    db = connect(live.app.config["DB"])
    try:
        blogger, _ = accounts.ensure_account(db, "dr-a@exemple.fr", display_name="Dr A", sites=["dr-a"])
        token, _ = accounts.create_session(db, blogger["id"], "cookie", 1)
    finally:
        db.close()
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    try:
        context.add_cookies([{"name": "confreres_session", "value": token, "url": live.network.comments_url}])
        page = context.new_page()
        page.goto(live.network.comments_url + "moderation")
        with page.expect_navigation():
            page.get_by_role("button", name="Approuver le commentaire de Lecteur").click()
        assert page.title().startswith("Modération"), page.title()
        notice = page.locator("p.notice")
        expect(notice).to_be_focused()
        expect(notice).to_contain_text("approuvé")
        with page.expect_navigation():  # no account, no address: only its network address could block it
            page.get_by_role("button", name="Bloquer l'auteur du commentaire d'Anonyme pressé").click()
        assert page.title().startswith("Erreur : Modération"), page.title()
        expect(page.locator("#erreurs")).to_be_focused()
    finally:
        context.close()
