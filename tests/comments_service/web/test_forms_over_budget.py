"""Over the write budget (429), the service's forms come back with what was typed, the reason in French and
Retry-After, as the no-JS comment form does (web/forms.keep_typed_when_refused): the budget is spent before the
view runs, and a bare error page lost what the visitor had typed."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from tests.comments_service.domain.test_verification import declared, kit_cookie
from tests.comments_service.verification_kit import CANDIDATE, CLAIRE, Kit, import_people
from tests.conftest import COMMENTS_URL

TYPED_NAME = "Quintard-Valmore"


@pytest.fixture
def app(make_app):
    # a budget no setup step reaches; `spend` lowers it (read at each request) and uses it up
    return make_app(RATE_LIMIT="1000/minute")


@pytest.fixture
def kit(app, tmp_path):
    import_people(app, tmp_path)
    return Kit(app, app.test_client())


def spend(app, urls):
    """The write budget of this client's address (every test client is 127.0.0.1), used up."""
    app.config["RATE_LIMIT"] = "1/minute"
    comment = app.test_client().post("/api/comments", json={"url": urls.POST_B, "text": "Le seul envoi permis."})
    assert comment.status_code == 201


def browser(app, kit, member):
    client = app.test_client()
    client.set_cookie("confreres_session", kit_cookie(kit, member))
    return client


def hidden(response, action: str) -> dict:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    form = soup.find("form", action=lambda a: a and a.endswith(action))
    return {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}


def refused(response) -> BeautifulSoup:
    """The page of a form refused over the budget: 429, Retry-After, the French reason in its error summary."""
    assert response.status_code == 429, response.get_data(as_text=True)[:500]
    assert int(response.headers["Retry-After"]) > 0 and response.mimetype == "text/html"
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    summary = soup.find(id="erreurs")
    assert summary is not None and summary["role"] == "alert", response.get_data(as_text=True)[:2000]
    assert "Patientez une minute" in summary.get_text() and "conservé" in summary.get_text()
    return soup


def test_the_sign_in_form(app, urls):
    client = app.test_client()
    back = "/thread?url=" + urls.POST_B
    fields = hidden(client.get("/auth", query_string={"return": back}), "/auth")
    spend(app, urls)
    soup = refused(client.post("/auth", data={**fields, "email": "zoe@exemple.fr"}))
    assert soup.find(id="f-email")["value"] == "zoe@exemple.fr"
    assert soup.find("input", attrs={"name": "return"})["value"] == back  # back to the thread once signed in
    assert soup.find("input", attrs={"name": "csrf"})["value"]


def test_the_letters_form(app, urls):
    client = app.test_client()
    fields = hidden(client.get("/lettre"), "/lettre")
    spend(app, urls)
    typed = {**fields, "email": "zoe@exemple.fr", "frequency": "daily", "sites": ["dr-b"]}
    soup = refused(client.post("/lettre", data=typed))
    assert soup.find(id="f-email")["value"] == "zoe@exemple.fr"
    assert soup.find(id="f-frequency-daily").has_attr("checked")
    assert soup.find(id="f-site-dr-b").has_attr("checked") and not soup.find(id="f-site-dr-a").has_attr("checked")


def test_the_account_forms(app, kit, urls, actions):
    member = kit.member(email="lea@exemple.fr", display_name="Léa")
    client = browser(app, kit, member)
    fields = hidden(client.get("/account"), "/account")
    spend(app, urls)
    typed = {**fields, "display_name": "Dr Pseudo", "interests": "Consultante pour un laboratoire\r\n(2024).",
             "notify_comments": "daily"}
    soup = refused(client.post("/account", data=typed))
    assert soup.find(id="f-display_name")["value"] == "Dr Pseudo"
    assert soup.find(id="f-interests").get_text() == "Consultante pour un laboratoire\n(2024)."
    assert soup.find(id="f-notify_comments-daily").has_attr("checked")
    assert actions.sql("SELECT display_name FROM accounts WHERE id = ?", (member.id,))[0][0] == "Léa"  # nothing saved
    # the deletion keeps the choice made; its confirmation is to tick again
    soup = refused(client.post("/account/delete", data={**fields, "comments": "keep", "confirm": "1"}))
    assert soup.find(id="f-comments-keep").has_attr("checked")
    assert actions.sql("SELECT COUNT(*) FROM accounts WHERE id = ?", (member.id,))[0][0] == 1
    # a session that is over: the service's usual page, nothing of an account shown
    gone = app.test_client()
    gone.set_cookie("confreres_session", "cfs1_" + "x" * 43)
    response = gone.post("/account", data=typed)
    assert response.status_code == 429 and "Dr Pseudo" not in response.get_data(as_text=True)


