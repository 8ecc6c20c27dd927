"""Hostile input that used to reach a 500: each gets its 4xx in the one error shape (issue 10, item 9).

Ids are ASCII digits within SQLite's int64 (comments_service/core/ids.py), in bodies and in every `<id:…>`
route; JSON too deep or with a lone surrogate is a 400; a streamed (chunked) body over the limit is a
413 over a real HTTP server; query numbers are checked; a JSON null is not an absent field.
"""

from __future__ import annotations

import re
import threading

import httpx
import pytest
from werkzeug.serving import make_server

from tests.conftest import POST_A

GOOD = {"url": POST_A, "text": "Bonjour"}
HEAD = '{"url": "' + POST_A + '", '  # a raw JSON body, to its next field
HUGE = [2**63, 2**64, 10**30]


def test_parent_that_is_not_an_id_is_a_400(client, api_error):
    for parent in ["⁰⁴⁵", "٤٥", "½", " 7", "1_0", "-1", "0", str(2**63), *HUGE, 0, 1.5]:
        response = client.post("/api/comments", json={**GOOD, "parent": parent})
        api_error(response, 400, "invalid_parent", "parent")


def test_largest_id_is_a_parent_that_does_not_exist(client, api_error):
    api_error(client.post("/api/comments", json={**GOOD, "parent": 2**63 - 1}), 400, "invalid_parent", "parent")
    api_error(client.post("/api/comments", json={**GOOD, "parent": str(2**63 - 1)}), 400, "invalid_parent")


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/comments/{}"),
        ("patch", "/api/comments/{}"),
        ("delete", "/api/comments/{}"),
        ("post", "/api/comments/{}/report"),
        ("post", "/api/moderation/{}"),
        ("post", "/api/moderation/mentions/{}"),
        ("post", "/api/verification/{}/review"),
        ("post", "/api/verification/{}/revoke"),
    ],
)
def test_id_routes_answer_404_for_what_is_not_an_id(client, api_error, method, path):
    for number in [*HUGE, "٤٥", "0", "00"]:
        response = getattr(client, method)(path.format(number), json={"text": "x", "reason": "x"},
                                           headers={"X-Edit-Token": "t"})
        api_error(response, 404, "not_found")  # not a 405 either: no rule of another method matches it


def test_the_largest_id_reaches_the_view(client, api_error):
    biggest = 2**63 - 1
    api_error(client.get(f"/api/comments/{biggest}"), 404, "unknown_comment")
    api_error(client.patch(f"/api/comments/{biggest}", json={"text": "x"}), 401, "missing_token")
    api_error(client.post(f"/api/comments/{biggest}/report", json={"reason": "spam"}), 404)


def _raw(client, data: str):
    return client.post("/api/comments", data=data.encode(), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("depth", [30_000, 1_000, 20])
def test_json_nested_too_deep_is_a_400(client, api_error, depth):
    nested = "[" * depth + "]" * depth
    body = HEAD + '"text": "Bonjour", "extra": ' + nested + '}'
    api_error(_raw(client, body), 400, "invalid_json")
    api_error(_raw(client, "[" * depth + "]" * depth), 400, "invalid_json")


def test_ordinary_nesting_is_accepted(client):
    body = HEAD + '"text": "Bonjour", "extra": ' + "[" * 8 + "]" * 8 + '}'
    assert _raw(client, body).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        HEAD + '"text": "\\ud800"}',
        HEAD + '"text": "ok \\udfff ok"}',
        HEAD + '"text": "Bonjour", "author": "\\ud83d"}',
        HEAD + '"text": "Bonjour", "\\ud800": 1}',
    ],
)
def test_lone_surrogate_is_a_400_and_nothing_is_written(client, api_error, actions, body):
    api_error(_raw(client, body), 400, "invalid_json")
    assert actions.sql("SELECT COUNT(*) AS n FROM comments")[0]["n"] == 0


def test_a_real_surrogate_pair_is_a_character(client):
    response = _raw(client, HEAD + '"text": "Merci \\ud83d\\ude00"}')
    assert response.status_code == 201 and response.get_json()["text"] == "Merci \U0001f600"


