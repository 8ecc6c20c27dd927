"""The planet at network scale (issue 14): a one-blog publish does not index every blog's pages again."""

from __future__ import annotations

import os

import pytest
from bs4 import BeautifulSoup

from confreres import build, planet_build
from tests.confreres.conftest import NO_SERVICE, write_post

from .conftest import make_planet_network


def _first_title(network) -> str:
    page = BeautifulSoup((network.output / "index.html").read_text(encoding="utf-8"), "html.parser")
    return page.select_one("article.planet-entry .summary-title").get_text(strip=True)


def test_one_blog_build_keeps_the_search_index_until_the_network_build(tmp_path):
    if not planet_build.search_available():
        pytest.skip("pagefind is not installed")
    network = make_planet_network(tmp_path / "network", [], NO_SERVICE, posts=2)
    out = network.output
    first = build.build(network, progress=False)
    assert first.planet.ok and first.planet.search == "ok"
    index = out / "pagefind" / "pagefind.js"
    inode = index.stat().st_ino

    write_post(network.site("dr-a").path, "dr-a-nouveau", "Un billet tout neuf", date="2025-12-01 08:00",
               body="Texte du billet neuf.")
    one = build.build(network, ["dr-a"], progress=False)
    assert one.planet.ok and one.planet.search == "kept"
    assert _first_title(network) == "Un billet tout neuf"  # the planet's pages are new
    assert index.stat().st_ino == inode  # the live index, linked into the new release, not made again
    assert planet_build.live_state(out)["search_stale"] is True

    cron = build.build(network, progress=False)  # nothing changed but the stale index: made again
    assert cron.planet.ok and not cron.planet.skipped and cron.planet.search == "ok"
    assert index.stat().st_ino != inode
    assert planet_build.live_state(out)["search_stale"] is False
    assert build.build(network, progress=False).planet.skipped  # then a no-op


def _inode(network, name: str) -> int:
    return (network.output / planet_build.LIVE / name).resolve().stat().st_ino


def test_pages_whose_inputs_did_not_change_are_linked_not_rendered(tmp_path):
    network = make_planet_network(tmp_path / "network", [], NO_SERVICE, posts=2)
    assert build.build(network, progress=False).planet.ok
    names = ("blogs/dr-a/index.html", "blogs/dr-b/index.html", "feeds/blogs/dr-b.atom.xml", "index.html",
             "feeds/all.atom.xml", "etat-des-flux/index.html")
    before = {name: _inode(network, name) for name in names}

    write_post(network.site("dr-a").path, "dr-a-nouveau", "Un billet tout neuf", date="2025-12-01 08:00",
               body="Texte du billet neuf.")
    assert build.build(network, ["dr-a"], progress=False).planet.ok
    after = {name: _inode(network, name) for name in names}
    # dr-b's page and feed are the live release's files, linked; what shows dr-a's new post is new,
    # and so is the status page, which shows the time of the build
    assert after["blogs/dr-b/index.html"] == before["blogs/dr-b/index.html"]
    assert after["feeds/blogs/dr-b.atom.xml"] == before["feeds/blogs/dr-b.atom.xml"]
    for name in ("blogs/dr-a/index.html", "index.html", "feeds/all.atom.xml", "etat-des-flux/index.html"):
        assert after[name] != before[name], name
    assert "Un billet tout neuf" in (network.output / "blogs" / "dr-a" / "index.html").read_text(encoding="utf-8")
    assert _first_title(network) == "Un billet tout neuf"

    # another layout (the planet's own settings): every page is made again
    settings = network.planet_dir / "site.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("per_page = ", "per_page = 1") , encoding="utf-8")
    assert build.build(network, progress=False).planet.ok
    assert _inode(network, "blogs/dr-b/index.html") != after["blogs/dr-b/index.html"]


