"""Deep and large threads (issue 10, item 8): a reply chain 1,000 deep and a 10,000-comment thread.

Today's limits were Python's and Jinja's recursion: a chain 250 deep broke the no-JS page, 490 deep the API
(500), and the export. The tree is now built without recursion, shown 5 levels deep (THREAD_DEPTH), and
threads come in pages of top-level comments with their replies.
"""

from __future__ import annotations

import json
import re

import pytest
from bs4 import BeautifulSoup

from tests.threads_kit import walk, write_thread


@pytest.fixture
def deep(app, urls):
    """A chain of 1,000 comments, each answering the previous one, on POST_B."""
    return write_thread(app.config["DB"], urls.POST_B, replies=999)


def test_a_chain_1000_deep_is_answered_by_the_api_capped_at_5_levels(client, urls, deep):
    response = client.get("/api/comments", query_string={"url": urls.POST_B})
    assert response.status_code == 200
    thread = response.get_json()
    assert thread["total"] == 1000 and thread["page"]["count"] == 1000 and thread["page"]["threads"] == 1
    nodes = list(walk(thread["comments"]))
    assert [node["id"] for node, _ in nodes] == deep  # every comment, in conversation order
    assert max(level for _, level in nodes) == 5
    level5 = thread["comments"][0]["replies"][0]["replies"][0]["replies"][0]["replies"]
    assert len(level5) == 996 and "in_reply_to" not in level5[0]
    assert level5[-1]["parent"] == deep[-2]
    assert level5[-1]["in_reply_to"] == {"id": deep[-2], "name": "Auteur r0-998"}


def test_a_chain_1000_deep_is_shown_by_the_no_js_page_capped_at_5_levels(client, urls, deep):
    response = client.get("/thread", query_string={"url": urls.POST_B})
    assert response.status_code == 200
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    last = soup.find(id=f"comment-{deep[-1]}")
    assert len(last.find_parents("ol", class_="replies")) == 4
    assert "en réponse à Auteur r0-998" in last.get_text(" ", strip=True)
    assert last.find("a", class_="reply-to")["href"] == f"#comment-{deep[-2]}"
    assert len(soup.select("li.comment[id^=comment-]")) == 1000


def test_a_chain_1000_deep_is_in_the_feed(client, urls, deep):
    response = client.get("/feeds/thread.atom", query_string={"url": urls.POST_B})
    assert response.status_code == 200
    assert response.get_data(as_text=True).count(f"<id>{urls.POST_B}#comment-") == 50  # the newest 50
    assert f"#comment-{deep[-1]}</id>" in response.get_data(as_text=True)


def test_a_chain_1000_deep_is_exported_capped(confreres, tmp_path, deep):
    for private in ((), ("--private",)):
        out = tmp_path / f"export{len(private)}.json"
        result = confreres("export", "comments", "--out", str(out), *private)
        assert result.exit_code == 0, result.output
        (thread,) = json.loads(out.read_text(encoding="utf-8"))["threads"]
        nodes = list(walk(thread["comments"]))
        assert thread["total"] == 1000 and [node["id"] for node, _ in nodes] == deep
        assert max(level for _, level in nodes) == 5
        assert {node["parent"] for node, _ in nodes[1:]} == set(deep[:-1])


@pytest.fixture
def big(app, urls):
    """10,000 comments on POST_B: 2,500 top-level comments, each followed by a chain of 3 replies."""
    return write_thread(app.config["DB"], urls.POST_B, roots=2500, replies=3)


def test_a_10000_comment_thread_comes_in_pages_that_reach_every_comment_once(client, urls, big):
    first = client.get("/api/comments", query_string={"url": urls.POST_B})
    assert first.status_code == 200
    assert len(first.data) < 80_000  # 50 threads of 4 comments: not the 5 MB of the whole thread
    thread = first.get_json()
    assert thread["total"] == 10_000 and len(thread["comments"]) == 50
    assert thread["page"] == {"depth": 5, "offset": 0, "limit": 50, "threads": 2500, "count": 200, "next": 50}
    assert [node["id"] for node, _ in walk(thread["comments"])] == big[:200]
    # each page has its own validator, and its own cached bytes
    again = client.get("/api/comments", query_string={"url": urls.POST_B}, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    second = client.get("/api/comments", query_string={"url": urls.POST_B, "offset": 50})
    assert second.headers["ETag"] != first.headers["ETag"]
    assert client.get("/api/comments", query_string={"url": urls.POST_B}).data == first.data

    seen: list[int] = []
    offset, pages = 0, 0
    while offset is not None:  # the largest pages, to the end
        response = client.get("/api/comments", query_string={"url": urls.POST_B, "offset": offset, "limit": 200})
        assert response.status_code == 200 and len(response.data) < 320_000
        thread = response.get_json()
        assert thread["total"] == 10_000 and len(thread["comments"]) <= 200
        seen += [node["id"] for node, _ in walk(thread["comments"])]
        offset, pages = thread["page"]["next"], pages + 1
    assert pages == 13
    assert seen == big  # every comment, exactly once, in order


def test_pages_of_other_sizes_and_bad_parameters(client, api_error, urls, big):
    thread = client.get("/api/comments", query_string={"url": urls.POST_B, "limit": 200, "offset": 2400}).get_json()
    assert len(thread["comments"]) == 100 and thread["page"]["next"] is None
    assert thread["page"] == {"depth": 5, "offset": 2400, "limit": 200, "threads": 2500, "count": 400, "next": None}
    past = client.get("/api/comments", query_string={"url": urls.POST_B, "offset": 9999}).get_json()
    assert past["comments"] == [] and past["page"]["next"] is None and past["total"] == 10_000
    for bad in ({"limit": 0}, {"limit": 201}, {"limit": "dix"}, {"offset": -1}, {"offset": "x"}):
        name = next(iter(bad))
        api_error(client.get("/api/comments", query_string={"url": urls.POST_B, **bad}), 400, "invalid_param", name)


def test_the_no_js_page_of_a_10000_comment_thread_has_pages(client, urls, big):
    first = client.get("/thread", query_string={"url": urls.POST_B})
    assert first.status_code == 200 and len(first.data) < 400_000  # not the 10.8 MB of the whole thread
    soup = BeautifulSoup(first.get_data(as_text=True), "html.parser")
    assert len(soup.select("li.comment[id^=comment-]")) == 200 and soup.find(id=f"comment-{big[199]}")
    assert "Page 1 sur 50" in soup.get_text() and not soup.find("a", string=re.compile("plus anciens"))
    following = soup.find("a", string=re.compile("Commentaires suivants"))
    assert following["href"].endswith("&page=2#fil")

    middle = client.get("/thread", query_string={"url": urls.POST_B, "page": 2})
    soup = BeautifulSoup(middle.get_data(as_text=True), "html.parser")
    assert soup.find(id=f"comment-{big[200]}") and not soup.find(id=f"comment-{big[199]}")
    older = soup.find("a", string=re.compile("Commentaires plus anciens"))
    assert older["href"].endswith("#fil") and "page=" not in older["href"]
    reply = soup.find(id=f"comment-{big[200]}").select_one("p.actions a")
    assert "page=2" in reply["href"]  # answering stays on this page

    last = BeautifulSoup(client.get("/thread", query_string={"url": urls.POST_B, "page": 50}).get_data(as_text=True),
                         "html.parser")
    assert last.find(id=f"comment-{big[-1]}") and not last.find("a", string=re.compile("Commentaires suivants"))
    assert client.get("/thread", query_string={"url": urls.POST_B, "page": 0}).status_code == 400
