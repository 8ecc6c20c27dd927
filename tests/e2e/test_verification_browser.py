"""Browser test of verification: a physician signs in by e-mail link, declares an RPPS under a pseudonym, is
vouched for by two verified confrères in their own browsers, and comments with the badge.

Everything goes through the service's pages in Chromium (the no-JS path; test_widget_signin.py does the same from the widget);
the blog's page, with the widget, then shows the comment under the pseudonym with the badge.
"""

from __future__ import annotations

import re
import time

import pytest

from comments_service.core.db import connect
from comments_service.domain import accounts
from tests.comments_service.directory_kit import CANDIDATE, CLAIRE, KARIM, import_people
from tests.comments_service.verification_kit import Kit

pytestmark = pytest.mark.e2e
PSEUDONYM = "Stéthoscope bleu"


def magic_link(mail_dir, address: str, timeout: float = 15) -> str:
    """The sign-in link of the newest mail to `address`: the outbox's sender thread writes it after the request's
    answer, so it is waited for (reading at once failed now and then)."""
    deadline = time.monotonic() + timeout
    while True:
        mails = sorted(mail_dir.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True) if mail_dir.is_dir() else []
        for path in mails:
            text = path.read_text(encoding="utf-8")
            if f"To: {address}" in text:
                return re.search(r"(http\S+/auth/verify\?token=\S+)", text).group(1)
        if time.monotonic() > deadline:
            raise AssertionError(f"no mail to {address}")
        time.sleep(0.05)


def signed_in_context(browser, live, member_id: int, base: str):
    db = connect(live.app.config["DB"])
    try:
        token, _ = accounts.create_session(db, member_id, "cookie", 1)
    finally:
        db.close()
    context = browser.new_context(locale="fr-FR")
    context.add_cookies([{"name": "confreres_session", "value": token, "url": base + "comments/"}])
    return context


