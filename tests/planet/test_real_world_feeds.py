"""Outside feeds shaped after real platforms' output, served by a real local HTTP server and built into a real planet
through the CLI: items without a link (a podcast host's episodes: an enclosure and a guid), RSS guids that are no
address, Atom entries with only an enclosure, a related link or an http(s) id, and a feed that moves."""

from __future__ import annotations

import json
from html import escape

import feedparser
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from confreres.cli import cli
from tests.confreres.conftest import NO_SERVICE

from .conftest import FeedServer, make_planet_network

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"

# A podcast host's feed (Ausha, Acast, Anchor write this shape): episodes with a guid that is no address
# (isPermaLink="false", or a bare token left to the default) and their audio file; one has its own page.
PODCAST = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="{ITUNES}"><channel>
<title>Le podcast du Dr Écoute</title><link>https://podcast.example/dr-ecoute</link><description>d</description>
<item><title>Épisode 3 : la garde</title><guid isPermaLink="false">ausha-3f9c2</guid>
<pubDate>Mon, 05 May 2025 06:00:00 +0000</pubDate><description>La nuit aux urgences.</description>
<enclosure url="https://cdn.podcast.example/ep3.mp3" length="23456789" type="audio/mpeg"/>
<itunes:duration>00:31:12</itunes:duration></item>
<item><title>Épisode 2 : le tiers payant</title><guid>ep-2</guid>
<pubDate>Sun, 04 May 2025 06:00:00 +0000</pubDate><description>Deuxième épisode.</description>
<enclosure url="https://cdn.podcast.example/ep2.m4a" length="0" type="audio/x-m4a"/></item>
<item><title>Épisode 1 : bienvenue</title><link>https://podcast.example/dr-ecoute/episode-1</link>
<guid isPermaLink="false">ausha-0001</guid><pubDate>Sat, 03 May 2025 06:00:00 +0000</pubDate>
<description>Premier épisode.</description>
<enclosure url="https://cdn.podcast.example/ep1.mp3" length="850000" type="audio/mpeg"/></item>
</channel></rss>""".encode()

# A hand-made RSS feed: guids left to their default (a permalink) but written as tokens, and items with nothing
# a reader could open: those are left out, and said.
HANDMADE = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Notes du cabinet</title><link>https://cabinet.example/</link><description>d</description>
<item><title>Une note sans adresse</title><guid>note-12</guid><pubDate>Fri, 02 May 2025 06:00:00 +0000</pubDate>
<description>Rien qui se lise ailleurs.</description></item>
<item><title>Un lien piégé</title><link>javascript:alert(1)</link><pubDate>Fri, 02 May 2025 07:00:00 +0000</pubDate>
<description>x</description></item>
<item><title>Une note permalien</title><guid>https://cabinet.example/notes/13.html</guid>
<pubDate>Fri, 02 May 2025 08:00:00 +0000</pubDate><description>Avec son adresse en guid.</description></item>
</channel></rss>""".encode()

# Atom entries without an alternate link: their audio only, the page they are about (a link blog), an id that is
# their page (WordPress's « ?p= » ids), or only a self and a replies link (nothing for a reader: left out).
ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Dr Atome</title><id>urn:atome</id>
<link rel="alternate" href="https://atome.example/"/><updated>2025-05-06T06:00:00Z</updated>
<entry><title>Audio seul</title><id>urn:atome:1</id><published>2025-05-06T06:00:00Z</published>
<updated>2025-05-06T06:00:00Z</updated><link rel="enclosure" href="https://atome.example/son.ogg" type="audio/ogg"
length="1500000"/><summary>Un son.</summary></entry>
<entry><title>Lu ailleurs</title><id>urn:atome:2</id><published>2025-05-06T05:00:00Z</published>
<updated>2025-05-06T05:00:00Z</updated><link rel="related" href="https://revue.example/etude"/><summary>Une étude.</summary></entry>
<entry><title>Id adresse</title><id>https://atome.example/?p=3</id><published>2025-05-06T04:00:00Z</published>
<updated>2025-05-06T04:00:00Z</updated><summary>Son id est son adresse.</summary></entry>
<entry><title>Rien pour le lecteur</title><id>urn:atome:4</id><published>2025-05-06T03:00:00Z</published>
<updated>2025-05-06T03:00:00Z</updated><link rel="self" href="https://atome.example/api/4"/>
<link rel="replies" href="https://atome.example/4#comments"/><summary>x</summary></entry>
</feed>""".encode()

# WordPress's Atom feed of a blog whose clock (or one post's date) is wrong: published and updated in 2099.
FUTURE = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr-FR"><title>Dr Futur</title><id>https://futur.example/feed/atom/</id>
<updated>2099-01-01T08:00:00Z</updated><link rel="alternate" type="text/html" href="https://futur.example/"/>
<entry><title type="html">Un billet daté de 2099</title><link rel="alternate" type="text/html"
href="https://futur.example/2099/01/01/billet/"/><id>https://futur.example/?p=99</id>
<updated>2099-01-01T08:00:00Z</updated><published>2099-01-01T08:00:00Z</published>
<summary type="html">Le futur.</summary></entry>
<entry><title type="html">Un billet de mai</title><link rel="alternate" type="text/html"
href="https://futur.example/2025/05/02/mai/"/><id>https://futur.example/?p=98</id>
<updated>2099-06-01T08:00:00Z</updated><published>2025-05-02T08:00:00Z</published>
<summary type="html">Mai.</summary></entry>
</feed>""".encode()

