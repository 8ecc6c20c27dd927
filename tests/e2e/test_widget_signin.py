"""The widget signed in: magic link from the real mail, « entre confrères » threads, sessions that end,
answers and mentions, edits from the server's source.

Real parts only: the built network, a fresh comment service on a new SQLite file, the local SMTP server
(tests/smtp.py) and Chromium. Verification goes through the service's own page and the vouching kit.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from comments_service.core.db import connect
from comments_service.domain import mention_source
from comments_service.domain import mentions as mention_rows
from comments_service.domain import verification as verify
from comments_service.domain.posts import get_post
from confreres.site_token import site_token
from tests.comments_service.verification_kit import CANDIDATE, CLAIRE, KARIM, Kit, Member, import_people

from .conftest import LIVE_SECRET
from .test_comments_widget import comment_article, open_thread

pytestmark = pytest.mark.e2e

EMAIL = "eleonore.q@cabinet-discret.test"
PSEUDONYM = "Stéthoscope bleu"
SESSION_KEY = "confreres.session"


def stored(page, key: str):
    return page.evaluate("(k) => JSON.parse(localStorage.getItem(k))", key)


SIGNIN_KEY = "confreres.signin"


def asked_from_here(page, url: str, state: str = "etat-de-ce-navigateur") -> str:
    """What « Se connecter » leaves in this browser: the state of the link asked for (comments-extra.js)."""
    page.goto(url)
    page.evaluate("([k, v]) => localStorage.setItem(k, JSON.stringify([v]))", [SIGNIN_KEY, state])
    return state


def back_from_link(page, url: str, token: str) -> None:
    """Land on `url` as the sign-in redirect does for a link this browser asked for: with its state in the query
    and the session in the fragment."""
    state = asked_from_here(page, url)
    page.goto("about:blank")  # a fragment change alone would not load the page again
    page.goto(f"{url}?confreres-signin={state}#confreres-session={token}")
    expect(page.locator(".comments-app")).to_be_visible()


def test_a_link_someone_else_crafted_does_not_sign_the_reader_in(live_network, page, tmp_path):
    """Session fixation: a page of a blog opened with a stranger's session in its fragment (a link sent by the
    stranger) keeps the reader as they were, instead of signing them into the stranger's account."""
    live = live_network()
    kit = Kit(live.app, live.client)
    url = live.post_url("dr-a-billet-2")
    reader = kit.member(display_name="Dr Lectrice")
    stranger = kit.member(display_name="Dr Inconnu")
    back_from_link(page, url, reader.token)
    expect(page.locator(".comments-account")).to_contain_text("Connecté·e : Dr Lectrice")

    for crafted in (f"{url}#confreres-session={stranger.token}",  # no state at all
                    f"{url}?confreres-signin=devine#confreres-session={stranger.token}"):  # a state never asked here
        page.goto("about:blank")
        page.goto(crafted)
        expect(page.get_by_role("status")).to_have_text(
            "Ce lien de connexion n'a pas été demandé depuis ce navigateur : demandez-en un ici.")
        expect(page.locator(".comments-account")).to_contain_text("Connecté·e : Dr Lectrice")
        assert stored(page, SESSION_KEY) == reader.token
        assert page.url == url  # the fragment and the state are taken out of the address


def sign_in_button(page):
    return page.get_by_role("button", name="Se connecter par un lien envoyé par e-mail")


def publish(page, text: str) -> None:
    page.locator("#cf-text").fill(text)
    page.get_by_role("button", name="Publier").click()


