"""A reader with JavaScript off, in Chromium (`java_script_enabled=False`): the service's plain forms, refused.

A refused form comes back as a new page. Its error list sat where the form is (below the whole thread on a
thread page) while the browser showed the page's top, and nothing was said: a screen reader read the same title as
before and the page's first line, a sighted reader saw the thread again and no error. Now the title begins with
« Erreur : » (« Attention : » for the medical-secrecy warning) and the error list (`.errors`, `autofocus`) takes
the focus, scrolled into view, each error linking to its field, which is marked and described by it; what was
typed is given back.
"""

from __future__ import annotations

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
    assert focused(page) == "erreurs"
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
    live.app.config["RATE_LIMIT"] = "1/minute"  # (read at each request) then the one write, from this address too
    live.comment(url, "Le seul envoi permis.", author="Second")
    page.fill("#f-text", TYPED)
    publish(page)
    assert page.title().startswith("Erreur : "), page.title()
    assert focused(page) == "erreurs" and in_view(page, "#erreurs")
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
    assert focused(page) == "secret" and in_view(page, "#secret")
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
    assert focused(page) == "erreurs-signalement"
    expect(page.locator("details.report textarea")).to_have_attribute("aria-invalid", "true")


def test_the_sign_in_form_refused(nojs, live_network):
    live = live_network()
    nojs.goto(live.network.comments_url + "auth")
    nojs.fill("#f-email", "pas-une-adresse")
    with nojs.expect_navigation():
        nojs.get_by_role("button", name="Recevoir mon lien de connexion").click()
    assert nojs.title().startswith("Erreur : Connexion"), nojs.title()
    assert focused(nojs) == "erreurs"
    expect(nojs.locator("#f-email")).to_have_value("pas-une-adresse")
    expect(nojs.locator("#f-email")).to_have_attribute("aria-invalid", "true")


def test_the_letter_form_refused(nojs, live_network):
    live = live_network()
    nojs.goto(live.network.comments_url + "lettre")
    with nojs.expect_navigation():
        nojs.get_by_role("button", name="M'abonner").click()
    assert nojs.title().startswith("Erreur : La lettre"), nojs.title()
    assert focused(nojs) == "erreurs"


def test_a_page_without_error_keeps_its_title_and_focus(nojs, live_network):
    live = live_network()
    page = thread_page(nojs, live, live.post_url("dr-a-billet-0"))
    assert page.title().startswith("Commentaires sur"), page.title()
    assert focused(page) == "BODY"
    page.fill("#f-text", TYPED)
    publish(page)
    assert page.title().startswith("Commentaires sur"), page.title()
    expect(page.locator("#merci")).to_contain_text("Merci")
