"""Medical secrecy in the widget (issue 15): typing a phone number warns under the textarea (secrecy-check.js,
loaded on the first keystroke), and the comment sent waits for moderation with the reason, on a blog that
publishes every comment at once. Real Chromium, the real built theme, the real comment service."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_comments_widget import comment_article, open_thread

pytestmark = pytest.mark.e2e


def test_typing_a_phone_warns_and_sending_it_waits_for_moderation(live_network, page, browser):
    live = live_network(moderation="none")
    url = live.post_url("dr-a-billet-0")
    loaded = []
    page.on("request", lambda r: loaded.append(r.url) if "secrecy" in r.url else None)
    open_thread(page, url)
    assert loaded == [], "nothing of the secrecy check before one types"
    textarea = page.get_by_role("textbox", name="Commentaire", exact=True)
    textarea.focus()
    page.keyboard.type("Merci docteur. Ma mère est joignable au 06 12 34 56 78 si besoin.")
    warning = page.locator(".secrecy-warning")
    expect(warning).to_be_visible()
    expect(warning).to_have_attribute("aria-live", "polite")
    expect(warning).to_contain_text("Secret médical : votre texte contient un numéro de téléphone (« 06 12 34 56 78 »)")
    expect(warning).to_contain_text("attendra la relecture d'un modérateur")
    expect(textarea).to_have_attribute("aria-describedby", "cf-text-hint cf-text-secret")  # heard on coming back
    assert any(u.endswith("/theme/js/secrecy-check.js") for u in loaded), loaded

    # Take the number out: the warning goes; put it back: it comes back.
    textarea.fill("Merci docteur.")
    textarea.dispatch_event("input")
    expect(warning).to_be_hidden()
    expect(textarea).to_have_attribute("aria-describedby", "cf-text-hint")
    expect(warning).to_have_count(1)  # still in the page, silent: the region is there when it speaks again
    textarea.fill("Merci docteur. Ma mère est joignable au 06 12 34 56 78 si besoin.")
    textarea.dispatch_event("input")
    expect(warning).to_be_visible()

    page.get_by_role("textbox", name="Nom ou pseudonyme").fill("Une lectrice")
    page.get_by_role("button", name="Publier").click()
    status = page.get_by_role("status").filter(has_text="Votre commentaire")
    expect(status).to_have_text(
        "Votre commentaire est en attente de modération : il contient un numéro de téléphone (« 06 12 34 56 78 ») : "
        "pour protéger le secret médical, un modérateur le relira avant toute publication."
    )
    expect(page.locator(".comment--pending")).to_contain_text("06 12 34 56 78")  # its author sees it, pending
    assert live.sql("SELECT status FROM comments") == [("pending",)]

    other = browser.new_context(locale="fr-FR")
    try:
        reader = other.new_page()
        open_thread(reader, url)
        expect(reader.locator(".comments-live")).to_have_text("Aucun commentaire pour l'instant.")
        expect(comment_article(reader, "06 12 34 56 78")).to_have_count(0)
    finally:
        other.close()
    assert not page.js_errors and not page.csp_violations, (page.js_errors, page.csp_violations)
