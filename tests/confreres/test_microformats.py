"""A post's page as a Webmention receiver reads it (microformats2, with mf2py): one h-entry, its name, address,
date and author, the author an h-card with a name and an address (the IndieWeb authorship algorithm's)."""

from __future__ import annotations

import mf2py

from confreres import build


def test_a_post_is_one_h_entry_whose_author_is_an_h_card(make_network):
    network = make_network(slugs=("dr-a",), posts=1)
    assert all(r.ok for r in build.build(network, progress=False))
    site = network.site("dr-a")
    url = f"{site.url}dr-a-billet-0.html"
    parsed = mf2py.parse(doc=(network.output / "dr-a" / "dr-a-billet-0.html").read_text(encoding="utf-8"), url=url)
    entries = [item for item in parsed["items"] if "h-entry" in item["type"]]
    assert len(entries) == 1, [item["type"] for item in parsed["items"]]
    props = entries[0]["properties"]
    assert props["name"] == ["Billet 0 de dr-a"]
    assert props["url"] == [url]
    assert props["published"][0].startswith("2025-01-10")
    (author,) = props["author"]
    # a plain name (it was) gives a receiver no address to show or to find the author's card at
    assert isinstance(author, dict) and author["type"] == ["h-card"], author
    assert author["properties"]["name"] == [site.author] and author["properties"]["url"] == [site.url]
