"""Medical secrecy on comments (issue 15): a comment that could identify a patient waits for moderation whatever
the blog's policy, its author is told why in French, its moderators see the flagged spans, nothing of it shows in
public while it waits; POST /api/secrecy-check warns as one types; the posts' build warnings reach the moderators."""

from __future__ import annotations

import pytest

from tests.comments_service.web.test_moderation_pages import browser  # noqa: F401 (the fixture)
from tests.conftest import Actions

PHONE = "06 12 34 56 78"
NIR = "1 84 12 75 123 456 40"


@pytest.fixture
def app(make_app, smtp):
    return make_app(**smtp.config)


def public_outputs(actions, urls) -> str:
    """Everything a stranger can read of the threads: API pages, counts, feeds, the no-JS page, debates."""
    client = actions.client
    reads = [
        actions.thread(urls.POST_B), actions.thread(urls.POST_A), actions.counts(urls.POST_B),
        client.get("/feeds/recent.atom"), client.get("/feeds/site/dr-b.atom"),
        client.get("/feeds/thread.atom", query_string={"url": urls.POST_B}),
        client.get("/thread", query_string={"url": urls.POST_B}), client.get("/api/threads/active"),
    ]
    for response in reads:
        assert response.status_code == 200, (response.request.path, response.status_code)
    return "\n".join(r.get_data(as_text=True) for r in reads)


def test_a_phone_is_held_on_an_auto_approve_blog_the_author_told_why(actions, urls):
    """dr-b publishes every comment at once (moderation = "none"): not one with a phone number."""
    assert actions.comment("Merci, très clair.", url=urls.POST_B)["status"] == "approved"
    body = actions.comment(f"Ma voisine, appelez-la au {PHONE} !", url=urls.POST_B)
    assert body["status"] == "pending"
    assert "numéro de téléphone" in body["reason"] and "secret médical" in body["reason"]
    assert body["reason"].startswith("il contient un numéro de téléphone (« 06 12 34 56 78 »)")
    assert body["message"] == "Votre commentaire est en attente de modération : " + body["reason"]  # the widget says it
    flag = body["secrecy"][0]
    assert flag["kind"] == "telephone" and body["text"][flag["start"]:flag["end"]] == PHONE
    stored = actions.sql("SELECT status, secrecy FROM comments WHERE id = ?", (body["comment"]["id"],))[0]
    assert stored["status"] == "pending" and "numéro de téléphone" in stored["secrecy"]
    # its author sees it again with the reason (GET with the edit token)
    own = actions.client.get(f"/api/comments/{body['comment']['id']}", headers={"X-Edit-Token": body["edit_token"]})
    assert own.get_json()["reason"] == body["reason"]
    seen = public_outputs(actions, urls)
    assert "Merci, très clair." in seen, "the outputs read are the real ones"
    assert PHONE not in seen and "voisine" not in seen


def test_a_nir_is_held_too_even_for_a_verified_member_the_blog_author_a_moderator(app, actions, urls, tmp_path):
    from tests.comments_service.verification_kit import CLAIRE, Kit, import_people

    import_people(app, tmp_path)
    kit = Kit(app, actions.client)
    claire = kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire L")
    bruno = kit.member(display_name="Dr Bruno B", role="author", sites=("dr-b",))
    moderator = kit.member(display_name="Modération", role="moderator")
    profiles = 0
    for member, url in ((claire, urls.POST_A), (bruno, urls.POST_B), (moderator, urls.POST_A)):
        clean = actions.post(f"Publié à l'instant (n° {member.id}).", url=url, headers=member.headers)
        assert clean.status_code == 201 and clean.get_json()["status"] == "approved", clean.get_data(as_text=True)
        held = actions.post(f"Son numéro de sécu, {NIR}, à ne pas publier (n° {member.id}).", url=url,
                            headers=member.headers)
        assert held.status_code == 201, held.get_data(as_text=True)
        assert held.get_json()["status"] == "pending", member.email
        assert "numéro de sécurité sociale" in held.get_json()["reason"]
        profile = clean.get_json()["comment"]["author"]["profile"]
        if profile:  # the member's public profile lists their latest comments
            page = actions.open(profile)
            assert page.status_code == 200 and f"(n° {member.id})" in page.get_data(as_text=True)
            assert NIR not in page.get_data(as_text=True)
            profiles += 1
    assert profiles and NIR not in public_outputs(actions, urls)


