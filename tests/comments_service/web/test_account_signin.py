"""Passwordless sign-in by e-mail magic link, through a real SMTP server: cookie and bearer sessions."""

import time

import pytest


@pytest.fixture
def app(make_app, smtp):
    return make_app(**smtp.config)


def test_magic_link_signs_in_with_a_first_party_cookie(actions, client, smtp):
    response = actions.request_link("nouvelle@exemple.fr")
    assert response.status_code == 202
    assert response.get_json()["status"] == "sent"

    mail = smtp.mailbox.expect(to="nouvelle@exemple.fr", subject="connexion")
    link = mail.link("/auth/verify?token=")
    assert "15 minutes" in mail.text
    page = actions.open(link)
    assert page.status_code == 200
    assert "nouvelle@exemple.fr" in page.get_data(as_text=True)
    assert not actions.sql("SELECT * FROM accounts"), "opening the link (or a scanner prefetching it) creates nothing"

    signed_in = actions.submit(page, "/auth/verify")
    assert signed_in.status_code == 303
    assert signed_in.headers["Location"].endswith("/account")
    cookie = signed_in.headers["Set-Cookie"]
    assert cookie.startswith("confreres_session=cfs1_")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie

    account = client.get("/api/account").get_json()["account"]
    assert account["email"] == "nouvelle@exemple.fr" and account["role"] == "member"
    assert "nouvelle@exemple.fr" in client.get("/account").get_data(as_text=True)
    stored = actions.sql("SELECT token_hash FROM sessions")
    assert len(stored) == 1 and "cfs1_" not in stored[0]["token_hash"], "only a hash of the session is stored"


def test_known_and_unknown_addresses_get_the_same_answer(actions, smtp):
    actions.make_account("connue@exemple.fr", name="Dr Connue")
    known = actions.request_link("connue@exemple.fr")
    unknown = actions.request_link("inconnue@exemple.fr")
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    assert known.headers.get("Content-Length") == unknown.headers.get("Content-Length")
    smtp.mailbox.expect(to="connue@exemple.fr")
    smtp.mailbox.expect(to="inconnue@exemple.fr")


def test_a_replayed_link_is_refused(actions, smtp):
    assert actions.sign_in("lea@exemple.fr").status_code == 303
    link = smtp.mailbox.expect(to="lea@exemple.fr").link("/auth/verify")
    again = actions.open(link)
    assert again.status_code == 410
    assert "déjà servi" in again.get_data(as_text=True)
    _, fields = actions.form(actions.client.get("/auth"))  # any fresh CSRF token of this browser
    replay = actions.client.post("/auth/verify", data={"token": link.split("token=")[1], "csrf": fields["csrf"]})
    assert replay.status_code == 410
    assert len(actions.sql("SELECT * FROM sessions")) == 1


def test_an_expired_link_is_refused(make_app, smtp, client):
    from tests.conftest import Actions

    app = make_app(**smtp.config, MAGIC_LINK_MAX_AGE=1)
    actions = Actions(app, app.test_client(), smtp.mailbox)
    actions.request_link("tard@exemple.fr")
    link = smtp.mailbox.expect(to="tard@exemple.fr").link("/auth/verify")
    time.sleep(2.2)
    page = actions.open(link)
    assert page.status_code == 410
    assert "expiré" in page.get_data(as_text=True)
    assert not actions.sql("SELECT * FROM accounts")


def test_a_tampered_link_is_invalid(actions, smtp):
    actions.request_link("x@exemple.fr")
    link = smtp.mailbox.expect(to="x@exemple.fr").link("/auth/verify")
    assert actions.open(link[:-3] + "abc").status_code == 400