def test_a_physician_signs_in_from_the_widget_is_vouched_for_and_comments_under_a_pseudonym(
    live_network, page, smtp, tmp_path
):
    live = live_network(**smtp.config)
    import_people(live.app, tmp_path)
    kit = Kit(live.app, live.client)
    claire = kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire Lefebvre")
    karim = kit.verified(KARIM, "Benali", "Karim", "Dr Karim Benali")
    url = live.post_url("entre-nous")
    api_calls = []
    page.on("request", lambda r: api_calls.append(r) if "/comments/api/" in r.url else None)

    # 1. « Se connecter » in the widget: an address, a link by mail, back on the same page signed in.
    open_thread(page, url)
    sign_in_button(page).click()
    address = page.get_by_role("textbox", name="Votre adresse e-mail")
    expect(address).to_be_focused()
    address.fill("pas-une-adresse")
    page.get_by_role("button", name="Recevoir le lien de connexion").click()
    expect(page.locator("#cf-signin-email-err")).to_contain_text("pas valide")
    expect(address).to_have_attribute("aria-invalid", "true")
    address.fill(EMAIL)
    page.get_by_role("button", name="Recevoir le lien de connexion").click()
    expect(page.get_by_role("status")).to_contain_text(f"Un lien de connexion vous a été envoyé à {EMAIL}.")
    link = smtp.mailbox.expect(to=EMAIL, subject="connexion").link("/auth/verify")
    page.goto(link)
    page.get_by_role("button", name="Me connecter").click()
    account = page.locator(".comments-account")
    expect(account).to_contain_text("Connecté·e — choisissez un nom sur votre compte")
    expect(account).not_to_contain_text("sans nom")
    expect(page.get_by_role("status")).to_have_text("Vous êtes connecté·e.")
    assert page.url == url, "the session left the address bar"
    assert stored(page, SESSION_KEY).startswith("cfs1_")
    expect(account.get_by_role("link", name="votre compte")).to_have_attribute(
        "href", live.network.comments_url + "account"
    )

    # 2. Not verified yet: the thread says so and links to the service's verification page.
    explain = page.locator(".comments-explain")
    expect(explain).to_contain_text("pas encore vérifiée")
    expect(page.locator(".comments-form")).to_have_count(0)
    explain.get_by_role("link", name="Faire vérifier mon inscription").click()
    page.fill("#f-rpps", CANDIDATE)
    page.fill("#f-last_name", "Quintard-Valmore")
    page.fill("#f-first_name", "Éléonore")
    page.fill("#f-display_name", PSEUDONYM)
    page.get_by_role("button", name="Déclarer").click()
    expect(page.locator("#etat")).to_contain_text("Votre déclaration est enregistrée")

    # 3. Two verified confrères vouch for her.
    (member_id,) = live.sql("SELECT id FROM accounts WHERE email = ?", (EMAIL,))[0]
    candidate = Member(member_id, EMAIL, "")
    for voucher in (claire, karim):
        assert kit.vouch(voucher, candidate, "Quintard-Valmore").status_code == 201
    # showing her specialty is opt-in: she ticks it on her account page (the service's cookie session)
    page.goto(live.network.comments_url + "account")
    page.check("#f-show_specialty")
    page.get_by_role("button", name="Enregistrer").first.click()
    expect(page.locator(".notice")).to_contain_text("Vos réglages sont enregistrés")

    # 4. Back on the blog: her pseudonym and badge, no name or e-mail field; she posts, the badge shows.
    page.goto(url)
    expect(account).to_contain_text(f"Connecté·e : {PSEUDONYM}")
    expect(account.get_by_role("link", name="Mon profil")).to_have_attribute(
        "href", live.network.comments_url + "account"
    )
    expect(account.locator(".badge--verified")).to_contain_text("Médecin vérifié · Médecine générale")
    expect(explain).not_to_contain_text("pas encore vérifiée")
    expect(page.locator("#cf-author")).to_be_hidden()
    expect(page.locator("#cf-email")).to_be_hidden()
    api_calls.clear()
    publish(page, "Un avis de généraliste, entre confrères.")
    expect(page.get_by_role("status")).to_have_text("Votre commentaire a été publié.")
    posted = comment_article(page, "Un avis de généraliste")
    expect(posted.locator(".comment-author")).to_have_text(PSEUDONYM)
    badge = posted.locator(".badge--verified")
    expect(badge).to_contain_text("Médecin vérifié · Médecine générale")
    expect(badge).to_have_attribute("title", "Inscription au RPPS vérifiée (parrainage de deux confrères vérifiés)")
    post = next(r for r in api_calls if r.method == "POST" and r.url.endswith("/api/comments"))
    assert post.headers["authorization"].startswith("Bearer cfs1_")
    assert json.loads(post.post_data)["author"] == PSEUDONYM

    # 5. Her declaration of interests beside her comments; reads never carry the session.
    token = stored(page, SESSION_KEY)
    assert live.client.patch(
        "/api/account", json={"interests": "Aucun lien avec l'industrie *pharmaceutique*."},
        headers={"Authorization": f"Bearer {token}"},
    ).status_code == 200
    api_calls.clear()
    page.reload()
    posted = comment_article(page, "Un avis de généraliste")
    interests = posted.locator("details.comment-interests")
    expect(interests.locator("summary")).to_have_text(f"Liens d'intérêts déclarés par {PSEUDONYM}")
    expect(interests.locator("em")).to_be_hidden()
    interests.locator("summary").click()
    expect(interests.locator("em")).to_have_text("pharmaceutique")
    reads = [r for r in api_calls if r.method == "GET" and "/api/comments?" in r.url]
    assert reads and all("authorization" not in r.headers for r in reads)

    # 6. Nothing on the page says who she is.
    html = page.content()
    for secret in ("Quintard", "Valmore", "Éléonore", "Eléonore", EMAIL, "cabinet-discret", CANDIDATE):
        assert secret not in html, secret
    assert not page.js_errors


