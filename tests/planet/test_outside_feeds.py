"""Outside feeds as they come in the wild, built into a real planet through the CLI over a real local HTTP server:
feeds in East Asian and UTF-16 encodings beside a good one (one feed's trouble stays that feed's, and every ✗ is
an exit status 1), titles carrying markup (stored as plain text: no reader can render them as HTML), feeds that
moved (relative links read against their real address), feeds served by another host than their blog's (read
against the blog's page) and unrelated feeds numbering their posts alike."""

from __future__ import annotations

import json
from html import escape

import feedparser
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from confreres.cli import cli
from tests.confreres.conftest import NO_SERVICE

from .conftest import FeedServer, feed_bytes, make_planet_network

# (route, declared encoding, the blog's name in network.toml, its entry's title in that script)
ENCODED = [
    ("/coreen.rss", "euc-kr", "Blog coréen", "응급실 야간 근무"),
    ("/chinois.rss", "gb2312", "Blog chinois", "夜班急诊的记录"),
    ("/taiwan.rss", "big5", "Blog taïwanais", "夜班急診的紀錄"),
    ("/japonais.rss", "shift_jis", "Blog japonais", "夜間救急の記録"),
    ("/utf16.rss", "utf-16", "Blog UTF-16", "Garde de nuit à l'hôpital"),
]
UNKNOWN = ("/inconnu.rss", "x-klingon", "Blog à l'encodage inconnu", "Un billet lisible quand même")
JSON_FEED = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Dr Json",
                        "home_page_url": "https://json.example/",
                        "items": [{"id": "j1", "url": "https://json.example/2025/nuit.html", "title": "Une nuit en JSON",
                                   "content_html": "<p>Calme.</p>", "date_published": "2025-05-03T08:00:00Z"}]})

# Titles as written in the feed's XML: each must reach readers without any markup character.
HOSTILE_TITLES = [
    "<![CDATA[<b>x</b>]]>",
    "&lt;script&gt;alert(1)&lt;/script&gt;Script",
    "&amp;lt;img src=x onerror=alert(1)&gt;Image",
    "<![CDATA[<img src=x onerror=alert(1)>]]>Cdata",
]
HOSTILE_TEXTS = ["x", "Script", "Image", "Cdata"]
LEGIT = "R&amp;D : AINS &lt; 5 jours"
LEGIT_TEXT = "R&D : AINS < 5 jours"


def rss(encoding: str, title: str, items: list[tuple[str, str]], author: str = "") -> bytes:
    body = "".join(
        f"<item><title>{text}</title><link>https://loin.example{path}</link><guid>{path}</guid>"
        f"<pubDate>Sat, 03 May 2025 06:00:00 +0000</pubDate>{author}<description>Texte.</description></item>"
        for path, text in items
    )
    xml = (f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0" '
           f'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>{title}</title>'
           f"<link>https://loin.example/</link><description>d</description>{body}</channel></rss>")
    return xml.encode("utf-8" if encoding == UNKNOWN[1] else encoding)


@pytest.fixture(scope="module")
def planet(tmp_path_factory):
    server = FeedServer()
    feeds = [{"url": server.add("/good.atom", feed_bytes("good.atom.xml")), "title": "Le blog du Dr Externe"}]
    for path, encoding, name, title in [*ENCODED, UNKNOWN]:
        body = rss(encoding, title, [(f"{path}/1", title)])
        feeds.append({"url": server.add(path, body, content_type="application/rss+xml"), "title": name})
    items = [(f"/piege/{n}", text) for n, text in enumerate([*HOSTILE_TITLES, LEGIT])]
    hostile = rss("utf-8", "&lt;b&gt;Blog&lt;/b&gt;", items, author="<dc:creator>&lt;i&gt;Dr Piège&lt;/i&gt;</dc:creator>")
    feeds.append({"url": server.add("/piege.rss", hostile, content_type="application/rss+xml"), "title": "Piège"})
    feeds.append({"url": server.add("/feed.json", JSON_FEED.encode(), content_type="application/feed+json"),
                  "title": "Blog en JSON Feed"})
    server.add("/accueil/feed.rss", rss("utf-8", "Accueil", [("/accueil/1", "Trouvé par la page")]),
               content_type="application/rss+xml")
    home = b'<html><head><link rel="alternate" type="application/rss+xml" href="feed.rss"></head></html>'
    feeds.append({"url": server.add("/accueil/", home, content_type="text/html"), "title": "Blog par sa page"})
    for path, body in loose_feeds(server.url).items():
        server.add(path, body, content_type="application/rss+xml")
    server.add("/feedburner/Atome", ATOM_ELSEWHERE)
    server.add("/ancien.rss", location="/nouveau/feed.rss", status=301)
    server.add("/cabinet/", b'<html><head><link rel="alternate" type="application/rss+xml" href="flux/rss.xml">'
                            b"</head></html>", content_type="text/html")
    feeds += [{"url": server.url(path), "title": title} for path, title in (
        ("/ancien.rss", "Blog déménagé"), ("/cabinet/", "Blog du cabinet"), ("/guid-a.rss", "Blog A"),
        ("/guid-b.rss", "Blog B"), ("/guid-c.rss", "Blog C"), ("/guid-d.rss", "Blog D"),
        ("/feedburner/Carnet", "Carnet"), ("/feedburner/Base", "Carnet avec base"), ("/feedburner/Atome", "Atome"))]
    network = make_planet_network(tmp_path_factory.mktemp("outside") / "network", feeds, NO_SERVICE,
                                  slugs=("dr-a",), posts=1)
    result = CliRunner().invoke(cli, ["--network", str(network.source), "build", "--quiet"])
    yield network, server, result
    server.close()