def test_an_edit_that_adds_a_phone_takes_the_comment_back_to_moderation(actions, urls):
    body = actions.comment("Bonne idée.", url=urls.POST_B)
    assert body["status"] == "approved"
    edited = actions.edit(body["comment"]["id"], body["edit_token"], f"Bonne idée, appelez le {PHONE}.")
    assert edited.status_code == 200
    assert edited.get_json()["status"] == "pending" and "numéro de téléphone" in edited.get_json()["reason"]
    assert PHONE not in public_outputs(actions, urls)


def test_the_no_js_form_warns_first_then_says_why_and_shows_the_text_sent(actions, urls):
    page = actions.client.get("/thread", query_string={"url": urls.POST_B})
    text = f"Mon père, né le 3 mars 1950, joignable au {PHONE}."
    warned = actions.submit(page, "/thread", text=text, author="Lectrice")
    assert warned.status_code == 200
    html = warned.get_data(as_text=True)
    assert "Secret médical : votre texte contient une date de naissance complète (« né le 3 mars 1950 »)" in html
    assert f">{text}</textarea>" in html and 'value="Lectrice"' in html, "what was typed, given back"
    assert 'name="secret_ok"' in html
    assert actions.sql("SELECT COUNT(*) FROM comments")[0][0] == 0, "nothing sent yet"
    sent = actions.submit(warned, "/thread", text=text, author="Lectrice", secret_ok="1")
    assert sent.status_code == 202
    html = sent.get_data(as_text=True)
    assert "en attente de modération" in html
    assert "il contient une date de naissance complète (« né le 3 mars 1950 ») et un numéro de téléphone" in html
    assert f'<textarea id="f-held" rows="6" readonly>{text}</textarea>' in html
    assert actions.sql("SELECT status FROM comments")[0]["status"] == "pending"
    stranger = actions.client.application.test_client()  # (its writer sees it, waiting: their edit token's cookie)
    assert PHONE not in stranger.get("/thread", query_string={"url": urls.POST_B}).get_data(as_text=True)
    # corrected after the warning: published as the blog's policy says (dr-b: at once)
    again = actions.client.get("/thread", query_string={"url": urls.POST_B})
    warned = actions.submit(again, "/thread", text=f"Joignable au {PHONE}.", author="Lecteur")
    corrected = actions.submit(warned, "/thread", text="Joignable par son médecin.", author="Lecteur")
    assert corrected.status_code == 303 and "merci=approved" in corrected.headers["Location"]


def test_the_moderators_see_the_flagged_spans(actions, urls, browser):  # noqa: F811
    actions.comment(f"Sa fille <b>Julie</b> : {PHONE}, et Mme Durand aussi.", url=urls.POST_B, author="Lecteur")
    bruno = browser("bruno@docteur-b.test", role="author", sites=["dr-b"], name="Dr Bruno B")
    page = bruno.client.get("/moderation").get_data(as_text=True)
    assert "Secret médical :" in page
    assert f'<mark class="secret" title="un numéro de téléphone">{PHONE}</mark>' in page
    assert '<mark class="secret" title="ce qui ressemble au nom d&#39;un patient">Mme Durand</mark>' in page
    assert "&lt;b&gt;Julie&lt;/b&gt;" in page, "the source is shown escaped"
    item = bruno.client.get("/api/moderation/queue").get_json()["items"][0]
    assert [f["text"] for f in item["secrecy"]["flags"]] == [PHONE, "Mme Durand"]
    assert "numéro de téléphone" in item["secrecy"]["reason"]


def test_the_moderation_mails_mark_the_spans(actions, smtp, urls, confreres):
    """The mail at once, its one-click link's confirmation page, and the daily digest."""
    bruno = actions.make_account("bruno@docteur-b.test", role="author", sites=["dr-b"], name="Dr Bruno B")
    actions.comment(f"Appelez-la au {PHONE}.", url=urls.POST_B)
    mail = smtp.mailbox.expect(to="bruno@docteur-b.test", subject="Commentaire à valider")
    assert f"⟦{PHONE}⟧" in mail.text
    assert "Secret médical : il contient un numéro de téléphone" in mail.text
    confirm = actions.open(mail.link("/moderation/act")).get_data(as_text=True)
    assert f'<mark class="secret" title="un numéro de téléphone">{PHONE}</mark>' in confirm

    actions.sql("UPDATE accounts SET notify_comments = 'daily' WHERE id = ?", (bruno["id"],))
    actions.comment("Ou écrivez à jeanne.durand58@orange.fr, merci.", url=urls.POST_B)
    assert confreres("notify", "digest").exit_code == 0
    digest = smtp.mailbox.expect(to="bruno@docteur-b.test", subject="Résumé du jour")
    assert "⟦jeanne.durand58@orange.fr⟧" in digest.text
    assert "Secret médical : il contient une adresse e-mail" in digest.text