def test_entre_confreres_thread_explains_and_offers_the_next_step(live_network, page, tmp_path):
    live = live_network()
    import_people(live.app, tmp_path)
    kit = Kit(live.app, live.client)
    url = live.post_url("entre-nous")
    explain = page.locator(".comments-explain")
    text = "Fil entre confrères : lisible par tous ; seuls les médecins vérifiés peuvent y répondre."

    open_thread(page, url)  # signed out: sign in first
    expect(explain).to_contain_text(text)
    expect(explain).to_contain_text("Vous êtes médecin ? Connectez-vous (lien par e-mail)")
    expect(page.locator(".comments-notice")).to_be_hidden()  # the page's static notice gives way
    expect(sign_in_button(page)).to_be_visible()
    expect(page.locator(".comments-form")).to_have_count(0)

    member = kit.member(display_name="Dr Pas-Encore")  # signed in, not verified: the verification page
    back_from_link(page, url, member.token)
    expect(page.locator(".comments-account")).to_contain_text("Connecté·e : Dr Pas-Encore")
    verification = explain.get_by_role("link", name="Faire vérifier mon inscription")
    expect(verification).to_have_attribute("href", live.network.comments_url + "verification")
    expect(page.locator(".comments-form")).to_have_count(0)

    claire = kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire Lefebvre")  # verified: the form
    back_from_link(page, url, claire.token)
    expect(page.locator("#cf-text")).to_be_visible()
    expect(explain).to_have_text(text)

    # Revoked while the page is open: the service answers 403 confreres_only; the widget says why and what next.
    db = connect(live.app.config["DB"])
    try:
        with live.app.app_context():
            verify.revoke(live.app, db, claire.id, "Erreur de saisie (test)")
    finally:
        db.close()
    publish(page, "Entre nous, confrères.")
    expect(page.get_by_role("status")).to_contain_text("Ce fil est réservé aux médecins vérifiés")
    expect(page.locator(".comments-form")).to_have_count(0)
    expect(verification).to_be_visible()
    assert live.sql("SELECT COUNT(*) FROM comments") == [(0,)]
    assert not page.js_errors