# A hand-made feed without any date, newest first as feeds are: its order must be kept, not its titles' (Z to A).
UNDATED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Sans dates</title>
<link>https://sans-date.example/</link><description>d</description>
<item><title>Bilan de mai</title><link>https://sans-date.example/mai.html</link><description>3</description></item>
<item><title>Avril au cabinet</title><link>https://sans-date.example/avril.html</link><description>2</description></item>
<item><title>Carnet de mars</title><link>https://sans-date.example/mars.html</link><description>Fièvre</description></item>
</channel></rss>""".encode()

# A post of ~700 KB of HTML (a thesis pasted in, a table of every drug's dose) beside an ordinary one.
HUGE_POST = "".join(f"<p>Ligne {n} du tableau des posologies, avec sa note de bas de page.</p>" for n in range(10_000))
HUGE = (f"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Énorme</title>
<link>https://enorme.example/</link><description>d</description>
<item><title>La thèse entière</title><link>https://enorme.example/these.html</link>
<pubDate>Wed, 07 May 2025 06:00:00 +0000</pubDate><description>{escape(HUGE_POST)}</description></item>
<item><title>Un billet ordinaire</title><link>https://enorme.example/ordinaire.html</link>
<pubDate>Tue, 06 May 2025 06:00:00 +0000</pubDate><description>&lt;p&gt;Court.&lt;/p&gt;</description></item>
</channel></rss>""").encode()


def soup(path):
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


@pytest.fixture(scope="module")
def planet(tmp_path_factory):
    server = FeedServer()
    feeds = [{"url": server.add("/podcast.rss", PODCAST, content_type="application/rss+xml"), "title": "Podcast"},
             {"url": server.add("/notes.rss", HANDMADE, content_type="application/rss+xml"), "title": "Notes"},
             {"url": server.add("/atome.xml", ATOM), "title": "Atome"},
             {"url": server.add("/futur.xml", FUTURE), "title": "Futur"},
             {"url": server.add("/sans-date.rss", UNDATED, content_type="application/rss+xml"), "title": "Sans dates"},
             {"url": server.add("/enorme.rss", HUGE, content_type="application/rss+xml"), "title": "Énorme"}]
    network = make_planet_network(tmp_path_factory.mktemp("real") / "network", feeds, NO_SERVICE, slugs=("dr-a",),
                                  posts=1)
    conf = network.planet_dir / "site.toml"  # the default cap (2 MiB), not the tests' 64 KiB: the huge feed passes
    conf.write_text(conf.read_text(encoding="utf-8").replace("fetch_max_bytes = 65536", "fetch_max_bytes = 2097152"),
                    encoding="utf-8")
    runner = CliRunner()
    built = runner.invoke(cli, ["--network", str(network.source), "build", "--quiet"])
    refreshed = runner.invoke(cli, ["--network", str(network.source), "planet", "refresh"])
    yield network, built, refreshed
    server.close()


def feed_entries(network, name="all.atom.xml"):
    return {e.title: e for e in feedparser.parse((network.output / "feeds" / name).read_bytes()).entries}