def test_the_declaration_and_the_vouching_forms(app, kit, urls, actions):
    candidate = kit.member(display_name="Stéthoscope bleu")
    client = browser(app, kit, candidate)
    fields = hidden(client.get("/verification"), "/verification")
    other = declared(kit, display_name="Stéthoscope vert")
    link = kit.client.get("/api/verification", headers=other.headers).get_json()["links"]["vouch"]
    path = "/" + link.removeprefix(COMMENTS_URL)  # the service's links are on comments_url
    claire = kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire Lefebvre")
    voucher = browser(app, kit, claire)
    vouch_fields = hidden(voucher.get(path), path)
    spend(app, urls)
    typed = {**fields, "rpps": CANDIDATE, "last_name": TYPED_NAME, "first_name": "Éléonore",
             "display_name": "Stéthoscope bleu"}
    soup = refused(client.post("/verification", data=typed))
    for name in ("rpps", "last_name", "first_name", "display_name"):
        assert soup.find(id=f"f-{name}")["value"] == typed[name]
    assert kit.status(candidate)["level"] is None  # nothing declared
    soup = refused(voucher.post(path, data={**vouch_fields, "last_name": TYPED_NAME}))
    assert soup.find(id="f-last_name")["value"] == TYPED_NAME
    assert actions.sql("SELECT COUNT(*) FROM vouches")[0][0] == 0


def test_the_moderators_forms(app, kit, urls, actions):
    candidate = declared(kit)
    claire = kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire Lefebvre")
    moderator = browser(app, kit, kit.member(display_name="Modératrice", role="moderator"))
    fields = hidden(moderator.get("/verification/examen"), f"/verification/examen/{candidate.id}")
    reader = browser(app, kit, kit.member(display_name="Lecteur"))
    spend(app, urls)
    typed = {**fields, "proof": "ordinal", "rpps": CANDIDATE, "reason": "Carte ordinale vue en visio"}
    soup = refused(moderator.post(f"/verification/examen/{candidate.id}", data=typed))
    assert soup.find(id=f"f-rpps-{candidate.id}")["value"] == CANDIDATE
    assert soup.find(id=f"f-reason-{candidate.id}")["value"] == "Carte ordinale vue en visio"
    assert soup.find(id=f"f-proof-{candidate.id}").find("option", selected=True)["value"] == "ordinal"
    soup = refused(moderator.post(f"/verification/revoquer/{claire.id}", data={**fields, "reason": "Radiée"}))
    assert soup.find(id=f"f-reason-{claire.id}")["value"] == "Radiée"
    assert kit.status(candidate)["level"] == "declared" and kit.status(claire)["level"] == "verified"
    # a member who is not a moderator is not shown the moderators' page, over the budget or not
    response = reader.post(f"/verification/examen/{candidate.id}", data=typed)
    assert response.status_code == 429 and "Carte ordinale" not in response.get_data(as_text=True)
    assert "Stéthoscope bleu" not in response.get_data(as_text=True)


def test_the_comment_moderation_forms(app, kit, urls, actions):
    moderator = browser(app, kit, kit.member(display_name="Modératrice", role="moderator"))
    comment = actions.comment("En attente", url=urls.POST_A, author="Paul")["comment"]["id"]
    fields = hidden(moderator.get("/moderation"), f"/moderation/{comment}")
    spend(app, urls)
    soup = refused(moderator.post(f"/moderation/{comment}", data={**fields, "action": "block", "address": "1"}))
    assert soup.find(id=f"address-{comment}").has_attr("checked"), "the box as ticked"
    assert "Patientez une minute" in soup.find(id=f"block-err-{comment}").get_text()
    soup = refused(moderator.post(f"/moderation/{comment}", data={**fields, "action": "approve"}))
    assert soup.find(id=f"c-{comment}") is not None and not soup.find(id=f"address-{comment}").has_attr("checked")
    soup = refused(moderator.post("/moderation/instances", data={**fields, "action": "block", "host": "spam.example"}))
    assert soup.find(id="instance-host")["value"] == "spam.example"
    for path in ("/moderation/mentions/1", "/moderation/blocks/1"):  # nothing typed: the page, its reason
        refused(moderator.post(path, data={**fields, "action": "approve"}))
    assert actions.sql("SELECT status FROM comments WHERE id = ?", (comment,))[0][0] == "pending", "nothing decided"
    assert actions.sql("SELECT (SELECT COUNT(*) FROM author_blocks) + (SELECT COUNT(*) FROM fed_blocked_hosts)")[0][0] == 0
    # a member who moderates nothing is not shown the queue, over the budget or not
    reader = browser(app, kit, kit.member(display_name="Lecteur"))
    response = reader.post("/moderation/instances", data={**fields, "action": "block", "host": "spam.example"})
    assert response.status_code == 429 and "spam.example" not in response.get_data(as_text=True)
