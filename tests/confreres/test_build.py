"""A real build of a temporary network: pages and feeds parse, internal links resolve, errors fail one site."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import feedparser
import pytest
from bs4 import BeautifulSoup

from confreres import build, releases
from tests.confreres.conftest import write_post


def local_path(out: Path, base: str, url: str) -> Path | None:
    """The file a network URL maps to in the output folder, or None for an outside URL."""
    if not url.startswith(base):
        return None
    path = urlsplit(url).path[len(urlsplit(base).path):]
    target = out / path
    return target / "index.html" if url.endswith("/") else target


def test_build_writes_every_site_with_feeds_sitemap_and_resolving_links(make_network):
    network = make_network(posts=3)
    results = build.build(network, progress=False)
    assert [r.ok for r in results] == [True, True], [r.error for r in results]
    out = network.output
    base = network.url

    for site in network.sites:
        root = out / site.slug
        assert root.is_symlink(), "a site goes live by an atomic symlink swap"
        index = BeautifulSoup((root / "index.html").read_text(encoding="utf-8"), "html.parser")
        assert index.html["lang"] == "fr"
        assert index.find(id="contenu") is not None
        # Feeds: Atom and RSS for the whole site, Atom per category and per tag, all parse with their entries.
        assert not (root / "feeds" / "tag-essai.rss.xml").exists()  # 301 to the Atom one (deploy/nginx)
        for name in ("all.atom.xml", "all.rss.xml", "categorie-pratique.atom.xml", "tag-essai.atom.xml"):
            feed = feedparser.parse((root / "feeds" / name).read_bytes())
            assert not feed.bozo, (name, feed.get("bozo_exception"))
            assert len(feed.entries) == 3
            assert all(e.link.startswith(site.url) for e in feed.entries)
        sitemap = ET.parse(root / "sitemap.xml")
        locs = [el.text for el in sitemap.iter() if el.tag.endswith("loc")]
        assert f"{site.url}{site.slug}-billet-0.html" in locs
        posts = json.loads((root / "posts.json").read_text(encoding="utf-8"))
        assert {p["url"] for p in posts["posts"]} == {f"{site.url}{site.slug}-billet-{n}.html" for n in range(3)}
        article = BeautifulSoup((root / f"{site.slug}-billet-1.html").read_text(encoding="utf-8"), "html.parser")
        mount = article.find(id="commentaires")
        assert mount["data-thread-url"] == f"{site.url}{site.slug}-billet-1.html"
        assert article.find("meta", property="og:title")["content"] == f"Billet 1 de {site.slug}"

    # Every internal link of every page resolves to a file of the output.
    broken = []
    for page in out.rglob("*.html"):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for tag in soup.find_all(["a", "link"], href=True):
            url = urljoin(base, tag["href"]).split("#")[0].split("?")[0]
            if "/comments/" in url:
                continue  # the comment service, not a static file
            target = local_path(out, base, url)
            if target is not None and not target.exists():
                broken.append((str(page.relative_to(out)), tag["href"]))
    assert not broken, broken[:10]

    index = BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "html.parser")
    links = {a["href"] for a in index.find_all("a", href=True)}
    assert {s.url for s in network.sites} <= links


def test_a_broken_post_fails_its_site_only_and_names_the_file(make_network):
    network = make_network(posts=2)
    broken_site = network.sites[0].path
    (broken_site / "content" / "casse.md").write_text("Title: Cassé\nDate: le jour d'après\n\nTexte.\n", encoding="utf-8")
    results = {r.slug: r for r in build.build(network, progress=False)}
    assert not results["dr-a"].ok
    assert "casse.md" in results["dr-a"].error
    assert results["dr-b"].ok
    assert not (network.output / "dr-a").exists(), "nothing half-built goes live"
    assert (network.output / "dr-b" / "index.html").is_file()


def test_a_post_dated_the_french_way_is_published_on_that_day(make_network):
    """« Date: 05/06/2025 08:30 » is the 5th of June (Pelican alone: the 6th of May), in Paris time."""
    network = make_network(slugs=("dr-a",), posts=0)
    site = network.site("dr-a").path
    write_post(site, "juin", "Le 5 juin", date="05/06/2025 08:30")
    write_post(site, "mars", "Le 1er mars", date="1er mars 2025 à 9h")
    assert all(r.ok for r in build.build(network, progress=False))
    for slug, when, shown in (("juin", "2025-06-05T06:30:00Z", "5 juin 2025"), ("mars", "2025-03-01T08:00:00Z",
                                                                              "1er mars 2025")):
        page = BeautifulSoup((network.output / "dr-a" / f"{slug}.html").read_text(encoding="utf-8"), "html.parser")
        published = page.select_one("time.dt-published")
        assert (published["datetime"], published.get_text()) == (when, shown), slug


def test_a_post_without_a_category_is_filed_under_a_french_one(make_network):
    """No `Category:` line: the post is « Divers » (what `new-site`'s first post says), never Pelican's « misc »."""
    network = make_network(slugs=("dr-a",), posts=0)
    site = network.site("dr-a").path
    (site / "content" / "sans-categorie.md").write_text("Title: Sans catégorie\nDate: 2025-03-01 09:00\n\nTexte.\n",
                                                       encoding="utf-8")
    assert all(r.ok for r in build.build(network, progress=False))
    out = network.output / "dr-a"
    assert (out / "category" / "divers.html").is_file()
    assert not (out / "category" / "misc.html").exists()
    for page in ("sans-categorie.html", "index.html", "categories.html", "feeds/all.atom.xml"):
        text = (out / page).read_text(encoding="utf-8")
        assert "misc" not in text and "Divers" in text, page


def test_site_toml_chooses_only_data_and_names_a_bad_key(make_network):
    network = make_network(slugs=("dr-a",), posts=12)
    conf = network.sites[0].path / "site.toml"
    conf.write_text('pagination = 5\npermalinks = "date"\n', encoding="utf-8")
    [result] = build.build(network, progress=False)
    assert result.ok, result.error
    live = network.output / "dr-a"
    assert (live / "index3.html").is_file() and not (live / "index4.html").is_file()  # 12 posts, 5 a page
    assert (live / "2025" / "01" / "10" / "dr-a-billet-0" / "index.html").is_file()
    for bad, key in [('PLUGINS = ["x"]\n', "PLUGINS"), ("pagination = 0\n", "pagination"),
                     ('timezone = "Mars/Olympus"\n', "timezone"), ('THEME = "/tmp"\n', "THEME")]:
        conf.write_text(bad, encoding="utf-8")
        [result] = build.build(network, progress=False)
        assert not result.ok and f"site.toml : {key} :" in result.error, result.error


def test_a_leftover_pelicanconf_is_never_run_and_fails_the_build(make_network, tmp_path):
    network = make_network(slugs=("dr-a",), posts=1)
    witness = tmp_path / "ran"
    (network.sites[0].path / "pelicanconf.py").write_text(
        f"open({str(witness)!r}, 'w').write('ran')\nPLUGINS = []\n", encoding="utf-8"
    )
    [result] = build.build(network, progress=False)
    assert not result.ok and "pelicanconf.py n'est plus lu" in result.error
    assert not witness.exists()


def test_rebuild_skips_unchanged_sites_and_rebuilds_a_changed_one(make_network):
    network = make_network(posts=2)
    first = build.build(network, progress=False)
    assert all(r.ok and not r.skipped for r in first)
    live_before = (network.output / "dr-b").resolve()

    write_post(network.sites[0].path, "nouveau", "Un nouveau billet", date="2025-06-01 08:00")
    second = {r.slug: r for r in build.build(network, progress=False)}
    assert second["dr-b"].skipped and not second["dr-a"].skipped
    assert (network.output / "dr-b").resolve() == live_before
    assert (network.output / "dr-a" / "nouveau.html").is_file()
    # Old releases are removed once the new one is live.
    kept = sorted(p.name for p in (network.output / releases.RELEASES).iterdir())
    assert len([r for r in kept if r.startswith("dr-a-")]) == 1


def test_pelicans_content_cache_keeps_one_copy_of_the_settings_over_publishes(make_network):
    """Each run's settings (the network's list of blogs) were pickled again with the posts it read: the cache grew
    by one copy per publish, and every build loads it."""
    import pickle

    from pelican.urlwrappers import URLWrapper

    network = make_network(slugs=("dr-a",), posts=3)
    for n in range(3):
        if n:
            write_post(network.sites[0].path, f"nouveau-{n}", f"Nouveau billet {n}", date=f"2025-06-0{n} 08:00")
        assert all(r.ok for r in build.build(network, progress=False))
    cache = pickle.loads((releases.content_cache(network, "dr-a") / "ArticlesGenerator-Readers").read_bytes())
    wrappers = [w for _, (_, meta) in cache.values() for value in meta.values()
                for w in (value if isinstance(value, list) else [value]) if isinstance(w, URLWrapper)]
    assert len(cache) == 5 and len(wrappers) == 5 * 3  # a category and two tags a post
    assert len({id(w.settings) for w in wrappers}) == 1


def test_posts_cached_by_older_reading_code_are_read_again(make_network, monkeypatch):
    """Pelican's content cache keeps a post as it was read while its file is unchanged: after an upgrade that reads
    it differently (« 01/03/2025 », once the 3rd of January), the post must be read again, not taken from the
    cache. The cache is kept per `reading_stamp`, older ones are removed, and the stamp is in each fingerprint."""
    import pickle

    network = make_network(slugs=("dr-a",), posts=0)
    write_post(network.site("dr-a").path, "mars", "Le 1er mars", date="01/03/2025 08:00")
    assert all(r.ok for r in build.build(network, progress=False))
    cache = releases.content_cache(network, "dr-a")
    readers = cache / "ArticlesGenerator-Readers"
    kept = pickle.loads(readers.read_bytes())
    (stamp, (content, metadata)), = kept.values()
    assert metadata["date"].month == 3
    metadata["date"] = metadata["date"].replace(month=1, day=3)  # what the older reading code had cached
    readers.write_bytes(pickle.dumps({key: (stamp, (content, metadata)) for key in kept}))
    cache.rename(cache.with_name("0000older"))
    (cache.parent / "PagesGenerator-Readers").write_bytes(b"")  # the layout before the stamp
    assert all(r.ok for r in build.build(network, force=True, progress=False))
    page = (network.output / "dr-a" / "mars.html").read_text(encoding="utf-8")
    assert 'datetime="2025-03-01T07:00:00Z"' in page
    assert sorted(p.name for p in cache.parent.iterdir()) == [cache.name], "older caches are removed"
    site = network.site("dr-a")
    before = releases.fingerprint(network, site, site.path)
    monkeypatch.setattr(releases, "reading_stamp", lambda: "another-reader")
    assert releases.fingerprint(network, site, site.path) != before, "an upgrade of the reading rebuilds the blog"


def test_publishing_a_blog_leaves_the_releases_of_a_blog_whose_slug_starts_like_it(make_network):
    """dr-martin and dr-martin-pediatre: the first one's publish dropped every release named dr-martin-*."""
    network = make_network(slugs=("dr-a", "dr-a-b"), posts=1)
    assert all(r.ok for r in build.build(network, progress=False))
    other = (network.output / "dr-a-b").resolve()
    write_post(network.sites[0].path, "nouveau", "Un nouveau billet", date="2025-06-01 08:00")
    assert all(r.ok for r in build.build(network, ["dr-a"], progress=False))
    assert (network.output / "dr-a-b").resolve() == other and (other / "index.html").is_file()
    assert (network.output / "dr-a" / "nouveau.html").is_file()