def loose_rss(link: str, guid: str, title: str, html: str, home: str = "https://loin.example/", base: str = "") -> bytes:
    """An RSS item as many blogs write it: a relative link, HTML with relative links, a guid that is no URL; `home`
    is its channel's <link> (the blog's page), `base` an xml:base if it gives one."""
    base = f" xml:base='{base}'" if base else ""
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'{base}><channel><title>{title}</title>"
            f"<link>{home}</link><description>d</description><item><title>{title}</title>"
            f"<link>{link}</link><guid isPermaLink='false'>{guid}</guid><pubDate>Sat, 03 May 2025 06:00:00 +0000"
            f"</pubDate><description>{escape(html)}</description></item></channel></rss>").encode()


def loose_feeds(url) -> dict[str, bytes]:
    """The feed at 301 /ancien.rss and the one /cabinet/ advertises (their blogs' pages on the feed's server: `url`),
    feeds served by a host that is not their blog's (FeedBurner-like), and two blogs numbering their posts alike."""
    return {
        "/nouveau/feed.rss": loose_rss("billet.html", "d1", "Billet déménagé", '<p><a href="suite.html">La suite</a></p>',
                                       home=url("/nouveau/")),
        "/cabinet/flux/rss.xml": loose_rss("https://cabinet.example/1", "c1", "Billet du cabinet",
                                           '<p><a href="notes.html">Mes notes</a></p>', home=url("/cabinet/")),
        "/feedburner/Carnet": loose_rss("/2025/05/garde.html", "fb1", "Billet via FeedBurner",
                                        '<p><a href="images/garde.png">La photo</a> <a href="/a-propos/">Moi</a></p>',
                                        home="https://carnet.example/blog/"),
        "/feedburner/Base": loose_rss("2025/05/base.html", "fb2", "Billet avec sa base",
                                      '<p><a href="notes.html">Notes</a></p>', home="https://carnet.example/blog/",
                                      base="https://base.example/journal/"),
        "/guid-a.rss": loose_rss("https://blog-a.example/garde.html", "1", "Billet du blog A", "<p>A</p>"),
        "/guid-b.rss": loose_rss("https://blog-b.example/urgences.html", "1", "Billet du blog B", "<p>B</p>"),
        # WordPress writes a post's guid once, on the server it was written on: blogs begun on a laptop share them
        "/guid-c.rss": loose_rss("https://blog-c.example/garde.html", "http://localhost/?p=1", "Billet du blog C",
                                 "<p>C</p>"),
        "/guid-d.rss": loose_rss("https://blog-d.example/garde.html", "http://localhost/?p=1", "Billet du blog D",
                                 "<p>D</p>"),
    }


