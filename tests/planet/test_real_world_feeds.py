"""Outside feeds shaped after real platforms' output, served by a real local HTTP server and built into a real planet
through the CLI: a feed that moves."""

from __future__ import annotations

import json

import feedparser
from click.testing import CliRunner

from confreres.cli import cli
from tests.confreres.conftest import NO_SERVICE

from .conftest import FeedServer, make_planet_network


def feed_entries(network, name="all.atom.xml"):
    return {e.title: e for e in feedparser.parse((network.output / "feeds" / name).read_bytes()).entries}


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