def test_an_item_gets_the_best_address_it_has(planet):
    """A podcast episode without a page leads to its audio file, not nowhere (it was dropped) nor to a page made up
    from its guid against the feed's address (« ep-2 » became http://<feed host>/ep-2, which does not exist); an Atom
    entry to its related page or to its id when that is an address; a page of its own always comes first."""
    network, built, _refreshed = planet
    assert built.exit_code == 0, built.output
    links = {title: entry.link for title, entry in feed_entries(network).items()}
    assert links["Épisode 3 : la garde"] == "https://cdn.podcast.example/ep3.mp3"
    assert links["Épisode 2 : le tiers payant"] == "https://cdn.podcast.example/ep2.m4a"
    assert links["Épisode 1 : bienvenue"] == "https://podcast.example/dr-ecoute/episode-1", "its page first"
    assert links["Une note permalien"] == "https://cabinet.example/notes/13.html", "a guid that is an address"
    assert links["Audio seul"] == "https://atome.example/son.ogg"
    assert links["Lu ailleurs"] == "https://revue.example/etude"
    assert links["Id adresse"] == "https://atome.example/?p=3"
    for left_out in ("Une note sans adresse", "Un lien piégé", "Rien pour le lecteur"):
        assert left_out not in links, left_out
    page = soup(network.output / "blogs" / "ext-podcast" / "index.html")
    hrefs = {a.get_text(strip=True): a["href"] for a in page.select(".summary-title a")}
    assert hrefs["Épisode 2 : le tiers payant"] == "https://cdn.podcast.example/ep2.m4a"


def test_an_episode_shows_its_audio_with_its_type_and_size_in_french(planet):
    network, built, _refreshed = planet
    assert built.exit_code == 0, built.output
    page = soup(network.output / "blogs" / "ext-podcast" / "index.html")
    by_title = {a.get_text(strip=True): a.find_parent("article") for a in page.select(".summary-title a")}
    third = by_title["Épisode 3 : la garde"].select_one(".planet-enclosure")
    assert third.a["href"] == "https://cdn.podcast.example/ep3.mp3" and third.a["type"] == "audio/mpeg"
    assert third.get_text(" ", strip=True) == "Écouter « Épisode 3 : la garde » (MP3, 23,5 Mo)"
    assert by_title["Épisode 2 : le tiers payant"].select_one(".planet-enclosure .count").get_text() == "(M4A)", \
        "a length of 0 says no size"
    assert not by_title["Épisode 3 : la garde"].select(".read-more"), "no « Lire la suite » to the same file"
    first = by_title["Épisode 1 : bienvenue"]
    assert "(MP3, 850 Ko)" in first.select_one(".planet-enclosure").get_text()
    assert first.select_one(".read-more a")["href"] == "https://podcast.example/dr-ecoute/episode-1"
    # the planet's feeds carry the file: a podcast app plays it from them
    for name, kind in (("blogs/ext-podcast.atom.xml", "atom"), ("blogs/ext-podcast.rss.xml", "rss")):
        [enclosure] = feed_entries(network, name)["Épisode 3 : la garde"].enclosures
        assert (enclosure.href, enclosure.type, enclosure.length) == (
            "https://cdn.podcast.example/ep3.mp3", "audio/mpeg", "23456789"), kind


def test_items_without_any_address_are_counted_on_the_status_page_and_by_refresh(planet):
    network, built, refreshed = planet
    assert built.exit_code == 0 and refreshed.exit_code == 0, built.output + refreshed.output
    rows = {row.th.a.get_text(strip=True): row for row in soup(network.output / "etat-des-flux" / "index.html")
            .select("tbody tr")}
    notes = rows["Notes"].select_one(".planet-skipped")
    assert notes.get_text(" ", strip=True).startswith("2 billets sans adresse"), notes
    assert notes["title"] == "Une note sans adresse · Un lien piégé"
    assert rows["Atome"].select_one(".planet-skipped").get_text(" ", strip=True).startswith("1 billet sans adresse")
    assert not rows["Podcast"].select(".planet-skipped")
    assert "3 billets sans adresse" in refreshed.output and "ignorés" in refreshed.output, refreshed.output
    assert json.loads((network.root / "var" / "planet" / "skipped.json").read_text()) == {
        network.feeds[1].url: 2, network.feeds[2].url: 1}