# An Atom feed served by another host than its blog's: Atom says how to read its relative links (its xml:base, else
# the address it was read from), and is read as it says.
ATOM_ELSEWHERE = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Atome</title>
<id>urn:ailleurs</id><link href="https://carnet.example/atome/"/><updated>2025-05-03T06:00:00Z</updated>
<entry><title>Billet Atom servi ailleurs</title><id>urn:ailleurs:1</id><link href="billet.html"/>
<published>2025-05-03T06:00:00Z</published><updated>2025-05-03T06:00:00Z</updated><summary>x</summary></entry></feed>"""


def soup(path):
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_feeds_in_east_asian_and_utf16_encodings_are_read_beside_a_good_one(planet):
    network, _server, result = planet
    assert result.exit_code == 0, result.output
    assert "✗" not in result.output, result.output
    titles = [a.get_text(strip=True) for a in soup(network.output / "index.html").select(".summary-title")]
    titles += [a.get_text(strip=True) for p in (network.output / "page").glob("*/index.html")
               for a in soup(p).select(".summary-title")]
    for _path, _encoding, _name, title in [*ENCODED, UNKNOWN]:
        assert title in titles, (title, titles)
    assert "Le tiers payant, vu du cabinet" in titles, "the good feed"
    assert "Une nuit en JSON" in titles, "a JSON Feed"
    assert "Trouvé par la page" in titles, "a blog listed by its home page"
    rows = {row.th.a.get_text(strip=True): row.get_text(" ", strip=True)
            for row in soup(network.output / "etat-des-flux" / "index.html").select("tbody tr")}
    for _path, _encoding, name, _title in [*ENCODED, UNKNOWN]:
        assert "à jour" in rows[name], rows[name]
    assert "à jour" in rows["Blog en JSON Feed"], rows["Blog en JSON Feed"]
    assert "à jour" in rows["Blog par sa page"] and "flux trouvé dans la page" in rows["Blog par sa page"]
    status = soup(network.output / "etat-des-flux" / "index.html")
    assert "(heure de Paris)" in status.select_one(".list-meta").get_text(), "times said in the doctors' time"


def test_refresh_with_those_feeds_succeeds_and_a_failed_planet_fails_the_commands(planet):
    network, server, _result = planet
    runner = CliRunner()
    refreshed = runner.invoke(cli, ["--network", str(network.source), "planet", "refresh"])
    assert refreshed.exit_code == 0, refreshed.output
    assert server.hits("/coreen.rss") == 2, "fetched again, its state saved"

    conf = network.planet_dir / "site.toml"
    good = conf.read_text(encoding="utf-8")
    bad = good.replace("per_page = 5", 'per_page = "beaucoup"')
    assert bad != good
    conf.write_text(bad, encoding="utf-8")  # the planet cannot build
    try:
        built = runner.invoke(cli, ["--network", str(network.source), "build", "--quiet"])
        assert "✗" in built.output and built.exit_code == 1, built.output
        refreshed = runner.invoke(cli, ["--network", str(network.source), "planet", "refresh"])
        assert "✗" in refreshed.output and refreshed.exit_code == 1, refreshed.output
    finally:
        conf.write_text(good, encoding="utf-8")


def test_outside_titles_and_authors_are_plain_text_in_the_planet_feeds_and_pages(planet):
    network, _server, result = planet
    assert result.exit_code == 0, result.output
    for name in ("all.atom.xml", "all.rss.xml", "blogs/ext-piege.atom.xml", "blogs/ext-piege.rss.xml"):
        feed = feedparser.parse((network.output / "feeds" / name).read_bytes())
        mine = [e for e in feed.entries if "/piege/" in e.link]
        assert len(mine) == len(HOSTILE_TITLES) + 1, name
        for entry in mine:
            if entry.link.endswith(f"/{len(HOSTILE_TITLES)}"):
                assert entry.title == LEGIT_TEXT, (name, entry.title)
                continue
            assert not set("<>") & set(entry.title), (name, entry.title)
            assert entry.title in HOSTILE_TEXTS, (name, entry.title)
            assert entry.get("author", "Dr Piège").endswith("Dr Piège") and "<" not in entry.get("author", ""), name
    page = soup(network.output / "blogs" / "ext-piege" / "index.html")
    shown = [a.get_text(strip=True) for a in page.select(".summary-title")]
    assert sorted(shown) == sorted([*HOSTILE_TEXTS, LEGIT_TEXT]), shown
    assert "Dr Piège" in page.get_text() and "<i>" not in page.get_text()


def test_a_moved_feed_is_read_against_its_real_address_and_its_move_is_shown(planet):
    """A feed behind a 301, or advertised by a page in another folder: its relative links lead where its own page
    is, not beside network.toml's address; the status page asks to put the new address in network.toml."""
    network, server, result = planet
    assert result.exit_code == 0, result.output
    [moved] = feedparser.parse((network.output / "feeds" / "blogs" / "ext-blog-demenage.atom.xml").read_bytes()).entries
    assert moved.link == server.url("/nouveau/billet.html")
    assert f'href="{server.url("/nouveau/suite.html")}"' in moved.summary
    [cabinet] = feedparser.parse((network.output / "feeds" / "blogs" / "ext-blog-du-cabinet.atom.xml").read_bytes()).entries
    assert f'href="{server.url("/cabinet/flux/notes.html")}"' in cabinet.summary
    rows = {row.th.a.get_text(strip=True): row.th for row in soup(network.output / "etat-des-flux" / "index.html")
            .select("tbody tr")}
    shown = rows["Blog déménagé"].get_text(" ", strip=True)
    assert "flux déplacé définitivement" in shown and "network.toml" in shown, shown
    assert server.url("/nouveau/feed.rss") in [a["href"] for a in rows["Blog déménagé"].select("a")]
    assert "déplacé" not in rows["Blog du cabinet"].get_text() and "déplacé" not in rows["Blog A"].get_text()