def test_secrecy_check_warns_as_one_types(actions, api_error):
    client = actions.client
    clean = client.post("/api/secrecy-check", json={"text": "Doliprane 1000 mg, revu le 12/03/2024."})
    assert clean.status_code == 200 and clean.get_json() == {"held": False, "message": "", "flags": []}
    answer = client.post("/api/secrecy-check", json={"text": f"Tél. {PHONE}"}).get_json()
    assert answer["held"] is True
    assert answer["message"].startswith("Secret médical : votre texte contient un numéro de téléphone")
    assert answer["flags"][0] | {} == {"kind": "telephone", "severity": "refuse", "label": "un numéro de téléphone",
                                        "start": 5, "end": 19, "line": 1, "column": 6, "text": PHONE}
    api_error(client.post("/api/secrecy-check", json={"texte": "x"}), 400, "invalid_type", "text")
    api_error(client.post("/api/secrecy-check", json={"text": "x" * 10_001}), 400, "too_long", "text")
    assert client.post("/api/secrecy-check", data="text=x").status_code == 415


def test_secrecy_check_is_limited_with_the_reads_not_the_writes(make_app, api_error):
    app = make_app(RATE_LIMIT="2/minute", READ_RATE_LIMIT="5/minute")
    client = app.test_client()
    for _ in range(5):
        assert client.post("/api/secrecy-check", json={"text": "Bonjour"}).status_code == 200
    api_error(client.post("/api/secrecy-check", json={"text": "Bonjour"}), 429)


def test_the_posts_build_warnings_reach_the_moderation_page_and_are_cleared(actions, urls, browser):  # noqa: F811
    warning = {"source": "content/cas.md", "line": 5, "column": 11, "kind": "patient",
               "reason": "ressemble au nom d'un patient : gardez une initiale", "text": "Mme Durand"}
    posts = [dict(p) for p in urls.POSTS["dr-a"]["posts"]]
    from confreres.site_token import site_token

    def announce(entries):
        response = actions.client.put("/api/sites/dr-a/posts", json={"posts": entries},
                                      headers=Actions.bearer(site_token(urls.SECRET, "dr-a")))
        assert response.status_code == 200, response.get_data(as_text=True)

    announce([{**posts[0], "secrecy": [warning, {"kind": "bogus"}]}, *posts[1:]])
    anne = browser("anne@dr-a.test", role="author", sites=["dr-a"], name="Dr Anne A")
    bruno = browser("bruno@docteur-b.test", role="author", sites=["dr-b"], name="Dr Bruno B")
    page = anne.client.get("/moderation").get_data(as_text=True)
    assert "1 billet à relire (secret médical)" in page
    assert ("content/cas.md, ligne 5, colonne 11 : ressemble au nom d&#39;un patient : gardez une initiale"
            in page)
    assert '(« <mark class="secret">Mme Durand</mark> »)' in page and "Premier billet" in page
    assert anne.client.get("/api/moderation/queue").get_json()["posts"] == [
        {"url": urls.POST_A, "title": "Premier billet", "site": "dr-a", "warnings": [warning]}]
    assert "Mme Durand" not in bruno.client.get("/moderation").get_data(as_text=True), "that blog's moderators only"
    assert "Mme Durand" not in public_outputs(actions, urls)
    announce(posts)  # a list without warnings (read back from posts.json): they stay
    assert "Mme Durand" in anne.client.get("/moderation").get_data(as_text=True)
    announce([{**posts[0], "secrecy": []}, *posts[1:]])  # the post was corrected
    page = anne.client.get("/moderation").get_data(as_text=True)
    assert "Mme Durand" not in page and "à relire" not in page