def test_answers_and_mentions_are_shown_in_the_live_thread(live_network, page, tmp_path):
    live = live_network()
    import_people(live.app, tmp_path)
    Kit(live.app, live.client).verified(KARIM, "Benali", "Karim", "Dr Karim Benali", sites=("dr-b",))  # dr-b's author
    target = live.post_url("dr-a-billet-2")
    blog_b = live.network.sites[1]
    posts = json.loads((live.network.output / "dr-b" / "posts.json").read_text(encoding="utf-8"))["posts"]
    answer = f"{blog_b.url}reponse.html"
    posts.append({"url": answer, "title": "Ma réponse au confrère", "date": "2025-05-01T10:00:00Z", "reply_to": target,
                  "excerpt": "<img src=x onerror=\"window.__xss=1\"> Un extrait, en texte."})
    response = live.client.put(
        "/api/sites/dr-b/posts", json={"posts": posts},
        headers={"Authorization": f"Bearer {site_token(LIVE_SECRET, 'dr-b')}"},
    )
    assert response.status_code == 200, response.get_json()
    db = connect(live.app.config["DB"])
    try:
        entry = mention_source.Entry(
            type="reply", url="https://ailleurs.example/billet", author_name="Dr Externe",
            author_url="https://ailleurs.example/", title="Un avis d'ailleurs", html="<p>Très <em>juste</em>.</p>",
            published="2025-05-02T10:00:00Z",
        )
        mention_rows.save_mention(db, get_post(db, target), entry.url, target, entry, "none")
    finally:
        db.close()

    open_thread(page, target)
    answers = page.get_by_role("region", name="Réponses des confrères")
    entry_answer = answers.locator("li.answer")
    expect(entry_answer).to_contain_text("Dr Dr-B a répondu sur son blog : « Ma réponse au confrère » — Blog dr-b")
    expect(entry_answer.get_by_role("link", name="« Ma réponse au confrère »")).to_have_attribute("href", answer)
    excerpt = live.client.get("/api/comments", query_string={"url": target}).get_json()["answers"][0]["excerpt"]
    assert "Un extrait, en texte." in excerpt
    expect(entry_answer.locator(".excerpt")).to_have_text(excerpt)  # as text, whatever it holds
    expect(entry_answer.locator(".badge--verified")).to_contain_text("Médecin vérifié")  # from the records
    expect(entry_answer.locator(".badge--verified")).to_have_attribute("title", re.compile("vérifiée"))
    expect(entry_answer.locator("time")).to_have_text("le 1er mai 2025")

    mentions = page.get_by_role("region", name="Mentions")
    mention = mentions.locator("li.mention")
    expect(mention).to_contain_text("a répondu sur « Un avis d'ailleurs »")
    expect(mention.get_by_role("link", name="Dr Externe")).to_have_attribute("href", "https://ailleurs.example/")
    expect(mention.get_by_role("link", name="« Un avis d'ailleurs »")).to_have_attribute("rel", "nofollow ugc noopener")
    expect(mention.locator(".comment-text em")).to_have_text("juste")
    assert page.locator(".comments-links img, .comments-links script").count() == 0
    assert page.evaluate("window.__xss") is None
    assert not page.js_errors


def test_sign_out_and_sessions_that_died_are_dropped(live_network, page):
    live = live_network()
    kit = Kit(live.app, live.client)
    url = live.post_url("dr-b-billet-0", site=1)
    status = page.get_by_role("status")

    member = kit.member(display_name="Dr Passage")
    back_from_link(page, url, member.token)
    expect(page.locator(".comments-account")).to_contain_text("Connecté·e : Dr Passage")
    page.get_by_role("button", name="Se déconnecter").click()
    expect(status).to_have_text("Vous êtes déconnecté·e.")
    expect(sign_in_button(page)).to_be_focused()
    assert stored(page, SESSION_KEY) == ""
    assert live.client.get("/api/account", headers=member.headers).status_code == 401  # ended on the service too

    back_from_link(page, url, "cfs1_" + "x" * 43)  # an unknown session in the link
    expect(status).to_have_text("Ce lien de connexion n'est plus valable : demandez-en un nouveau.")
    expect(sign_in_button(page)).to_be_visible()
    assert page.url == url and stored(page, SESSION_KEY) == ""

    # Expired while the page is open: nothing is posted as a guest, the text stays, the fields come back.
    other = kit.member(display_name="Dr Expire")
    back_from_link(page, url, other.token)
    expect(page.locator("#cf-author")).to_be_hidden()
    live.sql("UPDATE sessions SET expires = '2000-01-01T00:00:00Z'")
    publish(page, "Écrit trop tard.")
    expect(status).to_have_text("Votre session a expiré : reconnectez-vous. Votre texte est conservé.")
    expect(page.locator("#cf-text")).to_have_value("Écrit trop tard.")
    expect(page.locator("#cf-author")).to_be_visible()
    expect(sign_in_button(page)).to_be_visible()
    assert live.sql("SELECT COUNT(*) FROM comments") == [(0,)]

    # Expired before the page opens: dropped on load.
    page.evaluate("([k, v]) => localStorage.setItem(k, JSON.stringify(v))", [SESSION_KEY, other.token])
    page.reload()
    expect(sign_in_button(page)).to_be_visible()
    assert stored(page, SESSION_KEY) == ""
    assert not page.js_errors