def test_bearer_session_for_the_widget_on_another_origin(actions, client, smtp, urls):
    response = actions.sign_in("karim@exemple.fr", return_to=urls.POST_B + "#commentaires")
    location = response.headers["Location"]
    assert location.startswith(urls.POST_B + "#confreres-session=cfs1_"), location
    token = actions.session_token(response)

    fresh = actions.app.test_client()  # the blog's page: no cookie of the service at all
    origin = "https://docteur-b.example"
    me = fresh.get("/api/account", headers={**actions.bearer(token), "Origin": origin})
    assert me.status_code == 200
    assert me.headers["Access-Control-Allow-Origin"] == origin
    assert "Access-Control-Allow-Credentials" not in me.headers
    assert me.get_json()["session"]["kind"] == "bearer"

    posted = fresh.post("/api/comments", json={"url": urls.POST_B, "text": "Signé"}, headers=actions.bearer(token))
    assert posted.status_code == 201
    assert actions.sql("SELECT account_id FROM comments")[0]["account_id"] is not None
    # the session stays in Authorization; the edit token goes in X-Edit-Token
    edit_token = posted.get_json()["edit_token"]
    edited = fresh.patch(
        f"/api/comments/{posted.get_json()['comment']['id']}", json={"text": "Corrigé"},
        headers={**actions.bearer(token), "X-Edit-Token": edit_token},
    )
    assert edited.status_code == 200, edited.get_json()


def test_return_addresses_outside_the_network_are_refused(actions, api_error, client):
    api_error(actions.request_link("a@exemple.fr", **{"return": "https://ailleurs.example/"}), 400, "invalid_return", "return")
    api_error(actions.request_link("a@exemple.fr", **{"return": "//ailleurs.example/"}), 400, "invalid_return")
    api_error(actions.request_link("a@exemple.fr", **{"return": "javascript:alert(1)"}), 400, "invalid_return")
    assert actions.request_link("a@exemple.fr", **{"return": "/moderation"}).status_code == 202


def test_sign_in_to_a_service_page_comes_back_to_it(actions):
    response = actions.sign_in("moderatrice@exemple.fr", return_to="/moderation")
    assert response.headers["Location"].endswith("/moderation")
    assert "#" not in response.headers["Location"], "no bearer token for the service's own pages"


def test_sign_out_revokes_the_bearer_session(actions, smtp, urls, api_error):
    token = actions.session_token(actions.sign_in("bea@exemple.fr", return_to=urls.POST_A))
    fresh = actions.app.test_client()
    assert fresh.get("/api/account", headers=actions.bearer(token)).status_code == 200
    out = fresh.post("/api/auth/signout", headers=actions.bearer(token))
    assert out.status_code == 200 and out.get_json()["signed_out"] is True
    api_error(fresh.get("/api/account", headers=actions.bearer(token)), 401, "not_signed_in")
    assert len(actions.sql("SELECT * FROM sessions")) == 1, "the cookie session of the same sign-in remains"


def test_sign_out_everywhere_ends_every_session(actions, urls, api_error):
    first = actions.session_token(actions.sign_in("multi@exemple.fr", return_to=urls.POST_A))
    second = actions.session_token(actions.sign_in("multi@exemple.fr", return_to=urls.POST_B))
    fresh = actions.app.test_client()
    assert fresh.post("/api/auth/signout", json={"everywhere": True}, headers=actions.bearer(first)).status_code == 200
    api_error(fresh.get("/api/account", headers=actions.bearer(second)), 401)
    assert not actions.sql("SELECT * FROM sessions")


def test_sign_out_page_revokes_the_cookie_session(actions, client, api_error):
    actions.sign_in("page@exemple.fr")
    cookie = client.get_cookie("confreres_session").value
    account_page = client.get("/account")
    out = actions.submit(account_page, "/auth/signout")
    assert out.status_code == 303
    api_error(client.get("/api/account"), 401)
    client.set_cookie("confreres_session", cookie)  # a copy of the old cookie is worthless
    api_error(client.get("/api/account"), 401)


def test_sign_out_form_needs_its_csrf_token(actions, client):
    actions.sign_in("csrf@exemple.fr")
    assert client.post("/auth/signout", data={}).status_code == 403
    assert client.get("/api/account").status_code == 200