@pytest.mark.parametrize("slug", ["dr-zzz"])
def test_unknown_site_is_refused(make_network, slug):
    network = make_network(slugs=("dr-a",), posts=1)
    with pytest.raises(KeyError, match="blogs connus : dr-a"):
        build.build(network, [slug], progress=False)


def test_the_templates_compiled_ahead_are_those_pelican_loads(make_network):
    """releases.warm_templates fills the compiled-template cache under the keys Pelican's own environment asks
    for: a build after it compiles nothing more (a Jinja option or filter name that drifted apart would add files)."""
    network = make_network(slugs=("dr-a",), posts=2)
    cache = network.root / ".cache" / "jinja"
    releases.warm_templates(network)
    warmed = set(p.name for p in cache.iterdir())
    assert len(warmed) > 20  # the theme's templates, plain and escaped
    assert all(r.ok for r in build.build(network, progress=False))
    assert set(p.name for p in cache.iterdir()) == warmed


def test_the_largest_blog_is_built_first(make_network):
    """A pool handed the largest blog last builds it alone while the other cores wait: it starts first, whatever its
    place in network.toml (the release folders' stamps say when each build began); the results keep that place."""
    network = make_network(slugs=("dr-a", "dr-b", "dr-c"), posts=2)
    for n in range(12):
        write_post(network.sites[2].path, f"long-{n}", f"Long billet {n}", body="Une longue réflexion. " * 400)
    results = build.build(network, jobs=1, progress=False)
    assert [r.slug for r in results] == ["dr-a", "dr-b", "dr-c"] and all(r.ok for r in results)
    started = {r.slug: int(releases.RELEASE_NAME.fullmatch(Path(r.release).name)["stamp"]) for r in results}
    assert min(started, key=started.get) == "dr-c", started
    assert started["dr-a"] < started["dr-b"], "equal sizes keep network.toml's order"


