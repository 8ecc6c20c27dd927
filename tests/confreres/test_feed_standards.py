"""A blog's feeds as RFC 4287 (Atom) and RSS 2.0 read them (plugins/feeds), on a real build of a network on disk."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import feedparser

from confreres import build

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def built(network):
    results = build.build(network, progress=False)
    assert all(r.ok for r in results), [r.error for r in results]
    return network.output / "dr-a"


def atom(path) -> ET.Element:
    return ET.parse(path).getroot()


def alternate(feed: ET.Element) -> str:
    return next(link.get("href") for link in feed.findall(f"{ATOM}link") if link.get("rel") == "alternate")


def entry_ids(path) -> dict[str, str]:
    """title -> id of each entry (Atom) or item (RSS)."""
    root = ET.parse(path).getroot()
    if root.tag == "rss":
        return {item.findtext("title"): item.findtext("guid") for item in root.iter("item")}
    return {entry.findtext(f"{ATOM}title"): entry.findtext(f"{ATOM}id") for entry in root.iter(f"{ATOM}entry")}


def test_every_feed_says_its_language_and_has_an_id_of_its_own(make_network):
    network = make_network(slugs=("dr-a",), posts=2)
    out = built(network)
    site = network.site("dr-a").url
    feeds = sorted((out / "feeds").glob("*.atom.xml"))
    assert {f.name for f in feeds} >= {"all.atom.xml", "categorie-pratique.atom.xml", "tag-essai.atom.xml"}
    ids = {}
    for path in feeds:
        root = atom(path)
        assert root.get(XML_LANG) == "fr", path.name
        ids[path.name] = root.findtext(f"{ATOM}id")
        assert not feedparser.parse(path.read_bytes()).bozo, path.name
    # one feed, one id: the blog's own feed keeps its id (the blog's address); the others are their own address
    assert len(set(ids.values())) == len(ids), ids
    assert ids["all.atom.xml"] == site
    assert ids["tag-essai.atom.xml"] == site + "feeds/tag-essai.atom.xml"
    # and lead to their page, not the blog's home page
    assert alternate(atom(out / "feeds" / "all.atom.xml")) == site
    assert alternate(atom(out / "feeds" / "categorie-pratique.atom.xml")) == site + "category/pratique.html"
    assert alternate(atom(out / "feeds" / "tag-essai.atom.xml")) == site + "tag/essai.html"

    channel = ET.parse(out / "feeds" / "all.rss.xml").getroot().find("channel")
    assert channel.findtext("language") == "fr"
    assert channel.findtext("description").strip()  # required by RSS 2.0: it was empty
    # a guid that is not the item's address (a tag: URI) must say so, else RSS 2.0 reads it as the item's address
    for item in channel.iter("item"):
        guid = item.find("guid")
        assert guid.text.startswith("tag:") and guid.get("isPermaLink") == "false", ET.tostring(guid)
    assert not feedparser.parse((out / "feeds" / "all.rss.xml").read_bytes()).bozo


def test_a_moved_post_keeps_its_id_in_every_feed(make_network):
    """Correcting a published post's address (a new title without `Slug:`, a new `Slug:`) must not make it a new
    entry for the blog's subscribers, nor for the planet's: its id stays the one it was published with."""
    network = make_network(slugs=("dr-a",), posts=1)
    out = built(network)
    names = ("all.atom.xml", "all.rss.xml", "categorie-pratique.atom.xml", "tag-essai.atom.xml")
    before = {name: entry_ids(out / "feeds" / name) for name in names}
    assert all(before.values())

    source = network.site("dr-a").path / "content" / "dr-a-billet-0.md"
    source.write_text(source.read_text(encoding="utf-8").replace("Slug: dr-a-billet-0", "Slug: billet-corrige"),
                      encoding="utf-8")
    out = built(network)
    assert (out / "billet-corrige.html").is_file()
    for name in names:
        assert entry_ids(out / "feeds" / name) == before[name], name
    atom_feed = atom(out / "feeds" / "all.atom.xml")
    links = [link.get("href") for link in atom_feed.iter(f"{ATOM}link") if link.get("rel") == "alternate"]
    assert network.site("dr-a").url + "billet-corrige.html" in links  # the entry leads to where the post is now


def test_an_entry_kept_from_another_feed_is_written_as_atom_writes_it(make_network):
    """A post's Atom entry is made once per build (plugins/feeds KeptEntries): each feed is byte for byte what
    feedgenerator writes, and a post's entry the same in the blog's, its category's and its tags' feeds."""
    import datetime
    import importlib
    import io
    import sys

    from feedgenerator import Atom1Feed

    from confreres import releases

    sys.path.insert(0, str(releases.PLUGINS_DIR))
    try:
        feeds = importlib.import_module("feeds")
    finally:
        sys.path.remove(str(releases.PLUGINS_DIR))

    def made(cls, kept=None, items=3):
        feed = Atom1Feed(title="Blog", link="https://blog.example/", description="", language="fr")
        for n in range(items):
            feed.add_item(title=f"Billet {n} <&>", link=f"https://blog.example/b{n}.html", description="<p>résumé</p>",
                          content=f"<p>Texte {n} &amp; « guillemets »</p>", unique_id=f"tag:blog.example,2025:b{n}",
                          categories=["Pratique", "essai"], author_name="Dr A",
                          pubdate=datetime.datetime(2025, 3, n + 1, tzinfo=datetime.UTC))
        feed.__class__ = cls
        if kept is not None:
            feed.kept = kept
        out = io.StringIO()
        feed.write(out, "utf-8")
        return out.getvalue()

    kept: dict = {}
    plain = made(Atom1Feed)
    assert made(feeds.KeptEntries, kept) == plain and len(kept) == 3
    assert made(feeds.KeptEntries, kept, items=2) == made(Atom1Feed, items=2)  # from the entries kept
    # in a build: the post's entry in every feed that has it
    out = built(make_network(slugs=("dr-a",), posts=2))
    entries = [ET.tostring(entry) for name in ("all.atom.xml", "categorie-pratique.atom.xml", "tag-essai.atom.xml")
               for entry in atom(out / "feeds" / name).iter(f"{ATOM}entry")]
    assert len(entries) == 6 and len(set(entries)) == 2