@pytest.fixture
def served(app):
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _chunks(text_bytes: int):
    yield (HEAD + '"text": "').encode()
    for _ in range(text_bytes // 1024):
        yield b"y" * 1024
    yield b'"}'


def test_chunked_body_over_the_limit_is_a_413_over_http(served):
    response = httpx.post(served + "/api/comments", content=_chunks(100 * 1024),
                          headers={"Content-Type": "application/json"}, timeout=10)
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert response.status_code == 413, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "payload_too_large"


def test_chunked_body_under_the_limit_is_read_whole(served):
    response = httpx.post(served + "/api/comments", content=_chunks(2 * 1024),
                          headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 201, response.text
    assert response.json()["text"] == "y" * 2048


@pytest.mark.parametrize("path", ["/api/conversations", "/api/threads/active"])
@pytest.mark.parametrize("query", ["limit=", "limit=%D9%A5", "limit=+5", "limit=5.0", "days=", "limit=99999999999999999999",
                                   "limit=" + "9" * 5000])
def test_bad_numbers_in_the_query_are_a_400(client, api_error, path, query):
    field = query.split("=")[0]
    api_error(client.get(f"{path}?{query}"), 400, "invalid_param", field)


def test_thread_pages_check_their_numbers(client, api_error):
    for query in ({"offset": ""}, {"limit": ""}, {"offset": "9" * 5000}, {"limit": "٣"}):
        api_error(client.get("/api/comments", query_string={"url": POST_A, **query}), 400, "invalid_param")


def test_good_numbers_in_the_query(client):
    assert client.get("/api/conversations?limit=5&days=0").status_code == 200
    assert client.get("/api/threads/active?limit=3&days=7").status_code == 200


def test_return_null_is_refused_absent_is_fine(client, api_error):
    api_error(client.post("/api/auth/request", json={"email": "a@exemple.fr", "return": None}), 400,
              "invalid_return", "return")
    assert client.post("/api/auth/request", json={"email": "a@exemple.fr"}).status_code == 202
    assert client.post("/api/auth/request", json={"email": "a@exemple.fr", "return": ""}).status_code == 202


# -- the HTML pages: every id-like query or form parameter goes through ids.parse_id --------------------

BAD_IDS = [str(2**63), "-99999999999999999999", "99999999999999999999", "٤٥", "⁰⁴⁵", "-1", "0", "9" * 5000]


def _csrf(client) -> str:
    from bs4 import BeautifulSoup

    page = BeautifulSoup(client.get("/thread", query_string={"url": POST_A}).get_data(as_text=True), "html.parser")
    return page.find("form", action=re.compile(r"/thread$")).find("input", attrs={"name": "csrf"})["value"]


@pytest.mark.parametrize("parent", BAD_IDS)
def test_no_js_page_with_a_parent_that_is_not_an_id_shows_the_thread(client, parent):
    response = client.get("/thread", query_string={"url": POST_A, "parent": parent})
    assert response.status_code == 200
    assert "Écrire un commentaire" in response.get_data(as_text=True)  # no parent: the form answers the post


@pytest.mark.parametrize("parent", BAD_IDS)
@pytest.mark.parametrize("with_csrf", [True, False])
def test_no_js_form_with_a_parent_that_is_not_an_id_is_a_4xx(client, parent, with_csrf):
    data = {"url": POST_A, "text": "Bonjour", "author": "Claire", "parent": parent}
    if with_csrf:
        data["csrf"] = _csrf(client)
    response = client.post("/thread", data=data)
    assert response.status_code == (400 if with_csrf else 403), response.get_data(as_text=True)[:300]
    assert "Bonjour" in response.get_data(as_text=True)  # the form comes back with what was typed


@pytest.mark.parametrize("text", [
    "[a](b) " * 101,  # inline links: Python-Markdown's time grows as their square in one paragraph
    "![a](b) " * 101,
    "[a][] " * 101,
    "[a]: https://x.fr\n\n" + "[a] " * 101,  # shortcut references once a reference is defined
])
def test_a_text_of_too_many_links_is_refused_before_markdown(actions, api_error, text):
    api_error(actions.post(text), 400, "too_many_links", "text")
    assert actions.sql("SELECT COUNT(*) FROM comments")[0][0] == 0


def test_a_hundred_links_and_brackets_in_prose_are_fine(actions):
    assert actions.post("[a](https://x.fr/) " * 100).status_code == 201
    assert actions.post("Voir [1], [2] et [3] " * 60 + "(sans définition)").status_code == 201



@pytest.mark.parametrize("nested", ["<blockquote>", "<ul><li>", "<b></p>", "> "])
def test_a_comment_nested_thousands_deep_is_kept_flat(actions, nested):
    """Raw HTML (or Markdown quotes) nested a thousand deep: html5lib's time grew as the depth's square and the
    stored HTML was too deep for what reads it again; past the sanitiser's limit only its text is kept."""
    from confreres.sanitize import MAX_DEPTH

    text = nested * (9_000 // len(nested)) + "Bonjour"
    answer = actions.post(text)
    assert answer.status_code == 201, answer.get_data(as_text=True)[:300]
    html = answer.get_json()["comment"]["html"]
    assert "Bonjour" in html
    assert max(html.count("<blockquote>"), html.count("<li>"), html.count("<b>")) < MAX_DEPTH