def _posted_as_a_member(live_network, page, moderation: str, text: str):
    """A member signed in on this browser (a shared computer's) posts `text`; its article in the thread."""
    live = live_network(moderation=moderation)
    member = Kit(live.app, live.client).member(display_name="Dr Garde")
    back_from_link(page, live.post_url("dr-b-billet-0", site=1), member.token)
    expect(page.locator(".comments-account")).to_contain_text("Connecté·e : Dr Garde")
    publish(page, text)
    return comment_article(page, text)


def _sign_out(page):
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("status")).to_have_text("Vous êtes déconnecté·e.")


def test_signing_out_forgets_this_browsers_edit_tokens(live_network, page):
    """A member who comments from a shared computer (a hospital's) and signs out: whoever uses that browser next
    gets neither « Modifier » nor « Supprimer » on the verified doctor's comment."""
    mine = _posted_as_a_member(live_network, page, "none", "Écrit pendant la garde.")
    expect(mine.get_by_role("button", name="Modifier votre commentaire")).to_be_visible()
    assert stored(page, "confreres.comments")  # its edit token, kept in this browser

    _sign_out(page)
    expect(mine.get_by_role("button", name="Modifier votre commentaire")).to_have_count(0)
    assert stored(page, "confreres.comments") in ({}, None)
    page.reload()  # the next person at that computer
    mine = comment_article(page, "Écrit pendant la garde.")
    expect(mine).to_be_visible()
    expect(mine.get_by_role("button", name="Modifier votre commentaire")).to_have_count(0)
    expect(mine.get_by_role("button", name="Supprimer votre commentaire")).to_have_count(0)
    assert not page.js_errors


def test_signing_out_hides_ones_waiting_comment(live_network, page):
    """The same with a comment waiting for moderation: shown to its writer only, gone once they sign out."""
    mine = _posted_as_a_member(live_network, page, "all", "En attente pendant la garde.")
    expect(mine.locator(".comment-pending")).to_be_visible()
    _sign_out(page)
    expect(mine).to_have_count(0)
    page.reload()
    expect(page.locator(".comments-app")).to_be_visible()
    expect(comment_article(page, "En attente pendant la garde.")).to_have_count(0)
    assert not page.js_errors


def test_edit_after_a_reload_starts_from_the_servers_source_and_deadline(live_network, page):
    live = live_network(moderation="none")
    url = live.post_url("dr-b-billet-1", site=1)
    open_thread(page, url)
    publish(page, "Premier jet, *à reprendre*.")
    mine = comment_article(page, "Premier jet")
    expect(mine.locator(".comment-window")).to_have_text(re.compile(r"^Modifiable encore 1[45] minutes$"))
    assert "Premier jet" not in json.dumps(stored(page, "confreres.comments")), "no Markdown kept in the browser"

    # The service holds the source (changed here behind the widget's back) and the deadline (1 minute left).
    live.sql(
        "UPDATE comments SET text = 'La source **du service**.',"
        " created = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-14 minutes')"
    )
    page.reload()
    mine = comment_article(page, "Premier jet")
    mine.get_by_role("button", name="Modifier votre commentaire").click()
    editor = page.get_by_role("textbox", name="Modifier votre commentaire")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("La source **du service**.")
    editor.fill("Version *corrigée*.")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_have_text("Votre commentaire a été modifié.")
    mine = comment_article(page, "Version")
    expect(mine.locator("em")).to_have_text("corrigée")
    expect(mine.locator(".comment-window")).to_have_text("Modifiable encore 1 minute")
    assert live.sql("SELECT text FROM comments") == [("Version *corrigée*.",)]

    # The service's deadline wins over the browser's: past it, no editor, and the buttons go.
    live.sql("UPDATE comments SET created = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-20 minutes')")
    mine.get_by_role("button", name="Modifier votre commentaire").click()
    expect(page.get_by_role("status")).to_have_text("Le délai de modification de ce commentaire est dépassé.")
    expect(page.get_by_role("textbox", name="Modifier votre commentaire")).to_have_count(0)
    expect(mine.get_by_role("button", name="Modifier votre commentaire")).to_have_count(0)
    assert not page.js_errors