def test_the_network_streams_stop_after_max_pages_and_say_where_the_rest_is(tmp_path):
    network = make_planet_network(tmp_path / "network", [], NO_SERVICE, posts=4)  # dr-a and dr-b: 8 entries
    settings = network.planet_dir / "site.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("per_page = 5", "per_page = 2\nmax_pages = 3"),
                        encoding="utf-8")
    assert build.build(network, progress=False).planet.ok
    out = network.output
    last = BeautifulSoup((out / "page" / "3" / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert not (out / "page" / "4").exists()
    assert "Page 3 sur 3" in last.select_one(".pagination").get_text()
    older = last.select_one("p.older")
    assert older is not None and older.find("a")["href"].endswith("/blogs/")
    assert BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "html.parser").select_one("p.older") is None
    blog = BeautifulSoup((out / "blogs" / "dr-a" / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert len(blog.select("article.planet-entry")) == 2 and blog.select_one("p.older") is None  # a blog's own: all


def test_the_names_each_template_reads_are_kept_with_the_release_and_read_again_under_its_layout(tmp_path):
    import json

    network = make_planet_network(tmp_path / "network", [], NO_SERVICE, posts=2)
    assert build.build(network, progress=False).planet.ok

    def kept():
        return json.loads((network.output / planet_build.LIVE / ".planet-pages.json").read_text(encoding="utf-8"))

    names = kept()
    assert "PLANET_STATUS" in names["names"]["status"] and "planet_entries" in names["names"]["index"]
    names["names"]["status"] = ["PLANET_BLOGS"]  # what the live release says is believed, not parsed again
    (network.output / planet_build.LIVE / ".planet-pages.json").write_text(json.dumps(names), encoding="utf-8")
    write_post(network.site("dr-a").path, "dr-a-nouveau", "Un billet tout neuf", date="2025-12-01 08:00")
    assert build.build(network, ["dr-a"], progress=False).planet.ok
    assert kept()["names"]["status"] == ["PLANET_BLOGS"]

    settings = network.planet_dir / "site.toml"  # another layout: the templates are read again
    settings.write_text(settings.read_text(encoding="utf-8").replace("per_page = ", "per_page = 1"), encoding="utf-8")
    assert build.build(network, progress=False).planet.ok
    assert "PLANET_STATUS" in kept()["names"]["status"]


def test_each_blogs_pages_are_kept_once_and_a_publish_relinks_only_the_blog_that_changed(tmp_path):
    import json
    import os
    import time

    from confreres import registry

    network = make_planet_network(tmp_path / "network", [], NO_SERVICE, slugs=("dr-a", "dr-b", "dr-c"), posts=2)
    out = network.output
    releases = out / ".releases"
    assert build.build(network, progress=False).planet.ok
    shared = planet_build.shared_links(releases, "blogs")
    release = (out / planet_build.LIVE).resolve()
    assert (release / "blogs").is_symlink() and (release / "blogs").resolve() == shared.resolve()
    assert (release / "feeds" / "blogs").resolve() == planet_build.shared_links(releases, "feeds/blogs").resolve()
    links = {name: os.readlink(shared / name) for name in ("dr-a", "dr-b", "dr-c")}
    assert all(target.startswith(f"../{planet_build.BLOG_PAGES_PREFIX}") for target in links.values())
    page = (out / "blogs" / "dr-b" / "index.html").read_text(encoding="utf-8")
    assert "Billet 1 de dr-b" in page and "Blog dr-b" in (out / "blogs" / "index.html").read_text(encoding="utf-8")
    assert "Billet 1 de dr-b" in (out / "feeds" / "blogs" / "dr-b.atom.xml").read_text(encoding="utf-8")

    write_post(network.site("dr-a").path, "dr-a-nouveau", "Un billet tout neuf", date="2025-12-01 08:00")
    assert build.build(network, ["dr-a"], progress=False).planet.ok
    assert os.readlink(shared / "dr-b") == links["dr-b"] and os.readlink(shared / "dr-c") == links["dr-c"]
    assert os.readlink(shared / "dr-a") != links["dr-a"]
    assert sorted(entry.name for entry in os.scandir(shared)) == ["dr-a", "dr-b", "dr-c", "index.html"]  # no stray
    assert "Un billet tout neuf" in (out / "blogs" / "dr-a" / "index.html").read_text(encoding="utf-8")
    assert "Un billet tout neuf" in (out / "feeds" / "blogs" / "dr-a.atom.xml").read_text(encoding="utf-8")
    old_a = releases / links["dr-a"].split("/")[1]
    assert old_a.is_dir()  # kept a while: a build that started before the publish may still name it

    # dr-c leaves the network: its links go; folders no release names are dropped once old enough
    toml = network.source.read_text(encoding="utf-8")
    start = toml.index('[[sites]]\nslug = "dr-c"')
    network.source.write_text(toml[:start] + toml[toml.index("[[sites]]", start + 1):] if "[[sites]]" in toml[start + 1:]
                              else toml[:start], encoding="utf-8")
    network = registry.load(network.source)
    past = time.time() - 2 * planet_build.BLOG_PAGES_GRACE
    os.utime(old_a, (past, past))
    assert build.build(network, progress=False).planet.ok
    assert not (shared / "dr-c").exists() and not (planet_build.shared_links(releases, "feeds/blogs") / "dr-c.atom.xml").exists()
    assert not (out / "blogs" / "dr-c").exists() and not old_a.exists()
    named = json.loads(((out / planet_build.LIVE).resolve() / planet_build.BLOG_MANIFEST).read_text(encoding="utf-8"))
    assert set(named["links"]["blogs"]) == {"dr-a", "dr-b"}
    assert all((releases / target).is_dir() for target in named["links"]["blogs"].values())

    # the kept folder of a blog's pages is marked used now and then, not at every build
    kept_b = releases / named["links"]["blogs"]["dr-b"].split("/")[0]
    for age, marked in ((60, False), (2 * planet_build.BLOG_PAGES_GRACE, True)):
        then = time.time() - age
        os.utime(kept_b, (then, then))
        assert planet_build.run(network, out, fetch=False).ok
        assert kept_b.is_dir() and (kept_b.stat().st_mtime > time.time() - 60) is marked


def test_an_unchanged_member_feed_is_not_read_again_and_a_rebuilt_one_is(tmp_path):
    import marshal

    from planet import generator

    network = make_planet_network(tmp_path / "network", [], NO_SERVICE, slugs=("dr-a", "dr-b"), posts=2)
    assert build.build(network, progress=False).planet.ok
    source = next(s for s in planet_build.planet_sources(network, network.output) if s["key"] == "dr-b")
    cache = generator.records_file(planet_build.state_dir(network), generator.E.Source(**source))
    kept = marshal.loads(cache.read_bytes())
    assert kept["signature"] and all("content_html" not in r for r in kept["records"])
    assert any("permanence des soins" in html for html in marshal.loads(generator.content_file(cache).read_bytes()).values())

    # the cache says something else of dr-b's unchanged feed: believed, the file is not read again
    kept["records"][0]["title"] = "Titre du cache"
    kept["records"][0]["digest"] = "0" * 64  # what the entry is made from changed: its pages are made again
    cache.write_bytes(marshal.dumps(kept))
    write_post(network.site("dr-a").path, "dr-a-nouveau", "Un billet tout neuf", date="2025-12-01 08:00")
    assert build.build(network, ["dr-a"], progress=False).planet.ok
    assert "Titre du cache" in (network.output / "blogs" / "dr-b" / "index.html").read_text(encoding="utf-8")

    write_post(network.site("dr-b").path, "dr-b-nouveau", "Un autre billet", date="2025-12-02 08:00")
    assert build.build(network, ["dr-b"], progress=False).planet.ok  # a new feed file: read and parsed again
    page = (network.output / "blogs" / "dr-b" / "index.html").read_text(encoding="utf-8")
    assert "Un autre billet" in page and "Titre du cache" not in page
    feed = (network.output / "feeds" / "blogs" / "dr-b.atom.xml").read_text(encoding="utf-8")
    assert "permanence des soins" in feed  # the entries' HTML, read apart for the feed

    # a cache that cannot be read (cut short, another Python's marshal) is made again from the feed; the JSON
    # caches of earlier versions are removed
    cache.write_bytes(cache.read_bytes()[:40])
    legacy = planet_build.state_dir(network) / "entries"
    legacy.mkdir()
    (legacy / "old.json").write_text("{}", encoding="utf-8")
    write_post(network.site("dr-a").path, "dr-a-encore", "Encore un billet", date="2025-12-03 08:00")
    assert build.build(network, ["dr-a"], progress=False).planet.ok
    assert "Un autre billet" in (network.output / "blogs" / "dr-b" / "index.html").read_text(encoding="utf-8")
    assert marshal.loads(cache.read_bytes())["signature"] and not legacy.exists()


def test_comment_counts_are_asked_again_only_for_a_blog_whose_comments_moved(tmp_path, feed_server):
    """At 200 blogs every planet build asked the service for the counts of every post: ~100 requests a publish."""
    sites = [{"slug": slug, "title": f"Blog {slug}", "url": f"http://127.0.0.1:8000/{slug}/",
              "author": {"name": slug, "badge": None}, "comments_version": "v1"} for slug in ("dr-a", "dr-b")]
    counts = {"http://127.0.0.1:8000/dr-a/dr-a-billet-1.html": 3, "http://127.0.0.1:8000/dr-b/dr-b-billet-0.html": 1}
    asked: list[list[str]] = []

    def counts_handler(query):
        asked.append(query.get("url", []))
        return 200, {url: counts.get(url, 0) for url in query.get("url", [])}

    feed_server.add("/comments/api/sites", handler=lambda query: (200, {"sites": sites}))
    feed_server.add("/comments/api/counts", handler=counts_handler)
    feed_server.add("/comments/api/threads/active", handler=lambda query: (200, {"threads": []}))
    network = make_planet_network(tmp_path / "network", [], feed_server.url("/comments/"), posts=2)

    def shown() -> dict[str, str]:
        page = BeautifulSoup((network.output / "index.html").read_text(encoding="utf-8"), "html.parser")
        return {a.select_one(".summary-title").get_text(strip=True): a.get_text(" ", strip=True)
                for a in page.select("article.planet-entry")}

    assert build.build(network, progress=False).planet.ok  # the blogs ask for their own counts too
    first = sorted({url for batch in asked for url in batch})
    assert len(first) == 4 and "3 commentaires" in shown()["Billet 1 de dr-a"]

    asked.clear()
    assert planet_build.run(network, network.output, fetch=False).ok  # nothing moved: nothing asked
    assert asked == [] and "3 commentaires" in shown()["Billet 1 de dr-a"]

    counts["http://127.0.0.1:8000/dr-a/dr-a-billet-1.html"] = 5  # a comment approved on dr-a: its version moves
    sites[0]["comments_version"] = "v2"
    blog_links = planet_build.shared_links(network.output / ".releases", "blogs")
    before = {slug: os.readlink(blog_links / slug) for slug in ("dr-a", "dr-b")}
    assert planet_build.run(network, network.output, fetch=False).ok
    assert sorted(url for batch in asked for url in batch) == [url for url in first if "/dr-a/" in url]
    assert "5 commentaires" in shown()["Billet 1 de dr-a"] and "1 commentaire" in shown()["Billet 0 de dr-b"]
    assert os.readlink(blog_links / "dr-a") != before["dr-a"]  # its pages show the new count
    assert os.readlink(blog_links / "dr-b") == before["dr-b"]  # another blog's pages are not made again

    asked.clear()  # a publish asks the service's list of blogs once, and the planet the counts of the new post only
    listed = feed_server.hits("/comments/api/sites")
    write_post(network.site("dr-b").path, "dr-b-nouveau", "Un billet tout neuf", date="2025-12-01 08:00")
    assert build.build(network, ["dr-b"], progress=False).planet.ok
    assert feed_server.hits("/comments/api/sites") == listed + 1
    assert "http://127.0.0.1:8000/dr-b/dr-b-nouveau.html" in {url for batch in asked for url in batch}
    assert "http://127.0.0.1:8000/dr-a/dr-a-billet-1.html" not in {url for batch in asked for url in batch}

    asked.clear()
    del sites[1]["comments_version"]  # a service that gives no version: every count is asked, as before
    assert planet_build.run(network, network.output, fetch=False).ok
    assert sorted(url for batch in asked for url in batch) == sorted(
        [url for url in first if "/dr-b/" in url] + ["http://127.0.0.1:8000/dr-b/dr-b-nouveau.html"])


def test_a_publish_reads_the_other_blogs_feeds_while_its_blog_builds(tmp_path):
    """At 200 blogs, reading every other blog's feed was half of what a publish's planet cost more than at 20: the
    planet's process reads them on the core the blog's build leaves idle, and its build takes what still holds."""
    import json

    network = make_planet_network(tmp_path / "network", [], NO_SERVICE, slugs=("dr-a", "dr-b", "dr-c"), posts=2)
    out = network.output
    assert build.build(network, progress=False).planet.read_ahead == 0  # every blog built: nothing to read ahead
    shared = planet_build.shared_links(out / ".releases", "blogs")
    links = {slug: os.readlink(shared / slug) for slug in ("dr-a", "dr-b", "dr-c")}

    write_post(network.site("dr-a").path, "dr-a-nouveau", "Un billet tout neuf", date="2025-12-01 08:00")
    one = build.build(network, ["dr-a"], progress=False)
    assert one.planet.ok and one.planet.read_ahead == 2
    assert _first_title(network) == "Un billet tout neuf"
    # read ahead or not, a blog's kept pages are known by the same key: dr-b's and dr-c's stay linked as they were
    assert [os.readlink(shared / slug) == links[slug] for slug in ("dr-a", "dr-b", "dr-c")] == [False, True, True]
    assert build.build(network, ["dr-a"], progress=False).planet.skipped  # nothing built: no process started

    # what no longer holds when the planet is built is read again: dr-b's feed made anew, dr-c's memory changed
    process = planet_build.PlanetProcess().start(network, out, ["dr-a"])
    try:
        assert process.reading.result() == 2
        feed = out / "dr-b" / "feeds" / "all.atom.xml"
        staged = feed.with_name("new.xml")
        staged.write_text(feed.read_text(encoding="utf-8").replace("Billet 1 de dr-b", "Billet 1 de dr-b, revu"),
                          encoding="utf-8")
        os.replace(staged, feed)
        seen_file = planet_build.state_dir(network) / "seen.json"
        seen = json.loads(seen_file.read_text(encoding="utf-8"))
        memory = seen[next(url for url in seen if "/dr-c/" in url)]
        key = next(iter(memory))
        memory[key] = ["2020-01-02T03:04:05Z", *memory[key][1:]]  # first seen long before its publication date
        seen_file.write_text(json.dumps(seen), encoding="utf-8")
        result = planet_build.run(network, out, fetch=False, search=planet_build.KEEP_SEARCH, process=process)
    finally:
        process.close()
    assert result.ok and result.read_ahead == 0
    assert "Billet 1 de dr-b, revu" in (out / "blogs" / "dr-b" / "index.html").read_text(encoding="utf-8")
    assert "2020" in (out / "blogs" / "dr-c" / "index.html").read_text(encoding="utf-8")


def test_an_entry_whose_dates_hang_on_the_time_is_left_to_the_build(tmp_path):
    """An entry updated in half an hour has no `updated` until then: read ahead, its blog would keep the one it had
    when it was read; its blog is read by the build."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from planet import generator

    network = make_planet_network(tmp_path / "network", [], NO_SERVICE, slugs=("dr-a", "dr-b"), posts=1)
    soon = (datetime.now(ZoneInfo("Europe/Paris")) + timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M")
    write_post(network.site("dr-b").path, "dr-b-revu", "Billet revu", date="2025-01-01 10:00", modified=soon)
    assert build.build(network, progress=False).planet.ok
    sources = planet_build.planet_sources(network, network.output)
    ahead = generator.read_ahead(sources, planet_build.state_dir(network))
    assert set(ahead.feeds) == {network.site("dr-a").url + planet_build.MEMBER_FEED}
    assert generator.read_ahead(sources, planet_build.state_dir(network), skip={"dr-a"}).feeds == {}


def test_a_publish_makes_its_planet_beside_the_last_checks_and_again_when_they_rebuild_another_blog(tmp_path):
    """The planet of a publish is started as soon as its blog is live, beside the check of the other blogs'
    cross-links; when that check rebuilds one (the new post answers it), the planet is made from that blog's new
    release too: the next publish of nothing finds it current."""
    network = make_planet_network(tmp_path / "network", [], NO_SERVICE, slugs=("dr-a", "dr-b"), posts=1)
    out = network.output
    assert build.build(network, progress=False).planet.ok

    write_post(network.site("dr-a").path, "dr-a-nouveau", "Un billet tout neuf", date="2025-12-01 08:00")
    one = build.build(network, ["dr-a"], progress=False)
    assert [r.slug for r in one if not r.skipped] == ["dr-a"] and one.planet.ok and one.planet.read_ahead == 1
    assert _first_title(network) == "Un billet tout neuf"
    assert build.build(network, ["dr-a"], progress=False).planet.skipped

    answered = network.site("dr-b").url + "dr-b-billet-0.html"
    write_post(network.site("dr-a").path, "dr-a-reponse", "A répond à B", date="2025-12-02 08:00", reply_to=answered)
    before = (out / "dr-b").resolve()
    two = build.build(network, ["dr-a"], progress=False)
    assert sorted(r.slug for r in two if not r.skipped) == ["dr-a", "dr-b"] and two.planet.ok
    assert (out / "dr-b").resolve() != before  # its page now shows the answer
    assert _first_title(network) == "A répond à B"
    assert build.build(network, ["dr-a"], progress=False).planet.skipped  # made from dr-b's new release too


def test_a_push_builds_its_planet_from_the_feeds_read_while_its_blog_built(tmp_path):
    """A doctor's `git push` publishes as `confreres build --site` does: the planet's process reads the other
    blogs' feeds while the blog builds, then makes the planet as soon as the blog is live; when the new post answers
    another blog, that blog is rebuilt and the planet made from it too."""
    from confreres import publish
    from tests.confreres.test_publish import git
    from tests.confreres.test_publish_safety import git_push

    network = make_planet_network(tmp_path / "network", [], NO_SERVICE, slugs=("dr-a", "dr-b", "dr-c"), posts=1)
    out = network.output
    assert build.build(network, progress=False).planet.ok
    clone = tmp_path / "clone"
    git("clone", "--quiet", str(publish.init(network, "dr-a", tmp_path / "repos" / "dr-a.git")), str(clone))

    def push(slug: str, title: str, date: str, **meta) -> None:
        write_post(clone, slug, title, date=date, **meta)
        git("add", "-A", cwd=clone)
        git("commit", "-qm", title, cwd=clone)
        pushed = git_push(clone)
        assert pushed.returncode == 0, pushed.stderr

    push("dr-a-pousse", "Un billet poussé", "2025-12-01 08:00")
    assert _first_title(network) == "Un billet poussé"
    assert planet_build.live_state(out)["read_ahead"] == 2  # dr-b's and dr-c's feeds, read while dr-a built

    before = (out / "dr-b").resolve()
    push("dr-a-reponse", "A répond à B", "2025-12-02 08:00", reply_to=network.site("dr-b").url + "dr-b-billet-0.html")
    assert (out / "dr-b").resolve() != before and _first_title(network) == "A répond à B"
    # made from dr-b's new release: current
    assert planet_build.front_page(network, out, fetch=False, service=None, search=planet_build.KEEP_SEARCH).skipped
