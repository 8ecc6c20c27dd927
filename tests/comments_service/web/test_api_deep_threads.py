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


def api_pages(client, url, **params) -> list[dict]:
    """Every page of a thread from the API, following `page.next` and `page.next_skip` as the widget does."""
    pages, cursor = [], {}
    while cursor is not None:
        response = client.get("/api/comments", query_string={"url": url, **params, **cursor})
        assert response.status_code == 200
        pages.append(response.get_json())
        page = pages[-1]["page"]
        cursor = None if page["next"] is None else {"offset": page["next"], "skip": page["next_skip"]}
    return pages


def test_a_chain_1000_deep_is_answered_by_the_api_capped_at_5_levels(client, urls, deep):
    pages = api_pages(client, urls.POST_B)
    thread = pages[0]
    assert thread["total"] == 1000 and thread["page"]["count"] == 200 and thread["page"]["threads"] == 1
    assert len(pages) == 5 and pages[1]["page"]["offset"] == 0 and pages[1]["page"]["skip"] == 200
    nodes = [item for page in pages for item in walk(page["comments"])]
    assert [node["id"] for node, _ in nodes] == deep  # every comment, in conversation order
    assert max(level for _, level in nodes) == 5
    level5 = thread["comments"][0]["replies"][0]["replies"][0]["replies"][0]["replies"]
    assert len(level5) == 196 and "in_reply_to" not in level5[0]
    last = pages[-1]["comments"][-1]  # continued: at the top level of its page, saying whom it answers
    assert last["parent"] == deep[-2] and last["id"] == deep[-1]
    assert last["in_reply_to"] == {"id": deep[-2], "name": "Auteur r0-998"}


def test_a_chain_1000_deep_is_shown_by_the_no_js_page_capped_at_5_levels(client, urls, deep):
    response = client.get("/thread", query_string={"url": urls.POST_B})
    assert response.status_code == 200
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    deepest = soup.find(id=f"comment-{deep[199]}")
    assert len(deepest.find_parents("ol", class_="replies")) == 4
    assert f"en réponse à Auteur r0-{198}" in deepest.get_text(" ", strip=True)
    assert deepest.find("a", class_="reply-to")["href"] == f"#comment-{deep[198]}"
    assert len(soup.select("li.comment[id^=comment-]")) == 200 and "Page 1 sur 5" in soup.get_text()
    soup = BeautifulSoup(client.get("/thread", query_string={"url": urls.POST_B, "page": 5}).get_data(as_text=True),
                         "html.parser")
    last = soup.find(id=f"comment-{deep[-1]}")
    assert "en réponse à Auteur r0-998" in last.get_text(" ", strip=True)


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
    assert thread["page"] == {"depth": 5, "offset": 0, "skip": 0, "limit": 50, "threads": 2500, "count": 200,
                              "next": 50, "next_skip": 0}
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
    assert thread["page"] == {"depth": 5, "offset": 2400, "skip": 0, "limit": 200, "threads": 2500, "count": 400,
                              "next": None, "next_skip": 0}
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


@pytest.fixture
def wide(app, urls):
    """One top-level comment with 5,000 direct replies, then two short threads, on POST_B."""
    ids = write_thread(app.config["DB"], urls.POST_B, replies=5000, fan=True)
    return ids + write_thread(app.config["DB"], urls.POST_B, roots=2, replies=1)


def test_one_thread_of_5000_replies_comes_in_bounded_api_pages(client, urls, wide):
    pages = api_pages(client, urls.POST_B)
    assert all(page["page"]["count"] <= 200 and page["total"] == 5005 for page in pages)
    assert len(pages) == 26  # 5,001 comments of the first thread, 200 a page, then the last 4 fit with its end
    seen = [node["id"] for page in pages for node, _ in walk(page["comments"])]
    assert seen == wide  # every comment exactly once, in conversation order
    continued = pages[1]
    assert continued["page"]["offset"] == 0 and continued["page"]["skip"] == 200
    assert continued["comments"][0]["in_reply_to"] == {"id": wide[0], "name": "Auteur r0"}
    assert pages[-1]["page"]["next"] is None
    widest = client.get("/api/comments", query_string={"url": urls.POST_B, "limit": 200})
    assert len(widest.get_json()["comments"][0]["replies"]) == 799 and len(widest.data) < 400_000
    for bad in ({"skip": -1}, {"skip": "x"}, {"skip": ""}):
        assert client.get("/api/comments", query_string={"url": urls.POST_B, **bad}).status_code == 400


def test_one_thread_of_5000_replies_comes_in_bounded_no_js_pages(client, urls, wide):
    seen: list[int] = []
    query, number = {"url": urls.POST_B}, 0
    while query is not None:
        response = client.get("/thread", query_string=query)
        assert response.status_code == 200 and len(response.data) < 400_000  # not the 4.9 MB of the whole thread
        soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        comments = soup.select("li.comment[id^=comment-]")
        assert len(comments) <= 200
        seen += [int(li["id"].removeprefix("comment-")) for li in comments]
        number += 1
        assert f"Page {number} sur 26" in soup.get_text()
        if number == 2:  # the continued part says whom it answers
            assert "en réponse à Auteur r0" in comments[0].get_text(" ", strip=True)
        following = soup.find("a", string=re.compile("Commentaires suivants"))
        query = None if following is None else {"url": urls.POST_B, "page": number + 1}
        if following is not None:
            assert following["href"].endswith(f"&page={number + 1}#fil")
    assert number == 26 and seen == wide


def test_a_reply_posted_deep_in_a_split_thread_lands_on_its_page(client, urls, wide):
    from bs4 import BeautifulSoup as Soup

    page = Soup(client.get("/thread", query_string={"url": urls.POST_B}).get_data(as_text=True), "html.parser")
    csrf = page.find("form", action=re.compile(r"/thread$")).find("input", attrs={"name": "csrf"})["value"]
    response = client.post("/thread", data={"url": urls.POST_B, "csrf": csrf, "text": "Tout à la fin",
                                            "author": "Paul", "parent": str(wide[0])})
    assert response.status_code == 303
    assert "page=26" in response.headers["Location"]