def test_a_member_edits_and_deletes_from_another_device_with_the_session_alone(live_network, page):
    """Written elsewhere (no edit token in this browser): the session is the proof, within the edit window."""
    live = live_network(moderation="none")
    kit = Kit(live.app, live.client)
    url = live.post_url("dr-b-billet-2", site=1)
    writer, other = kit.member(display_name="Dr Nomade"), kit.member(display_name="Dr Voisine")
    for member, text in ((writer, "Écrit sur mon *téléphone*."), (other, "Le commentaire d'une autre."),
                         (writer, "Un second, à effacer.")):
        posted = live.client.post("/api/comments", json={"url": url, "text": text}, headers=member.headers)
        assert posted.status_code == 201, posted.get_data(as_text=True)
    api_calls = []
    page.on("request", lambda r: api_calls.append(r) if "/comments/api/" in r.url else None)

    back_from_link(page, url, writer.token)  # a fresh browser context: no local edit token at all
    assert stored(page, "confreres.comments") in ({}, None)
    expect(page.locator(".comments-account")).to_contain_text("Connecté·e : Dr Nomade")
    theirs = comment_article(page, "Le commentaire d'une autre")
    expect(theirs.get_by_role("button", name="Modifier votre commentaire")).to_have_count(0)
    expect(theirs.get_by_role("button", name="Signaler le commentaire de Dr Voisine")).to_be_visible()
    mine = comment_article(page, "Écrit sur mon")
    expect(mine.locator(".comment-window")).to_have_text(re.compile(r"^Modifiable encore 1[45] minutes$"))
    listings = [r for r in api_calls if "/api/account/comments?" in r.url]
    assert len(listings) == 1 and listings[0].headers["authorization"] == f"Bearer {writer.token}"

    mine.get_by_role("button", name="Modifier votre commentaire").click()
    editor = page.get_by_role("textbox", name="Modifier votre commentaire")
    expect(editor).to_have_value("Écrit sur mon *téléphone*.")
    editor.fill("Corrigé depuis l'*ordinateur*.")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_have_text("Votre commentaire a été modifié.")
    expect(comment_article(page, "Corrigé depuis").locator("em")).to_have_text("ordinateur")
    assert live.sql("SELECT text FROM comments WHERE text LIKE 'Corrigé%'") == [("Corrigé depuis l'*ordinateur*.",)]
    patch = next(r for r in api_calls if r.method == "PATCH")
    assert patch.headers["authorization"] == f"Bearer {writer.token}" and "x-edit-token" not in patch.headers

    page.once("dialog", lambda dialog: dialog.accept())
    comment_article(page, "Un second").get_by_role("button", name="Supprimer votre commentaire").click()
    expect(page.get_by_role("status")).to_have_text("Votre commentaire a été supprimé.")
    expect(page.locator(".comments-live")).not_to_contain_text("Un second")
    assert live.sql("SELECT COUNT(*) FROM comments") == [(2,)]

    # Signed out, the same browser offers nothing on those comments any more.
    page.get_by_role("button", name="Se déconnecter").click()
    expect(comment_article(page, "Corrigé depuis").get_by_role("button", name="Modifier votre commentaire")).to_have_count(0)
    reads = [r for r in api_calls if r.method == "GET" and "/api/comments?" in r.url]
    assert reads and all("authorization" not in r.headers for r in reads), "thread reads stay cacheable"
    assert not page.js_errors


def test_a_member_without_a_name_is_invited_to_choose_one_and_still_types_one(live_network, page):
    live = live_network()
    kit = Kit(live.app, live.client)
    url = live.post_url("dr-b-billet-0", site=1)
    member = kit.member(display_name="")
    back_from_link(page, url, member.token)
    account = page.locator(".comments-account")
    expect(account).to_contain_text("Connecté·e — choisissez un nom sur votre compte")
    expect(account).not_to_contain_text("sans nom")
    expect(account.get_by_role("link", name="votre compte")).to_have_attribute(
        "href", live.network.comments_url + "account"
    )
    expect(page.locator("#cf-author")).to_be_visible()
    expect(page.locator("#cf-email")).to_be_hidden()
    page.locator("#cf-author").fill("Lectrice du soir")
    publish(page, "Merci pour ce billet.")
    expect(comment_article(page, "Merci pour ce billet.")).to_contain_text("Lectrice du soir")
    assert not page.js_errors
