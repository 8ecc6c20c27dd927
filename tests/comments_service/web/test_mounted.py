"""Mounted under /comments by DispatcherMiddleware (as `confreres serve` does): every URL keeps the prefix."""

import re

import pytest
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client
from werkzeug.wrappers import Response


@pytest.fixture
def mounted(app):
    return Client(DispatcherMiddleware(Response("the static sites"), {"/comments": app}), use_cookies=True)


def test_api_under_the_prefix(mounted, urls):
    response = mounted.get("/comments/api/comments", query_string={"url": urls.POST_B})
    assert response.status_code == 200 and response.json["url"] == urls.POST_B
    assert mounted.get("/api/comments").text == "the static sites"


def test_thread_page_links_keep_the_prefix(mounted, urls):
    html = mounted.get("/comments/thread", query_string={"url": urls.POST_B}).text
    for attr in re.findall(r'(?:href|action)="([^"]+)"', html):
        # links to the blogs themselves (the post, a confrère's answer) are absolute; the service's keep the prefix
        if attr.startswith(("/", "http")) and not attr.startswith((urls.BLOG_A, urls.BLOG_B)):
            assert attr.startswith("/comments/"), attr


def test_no_js_post_redirects_under_the_prefix(mounted, urls):
    page = mounted.get("/comments/thread", query_string={"url": urls.POST_B})
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    cookie = page.headers["Set-Cookie"]
    assert "Path=/comments/" in cookie
    response = mounted.post("/comments/thread", data={"url": urls.POST_B, "csrf": csrf, "text": "Bonjour"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/comments/thread?")