def test_a_feed_that_moves_keeps_its_entries_ids(tmp_path):
    """RSS guids written as tokens (« 1234 », isPermaLink left to its default) were made absolute against the address
    the feed was read from: when it moved (a 301, http to https), every entry changed id, so the planet's own feeds
    gave their readers every post again, and an undated entry lost its first-seen date. Ids are kept as written."""
    items = "".join(f"<item><title>Note {n}</title><link>https://migre.example/{n}.html</link><guid>{1230 + n}</guid>"
                    f"{'' if n == 1 else f'<pubDate>Fri, 0{n} May 2025 06:00:00 +0000</pubDate>'}"
                    "<description>x</description></item>" for n in (1, 2, 3))
    body = (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Migré</title>"
            f"<link>https://migre.example/</link><description>d</description>{items}</channel></rss>").encode()
    server = FeedServer()
    try:
        url = server.add("/ancien/feed.rss", body, content_type="application/rss+xml")
        network = make_planet_network(tmp_path / "network", [{"url": url, "title": "Migré"}], NO_SERVICE,
                                      slugs=("dr-a",), posts=1)
        runner = CliRunner()
        first = runner.invoke(cli, ["--network", str(network.source), "build", "--quiet"])
        assert first.exit_code == 0, first.output
        before = {e.title: e.id for e in feed_entries(network).values() if e.title.startswith("Note ")}
        seen_before = json.loads((network.root / "var" / "planet" / "seen.json").read_text())[url]
        server.add("/nouveau/feed.rss", body, content_type="application/rss+xml")
        server.add("/ancien/feed.rss", location=server.url("/nouveau/feed.rss"), status=301)
        moved = runner.invoke(cli, ["--network", str(network.source), "planet", "refresh"])
        assert moved.exit_code == 0, moved.output
        after = {e.title: e.id for e in feed_entries(network).values() if e.title.startswith("Note ")}
        assert after == before == {f"Note {n}": f"{url}#{1230 + n}" for n in (1, 2, 3)}, "as network.toml names it"
        assert json.loads((network.root / "var" / "planet" / "seen.json").read_text())[url] == seen_before
    finally:
        server.close()


def test_a_date_in_the_future_never_reaches_the_planet_feeds(planet):
    """A post dated 2099 is placed at first sight (entries.dated); its `updated`, also 2099, was published as it was:
    the entry, and the planet's whole feed (its <updated>, RSS's lastBuildDate: the newest of its entries'), said
    2099, and feed readers that sort by it kept it on top. An updated date later than the build's time is ignored."""
    network, built, _refreshed = planet
    assert built.exit_code == 0, built.output
    for name in ("all.atom.xml", "all.rss.xml", "blogs/ext-futur.atom.xml"):
        parsed = feedparser.parse((network.output / "feeds" / name).read_bytes())
        dates = [(name, when, dict.get(parsed.feed, when)) for when in ("updated_parsed", "published_parsed")]
        dates += [(entry.title, when, dict.get(entry, when)) for entry in parsed.entries
                  for when in ("updated_parsed", "published_parsed")]  # dict.get: no fallback of one to the other
        assert any(d for *_, d in dates), name
        assert [(what, when) for what, when, d in dates if d and d.tm_year >= 2099] == [], name


def test_undated_entries_keep_their_feeds_order(planet):
    network, built, _refreshed = planet
    assert built.exit_code == 0, built.output
    page = soup(network.output / "blogs" / "ext-sans-dates" / "index.html")
    assert [a.get_text(strip=True) for a in page.select(".summary-title a")] == [
        "Bilan de mai", "Avril au cabinet", "Carnet de mars"]
    titles = [e.title for e in feedparser.parse((network.output / "feeds" / "all.atom.xml").read_bytes()).entries
              if "sans-date" in e.link]
    assert titles == ["Bilan de mai", "Avril au cabinet", "Carnet de mars"]


def test_an_enormous_post_is_carried_by_its_excerpt_and_link_in_the_planet_feeds(planet):
    """Its ~700 KB were in the planet's combined feed, its blog's and its specialty's: two such posts and the combined
    feed was past what feed readers accept (the planet's own fetcher stops at 2 MiB)."""
    network, built, _refreshed = planet
    assert built.exit_code == 0, built.output
    assert len(HUGE_POST) > 600_000
    for name in ("all.atom.xml", "blogs/ext-enorme.atom.xml", "blogs/ext-enorme.rss.xml"):
        path = network.output / "feeds" / name
        assert path.stat().st_size < 200_000, name
        entries = feed_entries(network, name)
        huge = entries["La thèse entière"]
        assert huge.summary.startswith("<p>Ligne 0 du tableau des posologies"), name
        assert 'href="https://enorme.example/these.html"' in huge.summary and "Lire le billet en entier" in huge.summary
        assert entries["Un billet ordinaire"].summary == "<p>Court.</p>", name