def test_sign_in_declare_get_vouched_and_comment_with_the_badge(live_network, browser, page, tmp_path):
    mail_dir = tmp_path / "mail"
    live = live_network(MAIL_DIR=str(mail_dir))
    import_people(live.app, tmp_path)
    kit = Kit(live.app, live.client)
    claire = kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire Lefebvre")
    karim = kit.verified(KARIM, "Benali", "Karim", "Dr Karim Benali")
    base = live.network.url
    service = base + "comments"

    # 1. sign in with a magic link
    page.goto(f"{service}/auth?return=/verification")
    page.fill("#f-email", "eleonore@cabinet.test")
    page.get_by_role("button", name="Recevoir mon lien de connexion").click()
    page.wait_for_load_state()
    page.goto(magic_link(mail_dir, "eleonore@cabinet.test"))
    page.get_by_role("button", name="Me connecter").click()
    page.wait_for_url(re.compile(r".*/verification$"))

    # 2. declare the RPPS under a pseudonym (a typo first)
    page.fill("#f-rpps", CANDIDATE[:-1] + ("0" if CANDIDATE[-1] != "0" else "1"))
    page.fill("#f-last_name", "Quintard-Valmore")
    page.fill("#f-first_name", "Éléonore")
    page.fill("#f-display_name", PSEUDONYM)
    page.get_by_role("button", name="Déclarer").click()
    assert "faute de frappe" in page.inner_text("#erreurs")
    assert page.input_value("#f-last_name") == "Quintard-Valmore", "typed values are shown again"
    page.fill("#f-rpps", CANDIDATE)
    page.get_by_role("button", name="Déclarer").click()
    assert "Votre déclaration est enregistrée" in page.inner_text("#etat")
    vouch_link = page.input_value("#lien-parrainage")
    assert "/verification/parrainer/" in vouch_link

    # 3. two verified confrères vouch, each in their own browser
    for voucher in (claire, karim):
        context = signed_in_context(browser, live, voucher.id, base)
        other = context.new_page()
        other.goto(vouch_link)
        assert PSEUDONYM in other.inner_text("h1")
        other.fill("#f-last_name", "Quintard-Valmore")
        other.get_by_role("button", name="Je connais ce confrère").click()
        assert "parrainage est enregistré" in other.inner_text("#etat")
        context.close()
    page.goto(f"{service}/verification")
    assert "vérifiée" in page.inner_text("main") and "Médecin vérifié" in page.inner_text("main")
    assert "Médecin vérifié ·" not in page.inner_text("main") and "masquée" in page.inner_text("main")

    # 4. she chooses to show her specialty (opt-in) on her account page
    page.goto(f"{service}/account")
    page.check("#f-show_specialty")
    page.get_by_role("button", name="Enregistrer").first.click()
    page.goto(f"{service}/verification")
    assert "Médecin vérifié · Médecine générale" in page.inner_text("main")

    # 5. comment on a post (the service's no-JS page), signed in: the badge beside the pseudonym
    post = live.post_url("dr-a-billet-0")
    page.goto(f"{service}/thread?url={post}")
    assert f"Connecté·e : {PSEUDONYM}" in page.inner_text("#session")
    assert page.locator("#f-email").count() == 0 and page.locator("#f-author").count() == 0
    page.fill("#f-text", "Un avis de généraliste, sous pseudonyme.")
    page.get_by_role("button", name="Publier").click()
    comment = page.locator(".comment", has_text="Un avis de généraliste")
    assert comment.locator(".author").inner_text() == PSEUDONYM
    badge = comment.locator(".badge")
    assert badge.inner_text() == "Médecin vérifié · Médecine générale"
    assert badge.get_attribute("title") == "Inscription au RPPS vérifiée (parrainage de deux confrères vérifiés)"

    # 6. the blog's page (the widget) shows it too, and nothing of who she is
    page.goto(post)
    widget_comment = page.locator(".comment", has_text="Un avis de généraliste")
    widget_comment.wait_for()
    assert PSEUDONYM in widget_comment.inner_text() and "Médecin vérifié · Médecine générale" in widget_comment.inner_text()
    html = page.content()
    assert "Quintard" not in html and CANDIDATE not in html and "eleonore@cabinet.test" not in html
    assert not page.js_errors


def test_without_javascript_sign_in_from_a_thread_comment_and_sign_out(live_network, browser, tmp_path):
    mail_dir = tmp_path / "mail"
    live = live_network(MAIL_DIR=str(mail_dir))
    import_people(live.app, tmp_path)
    Kit(live.app, live.client).verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire Lefebvre",
                                        email="claire@cabinet.test")
    service = live.network.url + "comments"
    post = live.post_url("dr-a-billet-0")
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{service}/thread?url={post}")
    page.get_by_role("link", name="Se connecter").click()
    page.fill("#f-email", "claire@cabinet.test")
    page.get_by_role("button", name="Recevoir mon lien de connexion").click()
    page.wait_for_load_state()
    page.goto(magic_link(mail_dir, "claire@cabinet.test"))
    page.get_by_role("button", name="Me connecter").click()
    page.wait_for_url(re.compile(r".*/thread\?url="))  # back on the thread page
    assert "Connecté·e : Dr Claire Lefebvre Médecin vérifié · Médecine générale" in " ".join(
        page.inner_text("#session").split())
    page.fill("#f-text", "Sans JavaScript, sous mon compte.")
    page.get_by_role("button", name="Publier").click()
    comment = page.locator(".comment", has_text="Sans JavaScript, sous mon compte.")
    assert comment.locator(".author").inner_text() == "Dr Claire Lefebvre"
    assert comment.locator(".badge").first.inner_text() == "Médecin vérifié · Médecine générale"
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(re.compile(r".*/thread\?url="))
    assert page.get_by_role("link", name="Se connecter").count() == 1 and page.locator("#f-email").count() == 1
    context.close()
