"""No page of the service speaks werkzeug's English: redirects (303 after a form, the fediverse's links to a blog, the
308 of a doubled slash) and the error pages a browser meets (404, 405, 413) are French."""

import pytest
from bs4 import BeautifulSoup

from tests.comments_service.web.test_pages import open_thread, submit

ENGLISH = ("Redirecting", "You should be redirected", "click the link", "Not Found", "Method Not Allowed",
           "Request Entity Too Large", "The requested URL", 'lang="en"', "lang=en")


def assert_french(response) -> BeautifulSoup:
    body = response.get_data(as_text=True)
    assert not [words for words in ENGLISH if words in body], body[:500]
    assert response.mimetype == "text/html"
    page = BeautifulSoup(body, "html.parser")
    assert page.html["lang"] == "fr"
    return page


def assert_french_redirect(response, status: int) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    page = assert_french(response)
    assert page.title.text == "Redirection…"
    assert page.find("a")["href"] == response.headers["Location"]


def test_the_303_after_a_form_is_french(client, urls):
    _, soup = open_thread(client, urls.POST_B)
    assert_french_redirect(submit(client, soup, text="Merci docteur", author="Marc"), 303)


def test_the_fediverse_link_to_a_blog_is_french(client, urls):
    response = client.get("/ap/actors/dr-a", headers={"Accept": "text/html"})
    assert_french_redirect(response, 303)
    assert response.headers["Location"] == urls.BLOG_A


def test_the_routing_redirect_of_a_doubled_slash_is_french(client):
    """werkzeug answers it itself (RequestRedirect), before any error handler."""
    response = client.get("/lettre//confirmer?token=x")
    assert_french_redirect(response, 308)
    assert response.headers["Location"].endswith("/lettre/confirmer?token=x")


def test_a_link_is_escaped_in_the_redirect_page(app):
    with app.test_request_context():
        response = app.redirect('/thread?url="><script>', 303)
    body = response.get_data(as_text=True)
    assert "<script>" not in body and "&#34;&gt;&lt;script&gt;" in body


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), [
    ("get", "/nulle-part", {}, 404),
    ("put", "/auth", {}, 405),
    ("post", "/thread", {"data": "text=" + "x" * 200_000, "content_type": "application/x-www-form-urlencoded"}, 413),
])
def test_error_pages_for_browsers_are_french(client, method, path, kwargs, status):
    response = getattr(client, method)(path, headers={"Accept": "text/html"}, **kwargs)
    assert response.status_code == status
    page = assert_french(response)
    assert page.h1.text == f"Erreur {status}"
