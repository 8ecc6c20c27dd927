"""The theme as a reader meets it: French, keyboard first, readable on a phone."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_blog_page_is_french_and_keyboard_navigable(served_network, page):
    network, base = served_network
    site = network.sites[0]
    page.goto(site.url)
    assert page.get_attribute("html", "lang") == "fr"
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Aller au contenu"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#contenu"
    assert page.locator("main").count() == 1 and page.locator("nav").count() >= 1
    page.click(f"text=Billet 1 de {site.slug}")
    assert page.url == f"{site.url}{site.slug}-billet-1.html"
    assert page.locator("#commentaires").count() == 1
    assert not page.js_errors


def test_layout_fits_a_phone(served_network, page):
    network, base = served_network
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(network.sites[0].url)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
