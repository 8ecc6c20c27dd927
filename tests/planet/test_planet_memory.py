"""The planet's memory of outside entries across refreshes, through the CLI over a real local HTTP server: a feed
served empty for a while, then whole again, and a feed whose platform rewrote every guid, keep their entries'
first-seen dates and the ids the planet published them under."""

from __future__ import annotations

import json
from html import escape

import feedparser
from click.testing import CliRunner

from confreres.cli import cli
from tests.confreres.conftest import NO_SERVICE

from .conftest import FeedServer, make_planet_network

# Dates of first sight as an earlier refresh recorded them: older than the member blog's post (January 2025)
FIRST_SEEN = ["2024-12-03T08:00:00Z", "2024-12-02T08:00:00Z", "2024-12-01T08:00:00Z"]


def undated_rss(items: list[tuple[str, str]]) -> bytes:
    """RSS items (guid, link) without a date: the planet places them by when it first saw them."""
    body = "".join(f"<item><title>Note {n}</title><link>{escape(link)}</link><guid isPermaLink='false'>{escape(guid)}"
                   f"</guid><description>Une note.</description></item>" for n, (guid, link) in enumerate(items))
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Notes</title>"
            f"<link>https://notes.example/</link><description>d</description>{body}</channel></rss>").encode()


def planet_feed(network, name: str) -> list:
    return feedparser.parse((network.output / "feeds" / name).read_bytes()).entries


def seen_first(network, url: str, dates: list[str]):
    """The state as a refresh of some days ago left it: the feed's entries first seen on `dates` (the planet's
    state file: a test cannot wait days). Written as an older planet wrote it, a date per entry: read as well."""
    path = network.root / "var" / "planet" / "seen.json"
    seen = json.loads(path.read_text(encoding="utf-8"))
    seen[url] = dict(zip(sorted(seen[url]), dates, strict=True))
    path.write_text(json.dumps(seen), encoding="utf-8")


def run(network, *args):
    result = CliRunner().invoke(cli, ["--network", str(network.source), *args])
    assert result.exit_code == 0, result.output
    return result


def notes(network, name: str = "all.atom.xml") -> dict[str, tuple]:
    return {e.title: (e.id, e.published) for e in planet_feed(network, name) if e.title.startswith("Note ")}


def test_a_feed_served_empty_for_a_while_keeps_its_entries_first_seen_dates(tmp_path):
    """Its server answered a 200 with an empty channel (an error page, a maintenance mode): the planet forgot its
    entries' first-seen dates, and when they came back its undated ones were on top of the planet and new to the
    readers of its feeds."""
    server = FeedServer()
    try:
        body = undated_rss([(f"note-{n}", f"https://notes.example/{n}.html") for n in range(3)])
        url = server.add("/notes.rss", body, content_type="application/rss+xml")
        network = make_planet_network(tmp_path / "network", [{"url": url, "title": "Notes"}], NO_SERVICE,
                                      slugs=("dr-a",), posts=1)
        run(network, "build", "--quiet")
        seen_first(network, url, FIRST_SEEN)
        run(network, "planet", "refresh")
        before = notes(network)
        assert sorted(published for _id, published in before.values()) == [
            "2024-12-01T08:00:00+00:00", "2024-12-02T08:00:00+00:00", "2024-12-03T08:00:00+00:00"]

        server.add("/notes.rss", undated_rss([]), content_type="application/rss+xml")
        run(network, "planet", "refresh")
        assert notes(network) == {}, "an empty feed shows nothing"

        server.add("/notes.rss", body, content_type="application/rss+xml")
        run(network, "planet", "refresh")
        assert notes(network) == before
        assert notes(network, "all.rss.xml").keys() == before.keys()
        assert planet_feed(network, "all.atom.xml")[0].title == "Billet 0 de dr-a", "not on top"
    finally:
        server.close()


def test_a_feed_whose_guids_changed_keeps_its_entries_dates_and_ids(tmp_path):
    """A blog moved to https, its guids rewritten with it, and its links now without `www.`, a trailing slash or
    utm_* parameters: every entry was new to the planet, its undated ones on top, and the planet's feeds gave them
    again under new ids (each twice in a feed reader)."""
    server = FeedServer()
    try:
        body = undated_rss([(f"http://notes.example/?p={n}", f"http://www.notes.example/2024/note-{n}/?utm_source=rss")
                            for n in range(3)])
        url = server.add("/notes.rss", body, content_type="application/rss+xml")
        network = make_planet_network(tmp_path / "network", [{"url": url, "title": "Notes"}], NO_SERVICE,
                                      slugs=("dr-a",), posts=1)
        run(network, "build", "--quiet")
        seen_first(network, url, FIRST_SEEN)
        run(network, "planet", "refresh")
        before = {name: notes(network, name) for name in ("all.atom.xml", "all.rss.xml", "blogs/ext-notes.atom.xml")}
        assert before["all.atom.xml"]["Note 0"][0] == "http://notes.example/?p=0"

        moved = undated_rss([(f"https://notes.example/?p={n}", f"https://notes.example/2024/note-{n}")
                             for n in range(3)])
        server.add("/notes.rss", moved, content_type="application/rss+xml")
        run(network, "planet", "refresh")
        for name, shown in before.items():
            assert notes(network, name) == shown, name
        assert [e.link for e in planet_feed(network, "all.atom.xml") if e.title == "Note 0"] == [
            "https://notes.example/2024/note-0"], "its new link"
        assert planet_feed(network, "all.atom.xml")[0].title == "Billet 0 de dr-a", "not on top"
    finally:
        server.close()