def test_an_expired_session_is_refused(actions, urls, api_error):
    token = actions.session_token(actions.sign_in("vieux@exemple.fr", return_to=urls.POST_A))
    actions.sql("UPDATE sessions SET expires = '2000-01-01T00:00:00Z'")
    api_error(actions.app.test_client().get("/api/account", headers=actions.bearer(token)), 401, "not_signed_in")


def test_session_cookie_is_secure_over_https(actions, smtp):
    actions.request_link("tls@exemple.fr")
    link = smtp.mailbox.expect(to="tls@exemple.fr").link("/auth/verify")
    path = actions.local(link)
    page = actions.client.get(path, base_url="https://localhost")
    target, fields = actions.form(page, "/auth/verify")
    response = actions.client.post(target, data=fields, base_url="https://localhost")
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]


def test_sign_in_page_reshows_the_typed_address(actions, client, smtp):
    page = client.get("/auth")
    assert page.status_code == 200 and "Recevoir mon lien" in page.get_data(as_text=True)
    bad = actions.submit(page, "/auth", email="pas-une-adresse")
    assert bad.status_code == 400
    assert 'value="pas-une-adresse"' in bad.get_data(as_text=True)
    assert "pas valide" in bad.get_data(as_text=True)
    forged = client.post("/auth", data={"email": "ok@exemple.fr"})
    assert forged.status_code == 403
    assert 'value="ok@exemple.fr"' in forged.get_data(as_text=True)
    sent = actions.submit(client.get("/auth"), "/auth", email="ok@exemple.fr")
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/auth/sent")
    assert "lien de connexion" in client.get("/auth/sent").get_data(as_text=True)
    smtp.mailbox.expect(to="ok@exemple.fr")


def test_link_requests_are_rate_limited(make_app, smtp, api_error):
    app = make_app(**smtp.config, RATE_LIMIT="3/minute")
    client = app.test_client()
    for _ in range(3):
        assert client.post("/api/auth/request", json={"email": "flood@exemple.fr"}).status_code == 202
    api_error(client.post("/api/auth/request", json={"email": "flood@exemple.fr"}), 429, "rate_limited")


def test_one_address_gets_a_few_links_per_hour_whoever_asks(make_app, smtp):
    app = make_app(**smtp.config, MAGIC_LINKS_PER_HOUR=2)
    client = app.test_client()
    for _ in range(4):
        assert client.post("/api/auth/request", json={"email": "cible@exemple.fr"}).status_code == 202
    smtp.mailbox.wait(2)
    assert len(smtp.mailbox.settle(1.0)) == 2


def test_bad_requests_use_the_error_shape(actions, api_error, client):
    api_error(actions.request_link(""), 400, "missing_field", "email")
    api_error(actions.request_link("nope"), 400, "invalid_email", "email")
    api_error(client.post("/api/auth/request", data="email=a@b.fr"), 415)
    api_error(client.get("/api/account"), 401, "not_signed_in")
    api_error(client.post("/api/auth/signout"), 401)


def test_the_sign_in_links_page_has_the_security_headers_of_every_page(actions, client, smtp):
    """The page of the mail's link sets a policy of its own (its form may lead to a member blog); it keeps the other
    pages' headers, X-Frame-Options included (frame-ancestors alone leaves old browsers free to frame it)."""
    assert actions.request_link("cadre@exemple.fr").status_code == 202
    page = actions.open(smtp.mailbox.expect(to="cadre@exemple.fr", subject="connexion").link("/auth/verify?token="))
    assert page.status_code == 200
    other = client.get("/auth")
    for header in ("X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
        assert other.headers.get(header), header
        assert page.headers.get(header) == other.headers[header], header
    assert page.headers["X-Frame-Options"] == "DENY"
    policy = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "form-action 'self' http://blogs.test" in policy, "its own policy"
