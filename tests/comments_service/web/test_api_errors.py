"""Every error path of the API answers {"error": {"code", "message", "field"}} with the right status."""

import pytest

GOOD = {"url": "http://blogs.test/dr-a/premier-billet.html", "text": "Bonjour"}


@pytest.mark.parametrize(
    "change, code, field",
    [
        ({"url": None}, "missing_field", "url"),
        ({"url": 42}, "invalid_type", "url"),
        ({"url": "ftp://blogs.test/dr-a/premier-billet.html"}, "invalid_url", "url"),
        ({"url": "javascript:alert(1)"}, "invalid_url", "url"),
        ({"url": "http://blogs.test/" + "a" * 2100}, "invalid_url", "url"),
        ({"text": None}, "missing_field", "text"),
        ({"text": "   \n  "}, "missing_field", "text"),
        ({"text": 12}, "invalid_type", "text"),
        ({"text": "x" * 10_001}, "too_long", "text"),
        ({"text": "<script>alert(1)</script>"}, "empty_text", "text"),
        ({"author": "x" * 101}, "too_long", "author"),
        ({"author": ["x"]}, "invalid_type", "author"),
        ({"email": "pas-un-email"}, "invalid_email", "email"),
        ({"email": "a@b"}, "invalid_email", "email"),
        ({"email": "<a@b.fr>"}, "invalid_email", "email"),
        ({"email": "a:b@exemple.fr"}, "invalid_email", "email"),  # « To: a:b@… » reads as a group (RFC 5322)
        ({"website": "javascript:alert(1)"}, "invalid_url", "website"),
        ({"website": "data:text/html,<script>alert(1)</script>"}, "invalid_url", "website"),
        ({"website": "exemple.fr"}, "invalid_url", "website"),
        ({"website": "https://exemple.fr/" + "a" * 500}, "too_long", "website"),
        ({"website": "https://exem ple.fr/"}, "invalid_url", "website"),
        ({"notify": "yes please"}, "invalid_type", "notify"),
        ({"notify": True}, "missing_field", "email"),
        ({"parent": "abc"}, "invalid_parent", "parent"),
        ({"parent": -3}, "invalid_parent", "parent"),
        ({"parent": True}, "invalid_parent", "parent"),
        ({"parent": 12345}, "invalid_parent", "parent"),
    ],
)
def test_each_bad_field_is_a_400_naming_it(client, api_error, change, code, field):
    body = {**GOOD, **change}
    body = {k: v for k, v in body.items() if v is not None}
    error = api_error(client.post("/api/comments", json=body), 400, code, field)
    assert error["message"][0].isupper()


def test_text_limit_message_is_french(client, api_error):
    error = api_error(client.post("/api/comments", json={**GOOD, "text": "x" * 10_001}), 400, "too_long", "text")
    assert error["message"] == "Le texte est trop long (10\u202f000 caractères au plus)."


def test_exactly_10000_characters_is_accepted(client):
    assert client.post("/api/comments", json={**GOOD, "text": "x" * 10_000}).status_code == 201


def test_unknown_fields_are_ignored(client):
    assert client.post("/api/comments", json={**GOOD, "mood": "joyeux"}).status_code == 201


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("url=http://blogs.test/dr-a/premier-billet.html&text=Bonjour", "application/x-www-form-urlencoded"),
        ('{"url": "x", "text": "y"}', "text/plain"),
        ("", None),
    ],
)
def test_writes_must_be_json_415(client, api_error, body, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    api_error(client.post("/api/comments", data=body, headers=headers), 415, "unsupported_media_type")


def test_patch_must_be_json_415(client, api_error):
    api_error(client.patch("/api/comments/1", data="text=x", headers={"X-Edit-Token": "t"}), 403)
    body = client.post("/api/comments", json=GOOD).get_json()
    response = client.patch(
        f"/api/comments/{body['comment']['id']}", data="text=x",
        headers={"X-Edit-Token": body["edit_token"], "Content-Type": "application/x-www-form-urlencoded"},
    )
    api_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("raw", ["{not json", '"a string"', "[1, 2]", "null", "{\"url\": "])
def test_bad_json_400(client, api_error, raw):
    response = client.post("/api/comments", data=raw, headers={"Content-Type": "application/json"})
    api_error(response, 400, "invalid_json")


def test_body_over_64_kb_is_413(client, api_error):
    api_error(client.post("/api/comments", json={**GOOD, "text": "x" * 70_000}), 413, "payload_too_large")
    raw = b'{"url": "x", "text": "' + b"y" * (64 * 1024) + b'"}'
    api_error(client.post("/api/comments", data=raw, headers={"Content-Type": "application/json"}), 413)


def test_404_outside_the_network(client, api_error):
    api_error(client.get("/api/comments?url=https://ailleurs.example/billet.html"), 404, "not_in_network", "url")
    api_error(client.post("/api/comments", json={**GOOD, "url": "https://ailleurs.example/b"}), 404, "not_in_network")


def test_404_unknown_post_of_a_member_blog(client, api_error):
    api_error(client.get("/api/comments?url=http://blogs.test/dr-a/inconnu.html"), 404, "unknown_post", "url")
    api_error(client.post("/api/comments", json={**GOOD, "url": "http://blogs.test/dr-a/inconnu.html"}), 404, "unknown_post")


def test_get_without_url_is_400(client, api_error):
    api_error(client.get("/api/comments"), 400, "missing_field", "url")


def test_404_unknown_api_route(client, api_error):
    api_error(client.get("/api/nothing-here"), 404, "not_found")
    api_error(client.get("/api/"), 404, "not_found")
    api_error(client.post("/api/comments/abc"), 404)


@pytest.mark.parametrize(
    "method, path",
    [
        ("put", "/api/comments"),
        ("delete", "/api/comments"),
        ("put", "/api/comments/1"),
        ("post", "/api/counts"),
        ("get", "/api/sites/dr-a/posts"),
        ("post", "/api/openapi.json"),
    ],
)
def test_405_wrong_method(client, api_error, method, path):
    response = getattr(client, method)(path)
    api_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"]


def test_unexpected_exception_is_a_json_500(app, api_error):
    @app.get("/api/boom")
    def boom():
        raise RuntimeError("kaboom")

    app.testing = False  # let the error handler answer instead of re-raising
    app.config["PROPAGATE_EXCEPTIONS"] = False
    error = api_error(app.test_client().get("/api/boom"), 500, "internal_error")
    assert "kaboom" not in error["message"]


def test_non_api_errors_are_french_html_pages(client):
    response = client.get("/thread?url=https://ailleurs.example/")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert 'lang="fr"' in response.get_data(as_text=True)
    assert client.get("/nowhere").status_code == 404