def test_the_theme_scripts_are_served_minified_and_minified_once(make_network, monkeypatch):
    """Every blog and the network index serve each theme script as releases.minified_js makes it (the readable
    source's comments and indentation out of the widget's budget), the rest as is. The copy is made once per
    theme and minifier in `.cache/theme-static/`: a forced rebuild of every blog minifies nothing again, a
    no-op build rebuilds nothing, another minifier rebuilds every blog; an older copy goes once unused."""
    network = make_network(posts=1)
    assert all(r.ok for r in build.build(network, progress=False))
    static = releases.THEME_DIR / "static"
    scripts = sorted(static.rglob("*.js"))
    assert len(scripts) == 5
    for root in [network.output / s.slug / "theme" for s in network.sites] + [network.output / "theme"]:
        for script in scripts:
            source = script.read_bytes()
            served = (root / script.relative_to(static)).read_bytes()
            assert served == releases.minified_js(source) and len(served) < len(source) * 0.8, (root, script.name)
            assert b"/*" not in served and b"\n  " not in served
        assert (root / "css" / "main.css").read_bytes() == (static / "css" / "main.css").read_bytes()
    plain = network.root / "plain"
    plain.mkdir()
    assert (network.output / "theme").stat().st_mode == plain.stat().st_mode, "readable by the web server"

    copies = network.root / ".cache" / "theme-static"
    copy, = copies.iterdir()
    made = {p.name: p.stat().st_ino for p in copy.rglob("*.js")}
    assert all(r.ok for r in build.build(network, force=True, progress=False))
    assert list(copies.iterdir()) == [copy]
    assert {p.name: p.stat().st_ino for p in copy.rglob("*.js")} == made, "not minified again"
    assert all(r.skipped for r in build.build(network, progress=False)), "a no-op build stays one"

    minified = []
    monkeypatch.setattr(releases, "minified_js", lambda source: minified.append(source) or source)
    assert releases.theme_static(network) == copy and minified == []
    site = network.site("dr-a")
    before = releases.fingerprint(network, site, site.path)
    monkeypatch.setattr(releases, "minifier_stamp", lambda: "rjsmin 99")
    assert releases.fingerprint(network, site, site.path) != before, "another minifier rebuilds every blog"
    newer = releases.theme_static(network)
    assert newer != copy and len(minified) == 5 and copy.is_dir(), "a build may still copy the older one"
    os.utime(copy, (0, 0))  # no build took it for longer than THEME_STATIC_GRACE
    monkeypatch.setattr(releases, "minifier_stamp", lambda: "rjsmin 100")
    newest = releases.theme_static(network)
    assert sorted(copies.iterdir()) == sorted([newer, newest]), "older than the grace: dropped; no temporary left"


def test_a_blog_s_fingerprint_is_the_same_in_every_process(make_network):
    """The parent checks a blog against the fingerprint a build process recorded: one that named where a process
    put a function of the settings (the theme's `once`) made cron rebuild blogs whose sources had not changed."""
    import subprocess
    import sys

    network = make_network(slugs=("dr-a",), posts=1)
    code = ("import sys; from confreres import registry, releases; n = registry.load(sys.argv[1]); "
            "import random; junk = [object() for _ in range(random.randrange(9999))]; "
            "s = n.site('dr-a'); print(releases.fingerprint(n, s, s.path))")
    prints = {subprocess.run([sys.executable, "-c", code, str(network.root / "network.toml")], capture_output=True,
                             text=True, check=True, cwd=Path(__file__).resolve().parents[2]).stdout for _ in range(3)}
    site = network.site("dr-a")
    assert prints == {releases.fingerprint(network, site, site.path) + "\n"}