def test_two_blogs_numbering_their_posts_alike_both_reach_the_planet(planet):
    network, _server, result = planet
    assert result.exit_code == 0, result.output
    entries = feedparser.parse((network.output / "feeds" / "all.atom.xml").read_bytes()).entries
    shown = {e.title for e in entries if e.title in ("Billet du blog A", "Billet du blog B")}
    assert shown == {"Billet du blog A", "Billet du blog B"}, "a shared guid hides neither"
    ids = [e.id for e in entries if e.title in shown]
    assert len(set(ids)) == 2 and all(":" in i for i in ids), ids  # nor do feed readers merge them


def test_two_blogs_sharing_a_uri_as_guid_are_two_entries_in_the_planet_feeds(planet):
    """An id that is a URI was published as it is: two blogs whose guids are both « http://localhost/?p=1 » (begun on
    a laptop) were one entry to feed readers, the later hiding the other, as would an outside feed copying a member's
    ids. An outside entry whose id another blog's entry has is published after its feed's address; members' ids and
    unshared ones stay as they are."""
    network, _server, result = planet
    assert result.exit_code == 0, result.output
    for name in ("all.atom.xml", "all.rss.xml"):
        entries = feedparser.parse((network.output / "feeds" / name).read_bytes()).entries
        ids = {e.title: e.id for e in entries}
        assert ids["Billet du blog C"] != ids["Billet du blog D"], ids
        assert ids["Billet du blog C"].endswith("/guid-c.rss#http://localhost/?p=1"), ids
        assert ids["Le tiers payant, vu du cabinet"] == "tag:externe.example,2025:tiers-payant", "unshared: as it is"
        assert len(set(ids.values())) == len(entries), ids


def test_an_rss_feed_served_by_another_host_has_its_relative_links_read_against_its_blog(planet):
    """A FeedBurner-like feed (served by another host than its channel's <link>, the blog's page): feedparser read its
    relative links against the feed's address, links to pages of the feed's host that do not exist. RSS does not say
    how to read them; they are read against the channel's link then, as a browser reads them on the blog's page. An
    xml:base is read as it says, an Atom feed as Atom says (its address), a feed on its blog's host as before."""
    network, server, result = planet
    assert result.exit_code == 0, result.output
    entries = {e.title: e for e in feedparser.parse((network.output / "feeds" / "all.atom.xml").read_bytes()).entries}
    carnet = entries["Billet via FeedBurner"]
    assert carnet.link == "https://carnet.example/2025/05/garde.html"
    assert 'href="https://carnet.example/blog/images/garde.png"' in carnet.summary
    assert 'href="https://carnet.example/a-propos/"' in carnet.summary
    based = entries["Billet avec sa base"]
    assert based.link == "https://base.example/journal/2025/05/base.html"
    assert 'href="https://base.example/journal/notes.html"' in based.summary
    assert entries["Billet Atom servi ailleurs"].link == server.url("/feedburner/billet.html")
    shown = {a.get_text(strip=True): a["href"] for a in soup(network.output / "blogs" / "ext-carnet" / "index.html")
             .select(".summary-title a")}
    assert shown == {"Billet via FeedBurner": "https://carnet.example/2025/05/garde.html"}
