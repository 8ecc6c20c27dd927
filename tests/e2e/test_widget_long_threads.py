"""The widget on long and deep threads (issue 10, item 8), in Chromium with the real service.

A thread comes a page of top-level comments at a time, with « Afficher plus de commentaires (N) », a button
the keyboard reaches and presses; a chain of 1,000 replies renders, indented five levels deep, each deeper
reply saying whom it answers, 200 comments a page: « Afficher plus » goes on inside the chain.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_comments_widget import open_thread
from tests.threads_kit import write_thread

pytestmark = pytest.mark.e2e


def test_show_more_loads_the_next_pages_with_the_keyboard(live_network, page):
    live = live_network(moderation="none")
    url = live.post_url("dr-a-billet-0")
    ids = write_thread(live.app.config["DB"], url, roots=120)
    open_thread(page, url)
    tops = page.locator(".comments-live > ol > li")
    expect(tops).to_have_count(50)
    more = page.get_by_role("button", name="Afficher plus de commentaires (70)")
    more.focus()
    page.keyboard.press("Enter")
    expect(tops).to_have_count(100)
    expect(page.locator(f"#comment-{ids[50]}")).to_be_focused()  # the first comment of the new page
    page.get_by_role("button", name="Afficher plus de commentaires (20)").focus()
    page.keyboard.press("Space")
    expect(tops).to_have_count(120)
    expect(page.locator(".cf-more")).to_have_count(0)
    assert page.evaluate("[...document.querySelectorAll('.comments-live article')].map(a => +a.id.slice(8))") == ids
    assert not page.js_errors


def test_a_chain_1000_deep_renders_capped_at_five_levels(live_network, page):
    live = live_network(moderation="none")
    url = live.post_url("dr-a-billet-1")
    ids = write_thread(live.app.config["DB"], url, replies=999)
    open_thread(page, url)
    articles = page.locator(".comments-live article.comment-body")
    expect(articles).to_have_count(200)  # a page holds at most 200 comments: the chain goes on on the next ones
    expect(page.locator('ol.comment-replies[data-depth="5"] > li')).to_have_count(196)
    for shown in (400, 600, 800, 1000):
        page.locator(".cf-more").click()
        expect(articles).to_have_count(shown)
    expect(page.locator(".cf-more")).to_have_count(0)
    expect(page.locator('ol[data-depth="6"]')).to_have_count(0)
    expect(page.locator(f"#comment-{ids[-1]} .comment-parent")).to_have_text("en réponse à Auteur r0-998")
    expect(page.locator(f"#comment-{ids[200]} .comment-parent")).to_have_text("en réponse à Auteur r0-199")
    expect(page.locator(f"#comment-{ids[4]} .comment-parent")).to_have_count(0)
    assert page.evaluate("[...document.querySelectorAll('.comments-live article')].map(a => +a.id.slice(8))") == ids
    assert not page.js_errors
